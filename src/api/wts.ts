/**
 * The typed API over any WtsApi backend: `new Wts(api)` (see createWts), its methods, and
 * `openServer`. Every method checks all its arguments before the first call.
 */
import { InvalidArgumentError } from '../errors';
import type { WtsApi } from '../wtsapi';
import { applyFilter, compileFilter, FILTER_KEYS, type SessionFilter } from './filter';
import { ServerConnection, withServer, type ServerContext } from './context';
import { checkDetails, GONE, withDetails, type DetailGroup, type DetailedSession, type DetailsOption } from './details';
import {
  checkDisconnectAllOptions,
  checkDisconnectOptions,
  disconnectAllOn,
  disconnectOne,
  type DisconnectOutcome,
  type Disconnected,
} from './disconnect';
import { checkFarm, FARM_KEYS, ListSink, overServers, runCut, type CheckedFarm, type FarmOptions, type FarmResult } from './farm';
import { checkPlanServers, isWin32, isWtsError, Ledger, serverKey, type BulkChecked, type CheckedPlan } from './bulk';
import { Win32 } from '../wtsapi';
import type { CheckedBulk, CheckedLogoffAll } from './logoff';
import type { CheckedMessageAll } from './message';
import type { RequestName } from './types';
import { mapLimit } from './limit';
import { watchSessions, type SessionWatch, type WatchOptions } from './watch';
import { checkLogoffAllOptions, checkLogoffOptions, logoffAllOn, logoffOne, type LogoffAllOptions, type LogoffOptions } from './logoff';
import {
  checkMessageAllOptions,
  checkMessageOptions,
  sendMessageAllOn,
  sendMessageOne,
  type MessageOptions,
  type MessageOutcome,
  type MessageSent,
  type SendMessageAllOptions,
} from './message';
import { enumerate, resolveTarget } from './sessions';
import type { LogoffOutcome, Session } from './types';
import {
  checkKnownKeys,
  checkOptionsObject,
  checkPositiveInteger,
  normalizeServerName,
  parseTarget,
  type ParsedTarget,
  type SessionTarget,
} from './validate';

export interface ServerOption {
  /** The server: `WF12`, `\\WF12`, a DNS name or an IP address. Default: the local server. */
  server?: string;
}

export interface ListSessionsOptions extends ServerOption, SessionFilter {
  /** Also query details: `true` for all, or some of 'times', 'clientName', 'clientAddress', 'remote'. */
  details?: DetailsOption;
  /** How many sessions are queried at once for details. Default 8. */
  concurrency?: number;
}
export type FindSessionOptions = ServerOption;
export interface ServerLogoffOptions extends ServerOption, LogoffOptions {}
export interface ServerLogoffAllOptions extends ServerOption, LogoffAllOptions {}
export interface ServerDisconnectOptions extends ServerOption, LogoffOptions {}
export interface ServerDisconnectAllOptions extends ServerOption, Omit<LogoffAllOptions, 'warn'> {}
export interface ServerMessageOptions extends ServerOption, MessageOptions {}
export interface ServerSendMessageAllOptions extends ServerOption, SendMessageAllOptions {}
export type ListProcessesOptions = ServerOption;

/** The same options over many servers: `servers` instead of `server`. */
export type OnServers<O, T> = Omit<O, 'server'> & FarmOptions<T>;

/** The result of a successful logoff(). */
export type LoggedOff = Extract<LogoffOutcome, { status: 'loggedOff' }>;

/** A process and the session it runs in (query process). */
export interface SessionProcess {
  readonly server: string;
  readonly sessionId: number;
  readonly sessionName: string;
  readonly userName: string;
  readonly processId: number;
  readonly processName: string;
}

export const API_METHODS = [
  'openServer',
  'closeServer',
  'enumerateSessions',
  'enumerateProcesses',
  'querySessionInformation',
  'logoffSession',
  'disconnectSession',
  'sendMessage',
  'getActiveConsoleSessionId',
  'getCurrentSessionId',
  'getComputerName',
] as const;

export function checkApi(api: unknown): WtsApi {
  const missing = API_METHODS.filter((m) => typeof (api as Record<string, unknown> | null)?.[m] !== 'function');
  if (missing.length > 0) {
    throw new InvalidArgumentError('options.api', `Invalid options.api: not a WtsApi (missing ${missing.join(', ')}).`);
  }
  return api as WtsApi;
}

function without(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

function unusedPlan(key: string): InvalidArgumentError {
  return new InvalidArgumentError(
    'options.plan',
    `Invalid options.plan: it plans sessions on ${key === '' ? 'the local server' : key}, which this call did not work on; they were not acted on.`,
  );
}

/** Planned sessions of a server the call never worked on are reported, not silently dropped. */
function withUnusedPlan<O>(result: FarmResult<O>, plan: CheckedPlan | undefined, worked: ReadonlySet<string>): FarmResult<O> {
  const unused = [...(plan?.byServer.keys() ?? [])].filter((key) => !worked.has(key));
  if (unused.length === 0) return result;
  const failures = [...result.failures, ...unused.map((key) => ({ server: key === '' ? 'localhost' : key, error: unusedPlan(key) }))];
  return Object.freeze({ ...result, failures: Object.freeze(failures) });
}

/** The operations shared by Wts (server per call) and WtsServer (one server, many calls). */
abstract class Operations {
  protected abstract readonly api: WtsApi;
  protected abstract run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T>;
  protected abstract readonly serverKeys: readonly string[];
  /** Whether `servers: [...]` is allowed (not on a WtsServer, which is one server). */
  protected abstract readonly manyServers: boolean;

  /** Reads `options.server` where allowed; a WtsServer has its own. */
  protected serverOf(options: Record<string, unknown>): string | undefined {
    return options['server'] === undefined ? undefined : normalizeServerName(options['server'], 'options.server');
  }

  /** Validates `servers` / `server` for a call that may go to many servers. */
  #farmOf<T>(o: Record<string, unknown>): CheckedFarm<T> | undefined {
    if (o['servers'] === undefined) return undefined;
    if (!this.manyServers) throw new InvalidArgumentError('options.servers', 'A server object works on its own server; use createWts() for many.');
    if (o['server'] !== undefined) throw new InvalidArgumentError('options.server', 'Give either server or servers, not both.');
    return checkFarm<T>(o, this.api);
  }

  /**
   * A listing, on one server or (with `servers`) on many. `check` validates the options (given
   * the keys it may also see); `work` lists one server.
   */
  protected async each<T, C extends { signal?: AbortSignal | undefined }>(
    options: unknown,
    check: (o: Record<string, unknown>, keys: readonly string[]) => C,
    work: (ctx: ServerContext, checked: C) => Promise<readonly T[]>,
  ): Promise<readonly T[] | FarmResult<T>> {
    const o = checkOptionsObject(options);
    const farm = this.#farmOf<T>(o);
    if (farm) {
      const checked = check(without(o, FARM_KEYS), []);
      return overServers<T>(
        this.api,
        farm,
        checked.signal,
        0,
        (emit) => new ListSink<T>(emit),
        async (ctx, _signal, sink) => (sink as ListSink<T>).set(await work(ctx, checked)),
      );
    }
    const checked = check(o, this.serverKeys);
    const server = this.serverOf(o);
    return Object.freeze(await this.run(server, (ctx) => work(ctx, checked)));
  }

  /**
   * A bulk action (logoffAll, disconnectAll, sendMessageAll), on one server or many: every session
   * gets one outcome in a Ledger, which also reports every request sent when the call is cut
   * short. One server: an abort after the sessions were listed returns their outcomes (each says
   * what happened); before that, it rejects with OperationAbortedError (nothing was sent).
   */
  protected async bulk<O extends { status: string; session: Session; requests: readonly RequestName[] }, C extends BulkChecked>(
    options: unknown,
    check: (o: Record<string, unknown>, keys: readonly string[]) => C,
    work: (ctx: ServerContext, checked: C, ledger: Ledger<O>) => Promise<void>,
    extraTimeoutMs: (checked: C) => number = () => 0,
  ): Promise<readonly O[] | FarmResult<O>> {
    const o = checkOptionsObject(options);
    const farm = this.#farmOf<O>(o);
    if (farm) {
      const checked = check(without(o, FARM_KEYS), []);
      // Against the names as given: `farm.servers` asks the backend for the local names.
      checkPlanServers(checked.plan, farm.given);
      const worked = new Set<string>();
      const result = await overServers<O>(
        this.api,
        farm,
        checked.signal,
        extraTimeoutMs(checked),
        (emit) => new Ledger<O>(emit),
        (ctx, signal, sink) => {
          worked.add(serverKey(ctx.server));
          return work(ctx, { ...checked, signal }, sink as Ledger<O>);
        },
      );
      return withUnusedPlan(result, checked.plan, worked);
    }
    const checked = check(o, this.serverKeys);
    const server = this.serverOf(o);
    checkPlanServers(checked.plan, [server ?? '']);
    const ledger = new Ledger<O>();
    try {
      // The server is closed only when the work has finished, even if the call returns earlier.
      await runCut(
        (signal) =>
          this.run(server, async (ctx) => {
            // A plan for another server than this one turned out to be (the local machine named,
            // say): refused before any session is listed or acted on.
            for (const key of checked.plan?.byServer.keys() ?? []) {
              if (key !== serverKey(ctx.server)) throw unusedPlan(key);
            }
            await work(ctx, { ...checked, signal }, ledger);
          }),
        ledger,
        server ?? '',
        checked.signal,
        undefined,
      );
    } catch (error) {
      const listed = ledger.outcomes().length > 0;
      if (!(listed && isWtsError(error) && error.code === 'E_ABORTED')) throw error;
    }
    return Object.freeze(ledger.outcomes());
  }

  /**
   * Every session on the server, as one WTSEnumerateSessionsExW call; with `details` or with
   * filters that need them, one more query per session and field group.
   */
  listSessions(options: OnServers<ListSessionsOptions, DetailedSession> & { details: true | readonly DetailGroup[] }): Promise<FarmResult<DetailedSession>>;
  listSessions(options: OnServers<ListSessionsOptions, Session>): Promise<FarmResult<Session>>;
  listSessions(options: ListSessionsOptions & { details: true | readonly DetailGroup[] }): Promise<readonly DetailedSession[]>;
  listSessions(options?: ListSessionsOptions): Promise<readonly Session[]>;
  listSessions(options?: unknown): Promise<readonly Session[] | FarmResult<Session>> {
    return this.each<Session, { filter: ReturnType<typeof compileFilter>; details: ReadonlySet<DetailGroup>; concurrency: number; signal?: undefined }>(
      options,
      (o, keys) => {
        checkKnownKeys(o, [...keys, ...FILTER_KEYS, 'details', 'concurrency']);
        return {
          filter: compileFilter(o),
          details: checkDetails(o['details']),
          concurrency: o['concurrency'] === undefined ? 8 : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
        };
      },
      async (ctx, c) => {
        const listed = await enumerate(ctx);
        // No detail asked for and no filter that needs one: no query, so no per-session async pass.
        if (c.details.size === 0 && c.filter.groups.size === 0) {
          return c.filter.passesAll ? listed : listed.filter((s) => c.filter.cheap(s) === undefined);
        }
        const rows = await mapLimit(listed, c.concurrency, async (s) => {
          let result: Awaited<ReturnType<typeof applyFilter>>;
          try {
            result = await applyFilter(ctx, c.filter, s, c.details);
          } catch (error) {
            // It ended between the enumeration and its detail query: listed as gone, unless a
            // filter needed its details (then it cannot pass).
            if (!isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) throw error;
            return c.filter.groups.size > 0 ? undefined : withDetails(s, GONE);
          }
          const { reason, details } = result;
          if (reason !== undefined) return undefined;
          return details && c.details.size > 0 ? withDetails(s, details) : s;
        });
        return rows.filter((r): r is Session => r !== undefined);
      },
    );
  }

  /** The session with this ID or WinStation name (without case); no target = your own. */
  async findSession(target?: SessionTarget, options?: FindSessionOptions): Promise<Session> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    checkKnownKeys(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, async (ctx) => resolveTarget(await enumerate(ctx), parsed, ctx, false));
  }

  /** Every process on the server with its session (query process). */
  listProcesses(options: OnServers<ListProcessesOptions, SessionProcess>): Promise<FarmResult<SessionProcess>>;
  listProcesses(options?: ListProcessesOptions): Promise<readonly SessionProcess[]>;
  listProcesses(options?: unknown): Promise<readonly SessionProcess[] | FarmResult<SessionProcess>> {
    return this.each<SessionProcess, { signal?: undefined }>(
      options,
      (o, keys) => {
        checkKnownKeys(o, keys);
        return {};
      },
      async (ctx) => {
        const [processes, sessions] = await Promise.all([ctx.api.enumerateProcesses(ctx.handle), enumerate(ctx)]);
        const byId = new Map(sessions.map((s) => [s.id, s] as const));
        const result = processes.map((p) =>
          Object.freeze({
            server: ctx.server,
            sessionId: p.sessionId,
            sessionName: byId.get(p.sessionId)?.name ?? '',
            userName: byId.get(p.sessionId)?.userName ?? '',
            processId: p.processId,
            processName: p.processName,
          }),
        );
        return result;
      },
    );
  }

  /**
   * Logs off one session: by ID, by name (which must be Active), or — with no target — your own.
   * Refuses the console, services and listeners before any logoff call; re-checks the session's
   * identity before acting; by default waits until the session is gone.
   */
  async logoff(target?: SessionTarget, options?: ServerLogoffOptions): Promise<LoggedOff> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkLogoffOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, (ctx) => logoffOne(ctx, parsed, checked));
  }

  /**
   * KB 259436 done safely: logs off every session on the server except the console, services,
   * listeners and your own, narrowed by the filters, optionally warned first. One outcome per
   * session; rejects only when the server cannot be enumerated. With `servers`, every server's
   * outcomes and every failed server.
   */
  logoffAll(options: OnServers<ServerLogoffAllOptions, LogoffOutcome>): Promise<FarmResult<LogoffOutcome>>;
  logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[]>;
  logoffAll(options?: unknown): Promise<readonly LogoffOutcome[] | FarmResult<LogoffOutcome>> {
    return this.bulk<LogoffOutcome, CheckedLogoffAll>(
      options,
      (o, keys) => checkLogoffAllOptions(o, keys),
      (ctx, c, ledger) => logoffAllOn(ctx, c, ledger),
      (c) => (c.warn ? c.warn.graceSeconds * 1000 : 0),
    );
  }

  /** Disconnects one session (tsdiscon): its programs keep running. By ID, name or your own. */
  async disconnect(target?: SessionTarget, options?: ServerDisconnectOptions): Promise<Disconnected> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkDisconnectOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, (ctx) => disconnectOne(ctx, parsed, checked));
  }

  /** Disconnects every connected session but console, services, listeners and yours, filtered. */
  disconnectAll(options: OnServers<ServerDisconnectAllOptions, DisconnectOutcome>): Promise<FarmResult<DisconnectOutcome>>;
  disconnectAll(options?: ServerDisconnectAllOptions): Promise<readonly DisconnectOutcome[]>;
  disconnectAll(options?: unknown): Promise<readonly DisconnectOutcome[] | FarmResult<DisconnectOutcome>> {
    return this.bulk<DisconnectOutcome, CheckedBulk>(options, (o, keys) => checkDisconnectAllOptions(o, keys), (ctx, c, ledger) => disconnectAllOn(ctx, c, ledger));
  }

  /** Shows a message box in one session (msg); with `wait`, resolves to the user's answer. */
  async sendMessage(target: SessionTarget | undefined, options: ServerMessageOptions): Promise<MessageSent> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkMessageOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, (ctx) => sendMessageOne(ctx, parsed, checked));
  }

  /** msg *: a message to every session with a user (but Services and listeners), filtered. */
  sendMessageAll(options: OnServers<ServerSendMessageAllOptions, MessageOutcome>): Promise<FarmResult<MessageOutcome>>;
  sendMessageAll(options: ServerSendMessageAllOptions): Promise<readonly MessageOutcome[]>;
  sendMessageAll(options: unknown): Promise<readonly MessageOutcome[] | FarmResult<MessageOutcome>> {
    return this.bulk<MessageOutcome, CheckedMessageAll>(options, (o, keys) => checkMessageAllOptions(o, keys), (ctx, c, ledger) => sendMessageAllOn(ctx, c, ledger));
  }

  protected checkCurrentIsLocal(target: ParsedTarget, server: string | undefined): void {
    if (target.kind === 'current' && server !== undefined) {
      throw new InvalidArgumentError(
        'target',
        'No session given together with a server: name the session to act on. (No target means your own ' +
          'session, which is only defined on the local server.)',
      );
    }
  }
}

/** The API bound to one backend. Each call opens the server it needs and closes it. */
export class Wts extends Operations {
  readonly api: WtsApi;
  protected readonly serverKeys = ['server'] as const;
  protected readonly manyServers = true;

  constructor(api: WtsApi) {
    super();
    this.api = api;
  }

  protected run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T> {
    return withServer(this.api, server, fn);
  }

  /** One handle to a server for several calls. Close it (or `await using` it) when done. */
  openServer(name: string): WtsServer {
    return new WtsServer(this.api, normalizeServerName(name, 'name'));
  }

  /**
   * Live session events on one server or many (docs/watchSessions.md). Throws InvalidArgumentError
   * at once for a bad option (nothing is called); watching starts with the first `next()`, on
   * handles of its own that are closed when the iteration ends.
   */
  watchSessions(options: WatchOptions & { details: true | readonly DetailGroup[] }): SessionWatch<DetailedSession>;
  watchSessions(options?: WatchOptions): SessionWatch<Session>;
  watchSessions(options?: WatchOptions): SessionWatch<Session> | SessionWatch<DetailedSession> {
    return watchSessions(this.api, options);
  }
}

/** A server opened once (lazily, on first use) for several calls. AsyncDisposable. */
export class WtsServer extends Operations implements AsyncDisposable {
  /** The server's name, normalised (`\\WF12` -> `WF12`). */
  readonly name: string;
  protected readonly api: WtsApi;
  readonly #connection: ServerConnection;
  protected readonly serverKeys = [] as const;
  protected readonly manyServers = false;

  constructor(api: WtsApi, name: string) {
    super();
    this.api = api;
    this.name = name;
    this.#connection = new ServerConnection(api, name);
  }

  protected override serverOf(): string {
    return this.name;
  }

  protected override checkCurrentIsLocal(target: ParsedTarget): void {
    super.checkCurrentIsLocal(target, this.name);
  }

  /** The work under way on the handle (a call cut short by an abort may still be running). */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  protected async run<T>(_server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T> {
    if (this.#connection.closed || this.#closing) {
      throw new InvalidArgumentError('server', `The server object for ${this.name} is closed.`);
    }
    const work = this.#connection.context().then(fn);
    this.#inFlight.add(work);
    const forget = () => this.#inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /**
   * WTSCloseServer on the handle, if it was opened, once every call on it has returned — a call
   * that was cut short (abort, timeout) may still be running on the handle, and closing it under
   * that call would be undefined behaviour. No new call starts meanwhile. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      await this.#connection.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// Re-exported for the package index.
export type { DetailedSession, DetailGroup, DisconnectOutcome, Disconnected, FarmResult, MessageOutcome, MessageSent };

