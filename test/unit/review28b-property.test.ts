/**
 * Review 28b (adversarial), promise 5 as properties: `details` with `times` and `lock` read both
 * from ONE WTSSessionInfoEx query per session, and give exactly what `['times']` and `['lock']`
 * read separately give — over random sessions (lock flags, states, idle and disconnect times),
 * random servers (10.0, 6.1 with its swapped flags, 6.0, an unknown version) and random answers to
 * WTSSessionInfoEx (level 1, refused with 50 / 87 / 120, another level, `level1: null`). The
 * filters built on them (`idleLongerThan` with `locked`) must choose the same sessions whichever
 * way the details are read.
 *
 * The backend is the mock, with each server's clock pinned (WTSINFOW's and WTSINFOEX_LEVEL1_W's
 * CurrentTime the same fixed instant) so that idleMs and disconnectedMs compare exactly.
 */
import fc from 'fast-check';
import {
  ConsoleSessionError,
  createWts,
  InvalidArgumentError,
  isWtsError,
  LogoffTimeoutError,
  OperationAbortedError,
  ServerTimeoutError,
  SessionChangedError,
  SessionNotActiveError,
  SessionNotFoundError,
  ThreadsExhaustedError,
  UnsupportedPlatformError,
  Win32Error,
  WtsError,
  type DetailedSession,
  type WtsApi,
} from '../../src/index';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { overriding } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;

const NOW = new Date('2026-11-21T10:00:00Z').getTime();
const MIN = 60_000;
const RUNS = Number(process.env['WTS_FUZZ_RUNS'] ?? '0') || 120;

/** How a session's WTSSessionInfoEx is answered. */
type ExMode = 'level1' | 50 | 87 | 120 | 'level2' | 'nullLevel1';

interface World {
  farm: Farm;
  /** Per server (lower case), per session ID: how WTSSessionInfoEx is answered. */
  exMode: Record<string, Record<number, ExMode>>;
}

const sessionArb = (id: number): fc.Arbitrary<{ session: FarmSession; ex: ExMode }> =>
  fc
    .record({
      state: fc.constantFrom('Active' as const, 'Disconnected' as const, 'Idle' as const, 'Connected' as const),
      user: fc.constantFrom('alice', 'bob', 'carol'),
      locked: fc.constantFrom<boolean | null | undefined>(true, false, null, undefined),
      idle: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      disc: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      logon: fc.option(fc.integer({ min: 600, max: 6000 }), { nil: undefined }),
      ex: fc.constantFrom<ExMode>('level1', 'level1', 'level1', 50, 87, 120, 'level2', 'nullLevel1'),
    })
    .map((g) => ({
      ex: g.ex,
      session: {
        id,
        name: g.state === 'Disconnected' ? '' : `RDP-Tcp#${id}`,
        state: g.state,
        user: g.user,
        domain: 'CORP',
        ...(g.locked === undefined ? {} : { locked: g.locked }),
        ...(g.logon === undefined ? {} : { logonTime: new Date(NOW - g.logon * MIN).toISOString() }),
        ...(g.idle === undefined ? {} : { lastInputTime: new Date(NOW - g.idle * MIN).toISOString() }),
        ...(g.disc === undefined ? {} : { disconnectTime: new Date(NOW - g.disc * MIN).toISOString(), connectTime: new Date(NOW - (g.disc + 5) * MIN).toISOString() }),
      },
    }));

const worldArb: fc.Arbitrary<World> = fc
  .tuple(
    ...(['TS01', 'OLD'] as const).map((name) =>
      fc
        .record({
          osVersion: fc.constantFrom('10.0', '6.3', '6.1', '6.0'),
          versionUnknown: fc.boolean(),
          ids: fc.uniqueArray(fc.integer({ min: 2, max: 30 }), { maxLength: 6 }),
        })
        .chain((g) => fc.tuple(fc.constant(g), fc.tuple(...g.ids.map((id) => sessionArb(id)))).map(([g2, sessions]) => ({ name, g: g2, sessions }))),
    ),
  )
  .map((servers) => {
    const exMode: World['exMode'] = {};
    const farm: Farm = {
      localServer: 'TS01',
      servers: servers.map(({ name, g, sessions }) => {
        exMode[name.toLowerCase()] = Object.fromEntries(sessions.map((s) => [s.session.id, s.ex]));
        return {
          name,
          osVersion: g.osVersion,
          sessions: [{ id: 0, name: 'Services', state: 'Disconnected' as const }, ...sessions.map((s) => s.session)],
          ...(g.versionUnknown ? { faults: { version: { '*': 5 } } } : {}),
        };
      }),
    };
    return { farm, exMode };
  });

/** The mock, its clock pinned, WTSSessionInfoEx answered as the world says. */
function backend(world: World): { mock: MockApi; api: WtsApi } {
  const mock = createMockApi(world.farm);
  const api = overriding(mock, {
    querySessionInformation: (async (...args: Query) => {
      const [handle, id, infoClass] = args;
      const server = serverOf(mock, handle);
      if (infoClass === 'WTSSessionInfoEx') {
        const mode = world.exMode[server]?.[id] ?? 'level1';
        if (typeof mode === 'number') {
          await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args); // 7022 for an ended one, as the real call
          throw new Win32Error({ win32Code: mode, api: 'WTSQuerySessionInformationW', sessionId: id });
        }
        const real = (await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args)) as { level: number; level1: Record<string, unknown> };
        if (mode === 'level2') return { level: 2, level1: null };
        if (mode === 'nullLevel1') return { level: 1, level1: null };
        return { ...real, level1: { ...real.level1, currentTime: new Date(NOW) } };
      }
      const value = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      if (infoClass === 'WTSSessionInfo') return { ...(value as object), currentTime: new Date(NOW) };
      return value;
    }) as WtsApi['querySessionInformation'],
  });
  return { mock, api };
}

/** Which farm server a handle is: the mock logs the server of each call. */
function serverOf(mock: MockApi, handle: unknown): string {
  // The mock's local handle is 0n (WTS_CURRENT_SERVER_HANDLE); other handles were returned by openServer.
  if (handle === 0n) return 'ts01';
  return (handles.get(mock)?.get(handle as bigint) ?? '').toLowerCase();
}
const handles = new WeakMap<MockApi, Map<bigint, string>>();
function tracking(world: World): { mock: MockApi; api: WtsApi } {
  const { mock, api } = backend(world);
  const map = new Map<bigint, string>();
  handles.set(mock, map);
  const tracked = overriding(api as MockApi, {
    openServer: (async (name: string) => {
      const h = await mock.openServer(name);
      map.set(h as bigint, name.toLowerCase() === 'localhost' ? 'TS01' : name);
      return h;
    }) as WtsApi['openServer'],
  });
  return { mock, api: tracked };
}

const byKey = (rows: readonly DetailedSession[]) => new Map(rows.map((s) => [`${s.server}|${s.id}`, s.details] as const));

describe('promise 5 (property): details times+lock == times alone + lock alone', () => {
  test('HOLDS: over random servers, sessions and WTSSessionInfoEx answers, details ["times","lock"] equals ["times"] and ["lock"] read separately, in one WTSSessionInfoEx query per session (plus WTSSessionInfo only where it is not answered at level 1)', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const servers = ['TS01', 'OLD'];
        const both = tracking(world);
        const rBoth = await createWts({ api: both.api }).listSessions({ servers, details: ['times', 'lock'] });
        const rTimes = await createWts({ api: tracking(world).api }).listSessions({ servers, details: ['times'] });
        const rLock = await createWts({ api: tracking(world).api }).listSessions({ servers, details: ['lock'] });
        expect(rBoth.failures).toEqual([]);
        const t = byKey(rTimes.results as DetailedSession[]);
        const l = byKey(rLock.results as DetailedSession[]);
        for (const s of rBoth.results as DetailedSession[]) {
          const key = `${s.server}|${s.id}` as const;
          expect({ key, details: { ...s.details } }).toEqual({ key, details: { ...t.get(key), ...l.get(key) } });
        }
        // One WTSSessionInfoEx per session; a WTSSessionInfo only for those not answered at level 1.
        const queries = both.mock.calls.filter((c) => c.api === 'query');
        for (const s of rBoth.results) {
          const name = (s.server || 'TS01').toLowerCase(); // '' is the local server
          const mine = queries.filter((c) => c.server.toLowerCase() === name && c.sessionId === s.id).map((c) => c.infoClass);
          const mode = world.exMode[name]?.[s.id] ?? 'level1';
          expect({ id: s.id, mine }).toEqual({ id: s.id, mine: mode === 'level1' ? ['WTSSessionInfoEx'] : ['WTSSessionInfoEx', 'WTSSessionInfo'] });
        }
        // One NetServerGetInfo per server connection.
        expect(both.mock.calls.filter((c) => c.api === 'version').length).toBeLessThanOrEqual(servers.length);
      }),
      { numRuns: RUNS },
    );
  });

  test('HOLDS: idleLongerThan + locked pick the same sessions as the filter applied by hand to the separately read details (listSessions, a logoffAll dry run, and the logoffs a real logoffAll makes)', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, fc.integer({ min: 0, max: 600 }), fc.boolean(), async (world, idleMin, locked) => {
        const servers = ['TS01', 'OLD'];
        const idleMs = idleMin * MIN;
        const rTimes = await createWts({ api: tracking(world).api }).listSessions({ servers, details: ['times'] });
        const rLock = await createWts({ api: tracking(world).api }).listSessions({ servers, details: ['lock'] });
        const l = byKey(rLock.results as DetailedSession[]);
        const expected = (rTimes.results as DetailedSession[])
          .filter((s) => s.id !== 0)
          .filter((s) => s.details.idleMs != null && s.details.idleMs > idleMs && l.get(`${s.server}|${s.id}`)?.locked === locked)
          .map((s) => `${s.server}|${s.id}`)
          .sort();
        const listed = await createWts({ api: tracking(world).api }).listSessions({ servers, idleLongerThan: idleMs, locked });
        expect(listed.results.map((s) => `${s.server}|${s.id}`).sort()).toEqual(expected);
        const plan = await createWts({ api: tracking(world).api }).logoffAll({ servers, idleLongerThan: idleMs, locked, dryRun: true });
        expect(plan.results.filter((o) => o.status === 'wouldLogOff').map((o) => `${o.session.server}|${o.session.id}`).sort()).toEqual(expected);
        const real = tracking(world);
        await createWts({ api: real.api }).logoffAll({ servers, idleLongerThan: idleMs, locked, wait: false });
        const loggedOff = real.mock.calls.filter((c) => c.api === 'logoff').map((c) => `${c.server === 'TS01' ? '' : c.server}|${c.sessionId}`).sort();
        expect(loggedOff).toEqual(expected);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});

describe('promise 5 (property): the re-check before each logoff, on the shared WTSSessionInfoEx read', () => {
  // docs/logoffAll.md / CHANGELOG: the filters are applied again right before each logoff; a user
  // who came back (typed, unlocked) since the session was chosen is left alone. Safety: no logoff
  // may reach a session the filters would not select at the time of its re-check.
  test('HOLDS: a user who comes back (unlocks and types) at a random moment is never logged off when that moment is at or before the start of the re-check', async () => {
    const farmArb = fc
      .uniqueArray(fc.integer({ min: 2, max: 20 }), { minLength: 1, maxLength: 5 })
      .chain((ids) => fc.tuple(fc.constant(ids), fc.constantFrom(...ids), fc.integer({ min: 1, max: 25 }), fc.constantFrom('10.0', '6.1'), fc.boolean()));
    await fc.assert(
      fc.asyncProperty(farmArb, async ([ids, back, at, osVersion, warn]) => {
        const sessions: FarmSession[] = ids.map((id) => ({
          id,
          name: `RDP-Tcp#${id}`,
          state: 'Active' as const,
          user: `u${id}`,
          domain: 'CORP',
          locked: true,
          logonTime: new Date(NOW - 600 * MIN).toISOString(),
          lastInputTime: new Date(NOW - 300 * MIN).toISOString(),
        }));
        const world: World = { farm: { localServer: 'TS01', servers: [{ name: 'TS01', osVersion, sessions }] }, exMode: {} };
        const { mock, api } = backend(world);
        let n = 0;
        let changedAt = Infinity;
        let recheckStart = Infinity;
        const watched = overriding(api as MockApi, {
          querySessionInformation: (async (...args: Query) => {
            n++;
            if (n === at) {
              changedAt = n;
              const s = mock.getSession('TS01', back)!;
              mock.putSession('TS01', { ...s, locked: false, lastInputTime: new Date(NOW).toISOString() });
            }
            if (args[1] === back && args[2] === 'WTSConnectState' && recheckStart === Infinity) recheckStart = n;
            return (api.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
          }) as WtsApi['querySessionInformation'],
        });
        const out = await createWts({ api: watched }).logoffAll({
          idleLongerThan: '1h',
          locked: true,
          wait: false,
          ...(warn ? { warn: { text: 'bye', graceSeconds: 0 } } : {}),
        });
        const loggedOff = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId);
        if (changedAt <= recheckStart) expect({ changedAt, recheckStart, loggedOff }).toEqual({ changedAt, recheckStart, loggedOff: loggedOff.filter((id) => id !== back) });
        // Every other session (still locked and idle) is logged off.
        for (const id of ids) if (id !== back) expect(out.find((o) => o.session.id === id)?.status).toBe('loggedOff');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('promise 2 (property): any library error the poll fails with after the accepted request', () => {
  // Promise 2: "when the poll after the accepted request fails with one of the library's errors
  // (ThreadsExhaustedError; any WtsError subclass), the call rejects with the same class, ...,
  // requests = [that request], server and sessionId set"; timeouts E_TIMEOUT, aborts
  // OperationAbortedError, Win32 failures Win32Error; promise 1: the backend's own error object is
  // never written on (it may be frozen or shared).
  //
  // Over every error class the library exports, frozen or not, thrown by the backend at a random
  // poll after logoff() / disconnect({ wait: true }) had their request accepted. On the code as
  // reviewed (8bb3b4c) it failed on E_TIMEOUT (LogoffTimeoutError, or a plain WtsError with that
  // code): sentThenPoll wrote `requests` on the backend's object and rethrew it (server unset), and
  // a frozen one made the call reject with a TypeError ("Cannot redefine property: requests").
  // Fixed while this review ran (9478ae3); it holds since.
  test('HOLDS (failed on 8bb3b4c; fixed by 9478ae3): the call rejects with a library error of the class the promise names, listing the request, server and sessionId set, the backend object untouched', async () => {
    const id = { sessionId: 4, name: 'RDP-Tcp#1', userName: 'carol', domain: 'CORP', logonTime: null };
    const makers: Array<[string, () => InstanceType<typeof WtsError>]> = [
      ['ThreadsExhaustedError', () => new ThreadsExhaustedError(128, 1, 10_000)],
      ['InvalidArgumentError', () => new InvalidArgumentError('x', 'bad x')],
      ['UnsupportedPlatformError', () => new UnsupportedPlatformError('linux', 'no')],
      ['SessionNotFoundError', () => new SessionNotFoundError(99, 'TS01')],
      ['SessionNotActiveError', () => new SessionNotActiveError('RDP-Tcp#1', 4, 'Disconnected', '')],
      ['ConsoleSessionError', () => new ConsoleSessionError(1, '')],
      ['SessionChangedError', () => new SessionChangedError(4, '', id, undefined)],
      ['ServerTimeoutError', () => new ServerTimeoutError('TS01', 100)],
      ['LogoffTimeoutError', () => new LogoffTimeoutError(4, '', 100)],
      ['WtsError E_TIMEOUT', () => new WtsError('E_TIMEOUT', 'rpc timed out')],
      ['OperationAbortedError', () => new OperationAbortedError('The call', 'cut')],
      ['Win32Error 1726', () => new Win32Error({ win32Code: 1726, api: 'WTSQuerySessionInformationW' })],
      ['WtsError E_WIN32 (no code)', () => new WtsError('E_WIN32', 'odd')],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...makers),
        fc.boolean(),
        fc.constantFrom('logoff' as const, 'disconnect' as const),
        fc.integer({ min: 0, max: 2 }),
        async ([name, make], frozen, op, goodPolls) => {
          const thrown = make();
          if (frozen) Object.freeze(thrown);
          const before = JSON.stringify(thrown);
          const mock = createMockApi({
            localServer: 'TS01',
            servers: [{ name: 'TS01', sessions: [{ id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' }] }],
          }, { closingPolls: 1_000 });
          let requested = false;
          let polls = 0;
          const api = overriding(mock, {
            logoffSession: async (h: bigint, sid: number) => {
              await mock.logoffSession(h as never, sid);
              requested = true;
            },
            disconnectSession: async () => {
              requested = true; // accepted, never takes effect: the poll goes on
            },
            querySessionInformation: (async (...args: Query) => {
              if (requested && polls++ >= goodPolls) throw thrown;
              return (mock.querySessionInformation as (...a: Query) => Promise<unknown>).apply(mock, args);
            }) as WtsApi['querySessionInformation'],
          });
          const wts = createWts({ api });
          const request = op === 'logoff' ? 'WTSLogoffSession' : 'WTSDisconnectSession';
          let error: unknown;
          try {
            await (op === 'logoff' ? wts.logoff(4, { pollIntervalMs: 1 }) : wts.disconnect(4, { wait: true, pollIntervalMs: 1 }));
          } catch (e) {
            error = e;
          }
          const e = error as Record<string, unknown>;
          const code = thrown.code;
          const Expected = code === 'E_ABORTED' ? OperationAbortedError : code === 'E_WIN32' && 'win32Code' in thrown ? Win32Error : (thrown.constructor as new (...a: never[]) => unknown);
          const got = { name, frozen, op, isWtsError: isWtsError(error), class: error instanceof Expected, code: e?.['code'], requests: e?.['requests'], server: e?.['server'], sessionId: e?.['sessionId'], untouched: JSON.stringify(thrown) === before };
          expect(got).toEqual({ name, frozen, op, isWtsError: true, class: true, code, requests: [request], server: (thrown.server ?? ''), sessionId: thrown.sessionId ?? 4, untouched: true });
        },
      ),
      { numRuns: 150 },
    );
  });
});
