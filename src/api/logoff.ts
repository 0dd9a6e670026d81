/**
 * logoff and logoffAll: the policy of logoff.exe and of KB 259436, done safely.
 *
 * Order of work for one session: validate arguments (no call) -> refuse what needs no lookup
 * (services, listeners, the local console) -> one enumerate -> resolve and refuse -> re-check the
 * session's identity -> WTSLogoffSession(bWait = FALSE) -> poll until the session is gone.
 */
import { InvalidArgumentError, LogoffTimeoutError, Win32Error, type WtsError } from '../errors';
import { Win32, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, type WtsApi } from '../wtsapi';
import {
  asWin32,
  asWtsError,
  isWin32,
  outcomeRecorder,
  pause,
  protectedFromBulk,
  recheck,
  recheckOutcome,
  selectSessions,
  throwIfAborted,
  type NotActed,
} from './bulk';
import type { ServerContext } from './context';
import { compileFilter, FILTER_KEYS, type CompiledFilter, type SessionFilter } from './filter';
import { mapLimit } from './limit';
import { buttonsStyle, checkMessageText } from './message';
import { enumerate, identityOf, refuse, refuseBeforeLookup, resolveTarget, sameIdentity } from './sessions';
import type { LogoffOutcome, Session } from './types';
import {
  checkBoolean,
  checkKnownKeys,
  checkOptionsObject,
  checkPositiveInteger,
  checkSignal,
  checkTimeout,
  type ParsedTarget,
} from './validate';

export interface WaitOptions {
  /** Wait until the session is gone (polling). Default true. */
  wait?: boolean;
  /** How long to wait for the session to go, in ms. Default 60000. */
  timeoutMs?: number;
  /** The longest pause between two polls, in ms (polls start at 50 ms and back off). Default 500. */
  pollIntervalMs?: number;
  /** Cancels waiting (and, in bulk calls, the actions not yet started). */
  signal?: AbortSignal;
}

export type LogoffOptions = WaitOptions;

/** The filters of logoffAll: {@link SessionFilter}, the same as every bulk call's. */
export type LogoffAllFilter = SessionFilter;

/** Warn before logging off: a message to every chosen session, then a grace period. */
export interface WarnOptions {
  /** The message the users see. */
  text: string;
  /** Its title. Default 'Logoff warning'. */
  title?: string;
  /** How long to wait after the warning before logging off, in seconds. Default 60. */
  graceSeconds?: number;
}

export interface LogoffAllOptions extends WaitOptions, SessionFilter {
  /** Report what would be done, and do nothing. Default false. */
  dryRun?: boolean;
  /** How many calls on one server run at once. Default 8. */
  concurrency?: number;
  /** Warn the users first (WTSSendMessageW), wait, re-check, then log off. */
  warn?: WarnOptions;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 500;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_GRACE_SECONDS = 60;
const FIRST_POLL_MS = 50;

export interface CheckedWait {
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal: AbortSignal | undefined;
}

export interface CheckedBulk extends CheckedWait {
  readonly filter: CompiledFilter;
  readonly dryRun: boolean;
  readonly concurrency: number;
}

export interface CheckedWarn {
  readonly text: string;
  readonly title: string;
  readonly graceSeconds: number;
}

export interface CheckedLogoffAll extends CheckedBulk {
  readonly warn: CheckedWarn | undefined;
}

export const WAIT_KEYS = ['wait', 'timeoutMs', 'pollIntervalMs', 'signal'] as const;
export const BULK_KEYS = [...WAIT_KEYS, ...FILTER_KEYS, 'dryRun', 'concurrency'] as const;

export function checkWait(o: Record<string, unknown>): CheckedWait {
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

export function checkBulk(o: Record<string, unknown>): CheckedBulk {
  return {
    ...checkWait(o),
    filter: compileFilter(o),
    dryRun: o['dryRun'] === undefined ? false : checkBoolean(o['dryRun'], 'options.dryRun'),
    concurrency: o['concurrency'] === undefined ? DEFAULT_CONCURRENCY : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
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
  checkKnownKeys(o, [...extraKeys, ...BULK_KEYS, 'warn']);
  return { ...checkBulk(o), warn: o['warn'] === undefined ? undefined : checkWarn(o['warn']) };
}

function checkWarn(value: unknown): CheckedWarn {
  const w = checkOptionsObject(value, 'options.warn');
  checkKnownKeys(w, ['text', 'title', 'graceSeconds'], 'options.warn');
  const grace = w['graceSeconds'] === undefined ? DEFAULT_GRACE_SECONDS : w['graceSeconds'];
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0 || grace > 86_400) {
    throw new InvalidArgumentError('options.warn.graceSeconds', 'Invalid options.warn.graceSeconds: seconds from 0 to 86400.');
  }
  return {
    text: checkMessageText(w['text'], 'options.warn.text'),
    title: w['title'] === undefined ? 'Logoff warning' : checkMessageText(w['title'], 'options.warn.title'),
    graceSeconds: grace,
  };
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

/** The delay before poll number `n` (0-based): 50, 100, 200, ... capped at `max`. */
export function pollDelay(n: number, max: number): number {
  return Math.min(FIRST_POLL_MS * 2 ** Math.min(n, 20), max);
}

/** Polls WTSConnectState until the session is gone (7022) or `done(state)` says so. */
export async function pollSession(
  ctx: ServerContext,
  session: Session,
  opts: CheckedWait,
  done: (state: number) => boolean,
  timeout: () => WtsError,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let n = 0; ; n++) {
    try {
      const state = await ctx.api.querySessionInformation(ctx.handle, session.id, 'WTSConnectState');
      if (done(state)) return;
    } catch (error) {
      if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return;
      throw error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw timeout();
    await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, `Waiting for session ${session.id}`, ctx, session.id);
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
  if (opts.wait) {
    await pollSession(ctx, session, opts, () => false, () => new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs));
  }
  return Object.freeze({ status: 'loggedOff', session, confirmed: opts.wait, alreadyClosing });
}

/**
 * logoffAll: every session on the server but console, services, listeners and the caller,
 * narrowed by the filters, warned first if asked. Never rejects for one session; rejects only
 * when the server cannot be enumerated at all. `onOutcome` sees each outcome as it is settled.
 */
export async function logoffAllOn(
  ctx: ServerContext,
  opts: CheckedLogoffAll,
  onOutcome?: (outcome: LogoffOutcome) => void,
): Promise<LogoffOutcome[]> {
  throwIfAborted(opts.signal, 'logoffAll', ctx);
  const { outcomes, settle } = outcomeRecorder<LogoffOutcome>(onOutcome);
  const { sessions, chosen } = await selectSessions(ctx, opts.filter, protectedFromBulk, opts.concurrency, settle);
  const sessionAt = (i: number) => sessions[i] as Session;

  if (opts.dryRun) {
    const plan = opts.warn ? { warn: { text: opts.warn.text, graceSeconds: opts.warn.graceSeconds } } : {};
    for (const i of chosen) settle(i, { status: 'wouldLogOff', session: sessionAt(i), ...plan });
    return outcomes;
  }

  let toLogOff = chosen;
  if (opts.warn && chosen.length > 0) toLogOff = await warnFirst(ctx, sessions, chosen, opts, opts.warn, settle);

  // Request every logoff (bounded), re-checking each session's identity first.
  const requested = new Map<number, { index: number; alreadyClosing: boolean }>();
  await mapLimit(toLogOff, opts.concurrency, async (i) => {
    const session = sessionAt(i);
    if (opts.signal?.aborted) {
      settle(i, { status: 'skipped', session, reason: 'aborted', message: 'aborted before its logoff was requested' });
      return;
    }
    try {
      await recheck(ctx, session);
    } catch (error) {
      settle(i, recheckOutcome(session, error));
      return;
    }
    if (opts.signal?.aborted) {
      settle(i, { status: 'skipped', session, reason: 'aborted', message: 'aborted before its logoff was requested' });
      return;
    }
    try {
      const alreadyClosing = await requestLogoff(ctx, session);
      if (opts.wait) requested.set(session.id, { index: i, alreadyClosing });
      else settle(i, { status: 'loggedOff', session, confirmed: false, alreadyClosing });
    } catch (error) {
      settle(i, { status: 'failed', session, error: asWtsError(error) });
    }
  });

  if (requested.size > 0) await waitAllGone(ctx, sessions, requested, settle, opts);
  return outcomes;
}

/**
 * Sends the warning to every chosen session (without waiting for an answer), waits the grace
 * period, and returns the sessions to log off. A session that could not be warned is not logged
 * off: its outcome is the failure.
 */
async function warnFirst(
  ctx: ServerContext,
  sessions: readonly Session[],
  chosen: readonly number[],
  opts: CheckedLogoffAll,
  warn: CheckedWarn,
  settle: (i: number, outcome: LogoffOutcome | NotActed) => void,
): Promise<number[]> {
  const warned: number[] = [];
  await mapLimit(chosen, opts.concurrency, async (i) => {
    const session = sessions[i] as Session;
    if (opts.signal?.aborted) {
      settle(i, { status: 'skipped', session, reason: 'aborted', message: 'aborted before it was warned' });
      return;
    }
    try {
      await ctx.api.sendMessage(ctx.handle, session.id, {
        title: warn.title,
        text: warn.text,
        style: buttonsStyle('OK'),
        timeoutSeconds: Math.ceil(warn.graceSeconds),
        wait: false,
      });
      warned.push(i);
    } catch (error) {
      settle(i, { status: 'failed', session, error: asWtsError(error) });
    }
  });
  if (warned.length === 0) return warned;
  try {
    await pause(warn.graceSeconds * 1000, opts.signal, 'The grace period after the warning', ctx);
  } catch {
    for (const i of warned) settle(i, { status: 'skipped', session: sessions[i] as Session, reason: 'aborted', message: 'aborted during the grace period; not logged off' });
    return [];
  }
  return warned.sort((a, b) => a - b);
}

/** Polls the server's session list until every requested session is gone (or its ID reused). */
async function waitAllGone(
  ctx: ServerContext,
  sessions: readonly Session[],
  requested: Map<number, { index: number; alreadyClosing: boolean }>,
  settle: (i: number, outcome: LogoffOutcome) => void,
  opts: CheckedWait,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  // The first look is right away: by the time the last request is made, the first may be done.
  for (let n = -1; requested.size > 0; n++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      if (n >= 0) await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, 'Waiting for sessions to log off', ctx);
      else throwIfAborted(opts.signal, 'Waiting for sessions to log off', ctx);
    } catch (error) {
      for (const { index } of requested.values()) settle(index, { status: 'failed', session: sessions[index] as Session, error: asWtsError(error) });
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
        settle(index, { status: 'loggedOff', session, confirmed: true, alreadyClosing });
        requested.delete(id);
      }
    }
  }
  for (const { index } of requested.values()) {
    const session = sessions[index] as Session;
    const error = new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs);
    if (lastError !== undefined) Object.defineProperty(error, 'cause', { value: lastError });
    settle(index, { status: 'failed', session, error });
  }
}
