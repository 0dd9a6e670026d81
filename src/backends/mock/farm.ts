/**
 * The farm description: the JSON shape that `createMockApi(farm)` takes and that simulated mode
 * (`WTS_SESSION_SIMULATE=farm.json`) reads and writes back.
 */
import { InvalidArgumentError } from '../../errors';
import { SESSION_STATES, type SessionState } from '../../api/types';
import { isAlwaysLocalName, normalizeServerName, serverNameKey } from '../../api/validate';
import { isSidString } from '../../sid';
import type { WtsAccount } from '../../wtsapi';

/**
 * The mock's names for its calls (`MockCall.api`, `faults`): WTSOpenServerExW is `open`,
 * WTSEnumerateSessionsExW `enumerate`, WTSEnumerateProcessesW `processes` (a fault on it fails
 * WTSEnumerateProcessesExW too), WTSEnumerateProcessesExW `processesEx` (a fault there fails that
 * call only: `{ processesEx: { '*': 120 } }` is a server without level 1), advapi32
 * LookupAccountSidW `lookup`, WTSTerminateProcess `terminate` (a fault there is keyed by the process ID),
 * and so on.
 */
export type MockApiName = 'open' | 'enumerate' | 'query' | 'logoff' | 'disconnect' | 'message' | 'processes' | 'processesEx' | 'lookup' | 'terminate';
/** Every {@link MockApiName}. */
export const MOCK_API_NAMES: readonly MockApiName[] = ['open', 'enumerate', 'query', 'logoff', 'disconnect', 'message', 'processes', 'processesEx', 'lookup', 'terminate'];
/**
 * The calls a fault can target: every MockApiName, `wait` (WTSWaitSystemEvent) and `version`
 * (netapi32 NetServerGetInfo: the server's version, for the lock state), which are optional in a
 * backend, so kept out of MockApiName, which every backend's tests map.
 */
export type MockFaultTarget = MockApiName | 'wait' | 'version';
export const MOCK_FAULT_TARGETS: readonly MockFaultTarget[] = [...MOCK_API_NAMES, 'wait', 'version'];

/**
 * A server's injected failures: call ({@link MockFaultTarget}) -> session ID (as a string) or
 * `'*'` (any) -> the non-zero Win32 error code the call fails with (for `wait`, 0 too: Wine's stub). For example
 * `{ logoff: { '3': 5 } }`: logging off session 3 fails with ERROR_ACCESS_DENIED.
 */
export type FarmFaults = Partial<Record<MockFaultTarget, Record<string, number>>>;

/**
 * One session of a {@link FarmServer}. Only `id` and `state` are required; the rest default to
 * empty or absent.
 */
export interface FarmSession {
  /** The session ID: 0 to 4294967293, unique on its server (65536 and above: a listener). */
  id: number;
  /**
   * The WinStation name (`Console`, `RDP-Tcp#0`, `Services`).
   * @defaultValue ''
   */
  name?: string;
  /**
   * The connection state: one of the ten {@link SessionState} names. (`query session`'s short
   * labels such as `'Disc'` are filter values, not farm states: a farm with one is refused.)
   */
  state: SessionState;
  /**
   * The user logged on to it.
   * @defaultValue '' (nobody)
   */
  user?: string;
  /**
   * The user's domain.
   * @defaultValue ''
   */
  domain?: string;
  /**
   * The client computer's name (WTSClientName). A session with one is remote: WTSClientProtocolType
   * answers 2 (RDP), else 0 (the console).
   * @defaultValue ''
   */
  clientName?: string;
  /**
   * The client's IPv4 or IPv6 address, as text.
   * @defaultValue '' (no client)
   */
  clientAddress?: string;
  /**
   * Mock bookkeeping, written by the mock: the session was logged off and is closing; the number
   * of further polls (queries / enumerations) that will still see it.
   */
  closing?: number;
  /**
   * What WTSSendMessageW answers for this session when it waits.
   * @defaultValue 1 (IDOK)
   */
  messageResponse?: number;
  /** The session's processes, for WTSEnumerateProcessesW and WTSEnumerateProcessesExW. */
  processes?: FarmProcess[];
  /** WTSINFOW's LogonTime, ISO 8601 (e.g. `"2026-11-21T08:00:00Z"`); absent = never (FILETIME 0). */
  logonTime?: string;
  /** WTSINFOW's ConnectTime, ISO 8601; absent = never. */
  connectTime?: string;
  /** WTSINFOW's DisconnectTime, ISO 8601; absent = never. */
  disconnectTime?: string;
  /** WTSINFOW's LastInputTime, ISO 8601; absent = none. */
  lastInputTime?: string;
  /**
   * Whether the session is locked: WTSINFOEX_LEVEL1_W's SessionFlags WTS_SESSIONSTATE_LOCK (true),
   * WTS_SESSIONSTATE_UNLOCK (false), or WTS_SESSIONSTATE_UNKNOWN (null). This is the truth: on a
   * server whose `osVersion` is `'6.1'` (Windows 7 / Server 2008 R2) the mock reports the flag
   * swapped, as those versions do (Learn), and the library swaps it back.
   * @defaultValue false (unlocked)
   */
  locked?: boolean | null;
}

/**
 * A process of a {@link FarmSession}, for WTSEnumerateProcessesW and WTSEnumerateProcessesExW.
 * Only `pid` and `name` are required.
 */
export interface FarmProcess {
  /** Its process ID. */
  pid: number;
  /** Its executable's name (non-empty). */
  name: string;
  /**
   * Its owner (the user of its access token, pUserSid): `'CORP\\alice'`, a bare name (`'alice'`:
   * in the session's domain; `'SYSTEM'`, `'LOCAL SERVICE'`, `'NETWORK SERVICE'`: those accounts), or
   * a SID (`'S-1-5-21-...'`, resolved through {@link Farm.accounts}, else unresolvable); null: no
   * SID at all (pUserSid NULL, a process the caller may not open).
   * @defaultValue the session's user (domain and name); SYSTEM (S-1-5-18) in session 0 and in a
   *   session without a user
   */
  user?: string | null;
  /**
   * NumberOfThreads (WTSEnumerateProcessesExW).
   * @defaultValue 0
   */
  threads?: number;
  /**
   * HandleCount.
   * @defaultValue 0
   */
  handleCount?: number;
  /**
   * WorkingSetSize, in bytes.
   * @defaultValue 0
   */
  workingSetSize?: number;
  /**
   * PeakWorkingSetSize, in bytes.
   * @defaultValue 0
   */
  peakWorkingSetSize?: number;
  /**
   * PagefileUsage, in bytes.
   * @defaultValue 0
   */
  pagefileUsage?: number;
  /**
   * PeakPagefileUsage, in bytes.
   * @defaultValue 0
   */
  peakPagefileUsage?: number;
  /**
   * UserTime: CPU time in user mode, in milliseconds (Learn's unit).
   * @defaultValue 0
   */
  userTime?: number;
  /**
   * KernelTime: CPU time in kernel mode, in milliseconds.
   * @defaultValue 0
   */
  kernelTime?: number;
}

/** A {@link FarmProcess}'s counters, in the order WTS_PROCESS_INFO_EXW has them. */
export const FARM_PROCESS_COUNTERS = [
  'threads', 'handleCount', 'pagefileUsage', 'peakPagefileUsage', 'workingSetSize', 'peakWorkingSetSize', 'userTime', 'kernelTime',
] as const;

/** One server of a {@link Farm}. */
export interface FarmServer {
  /** The server's name (unique in the farm, without case). */
  name: string;
  /**
   * The server's other names and IP addresses (`RDSH-PRODUCTION-01`, `rdsh-production-01.corp.example`,
   * `10.0.0.5`): openServer under any of them opens this server. For the farm's local server they
   * are what getLocalServerNames returns (the DNS host name, FQDN and addresses Windows would give),
   * so the api layer treats them as the local machine. A name belongs to one server only.
   */
  aliases?: string[];
  /**
   * What WTSGetActiveConsoleSessionId returns when this is the local server.
   * @defaultValue the session named Console, else none (0xFFFFFFFF)
   */
  consoleSessionId?: number;
  /**
   * The caller's session (ProcessIdToSessionId) when this is the local server.
   * @defaultValue none: the caller is in no session of it (getCurrentSessionId returns
   * 0xFFFFFFFF, and WTS_CURRENT_SESSION finds no session)
   */
  currentSessionId?: number;
  /**
   * Delay added to every call on this server, in ms (a real timer: the event loop keeps turning).
   * @defaultValue 0
   */
  latencyMs?: number;
  /**
   * Every call on this server fails with 1722 (RPC server unavailable); opening it still succeeds,
   * as in Win32.
   * @defaultValue false
   */
  unreachable?: boolean;
  /**
   * Its sessions.
   * @defaultValue none
   */
  sessions?: FarmSession[];
  /**
   * Injected failures.
   * @defaultValue none
   */
  faults?: FarmFaults;
  /**
   * The server's Windows version, `'major.minor'`, as NetServerGetInfo reports it (SERVER_INFO_101):
   * `'10.0'` (Windows 10 / 11, Server 2016 and later), `'6.3'`, `'6.2'`, `'6.1'` (Windows 7 / Server
   * 2008 R2, which report the lock flags swapped), ... The major version is 0 to 15 (the four bits
   * SERVER_INFO_101 keeps it in). To make the version unknown, inject a `version` fault.
   * @defaultValue '10.0'
   */
  osVersion?: string;
}

/**
 * A farm description: the servers the mock simulates, and which one the caller runs on. What
 * {@link createMockApi} takes, and the JSON of a simulated farm file (`WTS_SESSION_SIMULATE`;
 * JSON Schema: `wts-session/farm.schema.json`). Parsed JSON is `unknown`: check it with
 * {@link parseFarm} first (a farm file may also carry `$schema` and `comment`).
 *
 * @example
 * ```ts
 * const farm: Farm = {
 *   localServer: 'TS01',
 *   servers: [{ name: 'TS01', currentSessionId: 2, sessions: [
 *     { id: 1, name: 'Console', state: 'Active', user: 'admin' },
 *     { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me' },
 *     { id: 3, state: 'Disconnected', user: 'bob' },
 *   ] }],
 * };
 * ```
 */
export interface Farm {
  /** The machine the caller runs on (no server option means this one): one of `servers`. */
  localServer: string;
  /** The servers. */
  servers: FarmServer[];
  /**
   * Accounts with a SID of your choosing: SID -> `'DOMAIN\\name'` (or a bare `'name'`, domain
   * `''`), for LookupAccountSidW on every server. Not needed for the usual case: every user the farm
   * names (a session's user and domain, a process's `user`) gets a SID made from its name, and
   * SYSTEM, LOCAL SERVICE and NETWORK SERVICE have their well-known ones (S-1-5-18, -19, -20).
   * A SID no account has (a process `user: 'S-1-5-21-...'` not listed here) maps to none.
   * @defaultValue none
   */
  accounts?: Record<string, string>;
}

const TIME_FIELDS = ['logonTime', 'connectTime', 'disconnectTime', 'lastInputTime'] as const;

/**
 * Checks a farm description of unknown shape (parsed JSON, a farm file's content) and returns it
 * as a {@link Farm}: a deep copy, with top-level fields it does not use (`$schema`, `comment`)
 * left out. {@link createMockApi} checks its argument the same way.
 *
 * @param input - the farm, as parsed from JSON.
 * @param source - how error messages name the farm's root (`'farm'` when not given).
 * @returns the checked farm.
 * @throws `InvalidArgumentError` naming the JSON path of the first problem
 *   (`Invalid farm description at farm.servers[0].sessions[2].state: ...`): a wrong type, an
 *   unknown field inside a server or session, a duplicate server name, alias or session ID, a
 *   `localServer` that is not one of the servers.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { createMockApi, parseFarm } from 'wts-session/mock';
 *
 * const mock = createMockApi(parseFarm(JSON.parse(readFileSync('farm.json', 'utf8'))));
 * ```
 */
export function parseFarm(input: unknown, source = 'farm'): Farm {
  const obj = record(input, source);
  const localServer = str(obj['localServer'], `${source}.localServer`, false);
  const serversIn = obj['servers'];
  if (!Array.isArray(serversIn)) fail(`${source}.servers`, 'expected an array of servers');
  const servers = serversIn.map((s, i) => parseServer(s, `${source}.servers[${i}]`));
  const names = new Set<string>();
  for (const [i, s] of servers.entries()) {
    const key = s.name.toLowerCase();
    if (names.has(key)) fail(`${source}.servers[${i}].name`, `duplicate server name '${s.name}'`);
    names.add(key);
  }
  if (!names.has(localServer.toLowerCase())) {
    fail(`${source}.localServer`, `'${localServer}' is not one of the servers`);
  }
  const accounts = obj['accounts'] === undefined ? undefined : parseAccounts(obj['accounts'], `${source}.accounts`);
  // Every name (a server's own or an alias) names one server only.
  const owners = new Map<string, string>();
  for (const s of servers) owners.set(serverNameKey(s.name), s.name);
  for (const [i, s] of servers.entries()) {
    for (const [j, alias] of (s.aliases ?? []).entries()) {
      const path = `${source}.servers[${i}].aliases[${j}]`;
      const owner = owners.get(serverNameKey(alias));
      if (owner !== undefined && owner !== s.name) fail(path, `'${alias}' is already a name of server '${owner}'`);
      if (isAlwaysLocalName(alias) && s.name.toLowerCase() !== localServer.toLowerCase()) {
        fail(path, `'${alias}' always names the local server ('${localServer}')`);
      }
      owners.set(serverNameKey(alias), s.name);
    }
  }
  return { localServer, servers, ...(accounts ? { accounts } : {}) };
}

/** An account as the farm writes it: `DOMAIN\name` or `name` (domain ''). */
function splitAccount(text: string): { domain: string; name: string } {
  const at = text.indexOf('\\');
  return at < 0 ? { domain: '', name: text } : { domain: text.slice(0, at), name: text.slice(at + 1) };
}

function parseAccounts(input: unknown, path: string): Record<string, string> {
  const obj = record(input, path);
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const [sid, value] of Object.entries(obj)) {
    if (!isSidString(sid)) fail(`${path}.${sid}`, "the key must be a SID in text form ('S-1-5-21-...')");
    const text = str(value, `${path}.${sid}`, false);
    const { domain, name } = splitAccount(text);
    if (!name || name.includes('\\')) fail(`${path}.${sid}`, "expected 'DOMAIN\\name' or 'name'");
    const key = `${domain}\\${name}`.toLowerCase();
    const other = names.get(key);
    if (other !== undefined) fail(`${path}.${sid}`, `'${text}' already has the SID ${other}`);
    names.set(key, sid);
    out[sid] = text;
  }
  return out;
}

function parseServer(input: unknown, path: string): FarmServer {
  const obj = record(input, path);
  known(obj, path, ['name', 'aliases', 'consoleSessionId', 'currentSessionId', 'latencyMs', 'unreachable', 'sessions', 'faults', 'osVersion']);
  const server: FarmServer = { name: str(obj['name'], `${path}.name`, false) };
  if (obj['aliases'] !== undefined) {
    if (!Array.isArray(obj['aliases'])) fail(`${path}.aliases`, 'expected an array of server names');
    server.aliases = (obj['aliases'] as unknown[]).map((alias, i) => serverName(alias, `${path}.aliases[${i}]`));
  }
  if (obj['consoleSessionId'] !== undefined) server.consoleSessionId = uint(obj['consoleSessionId'], `${path}.consoleSessionId`);
  if (obj['currentSessionId'] !== undefined) server.currentSessionId = uint(obj['currentSessionId'], `${path}.currentSessionId`);
  if (obj['latencyMs'] !== undefined) server.latencyMs = uint(obj['latencyMs'], `${path}.latencyMs`);
  if (obj['unreachable'] !== undefined) {
    if (typeof obj['unreachable'] !== 'boolean') fail(`${path}.unreachable`, 'expected true or false');
    server.unreachable = obj['unreachable'];
  }
  const sessionsIn = obj['sessions'] ?? [];
  if (!Array.isArray(sessionsIn)) fail(`${path}.sessions`, 'expected an array');
  server.sessions = sessionsIn.map((s, i) => parseSession(s, `${path}.sessions[${i}]`));
  const ids = new Set<number>();
  const twice = duplicateProcessId(server.sessions);
  if (twice) fail(`${path}.sessions[${twice.session}].processes[${twice.process}].pid`, `duplicate process ID ${twice.pid} on this server (a PID runs one process at a time)`);
  for (const [i, s] of server.sessions.entries()) {
    if (ids.has(s.id)) fail(`${path}.sessions[${i}].id`, `duplicate session ID ${s.id}`);
    ids.add(s.id);
  }
  if (obj['faults'] !== undefined) server.faults = parseFaults(obj['faults'], `${path}.faults`);
  if (obj['osVersion'] !== undefined) {
    parseOsVersion(obj['osVersion'], `${path}.osVersion`);
    server.osVersion = obj['osVersion'] as string;
  }
  return server;
}

/**
 * The first process ID a server's sessions hold twice (in any sessions), where it is: a PID names
 * one running process on a server, so such a farm is none Windows could have. Reads a farm as
 * parsed or as found in its file (entries that are not processes are passed over).
 */
export function duplicateProcessId(sessions: readonly unknown[]): { pid: number; session: number; process: number } | undefined {
  const pids = new Set<number>();
  for (const [i, s] of sessions.entries()) {
    const processes = (s as { processes?: unknown } | null)?.processes;
    if (!Array.isArray(processes)) continue;
    for (const [k, p] of processes.entries()) {
      const pid = (p as { pid?: unknown } | null)?.pid;
      if (typeof pid !== 'number') continue;
      if (pids.has(pid)) return { pid, session: i, process: k };
      pids.add(pid);
    }
  }
  return undefined;
}

/** A farm's `osVersion` as numbers; problems name `path`. */
export function parseOsVersion(value: unknown, path: string): { major: number; minor: number } {
  const m = typeof value === 'string' ? /^(\d{1,2})\.(\d{1,9})$/.exec(value) : null;
  const major = m ? Number(m[1]) : NaN;
  if (!m || major > 15) fail(path, "expected a Windows version 'major.minor' such as '10.0' or '6.1' (major 0 to 15)");
  return { major, minor: Number(m[2]) };
}

/** Checks one session of a farm description; problems name `path`. */
export function parseSession(input: unknown, path: string): FarmSession {
  const obj = record(input, path);
  known(obj, path, [
    'id', 'name', 'state', 'user', 'domain', 'clientName', 'clientAddress', 'closing', 'messageResponse', 'processes', 'locked',
    ...TIME_FIELDS,
  ]);
  const id = uint(obj['id'], `${path}.id`);
  if (id >= 0xfffffffe) fail(`${path}.id`, 'IDs 4294967294 and 4294967295 are reserved');
  const state = obj['state'];
  if (typeof state !== 'string' || !(SESSION_STATES as readonly string[]).includes(state)) {
    fail(`${path}.state`, `expected one of ${SESSION_STATES.join(', ')}`);
  }
  const session: FarmSession = { id, state: state as SessionState };
  for (const key of ['name', 'user', 'domain', 'clientName', 'clientAddress'] as const) {
    if (obj[key] !== undefined) session[key] = str(obj[key], `${path}.${key}`, true);
  }
  if (obj['closing'] !== undefined) session.closing = uint(obj['closing'], `${path}.closing`);
  if (obj['locked'] !== undefined) {
    if (obj['locked'] !== null && typeof obj['locked'] !== 'boolean') fail(`${path}.locked`, 'expected true, false or null');
    session.locked = obj['locked'] as boolean | null;
  }
  if (obj['messageResponse'] !== undefined) session.messageResponse = uint(obj['messageResponse'], `${path}.messageResponse`);
  if (obj['processes'] !== undefined) {
    if (!Array.isArray(obj['processes'])) fail(`${path}.processes`, 'expected an array of { pid, name }');
    session.processes = (obj['processes'] as unknown[]).map((p, i) => parseProcess(p, `${path}.processes[${i}]`));
  }
  for (const key of TIME_FIELDS) {
    const value = obj[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail(`${path}.${key}`, 'expected an ISO 8601 date and time');
    session[key] = value as string;
  }
  return session;
}

function parseProcess(input: unknown, path: string): FarmProcess {
  const proc = record(input, path);
  known(proc, path, ['pid', 'name', 'user', ...FARM_PROCESS_COUNTERS]);
  const process: FarmProcess = { pid: uint(proc['pid'], `${path}.pid`), name: str(proc['name'], `${path}.name`, false) };
  const user = proc['user'];
  if (user === null) process.user = null;
  else if (user !== undefined) {
    const text = str(user, `${path}.user`, false);
    if (/^S-/i.test(text)) {
      if (!isSidString(text)) fail(`${path}.user`, `'${text}' is not a SID in text form ('S-1-5-21-...')`);
    } else {
      const { name } = splitAccount(text);
      if (!name || name.includes('\\')) fail(`${path}.user`, "expected 'DOMAIN\\name', 'name', a SID or null");
    }
    process.user = text;
  }
  for (const key of FARM_PROCESS_COUNTERS) {
    if (proc[key] !== undefined) process[key] = uint(proc[key], `${path}.${key}`);
  }
  return process;
}

/** The well-known accounts every mock server resolves (their SIDs: MS-DTYP 2.4.2.4, well-known SID structures). */
export const WELL_KNOWN_ACCOUNTS: ReadonlyArray<{ readonly sid: string; readonly domain: string; readonly name: string }> = [
  { sid: 'S-1-5-18', domain: 'NT AUTHORITY', name: 'SYSTEM' },
  { sid: 'S-1-5-19', domain: 'NT AUTHORITY', name: 'LOCAL SERVICE' },
  { sid: 'S-1-5-20', domain: 'NT AUTHORITY', name: 'NETWORK SERVICE' },
];
/** The mock's SID_NAME_USE values: SidTypeUser (1) for users, SidTypeWellKnownGroup (5) for the well-known accounts. */
const SID_TYPE_USER = 1;
const SID_TYPE_WELL_KNOWN_GROUP = 5;

/** FNV-1a, 32 bits: a stable number from a string (not security: it makes up SIDs for a mock). */
function fnv(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The accounts of a farm: the SID of every user it names and the account of every SID it knows,
 * as the mock reports them (pUserSid, LookupAccountSidW) and the native double is loaded with.
 * A user without a SID in {@link Farm.accounts} gets one made from its name (without case):
 * S-1-5-21-a-b-c-rid, a-b-c from the domain, rid (1000 and up) from the name — the same on
 * every run and every server.
 */
export class FarmAccounts {
  /** Lower-cased `domain\name` -> SID. */
  readonly #sids = new Map<string, string>();
  /** SID -> account. */
  readonly #accounts = new Map<string, WtsAccount>();

  /**
   * The accounts of this farm.
   *
   * @param farm - a checked farm.
   */
  constructor(farm: Farm) {
    for (const w of WELL_KNOWN_ACCOUNTS) this.#add(w.sid, w.domain, w.name, SID_TYPE_WELL_KNOWN_GROUP);
    for (const [sid, text] of Object.entries(farm.accounts ?? {})) {
      const { domain, name } = splitAccount(text);
      this.#add(sid, domain, name, SID_TYPE_USER);
    }
    for (const server of farm.servers) {
      for (const session of server.sessions ?? []) {
        if (session.user) this.sidOf(session.domain ?? '', session.user);
        for (const p of session.processes ?? []) this.ownerSid(session, p);
      }
    }
  }

  #add(sid: string, domain: string, name: string, use: number): void {
    const key = `${domain}\\${name}`.toLowerCase();
    if (this.#sids.has(key) || this.#accounts.has(sid)) return;
    this.#sids.set(key, sid);
    this.#accounts.set(sid, Object.freeze({ name, domain, use }));
  }

  /**
   * The SID of an account, made up (and remembered) when the farm gives none.
   *
   * @param domain - its domain (`''` for none).
   * @param name - its name.
   * @returns the SID in text form.
   */
  sidOf(domain: string, name: string): string {
    const key = `${domain}\\${name}`.toLowerCase();
    const known = this.#sids.get(key);
    if (known !== undefined) return known;
    const d = domain.toUpperCase();
    let rid = 1000 + (fnv(name.toLowerCase(), 4) % 1_000_000_000);
    const sidWith = (r: number) => `S-1-5-21-${fnv(d, 1)}-${fnv(d, 2)}-${fnv(d, 3)}-${r}`;
    while (this.#accounts.has(sidWith(rid))) rid++; // taken by a farm's own account: the next one
    const sid = sidWith(rid);
    this.#add(sid, domain, name, SID_TYPE_USER);
    return sid;
  }

  /**
   * The owner's SID of a process, as pUserSid gives it (see {@link FarmProcess.user}).
   *
   * @param session - the process's session.
   * @param process - the process.
   * @returns the SID in text form, or null for `user: null`.
   */
  ownerSid(session: FarmSession, process: FarmProcess | undefined): string | null {
    const user = process?.user;
    if (user === null) return null;
    if (user === undefined) {
      return session.id === 0 || !session.user ? 'S-1-5-18' : this.sidOf(session.domain ?? '', session.user);
    }
    if (/^S-/i.test(user)) return user;
    const { domain, name } = splitAccount(user);
    if (!user.includes('\\')) {
      const wellKnown = WELL_KNOWN_ACCOUNTS.find((w) => w.name.toLowerCase() === name.toLowerCase());
      if (wellKnown) return wellKnown.sid;
      return this.sidOf(session.domain ?? '', name);
    }
    return this.sidOf(domain, name);
  }

  /**
   * The account a SID names, as LookupAccountSidW finds it.
   *
   * @param sid - the SID in text form.
   * @returns the account, or undefined when no account has it.
   */
  accountOf(sid: string): WtsAccount | undefined {
    return this.#accounts.get(sid);
  }

  /**
   * Every account known, for loading a table elsewhere (the native double's).
   *
   * @returns SID and account pairs.
   */
  entries(): Array<readonly [sid: string, account: WtsAccount]> {
    return [...this.#accounts];
  }
}

function parseFaults(input: unknown, path: string): FarmFaults {
  const obj = record(input, path);
  const faults: FarmFaults = {};
  for (const [api, table] of Object.entries(obj)) {
    if (!(MOCK_FAULT_TARGETS as readonly string[]).includes(api)) {
      fail(`${path}.${api}`, `unknown API; expected one of ${MOCK_FAULT_TARGETS.join(', ')}`);
    }
    const entries = record(table, `${path}.${api}`);
    const out: Record<string, number> = {};
    for (const [key, code] of Object.entries(entries)) {
      if (key !== '*' && !/^\d+$/.test(key)) fail(`${path}.${api}`, `key '${key}' must be a session ID or '*'`);
      out[key] = uint(code, `${path}.${api}.${key}`);
      // 0 only for a wait: Wine's stub answers FALSE with the error code 0 (docs/mock.md).
      if (out[key] === 0 && api !== 'wait') fail(`${path}.${api}.${key}`, 'a fault code must be a non-zero Win32 error code (0 only for wait)');
    }
    faults[api as MockFaultTarget] = out;
  }
  return faults;
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object');
  return value as Record<string, unknown>;
}

function known(obj: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) fail(`${path}.${key}`, `unknown field; expected one of ${keys.join(', ')}`);
  }
}

function str(value: unknown, path: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) fail(path, allowEmpty ? 'expected a string' : 'expected a non-empty string');
  return value as string;
}

/** A NetBIOS name, DNS name or IP address, as the api layer accepts it (a leading `\\` stripped). */
function serverName(value: unknown, path: string): string {
  const text = str(value, path, false);
  try {
    return normalizeServerName(text, path);
  } catch {
    return fail(path, `'${text}' is not a server name (a NetBIOS name, a DNS name or an IP address)`);
  }
}

function uint(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    fail(path, 'expected a whole number from 0 to 4294967295');
  }
  return value as number;
}

function fail(path: string, problem: string): never {
  throw new InvalidArgumentError(path, `Invalid farm description at ${path}: ${problem}.`);
}
