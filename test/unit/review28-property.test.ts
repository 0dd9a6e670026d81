/**
 * Review 28, promise 5 as a property: over random sessions (lock flags true / false / unknown /
 * absent, server versions 10.0 / 6.3 / 6.1 (swapped) / 6.0, a version that cannot be read, idle,
 * logon, connect and disconnect times present or not, every state) and random ways a server answers
 * WTSSessionInfoEx (at level 1, refused with 50 / 87 / 120, at level 2, with level1: null), the
 * details `['times', 'lock']` read in one go equal `['times']` and `['lock']` read separately;
 * the query count is one WTSSessionInfoEx per session, plus one WTSSessionInfo exactly where
 * WTSSessionInfoEx gave no level-1 data; and the filters { idleLongerThan, locked } select what the
 * separately read details say.
 *
 * Every answer carries the same fixed CurrentTime, so idleMs / disconnectedMs do not depend on
 * the milliseconds between two queries.
 */
import fc from 'fast-check';
import { createWts, Win32Error, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type FarmSession } from '../../src/mock';
import { overriding } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;
const RUNS = Number(process.env['WTS_FUZZ_RUNS'] ?? '0') || 120;
const NOW = Date.parse('2026-11-21T12:00:00Z');
const MIN = 60_000;

type ExAnswer = 'level1' | 'e50' | 'e87' | 'e120' | 'level2' | 'level1null';

interface World {
  readonly farm: Farm;
  readonly ex: ReadonlyMap<number, ExAnswer>;
  readonly idle: number;
  readonly locked: boolean;
}

const at = (minutesAgo: number | undefined) => (minutesAgo === undefined ? {} : { t: new Date(NOW - minutesAgo * MIN).toISOString() });

const sessionArb = (id: number): fc.Arbitrary<{ session: FarmSession; ex: ExAnswer }> =>
  fc
    .record({
      state: fc.constantFrom('Active' as const, 'Disconnected' as const, 'Connected' as const, 'Idle' as const, 'Shadow' as const),
      user: fc.constantFrom('alice', 'bob', 'carol'),
      locked: fc.constantFrom<boolean | null | undefined>(true, false, null, undefined),
      logon: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
      connect: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
      disconnect: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
      input: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
      ex: fc.constantFrom<ExAnswer>('level1', 'level1', 'level1', 'e50', 'e87', 'e120', 'level2', 'level1null'),
    })
    .map((g) => {
      const session: FarmSession = {
        id,
        name: g.state === 'Disconnected' ? '' : `RDP-Tcp#${id}`,
        state: g.state,
        user: g.user,
        domain: 'CORP',
        ...(g.locked === undefined ? {} : { locked: g.locked }),
      };
      const logon = at(g.logon).t;
      const connect = at(g.connect).t;
      const disconnect = at(g.disconnect).t;
      const input = at(g.input).t;
      if (logon) session.logonTime = logon;
      if (connect) session.connectTime = connect;
      if (disconnect) session.disconnectTime = disconnect;
      if (input) session.lastInputTime = input;
      return { session, ex: g.ex };
    });

const worldArb: fc.Arbitrary<World> = fc
  .record({
    osVersion: fc.constantFrom('10.0', '6.3', '6.1', '6.0'),
    versionFails: fc.boolean(),
    ids: fc.uniqueArray(fc.integer({ min: 2, max: 60 }), { minLength: 1, maxLength: 8 }),
    idle: fc.integer({ min: 0, max: 3000 }),
    locked: fc.boolean(),
  })
  .chain((g) =>
    fc.tuple(...g.ids.map((id) => sessionArb(id))).map((rows): World => ({
      farm: {
        localServer: 'TS01',
        servers: [
          {
            name: 'TS01',
            osVersion: g.osVersion,
            consoleSessionId: 1,
            sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }, ...rows.map((r) => r.session)],
            ...(g.versionFails ? { faults: { version: { '*': 5 } } } : {}),
          },
        ],
      },
      ex: new Map(rows.map((r) => [r.session.id, r.ex] as const)),
      idle: g.idle * MIN,
      locked: g.locked,
    })),
  );

/** The world's backend: the mock, with a fixed CurrentTime and WTSSessionInfoEx answered as the world says. */
function backend(world: World) {
  const mock = createMockApi(world.farm);
  const api = overriding(mock, {
    querySessionInformation: (async (...args: Query) => {
      const [, id, infoClass] = args;
      const answer = (await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args)) as Record<string, unknown>;
      if (infoClass === 'WTSSessionInfo') return { ...answer, currentTime: new Date(NOW) };
      if (infoClass === 'WTSSessionInfoEx') {
        const how = world.ex.get(id) ?? 'level1';
        if (how === 'e50' || how === 'e87' || how === 'e120') {
          throw new Win32Error({ win32Code: Number(how.slice(1)), api: 'WTSQuerySessionInformationW', sessionId: id });
        }
        if (how === 'level2') return { level: 2, level1: null };
        if (how === 'level1null') return { level: 1, level1: null };
        return { ...answer, level1: { ...(answer['level1'] as Record<string, unknown>), currentTime: new Date(NOW) } };
      }
      return answer;
    }) as WtsApi['querySessionInformation'],
  });
  return { mock, api };
}

const unanswered = (how: ExAnswer | undefined) => how !== undefined && how !== 'level1';

describe('promise 5 as a property: times and lock read together equal times and lock read apart', () => {
  test('HOLDS: details [times, lock] == [times] + [lock]; one WTSSessionInfoEx per session, WTSSessionInfo only where it gave no level 1; filters agree', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const together = backend(world);
        const both = await createWts({ api: together.api }).listSessions({ details: ['times', 'lock'] });
        const times = await createWts({ api: backend(world).api }).listSessions({ details: ['times'] });
        const lock = await createWts({ api: backend(world).api }).listSessions({ details: ['lock'] });
        expect(both.map((s) => s.id)).toEqual(times.map((s) => s.id));
        for (const s of both) {
          const t = times.find((x) => x.id === s.id)!;
          const l = lock.find((x) => x.id === s.id)!;
          expect(s.details).toEqual({ ...t.details, ...l.details });
        }
        // Query count: one WTSSessionInfoEx each; one WTSSessionInfo where that gave no level 1.
        const queries = together.mock.calls.filter((c) => c.api === 'query');
        for (const s of both) {
          const mine = queries.filter((c) => c.sessionId === s.id).map((c) => (c as { infoClass?: string }).infoClass);
          expect(mine.filter((c) => c === 'WTSSessionInfoEx').length).toBe(1);
          expect(mine.filter((c) => c === 'WTSSessionInfo').length).toBe(unanswered(world.ex.get(s.id)) ? 1 : 0);
          expect(mine.length).toBe(unanswered(world.ex.get(s.id)) ? 2 : 1);
        }
        // The filters that read both, against the details read apart.
        const expected = times
          .filter((s) => {
            const l = lock.find((x) => x.id === s.id)!.details.locked;
            const idle = s.details.idleMs;
            return l === world.locked && idle !== null && idle !== undefined && idle > world.idle;
          })
          .map((s) => s.id);
        const filtered = await createWts({ api: backend(world).api }).listSessions({ idleLongerThan: world.idle, locked: world.locked });
        expect(filtered.map((s) => s.id)).toEqual(expected);
        // Safety: a dry run of logoffAll with the same filters plans exactly those (minus protected).
        const plan = await createWts({ api: backend(world).api }).logoffAll({ idleLongerThan: world.idle, locked: world.locked, dryRun: true });
        const planned = plan.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id);
        for (const id of planned) expect(expected).toContain(id);
      }),
      { numRuns: RUNS },
    );
  });
});

type Change = 'none' | 'unlock' | 'lock' | 'type' | 'unknown';

/**
 * The worlds of the first property, biased towards sessions the filters select (a short idle
 * threshold, a readable version, WTSSessionInfoEx mostly answered): most runs act on some.
 */
const safetyWorldArb: fc.Arbitrary<World> = fc
  .tuple(worldArb, fc.integer({ min: 0, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 61, maxLength: 61 }))
  .map(([w, v, exDice]) => {
    const { faults, ...server } = w.farm.servers[0]!;
    return {
      farm: { ...w.farm, servers: [v === 0 && faults ? { ...server, faults } : server] },
      ex: new Map([...w.ex].map(([id, how]) => [id, (exDice[id] ?? 0) < 8 ? 'level1' : how] as const)),
      idle: w.idle % (40 * MIN),
      locked: w.locked,
    };
  });

describe('promise 5 safety as a property: logoffAll({ idleLongerThan, locked }) with users coming back between the choice and the re-check', () => {
  test('HOLDS: exactly the sessions the filters select both when chosen and at their re-check are logged off', async () => {
    const changeArb = fc.array(fc.constantFrom<Change>('none', 'none', 'unlock', 'lock', 'type', 'unknown'), { minLength: 61, maxLength: 61 });
    await fc.assert(
      fc.asyncProperty(safetyWorldArb, changeArb, fc.boolean(), async (world, changes, warn) => {
        const { mock, api } = backend(world);
        const server = world.farm.servers[0]!;
        const before = new Map(server.sessions!.map((s) => [s.id, { ...s }] as const));
        const after = new Map(server.sessions!.map((s) => [s.id, { ...s }] as const));
        const exCount = new Map<number, number>();
        // Right after a session's first WTSSessionInfoEx (its choice), its user does something.
        const changing = overriding(api, {
          querySessionInformation: (async (...args: Query) => {
            const r = await (api.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
            const [, id, infoClass] = args;
            if (infoClass === 'WTSSessionInfoEx') {
              const n = (exCount.get(id) ?? 0) + 1;
              exCount.set(id, n);
              const change = changes[id] ?? 'none';
              if (n === 1 && change !== 'none') {
                const s = { ...mock.getSession('TS01', id)! } as FarmSession;
                if (change === 'unlock') s.locked = false;
                if (change === 'lock') s.locked = true;
                if (change === 'unknown') s.locked = null;
                if (change === 'type') s.lastInputTime = new Date(NOW).toISOString();
                mock.putSession('TS01', s);
                after.set(id, s);
              }
            }
            return r;
          }) as WtsApi['querySessionInformation'],
        });
        const versionKnown = server.faults === undefined;
        const selected = (s: FarmSession | undefined): boolean => {
          if (!s || s.id <= 1) return false;
          if (!versionKnown || unanswered(world.ex.get(s.id))) return false; // lock state unknown
          const locked = s.locked === undefined ? false : s.locked;
          if (locked !== world.locked) return false;
          if (!s.lastInputTime) return false;
          return NOW - Date.parse(s.lastInputTime) > world.idle;
        };
        const out = await createWts({ api: changing }).logoffAll({
          idleLongerThan: world.idle,
          locked: world.locked,
          wait: false,
          ...(warn ? { warn: { text: 'bye', graceSeconds: 0 } } : {}),
        });
        const loggedOff = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId as number).sort((a, b) => a - b);
        const expected = [...before.keys()].filter((id) => selected(before.get(id)) && selected(after.get(id))).sort((a, b) => a - b);
        expect(loggedOff).toEqual(expected);
        for (const o of out) if (o.status === 'failed') throw new Error(`unexpected failure: ${JSON.stringify(o)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
