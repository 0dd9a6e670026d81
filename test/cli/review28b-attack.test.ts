/**
 * Review 28b (adversarial): the built commands on simulated farms, for promise 3 (`wts-logoff /all
 * --warn` counts as `warned` only sessions whose warning was not refused) and promise 4 (`wts-msg
 * USER` exits 1 when every session of that user was skipped). Each test quotes the promise.
 *
 * `FIXED:` tests failed on the code as reviewed (a broken promise, since fixed); `HOLDS:` tests are
 * attacks the code withstood; `documented:` a behaviour kept as the rule and written into the docs. Run `npm run -s build` first: these run dist/.
 */
import { msgMain } from '../../src/cli/msg';
import type { CliIo } from '../../src/cli/common';
import { Wts } from '../../src/api/wts';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { exampleFarm, overriding, sleep } from '../helpers';
import { simulate, type Run } from './run';

/** An in-process console, not a terminal. */
function console_(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, progress: false, confirm: async () => 'no', onInterrupt: () => () => undefined },
  };
}

type Doc = Record<string, any>;
const docs = (r: Run): Doc[] => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
const summaryOf = (r: Run): Doc => docs(r).filter((d) => d.type === 'summary')[0]!;
const sentTo = (r: Run) => r.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`).sort();
const line = (r: Run, id: number) => r.stdout.split('\n').find((l) => new RegExp(`session ${id} \\(`).test(l)) ?? '';

/** The example farm: TS01's sessions 3 bob, 4 carol, 5 dave, 6 temp01, 7 erin are chosen by /all (1 console, 2 ours). */
function farmWith(edit: (farm: Farm) => void): Farm {
  const farm = exampleFarm();
  edit(farm);
  return farm;
}

// ---------------------------------------------------------------------------------------------
// Promise 3
// ---------------------------------------------------------------------------------------------

describe('promise 3: wts-logoff /all --warn counts as warned only warnings that were not refused', () => {
  // docs/json.md (summary `warned`): "sessions sent the --warn message, not counting a session whose
  // warning was refused (its outcome is failed with that error; one refused because the session had
  // ended, 7022, is skipped gone and is counted, as its requests lists the warning)". CHANGELOG: its
  // failure line no longer ends with "(The warning had been sent.)"; a session warned and failing
  // later is counted and says the warning had been sent.
  const faults = (farm: Farm) => {
    farm.servers[0]!.faults = { message: { '3': 5, '4': 7022, '6': 7007 }, logoff: { '5': 5 } };
  };

  test('HOLDS: text: bob (warning refused 5) and temp01 (refused 7007) are not warned and their lines do not say so; carol (7022) is counted; dave (logoff refused after the warning) is counted and his line says so', () => {
    const r = simulate(farmWith(faults)).run('wts-logoff', ['/all', '--yes', '--no-wait', '--warn', 'bye', '--grace', '0']);
    expect(r.code).toBe(1);
    expect(sentTo(r)).toEqual(['TS01:3', 'TS01:4', 'TS01:5', 'TS01:6', 'TS01:7']); // all tried
    expect(line(r, 3)).toMatch(/^Failed session 3/);
    expect(line(r, 3)).not.toContain('The warning had been sent');
    expect(line(r, 6)).toMatch(/^Failed session 6/);
    expect(line(r, 6)).not.toContain('The warning had been sent');
    expect(line(r, 4)).toMatch(/^Skipped session 4/);
    expect(line(r, 5)).toMatch(/^Failed session 5.*\(The warning had been sent\.\)$/);
    // carol, dave, erin: 3 warned (erin logged off).
    expect(r.stdout).toContain('3 warned');
  });

  test('HOLDS: --json: summary.warned is the same count; the refused warnings are failed outcomes whose error lists no request', () => {
    const r = simulate(farmWith(faults)).run('wts-logoff', ['/all', '--yes', '--no-wait', '--json', '--warn', 'bye', '--grace', '0']);
    const all = docs(r);
    const outcome = (id: number) => all.find((d) => d.type === 'outcome' && d.session.id === id)!;
    expect(outcome(3)).toMatchObject({ status: 'failed', requests: ['WTSSendMessageW'], error: { requests: [] } });
    expect(outcome(5)).toMatchObject({ status: 'failed', requests: ['WTSSendMessageW', 'WTSLogoffSession'], error: { requests: ['WTSSendMessageW'] } });
    expect(outcome(4)).toMatchObject({ status: 'skipped', reason: 'gone', requests: ['WTSSendMessageW'] });
    expect(summaryOf(r)).toMatchObject({ warned: 3, exitCode: 1 });
  });

  test('HOLDS: warned, then the logoff times out (--timeout 0): counted, and the failure line says the warning had been sent', () => {
    const r = simulate(farmWith((f) => delete f.servers[0]!.faults)).run('wts-logoff', ['/all', '--yes', '--user', 'carol', '--timeout', '0', '--warn', 'bye', '--grace', '0']);
    expect(line(r, 4)).toMatch(/^Failed session 4 .*had not closed after 0 ms.*\(The warning had been sent\.\)$/);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 warned');
  });

  test('HOLDS: a dry run with --warn counts nothing: no "warned" in the text, summary.warned 0 in JSON', () => {
    const sim = simulate(farmWith(faults));
    const text = sim.run('wts-logoff', ['/all', '--dry-run', '--warn', 'bye']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Would warn session 4');
    expect(text.stdout).not.toContain('warned');
    const json = sim.run('wts-logoff', ['/all', '--dry-run', '--json', '--warn', 'bye']);
    expect(summaryOf(json)).toMatchObject({ dryRun: true, warned: 0 });
    expect(json.calls.filter((c) => c.api === 'message')).toEqual([]);
  });

  test('HOLDS: /servers:TS01,WF12 --warn: WF12 warns frank and grace; a refused warning on WF12 (5) is not counted there either', () => {
    const r = simulate(farmWith((f) => {
      delete f.servers[0]!.faults;
      f.servers[1]!.faults = { message: { '2': 5 } };
    })).run('wts-logoff', ['/all', '/servers:TS01,WF12', '--yes', '--no-wait', '--json', '--warn', 'bye', '--grace', '0']);
    const all = docs(r);
    expect(all.find((d) => d.type === 'outcome' && d.server === 'WF12' && d.session.id === 2)).toMatchObject({ status: 'failed' });
    // TS01: bob, carol, dave, temp01, erin; WF12: grace (frank refused).
    expect(summaryOf(r)).toMatchObject({ warned: 6, counts: { failed: 1 } });
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 4
// ---------------------------------------------------------------------------------------------

describe('promise 4: wts-msg USER exits 1 when every session of the user was skipped', () => {
  // docs/wts-msg.md: "so does a user whose every session was skipped, having ended, being logged
  // off already or holding another logon by the time the message went out: every session of
  // 'carol' was skipped ...: nobody got the message."; CHANGELOG: "wts-msg * is unchanged".
  const every = "every session of 'carol' was skipped";

  test('HOLDS: carol with two sessions, one ended (7022) and one logging off (7007): nothing sent, exit 1, the line once', () => {
    const farm = farmWith((f) => {
      f.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Disconnected', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
      f.servers[0]!.faults = { query: { '4': 7022, '9': 7007 } };
    });
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr.split(every).length - 1).toBe(1);
    expect(r.stderr).not.toContain('no session or user named');
  });

  test('HOLDS: /servers:TS01,WF12, carol only on TS01 and skipped there: exit 1 with the line; --json summary exitCode 1', () => {
    const farm = farmWith((f) => (f.servers[0]!.faults = { query: { '4': 7007 } }));
    const sim = simulate(farm);
    const r = sim.run('wts-msg', ['carol', '/servers:TS01,WF12', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(every);
    expect(r.stderr).not.toContain('no user named');
    const j = sim.run('wts-msg', ['carol', '/servers:TS01,WF12', '--json', 'hello']);
    expect(j.code).toBe(1);
    expect(summaryOf(j)).toMatchObject({ exitCode: 1, serversFailed: 0 });
  });

  test('HOLDS: /servers:TS01,WF12, carol skipped on TS01 but reached on WF12: exit 0, no line', () => {
    const farm = farmWith((f) => {
      f.servers[0]!.faults = { query: { '4': 7022 } };
      f.servers[1]!.sessions!.push({ id: 5, name: 'TERM05', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
    });
    const r = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF12', 'hello']);
    expect(sentTo(r)).toEqual(['WF12:5']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('nobody got the message');
  });

  test('HOLDS: /servers:TS01,WF13 (WF13 unreachable), carol skipped on TS01: exit 1 from the failure, the failure said, and no "every session" line', () => {
    const farm = farmWith((f) => (f.servers[0]!.faults = { query: { '4': 7022 } }));
    const r = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF13', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/WF13/);
    expect(r.stderr).not.toContain(every);
    const j = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF13', '--json', 'hello']);
    expect(summaryOf(j)).toMatchObject({ exitCode: 1, serversFailed: 1 });
  });

  test('HOLDS: a name that is no user on any server keeps its own message, not both (one server and /servers)', () => {
    const one = simulate().run('wts-msg', ['nobody', 'hello']);
    expect(one.code).toBe(1);
    expect(one.stderr).toContain("no session or user named 'nobody'");
    expect(one.stderr).not.toContain('was skipped');
    const many = simulate().run('wts-msg', ['nobody', '/servers:TS01,WF12', 'hello']);
    expect(many.code).toBe(1);
    expect(many.stderr).toContain("no user named 'nobody' on any of the servers");
    expect(many.stderr).not.toContain('was skipped');
  });

  test('HOLDS: /w (waiting for the answer) changes nothing: every session skipped is exit 1 with the line', () => {
    const farm = farmWith((f) => (f.servers[0]!.faults = { query: { '4': 7007 } }));
    const r = simulate(farm).run('wts-msg', ['carol', '/w', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(every);
  });

  test('HOLDS: wts-msg * --user carol where carol is skipped: * never says it, exit 0 as before', () => {
    const farm = farmWith((f) => (f.servers[0]!.faults = { query: { '4': 7022 } }));
    const r = simulate(farm).run('wts-msg', ['*', '--user', 'carol', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.stderr).not.toContain('nobody got the message');
    expect(r.code).toBe(0);
  });

  test('HOLDS: a session of carol that FAILS (message refused 5) and one skipped: exit 1 from the failure, no "every session was skipped" line', () => {
    const farm = farmWith((f) => {
      f.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
      f.servers[0]!.faults = { query: { '4': 7022 }, message: { '9': 5 } };
    });
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain(every);
  });

  test('HOLDS: the output closed (| head): exit 1, as a closed output always is', async () => {
    const farm = farmWith((f) => (f.servers[0]!.faults = { query: { '4': 7007 } }));
    const r = await simulate(farm).runClosedStdout('wts-msg', ['carol', 'hello']);
    expect(r.code).toBe(1);
    expect(sentTo(r)).toEqual([]);
  });
});

describe("promise 4, in this process: the user's sessions reused while their server waited for its turn", () => {
  // docs/wts-msg.md: wts-msg USER exits 1 and says "every session of 'USER' was skipped ...:
  // nobody got the message." for "a user whose every session was skipped, having ended, being
  // logged off already or holding another logon by the time the message went out"; the promise:
  // "(ended, already logging off: its read answers 7007, reused ID)", "with /servers:A,B the same
  // rule over all servers"; a NAME "that is no session and no user" gets "no user named ... on any
  // of the servers".
  //
  // Over more servers than work at once (8 in the command), a server that waits for its turn lists
  // its sessions again (docs/many-servers.md). Since 9478ae3, a session of the user that ENDED
  // meanwhile is reported gone, and the command says "every session of 'erin' was skipped". But a
  // session whose ID now holds ANOTHER logon (the reused-ID case the promise names) is taken as the
  // new logon's, filtered out by --user: every outcome is a quiet skip, and the command says
  // "no user named 'erin' on any of the servers" — about a user who had a session on two servers
  // when they were listed, and whose sessions were reused before the message went out. On a server
  // that did not wait, the same reuse is `skipped` `changed` and gets the promised line.
  // Ten servers, erin only on the last two; a slow WTSCloseServer keeps the first eight turns busy
  // so that the last two wait (as review 28's test of the ended case does).
  // Kept as the rule, documented (docs/wts-msg.md, docs/many-servers.md): a server that waited is
  // listed again and an ID that holds another logon goes on as that logon; when the message goes
  // out there is no session of erin on any server, which is what the command says. What matters
  // holds: nobody is messaged, exit 1, "nobody got the message".
  test("documented: wts-msg erin /servers:(10), erin's two sessions reused by another logon while their servers waited: nobody messaged, exit 1, 'no user named 'erin' on any of the servers'", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `WF${40 + i}`);
    const erinAt = new Set(names.slice(8));
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
        ...names.map((name) => ({
          name,
          sessions: [
            { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
            ...(erinAt.has(name) ? [{ id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'erin', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' }] : []),
          ] as FarmSession[],
        })),
      ],
    };
    const mock: MockApi = createMockApi(farm);
    const byHandle = new Map<unknown, string>();
    const listings = new Map<string, number>();
    const api = overriding(mock, {
      openServer: async (n) => {
        const h = await mock.openServer(n);
        byHandle.set(h, n.toUpperCase());
        return h;
      },
      enumerateSessions: async (h, o) => {
        const list = await mock.enumerateSessions(h, o);
        const name = byHandle.get(h) ?? '';
        const n = (listings.get(name) ?? 0) + 1;
        listings.set(name, n);
        // Right after a server's first listing, erin logs off and zed logs on under ID 3.
        if (n === 1 && erinAt.has(name)) {
          mock.putSession(name, { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'zed', domain: 'CORP', logonTime: '2026-11-21T09:59:00Z' });
        }
        return list;
      },
      closeServer: async (h) => {
        await sleep(30);
        return mock.closeServer(h);
      },
    });
    const c = console_();
    const code = await msgMain(['erin', `/servers:${names.join(',')}`, 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    // The two servers with erin did wait their turn (listed twice): the setting this test needs.
    expect(names.slice(8).map((n) => listings.get(n))).toEqual([2, 2]);
    expect(mock.calls.filter((x) => x.api === 'message')).toEqual([]); // zed was not messaged: right
    expect(code).toBe(1);
    const err = c.err.join('');
    expect(err).toContain("no user named 'erin' on any of the servers: nobody got the message.");
  });

  test("HOLDS: the same, but erin's two sessions ENDED while their servers waited (fixed in 9478ae3): 'every session of 'erin' was skipped'", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `WF${60 + i}`);
    const erinAt = new Set(names.slice(8));
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
        ...names.map((name) => ({
          name,
          sessions: [
            { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'bob', domain: 'CORP' },
            ...(erinAt.has(name) ? [{ id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'erin', domain: 'CORP' }] : []),
          ] as FarmSession[],
        })),
      ],
    };
    const mock: MockApi = createMockApi(farm);
    const byHandle = new Map<unknown, string>();
    const listings = new Map<string, number>();
    const api = overriding(mock, {
      openServer: async (n) => {
        const h = await mock.openServer(n);
        byHandle.set(h, n.toUpperCase());
        return h;
      },
      enumerateSessions: async (h, o) => {
        const list = await mock.enumerateSessions(h, o);
        const name = byHandle.get(h) ?? '';
        const n = (listings.get(name) ?? 0) + 1;
        listings.set(name, n);
        if (n === 1 && erinAt.has(name)) mock.removeSession(name, 3);
        return list;
      },
      closeServer: async (h) => {
        await sleep(30);
        return mock.closeServer(h);
      },
    });
    const c = console_();
    const code = await msgMain(['erin', `/servers:${names.join(',')}`, 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    expect(names.slice(8).map((n) => listings.get(n))).toEqual([2, 2]);
    expect(code).toBe(1);
    expect(c.err.join('')).toContain("every session of 'erin' was skipped");
  });
});
