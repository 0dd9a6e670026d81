/**
 * Adversarial tests of the calls over many servers (src/api/farm.ts, limit.ts, bulk.ts), from a
 * review of the listing-ahead schedule: each test states a promise of docs/many-servers.md /
 * FarmOptions and tries to break it. The first seven failed on the code as reviewed.
 */
import fc from 'fast-check';
import { getEventListeners } from 'node:events';
import { createMockApi, type FarmServer } from '../../src/mock';
import { createWts, type FarmEvent, type FarmResult, type LogoffOutcome } from '../../src/index';
import { overriding } from '../helpers';
import { farmOf, named, perServerInFlight, tick, users } from './farm-fixtures';

describe('adv: an abort or a timeout while a listed server waits for its turn', () => {
  test('abort while waiting for the slot: every session the waiting servers listed still has an outcome (docs: "every server, when the signal aborts, still returns an outcome for every session it listed")', async () => {
    const servers = Array.from({ length: 3 }, (_, i): FarmServer => ({ name: `S${i}`, latencyMs: 5, sessions: users(i, 2) }));
    const mock = createMockApi(farmOf(servers));
    const controller = new AbortController();
    // S0 works first; the abort comes while S1 and S2 (already listed) wait for the one slot.
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        controller.abort();
        return mock.logoffSession(h, id);
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: ['S0', 'S1', 'S2'], serverConcurrency: 1, wait: false, signal: controller.signal })) as FarmResult<LogoffOutcome>;
    // The premise: S1 and S2 were listed before the abort.
    expect(mock.calls.filter((c) => c.api === 'enumerate' && c.server === 'S1')).toHaveLength(1);
    expect(mock.calls.filter((c) => c.api === 'enumerate' && c.server === 'S2')).toHaveLength(1);
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['S0', 'E_ABORTED'], ['S1', 'E_ABORTED'], ['S2', 'E_ABORTED']]);
    // S0 (worked on) has its 4 outcomes, named as the others would be.
    expect(result.results.filter((o) => o.session.server === 'S0')).toHaveLength(4);
    // Each listed 4 sessions (services, 2 users, listener): each needs one outcome.
    for (const s of ['S1', 'S2']) {
      const onS = result.results.filter((o) => o.session.server === s);
      expect({ server: s, outcomes: onS.length }).toEqual({ server: s, outcomes: 4 });
    }
  });

  test('timeout during the second listing (after the wait): the sessions of the first listing still have an outcome (docs: "The server that timed out ... still returns an outcome for every session it listed")', async () => {
    const servers = [
      { name: 'A', sessions: users(0, 1) },
      { name: 'B', sessions: users(1, 2) },
    ];
    const mock = createMockApi(farmOf(servers));
    let enumB = 0;
    const api = named(mock, (name) => ({
      enumerateSessionsWith: undefined,
      enumerateSessions: async (h) => {
        const r = await mock.enumerateSessions(h);
        // B's second listing (after its wait) is slow: over B's own time.
        if (name(h) === 'B' && ++enumB === 2) await tick(300);
        return r;
      },
    }));
    const result = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 1, serverTimeoutMs: 150, dryRun: true })) as FarmResult<LogoffOutcome>;
    expect(enumB).toBe(2);
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['B', 'E_SERVER_TIMEOUT']]);
    expect(result.results.filter((o) => o.session.server === 'A')).toHaveLength(3);
    // B listed 4 sessions (its first listing): each should be reported (skipped: timeout).
    expect(result.results.filter((o) => o.session.server === 'B')).toHaveLength(4);
  });
});

describe('adv: the order of the turns', () => {
  test('turns go in the order the listings finished: a slow listing early in the list holds back nobody (docs: "in the order their listings finished")', async () => {
    // S0's listing is slow; S1 and S2 list fast. serverConcurrency 1.
    const mock = createMockApi(farmOf([
      { name: 'S0', latencyMs: 40, sessions: users(0, 1) },
      { name: 'S1', latencyMs: 1, sessions: users(1, 1) },
      { name: 'S2', latencyMs: 1, sessions: users(2, 1) },
    ]));
    await createWts({ api: mock }).logoffAll({ servers: ['S0', 'S1', 'S2'], serverConcurrency: 1, wait: false });
    const order = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.server);
    expect(order).toEqual(['S1', 'S2', 'S0']);
  });
});

describe('adv: listing is one request at a time on each server', () => {
  test('listProcesses over many servers: at most one request in flight per server while it is listed', async () => {
    const farm = farmOf([
      { name: 'P0', latencyMs: 5, sessions: users(0, 3) },
      { name: 'P1', latencyMs: 5, sessions: users(1, 3) },
    ]);
    const mock = createMockApi(farm);
    const { track, peak: peakOf } = perServerInFlight();
    const api = named(mock, (name) => ({
      enumerateSessionsWith: undefined,
      enumerateSessions: (h) => track(name(h), () => mock.enumerateSessions(h)),
      enumerateProcesses: (h) => track(name(h), () => mock.enumerateProcesses(h)),
      enumerateProcessesEx: (h, id, o) => track(name(h), () => mock.enumerateProcessesEx(h, id, o)),
      lookupAccountSid: (server, sid) => track(server.toUpperCase(), () => mock.lookupAccountSid(server, sid)),
    }));
    const result = await createWts({ api }).listProcesses({ servers: ['P0', 'P1'] });
    expect(result.failures).toEqual([]);
    expect(peakOf()).toBe(1);
  });
});

describe('adv: an abort while servers wait for a listing slot', () => {
  test('no server is opened after the abort (docs: "no request is sent after it")', async () => {
    const servers = Array.from({ length: 4 }, (_, i): FarmServer => ({ name: `S${i}`, latencyMs: 5, sessions: users(i, 1) }));
    const controller = new AbortController();
    const afterAbort: string[] = [];
    const mock = createMockApi(farmOf(servers), {
      onCall: (c) => {
        if (controller.signal.aborted && c.api !== 'close') afterAbort.push(`${c.api}:${c.server}`);
      },
    });
    const api = overriding(mock, {
      enumerateSessionsWith: undefined,
      // The abort comes during S0's listing; S1..S3 wait for the one listing slot.
      enumerateSessions: async (h) => {
        const listed = mock.enumerateSessions(h);
        controller.abort();
        return listed;
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: servers.map((s) => s.name), listConcurrency: 1, signal: controller.signal, wait: false })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => f.error.code)).toEqual(['E_ABORTED', 'E_ABORTED', 'E_ABORTED', 'E_ABORTED']);
    expect(afterAbort).toEqual([]);
  });
});

describe('adv: serverTimeoutMs at its documented maximum', () => {
  test('serverTimeoutMs 2147483647 (accepted) with a warning grace period: no server times out at once', async () => {
    const mock = createMockApi(farmOf([
      { name: 'A', latencyMs: 5, sessions: users(0, 1) },
      { name: 'B', latencyMs: 5, sessions: users(1, 1) },
    ]));
    const result = (await createWts({ api: mock }).logoffAll({
      servers: ['A', 'B'],
      serverTimeoutMs: 2_147_483_647,
      warn: { text: 'bye', graceSeconds: 0.05 },
      wait: false,
    })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([]);
    expect(result.results.filter((o) => o.status === 'loggedOff')).toHaveLength(2);
  });
});

describe('adv: property: aborts and timeouts at random moments', () => {
  test('every server reported once, events once each, no request after the abort, every request sent reported, and a second call on the same Wts is normal', async () => {
    const serverArb = fc.record({
      users: fc.integer({ min: 0, max: 3 }),
      latencyMs: fc.integer({ min: 0, max: 6 }),
      dead: fc.boolean(),
      relistFault: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(serverArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('logoffAll', 'dryRun', 'disconnectAll', 'listDetails'),
        async (defs, serverConcurrency, listConcurrency, abortAfter, serverTimeoutMs, op) => {
          const servers = defs.map((d, i): FarmServer => (d.dead ? { name: `S${i}`, latencyMs: d.latencyMs * 3, unreachable: true } : { name: `S${i}`, latencyMs: d.latencyMs, sessions: users(i, d.users) }));
          let aborted = false;
          const afterAbort: string[] = [];
          const mock = createMockApi(farmOf(servers), {
            onCall: (c) => {
              if (aborted && c.api !== 'close' && c.api !== 'computerName' && c.api !== 'localNames' && c.api !== 'consoleId' && c.api !== 'currentId') afterAbort.push(`${c.api}:${c.server}:${c.sessionId ?? ''}`);
            },
          });
          const wts = createWts({ api: mock });
          const names = servers.map((s) => s.name);
          const controller = new AbortController();
          const events: Array<FarmEvent<unknown>> = [];
          const timer = abortAfter === undefined ? undefined : setTimeout(() => { aborted = true; controller.abort(); }, abortAfter);
          const common = { servers: names, serverConcurrency, listConcurrency, serverTimeoutMs, onEvent: (e: FarmEvent<unknown>) => events.push(e) };
          const run = () =>
            op === 'listDetails'
              ? wts.listSessions({ ...common, details: ['times'] })
              : op === 'disconnectAll'
                ? wts.disconnectAll({ ...common, signal: controller.signal })
                : wts.logoffAll({ ...common, dryRun: op === 'dryRun', wait: false, signal: controller.signal });
          const result = (await run()) as FarmResult<{ session?: { id: number; server: string }; requests?: readonly string[] }>;
          clearTimeout(timer);
          // 5: every server once.
          const failed = result.failures.map((f) => f.server);
          expect(new Set(failed).size).toBe(failed.length);
          for (const n of names) {
            const inFailures = failed.includes(n);
            const inByServer = result.byServer.has(n);
            expect({ n, reported: inFailures || inByServer }).toEqual({ n, reported: true });
            const evs = events.filter((e) => e.server === n).map((e) => e.type).filter((t) => t !== 'result');
            // A server the call never started (aborted first) has only its serverFailed, E_ABORTED.
            const neverStarted = !evs.includes('serverStarted');
            if (neverStarted) expect({ n, code: result.failures.find((f) => f.server === n)?.error.code }).toEqual({ n, code: 'E_ABORTED' });
            expect({ n, evs }).toEqual({ n, evs: [...(neverStarted ? [] : ['serverStarted']), inFailures ? 'serverFailed' : 'serverDone'] });
          }
          // 4: nothing sent after the abort (an action, a query, a listing).
          // (WTSOpenServerExW after the abort is its own test below.)
          if (op !== 'listDetails') expect(afterAbort.filter((c) => !c.startsWith('open:'))).toEqual([]);
          // 4: every action sent is reported in exactly one outcome's requests.
          if (op === 'logoffAll' || op === 'disconnectAll') {
            const kind = op === 'logoffAll' ? 'logoff' : 'disconnect';
            const sent = mock.calls.filter((c) => c.api === kind).map((c) => `${c.server}:${c.sessionId}`).sort();
            const reported = result.results.filter((o) => (o.requests ?? []).length > 0).map((o) => `${o.session?.server}:${o.session?.id}`).sort();
            expect(reported).toEqual(sent);
          }
          // 6: the same call again (no abort, generous time) is normal.
          if (op === 'listDetails') return;
          const again = (await wts.logoffAll({ servers: names, serverConcurrency, listConcurrency, serverTimeoutMs: 5000, dryRun: true })) as FarmResult<LogoffOutcome>;
          expect(again.failures.map((f) => f.server)).toEqual(defs.flatMap((d, i) => (d.dead ? [`S${i}`] : [])));
        },
      ),
      { numRuns: 80 },
    );
  }, 120_000);
});

describe('adv: the caller\'s signal', () => {
  test('a call over many servers leaves no listener on the caller\'s signal once it returned (a long-lived signal reused for many calls)', async () => {
    const servers = Array.from({ length: 12 }, (_, i): FarmServer => ({ name: `S${i}`, sessions: users(i, 1) }));
    const mock = createMockApi(farmOf(servers));
    const wts = createWts({ api: mock });
    const app = new AbortController(); // e.g. an app-lifetime signal
    for (let k = 0; k < 3; k++) {
      await wts.logoffAll({ servers: servers.map((s) => s.name), dryRun: true, signal: app.signal });
    }
    await tick(10);
    // (Node's MaxListenersExceededWarning goes to the real process, which jest does not show the
    // test: the listeners are counted instead.)
    expect(getEventListeners(app.signal, 'abort')).toHaveLength(0);
  });
});

describe('adv: attacks that are expected to hold (regression guards)', () => {
  test('bad listConcurrency / serverConcurrency are rejected before any backend call', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 1) }]));
    const wts = createWts({ api: mock });
    for (const key of ['listConcurrency', 'serverConcurrency'] as const) {
      for (const bad of [0, -1, 1.5, '8', 1025, NaN, Infinity, null]) {
        for (const call of [
          () => wts.listSessions({ servers: ['A', 'localhost'], [key]: bad } as never),
          () => wts.logoffAll({ servers: ['A', 'localhost'], dryRun: true, [key]: bad } as never),
          () => wts.listProcesses({ servers: ['A', 'localhost'], [key]: bad } as never),
        ]) {
          await expect(call()).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
        }
      }
    }
    expect(mock.calls).toEqual([]);
  });

  test('a plan acts only on its own logons when the server waits and is listed again, a session ID reused meanwhile included', async () => {
    const mock = createMockApi(farmOf([
      { name: 'A', sessions: users(0, 1) },
      { name: 'B', sessions: users(1, 3) },
    ]));
    const wts = createWts({ api: mock });
    const plan = (await wts.logoffAll({ servers: ['A', 'B'], dryRun: true })) as FarmResult<LogoffOutcome>;
    let changed = false;
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        if (!changed) {
          changed = true;
          // While B waits: ID 2 now another user; ID 3 the same user, new logon; ID 4 gone, ID 9 new.
          mock.putSession('B', { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'mallory', domain: 'CORP' });
          mock.putSession('B', { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'u1x1', domain: 'CORP', logonTime: '2030-01-01T00:00:00Z' } as never);
          mock.removeSession('B', 4);
          mock.putSession('B', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'late', domain: 'CORP' });
        }
        return mock.logoffSession(h, id);
      },
    });
    mock.resetCalls();
    const run = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 1, plan, wait: false })) as FarmResult<LogoffOutcome>;
    expect(mock.calls.filter((c) => c.api === 'logoff').map((c) => `${c.server}:${c.sessionId}`)).toEqual(['A:2']);
    const onB = new Map((run.byServer.get('B') ?? []).map((o) => [o.session.id, o.status === 'skipped' ? `skipped:${o.reason}` : o.status]));
    expect(Object.fromEntries(onB)).toMatchObject({ 2: 'skipped:changed', 3: 'skipped:changed', 4: 'skipped:gone', 9: 'skipped:notInPlan' });
  });

  test('warn warns exactly the sessions it then logs off, when the server waited and was listed again', async () => {
    const mock = createMockApi(farmOf([
      { name: 'A', sessions: users(0, 1) },
      { name: 'B', sessions: users(1, 2) },
    ]));
    let changed = false;
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        if (!changed) {
          changed = true;
          mock.putSession('B', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'late', domain: 'CORP' });
          mock.removeSession('B', 2);
        }
        return mock.sendMessage(h, id, m, o);
      },
    });
    await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 1, warn: { text: 'bye', graceSeconds: 0.01 }, wait: false });
    const on = (kind: string) => mock.calls.filter((c) => c.api === kind).map((c) => `${c.server}:${c.sessionId}`).sort();
    expect(on('message')).toEqual(on('logoff'));
    expect(on('logoff')).toEqual(['A:2', 'B:3', 'B:9']);
  });

  test('duplicate names and local aliases: one server each, reported and evented once', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 1) }]));
    const events: Array<FarmEvent<unknown>> = [];
    // The throwing onEvent is reported as a process warning (safeCall); kept out of the output.
    const quiet = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const result = (await createWts({ api: mock }).logoffAll({ servers: ['A', 'a', '\\\\A', 'ADMIN', 'localhost', '127.0.0.1', '.'], dryRun: true, serverConcurrency: 1, listConcurrency: 1, onEvent: (e) => { events.push(e); throw new Error('boom'); } })) as FarmResult<LogoffOutcome>;
    expect(result.failures).toEqual([]);
    expect([...result.byServer.keys()]).toEqual(['A', 'ADMIN']);
    expect(events.filter((e) => e.type !== 'result').map((e) => `${e.type}:${e.server}`)).toEqual(expect.arrayContaining(['serverStarted:A', 'serverDone:A', 'serverStarted:ADMIN', 'serverDone:ADMIN']));
    expect(events.filter((e) => e.type !== 'result')).toHaveLength(4);
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    expect(quiet).toHaveBeenCalled();
    quiet.mockRestore();
  });

  test('500 servers, tiny latencies, small slots, repeated: no hang, every server once, limits kept', async () => {
    const servers = Array.from({ length: 500 }, (_, i): FarmServer => (i % 37 === 5 ? { name: `S${i}`, latencyMs: i % 3, unreachable: true } : { name: `S${i}`, latencyMs: i % 3, sessions: users(i, i % 3) }));
    const mock = createMockApi(farmOf(servers));
    const wts = createWts({ api: mock });
    for (const [serverConcurrency, listConcurrency] of [[3, 1], [1, 7], [8, 64]] as const) {
      const result = (await wts.logoffAll({ servers: servers.map((s) => s.name), serverConcurrency, listConcurrency, dryRun: true, serverTimeoutMs: 2000 })) as FarmResult<LogoffOutcome>;
      const dead = servers.filter((s) => s.unreachable).map((s) => s.name);
      expect(result.failures.map((f) => f.server).sort()).toEqual(dead.sort());
      expect(result.results.filter((o) => o.status === 'wouldLogOff')).toHaveLength(servers.reduce((n, s, i) => n + (s.unreachable ? 0 : i % 3), 0));
    }
  }, 60_000);
});

describe('adv: no request on a server after its timeout or the abort', () => {
  test('timeout while the server is being opened: no listing is sent on it afterwards (serverTimeoutMs: "no further request is sent on it")', async () => {
    const mock = createMockApi(farmOf([{ name: 'SLOW', sessions: users(0, 2) }, { name: 'A', sessions: users(1, 1) }]));
    let failedAt: number | undefined;
    const late: string[] = [];
    const api = overriding(mock, {
      openServer: async (n) => {
        if (n.toUpperCase() === 'SLOW') await tick(120);
        return mock.openServer(n);
      },
      enumerateSessionsWith: undefined,
      enumerateSessions: async (h) => {
        if (failedAt !== undefined) late.push('enumerate after the timeout');
        return mock.enumerateSessions(h);
      },
    });
    const result = (await createWts({ api }).logoffAll({
      servers: ['SLOW', 'A'],
      serverTimeoutMs: 40,
      dryRun: true,
      onEvent: (e) => {
        if (e.type === 'serverFailed' && e.server === 'SLOW') failedAt = performance.now();
      },
    })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['SLOW', 'E_SERVER_TIMEOUT']]);
    await tick(200); // the open returns in the background
    expect(late).toEqual([]);
  });

  test('abort while a server is being opened: no listing is sent on it afterwards', async () => {
    const mock = createMockApi(farmOf([{ name: 'SLOW', sessions: users(0, 2) }]));
    const controller = new AbortController();
    const late: string[] = [];
    const api = overriding(mock, {
      openServer: async (n) => {
        await tick(60);
        return mock.openServer(n);
      },
      enumerateSessionsWith: undefined,
      enumerateSessions: async (h) => {
        if (controller.signal.aborted) late.push('enumerate after the abort');
        return mock.enumerateSessions(h);
      },
    });
    setTimeout(() => controller.abort(), 20);
    const result = (await createWts({ api }).logoffAll({ servers: ['SLOW', 'ADMIN'], signal: controller.signal, wait: false })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => f.error.code)).toContain('E_ABORTED');
    await tick(150);
    expect(late).toEqual([]);
  });
});
