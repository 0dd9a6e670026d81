/**
 * Review 28: adversarial tests of the commands' new promises — `wts-logoff /all --warn`'s
 * `warned` count (docs/json.md summary, CHANGELOG "Unreleased") and `wts-msg USER`'s exit 1 when
 * nobody got the message (docs/wts-msg.md). The built commands on a simulated farm (simulate()),
 * and the commands' main functions in this process with the mock handed in (Ctrl+C, a closed
 * output, a change at a chosen moment).
 *
 * `FIXED:` a promise the code broke (the test failed before its fix; its comment cites the
 * promise). `HOLDS:` the code withstood the attack.
 */
import { logoffMain } from '../../src/cli/logoff';
import { msgMain } from '../../src/cli/msg';
import type { CliIo } from '../../src/cli/common';
import { Wts } from '../../src/api/wts';
import { Win32Error, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { exampleFarm, overriding, sleep } from '../helpers';
import { simulate } from './run';

type Query = Parameters<WtsApi['querySessionInformation']>;

interface Console {
  io: CliIo;
  out: string[];
  err: string[];
  interrupt: () => void;
}

/** An in-process console, not a terminal; `interrupt()` is Ctrl+C. */
function console_(o: { outputClosed?: AbortSignal } = {}): Console {
  const out: string[] = [];
  const err: string[] = [];
  let handler: (() => void) | undefined;
  return {
    out,
    err,
    interrupt: () => handler?.(),
    io: {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      interactive: false,
      progress: false,
      confirm: async () => 'no',
      onInterrupt: (h) => {
        handler = h;
        return () => {
          if (handler === h) handler = undefined;
        };
      },
      ...(o.outputClosed ? { outputClosed: o.outputClosed } : {}),
    },
  };
}

const jsonDocs = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
const sentTo = (r: { calls: Array<{ api: string; server?: string; sessionId?: number }> }) => r.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`);
const NOBODY_REACHED = /every session of '.*' was skipped/;

// ---------------------------------------------------------------------------------------------
// Promise 3: wts-logoff /all --warn counts as warned only sessions whose warning was not refused
// ---------------------------------------------------------------------------------------------

describe('promise 3: wts-logoff /all --warn: warned', () => {
  /** The example farm with: 3's warning refused (5), 6's warning refused as ended (7022), 5's logoff refused (5, the farm's own). */
  function warnFarm(): Farm {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { logoff: { '5': 5 }, message: { '3': 5, '6': 7022 } };
    return farm;
  }

  test('HOLDS: text and JSON agree: refused warning (3) not counted and no "(The warning had been sent.)"; logoff refused after the warning (5) and ended at the warning (6, skipped gone) counted; 4 and 7 counted', () => {
    const sim = simulate(warnFarm());
    const text = sim.run('wts-logoff', ['/all', '--warn', 'Save your work', '--grace', '0', '--yes']);
    const line = (id: number) => text.stdout.split('\n').find((l) => l.includes(`session ${id} (`))!;
    expect(line(3)).toContain('WTSSendMessageW failed');
    expect(line(3)).not.toContain('(The warning had been sent.)');
    expect(line(5)).toMatch(/^Failed session 5 .*\(The warning had been sent\.\)$/);
    expect(line(6)).toMatch(/^Skipped session 6 .*\(The warning had been sent\.\)$/);
    expect(text.stdout).toContain('4 warned');
    expect(text.code).toBe(1);
    const json = simulate(warnFarm()).run('wts-logoff', ['/all', '--warn', 'Save your work', '--grace', '0', '--yes', '--json']);
    const docs = jsonDocs(json.stdout);
    const summary = docs[docs.length - 1]!;
    expect(summary).toMatchObject({ type: 'summary', warned: 4, exitCode: 1 });
    const o3 = docs.find((d) => d['type'] === 'outcome' && d['session'].id === 3)!;
    expect(o3).toMatchObject({ status: 'failed', requests: ['WTSSendMessageW'] });
    expect(o3['error'].requests).toEqual([]);
    const o5 = docs.find((d) => d['type'] === 'outcome' && d['session'].id === 5)!;
    expect(o5['error'].requests).toEqual(['WTSSendMessageW']);
  });

  test('HOLDS: every warning refused: "0 warned" is not said, JSON warned 0', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { message: { '*': 5 } };
    const text = simulate(farm).run('wts-logoff', ['/all', '--warn', 'bye', '--grace', '0', '--yes']);
    expect(text.stdout).not.toMatch(/\d+ warned/);
    expect(text.stdout).not.toContain('(The warning had been sent.)');
    expect(simulate(farm).run('wts-logoff', ['/all', '--warn', 'bye', '--grace', '0', '--yes', '--json']).stdout).toMatch(/"warned":0/);
  });

  test('HOLDS: a dry run with --warn counts nothing (text and JSON)', () => {
    const text = simulate().run('wts-logoff', ['/all', '--warn', 'bye', '--grace', '0', '--dry-run']);
    expect(text.stdout).not.toMatch(/\d+ warned/);
    const json = jsonDocs(simulate().run('wts-logoff', ['/all', '--warn', 'bye', '--grace', '0', '--dry-run', '--json']).stdout);
    expect(json[json.length - 1]).toMatchObject({ type: 'summary', dryRun: true, warned: 0 });
  });

  test('HOLDS: warned, then the re-check before the logoff fails (5 on the read): counted, its line says the warning had been sent', async () => {
    const mock = createMockApi(exampleFarm());
    const warned = new Set<number>();
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        warned.add(id);
        return r;
      },
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4 && warned.has(4)) throw new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW', sessionId: 4 });
        return (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const text = console_();
    await logoffMain(['/all', '--user', 'carol', '--warn', 'bye', '--grace', '0', '--yes'], text.io, { wts: () => new Wts(api) });
    const out = text.out.join('');
    expect(out).toMatch(/Failed session 4 .*\(The warning had been sent\.\)/);
    expect(out).toContain('1 warned');
  });

  test('HOLDS: warned, then the user comes back (--idle) before the logoff: skipped filtered, counted as warned', async () => {
    const farm = exampleFarm();
    const mock = createMockApi(farm);
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        // dave (5) reads the warning and moves the mouse.
        if (id === 5) mock.putSession('TS01', { ...mock.getSession('TS01', 5)!, lastInputTime: new Date().toISOString() });
        return r;
      },
    });
    const json = console_();
    await logoffMain(['/all', '--user', 'dave', '--idle', '>1h', '--warn', 'bye', '--grace', '0', '--yes', '--json'], json.io, { wts: () => new Wts(api) });
    const docs = jsonDocs(json.out.join(''));
    expect(docs.find((d) => d['type'] === 'outcome' && d['session'].id === 5)).toMatchObject({ status: 'skipped', reason: 'filtered', requests: ['WTSSendMessageW'] });
    expect(docs[docs.length - 1]).toMatchObject({ warned: 1, exitCode: 0 });
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 4: wts-msg USER exits 1 when nobody got the message although the user had sessions
// ---------------------------------------------------------------------------------------------

describe('promise 4: wts-msg USER, nobody reached', () => {
  test('HOLDS: carol\'s only session ends at the request itself (WTSSendMessageW answers 7022): skipped gone, exit 1, the line', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { message: { '4': 7022 } };
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wts-msg: every session of 'carol' was skipped");
    expect(r.stderr).not.toContain('no session or user named');
  });

  test('HOLDS: a user named with the domain (CORP\\carol), its session logging off (7007): exit 1, the line names it as given', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['CORP\\carol', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/every session of 'CORP\\carol' was skipped/);
  });

  test('HOLDS: carol\'s session ID now holds another logon (reused ID, read in this process): skipped changed, exit 1, the line', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        const r = (await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args)) as Record<string, unknown>;
        if (args[1] === 4 && args[2] === 'WTSSessionInfo') return { ...r, userName: 'mallory', logonTime: new Date() };
        return r;
      }) as WtsApi['querySessionInformation'],
    });
    const c = console_();
    const code = await msgMain(['carol', 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    expect(mock.calls.filter((x) => x.api === 'message')).toEqual([]);
    expect(code).toBe(1);
    expect(c.err.join('')).toMatch(NOBODY_REACHED);
  });

  test('HOLDS: one of carol\'s sessions skipped (7022), another refused (5): exit 1 from the failure, no "every session ... skipped" line', () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
    farm.servers[0]!.faults = { query: { '4': 7022 }, message: { '9': 5 } };
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(NOBODY_REACHED);
    expect(r.stdout + r.stderr).toContain('Access is denied');
  });

  test('HOLDS: a name that is no session and no user: its own message only', () => {
    const r = simulate().run('wts-msg', ['nosuchuser', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no session or user named 'nosuchuser'");
    expect(r.stderr).not.toMatch(NOBODY_REACHED);
  });

  test('HOLDS: /servers:TS01,WF12, carol on both: skipped on TS01, reached on WF12: exit 0, no line', () => {
    const farm = exampleFarm();
    farm.servers[1]!.sessions!.push({ id: 4, name: 'TERM09', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF12', 'hello']);
    expect(sentTo(r)).toEqual(['WF12:4']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(NOBODY_REACHED);
  });

  test('HOLDS: /servers:TS01,WF12, carol only on TS01 and skipped there: exit 1, the line, --json exitCode 1', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF12', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(NOBODY_REACHED);
    expect(r.stderr).not.toContain('no user named');
    const j = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF12', '--json', 'hello']);
    const docs = jsonDocs(j.stdout);
    expect(j.code).toBe(1);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'summary', exitCode: 1 });
  });

  test('HOLDS: /servers:TS01,WF13 (WF13 unreachable), carol skipped on TS01: exit 1 from the failure, no "every session" line', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['carol', '/servers:TS01,WF13', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WF13');
    expect(r.stderr).not.toMatch(NOBODY_REACHED);
  });

  test('HOLDS: wts-msg * --user carol, carol\'s only session skipped: exit 0 as before, no line', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['*', '--user', 'carol', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('nobody got the message');
  });

  test('HOLDS: Ctrl+C during the run, carol\'s session then skipped: exit 130, no "every session" line', async () => {
    const mock = createMockApi(exampleFarm());
    const c = console_();
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4) {
          c.interrupt();
          throw new Win32Error({ win32Code: 7022, api: 'WTSQuerySessionInformationW', sessionId: 4 });
        }
        return (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const code = await msgMain(['carol', 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    expect(code).toBe(130);
    expect(c.err.join('')).not.toMatch(NOBODY_REACHED);
  });

  test('HOLDS: the output closed during the run, carol\'s session then skipped: exit 1 with its own line, no "every session" line', async () => {
    const mock = createMockApi(exampleFarm());
    const closed = new AbortController();
    const c = console_({ outputClosed: closed.signal });
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4) {
          closed.abort();
          throw new Win32Error({ win32Code: 7022, api: 'WTSQuerySessionInformationW', sessionId: 4 });
        }
        return (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const code = await msgMain(['carol', 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    expect(code).toBe(1);
    expect(c.err.join('')).not.toMatch(NOBODY_REACHED);
  });

  /*
   * Promise 4: "a NAME that is no session and no user keeps its own message ('no session or user
   * named ...'), not both; with /servers:A,B the same rule over all servers". docs/wts-msg.md: with
   * /servers, "no user named 'X' on any of the servers: nobody got the message".
   *
   * Over more servers than work at once (serverConcurrency, 8 by default in the command), a server
   * that waited for its turn lists its sessions again, and a session of ANOTHER user that ended
   * meanwhile is settled `skipped` `gone` ("it ended while the server waited for its turn") before
   * the user filter is applied. That outcome is neither a quiet skip nor a protected one, so
   * `unmatched` is false, every outcome is `skipped`, and the command says "every session of
   * 'nobody' was skipped (ended, logging off, or another logon by now)" — about a name that has no
   * session on any server — instead of its own "no user named 'nobody' on any of the servers";
   * it also prints a "Skipped session 3 (..., erin, ...)" line for a user nobody named. Ten
   * servers, erin logging off on each right after its first listing; a slow WTSCloseServer keeps
   * the first eight servers' turns busy long enough for the last two to wait, as on a real farm.
   */
  test("FIXED: wts-msg nobody /servers:(10 servers), another user's session ending while a server waits its turn: says 'every session of 'nobody' was skipped' instead of 'no user named 'nobody''", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `WF${20 + i}`);
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
        ...names.map((name) => ({
          name,
          sessions: [
            { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'bob', domain: 'CORP' },
            { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'erin', domain: 'CORP' },
          ] as FarmSession[],
        })),
      ],
    };
    const mock: MockApi = createMockApi(farm);
    const listings = new Map<unknown, number>();
    const api = overriding(mock, {
      enumerateSessions: async (h, o) => {
        const n = (listings.get(h) ?? 0) + 1;
        listings.set(h, n);
        const list = await mock.enumerateSessions(h, o);
        // erin (3) logs off right after each server's first listing.
        return n === 1 ? list : list.filter((s) => s.sessionId !== 3);
      },
      closeServer: async (h) => {
        await sleep(30);
        return mock.closeServer(h);
      },
    });
    const c = console_();
    const code = await msgMain(['nobody', `/servers:${names.join(',')}`, 'hello'], c.io, async () => '', { wts: () => new Wts(api) });
    expect(mock.calls.filter((x) => x.api === 'message')).toEqual([]);
    expect(code).toBe(1);
    const err = c.err.join('');
    expect(err).not.toMatch(NOBODY_REACHED); // fails: "every session of 'nobody' was skipped ..."
    expect(err).toContain("no user named 'nobody' on any of the servers");
  });
});
