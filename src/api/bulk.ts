/**
 * What every bulk call shares: choosing sessions (protection, then filters, cheapest first),
 * re-checking a session's identity before acting, error normalisation and abort handling.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConsoleSessionError,
  copyWtsError,
  describeThrown,
  InvalidArgumentError,
  isWtsError,
  OperationAbortedError,
  SessionChangedError,
  SessionNotFoundError,
  Win32Error,
  WtsError,
  type ProtectedKind,
  type SessionIdentity,
} from '../errors';
import { Win32 } from '../wtsapi';
import type { ServerContext } from './context';
import { timesOf, type SessionDetails } from './details';
import { applyFilter, type CompiledFilter } from './filter';
import { mapLimit } from './limit';
import { captureIdentity, enumerate, identityOf, isConsoleNow, isWtsInfo, protectedKind, readIdentityAndInfo, refuse, refuseBeforeLookup, refuseNoUser, resolveTarget, sameIdentity, sameLogonTime, sameUser, type ReadInfo } from './sessions';
import { SESSION_STATES, stateFromWin32, type DistributiveOmit, type NotActed, type RequestName, type Session, type SessionState, type SkipReason } from './types';
import { checkSessionId, normalizeServerName, readArray, readOptions, serverNameKey, type ParsedTarget } from './validate';

export type { NotActed };

export interface SkipInfo {
  readonly reason: SkipReason;
  readonly message: string;
}

// Errors are recognised by isWtsError (src/errors.ts), not by `instanceof`: a backend may come
// from another copy of this package with its own classes.

export function asWin32(error: unknown): Win32Error | undefined {
  return isWtsError(error) && error.code === 'E_WIN32' && typeof (error as Win32Error).win32Code === 'number'
    ? (error as Win32Error)
    : undefined;
}

export function isWin32(error: unknown, code: number): boolean {
  return asWin32(error)?.win32Code === code;
}

export function asWtsError(error: unknown): WtsError {
  if (isWtsError(error)) return error;
  return new WtsError('E_WIN32', `Unexpected failure: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

export function aborted(what: string, reason: unknown, ctx: ServerContext, sessionId?: number): OperationAbortedError {
  return new OperationAbortedError(what, reason, { server: ctx.server, ...(sessionId === undefined ? {} : { sessionId }) });
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string, ctx: ServerContext, sessionId?: number): void {
  if (signal?.aborted) throw aborted(what, signal.reason, ctx, sessionId);
}

/** Sleeps `ms`; an abort rejects with OperationAbortedError. */
export async function pause(ms: number, signal: AbortSignal | undefined, what: string, ctx: ServerContext, sessionId?: number): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    throw aborted(what, signal?.reason ?? error, ctx, sessionId);
  }
}

/**
 * Re-reads the session's identity right before acting and compares it with `baseline` (the
 * identity shown, planned or warned). Throws SessionChangedError when the ID now belongs to
 * another logon, SessionNotFoundError when it is gone.
 */
export async function recheck(ctx: ServerContext, session: Session, baseline: SessionIdentity): Promise<SessionIdentity> {
  return (await recheckRead(ctx, session, baseline)).identity;
}

/** recheck, and what its read said of the session besides (state, WTSINFOW's times). */
async function recheckRead(ctx: ServerContext, session: Session, baseline: SessionIdentity): Promise<{ identity: SessionIdentity; info: ReadInfo }> {
  let read: { identity: SessionIdentity; info: ReadInfo };
  try {
    read = await readIdentityAndInfo(ctx, session.id, baseline);
  } catch (error) {
    if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) throw new SessionNotFoundError(session.id, ctx.server, error);
    throw error;
  }
  if (!sameIdentity(baseline, read.identity)) throw new SessionChangedError(session.id, ctx.server, baseline, read.identity);
  return read;
}

/** A failed identity read as an outcome: changed or gone are skips, anything else a failure. */
export function recheckOutcome(session: Session, error: unknown): DistributiveOmit<NotActed, 'requests'> {
  if (error instanceof SessionChangedError || (isWtsError(error) && error.code === 'E_SESSION_CHANGED')) {
    return { status: 'skipped', session, reason: 'changed', message: (error as Error).message };
  }
  // 7007 (ERROR_CTX_CLOSE_PENDING): it is logging off (someone else's logoff, or an earlier run's).
  if (isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING)) return { status: 'skipped', session, reason: 'gone', message: 'it was already logging off (7007: a close was pending)' };
  if (isWtsError(error) && error.code === 'E_NOT_FOUND') return { status: 'skipped', session, reason: 'gone', message: 'it had already ended' };
  if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return { status: 'skipped', session, reason: 'gone', message: 'it had already ended' };
  return { status: 'failed', session, error: asWtsError(error) };
}

/**
 * A request that failed, as an outcome: 7022 (ERROR_CTX_WINSTATION_NOT_FOUND: the session ended
 * between its re-check and the request; that a request to an ended session fails so is assumed,
 * as for every call) is a skip, `gone`, not a failure; anything else a failure.
 */
export function requestOutcome(session: Session, error: unknown, before: string): DistributiveOmit<NotActed, 'requests'> {
  if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) return { status: 'skipped', session, reason: 'gone', message: `it ended before ${before}` };
  return { status: 'failed', session, error: asWtsError(error) };
}

function callbackWarning(error: unknown): void {
  process.emitWarning(`wts-session: an onEvent callback threw (ignored): ${describeThrown(error)}`, 'WtsCallbackWarning');
}

/**
 * Calls a user's callback; what it throws — or, for an async callback, what its promise rejects
 * with — never changes an outcome: it is emitted as a process warning.
 */
export function safeCall<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
  if (!fn) return;
  try {
    const result: unknown = fn(arg);
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, callbackWarning);
    }
  } catch (error) {
    callbackWarning(error);
  }
}

type BulkOutcome = { readonly status: string; readonly session: Session; readonly requests: readonly RequestName[] };

/**
 * The record of one server's bulk call: one outcome per session, the requests sent to each, and
 * — when the call is cut short by a timeout or an abort — an outcome for every session not yet
 * settled, so that nothing sent goes unreported. Once closed, later settles are ignored.
 */
export class Ledger<O extends BulkOutcome> {
  readonly #sessions: Session[] = [];
  readonly #outcomes: (O | undefined)[] = [];
  readonly #requests = new Map<number, RequestName[]>();
  readonly #onCut = new Map<number, unknown>();
  /** Requests sent whose call has not settled the session: index -> accepted (undefined = in flight). */
  readonly #pending = new Map<number, { request: RequestName; accepted: boolean | undefined; unmade?: () => boolean }>();
  readonly #onOutcome: ((outcome: O) => void) | undefined;
  #closed = false;

  constructor(onOutcome?: (outcome: O) => void) {
    this.#onOutcome = onOutcome;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds sessions to account for; returns the index of the first. */
  add(sessions: readonly Session[]): number {
    const first = this.#sessions.length;
    this.#sessions.push(...sessions);
    return first;
  }

  /** Session `i` as listed again (the same logon, a newer look at it) while nothing was sent to it. */
  refresh(i: number, session: Session): void {
    if (this.#closed || this.#outcomes[i] !== undefined || i >= this.#sessions.length) return;
    this.#sessions[i] = session;
  }

  /** What session `i` is reported as if the call is cut short before it has an outcome. */
  onCut(i: number, outcome: DistributiveOmit<O, 'requests'>): void {
    this.#onCut.set(i, outcome);
  }

  /** Call right before a request is sent to session `i`. */
  sending(i: number, request: RequestName): void {
    const list = this.#requests.get(i) ?? [];
    list.push(request);
    this.#requests.set(i, list);
    this.#pending.set(i, { request, accepted: undefined });
  }

  /**
   * The request being sent to session `i` waited for a thread (CallOptions.onQueued) and is
   * abandoned through `signal`: if the call is cut short with `signal` fired before the request
   * was made, the backend drops it (or has dropped it) unmade, so it is not reported as sent.
   */
  queuedOn(i: number, notMade: () => boolean, signal: AbortSignal | undefined): void {
    const p = this.#pending.get(i);
    if (p && signal) p.unmade = () => signal.aborted && notMade();
  }

  /** The request sent to session `i` returned success; its outcome is not settled yet. */
  accepted(i: number): void {
    const p = this.#pending.get(i);
    if (p) p.accepted = true;
  }

  /** A request that is not the action itself (a warning) was delivered: nothing is pending for `i`. */
  delivered(i: number): void {
    this.#pending.delete(i);
  }

  /**
   * Records session `i`'s outcome (frozen, with the requests sent to it) and reports it. A failure
   * says what it knows: a request the backend refused without making it (ThreadsExhaustedError) is
   * not listed as sent, and the error's own `requests` are those sent and accepted before it came
   * (a warning, and a logoff whose wait then failed).
   */
  settle(i: number, outcome: DistributiveOmit<O, 'requests'>): void {
    if (this.#closed || this.#outcomes[i] !== undefined) return;
    if (outcome.status === 'failed') {
      const error = this.#failed(i, (outcome as { error?: unknown }).error);
      outcome = { ...outcome, error } as DistributiveOmit<O, 'requests'>;
    }
    const frozen = Object.freeze({ ...outcome, requests: Object.freeze([...(this.#requests.get(i) ?? [])]) }) as unknown as O;
    this.#outcomes[i] = frozen;
    this.#pending.delete(i);
    safeCall(this.#onOutcome, frozen);
  }

  /**
   * A failure's error as the outcome gives it: with `requests` the ones sent and accepted before
   * it (whatever `requests` it came with) — on a copy (same class, same fields), never on the
   * backend's own object, which may be shared by several sessions or frozen.
   */
  #failed(i: number, error: unknown): unknown {
    const pending = this.#pending.get(i);
    const sent = this.#requests.get(i) ?? [];
    const unaccepted = pending !== undefined && pending.accepted !== true;
    const unmade = isWtsError(error) && error.code === 'E_THREADS_EXHAUSTED';
    // Refused unmade: not sent at all.
    if (unaccepted && unmade) this.#neverMade(i);
    const accepted = unaccepted && !unmade ? sent.slice(0, -1) : [...sent];
    // What this call sent and had accepted is the Ledger's to say: an error that came with other
    // `requests` (a backend's, say, revived from another process) gets these instead.
    if (!isWtsError(error) || (Array.isArray(error.requests) && sameList(error.requests, accepted))) return error;
    return copyWtsError(error, { requests: accepted });
  }

  /**
   * Cuts the call short: every session without an outcome gets one — 'requested' when a request
   * was sent to it, else skipped for `reason` — and later settles are ignored.
   */
  close(reason: 'timeout' | 'aborted', why: string): void {
    this.#closeWith(why, (session, message) => ({ status: 'skipped', session, reason, message }));
  }

  /**
   * The server's work failed after its sessions were listed (its second listing, say): every
   * session without an outcome gets one, as `close` gives it, but 'failed' with that error
   * instead of skipped — the server's failure is why it was not acted on.
   */
  fail(error: unknown): void {
    const failure = asWtsError(error);
    this.#closeWith(`the server failed (${failure.message})`, (session) => ({ status: 'failed', session, error: failure }));
  }

  #closeWith(why: string, notActed: (session: Session, message: string) => DistributiveOmit<NotActed, 'requests'>): void {
    if (this.#closed) return;
    const settle = (i: number, outcome: unknown) => this.settle(i, outcome as DistributiveOmit<O, 'requests'>);
    this.#sessions.forEach((session, i) => {
      if (this.#outcomes[i] !== undefined) return;
      const pending = this.#pending.get(i);
      const onCut = this.#onCut.get(i);
      if (onCut !== undefined) {
        settle(i, onCut);
      } else if (pending?.unmade?.()) {
        // Still waiting for a thread, and its signal fired: the backend drops it, never made.
        this.#neverMade(i);
        settle(i, notActed(session, `${why}; not acted on (its ${pending.request} was still waiting for a thread, never made)`));
      } else if (pending) {
        settle(i, {
          status: 'requested',
          session,
          request: pending.request,
          accepted: pending.accepted,
          message: `${pending.request} was sent${pending.accepted ? ' and accepted' : ''}; ${why} before it was confirmed`,
        });
      } else if ((this.#requests.get(i) ?? []).length > 0) {
        // A warning was sent and answered, but the action never started.
        settle(i, notActed(session, `${why}; warned, not acted on`));
      } else {
        settle(i, notActed(session, `${why}; not acted on`));
      }
    });
    this.#closed = true;
  }

  /** Session `i`'s last request was never made (refused by the threads, or dropped while queued): it is not listed as sent. */
  #neverMade(i: number): void {
    this.#requests.get(i)?.pop();
  }

  /** The outcomes so far, in session order (every session's, once the call finished or closed). */
  outcomes(): O[] {
    return this.#outcomes.filter((o): o is O => o !== undefined);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** How a bulk call reports a protected session it leaves alone. */
const PROTECTED_SKIPS: Readonly<Record<ProtectedKind, string>> = {
  services: 'the Services session has no user',
  listener: 'a listener has no user',
  console: 'the console session is never logged off',
};

/** A protected kind (protectedKind / noUserKind: what `refuse` / `refuseNoUser` refuse) as a bulk call's skip. */
export function skipFor(kind: ProtectedKind | undefined): SkipInfo | undefined {
  return kind && { reason: kind, message: PROTECTED_SKIPS[kind] };
}

/** The sessions a bulk logoff or disconnect never touches: yours, and what `refuse` refuses. */
export function protectedFromBulk(session: Session): SkipInfo | undefined {
  if (session.isCurrent) return { reason: 'current', message: 'your own session' };
  return skipFor(protectedKind(session));
}

/**
 * One session for an action on it (disconnect, message), under the protected-sessions rule:
 * Services and listeners are refused — by ID before any WTS call, and also when they are the
 * caller's own session —, and with `protectConsole` (disconnect) the console unless it is the
 * caller's own. The session's identity is read (and checked against the list) right before acting.
 */
export async function resolveForAction(
  ctx: ServerContext,
  target: ParsedTarget,
  requireActive: boolean,
  signal: AbortSignal | undefined,
  what: string,
  protectConsole: boolean,
): Promise<{ session: Session; identity: SessionIdentity }> {
  const early = protectConsole
    ? refuseBeforeLookup(target, ctx)
    : target.kind === 'id'
      ? refuseNoUser(target.id, undefined, ctx.server)
      : target.kind === 'current' && ctx.currentSessionId !== undefined
        ? refuseNoUser(ctx.currentSessionId, undefined, ctx.server)
        : undefined;
  if (early) throw early;
  const session = resolveTarget(await enumerateUnlessAborted(ctx, signal, what), target, ctx, requireActive);
  const refusal = protectConsole ? refuse(session) : refuseNoUser(session.id, session.state, ctx.server);
  if (refusal) throw refusal;
  const identity = await captureOrGone(ctx, session, signal, what);
  if (protectConsole && !session.isCurrent && isConsoleNow(ctx, session.id, identity.name)) {
    throw new ConsoleSessionError(session.id, ctx.server);
  }
  return { session, identity };
}

/**
 * captureIdentity, with 7022 as SessionNotFoundError; when `signal` fired meanwhile, its abort
 * instead of what the read happened to find (the session gone, say).
 */
export async function captureOrGone(ctx: ServerContext, session: Session, signal: AbortSignal | undefined, what: string): Promise<SessionIdentity> {
  try {
    return await captureIdentity(ctx, session);
  } catch (error) {
    throwIfAborted(signal, what, ctx, session.id);
    if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) throw new SessionNotFoundError(session.id, ctx.server, error);
    throw error;
  }
}

/**
 * The server's sessions for a call on one target, unless `signal` fired before or while they were
 * listed: then its abort, not what the list happens to say (not found, not active).
 */
export async function enumerateUnlessAborted(ctx: ServerContext, signal: AbortSignal | undefined, what: string): Promise<readonly Session[]> {
  throwIfAborted(signal, what, ctx);
  const sessions = await enumerate(ctx);
  throwIfAborted(signal, what, ctx);
  return sessions;
}

// ---- plans --------------------------------------------------------------------------------

/** One planned session: as it was shown, and the logon it was shown for. */
export interface PlanEntry {
  readonly session: Session;
  readonly identity: SessionIdentity;
}

/** A checked plan: planned sessions by server key ('' = local, else the lower-case name), then ID. */
export interface CheckedPlan {
  readonly status: string;
  readonly byServer: ReadonlyMap<string, ReadonlyMap<number, PlanEntry>>;
  /** The warning its `wouldLogOff` sessions were planned with (logoffAll's `warn`), if any. */
  readonly warn?: PlannedWarn | undefined;
}

/** A warning as a logoffAll dry run plans it. */
export interface PlannedWarn {
  readonly text: string;
  readonly graceSeconds: number;
}

/**
 * What a bulk call's `plan` option accepts: the result of a dry run of the same call (a list of
 * outcomes, or a {@link FarmResult} with `servers`), or its outcomes — also after a JSON round
 * trip (dates as ISO strings). Only its `would...` outcomes are planned.
 */
export type PlanInput<O> = { readonly results: readonly O[] } | readonly O[];

/** How a plan names a server: '' for the local one, else the name's key (case, IP forms folded). */
export function serverKey(server: string): string {
  return server === '' ? '' : serverNameKey(server);
}

function planFail(path: string, problem: string): never {
  const what = path === '' ? 'options.plan' : `options.plan${path}`;
  throw new InvalidArgumentError('options.plan', `Invalid ${what}: it ${problem}. Pass the result of a dry run of the same call, unchanged.`);
}

function planString(value: unknown, path: string): string {
  if (typeof value !== 'string') planFail(path, 'is not a string');
  return value as string;
}

function planTime(value: unknown, path: string): Date | null {
  if (value === null) return null;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return new Date(value.getTime());
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
  return planFail(path, 'is not a date, an ISO 8601 string or null');
}

/**
 * Checks a plan (the result of a dry run of the same operation, or its outcomes — also after a JSON
 * round trip) and copies what it needs. Only outcomes with `status === wouldStatus` are planned;
 * an outcome planned by another operation is an error.
 */
export function checkPlan(value: unknown, wouldStatus: string): CheckedPlan {
  let list = readArray(value, 'options.plan');
  if (!list) {
    if (value === null || typeof value !== 'object') planFail('', 'is neither a dry run\'s result nor a list of its outcomes');
    list = readArray(readOptions(value, 'options.plan', true)['results'], 'options.plan.results');
  }
  if (!list) planFail('', 'is neither a dry run\'s result nor a list of its outcomes');
  const byServer = new Map<string, Map<number, PlanEntry>>();
  // Every planned session carries the same warning, or none does: one call planned them all.
  let warn: PlannedWarn | undefined;
  let planned = 0;
  list.forEach((raw, k) => {
    const path = `[${k}]`;
    const o = readOptions(raw, `options.plan${path}`, true);
    const status = planString(o['status'], `${path}.status`);
    if (!status.startsWith('would')) return;
    if (status !== wouldStatus) planFail(`${path}.status`, `is '${status}', a plan of another operation (this one plans '${wouldStatus}')`);
    const s = readOptions(o['session'], `options.plan${path}.session`, true);
    const i = readOptions(o['identity'], `options.plan${path}.identity`, true);
    const id = checkSessionId(s['id'] as number, `options.plan${path}.session.id`);
    const rawServer = planString(s['server'], `${path}.session.server`);
    const server = rawServer === '' ? '' : normalizeServerName(rawServer, `options.plan${path}.session.server`);
    const state = planString(s['state'], `${path}.session.state`);
    if (!(SESSION_STATES as readonly string[]).includes(state)) planFail(`${path}.session.state`, 'is not a session state');
    if (i['sessionId'] !== id) planFail(`${path}.identity.sessionId`, 'is not the session\'s ID');
    const session: Session = Object.freeze({
      id,
      name: planString(s['name'], `${path}.session.name`),
      state: state as SessionState,
      userName: planString(s['userName'], `${path}.session.userName`),
      domain: planString(s['domain'], `${path}.session.domain`),
      server,
      isConsole: s['isConsole'] === true,
      isCurrent: s['isCurrent'] === true,
    });
    const identity: SessionIdentity = Object.freeze({
      sessionId: id,
      name: planString(i['name'], `${path}.identity.name`),
      userName: planString(i['userName'], `${path}.identity.userName`),
      domain: planString(i['domain'], `${path}.identity.domain`),
      logonTime: planTime(i['logonTime'], `${path}.identity.logonTime`),
    });
    const w = plannedWarn(o['warn'], `${path}.warn`);
    if (planned > 0 && (w?.text !== warn?.text || w?.graceSeconds !== warn?.graceSeconds)) planFail(`${path}.warn`, 'is not the warning the plan\'s other sessions carry (a plan is one dry run\'s)');
    warn = w;
    planned++;
    const key = serverKey(server);
    const forServer = byServer.get(key) ?? new Map<number, PlanEntry>();
    if (forServer.has(id)) planFail(path, `plans session ${id}${server ? ` on ${server}` : ''} twice`);
    forServer.set(id, Object.freeze({ session, identity }));
    byServer.set(key, forServer);
  });
  return Object.freeze({ status: wouldStatus, byServer, ...(warn ? { warn } : {}) });
}

/** A planned session's `warn` (logoffAll's dry run with `warn`): undefined when it has none. */
function plannedWarn(value: unknown, path: string): PlannedWarn | undefined {
  if (value === undefined) return undefined;
  const w = readOptions(value, `options.plan${path}`, true);
  const graceSeconds = w['graceSeconds'];
  if (typeof graceSeconds !== 'number' || !Number.isFinite(graceSeconds) || graceSeconds < 0) planFail(`${path}.graceSeconds`, 'is not a number of seconds');
  return Object.freeze({ text: planString(w['text'], `${path}.text`), graceSeconds: graceSeconds as number });
}

/** The checked options every bulk call has. */
export interface BulkChecked {
  readonly signal?: AbortSignal | undefined;
  readonly plan: CheckedPlan | undefined;
}

/** A plan may only name the servers of the call it is applied with ('' = the local server). */
export function checkPlanServers(plan: CheckedPlan | undefined, servers: readonly string[]): void {
  if (!plan) return;
  const allowed = new Set(['', ...servers.map(serverKey)]);
  for (const key of plan.byServer.keys()) {
    if (!allowed.has(key)) {
      throw new InvalidArgumentError('options.plan', `Invalid options.plan: it plans sessions on ${key}, which this call does not work on.`);
    }
  }
}

// ---- choosing the sessions ----------------------------------------------------------------

/**
 * A session chosen for the action, and the identity to act on it under: the plan's, or the one
 * read when it was chosen. Undefined when nothing between the choice and the action needs it (no
 * dry run, warning or plan, no filter read again at the action): clearToAct's read right before
 * the request is then the session's one identity read (see selectSessions).
 */
export interface Chosen {
  readonly index: number;
  readonly session: Session;
  readonly identity: SessionIdentity | undefined;
}

/** The identity a dry run shows: selectSessions reads it whenever `needIdentity` is set. */
export function shownIdentity(c: Chosen): SessionIdentity {
  if (c.identity === undefined) throw new Error(`wts-session: internal error: session ${c.session.id} was chosen for a dry run without its identity`);
  return c.identity;
}

const NOT_IN_PLAN = 'not in the confirmed plan';

/** Details without the `times` group's fields (the lock state, the client kept). */
function withoutTimes(details: SessionDetails | undefined): SessionDetails {
  const { logonTime: _l, connectTime: _c, disconnectTime: _d, lastInputTime: _i, idleMs: _m, disconnectedMs: _s, ...rest } = details ?? {};
  return rest;
}

export interface SelectOptions {
  readonly filter: CompiledFilter;
  readonly concurrency: number;
  readonly plan: CheckedPlan | undefined;
}

/**
 * Enumerates once (over many servers: again when the server had to wait for its turn, see
 * ServerContext.ready), then sorts every session: protected (`protect`), not in the plan, filtered out,
 * or chosen. Filters that need details query only the sessions the cheap filters let through.
 * Each chosen session's identity is the plan's (with a plan), or read now (one WTSSessionInfo
 * query) when something needs it before the action: `needIdentity` (a dry run shows it, a warning
 * is sent under it), or a filter that is applied again right before the action (the re-check then
 * compares with the logon the filter chose). Otherwise it is left undefined and read once, right
 * before the request (clearToAct): reading it here too would only cost a query per session.
 * Planned sessions that are no longer listed are added to the ledger as gone.
 */
export async function selectSessions<O extends BulkOutcome>(
  ctx: ServerContext,
  options: SelectOptions,
  protect: (session: Session) => SkipInfo | undefined,
  ledger: Ledger<O>,
  needIdentity: boolean,
): Promise<Chosen[]> {
  const readNow = needIdentity || options.filter.changeable;
  const settle = (i: number, outcome: DistributiveOmit<NotActed, 'requests'>) => ledger.settle(i, outcome as unknown as DistributiveOmit<O, 'requests'>);
  const planned = options.plan?.byServer.get(serverKey(ctx.server));
  const listed = oncePerId(await enumerate(ctx));
  // Every listed session, and every planned one that is not listed, has its entry in the ledger
  // from now on: cut short at any point below, each gets its outcome.
  let entries = entriesOf(ledger, listed);
  const ids = new Set(listed.map((s) => s.id));
  let unlisted = entriesOf(ledger, [...(planned?.values() ?? [])].filter((e) => !ids.has(e.session.id)).map((e) => e.session));
  // Over many servers: the server waits for its turn when it has a session to work on. A server
  // that had to wait is listed again and works on that list (one entry per session ID; see relisted).
  if (ctx.ready && listed.some((s) => protect(s) === undefined) && (await ctx.ready())) {
    // A session of the first list that has ended since is reported as the call would have left
    // it alone (protected, not in the plan, filtered out by what it was listed as), else gone.
    const leftOut = (session: Session): DistributiveOmit<NotActed, 'requests'> | undefined => {
      const skip = protect(session);
      if (skip) return { status: 'skipped', session, reason: skip.reason, message: skip.message };
      if (options.plan && !planned?.has(session.id)) return { status: 'skipped', session, reason: 'notInPlan', message: NOT_IN_PLAN };
      const cheap = options.filter.cheap(session);
      return cheap === undefined ? undefined : { status: 'skipped', session, reason: 'filtered', message: cheap };
    };
    let fresh: Session[];
    try {
      fresh = oncePerId(await enumerate(ctx));
    } catch (error) {
      // The second listing failed: the first list's sessions the call would have left alone say
      // so; every other one gets the server's failure (Ledger.fail, when the work rejects).
      for (const { index, session } of entries) {
        const alone = leftOut(session);
        if (alone) settle(index, alone);
      }
      throw error;
    }
    ({ entries, unlisted } = relisted(ledger, entries, unlisted, fresh, settle, leftOut));
  }
  for (const { index, session } of unlisted) {
    settle(index, { status: 'skipped', session, reason: 'gone', message: 'it has ended since the plan was made' });
  }
  const candidates: Array<{ index: number; session: Session; planned: SessionIdentity | undefined }> = [];
  entries.forEach(({ index: i, session }) => {
    const skip = protect(session);
    if (skip) return settle(i, { status: 'skipped', session, reason: skip.reason, message: skip.message });
    if (!options.plan) return void candidates.push({ index: i, session, planned: undefined });
    const entry = planned?.get(session.id);
    if (!entry) return settle(i, { status: 'skipped', session, reason: 'notInPlan', message: NOT_IN_PLAN });
    const listed = identityOf(session);
    if (!sameUser(listed, entry.identity)) {
      const error = new SessionChangedError(session.id, ctx.server, entry.identity, listed);
      return settle(i, { status: 'skipped', session, reason: 'changed', message: error.message });
    }
    candidates.push({ index: i, session, planned: entry.identity });
  });
  const chosen = await mapLimit(candidates, options.concurrency, async ({ index, session, planned: identity }): Promise<Chosen | undefined> => {
    if (ledger.closed) return undefined; // cut short: the ledger has accounted for it
    try {
      // The identity must be the logon the filters judged. A filter that reads only the times
      // reads the logon time with them (WTSINFOW): the identity is read after it, for the sessions
      // it keeps, and must show that logon time. Other detail filters (lock, client) read no
      // logon time: the identity is read before their queries, so what they judge is that logon
      // or a later one, which the re-check before the action then finds changed.
      const cheap = options.filter.cheap(session);
      if (cheap !== undefined) {
        settle(index, { status: 'skipped', session, reason: 'filtered', message: cheap });
        return undefined;
      }
      let chosenAs = identity ?? (readNow && !judgedOnSessionInfo(options.filter) ? await captureIdentity(ctx, session) : undefined);
      const { reason, details } = await applyFilter(ctx, options.filter, session);
      if (reason !== undefined) {
        settle(index, { status: 'skipped', session, reason: 'filtered', message: reason });
        return undefined;
      }
      if (!chosenAs && readNow) chosenAs = await captureIdentity(ctx, session);
      if (chosenAs && details?.logonTime !== undefined && !sameLogonTime(details.logonTime, chosenAs.logonTime)) {
        const judged = { ...chosenAs, logonTime: details.logonTime };
        settle(index, { status: 'skipped', session, reason: 'changed', message: new SessionChangedError(session.id, ctx.server, chosenAs, judged).message });
        return undefined;
      }
      return { index, session, identity: chosenAs };
    } catch (error) {
      settle(index, recheckOutcome(session, error));
      return undefined;
    }
  });
  return chosen.filter((c): c is Chosen => c !== undefined);
}

/**
 * Whether the filters need nothing a WTSSessionInfo read does not give: no detail group but the
 * times (WTSINFOW holds them with the state, the names and the logon time).
 */
function judgedOnSessionInfo(filter: CompiledFilter): boolean {
  return [...filter.groups].every((g) => g === 'times');
}

/**
 * A listing with each session ID once (the first time it is listed): a backend that lists an ID
 * twice (Windows does not) must not get it acted on twice.
 */
function oncePerId(sessions: Session[]): Session[] {
  const seen = new Set<number>();
  let duplicate = false;
  for (const s of sessions) {
    if (seen.has(s.id)) duplicate = true;
    seen.add(s.id);
  }
  if (!duplicate) return sessions;
  seen.clear();
  return sessions.filter((s) => !seen.has(s.id) && (seen.add(s.id), true));
}

interface Entry {
  readonly index: number;
  readonly session: Session;
}

/** Adds sessions to the ledger: each with its index. */
function entriesOf<O extends BulkOutcome>(ledger: Ledger<O>, sessions: readonly Session[]): Entry[] {
  const first = ledger.add(sessions);
  return sessions.map((session, k) => ({ index: first + k, session }));
}

/**
 * A server listed again at its turn: one entry per session ID, as in a single listing. A session
 * of the new list keeps the ledger entry of its ID — from the first list, or a planned session
 * that was not listed then — now as newly listed (if the ID holds another logon by now, that logon
 * is what the call goes on with, and what its checks see); an ID new in this list gets an entry of
 * its own; an ID of the first list that is no longer listed is settled as gone (or as `leftOut`
 * says the call would have left it alone anyway). Returns the new
 * list's entries, and the planned entries still not listed.
 */
function relisted<O extends BulkOutcome>(
  ledger: Ledger<O>,
  entries: readonly Entry[],
  unlisted: readonly Entry[],
  fresh: readonly Session[],
  settle: (i: number, outcome: DistributiveOmit<NotActed, 'requests'>) => void,
  leftOut: (session: Session) => DistributiveOmit<NotActed, 'requests'> | undefined,
): { entries: Entry[]; unlisted: Entry[] } {
  const byId = new Map([...entries, ...unlisted].map((e) => [e.session.id, e] as const));
  const kept = new Set<Entry>();
  const now = fresh.map((session): Entry => {
    const before = byId.get(session.id);
    if (before && !kept.has(before)) {
      kept.add(before);
      ledger.refresh(before.index, session);
      return { index: before.index, session };
    }
    return entriesOf(ledger, [session])[0] as Entry;
  });
  for (const e of entries) {
    if (!kept.has(e)) settle(e.index, leftOut(e.session) ?? { status: 'skipped', session: e.session, reason: 'gone', message: 'it ended while the server waited for its turn' });
  }
  return { entries: now, unlisted: unlisted.filter((e) => !kept.has(e)) };
}

/** The skip of a session the call did not start on because the signal fired. */
export function abortedSkip(session: Session, what: string): DistributiveOmit<NotActed, 'requests'> {
  return { status: 'skipped', session, reason: 'aborted', message: `aborted before ${what}` };
}

/**
 * The checks right before a request to one chosen session, the same for every bulk action: the
 * call is not cut short; the session is still the logon it was chosen (planned, warned) as; for
 * logoff and disconnect (`protectConsole`), it has not become the console (a user reconnecting
 * there); and the call was not cut short during that re-check. Returns the identity to follow
 * after the request (the chosen one, or, when none was read before, the one read now against the
 * listing); when a check fails, the session's outcome is settled and undefined returned. `what`
 * ends the aborted skip's message.
 */
export async function clearToAct<O extends BulkOutcome>(
  ctx: ServerContext,
  c: Chosen,
  ledger: Ledger<O>,
  signal: AbortSignal | undefined,
  what: string,
  protectConsole: boolean,
  filter?: CompiledFilter,
  closing?: () => void,
): Promise<SessionIdentity | undefined> {
  const refuse = (outcome: DistributiveOmit<NotActed, 'requests'>): undefined => {
    ledger.settle(c.index, outcome as unknown as DistributiveOmit<O, 'requests'>);
    return undefined;
  };
  // A read that failed: with `closing`, one answered 7007 (its close already pending) is handed to
  // the caller, who takes it as already logging off; any other is an outcome (recheckOutcome).
  const failedRead = (error: unknown): undefined => {
    if (closing && isWin32(error, Win32.ERROR_CTX_CLOSE_PENDING) && !signal?.aborted && !ledger.closed) {
      closing();
      return undefined;
    }
    return refuse(recheckOutcome(c.session, error));
  };
  // The identity read right before the request: against the one chosen, or, when none was read
  // since the listing, against the listing (the user it listed; captureIdentity reads a session
  // whose read takes several calls twice, so that it cannot mix two logons).
  const identityNow = (): Promise<SessionIdentity> => (c.identity ? recheck(ctx, c.session, c.identity) : captureIdentity(ctx, c.session));
  if (signal?.aborted || ledger.closed) return refuse(abortedSkip(c.session, what));
  // The filters again, on the session as it is now (before the identity read, which must stay the
  // last read before the action): a user who came back (reconnected, unlocked,
  // typed) since the session was chosen — during a warning's grace period, say — is left alone.
  if (filter?.changeable) {
    // The identity read comes last, and its WTSINFOW tells the state and the times again: the
    // filters are judged on what it says (a user who reconnected or typed since is left alone).
    // Filters on the state and the times only need nothing more; others (lock, client) read their
    // details right before it, with the state, and keep those reads.
    const onTheRead = c.identity !== undefined && judgedOnSessionInfo(filter);
    let details: SessionDetails | undefined;
    if (!onTheRead) {
      let reason: string | undefined;
      try {
        const state = stateFromWin32(await ctx.api.querySessionInformation(ctx.handle, c.session.id, 'WTSConnectState'));
        ({ reason, details } = await applyFilter(ctx, filter, { ...c.session, state }));
      } catch (error) {
        return failedRead(error);
      }
      if (reason !== undefined) {
        // Another logon under the ID (or none) is said as such, rather than as filtered.
        try {
          await identityNow();
        } catch (error) {
          return refuse(recheckOutcome(c.session, error));
        }
        return refuse({ status: 'skipped', session: c.session, reason: 'filtered', message: `no longer selected when its turn came: ${reason}` });
      }
    }
    if (c.identity) {
      let read: { identity: SessionIdentity; info: ReadInfo };
      try {
        read = await recheckRead(ctx, c.session, c.identity);
      } catch (error) {
        return failedRead(error);
      }
      const session = { ...c.session, state: stateFromWin32(read.info.state) };
      // The times are judged on this read, the last before the action. A server without
      // WTSSessionInfo gives none here: a times filter then cannot match — never on times an
      // earlier read gave (WTSSessionInfoEx with the lock state), which a user may have changed since.
      const times = isWtsInfo(read.info) ? timesOf(read.info, session.state) : undefined;
      const seen = filter.groups.has('times') ? { ...withoutTimes(details), ...times } : details;
      const last = filter.cheap(session) ?? (filter.groups.size > 0 ? filter.detailed(session, seen ?? {}) : undefined);
      if (last !== undefined) return refuse({ status: 'skipped', session: c.session, reason: 'filtered', message: `no longer selected when its turn came: ${last}` });
      return clearAfter(read.identity);
    }
  }
  let now: SessionIdentity;
  try {
    now = await identityNow();
  } catch (error) {
    return failedRead(error);
  }
  return clearAfter(now);

  /** The checks after the identity read (`now`): the console, and the call not cut short meanwhile. */
  function clearAfter(now: SessionIdentity): SessionIdentity | undefined {
    if (protectConsole && isConsoleNow(ctx, c.session.id, now.name)) {
      return refuse({ status: 'skipped', session: c.session, reason: 'console', message: 'it is the console session now' });
    }
    // The re-check took time: the call may have been cut short meanwhile.
    if (signal?.aborted || ledger.closed) return refuse(abortedSkip(c.session, what));
    return c.identity ?? now;
  }
}
