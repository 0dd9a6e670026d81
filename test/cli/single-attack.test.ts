/**
 * Adversarial tests of the one-session commands: wts-logoff TARGET, wts-disconnect [TARGET],
 * wts-msg TARGET (not /all, not *). Judged by docs/wts-logoff.md, docs/wts-disconnect.md,
 * docs/wts-msg.md and README.md#exit-codes.
 *
 * FIXED: failed before the fix (the code broke a documented promise). HOLDS: an attack the code withstood.
 */
import { Wts, type WtsApi } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { msgMain } from '../../src/cli/msg';
import type { CliIo } from '../../src/cli/common';
import { exampleFarm, overriding } from '../helpers';
import { simulate } from './run';

function io(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, progress: false, confirm: async () => false } };
}

describe('protected IDs on another server: "refused before any WTS call"', () => {
  // docs/logoff.md: "Services, listener IDs ... are refused **before any WTS call**"; README
  // (Protected sessions): "Checks that need no list are made before any WTS call."
  test.each([
    ['wts-logoff', ['0', '/server:WF12']],
    ['wts-logoff', ['65536', '/server:WF12']],
    ['wts-disconnect', ['0', '/server:WF12']],
    ['wts-msg', ['65536', 'hello', '/server:WF12']],
  ] as const)('FIXED: %s %p is refused (exit 1) with no WTS call (the call log shows WTSOpenServerExW on WF12)', (bin, args) => {
    const r = simulate().run(bin, [...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Services session|listener/);
    expect(r.calls).toEqual([]);
  });
});

describe('wts-msg to one target', () => {
  // README#exit-codes: "0 | Done: everything asked was done"; "1 | Something failed or was refused:
  // ... a session not found or not active was refused". docs/wts-msg.md: "A session name or ID
  // reaches one session; a user name, every session of that user".
  test('FIXED: wts-msg NAME where NAME is no session and no user (a typo): nobody gets the message, yet exit 0', () => {
    const r = simulate().run('wts-msg', ['RDP-Tcp#7', 'Server reboot at 17:00']);
    expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
    expect(r.code).toBe(1);
  });

  // docs/wts-msg.md: "The message is the rest of the command line". The review found `--` dropped
  // from `wts-msg 4 reboot -- now`: the first `--` ends the switches, as in most commands. Kept
  // and documented: `--` before the message sends every word after it as written.
  test.each([
    [['4', 'reboot', '--', 'now'], 'reboot now'],
    [['4', '--', 'reboot', '--', 'now'], 'reboot -- now'],
    [['4', '--', '-x', 'marks', '/tmp'], '-x marks /tmp'],
  ])('the first -- ends the switches and is not sent (documented): %j sends %j', async (argv, text) => {
    const mock = createMockApi(exampleFarm());
    const texts: string[] = [];
    const api = overriding(mock, {
      sendMessage: (async (h, id, m, o) => {
        texts.push(m.text);
        return mock.sendMessage(h, id, m, o);
      }) as WtsApi['sendMessage'],
    });
    const c = io();
    const code = await msgMain(argv, c.io, async () => '', { wts: () => new Wts(api) });
    expect(code).toBe(0);
    expect(texts).toEqual([text]);
  });

  test('HOLDS: wts-msg ID to a session that is not there exits 1 and sends nothing; Services / listener names exit 1', () => {
    const sim = simulate();
    for (const args of [['42', 'hi'], ['Services', 'hi'], ['rdp-tcp', 'hi'], ['0', 'hi']]) {
      const r = sim.run('wts-msg', args);
      expect(r.code).toBe(1);
      expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
    }
  });

  test('HOLDS: /w prints the answer in the documented form; --json one outcome document', () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.find((s) => s.id === 5)!.messageResponse = 6;
    const sim = simulate(farm);
    const r = sim.run('wts-msg', ['5', '/w', '--buttons', 'YesNo', 'Restart now?']);
    expect(r).toMatchObject({ code: 0, stdout: 'Response from session 5 (RDP-Tcp#2, CORP\\dave): Yes\n' });
    const j = sim.run('wts-msg', ['RDP-Tcp#2', 'hi', '--json']);
    const docs = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ type: 'outcome', status: 'sent' });
  });
});

describe('bad usage: exit 2, nothing called, the farm file untouched', () => {
  test.each([
    ['wts-logoff', [' ']],
    ['wts-logoff', ['3', '--server']],
    ['wts-logoff', ['3', '/server', 'WF12']],
    ['wts-logoff', ['3', '--timeout', '-1']],
    ['wts-logoff', ['3', '--timeout', '1e3']],
    ['wts-logoff', ['3', '--grace', '5']],
    ['wts-logoff', ['3', '--yes']],
    ['wts-logoff', ['3', '--user', 'bob']],
    ['wts-logoff', ['3', '/server:WF12', '/server:WF13']],
    ['wts-logoff', ['/server:localhost']],
    ['wts-logoff', ['RDP-Tcp#1', '/v:yes']],
    ['wts-logoff', ['+3']],
    ['wts-logoff', ['0x3']],
    ['wts-logoff', ['3', '/servers:WF12']],
    ['wts-disconnect', ['/server:WF12']],
    ['wts-disconnect', ['-1']],
    ['wts-disconnect', ['3', '4']],
    ['wts-disconnect', ['3', '--dry-run']],
    ['wts-msg', ['4294967295', 'hi']],
    ['wts-msg', ['5', 'hi', '--buttons', 'Nope']],
    ['wts-msg', ['5', 'hi', '/time:x']],
    ['wts-msg', ['5', 'hi', '/time:86401']],
    ['wts-msg', ['5']],
    ['wts-msg', ['5', 'hi', '--state', 'Active']],
    ['wts-msg', ['5', 'hi', '/servers:,,']],
    ['wts-msg', ['12abc', 'hi']],
  ] as const)('HOLDS: %s %p', (bin, args) => {
    const sim = simulate();
    const r = sim.run(bin, [...args]);
    expect(r.code).toBe(2);
    expect(r.calls).toEqual([]);
    expect(r.farmText).toBe(sim.initial);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  test('HOLDS: a simulated farm file that cannot be read is exit 2 (missing, not JSON, a folder)', () => {
    const sim = simulate();
    for (const path of ['/nonexistent/farm.json', '/tmp']) {
      expect(sim.run('wts-logoff', ['3', '--simulate', path]).code).toBe(2);
    }
  });
});

describe('exit codes and messages of one action', () => {
  test('HOLDS: refused / not found / not active exit 1 on all three commands; success is silent', () => {
    const sim = simulate();
    expect(sim.run('wts-disconnect', ['1']).code).toBe(1); // console
    expect(sim.run('wts-disconnect', ['Console']).code).toBe(1);
    expect(sim.run('wts-disconnect', ['42']).code).toBe(1);
    const ok = sim.run('wts-disconnect', ['4']);
    expect(ok).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(ok.farm.servers[0]!.sessions!.find((s) => s.id === 4)).toMatchObject({ state: 'Disconnected' });
    const nw = sim.run('wts-logoff', ['6', '--no-wait', '--json']);
    expect(nw.code).toBe(0);
    expect(JSON.parse(nw.stdout.trim())).toMatchObject({ type: 'outcome', status: 'loggedOff', confirmed: false });
  });
});

describe('suspicions of the review, checked', () => {
  // The review saw `wts-disconnect /server:WF12 /v` print "Disconnecting your own session on server
  // WF12..." before its usage error (exit 2): a bad usage now says only that, before anything else.
  test.each([['wts-logoff' as const], ['wts-disconnect' as const]])('%s /server:WF12 /v (no target): usage error first, no /v line, no call', (bin) => {
    const r = simulate().run(bin, ['/server:WF12', '/v']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/Logging off|Disconnecting/);
    expect(r.stderr).toMatch(/No session given together with a server/);
    expect(r.calls).toEqual([]);
  });

  // The review's suspicion: wts-msg ID text /w never handled Ctrl+C, so the process died without
  // saying the box had been sent. Now it says so and exits 130, as wts-logoff does.
  test('wts-msg 4 /w text, Ctrl+C while it waits for the answer: says the box was sent, exit 130', async () => {
    const mock = createMockApi(exampleFarm());
    let interrupt: (() => void) | undefined;
    const api = overriding(mock, {
      sendMessage: (async (h, id, m, o) => {
        setTimeout(() => interrupt?.(), 20);
        mock.setLatency('TS01', 5000);
        return mock.sendMessage(h, id, m, o);
      }) as WtsApi['sendMessage'],
    });
    const c = io();
    const withInterrupt: CliIo = { ...c.io, onInterrupt: (handler) => ((interrupt = handler), () => (interrupt = undefined)) };
    const at = Date.now();
    const code = await msgMain(['4', '/w', 'Save your work'], withInterrupt, async () => '', { wts: () => new Wts(api) });
    expect(code).toBe(130);
    expect(Date.now() - at).toBeLessThan(2000);
    expect(c.err.join('')).toMatch(/interrupted \(Ctrl\+C\)\. sendMessage was aborted\. WTSSendMessageW had already been sent/);
  });
});
