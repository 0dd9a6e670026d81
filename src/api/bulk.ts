/**
 * What every bulk call shares: choosing sessions (protection, then filters, cheapest first),
 * re-checking a session's identity before acting, error normalisation and abort handling.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  OperationAbortedError,
  SessionChangedError,
  SessionNotFoundError,
  Win32Error,
  WtsError,
  type ProtectedKind,
  type ProtectedSessionError,
  type SessionIdentity,
} from '../errors';
import { Win32 } from '../wtsapi';
import type { ServerContext } from './context';
import type { SessionDetails } from './details';
import { applyFilter, type CompiledFilter } from './filter';
import { mapLimit } from './limit';
import { currentIdentity, enumerate, identityOf, refuse, refuseNoUser, resolveTarget, sameIdentity } from './sessions';
import type { Session, SkipReason } from './types';
import type { ParsedTarget } from './validate';

export interface SkipInfo {
  readonly reason: SkipReason;
  readonly message: string;
}

/** An outcome every bulk call can report for a session it did not act on. */
export type NotActed =
  | { readonly status: 'skipped'; readonly session: Session; readonly reason: SkipReason; readonly message: string }
  | { readonly status: 'failed'; readonly session: Session; readonly error: WtsError };

/**
 * Errors are recognised by their `code`, not by `instanceof`: a backend may come from another
 * copy of this package (ESM beside CJS, or a nested install) with its own classes.
 */
export function isWtsError(error: unknown): error is WtsError {
  const code: unknown = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('E_');
}

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
 * Re-reads the session's identity. Throws SessionChangedError when the ID now belongs to another
 * WinStation or user, SessionNotFoundError when it is gone.
 */
export async function recheck(ctx: ServerContext, session: Session): Promise<void> {
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

/** A failed re-check as an outcome: changed or gone are skips, anything else a failure. */
export function recheckOutcome(session: Session, error: unknown): NotActed {
  if (error instanceof SessionChangedError || (isWtsError(error) && error.code === 'E_SESSION_CHANGED')) {
    return { status: 'skipped', session, reason: 'changed', message: (error as Error).message };
  }
  if (isWtsError(error) && error.code === 'E_NOT_FOUND') return { status: 'skipped', session, reason: 'gone', message: 'it had already ended' };
  return { status: 'failed', session, error: asWtsError(error) };
}

/**
 * The outcomes of one server's bulk call, by session index, and the function that records one
 * (frozen) and reports it to `onOutcome` as it is settled.
 */
export function outcomeRecorder<O>(onOutcome?: (outcome: O) => void): { outcomes: O[]; settle: (i: number, outcome: O) => void } {
  const outcomes: O[] = [];
  return {
    outcomes,
    settle: (i, outcome) => {
      const frozen = Object.freeze(outcome);
      outcomes[i] = frozen;
      onOutcome?.(frozen);
    },
  };
}

/** How a bulk call reports a protected session it leaves alone. */
const PROTECTED_SKIPS: Readonly<Record<ProtectedKind, string>> = {
  services: 'the Services session has no user',
  listener: 'a listener has no user',
  console: 'the console session is never logged off',
};

/** A refusal of `refuse` / `refuseNoUser` as a bulk call's skip. */
export function skipFor(refusal: ProtectedSessionError | undefined): SkipInfo | undefined {
  return refusal && { reason: refusal.kind, message: PROTECTED_SKIPS[refusal.kind] };
}

/** The sessions a bulk logoff or disconnect never touches: yours, and what `refuse` refuses. */
export function protectedFromBulk(session: Session): SkipInfo | undefined {
  if (session.isCurrent) return { reason: 'current', message: 'your own session' };
  return skipFor(refuse(session));
}

/**
 * One session for an action on it (disconnect, message): Services and listeners are refused —
 * by ID before any WTS call — and the session's identity is re-checked unless it is your own.
 */
export async function resolveForAction(
  ctx: ServerContext,
  target: ParsedTarget,
  requireActive: boolean,
  signal: AbortSignal | undefined,
  what: string,
): Promise<Session> {
  const early = target.kind === 'id' ? refuseNoUser(target.id, undefined, ctx.server) : undefined;
  if (early) throw early;
  throwIfAborted(signal, what, ctx);
  const session = resolveTarget(await enumerate(ctx), target, ctx, requireActive);
  const refusal = refuseNoUser(session.id, session.state, ctx.server);
  if (refusal) throw refusal;
  if (!session.isCurrent) await recheck(ctx, session);
  return session;
}

export interface Selection {
  readonly sessions: readonly Session[];
  /** Indexes into `sessions` of the sessions to act on. */
  readonly chosen: readonly number[];
  /** Details fetched for the filter, by index. */
  readonly details: ReadonlyMap<number, SessionDetails>;
}

/**
 * Enumerates once, then sorts every session: protected (`protect`), filtered out, or chosen.
 * Filters that need details query only the sessions the cheap filters let through.
 * `settle(index, outcome)` receives the outcome of every session not chosen.
 */
export async function selectSessions(
  ctx: ServerContext,
  filter: CompiledFilter,
  protect: (session: Session) => SkipInfo | undefined,
  concurrency: number,
  settle: (index: number, outcome: NotActed) => void,
): Promise<Selection> {
  const sessions = await enumerate(ctx);
  const candidates: number[] = [];
  sessions.forEach((session, i) => {
    const skip = protect(session);
    if (skip) settle(i, { status: 'skipped', session, reason: skip.reason, message: skip.message });
    else candidates.push(i);
  });
  const details = new Map<number, SessionDetails>();
  const passed = await mapLimit(candidates, concurrency, async (i) => {
    const session = sessions[i] as Session;
    try {
      const result = await applyFilter(ctx, filter, session);
      if (result.details) details.set(i, result.details);
      if (result.reason === undefined) return true;
      settle(i, { status: 'skipped', session, reason: 'filtered', message: result.reason });
    } catch (error) {
      if (isWin32(error, Win32.ERROR_CTX_WINSTATION_NOT_FOUND)) {
        settle(i, { status: 'skipped', session, reason: 'gone', message: 'it had already ended' });
      } else {
        settle(i, { status: 'failed', session, error: asWtsError(error) });
      }
    }
    return false;
  });
  return { sessions, chosen: candidates.filter((_, k) => passed[k]), details };
}
