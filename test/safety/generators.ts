/**
 * fast-check generators: random farms, random operations with concurrent changes, aborts and
 * timeouts at random points, and bad input.
 *
 * Changes pick their session abstractly (`pick`, taken modulo the eligible sessions at the moment
 * the change is applied), so a change is valid whatever happened before it and shrinks well.
 */
import fc from 'fast-check';
import type { Farm, FarmServer, FarmSession, MockApiName } from '../../src/mock';

/**
 * The local machine: a short NetBIOS name with its FQDN, or a DNS host name longer than NetBIOS's 15
 * characters (GetComputerNameW gives `RDSH-PRODUCTIO`). Its other names are the mock's aliases and, in
 * the double, GetComputerNameExW's DNS host name and FQDN.
 */
export const LOCAL_MACHINES = [
  { name: 'TS01', aliases: ['ts01.corp.example'] },
  { name: 'RDSH-PRODUCTIO', aliases: ['RDSH-PRODUCTION-01', 'rdsh-production-01.corp.example'] },
] as const;
export const LOCAL = LOCAL_MACHINES[0].name;
export const REMOTES = ['WF12', 'WF13', 'WF14'] as const;
/** A server the farm does not have: opening it works, every call on it fails with 1722. */
export const UNKNOWN_SERVER = 'WF99';

/**
 * User names: short, non-ASCII, exactly WTSINFOW's 20 characters, longer ones sharing their first
 * 20 characters, and one whose 20th/21st UTF-16 units are a surrogate pair (cut in half by WTSINFOW).
 */
export const USERS = [
  'alice',
  'bob',
  'carol',
  'Jürgen',
  'Zoë',
  '张伟',
  'svc-reporting-nightly-a',
  'svc-reporting-nightly-b',
  'svc-reporting-nightly',
  'exactly20characters_',
  'averyveryverylongusername01',
  'averyveryverylongusername02',
  'nineteen-characters😀x',
  'nineteen-characters😀y',
] as const;

/** Domains: short, non-ASCII, 16 characters (WTSINFOW's field) and longer ones sharing a prefix, none. */
export const DOMAINS = ['CORP', 'ÅLAND', 'ENGINEERING-EUROPE-1', 'ENGINEERING-EUROPE-2', 'SIXTEEN-CHARS-DO', ''] as const;

const userArb = fc.constantFrom(...USERS);
const domainArb = fc.constantFrom(...DOMAINS);
/** Logon times on whole minutes in November 2026. */
const logonArb = fc.integer({ min: 0, max: 2000 }).map((k) => new Date(Date.UTC(2026, 10, 20) + k * 60_000).toISOString());

type OrdinaryState = 'Active' | 'Disconnected' | 'Connected' | 'Idle';

interface OrdinaryGen {
  readonly state: OrdinaryState;
  readonly user: string;
  readonly domain: string;
  readonly logon: string;
  readonly withUser: boolean;
}

const ordinaryArb: fc.Arbitrary<OrdinaryGen> = fc.record({
  state: fc.constantFrom<OrdinaryState>('Active', 'Active', 'Disconnected', 'Disconnected', 'Connected', 'Idle'),
  user: userArb,
  domain: domainArb,
  logon: logonArb,
  withUser: fc.boolean(),
});

function ordinary(id: number, a: OrdinaryGen): FarmSession {
  // Active and Disconnected sessions have a user; Connected and Idle ones sometimes do not (a logon screen).
  const hasUser = a.state === 'Active' || a.state === 'Disconnected' || a.withUser;
  const name = a.state === 'Disconnected' ? '' : `RDP-Tcp#${id}`;
  return {
    id,
    name,
    state: a.state,
    ...(hasUser ? { user: a.user, domain: a.domain, logonTime: a.logon } : {}),
  };
}

function serverArb(name: string, isLocal: boolean, aliases: readonly string[] = []): fc.Arbitrary<FarmServer> {
  return fc
    .record({
      consoleSessionId: isLocal ? fc.constantFrom(1, 1, 2) : fc.constant(1),
      consoleUser: fc.option(fc.record({ user: userArb, domain: domainArb, logon: logonArb }), { nil: undefined }),
      listeners: fc.integer({ min: 0, max: 2 }),
      sessions: fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 30 }), ordinaryArb), { maxLength: 7, selector: ([id]) => id }),
      latencyMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
      unreachable: isLocal ? fc.constant(false) : fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
      currentPick: fc.nat(),
      currentKind: fc.constantFrom('absent', 'absent', 'services', 'console', 'ordinary', 'ordinary'),
    })
    .map((g): FarmServer => {
      const consoleId = g.consoleSessionId;
      const sessions: FarmSession[] = [
        { id: 0, name: 'Services', state: 'Disconnected' },
        g.consoleUser
          ? { id: consoleId, name: 'Console', state: 'Active', user: g.consoleUser.user, domain: g.consoleUser.domain, logonTime: g.consoleUser.logon }
          : { id: consoleId, name: 'Console', state: 'Connected' },
      ];
      for (const [id, a] of g.sessions) if (id !== consoleId) sessions.push(ordinary(id, a));
      for (let i = 0; i < g.listeners; i++) sessions.push({ id: 65536 + i, name: i === 0 ? 'RDP-Tcp' : 'ICA-TCP', state: 'Listen' });
      const server: FarmServer = { name, sessions };
      if (isLocal) {
        server.consoleSessionId = consoleId;
        server.aliases = [...aliases];
        const ordinaries = sessions.filter((s) => s.id !== 0 && s.id !== consoleId && s.state !== 'Listen');
        if (g.currentKind === 'services') server.currentSessionId = 0;
        else if (g.currentKind === 'console') server.currentSessionId = consoleId;
        else if (g.currentKind === 'ordinary' && ordinaries.length > 0) server.currentSessionId = (ordinaries[g.currentPick % ordinaries.length] as FarmSession).id;
      }
      if (g.latencyMs > 0) server.latencyMs = g.latencyMs;
      if (g.unreachable) server.unreachable = true;
      return server;
    });
}

export const farmArb: fc.Arbitrary<Farm> = fc
  .tuple(
    fc.constantFrom(...LOCAL_MACHINES).chain((m) => serverArb(m.name, true, m.aliases)),
    fc.subarray([...REMOTES]).chain((names) => fc.tuple(...names.map((n) => serverArb(n, false)))),
  )
  .map(([local, remotes]) => ({ localServer: local.name, servers: [local, ...remotes] }));

// ---- changes ------------------------------------------------------------------------------------

/** A Win32 code a fault injects: access denied, RPC server unavailable, session not found, close pending. */
export const FAULT_CODES = [5, 1722, 7022, 7007] as const;
export const FAULT_APIS: readonly MockApiName[] = ['enumerate', 'query', 'logoff', 'disconnect', 'message', 'open'];

export type Change =
  /** The session ends and its ID is taken by a new logon: same user or another, a new logon time —
   * or (sameLogonTime) another user whose long name shares the first 20 characters. */
  | {
      readonly kind: 'reuse';
      readonly server: number;
      readonly pick: number;
      readonly user: 'same' | 'other' | 'prefixTwin';
      readonly otherUser: number;
      /** Pick among the sessions of the plan being applied, or those with names that fill WTSINFOW, when there are any. */
      readonly prefer: 'any' | 'planned' | 'long' | 'plannedLong';
    }
  | { readonly kind: 'newSession'; readonly server: number; readonly user: number; readonly domain: number; readonly state: 'Active' | 'Disconnected' }
  | { readonly kind: 'disconnect'; readonly server: number; readonly pick: number }
  | { readonly kind: 'reconnect'; readonly server: number; readonly pick: number }
  | { readonly kind: 'end'; readonly server: number; readonly pick: number }
  | { readonly kind: 'fault'; readonly server: number; readonly api: MockApiName; readonly pick: number | '*'; readonly code: number }
  | { readonly kind: 'clearFaults'; readonly server: number };

const serverPick = fc.nat({ max: 3 });

const reuseArb = fc.record({
  kind: fc.constant('reuse' as const),
  server: serverPick,
  pick: fc.nat(),
  user: fc.constantFrom('same' as const, 'same' as const, 'other' as const, 'prefixTwin' as const, 'prefixTwin' as const),
  otherUser: fc.nat(),
  prefer: fc.constantFrom('any' as const, 'planned' as const, 'planned' as const, 'long' as const, 'plannedLong' as const),
});

export const changeArb: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: reuseArb },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('newSession' as const), server: serverPick, user: fc.nat(), domain: fc.nat(), state: fc.constantFrom('Active' as const, 'Disconnected' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), server: serverPick, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), server: serverPick, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('end' as const), server: serverPick, pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      server: serverPick,
      api: fc.constantFrom(...FAULT_APIS),
      pick: fc.oneof(fc.nat(), fc.constant('*' as const), fc.constant('*' as const)),
      code: fc.constantFrom(...FAULT_CODES),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clearFaults' as const), server: serverPick }) },
);

/**
 * A change made when the operation makes its `atCall`-th backend call (0-based) — or, with
 * `onAction`, its `atCall`-th logoff/disconnect/message request: right after a request was sent is
 * where the reporting promises are most at stake.
 */
export interface TimedChange {
  readonly atCall: number;
  readonly onAction?: boolean;
  readonly change: Change;
}

/** The N-th call of an operation: mostly among its first calls (where a single call acts), up to 40. */
const callIndexArb = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 8 }) }, { weight: 1, arbitrary: fc.nat({ max: 40 }) });

const timedChangeArb: fc.Arbitrary<TimedChange> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ atCall: callIndexArb, change: changeArb }) },
  { weight: 1, arbitrary: fc.record({ atCall: fc.nat({ max: 3 }), onAction: fc.constant(true), change: changeArb }) },
);

/** When the caller aborts: before the call, at the N-th backend call (in the next turn), or after N ms. */
export type AbortSpec = { readonly kind: 'none' } | { readonly kind: 'before' } | { readonly kind: 'atCall'; readonly n: number } | { readonly kind: 'afterMs'; readonly ms: number };

const abortArb: fc.Arbitrary<AbortSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'before' } as const) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('atCall' as const), n: callIndexArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('afterMs' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

// ---- operations ---------------------------------------------------------------------------------

/** Every name the local server answers to (each must be recognised as the local server). */
export function localNames(name: string, aliases: readonly string[]): string[] {
  return [name, name.toLowerCase(), `\\\\${name}`, 'localhost', '127.0.0.1', '.', '::1', ...aliases];
}

export type ServerSpec = { readonly kind: 'default' } | { readonly kind: 'local'; readonly pick: number } | { readonly kind: 'remote'; readonly pick: number };

const serverSpecArb: fc.Arbitrary<ServerSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'default' } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('local' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remote' as const), pick: fc.nat() }) },
);

/** `servers: [...]`: picks among the farm's servers, local names, and an unknown server. */
export type ServersSpec = readonly ({ readonly kind: 'local'; readonly pick: number } | { readonly kind: 'remote'; readonly pick: number } | { readonly kind: 'unknown' })[];

const serversSpecArb: fc.Arbitrary<ServersSpec> = fc.array(
  fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('local' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remote' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'unknown' } as const) },
  ),
  { minLength: 1, maxLength: 4 },
);

/** What a single-session call targets. */
export type TargetSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'own' }
  | { readonly kind: 'console' }
  | { readonly kind: 'services' }
  | { readonly kind: 'listener' }
  | { readonly kind: 'session'; readonly pick: number; readonly byName: boolean }
  | { readonly kind: 'missing' };

const targetArb: fc.Arbitrary<TargetSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'own' } as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'console' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'services' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'listener' } as const) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('session' as const), pick: fc.nat(), byName: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing' } as const) },
);

export type BulkKind = 'logoffAll' | 'disconnectAll' | 'sendMessageAll';
export type SingleKind = 'logoff' | 'disconnect' | 'sendMessage';

export interface FilterSpec {
  readonly state?: 'Active' | 'Disconnected';
  readonly user?: string;
}

const filterArb: fc.Arbitrary<FilterSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.record({ state: fc.constantFrom('Active' as const, 'Disconnected' as const) }) },
  { weight: 1, arbitrary: fc.record({ user: fc.constantFrom('svc-*', 'bob', '*', 'a*', 'CORP\\*') }) },
);

export interface SingleStep {
  readonly kind: 'single';
  readonly op: SingleKind;
  readonly target: TargetSpec;
  readonly server: ServerSpec;
  /** Through `wts.openServer(name)` (a WtsServer, closed after the call) rather than `server`. */
  readonly viaObject: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly abort: AbortSpec;
  readonly during: readonly TimedChange[];
}

export interface BulkStep {
  readonly kind: 'bulk';
  readonly op: BulkKind;
  /** One server (`server`, or none: the local one) or `servers: [...]`. */
  readonly where:
    | { readonly kind: 'one'; readonly server: ServerSpec; readonly viaObject: boolean }
    | { readonly kind: 'many'; readonly servers: ServersSpec; readonly serverConcurrency: number | undefined };
  readonly filter: FilterSpec;
  /** logoffAll only: warn first, with this grace period (seconds). */
  readonly warnGrace: number | undefined;
  readonly concurrency: number;
  readonly wait: boolean;
  readonly timeoutMs: number;
  /** `servers: [...]` only. */
  readonly serverTimeoutMs: number | undefined;
  /** A dry run first, changes, then the plan applied in one of the forms a program may pass it. */
  readonly plan: { readonly form: 'result' | 'outcomes' | 'json'; readonly dryRunDuring: readonly TimedChange[]; readonly between: readonly Change[] } | undefined;
  readonly abort: AbortSpec;
  readonly during: readonly TimedChange[];
}

export interface ChangeStep {
  readonly kind: 'changes';
  readonly changes: readonly Change[];
}

export type Step = SingleStep | BulkStep | ChangeStep;

const duringArb = fc.array(
  fc.oneof({ weight: 3, arbitrary: timedChangeArb }, { weight: 1, arbitrary: fc.record({ atCall: callIndexArb, change: reuseArb }) }),
  { maxLength: 4 },
);

const singleStepArb: fc.Arbitrary<SingleStep> = fc
  .record({
    op: fc.constantFrom<SingleKind>('logoff', 'logoff', 'disconnect', 'sendMessage'),
    target: targetArb,
    server: serverSpecArb,
    viaObject: fc.boolean(),
    wait: fc.boolean(),
    timeoutMs: fc.integer({ min: 5, max: 120 }),
    abort: abortArb,
    during: duringArb,
  })
  // No target means your own session, which only exists without a server option (or object).
  .map((s) => ({
    kind: 'single' as const,
    ...s,
    server: s.target.kind === 'none' ? ({ kind: 'default' } as const) : s.server,
    viaObject: s.viaObject && s.target.kind !== 'none' && s.server.kind !== 'default',
  }));

const bulkStepArb: fc.Arbitrary<BulkStep> = fc
  .record({
    op: fc.constantFrom<BulkKind>('logoffAll', 'logoffAll', 'disconnectAll', 'sendMessageAll'),
    where: fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({ kind: fc.constant('one' as const), server: serverSpecArb, viaObject: fc.boolean() })
          .map((w) => ({ ...w, viaObject: w.viaObject && w.server.kind !== 'default' })),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('many' as const),
          servers: serversSpecArb,
          serverConcurrency: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
        }),
      },
    ),
    filter: filterArb,
    warn: fc.option(fc.integer({ min: 1, max: 15 }).map((ms) => ms / 1000), { nil: undefined }),
    concurrency: fc.integer({ min: 1, max: 4 }),
    wait: fc.boolean(),
    timeoutMs: fc.integer({ min: 5, max: 120 }),
    serverTimeoutMs: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined, freq: 2 }),
    plan: fc.option(
      fc.record({
        form: fc.constantFrom('result' as const, 'outcomes' as const, 'json' as const),
        dryRunDuring: fc.array(timedChangeArb, { maxLength: 2 }),
        // Mostly ID reuse: what a plan must survive.
        between: fc.array(fc.oneof({ weight: 2, arbitrary: reuseArb }, { weight: 1, arbitrary: changeArb }), { minLength: 1, maxLength: 4 }),
      }),
      { nil: undefined, freq: 3 },
    ),
    abort: abortArb,
    during: duringArb,
  })
  .map(({ warn, ...s }) => ({
    kind: 'bulk' as const,
    ...s,
    warnGrace: s.op === 'logoffAll' ? warn : undefined,
    serverTimeoutMs: s.where.kind === 'many' ? s.serverTimeoutMs : undefined,
  }));

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: singleStepArb },
  { weight: 5, arbitrary: bulkStepArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('changes' as const), changes: fc.array(changeArb, { minLength: 1, maxLength: 4 }) }) },
);

export interface Scenario {
  readonly farm: Farm;
  /** How many polls still see a logged-off session before it is gone (MockApiOptions.closingPolls). */
  readonly closingPolls: number;
  readonly steps: readonly Step[];
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  farm: farmArb,
  closingPolls: fc.constantFrom(1, 1, 0, 3),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
});

// ---- bad input ----------------------------------------------------------------------------------

export type ApiFunction =
  | 'logoff'
  | 'disconnect'
  | 'sendMessage'
  | 'findSession'
  | 'logoffAll'
  | 'disconnectAll'
  | 'sendMessageAll'
  | 'listSessions'
  | 'listProcesses';

/** A call that must be refused before any backend call: the function, its arguments, and why. */
export interface BadCall {
  readonly fn: ApiFunction;
  readonly args: readonly unknown[];
  readonly why: string;
  /** The options are a getter or proxy trap: the test must not read them to add valid extras. */
  readonly opaque?: boolean;
}

function throwingGetter(key: string, base: Record<string, unknown>): Record<string, unknown> {
  const o = { ...base };
  Object.defineProperty(o, key, {
    enumerable: true,
    get() {
      throw new Error(`getter ${key} throws`);
    },
  });
  return o;
}

/** A hand-made plan entry (the shape a dry run returns). */
export function planEntry(status: string, over: { server?: string; id?: number; identityId?: number; state?: string; logonTime?: unknown; identity?: boolean } = {}): Record<string, unknown> {
  const id = over.id ?? 3;
  return {
    status,
    session: { id, name: '', state: over.state ?? 'Disconnected', userName: 'bob', domain: 'CORP', server: over.server ?? '', isConsole: false, isCurrent: false },
    ...(over.identity === false
      ? {}
      : { identity: { sessionId: over.identityId ?? id, name: '', userName: 'bob', domain: 'CORP', logonTime: over.logonTime ?? '2026-11-21T08:00:00.000Z' } }),
    requests: [],
  };
}

const WOULD: Readonly<Record<'logoffAll' | 'disconnectAll' | 'sendMessageAll', string>> = {
  logoffAll: 'wouldLogOff',
  disconnectAll: 'wouldDisconnect',
  sendMessageAll: 'wouldSend',
};

const badTargets: readonly [unknown, string][] = [
  [-1, 'a negative ID'],
  [1.5, 'a fractional ID'],
  [Number.NaN, 'NaN'],
  [Number.POSITIVE_INFINITY, 'Infinity'],
  [0xffffffff, 'WTS_CURRENT_SESSION'],
  [0xfffffffe, 'WTS_ANY_SESSION'],
  [2 ** 32, 'an ID above 32 bits'],
  ['', 'an empty name'],
  ['   ', 'a blank name'],
  ['-3', 'a signed ID text'],
  ['+3', 'a signed ID text'],
  ['0x10', 'a hexadecimal ID text'],
  ['4294967295', 'WTS_CURRENT_SESSION as text'],
  ['4294967296', 'an ID text above 32 bits'],
  ['a b', 'a name with a space'],
  ['x'.repeat(33), 'a name longer than WINSTATIONNAME_LENGTH'],
  ['😀', 'a name that starts with neither a letter nor holds #'],
  [{}, 'an object'],
  [[], 'an array'],
  [null, 'null'],
  [true, 'a boolean'],
];

const badServerNames: readonly [unknown, string][] = [
  ['', 'empty'],
  ['   ', 'blank'],
  ['\\\\', 'only the \\\\ prefix'],
  ['bad name!', 'punctuation'],
  ['a..b', 'an empty DNS label'],
  ['-x', 'a label starting with -'],
  ['x'.repeat(254), 'too long'],
  [5, 'a number'],
  [null, 'null'],
];

/** Bad values of options every call of a kind shares: [options fragment, why]. */
function commonBadOptions(kind: 'single' | 'bulk' | 'list'): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = [
    [{ bogus: 1 }, 'an unknown option'],
    [{ Server: 'TS01' }, 'an option name in the wrong case'],
  ];
  for (const [name, why] of badServerNames) out.push([{ server: name }, `options.server ${why}`]);
  if (kind !== 'list') {
    out.push(
      [{ signal: {} }, 'a signal that is not an AbortSignal'],
      [{ signal: 'abort' }, 'a signal that is a string'],
    );
  }
  if (kind === 'single' || kind === 'bulk') {
    out.push(
      [{ wait: 'yes' }, 'wait not a boolean'],
      [{ timeoutMs: -1 }, 'a negative timeoutMs'],
      [{ timeoutMs: Number.NaN }, 'timeoutMs NaN'],
      [{ timeoutMs: 2 ** 31 }, 'timeoutMs above 2^31-1'],
      [{ timeoutMs: '5' }, 'timeoutMs a string'],
      [{ pollIntervalMs: -5 }, 'a negative pollIntervalMs'],
    );
  }
  if (kind === 'bulk' || kind === 'list') {
    out.push(
      [{ state: 'Bogus' }, 'an unknown state'],
      [{ user: '' }, 'an empty user pattern'],
      [{ user: '   ' }, 'a blank user pattern'],
      [{ user: 5 }, 'a user pattern that is a number'],
      [{ idleLongerThan: 'soon' }, 'a duration that is not one'],
      [{ concurrency: 0 }, 'concurrency 0'],
      [{ concurrency: 1.5 }, 'a fractional concurrency'],
      [{ concurrency: 5000 }, 'a huge concurrency'],
      [{ servers: [] }, 'an empty server list'],
      [{ servers: [''] }, 'a server list of one empty name'],
      [{ servers: [' ', '  '] }, 'a server list of blank names'],
      [{ servers: 'TS01' }, 'servers a string'],
      [{ servers: [5] }, 'a server list holding a number'],
      [{ servers: ['WF12', ''] }, 'a server list holding an empty name'],
      [{ servers: ['WF12', 'bad name!'] }, 'a server list holding a bad name'],
      [{ servers: ['WF12'], server: 'WF12' }, 'server and servers together'],
      [{ servers: ['WF12', 'TS01'], serverConcurrency: 0 }, 'serverConcurrency 0'],
      [{ servers: ['WF12', 'TS01'], serverTimeoutMs: -1 }, 'a negative serverTimeoutMs'],
      [{ servers: ['WF12', 'TS01'], onEvent: 5 }, 'onEvent not a function'],
    );
  }
  if (kind === 'bulk') out.push([{ dryRun: 'true' }, 'dryRun a string']);
  return out;
}

function bulkBadOptions(fn: 'logoffAll' | 'disconnectAll' | 'sendMessageAll'): [Record<string, unknown>, string][] {
  const would = WOULD[fn];
  const other = fn === 'logoffAll' ? 'wouldDisconnect' : 'wouldLogOff';
  const out = commonBadOptions('bulk');
  out.push(
    [{ plan: 'everything' }, 'a plan that is a string'],
    [{ plan: 5 }, 'a plan that is a number'],
    [{ plan: null }, 'a null plan'],
    [{ plan: { results: 'x' } }, 'a plan whose results are not a list'],
    [{ plan: [planEntry(other)] }, 'a plan of another operation'],
    [{ plan: [planEntry(would)], dryRun: true }, 'a plan and dryRun together'],
    [{ plan: [planEntry(would, { identity: false })] }, 'a plan without identities'],
    [{ plan: [planEntry(would, { identityId: 4 })] }, "a plan whose identity is another session's"],
    [{ plan: [planEntry(would, { state: 'Bogus' })] }, 'a plan with an unknown state'],
    [{ plan: [planEntry(would, { server: 'bad name!' })] }, 'a plan with a bad server name'],
    [{ plan: [planEntry(would, { logonTime: 'not a date' })] }, 'a plan with a bad logon time'],
    [{ plan: [planEntry(would, { id: -1 })] }, 'a plan with a negative session ID'],
    [{ plan: [planEntry(would), planEntry(would)] }, 'a plan that names a session twice'],
    [{ plan: [planEntry(would, { server: 'WF12' })] }, 'a plan for a server the call does not work on'],
    [{ plan: [planEntry(would, { server: 'WF13' })], servers: ['TS01', 'WF12'] }, 'a plan for a server a farm call does not work on'],
    [{ plan: [planEntry(other)], servers: ['TS01', 'WF12'] }, 'a plan of another operation, on many servers'],
    [{ plan: [planEntry(would)], dryRun: true, servers: ['WF12', 'localhost'] }, 'a plan and dryRun together, on many servers'],
  );
  if (fn === 'logoffAll') {
    out.push(
      [{ warn: 5 }, 'warn not an object'],
      [{ warn: {} }, 'warn without text'],
      [{ warn: { text: '' } }, 'warn with empty text'],
      [{ warn: { text: 'bye', graceSeconds: -1 } }, 'a negative grace period'],
      [{ warn: { text: 'bye', graceSeconds: 'soon' } }, 'a grace period that is a string'],
      [{ warn: { text: 'bye', graceSeconds: 100_000 } }, 'a grace period over a day'],
      [{ warn: { text: 'bye', bogus: 1 } }, 'an unknown warn option'],
    );
  } else {
    out.push([{ warn: { text: 'bye' } }, `warn on ${fn}`]);
  }
  return out;
}

function messageBadOptions(): [Record<string, unknown>, string][] {
  return [
    [{ text: undefined }, 'no text'],
    [{ text: '' }, 'empty text'],
    [{ text: '   ' }, 'blank text'],
    [{ text: 5 }, 'text a number'],
    [{ text: 'x'.repeat(8001) }, 'text over 8000 characters'],
    [{ title: '' }, 'an empty title'],
    [{ buttons: 'Bogus' }, 'unknown buttons'],
    [{ timeoutSeconds: 1.5 }, 'fractional timeoutSeconds'],
    [{ timeoutSeconds: -1 }, 'negative timeoutSeconds'],
    [{ wait: 'yes' }, 'wait not a boolean'],
  ];
}

const notAnObject: readonly [unknown, string][] = [
  [5, 'options a number'],
  ['x', 'options a string'],
  [[], 'options an array'],
  [true, 'options a boolean'],
  [null, 'options null'],
];

function badCallsOf(fn: ApiFunction): BadCall[] {
  const calls: BadCall[] = [];
  const single = fn === 'logoff' || fn === 'disconnect' || fn === 'sendMessage' || fn === 'findSession';
  const message = fn === 'sendMessage' || fn === 'sendMessageAll';
  const base: Record<string, unknown> = message ? { text: 'hello' } : fn === 'logoff' || fn === 'disconnect' || fn === 'logoffAll' || fn === 'disconnectAll' ? { pollIntervalMs: 1 } : {};
  const withOptions = (options: unknown, why: string, opaque = false) => calls.push({ fn, args: single ? [3, options] : [options], why, ...(opaque ? { opaque } : {}) });
  if (single) {
    for (const [target, why] of badTargets) calls.push({ fn, args: [target, base], why: `target: ${why}` });
    if (fn !== 'findSession') calls.push({ fn, args: [undefined, { ...base, server: 'TS01' }], why: 'no target together with a server' });
  }
  for (const [options, why] of notAnObject) {
    // sendMessage needs its options; the others take undefined, so only non-objects are bad.
    withOptions(options, why);
  }
  let fragments: [Record<string, unknown>, string][];
  if (fn === 'logoffAll' || fn === 'disconnectAll' || fn === 'sendMessageAll') fragments = bulkBadOptions(fn);
  else if (fn === 'listSessions' || fn === 'listProcesses') fragments = commonBadOptions('list').filter(([o]) => fn === 'listSessions' || !('state' in o || 'user' in o || 'idleLongerThan' in o || 'concurrency' in o));
  else if (fn === 'findSession') fragments = commonBadOptions('list').filter(([o]) => 'server' in o || 'bogus' in o || 'Server' in o);
  else fragments = commonBadOptions('single');
  if (message) fragments = [...fragments, ...messageBadOptions()];
  if (fn === 'findSession' || fn === 'listProcesses') fragments = fragments.filter(([o]) => !('servers' in o) || fn === 'listProcesses');
  for (const [fragment, why] of fragments) {
    const options: Record<string, unknown> = { ...base, ...fragment };
    for (const [k, v] of Object.entries(fragment)) if (v === undefined) delete options[k];
    withOptions(options, why);
  }
  const getterKey = fn === 'findSession' || fn === 'listProcesses' ? 'server' : message ? 'text' : fn === 'listSessions' ? 'state' : 'wait';
  withOptions(throwingGetter(getterKey, base), `an options getter (${getterKey}) that throws`, true);
  withOptions(
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('ownKeys throws');
        },
      },
    ),
    'an options proxy whose ownKeys throws',
    true,
  );
  return calls;
}

export const ALL_FUNCTIONS: readonly ApiFunction[] = [
  'logoff',
  'disconnect',
  'sendMessage',
  'findSession',
  'logoffAll',
  'disconnectAll',
  'sendMessageAll',
  'listSessions',
  'listProcesses',
];

/** Every bad call of every function, one invalid thing each (the rest is valid). */
export const BAD_CALLS: readonly BadCall[] = ALL_FUNCTIONS.flatMap(badCallsOf);

/** Valid options a bad call may also carry (never a server choice that could make a bad plan valid). */
const EXTRAS: Readonly<Record<'single' | 'bulk' | 'list', readonly Record<string, unknown>[]>> = {
  single: [{}, { server: 'WF12' }, { server: 'localhost' }, { wait: false }],
  bulk: [{}, { servers: ['TS01', 'WF12'] }, { servers: ['WF12', 'localhost', 'WF13'] }, { server: 'WF12' }, { concurrency: 2 }, { state: 'Active' }],
  list: [{}, { servers: ['TS01', 'WF12'] }, { server: 'WF12' }],
};

function kindOf(fn: ApiFunction): 'single' | 'bulk' | 'list' {
  if (fn === 'logoffAll' || fn === 'disconnectAll' || fn === 'sendMessageAll') return 'bulk';
  if (fn === 'listSessions' || fn === 'listProcesses' || fn === 'findSession') return 'list';
  return 'single';
}

/** A bad call, with valid extra options around its one invalid thing where that cannot make it valid. */
export const badCallArb: fc.Arbitrary<BadCall> = fc.tuple(fc.constantFrom(...BAD_CALLS), fc.nat()).map(([bad, n]) => {
  const index = bad.args.length - 1;
  const options = bad.args[index];
  if (bad.opaque || options === null || typeof options !== 'object' || Array.isArray(options)) return bad;
  const keys = Object.keys(options);
  const choices = EXTRAS[kindOf(bad.fn)].filter((extra) => {
    const touchesServer = 'server' in extra || 'servers' in extra;
    if (touchesServer && (keys.some((k) => ['plan', 'server', 'servers', 'Server'].includes(k)) || bad.args[0] === undefined || bad.fn === 'findSession')) return false;
    return Object.keys(extra).every((k) => !keys.includes(k));
  });
  const extra = choices[n % choices.length] ?? {};
  if (Object.keys(extra).length === 0) return bad;
  const args = [...bad.args];
  args[index] = { ...(options as Record<string, unknown>), ...extra };
  return { ...bad, args, why: `${bad.why} (with ${JSON.stringify(extra)})` };
});
