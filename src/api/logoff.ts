/**
 * logoff and logoffAll: the policy of logoff.exe and of KB 259436, done safely.
 *
 * Order of work for one session: validate arguments (no call) -> refuse what needs no lookup
 * (services, listeners, the local console) -> one enumerate -> resolve and refuse -> re-check the
 * session's identity -> WTSLogoffSession(bWait = FALSE) -> poll until the session is gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidArgumentError as WtsInvalid,
  LogoffTimeoutError,
  OperationAbortedError,
  SessionChangedError,
  SessionNotFoundError,
  Win32Error,
  WtsError,
  type SessionIdentity,
} from '../errors';
import { Win32, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, type WtsApi } from '../wtsapi';
import type { ServerContext } from './context';
import {
  currentIdentity,
  enumerate,
  identityOf,
  isConsoleName,
  isListenerId,
  refuse,
  refuseBeforeLookup,
  resolveTarget,
  sameIdentity,
} from './sessions';
import { parseState, type LogoffOutcome, type Session, type SessionState, type SkipReason } from './types';
import {
  checkBoolean,
  checkKnownKeys,
  checkOptionsObject,
  checkPositiveInteger,
  checkSignal,
  checkTimeout,
  compileWildcard,
  type ParsedTarget,
} from './validate';

export interface WaitOptions {
  /** Wait until the session is gone (polling). Default true. */
  wait?: boolean;
  /** How long to wait for the session to go, in ms. Default 60000. */
  timeoutMs?: number;
  /** The longest pause between two polls, in ms (polls start at 50 ms and back off). Default 500. */
  pollIntervalMs?: number;
  /** Cancels waiting (and, in logoffAll, the logoffs not yet requested). */
  signal?: AbortSignal;
}

export type LogoffOptions = WaitOptions;

export interface LogoffAllFilter {
  /** Only sessions in this state (or these states). Default: every state. */
  state?: SessionState | readonly SessionState[];
  /** Only users matching this wildcard (`*`, `?`; without case; `DOMAIN\\user` also works). */
  user?: string;
}

export interface LogoffAllOptions extends WaitOptions, LogoffAllFilter {
  /** Report what would be logged off, and log off nobody. Default false. */
  dryRun?: boolean;
  /** How many logoff requests run at once. Default 8. */
  concurrency?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 500;
export const DEFAULT_CONCURRENCY = 8;
const FIRST_POLL_MS = 50;

interface CheckedWait {
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal: AbortSignal | undefined;
}

interface CheckedLogoffAll extends CheckedWait {
  readonly states: ReadonlySet<SessionState> | undefined;
  readonly user: ((session: Session) => boolean) | undefined;
  readonly dryRun: boolean;
  readonly concurrency: number;
}

const WAIT_KEYS = ['wait', 'timeoutMs', 'pollIntervalMs', 'signal'] as const;

function checkWait(o: Record<string, unknown>): CheckedWait {
  return {
    wait: o['wait'] === undefined ? true : checkBoolean(o['wait'], 'options.wait'),
    timeoutMs: o['timeoutMs'] === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout(o['timeoutMs'], 'options.timeoutMs'),
    pollIntervalMs:
      o['pollIntervalMs'] === undefined
        ? DEFAULT_POLL_INTERVAL_MS
        : Math.max(1, checkTimeout(o['pollIntervalMs'], 'options.pollIntervalMs')),
    signal: o['signal'] === undefined ? undefined : checkSignal(o['signal']),
  };
}

/** Checks logoff()'s options. `extraKeys` are keys a caller layer handles (e.g. 'server'). */
export function checkLogoffOptions(options: unknown, extraKeys: readonly string[] = []): CheckedWait {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...WAIT_KEYS]);
  return checkWait(o);
}

export function checkLogoffAllOptions(options: unknown, extraKeys: readonly string[] = []): CheckedLogoffAll {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...WAIT_KEYS, 'state', 'user', 'dryRun', 'concurrency']);
  return {
    ...checkWait(o),
    ...checkFilter(o),
    dryRun: o['dryRun'] === undefined ? false : checkBoolean(o['dryRun'], 'options.dryRun'),
    concurrency: o['concurrency'] === undefined ? DEFAULT_CONCURRENCY : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
  };
}

export function checkFilter(o: Record<string, unknown>): Pick<CheckedLogoffAll, 'states' | 'user'> {
  let states: Set<SessionState> | undefined;
  const rawState = o['state'];
  if (rawState !== undefined) {
    const list = Array.isArray(rawState) ? rawState : [rawState];
    if (list.length === 0) throw new WtsInvalid('options.state', 'Invalid options.state: empty list.');
    states = new Set(
      list.map((s: unknown, i) => {
        if (typeof s !== 'string') throw new WtsInvalid('options.state', `Invalid options.state[${i}]: expected a state name.`);
        return parseState(s, 'options.state');
      }),
    );
  }
  let user: ((session: Session) => boolean) | undefined;
  if (o['user'] !== undefined) {
    if (typeof o['user'] !== 'string') throw new WtsInvalid('options.user', 'Invalid options.user: expected a wildcard pattern.');
    const match = compileWildcard(o['user'], 'options.user');
    user = (s) => s.userName !== '' && (match(s.userName) || match(`${s.domain}\\${s.userName}`));
  }
  return { states, user };
}

/** The name logoff.exe's message uses: the caller's own WinStation. */
async function callerSessionName(api: WtsApi): Promise<string> {
  try {
    return await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, 'WTSWinStationName');
  } catch {
    return '';
  }
}

/** Rewrites a failed WTSLogoffSession into logoff.exe's words. */
async function logoffFailure(ctx: ServerContext, session: Session, error: unknown): Promise<WtsError> {
  const win32 = asWin32(error);
  if (!win32) return asWtsError(error);
  const caller = await callerSessionName(ctx.api);
  const code = win32.win32Code;
  return new Win32Error({
    win32Code: code,
    api: win32.api,
    systemMessage: win32.systemMessage,
    server: ctx.server,
    sessionId: session.id,
    message: `Could not logoff session ID ${session.id} from session ${caller}, Error code ${code}\nError [${code}]: ${win32.systemMessage}`,
    cause: error,
  });
}

/**
 * Errors are recognised by their `code`, not by `instanceof`: a backend may come from another
 * copy of this package (ESM next to CJS, or a nested install) with its own classes.
 */
function isWtsError(error: unknown): error is WtsError {
  const code: unknown = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('E_');
}

function asWin32(error: unknown): Win32Error | undefined {
  return isWtsError(error) && error.code === 'E_WIN32' && typeof (error as Win32Error).win32Code === 'number'
    ? (error as Win32Error)
    : undefined;
}

function asWtsError(error: unknown): WtsError {
  if (isWtsError(error)) return error;
  return new WtsError('E_WIN32', `Unexpected failure: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function isWin32(error: unknown, code: number): boolean {
  return asWin32(error)?.win32Code === code;
}

async function pause(ms: number, signal: AbortSignal | undefined, what: string, ctx: ServerContext, sessionId?: number): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    throw aborted(what, signal?.reason ?? error, ctx, sessionId);
  }
}

function aborted(what: string, reason: unknown, ctx: ServerContext, sessionId?: number): OperationAbortedError {
  return new OperationAbortedError(what, reason, { server: ctx.server, ...(sessionId === undefined ? {} : { sessionId }) });
}

function throwIfAborted(signal: AbortSignal | undefined, what: string, ctx: ServerContext, sessionId?: number): void {
  if (signal?.aborted) throw aborted(what, signal.reason, ctx, sessionId);
}

/** The delay before poll number `n` (0-based): 50, 100, 200, ... capped at `max`. */
export function pollDelay(n: number, max: number): number {
  return Math.min(FIRST_POLL_MS * 2 ** Math.min(n, 20), max);
}

/** Polls WTSConnectState until the session is gone (7022). */
async function waitGone(ctx: ServerContext, session: Session, opts: CheckedWait): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let n = 0; ; n++) {
    try {
      await ctx.api.querySessionInformation(ctx.handle, session.id, 'WTSConnectState');
    } catch (error) {
      if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return;
      throw error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs);
    await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, `Waiting for session ${session.id} to log off`, ctx, session.id);
  }
}

/** Issues WTSLogoffSession; a close already pending (7007) counts. Returns alreadyClosing. */
async function requestLogoff(ctx: ServerContext, session: Session): Promise<boolean> {
  try {
    await ctx.api.logoffSession(ctx.handle, session.id);
    return false;
  } catch (error) {
    if (isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING)) return true;
    throw await logoffFailure(ctx, session, error);
  }
}

/**
 * Re-reads the session's identity; undefined when it is unchanged. Throws SessionChangedError
 * when the ID now belongs to another WinStation or user, SessionNotFoundError when it is gone.
 */
async function recheck(ctx: ServerContext, session: Session): Promise<void> {
  let now: SessionIdentity;
  try {
    now = await currentIdentity(ctx, session.id);
  } catch (error) {
    if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) throw new SessionNotFoundError(session.id, ctx.server, error);
    throw error;
  }
  const before = identityOf(session);
  if (!sameIdentity(before, now)) throw new SessionChangedError(session.id, ctx.server, before, now);
}

/** logoff(target): one session, by ID, by name (must be Active), or the caller's own. */
export async function logoffOne(
  ctx: ServerContext,
  target: ParsedTarget,
  opts: CheckedWait,
): Promise<Extract<LogoffOutcome, { status: 'loggedOff' }>> {
  const early = refuseBeforeLookup(target, ctx);
  if (early) throw early;
  throwIfAborted(opts.signal, 'logoff', ctx);
  const session = resolveTarget(await enumerate(ctx), target, ctx, target.kind === 'name');
  const refusal = refuse(session);
  if (refusal) throw refusal;
  if (!session.isCurrent) await recheck(ctx, session);
  throwIfAborted(opts.signal, 'logoff', ctx, session.id);
  const alreadyClosing = await requestLogoff(ctx, session);
  if (opts.wait) await waitGone(ctx, session, opts);
  return Object.freeze({ status: 'loggedOff', session, confirmed: opts.wait, alreadyClosing });
}

/** Why logoffAll leaves a session alone, before any filter; undefined when it is a candidate. */
function protectedReason(session: Session): { reason: SkipReason; message: string } | undefined {
  if (session.isCurrent) return { reason: 'current', message: 'your own session' };
  if (session.id === 0) return { reason: 'services', message: 'the Services session has no user' };
  if (isListenerId(session.id) || session.state === 'Listen') return { reason: 'listener', message: 'a listener has no user' };
  if (session.isConsole || isConsoleName(session.name)) return { reason: 'console', message: 'the console session is never logged off' };
  return undefined;
}

function filterReason(session: Session, opts: Pick<CheckedLogoffAll, 'states' | 'user'>): string | undefined {
  if (opts.states && !opts.states.has(session.state)) return `state ${session.state} not selected`;
  if (opts.user && !opts.user(session)) return session.userName ? `user ${session.userName} not selected` : 'no user';
  return undefined;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order in the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * logoffAll: every session on the server but console, services, listeners and the caller,
 * narrowed by the filters. Never rejects for one session; rejects only when the server cannot
 * be enumerated at all.
 */
export async function logoffAllOn(ctx: ServerContext, opts: CheckedLogoffAll): Promise<LogoffOutcome[]> {
  throwIfAborted(opts.signal, 'logoffAll', ctx);
  const sessions = await enumerate(ctx);
  const outcomes: LogoffOutcome[] = new Array(sessions.length);
  const chosen: number[] = [];
  sessions.forEach((session, i) => {
    const skip = protectedReason(session);
    const filtered = skip ? undefined : filterReason(session, opts);
    if (skip) outcomes[i] = { status: 'skipped', session, reason: skip.reason, message: skip.message };
    else if (filtered) outcomes[i] = { status: 'skipped', session, reason: 'filtered', message: filtered };
    else if (opts.dryRun) outcomes[i] = { status: 'wouldLogOff', session };
    else chosen.push(i);
  });
  if (opts.dryRun || chosen.length === 0) return outcomes.map((o) => Object.freeze(o));

  // Request every logoff (bounded), re-checking each session's identity first.
  const requested = new Map<number, { index: number; alreadyClosing: boolean }>();
  await mapLimit(chosen, opts.concurrency, async (i) => {
    const session = sessions[i] as Session;
    if (opts.signal?.aborted) {
      outcomes[i] = { status: 'skipped', session, reason: 'aborted', message: 'aborted before its logoff was requested' };
      return;
    }
    try {
      await recheck(ctx, session);
    } catch (error) {
      if (error instanceof SessionChangedError) {
        outcomes[i] = { status: 'skipped', session, reason: 'changed', message: error.message };
      } else if (error instanceof SessionNotFoundError) {
        outcomes[i] = { status: 'skipped', session, reason: 'gone', message: 'it had already ended' };
      } else {
        outcomes[i] = { status: 'failed', session, error: asWtsError(error) };
      }
      return;
    }
    try {
      const alreadyClosing = await requestLogoff(ctx, session);
      requested.set(session.id, { index: i, alreadyClosing });
      if (!opts.wait) outcomes[i] = { status: 'loggedOff', session, confirmed: false, alreadyClosing };
    } catch (error) {
      outcomes[i] = { status: 'failed', session, error: asWtsError(error) };
    }
  });

  if (opts.wait && requested.size > 0) await waitAllGone(ctx, sessions, requested, outcomes, opts);
  return outcomes.map((o) => Object.freeze(o));
}

/** Polls the server's session list until every requested session is gone (or its ID reused). */
async function waitAllGone(
  ctx: ServerContext,
  sessions: readonly Session[],
  requested: Map<number, { index: number; alreadyClosing: boolean }>,
  outcomes: LogoffOutcome[],
  opts: CheckedWait,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (let n = 0; requested.size > 0; n++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, 'Waiting for sessions to log off', ctx);
    } catch (error) {
      for (const { index } of requested.values()) {
        const session = sessions[index] as Session;
        outcomes[index] = { status: 'failed', session, error: asWtsError(error) };
      }
      return;
    }
    let now: Session[];
    try {
      now = await enumerate(ctx);
    } catch (error) {
      lastError = error;
      continue;
    }
    const byId = new Map(now.map((s) => [s.id, s] as const));
    for (const [id, { index, alreadyClosing }] of [...requested]) {
      const session = sessions[index] as Session;
      const current = byId.get(id);
      if (!current || !sameIdentity(identityOf(current), identityOf(session))) {
        outcomes[index] = { status: 'loggedOff', session, confirmed: true, alreadyClosing };
        requested.delete(id);
      }
    }
  }
  for (const { index } of requested.values()) {
    const session = sessions[index] as Session;
    const error = new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs);
    if (lastError !== undefined) Object.defineProperty(error, 'cause', { value: lastError });
    outcomes[index] = { status: 'failed', session, error };
  }
}
