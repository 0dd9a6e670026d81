/**
 * Many servers at once: bounded concurrency, a timeout per server, one server's failure reported
 * beside the others' results, and events as results arrive.
 */
import { setMaxListeners } from 'node:events';
import { InvalidArgumentError, OperationAbortedError, ServerTimeoutError, type WtsError as WtsErrorType } from '../errors';
import { asWtsError, safeCall } from './bulk';

export { ServerTimeoutError };
import type { WtsApi } from '../wtsapi';
import { cutBy, localNamesOf, withServer, type ServerContext } from './context';
import { Slots } from './limit';
import { checkPositiveInteger, checkTimeout, normalizeServerName, readArray, serverNameKey, type LocalServerNames } from './validate';

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
   * How many servers are worked on at once (1 to 1024): their sessions queried, warned or acted on.
   * A server is first opened and listed, up to `listConcurrency` at a time, and then waits for one
   * of these slots; when it had to wait, its sessions are listed again as its work starts, so that
   * what it acts on is never older than its turn. A plain listing has no such work: it runs
   * `listConcurrency` servers at once.
   * @defaultValue 8
   */
  serverConcurrency?: number;
  /**
   * How many servers are opened and listed at once (1 to 1024), one request at a time on each. Listing
   * runs ahead of the work, so a server that does not answer is found at the start and waits out
   * its timeout beside the others, instead of in the queue: it holds one thread, not a
   * `serverConcurrency` slot. A server listed ahead keeps its connection open until its work is done.
   * @defaultValue 64
   */
  listConcurrency?: number;
  /**
   * How long one server may take, in ms, before it is reported as failed ({@link ServerTimeoutError})
   * and no further request is started on it (plus the warning's grace period, with logoffAll's `warn`).
   * The time a listed server waits for its `serverConcurrency` slot does not count.
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

export const FARM_KEYS = ['servers', 'serverConcurrency', 'listConcurrency', 'serverTimeoutMs', 'onEvent'] as const;

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
 * A progress event of a call over many servers (`onEvent`): a server started (its listing), one
 * result (an outcome as it is settled, or a listed item), a server done (with its count of
 * results), or a server failed (with the error). Each server gets one `serverDone` or
 * `serverFailed`; a server the call never started (it was aborted first) has no `serverStarted`.
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
  /** Servers worked on at once (serverConcurrency). */
  readonly concurrency: number;
  /** Servers opened and listed at once (listConcurrency). */
  readonly listConcurrency: number;
  readonly timeoutMs: number;
  readonly onEvent: ((event: FarmEvent<T>) => void) | undefined;
  /** The local machine's names, asked of the backend once per call (on first use). */
  readonly localNames: () => LocalServerNames;
}

/**
 * Checks the farm options. `servers` has one entry per server, the first name as given: names
 * equal without case (or the same IP address in two forms) are one server, and so are all the
 * local machine's names (its NetBIOS, DNS and IP names, `localhost`, loopback, `.`), which are
 * asked of `api` when `servers` is first read, after every other option was checked (bad input
 * makes no call). Two DNS names of one remote server stay two entries: telling needs DNS.
 */
export function checkFarm<T>(o: Record<string, unknown>, api: WtsApi): CheckedFarm<T> {
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
  let local: LocalServerNames | undefined;
  const localNames = () => (local ??= localNamesOf(api));
  return {
    get servers() {
      distinct ??= oneEntryPerServer(servers, localNames);
      return distinct;
    },
    given: servers,
    concurrency: o['serverConcurrency'] === undefined ? 8 : checkPositiveInteger(o['serverConcurrency'], 'options.serverConcurrency'),
    listConcurrency: o['listConcurrency'] === undefined ? 64 : checkPositiveInteger(o['listConcurrency'], 'options.listConcurrency'),
    timeoutMs: o['serverTimeoutMs'] === undefined ? 60_000 : checkTimeout(o['serverTimeoutMs'], 'options.serverTimeoutMs'),
    onEvent: onEvent as ((event: FarmEvent<T>) => void) | undefined,
    localNames,
  };
}

/** The first name of each server; the local machine's names count as one server. */
function oneEntryPerServer(names: readonly string[], localNames: () => LocalServerNames): readonly string[] {
  // One name needs no comparing: no backend call for it.
  const local = names.length > 1 ? localNames() : undefined;
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

/**
 * An AbortSignal that fires when any of these does, and `dispose`, which takes its listeners off
 * the given signals (a long-lived signal of the caller's, shared by many calls, keeps none).
 */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const listening: Array<[AbortSignal, () => void]> = [];
  const dispose = () => {
    for (const [s, listener] of listening) s.removeEventListener('abort', listener);
    listening.length = 0;
  };
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const listener = () => {
      dispose();
      controller.abort(s.reason);
    };
    s.addEventListener('abort', listener, { once: true });
    listening.push([s, listener]);
  }
  if (controller.signal.aborted) dispose();
  return { signal: controller.signal, dispose };
}

/**
 * What a server's work reports into: the outcomes so far, and `close` when the server is cut short
 * (timeout, abort) — a bulk call's Ledger accounts for every session then; a listing drops its
 * partial list (a list with sessions missing would mislead).
 */
export interface Sink<T> {
  outcomes(): T[];
  close(reason: 'timeout' | 'aborted', why: string): void;
  /** The work failed (not cut short) after reporting some: a bulk call accounts for every session it listed. */
  fail(error: unknown): void;
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
  fail(): void {
    this.close();
  }
}

/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A server's time limit that can stop counting while the server waits for its turn (a
 * `serverConcurrency` slot) and go on from where it was.
 */
export class Countdown {
  readonly ms: number;
  #left: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #fire: (() => void) | undefined;
  #paused = false;
  #stopped = false;
  constructor(ms: number) {
    this.ms = ms;
    this.#left = ms;
  }
  /** Starts counting; `fire` runs once the time is used up. */
  start(fire: () => void): void {
    this.#fire = fire;
    if (!this.#paused) this.#arm();
  }
  pause(): void {
    if (this.#paused || this.#stopped) return;
    this.#paused = true;
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#left -= performance.now() - this.#since;
  }
  resume(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    if (this.#fire) this.#arm();
  }
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
  #arm(): void {
    const fire = this.#fire;
    if (this.#stopped || !fire) return;
    this.#since = performance.now();
    // setTimeout fires at once (with a warning) past 2^31-1 ms: a longer time is waited in steps.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#left -= performance.now() - this.#since;
      if (this.#left >= 1) this.#arm();
      else fire();
    }, Math.max(0, Math.min(this.#left, MAX_TIMER_MS)));
  }
}

/**
 * Runs one server's work until it finishes, its time (`limit`) runs out (ServerTimeoutError), or
 * `signal` aborts: then the work's signal fires (no new request is started), the sink is closed —
 * every request already sent is reported — and this returns at once, without waiting for calls in
 * flight. Rejects with the work's error, the timeout or the abort; the sink keeps what was settled.
 */
export async function runCut(
  work: (signal: AbortSignal) => Promise<void>,
  sink: Sink<unknown>,
  serverLabel: string | (() => string),
  signal: AbortSignal | undefined,
  limit: number | Countdown | undefined,
): Promise<void> {
  // How the errors name the server; worked out only when one is made (it may ask the backend).
  const server = () => (typeof serverLabel === 'string' ? serverLabel : serverLabel());
  const cut = new AbortController();
  const { signal: workSignal, dispose } = anySignal([signal, cut.signal]);
  // A backend may listen once per call in flight (up to `concurrency`, at most 1024) on it.
  setMaxListeners(2048, workSignal);
  const clock = typeof limit === 'number' ? new Countdown(limit) : limit;
  let onAbort: (() => void) | undefined;
  /** Why the work was cut short: the error this rejects with. */
  let stoppedBy: WtsErrorType | undefined;
  const stop = new Promise<void>((resolve) => {
    const cutShort = (error: WtsErrorType, reason: 'timeout' | 'aborted', why: string) => {
      if (stoppedBy) return;
      stoppedBy = error;
      // The work sees the timeout, or the caller's own abort reason.
      cut.abort(reason === 'aborted' ? signal?.reason : error);
      sink.close(reason, why);
      resolve();
    };
    if (clock) {
      const ms = clock.ms;
      clock.start(() => cutShort(new ServerTimeoutError(server(), ms), 'timeout', `the server did not finish within ${ms} ms`));
    }
    if (signal) {
      onAbort = () => cutShort(aborted(server(), signal.reason), 'aborted', 'the call was aborted');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    // Aborted before it started: no request at all (not even the server's open).
    if (stoppedBy) throw stoppedBy;
    const running = work(workSignal);
    try {
      await Promise.race([running, stop]);
    } catch (error) {
      // The work failed, not cut short: nothing more starts on the server, and every session it
      // listed is accounted for with the failure (a listing drops its partial list).
      cut.abort(error);
      sink.fail(error);
      throw error;
    }
    if (stoppedBy) {
      running.catch(() => undefined); // it finishes in the background; its settles are ignored
      throw stoppedBy;
    }
  } finally {
    clock?.stop();
    dispose();
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function aborted(server: string, reason: unknown): WtsErrorType {
  return new OperationAbortedError('The call', reason, { server });
}

/**
 * Runs `work` on every server. Each server is opened and listed with at most
 * `farm.listConcurrency` others; work that goes on to query or act on sessions first calls
 * `ctx.ready()`, which gives the listing slot back and waits for one of `farm.concurrency` work
 * slots (its timeout does not run meanwhile) and says whether it had to wait (then the work lists
 * the server again). `work` gets a signal that fires on the caller's abort or the server's
 * timeout, and the sink it reports into. A server cut short or failing is in `failures`, and
 * whatever its sink holds (a bulk call: an outcome for every session it listed, including every
 * request sent) is still in `results`.
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
  const listing = new Slots(farm.listConcurrency);
  const working = new Slots(farm.concurrency);
  // One listener on the caller's signal for the whole call; the servers listen to this one (a
  // call over many servers would otherwise put two listeners per server on the caller's signal).
  // Read first: it may ask the backend for the local names, and throw (nothing to undo then).
  const servers = farm.servers;
  const call = signal ? anySignal([signal]) : undefined;
  if (call) setMaxListeners(2 * servers.length + 16, call.signal);
  try {
    await Promise.all(
      servers.map(async (server) => {
        const releaseListing = await listing.acquire();
        let releaseWorking: (() => void) | undefined;
        let finished = false;
        const clock = new Countdown(timeoutMs);
        /** The server's turn to work on its sessions: true when it had to wait for it. */
        const takeTurn = async (workSignal: AbortSignal): Promise<boolean> => {
          workSignal.throwIfAborted();
          releaseListing();
          const now = working.tryAcquire();
          if (now) {
            releaseWorking = now;
            return false;
          }
          clock.pause();
          let release: () => void;
          try {
            release = await working.acquire(workSignal);
          } finally {
            clock.resume();
          }
          releaseWorking = release;
          // Cut short while the slot was being handed over: the slot goes back at once.
          if (finished) release();
          workSignal.throwIfAborted();
          return true;
        };
        // Asked once per server's work: a second call gets the same turn, never a second slot.
        let turn: Promise<boolean> | undefined;
        const ready = (workSignal: AbortSignal) => (turn ??= takeTurn(workSignal));
        // A server the call never starts (aborted before its turn to be listed) has only its serverFailed.
        if (!call?.signal.aborted) event({ type: 'serverStarted', server });
        // Events stream in the order results arrive; the returned list keeps the server's order.
        const sink = makeSink((result) => event({ type: 'result', server, result }));
        try {
          await runCut(
            (serverSignal) =>
              withServer(api, server, (ctx) => work(cutBy(ctx, serverSignal, { ready: () => ready(serverSignal) }), serverSignal, sink), farm.localNames),
            sink,
            server,
            call?.signal,
            clock,
          );
          perServer.set(server, sink.outcomes());
          event({ type: 'serverDone', server, count: sink.outcomes().length });
        } catch (error) {
          perServer.set(server, sink.outcomes());
          const failure = { server, error: asWtsError(error) };
          failures.push(failure);
          event({ type: 'serverFailed', server, error: failure.error });
        } finally {
          finished = true;
          releaseListing();
          releaseWorking?.();
        }
      }),
    );
  } finally {
    call?.dispose();
  }
  const results = farm.servers.flatMap((s) => perServer.get(s) ?? []);
  const order = new Map(farm.servers.map((s, i) => [s, i] as const));
  failures.sort((a, b) => (order.get(a.server) ?? 0) - (order.get(b.server) ?? 0));
  const failed = new Set(failures.map((f) => f.server));
  const byServer = new Map(
    farm.servers.filter((s) => perServer.has(s) && (!failed.has(s) || (perServer.get(s) ?? []).length > 0)).map((s) => [s, perServer.get(s) as readonly T[]] as const),
  );
  return Object.freeze({ results: Object.freeze(results), failures: Object.freeze(failures), byServer });
}
