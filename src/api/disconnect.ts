/**
 * disconnect and disconnectAll: tsdiscon over WTSDisconnectSession (bWait = FALSE, then polled).
 * A disconnected user keeps their programs and work; they can reconnect later.
 */
import { isWtsError, WtsError, type SessionIdentity } from '../errors';
import {
  asWtsError,
  clearToAct,
  protectedFromBulk,
  requestOutcome,
  resolveForAction,
  selectSessions,
  shownIdentity,
  throwIfAborted,
  type Ledger,
  type NotActed,
} from './bulk';
import type { ServerContext } from './context';
import { checkBulk, checkWait, pollSession, sentThenPoll, BULK_KEYS, WAIT_KEYS, type CheckedBulk, type CheckedWait } from './logoff';
import { mapLimit } from './limit';
import { stateToWin32, type Reported, type Session } from './types';
import { checkKnownKeys, checkOptionsObject, type ParsedTarget } from './validate';

/**
 * The result of disconnect(), and disconnectAll's outcome for a session it disconnected:
 * `confirmed` is true when `wait` saw the session Disconnected (or gone), false when not waited for.
 */
export type Disconnected = { readonly status: 'disconnected'; readonly session: Session; readonly confirmed: boolean } & Reported;

/**
 * What happened to one session in disconnectAll(): `disconnected`, `wouldDisconnect` (a dry run:
 * the plan for it, with the logon it was planned for), or one of {@link NotActed}.
 */
export type DisconnectOutcome =
  | Disconnected
  | ({ readonly status: 'wouldDisconnect'; readonly session: Session; readonly identity: SessionIdentity } & Reported)
  | NotActed;

export function checkDisconnectOptions(options: unknown, extraKeys: readonly string[]): CheckedWait {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...WAIT_KEYS]);
  return checkWait(o);
}

export function checkDisconnectAllOptions(options: unknown, extraKeys: readonly string[]): CheckedBulk {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...BULK_KEYS]);
  return checkBulk(o, 'wouldDisconnect');
}

const DISCONNECTED = stateToWin32('Disconnected');

function timeoutError(ctx: ServerContext, session: Session, ms: number): WtsError {
  return new WtsError('E_TIMEOUT', `Session ID ${session.id} was asked to disconnect but was not disconnected after ${ms} ms.`, {
    server: ctx.server,
    sessionId: session.id,
  });
}

/** One session: by ID, by name (must be Active) or the caller's own (never session 0). */
export async function disconnectOne(ctx: ServerContext, target: ParsedTarget, opts: CheckedWait): Promise<Disconnected> {
  const { session, identity } = await resolveForAction(ctx, target, target.kind === 'name', opts.signal, 'disconnect', true);
  throwIfAborted(opts.signal, 'disconnect', ctx, session.id);
  // A backend's own failure (simulated mode's SimulatedFarmError) becomes a WtsError, its cause.
  await ctx.api.disconnectSession(ctx.handle, session.id).catch((error: unknown) => {
    throw asWtsError(error);
  });
  if (opts.wait) {
    await sentThenPoll(
      'WTSDisconnectSession',
      ctx,
      session,
      (timeout) => pollSession(ctx, identity, opts, (state) => state === DISCONNECTED, timeout),
      () => timeoutError(ctx, session, opts.timeoutMs),
    );
  }
  return Object.freeze({ status: 'disconnected', session, confirmed: opts.wait, requests: Object.freeze(['WTSDisconnectSession'] as const) });
}

/** Every session but console, services, listeners and yours, narrowed by the filters (and the plan). */
export async function disconnectAllOn(ctx: ServerContext, opts: CheckedBulk, ledger: Ledger<DisconnectOutcome>): Promise<void> {
  throwIfAborted(opts.signal, 'disconnectAll', ctx);
  const protect = (s: Session) =>
    protectedFromBulk(s) ?? (s.state === 'Disconnected' ? ({ reason: 'filtered', message: 'already disconnected' } as const) : undefined);
  const chosen = await selectSessions(ctx, opts, protect, ledger, opts.dryRun);
  await mapLimit(chosen, opts.concurrency, async (c) => {
    const { index: i, session } = c;
    if (opts.dryRun) return ledger.settle(i, { status: 'wouldDisconnect', session, identity: shownIdentity(c) });
    const identity = await clearToAct(ctx, c, ledger, opts.signal, 'it was disconnected', true, opts.filter);
    if (!identity) return;
    ledger.sending(i, 'WTSDisconnectSession');
    let accepted = false;
    try {
      await ctx.api.disconnectSession(ctx.handle, session.id);
      accepted = true;
      ledger.accepted(i);
      if (opts.wait) {
        await pollSession(ctx, identity, opts, (state) => state === DISCONNECTED, () => timeoutError(ctx, session, opts.timeoutMs));
      }
      ledger.settle(i, { status: 'disconnected', session, confirmed: opts.wait });
    } catch (error) {
      if (isWtsError(error) && error.code === 'E_ABORTED') {
        return ledger.settle(i, {
          status: 'requested',
          session,
          request: 'WTSDisconnectSession',
          accepted: true,
          message: 'WTSDisconnectSession was sent and accepted; aborted before the session was seen disconnected',
        });
      }
      if (!accepted) return ledger.settle(i, requestOutcome(session, error, 'its disconnect request reached it'));
      ledger.settle(i, { status: 'failed', session, error: asWtsError(error) });
    }
  });
}
