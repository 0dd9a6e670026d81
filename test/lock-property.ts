/**
 * The `locked` filter's safety property, for any backend: over random farms (servers of several
 * Windows versions, 6.1 among them, some whose version cannot be read; sessions locked, unlocked or
 * unknown) and random filter combinations, no session whose lock state is not exactly the one asked
 * for is ever listed, planned or acted on — an unknown state (null) matches neither true nor false —
 * and the `lock` detail reads every session's true state (the 6.1 swap undone), or null.
 */
import fc from 'fast-check';
import { createWts, type WtsApi } from '../src/index';
import type { Farm, FarmServer, FarmSession } from '../src/mock';

const MIN = 60_000;
const SERVERS = ['TS01', 'WF12', 'WF13'] as const;
const VERSIONS = ['10.0', '6.3', '6.2', '6.1', '6.1', '6.0'] as const;

export interface LockWorld {
  readonly farm: Farm;
  /** Servers whose version cannot be read (a `version` fault). */
  readonly versionUnknown: ReadonlySet<string>;
}

const sessionArb = (id: number): fc.Arbitrary<FarmSession> =>
  fc
    .record({
      state: fc.constantFrom('Active' as const, 'Active' as const, 'Disconnected' as const, 'Connected' as const, 'Idle' as const),
      user: fc.constantFrom('alice', 'bob', 'carol', 'svc-backup'),
      locked: fc.constantFrom<boolean | null | undefined>(true, false, null, undefined),
      idleMinutes: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
    })
    .map((g) => ({
      id,
      name: g.state === 'Disconnected' ? '' : `RDP-Tcp#${id}`,
      state: g.state,
      user: g.user,
      domain: 'CORP',
      ...(g.locked === undefined ? {} : { locked: g.locked }),
      ...(g.idleMinutes === undefined ? {} : { lastInputTime: new Date(Date.now() - g.idleMinutes * MIN).toISOString() }),
    }));

const serverArb = (name: string, local: boolean): fc.Arbitrary<{ server: FarmServer; unknown: boolean }> =>
  fc
    .record({
      osVersion: fc.constantFrom(...VERSIONS),
      unknown: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
      ids: fc.uniqueArray(fc.integer({ min: 2, max: 40 }), { maxLength: 6 }),
    })
    .chain((g) =>
      fc.tuple(...g.ids.map((id) => sessionArb(id))).map((sessions) => {
        const server: FarmServer = {
          name,
          osVersion: g.osVersion,
          sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }, ...sessions],
          ...(local ? { consoleSessionId: 1 } : {}),
          ...(g.unknown ? { faults: { version: { '*': 5 } } } : {}),
        };
        return { server, unknown: g.unknown };
      }),
    );

export const lockWorldArb: fc.Arbitrary<LockWorld> = fc
  .tuple(serverArb('TS01', true), serverArb('WF12', false), serverArb('WF13', false))
  .map((servers) => ({
    farm: { localServer: 'TS01', servers: servers.map((s) => s.server) },
    versionUnknown: new Set(servers.filter((s) => s.unknown).map((s) => s.server.name)),
  }));

export type LockOp = 'listSessions' | 'logoffAll' | 'disconnectAll' | 'sendMessageAll';

export interface LockCase {
  readonly op: LockOp;
  readonly locked: boolean;
  readonly dryRun: boolean;
  /** One server, or all three (`servers`). */
  readonly servers: readonly string[] | undefined;
  readonly server: string | undefined;
  readonly extra: Record<string, unknown>;
}

export const lockCaseArb: fc.Arbitrary<LockCase> = fc.record({
  op: fc.constantFrom<LockOp>('listSessions', 'listSessions', 'logoffAll', 'disconnectAll', 'sendMessageAll'),
  locked: fc.boolean(),
  dryRun: fc.boolean(),
  servers: fc.option(fc.constant(SERVERS as readonly string[]), { nil: undefined }),
  server: fc.option(fc.constantFrom('WF12', 'WF13'), { nil: undefined }),
  extra: fc.oneof(
    fc.constant({}),
    fc.record({ state: fc.constantFrom('Active', 'Disconnected') }),
    fc.record({ idleLongerThan: fc.constantFrom('30m', '2h') }),
    fc.record({ user: fc.constantFrom('a*', 'bob', '*') }),
    fc.record({ state: fc.constant('Active'), idleLongerThan: fc.constant('1h') }),
  ),
});

/** A session's lock state as the library must report it: the truth, or null when it cannot know. */
export function expectedLocked(world: LockWorld, server: string, id: number): boolean | null | undefined {
  const def = world.farm.servers.find((s) => s.name.toLowerCase() === server.toLowerCase());
  const session = def?.sessions?.find((s) => s.id === id);
  if (!def || !session) return undefined;
  if (world.versionUnknown.has(def.name)) return null;
  return session.locked === undefined ? false : session.locked;
}

/** Runs one case; returns every violation found (none: the property holds). */
export async function checkLockCase(
  world: LockWorld,
  c: LockCase,
  api: WtsApi,
  actedOn: () => ReadonlyArray<{ server: string; sessionId: number }>,
): Promise<string[]> {
  const wts = createWts({ api });
  const where = c.servers ? { servers: c.servers } : c.server ? { server: c.server } : {};
  const serverOf = (s: { server: string }) => (s.server === '' ? 'TS01' : s.server);
  const violations: string[] = [];
  const check = (what: string, server: string, id: number) => {
    const truth = expectedLocked(world, server, id);
    if (truth !== c.locked) violations.push(`${what} ${server}:${id}, whose lock state is ${String(truth)}, with locked: ${c.locked}`);
  };
  const unwrap = <T>(r: readonly T[] | { results: readonly T[] }): readonly T[] => ('results' in r ? r.results : r);
  if (c.op === 'listSessions') {
    const listed = unwrap(await wts.listSessions({ ...c.extra, ...where, locked: c.locked, details: ['lock'] } as never)) as ReadonlyArray<{
      server: string;
      id: number;
      details: { locked?: boolean | null };
    }>;
    for (const s of listed) {
      check('listed', serverOf(s), s.id);
      if (s.details.locked !== expectedLocked(world, serverOf(s), s.id)) violations.push(`details.locked of ${serverOf(s)}:${s.id} is ${String(s.details.locked)}`);
    }
    // And without the filter, the detail reads every session's state right.
    const all = unwrap(await wts.listSessions({ ...where, details: ['lock'] } as never)) as ReadonlyArray<{ server: string; id: number; details: { locked?: boolean | null } }>;
    for (const s of all) {
      if (s.details.locked !== expectedLocked(world, serverOf(s), s.id)) violations.push(`details.locked of ${serverOf(s)}:${s.id} is ${String(s.details.locked)}`);
    }
  } else {
    const options = { ...c.extra, ...where, locked: c.locked, dryRun: c.dryRun, ...(c.op === 'sendMessageAll' ? { text: 'hello' } : { pollIntervalMs: 1 }) };
    const result = await (wts[c.op] as (o: unknown) => Promise<unknown>)(options);
    const outcomes = unwrap(result as never) as ReadonlyArray<{ status: string; session: { server: string; id: number } }>;
    for (const o of outcomes) {
      if (/^(would|loggedOff|disconnected|sent|requested|failed)/.test(o.status)) check(`${o.status}`, serverOf(o.session), o.session.id);
    }
  }
  for (const a of actedOn()) check('a request to', a.server, a.sessionId);
  return violations;
}
