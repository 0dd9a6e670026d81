/**
 * Listing and resolving sessions, and the protection rules (console, services, listener).
 */
import {
  ConsoleSessionError,
  ListenerSessionError,
  ServicesSessionError,
  SessionNotActiveError,
  SessionNotFoundError,
  type ProtectedSessionError,
  type SessionIdentity,
} from '../errors';
import { FIRST_LISTENER_SESSION_ID, WTSINFO_LENGTHS, type WtsSessionInfo1 } from '../wtsapi';
import type { ServerContext } from './context';
import { stateFromWin32, type Session } from './types';
import type { ParsedTarget } from './validate';

const SERVICES_SESSION_ID = 0;

export function toSession(info: WtsSessionInfo1, ctx: ServerContext): Session {
  const name = info.sessionName;
  return Object.freeze({
    id: info.sessionId,
    name,
    state: stateFromWin32(info.state),
    userName: info.userName,
    domain: info.domainName,
    server: ctx.server,
    isConsole: isConsoleName(name) || (ctx.consoleSessionId !== undefined && info.sessionId === ctx.consoleSessionId),
    isCurrent: ctx.currentSessionId !== undefined && info.sessionId === ctx.currentSessionId,
  });
}

export async function enumerate(ctx: ServerContext): Promise<Session[]> {
  const infos = await ctx.api.enumerateSessions(ctx.handle);
  return infos.map((info) => toSession(info, ctx));
}

export function isConsoleName(name: string): boolean {
  return name.toLowerCase() === 'console';
}

export function isListenerId(id: number): boolean {
  return id >= FIRST_LISTENER_SESSION_ID;
}

/**
 * The protection rules that need no session list: services (0), listener IDs, and the console
 * by name or by the local console ID. The caller's own session is always allowed.
 * Returns the error to throw, or undefined.
 */
export function refuseBeforeLookup(target: ParsedTarget, ctx: ServerContext): ProtectedSessionError | undefined {
  if (target.kind === 'current') return undefined;
  if (target.kind === 'id') {
    if (target.id === ctx.currentSessionId) return undefined;
    if (target.id === SERVICES_SESSION_ID) return new ServicesSessionError(target.id, ctx.server);
    if (isListenerId(target.id)) return new ListenerSessionError(target.id, ctx.server);
    if (target.id === ctx.consoleSessionId) return new ConsoleSessionError(target.id, ctx.server);
    return undefined;
  }
  if (isConsoleName(target.name)) {
    const ownIsConsole = ctx.currentSessionId !== undefined && ctx.currentSessionId === ctx.consoleSessionId;
    if (!ownIsConsole) return new ConsoleSessionError(ctx.consoleSessionId, ctx.server);
  }
  return undefined;
}

/**
 * The sessions nobody is logged on to act on: Services (session 0) and listeners (an ID from
 * 65536, or state Listen once listed). Returns the error, or undefined.
 */
export function refuseNoUser(id: number, state: Session['state'] | undefined, server: string): ProtectedSessionError | undefined {
  if (id === SERVICES_SESSION_ID) return new ServicesSessionError(id, server);
  if (isListenerId(id) || state === 'Listen') return new ListenerSessionError(id, server);
  return undefined;
}

/** The protection rules on a resolved session. Returns the error, or undefined when allowed. */
export function refuse(session: Session): ProtectedSessionError | undefined {
  if (session.isCurrent) return undefined;
  const noUser = refuseNoUser(session.id, session.state, session.server);
  if (noUser) return noUser;
  if (session.isConsole) return new ConsoleSessionError(session.id, session.server);
  return undefined;
}

/**
 * Finds the target in a session list. A name matches without case; if several sessions share it,
 * the Active one wins. With `requireActive`, a named session that is not Active is an error.
 */
export function resolveTarget(
  sessions: readonly Session[],
  target: ParsedTarget,
  ctx: ServerContext,
  requireActive: boolean,
): Session {
  if (target.kind === 'name') {
    const wanted = target.name.toLowerCase();
    const matches = sessions.filter((s) => s.name.toLowerCase() === wanted);
    const found = matches.find((s) => s.state === 'Active') ?? matches[0];
    if (!found) throw new SessionNotFoundError(target.name, ctx.server);
    if (requireActive && found.state !== 'Active') {
      throw new SessionNotActiveError(found.name, found.id, found.state, ctx.server);
    }
    return found;
  }
  const id = target.kind === 'id' ? target.id : ctx.currentSessionId;
  const found = sessions.find((s) => s.id === id);
  if (!found || id === undefined) throw new SessionNotFoundError(id ?? -1, ctx.server);
  return found;
}

export function identityOf(session: { name: string; userName: string; domain: string }): SessionIdentity {
  return { name: session.name, userName: session.userName, domain: session.domain };
}

/** Same WinStation, user and domain, without case, as far as WTSINFOW's fixed-size fields hold them. */
export function sameIdentity(a: SessionIdentity, b: SessionIdentity): boolean {
  const eq = (x: string, y: string, size: number) => x.slice(0, size - 1).toLowerCase() === y.slice(0, size - 1).toLowerCase();
  return (
    eq(a.name, b.name, WTSINFO_LENGTHS.winStationName) &&
    eq(a.userName, b.userName, WTSINFO_LENGTHS.userName) &&
    eq(a.domain, b.domain, WTSINFO_LENGTHS.domain)
  );
}

/**
 * Queries a session's identity now, in one call: WTSSessionInfo (WTSINFOW) carries the WinStation
 * name, domain and user. Its fields are fixed-size (31, 16 and 20 characters) — enough for every
 * WinStation name, NetBIOS domain and sAMAccountName — so the comparison cuts the listed identity
 * to the same sizes (see sameIdentity).
 */
export async function currentIdentity(ctx: ServerContext, id: number): Promise<SessionIdentity> {
  const info = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSSessionInfo');
  return { name: info.winStationName, userName: info.userName, domain: info.domain };
}
