/**
 * The typed API over any WtsApi backend: `new Wts(api)` (see createWts), its methods, and
 * `openServer`. Every method checks all its arguments before the first call.
 */
import { InvalidArgumentError, isWtsError, OperationAbortedError } from '../errors';
import type { WtsApi } from '../wtsapi';
import { applyFilter, compileFilter, FILTER_KEYS, type SessionFilter } from './filter';
import { cutBy, localNamesOf, ServerConnection, serverLabel, withServer, type ServerContext } from './context';
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
import { checkPlanServers, isWin32, Ledger, serverKey, type BulkChecked, type CheckedPlan } from './bulk';
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
import { enumerate, refuseNoUser, resolveTarget } from './sessions';
import { checkProcessTarget, checkTerminateCall, checkTerminateOptions, terminateOn, type ProcessTarget, type TerminateOutcome, type TerminateProcessOptions } from './terminate';
import { listProcessesOn, type SessionProcess } from './processes';
import type { LogoffOutcome, Session } from './types';
import {
  checkKnownKeys,
  checkOptionsObject,
  checkPositiveInteger,
  readSignal,
  NO_TARGET_WITH_SERVER,
  normalizeServerName,
  parseTarget,
  type ParsedTarget,
  type SessionTarget,
} from './validate';

/** The `server` option of every call on one server. */
export interface ServerOption {
  /**
   * The server: `WF12`, `\\WF12`, a DNS name or an IP address. The local machine under any of
   * its names (or `localhost`, `.`, a loopback address) is the local server.
   * @defaultValue the local server
   */
  server?: string;
}

/** A listing's `signal`. */
export interface ListingSignalOption {
  /**
   * Cancels the listing: the call rejects with an {@link OperationAbortedError} at once (over
   * `servers`, it resolves, with every server not finished in `failures`, `E_ABORTED`), and no
   * further request is started. A call already made cannot be interrupted: it returns in the
   * background, and its server handle is closed then. A listing acts on nothing, so nothing is lost.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/** The options of listSessions on one server. */
export interface ListSessionsOptions extends ServerOption, SessionFilter, ListingSignalOption {
  /**
   * Also query details: `true` for all, or some of `'times'`, `'clientName'`, `'clientAddress'`,
   * `'remote'`, `'lock'` (one query per session and group, and for `'lock'` the server's Windows
   * version once; see {@link DetailGroup}).
   * @defaultValue false
   */
  details?: DetailsOption;
  /**
   * How many sessions are queried at once for details (1 to 1024).
   * @defaultValue 8
   */
  concurrency?: number;
}
/** The options of findSession: the server, and a signal to cancel the enumeration. */
export interface FindSessionOptions extends ServerOption, ListingSignalOption {}
/** The options of logoff: the server, and waiting for the session to go. */
export interface ServerLogoffOptions extends ServerOption, LogoffOptions {}
/** The options of logoffAll on one server (with `servers` instead: {@link OnServers}). */
export interface ServerLogoffAllOptions extends ServerOption, LogoffAllOptions {}
/** The options of disconnect: the server, and waiting for the session to read Disconnected. */
export interface ServerDisconnectOptions extends ServerOption, LogoffOptions {}
/** The options of disconnectAll on one server: logoffAll's, without `warn`. */
export interface ServerDisconnectAllOptions extends ServerOption, Omit<LogoffAllOptions, 'warn'> {}
/** The options of sendMessage: the server, and the message. */
export interface ServerMessageOptions extends ServerOption, MessageOptions {}
/** The options of sendMessageAll on one server. */
export interface ServerSendMessageAllOptions extends ServerOption, SendMessageAllOptions {}
/** The options of listProcesses on one server. */
export interface ListProcessesOptions extends ServerOption, ListingSignalOption {}
/** The options of terminateProcess: the server, and {@link TerminateProcessOptions}. */
export interface ServerTerminateProcessOptions extends ServerOption, TerminateProcessOptions {}

/**
 * The same options over many servers: `servers` (and {@link FarmOptions}) instead of `server`.
 * The call then resolves to a {@link FarmResult}.
 */
export type OnServers<O, T> = Omit<O, 'server'> & FarmOptions<T>;

/** The result of a successful logoff(): the session logged off, and whether that was confirmed. */
export type LoggedOff = Extract<LogoffOutcome, { status: 'loggedOff' }>;

export type { SessionProcess } from './processes';

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

/**
 * The operations shared by {@link Wts} (a server per call) and {@link WtsServer} (one server,
 * many calls). Not exported: its members are documented on both classes.
 */
abstract class Operations {
  /** @internal */
  protected abstract readonly api: WtsApi;
  /** @internal */
  protected abstract run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T>;
  /** @internal */
  protected abstract readonly serverKeys: readonly string[];
  /**
   * Whether `servers: [...]` is allowed (not on a WtsServer, which is one server).
   * @internal
   */
  protected abstract readonly manyServers: boolean;

  /**
   * Reads `options.server` where allowed; a WtsServer has its own.
   * @internal
   */
  protected serverOf(options: Record<string, unknown>): string | undefined {
    return options['server'] === undefined ? undefined : normalizeServerName(options['server'], 'options.server');
  }

  /**
   * A one-session call whose signal fired before it started is refused as its first check would
   * refuse it, without the server being opened (no request at all).
   * @internal
   */
  protected refuseIfAborted(signal: AbortSignal | undefined, what: string, server: string | undefined): void {
    if (!signal?.aborted) return;
    throw new OperationAbortedError(what, signal.reason, { server: this.labelOf(server) });
  }

  /**
   * How an error names the server: '' for the local machine, whatever name it was given by
   * (docs/errors.md), else the name.
   * @internal
   */
  protected labelOf(server: string | undefined): string {
    return serverLabel(server, () => localNamesOf(this.api));
  }

  /**
   * One server's listing with a signal, as one server of many: an abort rejects at once (the
   * handle closed once the calls in flight return), and no request starts after it.
   * @internal
   */
  protected async listCut<T>(server: string | undefined, signal: AbortSignal, work: (ctx: ServerContext) => Promise<readonly T[]>): Promise<readonly T[]> {
    const sink = new ListSink<T>(() => undefined);
    await runCut((cut) => this.run(server, async (ctx) => sink.set(await work(cutBy(ctx, cut)))), sink, () => this.labelOf(server), signal, undefined);
    return sink.outcomes();
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
   * @internal
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
    if (!checked.signal) return Object.freeze(await this.run(server, (ctx) => work(ctx, checked)));
    return Object.freeze(await this.listCut(server, checked.signal, (ctx) => work(ctx, checked)));
  }

  /**
   * A bulk action (logoffAll, disconnectAll, sendMessageAll), on one server or many: every session
   * gets one outcome in a Ledger, which also reports every request sent when the call is cut
   * short. One server: an abort after the sessions were listed returns their outcomes (each says
   * what happened); before that, it rejects with OperationAbortedError (nothing was sent).
   * @internal
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
      // A server that failed before its work started (unreachable, timed out or aborted before
      // its listing) is reported as failed: its planned sessions are not "a server this call did not work on".
      if (checked.plan && result.failures.some((f) => !worked.has(serverKey(f.server)))) {
        const local = farm.localNames();
        for (const f of result.failures) worked.add(local.has(f.server) ? '' : serverKey(f.server));
      }
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
            // As over many servers: once the call is cut short, no request starts (the checks
            // before each action leave a few turns in which an abort could land unseen).
            await work(cutBy(ctx, signal), { ...checked, signal }, ledger);
          }),
        ledger,
        () => this.labelOf(server),
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
   * `query session`: every session on several servers (`servers`), each server listed as in the
   * one-server form, with their details.
   *
   * @param options - `servers` and the {@link FarmOptions}, the filters, `details`, `concurrency`.
   * @returns every server's sessions in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   */
  listSessions(options: OnServers<ListSessionsOptions, DetailedSession> & { details: true | readonly DetailGroup[] }): Promise<FarmResult<DetailedSession>>;
  /**
   * `query session`: every session on several servers (`servers`), each server listed as in the
   * one-server form. A server that fails (1722, 5, its `serverTimeoutMs`) is reported in
   * `failures` beside the others' results.
   *
   * @param options - `servers` and the {@link FarmOptions}, the filters, `details`, `concurrency`.
   * @returns every server's sessions in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   */
  listSessions(options: OnServers<ListSessionsOptions, Session>): Promise<FarmResult<Session>>;
  /**
   * `query session` with details: every session on the server, each with `details` (one query
   * per session and {@link DetailGroup}, `concurrency` sessions at a time).
   *
   * @param options - `details`, and the server, filters and `concurrency`.
   * @returns the sessions with their details, in the server's order (frozen).
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   * @throws {@link Win32Error} when the server cannot be enumerated or a detail query fails
   *   (1722 unreachable, 5 denied, ...).
   */
  listSessions(options: ListSessionsOptions & { details: true | readonly DetailGroup[] }): Promise<readonly DetailedSession[]>;
  /**
   * `query session`: every session on the server, from one `WTSEnumerateSessionsExW` call; with
   * filters that need details (`clientName`, `idleLongerThan`, `disconnectedLongerThan`, `locked`),
   * one more query per session and field group. A session that ends between the listing and its detail
   * query is left out when a filter needed its details, else (with `details`) listed with
   * `details.gone: true`.
   *
   * @param options - the server, the {@link SessionFilter} filters, `details`, `concurrency`.
   * @returns the sessions, in the server's order (frozen).
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   * @throws {@link Win32Error} when the server cannot be enumerated (1722 unreachable, 5 denied, ...).
   * @throws {@link ThreadsExhaustedError} when every thread of the koffi backend is stuck on
   *   servers that do not answer.
   */
  listSessions(options?: ListSessionsOptions): Promise<readonly Session[]>;
  listSessions(options?: unknown): Promise<readonly Session[] | FarmResult<Session>> {
    return this.each<Session, { filter: ReturnType<typeof compileFilter>; details: ReadonlySet<DetailGroup>; concurrency: number; signal: AbortSignal | undefined }>(
      options,
      (o, keys) => {
        checkKnownKeys(o, [...keys, ...FILTER_KEYS, 'details', 'concurrency', 'signal']);
        return {
          filter: compileFilter(o),
          details: checkDetails(o['details']),
          concurrency: o['concurrency'] === undefined ? 8 : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
          signal: readSignal(o),
        };
      },
      async (ctx, c) => {
        let listed = await enumerate(ctx);
        // No detail asked for and no filter that needs one: no query, so no per-session async pass.
        if (c.details.size === 0 && c.filter.groups.size === 0) {
          return c.filter.passesAll ? listed : listed.filter((s) => c.filter.cheap(s) === undefined);
        }
        // Over many servers, the queries wait for the server's turn: listed again after a wait.
        if (listed.length > 0 && ctx.ready && (await ctx.ready())) listed = await enumerate(ctx);
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

  /**
   * The session with this ID, or with this WinStation name (without case; if several share it,
   * the Active one; it need not be Active). No target: your own session. One enumeration.
   *
   * @param target - a session ID or WinStation name; none for your own session (local server only).
   * @param options - the server.
   * @returns the session.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option, or no target
   *   together with a server; before any call.
   * @throws {@link SessionNotFoundError} when no session matches (or you are in no session).
   * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
   * @throws {@link OperationAbortedError} (`E_ABORTED`) at once when `signal` aborts; no request
   *   starts after it, and the handle is closed once the call in flight returns.
   */
  async findSession(target?: SessionTarget, options?: FindSessionOptions): Promise<Session> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    checkKnownKeys(o, [...this.serverKeys, 'signal']);
    const signal = readSignal(o);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    const find = async (ctx: ServerContext) => resolveTarget(await enumerate(ctx), parsed, ctx, false);
    if (!signal) return this.run(server, find);
    const [session] = await this.listCut(server, signal, async (ctx) => [await find(ctx)]);
    return session!;
  }

  /**
   * `query process` on several servers (`servers`).
   *
   * @param options - `servers` and the {@link FarmOptions}.
   * @returns every server's processes in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   */
  listProcesses(options: OnServers<ListProcessesOptions, SessionProcess>): Promise<FarmResult<SessionProcess>>;
  /**
   * `query process`: every process on the server, PID 0 included, with its session, its owner and
   * its counters: `WTSEnumerateProcessesExW` level 1 (where the server lacks it — 120, 50, 1745,
   * 1717 — `WTSEnumerateProcessesW`, and no counters), one session enumeration, and
   * `LookupAccountSidW` on the server once per owner's SID (a SID that resolves to no account, or
   * whose lookup fails, is shown as the SID).
   *
   * @param options - the server.
   * @returns the processes (frozen).
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
   * @throws {@link Win32Error} when the server cannot be asked (1722, 5, ...).
   *
   * @example
   * ```ts
   * import { listProcesses } from 'wts-session';
   *
   * for (const p of await listProcesses({ server: 'WF12' })) {
   *   console.log(p.processId, p.processName, p.owner, p.workingSetSize);
   * }
   * ```
   */
  listProcesses(options?: ListProcessesOptions): Promise<readonly SessionProcess[]>;
  listProcesses(options?: unknown): Promise<readonly SessionProcess[] | FarmResult<SessionProcess>> {
    return this.each<SessionProcess, { signal: AbortSignal | undefined }>(
      options,
      (o, keys) => {
        checkKnownKeys(o, [...keys, 'signal']);
        return { signal: readSignal(o) };
      },
      (ctx) => listProcessesOn(ctx),
    );
  }

  /**
   * `tskill`: ends processes through `WTSTerminateProcess` — one by its ID, or every process of a
   * name (wildcards `*` `?`, `.exe` optional) in one session (by default your own; with `server`,
   * name the session or `all`) or in all sessions (`all`). Arguments are checked before any call;
   * the processes are listed once (WTSEnumerateProcessesExW level 1, or WTSEnumerateProcessesW);
   * Services (session 0) is refused unless `allowServices`, processes of other sessions than the
   * one named are refused, and right before each termination the process is listed again and must
   * be the same one (PID, name, session, owner SID, CPU time not lower): PIDs are reused.
   * `dryRun` reports the plan; `plan` ends exactly a reviewed dry run's processes. It never
   * rejects because of one process.
   *
   * @param target - `{ pid, session? }` or `{ name, session?, all? }` ({@link ProcessTarget}).
   * @param options - the server, `dryRun`, `plan`, `allowServices`, `exitCode`, `concurrency`, `signal`.
   * @returns one {@link TerminateOutcome} per matching process, in the server's order, frozen.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option (a name with
   *   `server` but no session nor `all`; session 0 without `allowServices`); no call is made.
   * @throws {@link ProcessNotFoundError} when no process matches on the server (nothing is ended).
   * @throws {@link Win32Error} when the processes cannot be listed (1722, 5, ...).
   * @throws {@link OperationAbortedError} when `signal` aborted before the processes were listed.
   *
   * @example
   * ```ts
   * const plan = await terminateProcess({ name: 'excel.exe', session: 3 }, { server: 'WF12', dryRun: true });
   * const done = await terminateProcess({ name: 'excel.exe', session: 3 }, { server: 'WF12', plan });
   * ```
   */
  async terminateProcess(target: ProcessTarget, options?: ServerTerminateProcessOptions): Promise<readonly TerminateOutcome[]> {
    const o = checkOptionsObject(options);
    const server = this.serverOf(o);
    const checked = checkProcessTarget(target, server !== undefined);
    const opts = checkTerminateOptions(o, this.serverKeys);
    checkTerminateCall(this.api, checked, opts, server);
    this.refuseIfAborted(opts.signal, 'terminateProcess', server);
    return this.run(server, (ctx) => terminateOn(ctx, checked, opts));
  }

  /**
   * `logoff.exe`: logs off one session — by ID, by name (which must be Active), or with no target
   * your own — and by default waits until it is gone. Services (session 0) and listeners are
   * always refused, the console unless it is your own session: by ID or name before any WTS
   * call, else after the one enumeration and before the logoff. Right before acting, the
   * session's identity is read (user, domain, logon time: a `WTSSessionInfo` query, plus the
   * full names where WTSINFOW cut them) and compared with the listing. `WTSLogoffSession` is called with `bWait = FALSE`; then the
   * session is polled until it is gone (7022) or its ID holds another logon. A close already
   * pending (7007) counts (`alreadyClosing: true`).
   *
   * @param target - a session ID or an Active session's WinStation name; none for your own
   *   session (not with `server`).
   * @param options - the server, `wait`, `timeoutMs`, `pollIntervalMs`, `signal`.
   * @returns `{ status: 'loggedOff', session, confirmed, alreadyClosing, requests }`, frozen.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option, or no target
   *   together with a server; no call is made.
   * @throws {@link ServicesSessionError}, {@link ListenerSessionError} or
   *   {@link ConsoleSessionError} for a protected session: nothing is logged off.
   * @throws {@link SessionNotFoundError} when there is no such session (or you are in none).
   * @throws {@link SessionNotActiveError} when a session named by its name is not Active.
   * @throws {@link SessionChangedError} when the ID now holds another user than the one listed.
   * @throws {@link Win32Error} when a call fails; a failed logoff reads like `logoff.exe`
   *   (`Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5`).
   * @throws {@link LogoffTimeoutError} when the session had not gone after `timeoutMs` (the
   *   logoff was requested and may still happen: `requests: ['WTSLogoffSession']`).
   * @throws {@link OperationAbortedError} when `signal` aborts (`requests` says whether the
   *   logoff had been sent).
   */
  async logoff(target?: SessionTarget, options?: ServerLogoffOptions): Promise<LoggedOff> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkLogoffOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkActionTarget(parsed, server);
    this.refuseIfAborted(checked.signal, 'logoff', server);
    return this.run(server, (ctx) => logoffOne(ctx, parsed, checked));
  }

  /**
   * KB 259436 on several servers (`servers`): each server as in the one-server form, at most
   * `serverConcurrency` at once. A server that fails or exceeds `serverTimeoutMs` is reported in
   * `failures` (its outcomes so far stay in `results`); it never stalls the others.
   *
   * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
   * @returns every server's outcomes in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   */
  logoffAll(options: OnServers<ServerLogoffAllOptions, LogoffOutcome>): Promise<FarmResult<LogoffOutcome>>;
  /**
   * KB 259436 done safely: logs off every session on the server except the console, Services,
   * listeners and your own, narrowed by the filters, optionally warned first (`warn`). `dryRun`
   * reports the plan and does nothing; `plan` applies exactly a reviewed dry run. Each session's
   * identity is re-checked right before its logoff. It never rejects because of one session.
   *
   * @param options - the server, the {@link SessionFilter} filters, `dryRun`, `plan`, `warn`,
   *   `concurrency`, and the {@link WaitOptions}.
   * @returns one {@link LogoffOutcome} per session on the server, in the server's order (and one
   *   per planned session that has ended), each with the `requests` sent to it.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
   * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed
   *   (nothing was sent); after that an abort resolves with the outcomes so far.
   */
  logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[]>;
  logoffAll(options?: unknown): Promise<readonly LogoffOutcome[] | FarmResult<LogoffOutcome>> {
    return this.bulk<LogoffOutcome, CheckedLogoffAll>(
      options,
      (o, keys) => checkLogoffAllOptions(o, keys),
      (ctx, c, ledger) => logoffAllOn(ctx, c, ledger),
      (c) => (c.warn ? c.warn.graceSeconds * 1000 : 0),
    );
  }

  /**
   * `tsdiscon`: disconnects one session — by ID, by name (which must be Active), or with no
   * target your own — and by default waits until it reads Disconnected. Its programs keep running
   * and the user can reconnect. Refusals, identity re-check and waiting as for logoff:
   * `WTSDisconnectSession` with `bWait = FALSE`, then polled.
   *
   * @param target - a session ID or an Active session's WinStation name; none for your own
   *   session (not with `server`).
   * @param options - the server, `wait`, `timeoutMs`, `pollIntervalMs`, `signal`.
   * @returns `{ status: 'disconnected', session, confirmed, requests }`, frozen.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option; no call is made.
   * @throws {@link ServicesSessionError}, {@link ListenerSessionError} or
   *   {@link ConsoleSessionError} for a protected session.
   * @throws {@link SessionNotFoundError}, {@link SessionNotActiveError} or
   *   {@link SessionChangedError}, as for logoff.
   * @throws {@link Win32Error} when a call fails.
   * @throws {@link WtsError} with code `E_TIMEOUT` when the session was not Disconnected after
   *   `timeoutMs` (the request was accepted).
   * @throws {@link OperationAbortedError} when `signal` aborts.
   */
  async disconnect(target?: SessionTarget, options?: ServerDisconnectOptions): Promise<Disconnected> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkDisconnectOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkActionTarget(parsed, server);
    this.refuseIfAborted(checked.signal, 'disconnect', server);
    return this.run(server, (ctx) => disconnectOne(ctx, parsed, checked));
  }

  /**
   * disconnectAll on several servers (`servers`), as logoffAll over many servers.
   *
   * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
   * @returns every server's outcomes in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   */
  disconnectAll(options: OnServers<ServerDisconnectAllOptions, DisconnectOutcome>): Promise<FarmResult<DisconnectOutcome>>;
  /**
   * Disconnects every session on the server except the console, Services, listeners, your own
   * and those already disconnected, narrowed by the filters; `dryRun` and `plan` as in logoffAll.
   * It never rejects because of one session.
   *
   * @param options - the server, the {@link SessionFilter} filters, `dryRun`, `plan`,
   *   `concurrency`, and the {@link WaitOptions}.
   * @returns one {@link DisconnectOutcome} per session on the server, in the server's order.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
   * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed.
   */
  disconnectAll(options?: ServerDisconnectAllOptions): Promise<readonly DisconnectOutcome[]>;
  disconnectAll(options?: unknown): Promise<readonly DisconnectOutcome[] | FarmResult<DisconnectOutcome>> {
    return this.bulk<DisconnectOutcome, CheckedBulk>(options, (o, keys) => checkDisconnectAllOptions(o, keys), (ctx, c, ledger) => disconnectAllOn(ctx, c, ledger));
  }

  /**
   * `msg`: shows a message box in one session (any state: a disconnected user sees it on
   * reconnecting), through `WTSSendMessageW`; with `wait`, resolves to the user's answer.
   * Services and listeners are refused; the console may be messaged.
   *
   * @param target - a session ID or WinStation name (any state); undefined for your own session
   *   (not with `server`).
   * @param options - `text` (required), `title`, `buttons`, `timeoutSeconds`, `wait`, `signal`,
   *   and the server.
   * @returns `{ status: 'sent', session, response, responseCode, requests }`, frozen.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option; no call is made.
   * @throws {@link ServicesSessionError} or {@link ListenerSessionError} for a session nobody is
   *   logged on to.
   * @throws {@link SessionNotFoundError} or {@link SessionChangedError}, as for logoff.
   * @throws {@link Win32Error} when a call fails.
   * @throws {@link OperationAbortedError} when `signal` aborts (while waiting for the answer:
   *   `requests: ['WTSSendMessageW']`, the box is on the screen).
   */
  async sendMessage(target: SessionTarget | undefined, options: ServerMessageOptions): Promise<MessageSent> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    const checked = checkMessageOptions(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkActionTarget(parsed, server);
    this.refuseIfAborted(checked.signal, 'sendMessage', server);
    return this.run(server, (ctx) => sendMessageOne(ctx, parsed, checked));
  }

  /**
   * `msg *` on several servers (`servers`).
   *
   * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
   * @returns every server's outcomes in `results`, and every server that failed in `failures`.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   */
  sendMessageAll(options: OnServers<ServerSendMessageAllOptions, MessageOutcome>): Promise<FarmResult<MessageOutcome>>;
  /**
   * `msg *`: a message to every session with a user on the server (your own and the console
   * included; Services, listeners and sessions without a user skipped), narrowed by the filters;
   * `dryRun` and `plan` as in logoffAll. It never rejects because of one session.
   *
   * @param options - `text` and the message options, the server, the {@link SessionFilter}
   *   filters, `dryRun`, `plan`, `concurrency`.
   * @returns one {@link MessageOutcome} per session on the server, in the server's order.
   * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
   * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
   * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed.
   */
  sendMessageAll(options: ServerSendMessageAllOptions): Promise<readonly MessageOutcome[]>;
  sendMessageAll(options: unknown): Promise<readonly MessageOutcome[] | FarmResult<MessageOutcome>> {
    return this.bulk<MessageOutcome, CheckedMessageAll>(options, (o, keys) => checkMessageAllOptions(o, keys), (ctx, c, ledger) => sendMessageAllOn(ctx, c, ledger));
  }

  /**
   * The checks of an action's target that need nothing from the server: no target with a server,
   * and Services (session 0) and listener IDs, refused on any server before anything is opened.
   * @internal
   */
  protected checkActionTarget(target: ParsedTarget, server: string | undefined): void {
    this.checkCurrentIsLocal(target, server);
    if (target.kind !== 'id') return;
    // The error names the server as every error does: '' for the local machine, under any of its
    // names (a look-up of its names, not a WTS call).
    const refused = refuseNoUser(target.id, undefined, server === undefined || localNamesOf(this.api).has(server) ? '' : server);
    if (refused) throw refused;
  }

  /**
   * No target (your own session) is only defined on the local server.
   * @internal
   */
  protected checkCurrentIsLocal(target: ParsedTarget, server: string | undefined): void {
    if (target.kind === 'current' && server !== undefined) {
      throw new InvalidArgumentError('target', NO_TARGET_WITH_SERVER);
    }
  }
}

/**
 * The API bound to one backend: {@link createWts} makes one (over the auto-detected backend, or
 * the one you give), and the top-level functions (`logoff`, `listSessions`, ...) use a default
 * one. Each call opens the server it needs and closes it; {@link Wts.openServer} keeps one open
 * for several calls. Every method checks all its arguments before the first call, and rejects
 * (never throws) on error; with the koffi backend any call can also reject with
 * {@link ThreadsExhaustedError} when every thread is stuck on servers that do not answer.
 *
 * @example
 * ```ts
 * import { createWts } from 'wts-session';
 * import { createMockApi } from 'wts-session/mock';
 *
 * const wts = createWts({ api: createMockApi(farm) });
 * const sessions = await wts.listSessions({ state: 'Disc' });
 * ```
 */
export class Wts extends Operations {
  /** The backend the calls go to. */
  readonly api: WtsApi;
  /** @internal */
  protected readonly serverKeys = ['server'] as const;
  /** @internal */
  protected readonly manyServers = true;

  /**
   * The API over `api`, as it is: prefer {@link createWts}, which also checks that `api` is a
   * WtsApi (has every method).
   *
   * @param api - the backend: `createKoffiApi()`, `createMockApi(farm)`, or your own {@link WtsApi}.
   */
  constructor(api: WtsApi) {
    super();
    this.api = api;
  }

  /** @internal */
  protected run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T> {
    return withServer(this.api, server, fn);
  }

  /**
   * One handle to a server for several calls: the handle (`WTSOpenServerExW`) is opened on first
   * use, and closed by `close()` or `await using`.
   *
   * @param name - the server: `WF12`, `\\WF12`, a DNS name or an IP address.
   * @returns the server object (nothing is opened yet).
   * @throws {@link InvalidArgumentError} at once (not a rejection) for a name that is not a
   *   NetBIOS name, DNS name or IP address.
   */
  openServer(name: string): WtsServer {
    return WtsServer.open(this.api, normalizeServerName(name, 'name'));
  }

  /**
   * Live session events on one server or many, watched with the first `next()` (see
   * {@link watchSessions}).
   *
   * @param options - `details`, and the other {@link WatchOptions}.
   * @returns the watch: an AsyncIterable of events whose sessions carry their details.
   * @throws {@link InvalidArgumentError} at once (not a rejection) for a bad option; nothing is called.
   */
  watchSessions(options: WatchOptions & { details: true | readonly DetailGroup[] }): SessionWatch<DetailedSession>;
  /**
   * Live session events on one server or many (docs/watchSessions.md). Returns at once; watching
   * starts with the first `next()`, on handles of its own that are closed when the iteration ends.
   *
   * @param options - the server or servers, `signal`, and the other {@link WatchOptions}.
   * @returns the watch: an AsyncIterable of {@link SessionEvent}s.
   * @throws {@link InvalidArgumentError} at once (not a rejection) for a bad option; nothing is called.
   */
  watchSessions(options?: WatchOptions): SessionWatch<Session>;
  watchSessions(options?: WatchOptions): SessionWatch<Session> | SessionWatch<DetailedSession> {
    return watchSessions(this.api, options);
  }
}

/**
 * One server for several calls, with one handle (`WTSOpenServerExW`), opened lazily on the first
 * call and closed by {@link WtsServer.close} or `await using` (AsyncDisposable). Its methods are
 * those of {@link Wts}, with the same options but `server` (and without `servers`: an
 * {@link InvalidArgumentError}); a call without a target is refused (your own session is local).
 * Like Win32, opening an unreachable server does not fail: the first call that uses the handle
 * does (1722). Made by {@link openServer} or {@link Wts.openServer}.
 *
 * @example
 * ```ts
 * await using wf12 = openServer('WF12');
 * const s = await wf12.findSession('TERM04');
 * await wf12.logoff(s.id);
 * ```
 */
export class WtsServer extends Operations implements AsyncDisposable {
  /** The server's name, normalised (`\\WF12` -> `WF12`). */
  readonly name: string;
  /** @internal */
  protected readonly api: WtsApi;
  readonly #connection: ServerConnection;
  /** @internal */
  protected readonly serverKeys = [] as const;
  /** @internal */
  protected readonly manyServers = false;

  /**
   * A server object over `api` for a normalised name.
   * @internal
   */
  static open(api: WtsApi, name: string): WtsServer {
    return new WtsServer(api, name);
  }

  private constructor(api: WtsApi, name: string) {
    super();
    this.api = api;
    this.name = name;
    this.#connection = new ServerConnection(api, name);
  }

  /** @internal */
  protected override serverOf(): string {
    return this.name;
  }

  /** @internal */
  protected override checkCurrentIsLocal(target: ParsedTarget): void {
    super.checkCurrentIsLocal(target, this.name);
  }

  /** The work under way on the handle (a call cut short by an abort may still be running). */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  /** @internal */
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
   * Closes the handle (`WTSCloseServer`), if it was opened, once every call on it has returned — a
   * call that was cut short (abort, timeout) may still be running on the handle, and closing it
   * under that call would be undefined behaviour. No new call starts meanwhile: a later call
   * rejects with {@link InvalidArgumentError}. Idempotent.
   *
   * @returns a promise that resolves once the handle is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      await this.#connection.close();
    })();
    return this.#closing;
  }

  /** `await using`: {@link WtsServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// Re-exported for the package index.
export type { ProcessTarget, TerminateOutcome, TerminateProcessOptions };
export type { DetailedSession, DetailGroup, DisconnectOutcome, Disconnected, FarmResult, MessageOutcome, MessageSent };

