/**
 * logoff and logoffAll: the policy of logoff.exe and of KB 259436, done safely.
 *
 * Order of work for one session: validate arguments (no call) -> refuse what needs no lookup
 * (services, listeners, the local console) -> one enumerate -> resolve and refuse -> re-check the
 * session's identity -> WTSLogoffSession(bWait = FALSE) -> poll until the session is gone.
 */
import {
  ConsoleSessionError,
  copyWtsError,
  describeThrown,
  InvalidArgumentError,
  isWtsError,
  LogoffTimeoutError,
  OperationAbortedError,
  Win32Error,
  WtsError,
  type SessionIdentity,
} from '../errors';
import { Win32, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, type WtsApi } from '../wtsapi';
import {
  aborted,
  asWin32,
  asWtsError,
  captureOrGone,
  enumerateUnlessAborted,
  checkPlan,
  clearToAct,
  isWin32,
  pause,
  protectedFromBulk,
  requestOutcome,
  selectSessions,
  shownIdentity,
  throwIfAborted,
  type Chosen,
  type CheckedPlan,
  type PlannedWarn,
  type Ledger,
  type PlanInput,
} from './bulk';
import { around, stopping, withApi, type ServerContext } from './context';
import { compileFilter, FILTER_KEYS, type CompiledFilter, type SessionFilter } from './filter';
import { mapLimit } from './limit';
import { buttonsStyle, checkMessageText } from './message';
import { enumerate, identityOf, isConsoleNow, mayBeSameAccount, mayBeSameLogon, readIdentity, refuse, refuseBeforeLookup, resolveTarget, sameIdentity, sameUser, sessionInfoOrNames, type ReadInfo } from './sessions';
import type { LogoffOutcome, RequestName, Session } from './types';
import {
  checkBoolean,
  checkKnownKeys,
  checkOptionsObject,
  checkPositiveInteger,
  readSignal,
  checkTimeout,
  type ParsedTarget,
} from './validate';

/**
 * Waiting for an action to take effect (logoff, disconnect): the session is polled — after 50 ms,
 * then doubling up to `pollIntervalMs` — until it is gone (logoff) or Disconnected (disconnect),
 * or its ID holds another logon.
 */
export interface WaitOptions {
  /**
   * Wait until the action has taken effect (polling). With `false` the call resolves once the
   * request was accepted (`confirmed: false`).
   * @defaultValue true
   */
  wait?: boolean;
  /**
   * How long to wait, in ms (0 to 2147483647); then a timeout error (`E_TIMEOUT`: the request was
   * accepted and may still take effect).
   * @defaultValue 60000
   */
  timeoutMs?: number;
  /**
   * The longest pause between two polls, in ms (polls start at 50 ms and back off).
   * @defaultValue 500
   */
  pollIntervalMs?: number;
  /**
   * Cancels waiting (and, in bulk calls, the actions not yet started): the call rejects with an
   * {@link OperationAbortedError}, or a bulk call reports what was done.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/** The options of logoff() (without `server`): see {@link ServerLogoffOptions}. */
export type LogoffOptions = WaitOptions;

/** The filters of logoffAll: {@link SessionFilter}, the same as every bulk call's. */
export type LogoffAllFilter = SessionFilter;

/** Warn before logging off: a message to every chosen session, then a grace period. */
export interface WarnOptions {
  /** The message the users see (1 to 8000 characters, not only blanks). */
  text: string;
  /**
   * Its title.
   * @defaultValue 'Logoff warning'
   */
  title?: string;
  /**
   * How long to wait after the warning before logging off, in seconds (0 to 86400). The message
   * box closes by itself after that long (rounded up; with 0 it stays until the user closes it).
   * @defaultValue 60
   */
  graceSeconds?: number;
}

/** The options of logoffAll (without `server` / `servers`): see {@link ServerLogoffAllOptions}. */
export interface LogoffAllOptions extends WaitOptions, SessionFilter {
  /**
   * Report what would be done (`wouldLogOff`, with each session's identity), and do nothing.
   * @defaultValue false
   */
  dryRun?: boolean;
  /**
   * Apply a reviewed dry run: only the sessions it planned (`wouldLogOff`) are acted on, each only
   * while it is still the same logon (user, domain, logon time); every other session is reported
   * `notInPlan`. Pass the dry run's result (or its outcomes, also after a JSON round trip). Not
   * with `dryRun`.
   * @defaultValue none
   */
  plan?: PlanInput<LogoffOutcome>;
  /**
   * How many sessions of one server are worked on at once (1 to 1024).
   * @defaultValue 8
   */
  concurrency?: number;
  /**
   * Warn the users first (WTSSendMessageW), wait the grace period, re-check, then log off.
   * @defaultValue no warning
   */
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
  readonly plan: CheckedPlan | undefined;
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
export const BULK_KEYS = [...WAIT_KEYS, ...FILTER_KEYS, 'dryRun', 'concurrency', 'plan'] as const;

export function checkWait(o: Record<string, unknown>): CheckedWait {
  return {
    wait: o['wait'] === undefined ? true : checkBoolean(o['wait'], 'options.wait'),
    timeoutMs: o['timeoutMs'] === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout(o['timeoutMs'], 'options.timeoutMs'),
    pollIntervalMs:
      o['pollIntervalMs'] === undefined
        ? DEFAULT_POLL_INTERVAL_MS
        : Math.max(1, checkTimeout(o['pollIntervalMs'], 'options.pollIntervalMs')),
    signal: readSignal(o),
  };
}

/** The options every bulk call shares; `wouldStatus` is the status its dry run plans with. */
export function checkBulk(o: Record<string, unknown>, wouldStatus: string): CheckedBulk {
  const dryRun = o['dryRun'] === undefined ? false : checkBoolean(o['dryRun'], 'options.dryRun');
  const plan = o['plan'] === undefined ? undefined : checkPlan(o['plan'], wouldStatus);
  if (plan && dryRun) throw new InvalidArgumentError('options.plan', 'Give either dryRun or plan: a plan is applied, a dry run makes one.');
  return {
    ...checkWait(o),
    filter: compileFilter(o),
    dryRun,
    concurrency: o['concurrency'] === undefined ? DEFAULT_CONCURRENCY : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
    plan,
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
  const bulk = checkBulk(o, 'wouldLogOff');
  const warn = o['warn'] === undefined ? undefined : checkWarn(o['warn']);
  // A plan reviewed with a warning is applied with that warning: the plan's when none is given;
  // another one is refused. (A plan reviewed without one may be applied with one: it only delays
  // the logoffs, and tells the users first.)
  const planned = bulk.plan?.warn;
  if (planned && !warn) return { ...bulk, warn: checkPlannedWarn(planned) };
  if (planned && warn && (warn.text !== planned.text || warn.graceSeconds !== planned.graceSeconds)) {
    throw new InvalidArgumentError(
      'options.warn',
      `Invalid options.warn: the plan was reviewed with another warning (${JSON.stringify(planned.text)}, ${planned.graceSeconds} s grace). ` +
        'Give no warn to apply the plan with its own, or the same one.',
    );
  }
  return { ...bulk, warn };
}

/** A plan's warning, checked as `warn` is (a plan edited by hand is refused, before any call). */
function checkPlannedWarn(planned: PlannedWarn): CheckedWarn {
  try {
    return checkWarn({ text: planned.text, graceSeconds: planned.graceSeconds });
  } catch (error) {
    throw new InvalidArgumentError('options.plan', `Invalid options.plan: its warning is not one a dry run makes (${(error as Error).message}) Pass the result of a dry run of the same call, unchanged.`);
  }
}

/** The warning box's title when `warn.title` is not given. */
const DEFAULT_WARN_TITLE = 'Logoff warning';

function checkWarn(value: unknown): CheckedWarn {
  const w = checkOptionsObject(value, 'options.warn');
  checkKnownKeys(w, ['text', 'title', 'graceSeconds'], 'options.warn');
  const grace = w['graceSeconds'] === undefined ? DEFAULT_GRACE_SECONDS : w['graceSeconds'];
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0 || grace > 86_400) {
    throw new InvalidArgumentError('options.warn.graceSeconds', 'Invalid options.warn.graceSeconds: seconds from 0 to 86400.');
  }
  return {
    text: checkMessageText(w['text'], 'options.warn.text'),
    title: w['title'] === undefined ? DEFAULT_WARN_TITLE : checkMessageText(w['title'], 'options.warn.title'),
    graceSeconds: grace,
  };
}

/**
 * The name logoff.exe's message uses: the caller's own WinStation, read at most once per server's
 * work (a logoffAll refused for every session asks once, not once per session). When `signal`
 * fires, the read is abandoned and the name is `''` at once — also with a backend that ignores
 * AbandonOptions — and any failure reads as `''`: the error being reported is the logoff's.
 */
function callerSessionName(ctx: ServerContext, signal: AbortSignal | undefined): () => Promise<string> {
  let name: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    if (signal?.aborted) return '';
    const query = ctx.api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, 'WTSWinStationName', { signal });
    if (!signal) return query;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => resolve('');
      signal.addEventListener('abort', onAbort, { once: true });
      query.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  return () => (name ??= read().catch(() => ''));
}

/** A failed WTSLogoffSession in logoff.exe's words, naming the caller's session as `caller`. */
function logoffFailureNamed(ctx: ServerContext, session: Session, win32: Win32Error, error: unknown, caller: string): Win32Error {
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
 * Rewrites a failed WTSLogoffSession into logoff.exe's words. `refused` hears of the failure at
 * once, before the caller's name is read (worded without it): a bulk call cut short meanwhile
 * reports the session as failed, not as a request that may have been acted on.
 */
async function logoffFailure(
  ctx: ServerContext,
  session: Session,
  error: unknown,
  callerName: () => Promise<string>,
  refused?: (error: WtsError) => void,
): Promise<WtsError> {
  const win32 = asWin32(error);
  if (!win32) return asWtsError(error);
  refused?.(logoffFailureNamed(ctx, session, win32, error, ''));
  return logoffFailureNamed(ctx, session, win32, error, await callerName());
}

/** The delay before poll number `n` (0-based): 50, 100, 200, ... capped at `max`. */
export function pollDelay(n: number, max: number): number {
  return Math.min(FIRST_POLL_MS * 2 ** Math.min(n, 20), max);
}

/**
 * Polls the session (WTSSessionInfo: state and logon) until it is gone — 7022, or its ID now holds
 * another logon — or `done(state)` says so; throws `timeout()` when `timeoutMs` runs out, also in
 * the middle of a query that does not come back (which is left to return unseen: its handle is
 * closed only once it has, WtsApi.closeServer), and an abort at once. A query answered 7007
 * (ERROR_CTX_CLOSE_PENDING: the session is closing) is polled again. `same` says whether what a
 * poll read is still the logon followed (by default user, domain and logon time).
 */
export async function pollSession(
  ctx: ServerContext,
  identity: SessionIdentity,
  opts: CheckedWait,
  done: (state: number) => boolean,
  timeout: () => WtsError,
  same: (info: ReadInfo) => boolean = (info) => mayBeSameLogon(identity, info),
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const what = `Waiting for session ${identity.sessionId}`;
  for (let n = 0; ; n++) {
    try {
      const info = await boundedReads(ctx, (reads) => sessionInfoOrNames(reads, identity.sessionId), deadline, timeout, opts.signal, () => aborted(what, opts.signal?.reason, ctx, identity.sessionId));
      if (!same(info) || done(info.state)) return;
    } catch (error) {
      if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return;
      if (!isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING)) throw error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw timeout();
    await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, what, ctx, identity.sessionId);
  }
}

/**
 * `ctx` whose session reads (WTSQuerySessionInformationW, the session listings) are made with
 * `cut` (AbandonOptions): abandoned in the backend when it fires. Once it has fired, no call is made
 * through it (`stopping`, as a server's cut work): a read of several calls given up on makes no
 * further one (its handle may be closed by then).
 */
function readsCutBy(ctx: ServerContext, cut: AbortSignal): ServerContext {
  const api = ctx.api;
  const options = { signal: cut };
  const withReads = api.enumerateSessionsWith?.bind(api);
  const reads: Record<string, unknown> = {
    querySessionInformation: ((h, id, infoClass) => api.querySessionInformation(h, id, infoClass, options)) as WtsApi['querySessionInformation'],
    enumerateSessions: ((h) => api.enumerateSessions(h, options)) as WtsApi['enumerateSessions'],
  };
  if (withReads) reads['enumerateSessionsWith'] = ((h, make) => withReads(h, make, options)) as NonNullable<WtsApi['enumerateSessionsWith']>;
  const withOptions = around(api, (key, value) => (typeof key === 'string' && Object.prototype.hasOwnProperty.call(reads, key) ? reads[key] : value.bind(api)));
  return withApi(ctx, stopping(withOptions, cut));
}

/** A session found already logging off (7007), not seen gone: logged off, unconfirmed, no request of its own. */
function closingUnconfirmed(session: Session) {
  return { status: 'loggedOff', session, confirmed: false, alreadyClosing: true } as const;
}

/** Why waitAllGone gave up on a call: its deadline, or an abort. */
class PollCut extends Error {
  constructor(readonly why: 'timeout' | 'abort') {
    super(why);
  }
}

/**
 * Every session still awaited, after an abort: its logoff was sent and accepted, not seen done (one
 * already logging off, with no request of its own: logged off, not confirmed).
 */
function settleAborted(requested: Map<number, Requested>, ledger: Ledger<LogoffOutcome>): void {
  for (const [i, { session, unrequested }] of requested) {
    if (unrequested) {
      ledger.settle(i, closingUnconfirmed(session));
      continue;
    }
    ledger.settle(i, {
      status: 'requested',
      session,
      request: 'WTSLogoffSession',
      accepted: true,
      message: 'WTSLogoffSession was sent and accepted; aborted before the session was seen to close',
    });
  }
}

/**
 * The reads `read` makes through `ctx`, given up on at `deadline` (rejects with `timeout()`) or
 * when `signal` fires (rejects with `abort()`), whichever comes first. They are made through
 * readsCutBy: the cut then fires, the backend abandons them (AbandonOptions), they run on unseen
 * and keep nothing alive, and no further call is made through that context.
 */
function boundedReads<T>(
  ctx: ServerContext,
  read: (reads: ServerContext) => Promise<T>,
  deadline: number,
  timeout: () => Error,
  signal: AbortSignal | undefined,
  abort: () => Error,
): Promise<T> {
  const cut = new AbortController();
  return new Promise<T>((resolve, reject) => {
    // Aborted already (while the request was in flight, say): no read is started.
    if (signal?.aborted) {
      reject(abort());
      return;
    }
    // Whichever comes first ends the others' hold: no timer or listener outlives the race.
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(abort());
      cut.abort();
    };
    const timer = setTimeout(() => {
      done();
      reject(timeout());
      cut.abort();
    }, Math.max(0, deadline - Date.now()));
    const call = read(readsCutBy(ctx, cut.signal));
    call.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs the poll after a request was accepted; `poll` gets the factory of the wait's own timeout
 * error (`timeout`). Whatever ends the wait early — an abort, the timeout, a failed query (5,
 * 1722), any error a backend gave — the error says that the request had been sent and accepted
 * (`error.requests`), so a caller is never told a plain failure when the action may have happened.
 * The wait's own timeout keeps its message; any other error is said to come after the request.
 * Errors the poll got are never written on (a backend's may be frozen or shared): copies are.
 */
export async function sentThenPoll(
  request: RequestName,
  ctx: ServerContext,
  session: Session,
  poll: (timeout: () => WtsError) => Promise<void>,
  timeout: () => WtsError,
): Promise<void> {
  let ownTimeout: WtsError | undefined;
  try {
    await poll(() => (ownTimeout = timeout()));
  } catch (error) {
    const context = { server: ctx.server, sessionId: session.id, requests: [request] };
    if (isWtsError(error) && error.code === 'E_ABORTED') {
      throw new OperationAbortedError(`Waiting for session ${session.id}`, (error as Error).cause, context);
    }
    if (ownTimeout !== undefined && error === ownTimeout) throw copyWtsError(ownTimeout, { requests: [request] });
    const sent = `${request} was sent and accepted for session ID ${session.id}, but waiting for it to take effect failed`;
    // One of the library's errors (a Win32Error, a ThreadsExhaustedError, a backend's subclass)
    // keeps its class and fields.
    if (isWtsError(error)) {
      throw copyWtsError(error, {
        message: `${sent}: ${error.message}`,
        requests: [request],
        server: error.server ?? ctx.server,
        sessionId: error.sessionId ?? session.id,
      });
    }
    const win32 = asWin32(error);
    if (win32) {
      throw new Win32Error({
        win32Code: win32.win32Code,
        api: win32.api,
        systemMessage: win32.systemMessage,
        message: `${sent}: ${win32.message}`,
        cause: error,
        ...context,
      });
    }
    throw new WtsError('E_WIN32', `${sent}: ${describeThrown(error)}`, { ...context, cause: error });
  }
}

/** Issues WTSLogoffSession; a close already pending (7007) counts. Returns alreadyClosing. */
async function requestLogoff(
  ctx: ServerContext,
  session: Session,
  callerName: () => Promise<string>,
  refused?: (error: WtsError) => void,
): Promise<boolean> {
  try {
    await ctx.api.logoffSession(ctx.handle, session.id);
    return false;
  } catch (error) {
    if (isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING)) return true;
    throw await logoffFailure(ctx, session, error, callerName, refused);
  }
}

/**
 * logoff(target): one session, by ID, by name (must be Active), or the caller's own. Session 0
 * is refused whoever asks; the console unless it is the caller's own session.
 */
export async function logoffOne(
  ctx: ServerContext,
  target: ParsedTarget,
  opts: CheckedWait,
): Promise<Extract<LogoffOutcome, { status: 'loggedOff' }>> {
  const early = refuseBeforeLookup(target, ctx);
  if (early) throw early;
  const session = resolveTarget(await enumerateUnlessAborted(ctx, opts.signal, 'logoff'), target, ctx, target.kind === 'name');
  const refusal = refuse(session);
  if (refusal) throw refusal;
  // The identity right before acting, checked against the list: the one the poll then follows.
  let identity: SessionIdentity;
  try {
    identity = await captureOrGone(ctx, session, opts.signal, 'logoff');
  } catch (error) {
    if (!isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING)) throw error;
    return closingAlready(ctx, session, opts);
  }
  if (!session.isCurrent && isConsoleNow(ctx, session.id, identity.name)) throw new ConsoleSessionError(session.id, ctx.server);
  throwIfAborted(opts.signal, 'logoff', ctx, session.id);
  const alreadyClosing = await requestLogoff(ctx, session, callerSessionName(ctx, opts.signal));
  if (opts.wait) {
    await sentThenPoll(
      'WTSLogoffSession',
      ctx,
      session,
      (timeout) => pollSession(ctx, identity, opts, () => false, timeout),
      () => new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs),
    );
  }
  return Object.freeze({ status: 'loggedOff', session, confirmed: opts.wait, alreadyClosing, requests: Object.freeze(['WTSLogoffSession'] as const) });
}

/**
 * logoff() of a session whose identity read answered 7007 (ERROR_CTX_CLOSE_PENDING): its close is
 * already pending, and that counts as the logoff (`alreadyClosing`). No WTSLogoffSession is made:
 * without an identity read there is nothing to make it safely on (by the time it came, the ID could
 * hold a new logon). With `wait`, the session is polled as after a request, followed by the user
 * and domain it was listed with (no logon time was read): until 7022, or another account under
 * the ID.
 */
async function closingAlready(ctx: ServerContext, session: Session, opts: CheckedWait): Promise<Extract<LogoffOutcome, { status: 'loggedOff' }>> {
  if (opts.wait) {
    const listed = identityOf(session);
    await pollSession(ctx, listed, opts, () => false, () => new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs), (info) => mayBeSameAccount(listed, info));
  }
  return Object.freeze({ status: 'loggedOff', session, confirmed: opts.wait, alreadyClosing: true, requests: Object.freeze([] as const) });
}

/**
 * logoffAll: every session on the server but console, services, listeners and the caller,
 * narrowed by the filters (and by the plan, when one is applied), warned first if asked. Never
 * rejects for one session; rejects only when the server cannot be enumerated. Every outcome goes
 * to `ledger`, which also accounts for the requests sent if the call is cut short.
 */
export async function logoffAllOn(ctx: ServerContext, opts: CheckedLogoffAll, ledger: Ledger<LogoffOutcome>): Promise<void> {
  throwIfAborted(opts.signal, 'logoffAll', ctx);
  const chosen = await selectSessions(ctx, opts, protectedFromBulk, ledger, opts.dryRun || opts.warn !== undefined);

  if (opts.dryRun) {
    const plan = opts.warn ? { warn: { text: opts.warn.text, graceSeconds: opts.warn.graceSeconds } } : {};
    for (const c of chosen) ledger.settle(c.index, { status: 'wouldLogOff', session: c.session, identity: shownIdentity(c), ...plan });
    return;
  }

  const requested = new Map<number, Requested>();
  // A chosen session whose identity read (before its warning or its request) answers 7007 is
  // already logging off: that counts as its logoff, with no request of its own (as in logoff()),
  // and with `wait` it is followed until it is gone.
  const closing = (c: Chosen) => () => {
    const { index: i, session } = c;
    const unconfirmed = closingUnconfirmed(session);
    if (!opts.wait) return ledger.settle(i, unconfirmed);
    ledger.onCut(i, unconfirmed); // an abort or a server's timeout while it is followed
    requested.set(i, { session, identity: c.identity ?? identityOf(session), alreadyClosing: true, unrequested: true });
  };
  const toLogOff = opts.warn && chosen.length > 0 ? await warnFirst(ctx, chosen, opts, opts.warn, ledger, closing) : chosen;

  // Request every logoff (bounded), re-checking each session's identity right before.
  const callerName = callerSessionName(ctx, opts.signal);
  await mapLimit(toLogOff, opts.concurrency, async (c) => {
    const { index: i, session } = c;
    const identity = await clearToAct(ctx, c, ledger, opts.signal, 'its logoff was requested', true, opts.filter, closing(c));
    if (!identity) return;
    ledger.sending(i, 'WTSLogoffSession');
    try {
      const alreadyClosing = await requestLogoff(ctx, session, callerName, (refusal) => ledger.onCut(i, requestOutcome(session, refusal, 'its logoff request reached it')));
      ledger.accepted(i);
      if (opts.wait) requested.set(i, { session, identity, alreadyClosing });
      else ledger.settle(i, { status: 'loggedOff', session, confirmed: false, alreadyClosing });
    } catch (error) {
      ledger.settle(i, requestOutcome(session, error, 'its logoff request reached it'));
    }
  });

  if (requested.size > 0) await waitAllGone(ctx, requested, ledger, opts);
}

/** A logoff requested and accepted, waiting to be seen: the identity its poll follows. */
interface Requested {
  readonly session: Session;
  /** The logon followed: as re-checked, or (unrequested, no plan) as listed, with no logon time. */
  readonly identity: SessionIdentity;
  readonly alreadyClosing: boolean;
  /** No request was made: its identity read answered 7007 (already logging off). */
  readonly unrequested?: boolean;
}

/**
 * Sends the warning to every chosen session (without waiting for an answer), waits the grace
 * period, and returns the sessions to log off. A session that could not be warned is not logged
 * off: its outcome is the failure. The identity each was warned under is the one re-checked.
 */
async function warnFirst(
  ctx: ServerContext,
  chosen: readonly Chosen[],
  opts: CheckedLogoffAll,
  warn: CheckedWarn,
  ledger: Ledger<LogoffOutcome>,
  closing: (c: Chosen) => () => void,
): Promise<Chosen[]> {
  const warned: Chosen[] = [];
  await mapLimit(chosen, opts.concurrency, async (c) => {
    const { index: i, session } = c;
    // A warning is a message, not the action: the console is checked again before the logoff.
    // One already logging off needs no warning: it is taken as logged off (closing).
    if (!(await clearToAct(ctx, c, ledger, opts.signal, 'it was warned', false, opts.filter, closing(c)))) return;
    ledger.sending(i, 'WTSSendMessageW');
    try {
      await ctx.api.sendMessage(ctx.handle, session.id, {
        title: warn.title,
        text: warn.text,
        style: buttonsStyle('OK'),
        timeoutSeconds: Math.ceil(warn.graceSeconds),
        wait: false,
      });
      ledger.delivered(i);
      warned.push(c);
    } catch (error) {
      ledger.settle(i, requestOutcome(session, error, 'the warning reached it; nothing to log off'));
    }
  });
  if (warned.length === 0) return warned;
  try {
    await pause(warn.graceSeconds * 1000, opts.signal, 'The grace period after the warning', ctx);
  } catch {
    for (const c of warned) ledger.settle(c.index, { status: 'skipped', session: c.session, reason: 'aborted', message: 'warned, then aborted during the grace period; not logged off' });
    return [];
  }
  return warned.sort((a, b) => a.index - b.index);
}

/**
 * Polls the server's session list until every requested session is gone (or its ID holds another
 * logon). A session still listed under the same user when the time runs out gets one last
 * identity read: a new logon time means its logon ended and the ID was reused.
 */
async function waitAllGone(
  ctx: ServerContext,
  requested: Map<number, Requested>,
  ledger: Ledger<LogoffOutcome>,
  opts: CheckedWait,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  const gone = (i: number, alreadyClosing: boolean, session: Session) => {
    ledger.settle(i, { status: 'loggedOff', session, confirmed: true, alreadyClosing });
    requested.delete(i);
  };
  // The first look is right away: by the time the last request is made, the first may be done.
  for (let n = -1; requested.size > 0 && !ledger.closed; n++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      if (n >= 0) await pause(Math.min(pollDelay(n, opts.pollIntervalMs), left), opts.signal, 'Waiting for sessions to log off', ctx);
      else throwIfAborted(opts.signal, 'Waiting for sessions to log off', ctx);
    } catch {
      settleAborted(requested, ledger);
      return;
    }
    let now: Session[];
    try {
      // A listing that does not come back is given up on at the deadline, or at an abort.
      now = await boundedReads(ctx, enumerate, deadline, () => new PollCut('timeout'), opts.signal, () => new PollCut('abort'));
    } catch (error) {
      if (error instanceof PollCut && error.why === 'timeout') break;
      if (error instanceof PollCut) {
        settleAborted(requested, ledger);
        return;
      }
      lastError = error;
      continue;
    }
    const byId = new Map(now.map((s) => [s.id, s] as const));
    for (const [i, { session, identity, alreadyClosing }] of [...requested]) {
      const current = byId.get(session.id);
      if (!current || !sameUser(current, identity)) {
        gone(i, alreadyClosing, session);
      }
    }
  }
  if (ledger.closed) return;
  // The last look at each session left: a read that does not come back within pollIntervalMs is
  // given up on (the session is reported timed out), as is every read after an abort.
  // Each session's read has its own pollIntervalMs (a few at a time): one that does not come back
  // costs no other session its look.
  let abortedNow = false;
  await mapLimit([...requested], LAST_LOOKS_AT_ONCE, async ([i, { session, identity, alreadyClosing, unrequested }]) => {
    if (abortedNow) return;
    let cause: unknown = lastError;
    try {
      // readIdentity reads a name that fills its WTSINFOW field in full: compared whole, not as cut.
      const now = await boundedReads(ctx, (reads) => readIdentity(reads, session.id, identity), Date.now() + opts.pollIntervalMs, () => new PollCut('timeout'), opts.signal, () => new PollCut('abort'));
      // One followed as listed has no logon time to compare: the account alone says.
      const same = unrequested && identity.logonTime === null ? sameUser(identity, now) : sameIdentity(identity, now);
      if (!same) return gone(i, alreadyClosing, session);
    } catch (error) {
      if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return gone(i, alreadyClosing, session);
      if (error instanceof PollCut && error.why === 'abort') {
        abortedNow = true;
        return settleAborted(requested, ledger);
      }
      if (!(error instanceof PollCut)) cause ??= error;
    }
    if (abortedNow) return;
    const error = new LogoffTimeoutError(session.id, ctx.server, opts.timeoutMs);
    if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause });
    ledger.settle(i, { status: 'failed', session, error });
    requested.delete(i);
  });
}

/** How many last looks waitAllGone makes at once. */
const LAST_LOOKS_AT_ONCE = 8;
