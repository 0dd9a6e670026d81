/**
 * disconnect and disconnectAll: tsdiscon over WTSDisconnectSession (bWait = FALSE, then polled).
 * A disconnected user keeps their programs and work; they can reconnect later.
 */
import { WtsError } from '../errors';
import {
  asWtsError,
  outcomeRecorder,
  protectedFromBulk,
  recheck,
  recheckOutcome,
  resolveForAction,
  selectSessions,
  throwIfAborted,
  type NotActed,
} from './bulk';
import type { ServerContext } from './context';
import { checkBulk, checkWait, pollSession, BULK_KEYS, WAIT_KEYS, type CheckedBulk, type CheckedWait } from './logoff';
import { mapLimit } from './limit';
import { stateToWin32, type Session } from './types';
import { checkKnownKeys, checkOptionsObject, type ParsedTarget } from './validate';

export type Disconnected = { readonly status: 'disconnected'; readonly session: Session; readonly confirmed: boolean };
export type DisconnectOutcome = Disconnected | { readonly status: 'wouldDisconnect'; readonly session: Session } | NotActed;

export function checkDisconnectOptions(options: unknown, extraKeys: readonly string[]): CheckedWait {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...WAIT_KEYS]);
  return checkWait(o);
}

export function checkDisconnectAllOptions(options: unknown, extraKeys: readonly string[]): CheckedBulk {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...BULK_KEYS]);
  return checkBulk(o);
}

const DISCONNECTED = stateToWin32('Disconnected');

function timeoutError(ctx: ServerContext, session: Session, ms: number): WtsError {
  return new WtsError('E_TIMEOUT', `Session ID ${session.id} was asked to disconnect but was not disconnected after ${ms} ms.`, {
    server: ctx.server,
    sessionId: session.id,
  });
}

/** One session: by ID, by name (must be Active) or the caller's own. */
export async function disconnectOne(ctx: ServerContext, target: ParsedTarget, opts: CheckedWait): Promise<Disconnected> {
  const session = await resolveForAction(ctx, target, target.kind === 'name', opts.signal, 'disconnect');
  await ctx.api.disconnectSession(ctx.handle, session.id);
  if (opts.wait) await pollSession(ctx, session, opts, (state) => state === DISCONNECTED, () => timeoutError(ctx, session, opts.timeoutMs));
  return Object.freeze({ status: 'disconnected', session, confirmed: opts.wait });
}

/** Every session but console, services, listeners and yours, narrowed by the filters. */
export async function disconnectAllOn(
  ctx: ServerContext,
  opts: CheckedBulk,
  onOutcome?: (outcome: DisconnectOutcome) => void,
): Promise<DisconnectOutcome[]> {
  throwIfAborted(opts.signal, 'disconnectAll', ctx);
  const { outcomes, settle } = outcomeRecorder<DisconnectOutcome>(onOutcome);
  const protect = (s: Session) =>
    s.state === 'Disconnected' ? ({ reason: 'filtered', message: 'already disconnected' } as const) : protectedFromBulk(s);
  const { sessions, chosen } = await selectSessions(ctx, opts.filter, protect, opts.concurrency, settle);
  await mapLimit(chosen, opts.concurrency, async (i) => {
    const session = sessions[i] as Session;
    if (opts.dryRun) return settle(i, { status: 'wouldDisconnect', session });
    if (opts.signal?.aborted) return settle(i, { status: 'skipped', session, reason: 'aborted', message: 'aborted before it was disconnected' });
    try {
      await recheck(ctx, session);
    } catch (error) {
      return settle(i, recheckOutcome(session, error));
    }
    if (opts.signal?.aborted) return settle(i, { status: 'skipped', session, reason: 'aborted', message: 'aborted before it was disconnected' });
    try {
      await ctx.api.disconnectSession(ctx.handle, session.id);
      if (opts.wait) {
        await pollSession(ctx, session, opts, (state) => state === DISCONNECTED, () => timeoutError(ctx, session, opts.timeoutMs));
      }
      settle(i, { status: 'disconnected', session, confirmed: opts.wait });
    } catch (error) {
      settle(i, { status: 'failed', session, error: asWtsError(error) });
    }
  });
  return outcomes;
}
