/**
 * watchSessions: live session events. WTSWaitSystemEvent says only which KINDS of event happened
 * on a server, never which session, and (assumed) nothing of what happened between two waits; so
 * every wake is followed by an enumeration — the same one listSessions makes — diffed against the
 * last one, and a periodic reconcile catches what no wait saw. Without a usable wait (a backend
 * without it, Wine's stub that fails at once with 0, a server answering 50 or 120), the server is
 * polled instead. See docs/watchSessions.md.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, OperationAbortedError, type WtsError } from '../errors';
import { Win32, WtsEvent, type WtsApi } from '../wtsapi';
import { asWin32, asWtsError, isWin32 } from './bulk';
import { cutBy, localNamesOf, ServerConnection, serverLabel, type ServerContext } from './context';
import { checkDetails, fetchDetails, GONE, withDetails, type DetailedSession, type DetailGroup, type DetailsOption } from './details';
import { checkFarm } from './farm';
import { mapLimit } from './limit';
import { enumerate, sameUser } from './sessions';
import type { Session, SessionState } from './types';
import { checkBoolean, checkKnownKeys, checkOptionsObject, readSignal, checkTimeout, normalizeServerName, readArray, type LocalServerNames } from './validate';

/**
 * A change of one session, as the diff of two listings tells it: `logon` / `logoff` (a user's
 * logon appeared / ended), `create` / `delete` (a session without a user appeared / ended),
 * `connect` / `disconnect`, `stateChange` (any other change of state), `lock` / `unlock` (same
 * logon and state; only with the `lock` detail group, when both listings know the lock state),
 * `rename` (same logon and state, another WinStation name). See docs/watchSessions.md for which
 * change emits which.
 */
export type SessionChangeType = 'logon' | 'logoff' | 'connect' | 'disconnect' | 'create' | 'delete' | 'rename' | 'stateChange' | 'lock' | 'unlock';
export const SESSION_CHANGE_TYPES: readonly SessionChangeType[] = ['logon', 'logoff', 'connect', 'disconnect', 'create', 'delete', 'rename', 'stateChange', 'lock', 'unlock'];

/** One session changed: what watchSessions yields for each change it sees. */
export interface SessionChangeEvent<S extends Session = Session> {
  /** What changed. */
  readonly type: SessionChangeType;
  /** '' for the local server, else the server's name as given (normalised). */
  readonly server: string;
  /**
   * The session now, as listSessions returns it (with `details` when asked for). For a `logoff` or
   * `delete` of a session that is no longer listed: the session as it was last seen.
   */
  readonly session: S;
  /** The session as it was last seen; absent for a session that was not there before. */
  readonly before?: S;
  /** true when the session is no longer listed (a `logoff` or `delete` that ended it); else absent. */
  readonly gone?: true;
  /** When the change was seen (the end of the enumeration that showed it). */
  readonly at: Date;
}

/** A server could not be opened, enumerated or waited on; it is retried after `retryInMs`. */
export interface ServerErrorEvent {
  /** A server failed. */
  readonly type: 'serverError';
  /** `''` for the local server, else the server's name as given (normalised). */
  readonly server: string;
  /** Why: a {@link Win32Error} (1722, 5, ...) or another {@link WtsError}. */
  readonly error: WtsError;
  /** How many times in a row the server has failed (1 the first time). */
  readonly attempt: number;
  /** When it is tried again, in ms (doubling from `retryMinMs` up to `retryMaxMs`). */
  readonly retryInMs: number;
  /** When the failure was seen. */
  readonly at: Date;
}

/** A server that failed answers again; the changes since it was last seen follow. */
export interface ServerBackEvent {
  /** The server answers again. */
  readonly type: 'serverBack';
  /** `''` for the local server, else the server's name as given (normalised). */
  readonly server: string;
  /** When it answered. */
  readonly at: Date;
}

/** With `initial: true`: a server's first listing, before any change. */
export interface SnapshotEvent<S extends Session = Session> {
  /** The server's first listing. */
  readonly type: 'snapshot';
  /** `''` for the local server, else the server's name as given (normalised). */
  readonly server: string;
  /** Every session, as listSessions returns them (with `details` when asked for). */
  readonly sessions: readonly S[];
  /** When the listing ended. */
  readonly at: Date;
}

/** What watchSessions yields: a session's change, a server's failure or return, or a first listing. */
export type SessionEvent<S extends Session = Session> = SessionChangeEvent<S> | ServerErrorEvent | ServerBackEvent | SnapshotEvent<S>;
/** The `type` of a {@link SessionEvent}: what the `events` option of watchSessions selects. */
export type SessionEventType = SessionEvent['type'];
export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [...SESSION_CHANGE_TYPES, 'serverError', 'serverBack', 'snapshot'];

/** The options of watchSessions. */
export interface WatchOptions {
  /**
   * The server: `WF12`, `\\WF12`, a DNS name or an IP address. Not with `servers`.
   * @defaultValue the local server
   */
  server?: string;
  /**
   * Several servers, watched at once (not with `server`); the local machine's names count once.
   * @defaultValue none: one server
   */
  servers?: readonly string[];
  /**
   * Ends the watch: the iteration rejects with {@link OperationAbortedError} once every wait has
   * returned and every handle is closed.
   * @defaultValue none
   */
  signal?: AbortSignal;
  /**
   * Also enumerate this often (ms) while waiting, for changes no wait reported; 0 never.
   * @defaultValue 30000
   */
  reconcileMs?: number;
  /**
   * How often (ms) a server is enumerated when it cannot be waited on (1 or more).
   * @defaultValue 2000
   */
  pollMs?: number;
  /**
   * Each session also carries its details (as listSessions' `details`, queried on every
   * enumeration); `'times'` adds its logon time to its identity.
   * @defaultValue none
   */
  details?: DetailsOption;
  /**
   * Only these event types are yielded (a non-empty list).
   * @defaultValue every type
   */
  events?: readonly SessionEventType[];
  /**
   * Yield a `snapshot` event with each server's first listing; without it, only changes.
   * @defaultValue false
   */
  initial?: boolean;
  /**
   * The first retry of a failed server after this many ms (1 or more), doubling up to `retryMaxMs`.
   * @defaultValue 1000
   */
  retryMinMs?: number;
  /**
   * The longest pause between retries of a failed server, in ms (not less than `retryMinMs`).
   * @defaultValue 60000, or `retryMinMs` when that is more
   */
  retryMaxMs?: number;
}

const WATCH_KEYS = ['server', 'servers', 'signal', 'reconcileMs', 'pollMs', 'details', 'events', 'initial', 'retryMinMs', 'retryMaxMs'] as const;

/**
 * How a wait says it is not implemented: 0 (Wine's stub returns FALSE without an error code), 50
 * ERROR_NOT_SUPPORTED, 120 ERROR_CALL_NOT_IMPLEMENTED. Such a server is polled for the rest of
 * the watch (never waited on again: a wait that fails at once would spin).
 */
const WAIT_UNSUPPORTED: ReadonlySet<number> = new Set([0, Win32.ERROR_NOT_SUPPORTED, Win32.ERROR_CALL_NOT_IMPLEMENTED]);

/** Whether a wait's failure says the server cannot wait at all (0, 50, 120): it is polled instead. */
function cannotWait(error: unknown): boolean {
  const code = asWin32(error)?.win32Code;
  return code !== undefined && WAIT_UNSUPPORTED.has(code);
}
/** The shortest time between two enumerations of a server: a burst of events is one enumeration. */
export const MIN_REFRESH_MS = 25;
/** How long a wait not yet back after a flush waits before the flush is made again. */
const FLUSH_AGAIN_MS = 50;

/**
 * How long ending a watch waits for a flushed wait to return before abandoning it: the watch then
 * ends, and the wait is flushed again every REFLUSH_MS in the background until it returns, when
 * its handle is closed.
 */
const RELEASE_MS = 5000;
/** How often an abandoned wait is flushed again, in the background, until it returns. */
const REFLUSH_MS = 1000;

interface CheckedWatch {
  /** undefined: the local server. */
  readonly names: () => ReadonlyArray<string | undefined>;
  /** The local machine's names, asked once (the ones `servers` was checked with, when given). */
  readonly localNames: () => LocalServerNames;
  readonly signal: AbortSignal | undefined;
  readonly reconcileMs: number;
  readonly pollMs: number;
  readonly details: ReadonlySet<DetailGroup>;
  readonly events: ReadonlySet<SessionEventType> | undefined;
  readonly initial: boolean;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

function positiveMs(value: unknown, argument: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = checkTimeout(value, argument);
  if (ms < 1) throw new InvalidArgumentError(argument, `Invalid ${argument}: expected milliseconds from 1 to 2147483647, got ${ms}.`);
  return ms;
}

/** Checks every option; makes no backend call (the local server's names are asked when watching starts). */
export function checkWatchOptions(options: unknown, api: WtsApi): CheckedWatch {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, WATCH_KEYS);
  if (o['server'] !== undefined && o['servers'] !== undefined) throw new InvalidArgumentError('options.server', 'Give either server or servers, not both.');
  let names: () => ReadonlyArray<string | undefined>;
  let local: LocalServerNames | undefined;
  let localNames = () => (local ??= localNamesOf(api));
  if (o['servers'] !== undefined) {
    const farm = checkFarm({ servers: o['servers'] }, api);
    names = () => farm.servers;
    localNames = farm.localNames;
  } else {
    const one = o['server'] === undefined ? undefined : normalizeServerName(o['server'], 'options.server');
    names = () => [one];
  }
  let events: Set<SessionEventType> | undefined;
  if (o['events'] !== undefined) {
    const list = readArray(o['events'], 'options.events');
    if (!list || list.length === 0 || list.some((t) => !(SESSION_EVENT_TYPES as readonly unknown[]).includes(t))) {
      throw new InvalidArgumentError('options.events', `Invalid options.events: a non-empty list of ${SESSION_EVENT_TYPES.join(', ')}.`);
    }
    events = new Set(list as SessionEventType[]);
  }
  const reconcileMs = o['reconcileMs'] === undefined ? 30_000 : checkTimeout(o['reconcileMs'], 'options.reconcileMs');
  const retryMinMs = positiveMs(o['retryMinMs'], 'options.retryMinMs', 1000);
  const retryMaxMs = positiveMs(o['retryMaxMs'], 'options.retryMaxMs', Math.max(60_000, retryMinMs));
  if (retryMaxMs < retryMinMs) throw new InvalidArgumentError('options.retryMaxMs', `Invalid options.retryMaxMs: less than retryMinMs (${retryMinMs}).`);
  return {
    names,
    localNames,
    signal: readSignal(o),
    reconcileMs,
    pollMs: positiveMs(o['pollMs'], 'options.pollMs', 2000),
    details: checkDetails(o['details']),
    events,
    initial: o['initial'] === undefined ? false : checkBoolean(o['initial'], 'options.initial'),
    retryMinMs,
    retryMaxMs,
  };
}

/**
 * Watches sessions on one server or many. Returns at once, having checked every option (a bad one
 * throws InvalidArgumentError, and nothing is called); watching starts with the first `next()`.
 * The iteration ends without error on `break` / `return()`, and rejects with OperationAbortedError
 * (`name: 'AbortError'`) when `signal` aborts — in both cases only once every wait has returned and
 * every handle is closed. A failing server never ends it: it yields `serverError` and is retried.
 */
export function watchSessions(api: WtsApi, options: WatchOptions & { details: true | readonly DetailGroup[] }): SessionWatch<DetailedSession>;
export function watchSessions(api: WtsApi, options?: WatchOptions): SessionWatch<Session>;
export function watchSessions(api: WtsApi, options?: WatchOptions): SessionWatch<Session> | SessionWatch<DetailedSession> {
  return SessionWatch.start<Session>(api, checkWatchOptions(options, api));
}

/**
 * A watch's events, as an AsyncIterator for one consumer: what watchSessions returns. Consume it
 * with `for await`; `break`, `return()` or `await using` (AsyncDisposable) ends it without error,
 * the `signal` with an {@link OperationAbortedError}; either way only once every wait has returned
 * and every handle is closed. Events not yet consumed when it ends are dropped.
 *
 * @typeParam S - {@link Session}, or {@link DetailedSession} with `details`.
 */
export class SessionWatch<S extends Session = Session> implements AsyncIterableIterator<SessionEvent<S>>, AsyncDisposable {
  readonly #api: WtsApi;
  readonly #options: CheckedWatch;
  readonly #queue = new EventQueue<SessionEvent<S>>();
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #started = false;
  /** The signal fired: the iteration ends with its rejection, even if return() comes before the watch has ended. */
  #aborted = false;
  #closing: Promise<void> | undefined;

  /**
   * A watch over checked options; it starts with the first `next()`.
   * @internal
   */
  static start<S extends Session>(api: WtsApi, options: CheckedWatch): SessionWatch<S> {
    return new SessionWatch<S>(api, options);
  }

  private constructor(api: WtsApi, options: CheckedWatch) {
    this.#api = api;
    this.#options = options;
    // Every watched server listens to this (its own) signal, a few listeners each: no leak, however
    // many servers (Node warns beyond 10 by default).
    setMaxListeners(0, this.#stop.signal);
  }

  /**
   * The watch is its own iterator: `for await (const event of watch)`.
   *
   * @returns this watch.
   */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next event. The first call starts watching (opens the servers, lists them).
   *
   * @returns the next event, or `{ done: true }` once the watch has ended.
   * @throws {@link OperationAbortedError} (a rejection) when the `signal` aborted; once, after
   *   which the iteration is done. A {@link WtsError} when the local machine's names could not
   *   be read to start a watch of several servers.
   */
  next(): Promise<IteratorResult<SessionEvent<S>, undefined>> {
    if (!this.#started) this.#start();
    return this.#queue.next();
  }

  /**
   * Stops watching: pending `next()` calls end with `{ done: true }`.
   *
   * @returns `{ done: true }`, once every wait has returned and every handle is closed.
   */
  async return(): Promise<IteratorResult<SessionEvent<S>, undefined>> {
    // A watch ended before it started never starts: a later next() is done, with no call made.
    this.#started = true;
    // After the signal, the abort's rejection stands: a next() waiting for it still gets it.
    if (!this.#aborted) this.#queue.end();
    await this.#shutdown();
    return { done: true, value: undefined };
  }

  /** `await using`: {@link SessionWatch.return}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.return().then(() => undefined);
  }

  #start(): void {
    this.#started = true;
    const { signal } = this.#options;
    if (signal?.aborted) {
      this.#queue.end(new OperationAbortedError('Watching sessions', signal.reason));
      return;
    }
    const onAbort = () => {
      // What was queued is not handed out after the abort; next() rejects once the watch has ended.
      this.#aborted = true;
      this.#queue.discard();
      void this.#shutdown().then(() => this.#queue.end(new OperationAbortedError('Watching sessions', signal?.reason)));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let names: ReadonlyArray<string | undefined>;
    try {
      names = this.#options.names();
    } catch (error) {
      // The backend could not say the local machine's names: nothing is watched.
      signal?.removeEventListener('abort', onAbort);
      this.#queue.end(asWtsError(error));
      return;
    }
    const push = (event: SessionEvent<S>) => {
      if (this.#stop.signal.aborted) return;
      if (this.#options.events && !this.#options.events.has(event.type)) return;
      this.#queue.push(event);
    };
    // Events name the local server '' from the first, even when its first open fails.
    const workers = names.map((name) => new ServerWatch<S>(this.#api, name, serverLabel(name, this.#options.localNames), this.#options, push, this.#stop.signal).run());
    this.#running = Promise.all(workers).then(() => {
      signal?.removeEventListener('abort', onAbort);
    });
  }

  #shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#running;
    })();
    return this.#closing;
  }
}

/** A queue of events for one consumer; `end` finishes it (with an error to reject with, or none). */
class EventQueue<T> {
  readonly #items: T[] = [];
  readonly #readers: Array<{ resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: unknown) => void }> = [];
  #ended = false;
  #discarding = false;
  #error: unknown;

  push(item: T): void {
    if (this.#ended || this.#discarding) return;
    const reader = this.#readers.shift();
    if (reader) reader.resolve({ done: false, value: item });
    else this.#items.push(item);
  }

  /** Drops what is queued and takes nothing more; readers wait for `end`. */
  discard(): void {
    this.#items.length = 0;
    this.#discarding = true;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#items.length = 0; // what the consumer stopped for is not delivered after it
    for (const reader of this.#readers.splice(0)) {
      if (error === undefined) reader.resolve({ done: true, value: undefined });
      else reader.reject(error);
    }
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    if (this.#ended) {
      // The error is reported once; after that the iteration is simply done, as a generator's is.
      const error = this.#error;
      this.#error = undefined;
      return error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }
}

/** Sleeps `ms`, or less when `signal` aborts; resolves to false then. Leaves no timer behind. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

type WaitResult = { readonly kind: 'flags'; readonly flags: number } | { readonly kind: 'error'; readonly error: unknown };

/**
 * The WTSWaitSystemEvent call pending on one handle: at most one at a time, started before each
 * enumeration (so a change during the enumeration wakes the next wait instead of being lost), and
 * released — flushed, and its return awaited — before the handle is closed.
 */
class EventWait {
  readonly #ctx: ServerContext;
  #pending: Promise<WaitResult> | undefined;
  /** Resolves when the pending wait has left WTSWaitSystemEvent (abandoned or not). */
  #returned: Promise<void> | undefined;
  /** What the pending wait returned, once it has. */
  #settled: WaitResult | undefined;
  /** Whether the pending wait has still not been made, when the backend said it was queued. */
  #notMade: (() => boolean) | undefined;
  readonly #abandon = new AbortController();

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
  }

  /** Starts a wait unless one is pending. */
  arm(): void {
    if (this.#pending || !this.#ctx.api.waitSystemEvent) return;
    this.#settled = undefined;
    this.#notMade = undefined;
    let back!: () => void;
    const returned = new Promise<void>((resolve) => (back = resolve));
    const abandon = this.#abandon.signal;
    const onQueued = (notMade: () => boolean) => {
      if (this.#pending === pending) this.#notMade = notMade;
    };
    const pending: Promise<WaitResult> = this.#ctx.api.waitSystemEvent(this.#ctx.handle, WtsEvent.All, { signal: abandon, onReturn: back, onQueued }).then(
      (flags) => ({ kind: 'flags', flags }),
      (error: unknown) => ({ kind: 'error', error }),
    );
    this.#pending = pending;
    this.#returned = returned;
    void pending.then((result) => {
      if (this.#pending === pending) this.#settled = result;
      // A wait that ended by itself has returned, whether or not the backend calls onReturn; one
      // rejected because the watch abandoned it may still be in the call (onReturn says when not).
      if (!(result.kind === 'error' && abandon.aborted)) back();
    });
  }

  /** The pending wait's failure, when it has already failed with an error other than 0, 50 or 120. */
  failure(): { readonly error: unknown } | undefined {
    const settled = this.#settled;
    return settled?.kind === 'error' && !cannotWait(settled.error) ? { error: settled.error } : undefined;
  }

  /**
   * The next wake: 'event' (the wait returned), 'reconcile' (`reconcileMs` passed; the wait stays
   * pending), 'stop', or 'unsupported' (the wait failed with 0, 50 or 120). Another failure throws.
   */
  async next(reconcileMs: number, stop: AbortSignal): Promise<'event' | 'reconcile' | 'stop' | 'unsupported'> {
    this.arm();
    const pending = this.#pending as Promise<WaitResult>;
    const cleanup: Array<() => void> = [];
    const raced = await Promise.race<WaitResult | 'reconcile' | 'stop'>([
      pending,
      new Promise<'stop'>((resolve) => {
        if (stop.aborted) return resolve('stop');
        const on = () => resolve('stop');
        stop.addEventListener('abort', on, { once: true });
        cleanup.push(() => stop.removeEventListener('abort', on));
      }),
      ...(reconcileMs > 0
        ? [
            new Promise<'reconcile'>((resolve) => {
              const timer = setTimeout(() => resolve('reconcile'), reconcileMs);
              cleanup.push(() => clearTimeout(timer));
            }),
          ]
        : []),
    ]);
    for (const c of cleanup) c();
    if (raced === 'reconcile' || raced === 'stop') return raced;
    this.#pending = undefined;
    this.#settled = undefined;
    if (raced.kind === 'flags') return 'event';
    if (cannotWait(raced.error)) return 'unsupported';
    throw raced.error;
  }

  /**
   * Ends the pending wait before its handle is closed: WTS_EVENT_FLUSH until it has returned,
   * made again every FLUSH_AGAIN_MS (a wait on its way into WTSWaitSystemEvent is not released by
   * a flush made before it got there; a flush that fails, or that the backend's threads refuse,
   * is made again too). Resolves to undefined once the wait has returned: the handle may be
   * closed. A wait not back within RELEASE_MS is abandoned (the watch need not wait for it any
   * longer) and returned as `late`: its handle must stay open until `returned`, and `flush`
   * releases it. A backend without flush: the wait is abandoned at once, and its closeServer
   * never closes under a call still running (the WtsApi contract). A wait still queued for a
   * thread (CallOptions.onQueued) is abandoned at once: it is dropped unmade.
   */
  async release(): Promise<LateWait | undefined> {
    const pending = this.#pending;
    const returned = this.#returned as Promise<void>;
    const queued = this.#notMade?.() === true;
    this.#pending = undefined;
    this.#returned = undefined;
    this.#settled = undefined;
    this.#notMade = undefined;
    if (!pending) return undefined;
    const api = this.#ctx.api;
    const handle = this.#ctx.handle;
    const flush = api.flushSystemEvents?.bind(api);
    if (!flush) {
      this.#abandon.abort(new Error('The watch ended.'));
      return undefined;
    }
    let back = false;
    void returned.then(() => (back = true));
    if (queued) {
      this.#abandon.abort(new Error('The watch ended.'));
      await within(returned, 0);
      if (back) return undefined;
    }
    const deadline = Date.now() + RELEASE_MS;
    while (!back && Date.now() < deadline) {
      try {
        await flush(handle);
      } catch {
        // Refused (every thread busy) or failed: made again below, until the deadline.
      }
      await within(returned, Math.max(0, Math.min(FLUSH_AGAIN_MS, deadline - Date.now())));
    }
    if (back) return undefined;
    this.#abandon.abort(new Error('The watch ended.'));
    // A wait still queued for a thread is dropped, never made: it is over at once.
    await within(returned, 0);
    if (back) return undefined;
    return { returned, flush: () => flush(handle) };
  }
}

/** A wait abandoned when its watch ended: it is still in WTSWaitSystemEvent. */
interface LateWait {
  /** Resolves when it has returned: its handle may be closed then, not before. */
  readonly returned: Promise<void>;
  /** WTS_EVENT_FLUSH on its handle. */
  readonly flush: () => Promise<void>;
}

/** Resolves when `promise` does, or after `ms` (the next turn of the event loop for 0), whichever is first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * After the watch has ended: flushes a late wait every REFLUSH_MS until it returns, then closes its
 * handle. Its timers do not keep the process alive (a process with nothing else to do exits, and
 * its handles and threads go with it).
 */
function closeAfter(late: LateWait, close: () => Promise<unknown>): void {
  let back = false;
  void late.returned.then(() => {
    back = true;
    void close();
  });
  const again = () => {
    if (back) return;
    void late.flush().then(undefined, () => undefined).then(() => {
      if (back) return;
      setTimeout(again, REFLUSH_MS).unref();
    });
  };
  setTimeout(again, REFLUSH_MS).unref();
}

/**
 * The listing kept for the next diff. A session whose details came back gone (it ended between the
 * enumeration and its detail query) keeps the details it was last seen with, when it was the same
 * logon: its logon time is what tells it from the user's next logon under the same ID. Kept as
 * gone, the next listing's logon would look like the same one (no logoff, no logon; or a rename).
 */
function keepIdentity<S extends Session>(known: ReadonlyMap<number, S>, now: ReadonlyMap<number, S>): Map<number, S> {
  const kept = new Map(now);
  for (const [id, s] of now) {
    if (!(s as Partial<DetailedSession>).details?.gone) continue;
    const before = known.get(id);
    const details = (before as Partial<DetailedSession> | undefined)?.details;
    if (before && details && !details.gone && sameLogon(before, s)) kept.set(id, Object.freeze({ ...s, details }) as S);
  }
  return kept;
}

/** The identity a listing (and, with `times`, its logon time) tells of a session. */
function logonTimeOf(s: Session): number | null | undefined {
  const d = (s as Partial<DetailedSession>).details;
  if (!d || d.gone || !('logonTime' in d)) return undefined;
  return d.logonTime?.getTime() ?? null;
}

/**
 * Same logon: same user and domain (without case), the same logon time where both are known, and
 * for a session with no user the same WinStation name (nothing else tells two of them apart) —
 * except across a disconnect or a reconnect, which clears or gives the WinStation name: a session
 * with no user that went to `Disconnected` with its name cleared (or came back from `Disconnected`
 * and no name to one) is the same session.
 */
function sameLogon(a: Session, b: Session): boolean {
  if (!sameUser(a, b)) return false;
  const ta = logonTimeOf(a);
  const tb = logonTimeOf(b);
  if (ta !== undefined && tb !== undefined && ta !== tb) return false;
  if (a.userName !== '' || a.name.toLowerCase() === b.name.toLowerCase()) return true;
  const nameless = (s: Session) => s.name === '' && s.state === 'Disconnected';
  // Disconnected, the name cleared; or back from that to a connected state, with a name.
  return (nameless(b) && a.state !== 'Disconnected') || (nameless(a) && CONNECTED.has(b.state));
}

/** The lock state a listing with the `lock` detail group gives: true, false, or undefined when unknown. */
function lockedOf(s: Session): boolean | undefined {
  const d = (s as Partial<DetailedSession>).details;
  if (!d || d.gone || !('locked' in d)) return undefined;
  return typeof d.locked === 'boolean' ? d.locked : undefined;
}

/** `lock` or `unlock` when both listings know the lock state and it changed; else undefined. */
function lockChange(old: Session, now: Session): 'lock' | 'unlock' | undefined {
  const was = lockedOf(old);
  const is = lockedOf(now);
  return was === undefined || is === undefined || was === is ? undefined : is ? 'lock' : 'unlock';
}

const CONNECTED: ReadonlySet<SessionState> = new Set(['Active', 'Connected', 'ConnectQuery', 'Shadow']);

/**
 * The events between two listings of a server, in session ID order, one per change per session
 * (the most specific), two for an ID that now holds another logon. See docs/watchSessions.md.
 */
export function diffSessions<S extends Session>(before: ReadonlyMap<number, S>, after: ReadonlyMap<number, S>, server: string, at: Date): SessionChangeEvent<S>[] {
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => a - b);
  const events: SessionChangeEvent<S>[] = [];
  const event = (type: SessionChangeType, session: S, old: S | undefined, gone = false) =>
    events.push(Object.freeze({ type, server, session, ...(old === undefined ? {} : { before: old }), ...(gone ? { gone: true as const } : {}), at }));
  for (const id of ids) {
    const old = before.get(id);
    const now = after.get(id);
    if (old && !now) {
      event(old.userName ? 'logoff' : 'delete', old, old, true);
    } else if (!old && now) {
      event(now.userName ? 'logon' : 'create', now, undefined);
    } else if (old && now) {
      const lock = lockChange(old, now);
      if (!sameLogon(old, now)) {
        if (old.userName && now.userName) {
          // Another logon on the ID: the old one ended, the new one began.
          event('logoff', old, old, true);
          event('logon', now, undefined);
        } else if (old.userName) {
          event('logoff', now, old); // the user left; the WinStation stays
        } else if (now.userName) {
          event('logon', now, old); // a user logged on to it
        } else {
          // Two sessions with no user and different names: the ID was reused.
          event('delete', old, old, true);
          event('create', now, undefined);
        }
      } else if (old.state !== now.state) {
        if (now.state === 'Disconnected') event('disconnect', now, old);
        else if (CONNECTED.has(now.state) && !CONNECTED.has(old.state)) event('connect', now, old);
        else event('stateChange', now, old);
      } else if (lock) {
        event(lock, now, old);
      } else if (old.name !== now.name) {
        event('rename', now, old);
      }
    }
  }
  return events;
}

/** One server's watch: open, list, wait (or poll), diff, and on failure report and retry. */
class ServerWatch<S extends Session> {
  readonly #api: WtsApi;
  readonly #name: string | undefined;
  readonly #options: CheckedWatch;
  readonly #push: (event: SessionEvent<S>) => void;
  readonly #stop: AbortSignal;
  /** How events name the server: '' for the local one (from the start, and again once opened), else the name as given. */
  #label: string;
  /** The last listing, kept across failures: a server that comes back is diffed against it. */
  #known: Map<number, S> | undefined;
  /** Set once a wait said it is not implemented: polled from then on. */
  #polling: boolean;
  #lastRefresh = 0;

  constructor(api: WtsApi, name: string | undefined, label: string, options: CheckedWatch, push: (event: SessionEvent<S>) => void, stop: AbortSignal) {
    this.#api = api;
    this.#name = name;
    this.#options = options;
    this.#push = push;
    this.#stop = stop;
    this.#label = label;
    this.#polling = typeof api.waitSystemEvent !== 'function';
  }

  /** Runs until the watch stops; never rejects. */
  async run(): Promise<void> {
    let attempt = 0;
    /** When the server was last listed after a failure (serverBack), or undefined. */
    let backAt: number | undefined;
    while (!this.#stop.aborted) {
      const connection = new ServerConnection(this.#api, this.#name);
      let wait: EventWait | undefined;
      let failure: unknown;
      try {
        const ctx = await connection.context();
        this.#label = ctx.server;
        if (this.#stop.aborted) break;
        wait = new EventWait(ctx);
        if (!this.#polling) wait.arm();
        // A server that failed is back only when it can be waited on again too: a wait that
        // failed while it was being listed is another failure (no serverBack, the backoff goes on).
        await this.#refresh(ctx, attempt > 0 ? wait : undefined);
        if (attempt > 0) backAt = Date.now();
        // The failures are counted until the server proves steady — its wait returned an event or
        // lasted a reconcile period, or a poll listed it — not at serverBack: a new wait may fail
        // only after the listing ended (a loaded machine), and then the backoff goes on.
        await this.#loop(ctx, wait, () => {
          attempt = 0;
          backAt = undefined;
        });
      } catch (error) {
        failure = error;
      } finally {
        const close = () => connection.close().catch(() => undefined);
        const late = await wait?.release();
        // Never under a pending wait: one that outlived RELEASE_MS is flushed again in the
        // background, and its handle closed once it has returned.
        if (late) closeAfter(late, close);
        else await close();
      }
      if (this.#stop.aborted || failure === undefined) break;
      // Back for longer than the longest retry delay: a new failure, counted from 1.
      if (backAt !== undefined && Date.now() - backAt > this.#options.retryMaxMs) attempt = 0;
      backAt = undefined;
      attempt++;
      const retryInMs = Math.min(this.#options.retryMinMs * 2 ** Math.min(attempt - 1, 30), this.#options.retryMaxMs);
      this.#push({ type: 'serverError', server: this.#label, error: asWtsError(failure), attempt, retryInMs, at: new Date() });
      await pause(retryInMs, this.#stop);
    }
  }

  async #loop(ctx: ServerContext, wait: EventWait, steady: () => void): Promise<void> {
    while (!this.#stop.aborted) {
      if (this.#polling) {
        if (!(await pause(this.#options.pollMs, this.#stop))) return;
      } else {
        const why = await wait.next(this.#options.reconcileMs, this.#stop);
        if (why === 'stop') return;
        if (why === 'unsupported') this.#polling = true;
        // Waiting again before enumerating: a change made during the enumeration wakes that wait.
        else if (why === 'event') wait.arm();
        if (why === 'event' || why === 'reconcile') steady();
      }
      // A burst of events (a farm-wide logoff) is one enumeration, not one per event.
      const gap = MIN_REFRESH_MS - (Date.now() - this.#lastRefresh);
      if (gap > 0 && !(await pause(gap, this.#stop))) return;
      await this.#refresh(ctx);
      if (this.#polling) steady();
    }
  }

  /**
   * Lists the server and yields what changed since the last listing. With `back` (a server coming
   * back: its wait, started before the listing), a wait that has already failed (not as
   * unsupported) throws its error instead, and otherwise `serverBack` comes first.
   */
  async #refresh(ctx: ServerContext, back?: EventWait): Promise<void> {
    this.#lastRefresh = Date.now();
    const sessions = await this.#list(ctx);
    if (this.#stop.aborted) return;
    const failed = back?.failure();
    if (failed) throw failed.error;
    const at = new Date();
    const now = new Map(sessions.map((s) => [s.id, s] as const));
    if (back) this.#push({ type: 'serverBack', server: this.#label, at });
    if (this.#known === undefined) {
      if (this.#options.initial) this.#push({ type: 'snapshot', server: this.#label, sessions: Object.freeze(sessions), at });
    } else {
      for (const event of diffSessions(this.#known, now, this.#label, at)) this.#push(event);
    }
    this.#known = this.#known === undefined ? now : keepIdentity(this.#known, now);
  }

  /** The listing listSessions makes: one enumeration, and with `details` one query per group and session. */
  async #list(ctx: ServerContext): Promise<S[]> {
    const sessions = await enumerate(ctx);
    const groups = this.#options.details;
    if (groups.size === 0) return sessions as S[];
    // Once the watch ends, no detail query starts (those in flight are waited for: the handle is
    // closed only after them); the listing then rejects, and the watch stops.
    const cut = cutBy(ctx, this.#stop);
    return mapLimit(sessions, 8, async (s) => {
      try {
        return withDetails(s, await fetchDetails(cut, s, groups)) as unknown as S;
      } catch (error) {
        // It ended between the enumeration and its detail query: listed as gone.
        if (!isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) throw error;
        return withDetails(s, GONE) as unknown as S;
      }
    });
  }
}
