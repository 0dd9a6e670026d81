/**
 * How a call over many servers schedules them (issue 12: a dead server late in the list must not
 * start late). Servers are opened and listed up to `listConcurrency` at once; the work on their
 * sessions waits for one of `serverConcurrency` slots, with the server's timeout stopped meanwhile,
 * and a server that had to wait is listed again before its work, so that it never acts on a list
 * older than its turn.
 */
import fc from 'fast-check';
import { createMockApi, type FarmServer, type MockApi } from '../../src/mock';
import { createWts, type FarmEvent, type FarmResult, type LogoffOutcome } from '../../src/index';
import type { ServerHandle, WtsApi } from '../../src/wtsapi';
import { overriding } from '../helpers';
import { users, farmOf } from './farm-fixtures';

type Kind = 'open' | 'enumerate' | 'work';

/**
 * The mock, with every call timed: which servers have a call in flight, and of which kind. `work`
 * is any call about one session (a query, a logoff, a message).
 */
function watched(mock: MockApi): { api: WtsApi; log: Array<{ t: number; server: string; kind: Kind; edge: 'start' | 'end' }>; peak: (kind: Kind | 'any') => number } {
  const names = new Map<ServerHandle, string>();
  const log: Array<{ t: number; server: string; kind: Kind; edge: 'start' | 'end' }> = [];
  let t = 0;
  const inFlight = new Map<string, Map<Kind, number>>();
  const peaks = { open: 0, enumerate: 0, work: 0, any: 0 } as Record<Kind | 'any', number>;
  const count = (kind: Kind | 'any') => [...inFlight.values()].filter((m) => (kind === 'any' ? [...m.values()].some((n) => n > 0) : (m.get(kind) ?? 0) > 0)).length;
  const track = async <T>(server: string, kind: Kind, call: () => Promise<T>): Promise<T> => {
    const m = inFlight.get(server) ?? new Map<Kind, number>();
    inFlight.set(server, m);
    m.set(kind, (m.get(kind) ?? 0) + 1);
    log.push({ t: t++, server, kind, edge: 'start' });
    for (const k of ['open', 'enumerate', 'work', 'any'] as const) peaks[k] = Math.max(peaks[k], count(k));
    try {
      return await call();
    } finally {
      m.set(kind, (m.get(kind) ?? 1) - 1);
      log.push({ t: t++, server, kind, edge: 'end' });
    }
  };
  const api = overriding(mock, {
    openServer: async (name) => {
      const handle = await track(name.toUpperCase(), 'open', () => mock.openServer(name));
      names.set(handle, name.toUpperCase());
      return handle;
    },
    enumerateSessions: (h) => track(names.get(h) ?? '?', 'enumerate', () => mock.enumerateSessions(h)),
    enumerateSessionsWith: undefined,
    querySessionInformation: ((h: ServerHandle, id: number, c: never) => track(names.get(h) ?? '?', 'work', () => mock.querySessionInformation(h, id, c))) as WtsApi['querySessionInformation'],
    logoffSession: (h, id) => track(names.get(h) ?? '?', 'work', () => mock.logoffSession(h, id)),
  });
  return { api, log, peak: (kind) => peaks[kind] };
}

describe('a call over many servers: listing runs ahead of the work', () => {
  test('a dead server late in the list is opened at the start, not after the servers before it', async () => {
    const healthy = Array.from({ length: 6 }, (_, i): FarmServer => ({ name: `H${i}`, latencyMs: 2, sessions: users(i, 3) }));
    const mock = createMockApi(farmOf([...healthy, { name: 'DEAD', latencyMs: 30, unreachable: true }]));
    const { api, log } = watched(mock);
    const events: Array<FarmEvent<LogoffOutcome>> = [];
    const result = (await createWts({ api }).logoffAll({
      servers: [...healthy.map((s) => s.name), 'DEAD'],
      serverConcurrency: 1,
      dryRun: true,
      onEvent: (e) => events.push(e),
    })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => [f.server, (f.error as { win32Code?: number }).win32Code])).toEqual([['DEAD', 1722]]);
    // The dead server's open starts before any healthy server's first query about a session.
    const deadOpen = log.find((e) => e.server === 'DEAD' && e.edge === 'start');
    const firstWork = log.find((e) => e.kind === 'work' && e.edge === 'start');
    expect(deadOpen).toBeDefined();
    expect(firstWork).toBeDefined();
    expect(deadOpen!.t).toBeLessThan(firstWork!.t);
    // Every healthy server was worked on, one at a time: 3 users each, all would be logged off.
    expect(result.results.filter((o) => o.status === 'wouldLogOff')).toHaveLength(18);
    expect(events.filter((e) => e.type === 'serverStarted').map((e) => e.server)).toEqual([...healthy.map((s) => s.name), 'DEAD']);
  });

  test('a server that waited for its turn is listed again: a logon made meanwhile is acted on, a session that ended meanwhile is reported gone', async () => {
    const mock = createMockApi(farmOf([
      { name: 'A', sessions: users(0, 2) },
      { name: 'B', sessions: users(1, 2) },
    ]));
    let changed = false;
    const api = overriding(mock, {
      // While A is worked on (B listed and waiting), B gets a new logon and loses one.
      logoffSession: async (h, id) => {
        if (!changed) {
          changed = true;
          mock.putSession('B', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'late', domain: 'CORP' });
          mock.removeSession('B', 2);
        }
        return mock.logoffSession(h, id);
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 1, wait: false })) as FarmResult<LogoffOutcome>;
    const onB = result.byServer.get('B') ?? [];
    expect(onB.filter((o) => o.status === 'loggedOff').map((o) => o.session.id).sort()).toEqual([3, 9]);
    // Session 2 ended while B waited: it was listed first, so it has an outcome, and nothing was sent to it.
    expect(onB.filter((o) => o.session.id === 2).map((o) => [o.status, (o as { reason?: string }).reason, o.requests])).toEqual([['skipped', 'gone', []]]);
    expect(mock.calls.filter((c) => c.api === 'logoff' && c.server === 'B').map((c) => c.sessionId).sort()).toEqual([3, 9]);
    // B was listed twice: ahead, then at its turn.
    expect(mock.calls.filter((c) => c.api === 'enumerate' && c.server === 'B')).toHaveLength(2);
  });

  test('a server whose turn is free at once is listed once', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 2) }, { name: 'B', sessions: users(1, 2) }]));
    await createWts({ api: mock }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 2, dryRun: true });
    expect(mock.calls.filter((c) => c.api === 'enumerate').map((c) => c.server).sort()).toEqual(['A', 'B']);
  });

  test('the time a server waits for its turn does not count against its serverTimeoutMs', async () => {
    // 10 servers worked on one at a time, each about 4 rounds of 25 ms calls (100 ms): together
    // far over the 250 ms limit, each far under it.
    const servers = Array.from({ length: 10 }, (_, i): FarmServer => ({ name: `S${i}`, latencyMs: 25, sessions: users(i, 2) }));
    const mock = createMockApi(farmOf(servers));
    const t0 = Date.now();
    const result = (await createWts({ api: mock }).logoffAll({ servers: servers.map((s) => s.name), serverConcurrency: 1, serverTimeoutMs: 250, dryRun: true })) as FarmResult<LogoffOutcome>;
    const took = Date.now() - t0;
    expect(result.failures).toEqual([]);
    expect(result.results.filter((o) => o.status === 'wouldLogOff')).toHaveLength(20);
    // The premise: the servers' own times together exceeded one server's limit.
    expect(took).toBeGreaterThan(250);
  });

  test('a server still over its own time is cut short, listing included', async () => {
    const mock = createMockApi(farmOf([{ name: 'SLOW', latencyMs: 200, sessions: users(0, 2) }, { name: 'A', sessions: users(1, 1) }]));
    const result = (await createWts({ api: mock }).logoffAll({ servers: ['SLOW', 'A'], serverTimeoutMs: 100, dryRun: true })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['SLOW', 'E_SERVER_TIMEOUT']]);
    expect(result.byServer.get('A')?.filter((o) => o.status === 'wouldLogOff')).toHaveLength(1);
  });

  test('a listing cut short by its timeout starts no further request: detail queries stop at the cut', async () => {
    const mock = createMockApi(farmOf([{ name: 'SLOW', latencyMs: 30, sessions: users(0, 10) }]));
    const result = (await createWts({ api: mock }).listSessions({ servers: ['SLOW'], details: ['times'], concurrency: 1, serverTimeoutMs: 150 })) as FarmResult<unknown>;
    expect(result.failures.map((f) => f.error.code)).toEqual(['E_SERVER_TIMEOUT']);
    const atCut = mock.calls.filter((c) => c.api === 'query').length;
    await new Promise((r) => setTimeout(r, 300));
    // The query in flight at the cut may still be logged as it lands; none is started after.
    expect(mock.calls.filter((c) => c.api === 'query').length).toBeLessThanOrEqual(atCut + 1);
    expect(atCut).toBeLessThan(10);
  });

  test('an abort while servers wait for their turn: nothing is sent to them, and each is reported', async () => {
    const servers = Array.from({ length: 4 }, (_, i): FarmServer => ({ name: `S${i}`, latencyMs: 10, sessions: users(i, 2) }));
    const mock = createMockApi(farmOf(servers));
    const controller = new AbortController();
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        controller.abort();
        return mock.logoffSession(h, id);
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: servers.map((s) => s.name), serverConcurrency: 1, wait: false, signal: controller.signal })) as FarmResult<LogoffOutcome>;
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual(servers.map((s) => [s.name, 'E_ABORTED']));
    // Only S0 was worked on; the others were listed, then waited, then stopped.
    const sent = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.server);
    expect(new Set(sent)).toEqual(new Set(['S0']));
    for (const s of ['S1', 'S2', 'S3']) expect(mock.calls.some((c) => c.server === s && c.api === 'query')).toBe(false);
    // Every session S0 listed has an outcome; the one whose logoff was sent says so.
    const onS0 = result.results.filter((o) => o.session && mock.calls.some((c) => c.api === 'logoff' && c.sessionId === o.session.id));
    expect(onS0.length).toBeGreaterThan(0);
  });

  test('property: never more than serverConcurrency servers worked on, nor listConcurrency opened, at once; every server reported once; every listed user session has one outcome', async () => {
    const serverArb = fc.record({
      users: fc.integer({ min: 0, max: 3 }),
      latencyMs: fc.integer({ min: 0, max: 4 }),
      dead: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(serverArb, { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('logoffAll', 'dryRun', 'listDetails'),
        async (defs, serverConcurrency, listConcurrency, op) => {
          const servers = defs.map((d, i): FarmServer => (d.dead ? { name: `S${i}`, latencyMs: d.latencyMs * 3, unreachable: true } : { name: `S${i}`, latencyMs: d.latencyMs, sessions: users(i, d.users) }));
          const mock = createMockApi(farmOf(servers));
          const { api, peak } = watched(mock);
          const wts = createWts({ api });
          const names = servers.map((s) => s.name);
          const common = { servers: names, serverConcurrency, listConcurrency };
          const result = (
            op === 'listDetails'
              ? await wts.listSessions({ ...common, details: ['times'] })
              : await wts.logoffAll({ ...common, dryRun: op === 'dryRun', wait: false })
          ) as FarmResult<{ session?: { id: number }; id?: number }>;
          expect(peak('work')).toBeLessThanOrEqual(serverConcurrency);
          expect(peak('open')).toBeLessThanOrEqual(listConcurrency);
          expect(peak('any')).toBeLessThanOrEqual(serverConcurrency + listConcurrency);
          // Every server once: failed (the dead ones, 1722) or answered.
          const failed = result.failures.map((f) => f.server);
          expect(failed).toEqual(defs.flatMap((d, i) => (d.dead ? [`S${i}`] : [])));
          for (const f of result.failures) expect((f.error as { win32Code?: number }).win32Code).toBe(1722);
          for (const [i, d] of defs.entries()) {
            if (d.dead) continue;
            const got = result.byServer.get(`S${i}`);
            expect(got).toBeDefined();
            if (op === 'listDetails') {
              expect(got).toHaveLength(d.users + 2);
            } else {
              // One outcome per listed session (services and listener are skipped, users acted on).
              expect(got).toHaveLength(d.users + 2);
              const acted = (got as readonly LogoffOutcome[]).filter((o) => o.status === (op === 'dryRun' ? 'wouldLogOff' : 'loggedOff'));
              expect(acted.map((o) => o.session.id).sort()).toEqual(Array.from({ length: d.users }, (_, k) => 2 + k).sort());
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
