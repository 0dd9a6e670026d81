/**
 * Adversarial tests of the commands' behaviour added on 2026-12-06 (a43a460, f96355e, 9a4d1ae):
 * wts-msg NAME that reaches nobody, /server with no target. Judged by docs/wts-msg.md,
 * docs/wts-logoff.md, docs/wts-disconnect.md and README.md#exit-codes.
 *
 * FIXED: failed before the fix (a broken promise). HOLDS: an attack the code withstood.
 */
import { exampleFarm } from '../helpers';
import { simulate } from './run';

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('wts-msg NAME', () => {
  // The review found: with /servers, a NAME is only ever taken for a user name, TERM04 (WF12's
  // Active session) gets nothing, and the command said there was no session of that name. Kept as
  // the rule (a session's name or ID names one server's session, as msg.exe's with /server), now
  // documented (docs/wts-msg.md), and the command says so: exit 1, the hint to use /server.
  test.each([
    ['TERM04', ['TERM04', '/servers:TS01,WF12', 'Server reboot at 17:00']],
    ['RDP-Tcp#1', ['RDP-Tcp#1', '/servers:TS01,WF12', 'Server reboot at 17:00']],
  ])("documented: wts-msg %s /servers:TS01,WF12 (a session's name) is a user name there: nobody messaged, exit 1, says to use /server", (name, args) => {
    const r = simulate().run('wts-msg', args);
    expect(r.calls.filter((c) => c.api === 'message')).toHaveLength(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no user named '${name}' on any of the servers`);
    expect(r.stderr).toMatch(/give it with \/server/);
  });

  // docs/wts-msg.md: "a user name, every session of that user". Windows account names may hold `'`,
  // `@`, `$`, `!`, `&`, `(`, `)` (sAMAccountName excludes only " / \ [ ] : ; | = , + * ? < >); the
  // library's sendMessageAll({ user }) takes them. wts-msg checks NAME as a session target first
  // (letters, digits, # - _ .) and refuses such a user name as bad usage (exit 2): nobody can be
  // messaged by name.
  test.each([["o'brien"], ['j.doe@corp'], ['svc$']])('FIXED: wts-msg %s hello (a user with a session on TS01): exit 2 "Invalid target", the user gets nothing', (user) => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 8, name: 'RDP-Tcp#8', state: 'Active', user, domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
    const r = simulate(farm).run('wts-msg', [user, 'hello']);
    expect({ code: r.code, to: r.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`) }).toEqual({ code: 0, to: ['TS01:8'] });
  });

  test('HOLDS: --json: a NAME that is no session and no user: exit 1, one outcome per session then a summary whose exitCode is 1, the reason on stderr, nothing sent', () => {
    const r = simulate().run('wts-msg', ['nosuchuser', '--json', 'hello']);
    const docs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(r.code).toBe(1);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'summary', exitCode: 1 });
    expect(r.stderr).toBe("wts-msg: no session or user named 'nosuchuser': nobody got the message.\n");
    expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
  });

  test('HOLDS: a user name (any case) reaches every session of that user, exit 0; the same name with /servers too', () => {
    const sim = simulate();
    const one = sim.run('wts-msg', ['CAROL', 'hello']);
    expect({ code: one.code, to: one.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`) }).toEqual({ code: 0, to: ['TS01:4'] });
    const many = sim.run('wts-msg', ['frank', '/servers:TS01,WF12', 'hello']);
    expect({ code: many.code, to: many.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`) }).toEqual({ code: 0, to: ['WF12:2'] });
  });
});

describe('/server with no target', () => {
  // docs/wts-logoff.md: "Bad usage (exit 2) calls nothing: ... no target with `/server`";
  // README#exit-codes: 2 "Bad usage, and nothing was called".
  test.each([
    ['wts-logoff', ['/server:WF12', '/v', '--json']],
    ['wts-disconnect', ['--server=WF12', '-v', '--json']],
    ['wts-logoff', ['/server:localhost', '/v']],
    ['wts-disconnect', ['/server:TS01', '/v', '--no-wait']],
  ] as const)('HOLDS: %s %p: exit 2, no /v line, no call, farm untouched; --json ends with an error document (exit code 2)', (bin, args) => {
    const sim = simulate();
    const r = sim.run(bin, [...args]);
    expect({ code: r.code, log: r.log, farm: r.farmText === sim.initial, vLine: /Logging off|Disconnecting/.test(r.stderr), stack: /^\s+at /m.test(r.stderr) }).toEqual({ code: 2, log: [], farm: true, vLine: false, stack: false });
    if ((args as readonly string[]).includes('--json')) expect(JSON.parse(lines(r.stdout).pop()!)).toMatchObject({ type: 'error', exitCode: 2 });
  });
});
