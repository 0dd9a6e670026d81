/**
 * Many servers at once: bounded concurrency, a timeout per server, one server's failure reported
 * beside the others' results, and events as results arrive.
 */
import { InvalidArgumentError, OperationAbortedError, ServerTimeoutError, type WtsError as WtsErrorType } from '../errors';
import { asWtsError, safeCall } from './bulk';

export { ServerTimeoutError };
import type { WtsApi } from '../wtsapi';
import { localNamesOf, withServer, type ServerContext } from './context';
import { mapLimit } from './limit';
import { checkPositiveInteger, checkTimeout, normalizeServerName, readArray, serverNameKey } from './validate';

/**
 * The options of a call over many servers (listSessions, listProcesses and the bulk calls):
 * `servers` instead of `server`. The call then resolves to a {@link FarmResult}: one server's
 * failure is reported beside the others' results, never thrown.
 */
export interface FarmOptions<T> {
  /**
   * The servers: NetBIOS names, DNS names or IP addresses (a non-empty list). Names of one server
   * equal without case, and all the local machine's names, count once.
   */
  servers: readonly string[];
  /**
   * How many servers are worked on at once (1 to 1024).
   * @defaultValue 8
   */
  serverConcurrency?: number;
  /**
   * How long one server may take, in ms, before it is reported as failed ({@link ServerTimeoutError})
   * and no further request is started on it (plus the warning's grace period, with logoffAll's `warn`).
   * @defaultValue 60000
   */
  serverTimeoutMs?: number;
  /**
   * Called as results arrive: a UI can show progress. What it throws (or its promise rejects
   * with) is emitted as a process warning and changes nothing.
   * @defaultValue none
   */
  onEvent?: (event: FarmEvent<T>) => void;
}

export const FARM_KEYS = ['servers', 'serverConcurrency', 'serverTimeoutMs', 'onEvent'] as const;

/** A server that failed in a call over many servers, and why. */
export interface ServerFailure {
  /**
   * The server, by the name it was given as (a `plan`'s server the call did not work on: by the
   * plan's name for it, lower-case, `localhost` for the local server).
   */
  readonly server: string;
  /** Why: a {@link Win32Error} (1722, 5, ...), {@link ServerTimeoutError}, {@link OperationAbortedError}, ... */
  readonly error: WtsErrorType;
}

/** What a call over many servers returns: every result, and every server that failed. */
export interface FarmResult<T> {
  /**
   * Every server's results, in the order the servers were given, each in the server's order
   * (also the outcomes of a server cut short by its timeout or an abort).
   */
  readonly results: readonly T[];
  /** Every server that failed, in the order given. */
  readonly failures: readonly ServerFailure[];
  /** The results of each server that answered, by the name it was given as. */
  readonly byServer: ReadonlyMap<string, readonly T[]>;
}

/**
 * A progress event of a call over many servers (`onEvent`): a server started, one result (an
 * outcome as it is settled, or a listed item), a server done (with its count of results), or a
 * server failed (with the error).
 */
export type FarmEvent<T> =
  | { readonly type: 'serverStarted'; readonly server: string }
  | { readonly type: 'result'; readonly server: string; readonly result: T }
  | { readonly type: 'serverDone'; readonly server: string; readonly count: number }
  | { readonly type: 'serverFailed'; readonly server: string; readonly error: WtsErrorType };

export interface CheckedFarm<T> {
  /** One name per server (asks the backend for the local names on first read). */
  readonly servers: readonly string[];
  /** Every name as given, normalised, before merging (no backend call). */
  readonly given: readonly string[];
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly onEvent: ((event: FarmEvent<T>) => void) | undefined;
}

/**
 * Checks the farm options. `servers` has one entry per server, the first name as given: names
 * equal without case (or the same IP address in two forms) are one server, and so are all the
 * local machine's names (its NetBIOS, DNS and IP names, `localhost`, loopback, `.`), which are
 * asked of `api` when `servers` is first read, after every other option was checked (bad input
 * makes no call). Two DNS names of one remote server stay two entries: telling needs DNS.
 */
export function checkFarm<T>(o: Record<string, unknown>, api?: WtsApi): CheckedFarm<T> {
  const list = readArray(o['servers'], 'options.servers');
  if (!list || list.length === 0) {
    throw new InvalidArgumentError('options.servers', 'Invalid options.servers: a non-empty array of server names.');
  }
  const servers = list.map((s: unknown, i) => normalizeServerName(s, `options.servers[${i}]`));
  const onEvent = o['onEvent'];
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new InvalidArgumentError('options.onEvent', 'Invalid options.onEvent: expected a function.');
  }
  let distinct: readonly string[] | undefined;
  return {
    get servers() {
      distinct ??= oneEntryPerServer(servers, api);
      return distinct;
    },
    given: servers,
    concurrency: o['serverConcurrency'] === undefined ? 8 : checkPositiveInteger(o['serverConcurrency'], 'options.serverConcurrency'),
    timeoutMs: o['serverTimeoutMs'] === undefined ? 60_000 : checkTimeout(o['serverTimeoutMs'], 'options.serverTimeoutMs'),
    onEvent: onEvent as ((event: FarmEvent<T>) => void) | undefined,
  };
}

/** The first name of each server; the local machine's names count as one server. */
function oneEntryPerServer(names: readonly string[], api: WtsApi | undefined): readonly string[] {
  // One name needs no comparing: no backend call for it.
  const local = api && names.length > 1 ? localNamesOf(api) : undefined;
  const seen = new Set<string>();
  const LOCAL = '\u0000local';
  const result: string[] = [];
  for (const name of names) {
    const key = local?.has(name) ? LOCAL : serverNameKey(name);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(name);
  }
  return Object.freeze(result);
}

/** An AbortSignal that fires when any of these does. */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * What a server's work reports into: the outcomes so far, and `close` when the server is cut short
 * (timeout, abort) — a bulk call's Ledger accounts for every session then; a listing drops its
 * partial list (a list with sessions missing would mislead).
 */
export interface Sink<T> {
  outcomes(): T[];
  close(reason: 'timeout' | 'aborted', why: string): void;
}

/** A listing's sink: its results once complete (each reported as it is set), nothing if cut short. */
export class ListSink<T> implements Sink<T> {
  #results: T[] = [];
  #closed = false;
  readonly #emit: (result: T) => void;
  constructor(emit: (result: T) => void) {
    this.#emit = emit;
  }
  set(results: readonly T[]): void {
    if (this.#closed) return;
    this.#results = [...results];
    for (const r of results) this.#emit(r);
  }
  outcomes(): T[] {
    return this.#results;
  }
  close(): void {
    this.#closed = true;
    this.#results = [];
  }
}

/**
 * Runs one server's work until it finishes, `timeoutMs` runs out (ServerTimeoutError), or `signal`
 * aborts: then the work's signal fires (no new request is started), the sink is closed — every
 * request already sent is reported — and this returns at once, without waiting for calls in flight.
 * Rejects with the work's error, the timeout or the abort; the sink keeps what was settled.
 */
export async function runCut(
  work: (signal: AbortSignal) => Promise<void>,
  sink: Sink<unknown>,
  server: string,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<void> {
  const cut = new AbortController();
  const workSignal = anySignal([signal, cut.signal]);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  /** Why the work was cut short: the error this rejects with. */
  let cutBy: WtsErrorType | undefined;
  const stop = new Promise<void>((resolve) => {
    const cutShort = (error: WtsErrorType, reason: 'timeout' | 'aborted', why: string) => {
      cutBy = error;
      // The work sees the timeout, or the caller's own abort reason.
      cut.abort(reason === 'aborted' ? signal?.reason : error);
      sink.close(reason, why);
      resolve();
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => cutShort(new ServerTimeoutError(server, timeoutMs), 'timeout', `the server did not finish within ${timeoutMs} ms`), timeoutMs);
    }
    if (signal) {
      onAbort = () => cutShort(aborted(server, signal.reason), 'aborted', 'the call was aborted');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  const running = work(workSignal);
  try {
    await Promise.race([running, stop]);
    if (cutBy) {
      running.catch(() => undefined); // it finishes in the background; its settles are ignored
      throw cutBy;
    }
  } finally {
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function aborted(server: string, reason: unknown): WtsErrorType {
  return new OperationAbortedError('The call', reason, { server });
}

/**
 * Runs `work` on every server (at most `concurrency` at once). `work` gets a signal that fires
 * on the caller's abort or the server's timeout, and the sink it reports into. A server cut short
 * or failing is in `failures`, and whatever its sink holds (a bulk call: an outcome for every
 * session it listed, including every request sent) is still in `results`.
 */
export async function overServers<T>(
  api: WtsApi,
  farm: CheckedFarm<T>,
  signal: AbortSignal | undefined,
  extraTimeoutMs: number,
  makeSink: (emit: (result: T) => void) => Sink<T>,
  work: (ctx: ServerContext, signal: AbortSignal, sink: Sink<T>) => Promise<void>,
): Promise<FarmResult<T>> {
  const perServer = new Map<string, readonly T[]>();
  const failures: ServerFailure[] = [];
  const timeoutMs = farm.timeoutMs + extraTimeoutMs;
  const event = (e: FarmEvent<T>) => safeCall(farm.onEvent, e);
  await mapLimit(farm.servers, farm.concurrency, async (server) => {
    event({ type: 'serverStarted', server });
    // Events stream in the order results arrive; the returned list keeps the server's order.
    const sink = makeSink((result) => event({ type: 'result', server, result }));
    try {
      await runCut((serverSignal) => withServer(api, server, (ctx) => work(ctx, serverSignal, sink)), sink, server, signal, timeoutMs);
      perServer.set(server, sink.outcomes());
      event({ type: 'serverDone', server, count: sink.outcomes().length });
    } catch (error) {
      perServer.set(server, sink.outcomes());
      const failure = { server, error: asWtsError(error) };
      failures.push(failure);
      event({ type: 'serverFailed', server, error: failure.error });
    }
  });
  const results = farm.servers.flatMap((s) => perServer.get(s) ?? []);
  const order = new Map(farm.servers.map((s, i) => [s, i] as const));
  failures.sort((a, b) => (order.get(a.server) ?? 0) - (order.get(b.server) ?? 0));
  const failed = new Set(failures.map((f) => f.server));
  const byServer = new Map(
    farm.servers.filter((s) => perServer.has(s) && (!failed.has(s) || (perServer.get(s) ?? []).length > 0)).map((s) => [s, perServer.get(s) as readonly T[]] as const),
  );
  return Object.freeze({ results: Object.freeze(results), failures: Object.freeze(failures), byServer });
}
