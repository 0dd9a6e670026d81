/**
 * Listing and resolving sessions, and the protection rules (console, services, listener).
 */
import {
  ConsoleSessionError,
  SessionChangedError,
  ListenerSessionError,
  ServicesSessionError,
  SessionNotActiveError,
  SessionNotFoundError,
  type ProtectedKind,
  type ProtectedSessionError,
  type SessionIdentity,
} from '../errors';
import { FIRST_LISTENER_SESSION_ID, Win32, WTSINFO_LENGTHS, type WtsInfo, type WtsSessionInfo1 } from '../wtsapi';
import { connectionOf, type ServerContext } from './context';
import { stateFromWin32, type Session } from './types';
import { upcaseUnit, type ParsedTarget } from './validate';

const SERVICES_SESSION_ID = 0;

export function toSession(info: WtsSessionInfo1, ctx: ServerContext): Session {
  return makeSession(ctx, info.sessionId, info.state, info.sessionName, info.userName, info.domainName);
}

function makeSession(ctx: ServerContext, id: number, state: number, name: string, userName: string, domain: string): Session {
  return Object.freeze({
    id,
    name,
    state: stateFromWin32(state),
    userName,
    domain,
    server: ctx.server,
    isConsole: isConsoleName(name) || (ctx.consoleSessionId !== undefined && id === ctx.consoleSessionId),
    isCurrent: ctx.currentSessionId !== undefined && id === ctx.currentSessionId,
  });
}

/** The server's sessions, built straight from the listing where the backend can (enumerateSessionsWith). */
export async function enumerate(ctx: ServerContext): Promise<Session[]> {
  if (ctx.api.enumerateSessionsWith) {
    return ctx.api.enumerateSessionsWith(ctx.handle, (id, state, name, userName, domain) => makeSession(ctx, id, state, name, userName, domain));
  }
  const infos = await ctx.api.enumerateSessions(ctx.handle);
  return infos.map((info) => toSession(info, ctx));
}

export function isConsoleName(name: string): boolean {
  return name.length === 7 && name.toLowerCase() === 'console';
}

export function isListenerId(id: number): boolean {
  return id >= FIRST_LISTENER_SESSION_ID;
}

/**
 * The protection rules that need no session list: Services (session 0, whoever asks — a service,
 * a SYSTEM task or a remote shell runs in it), listener IDs, and the console by name or by the
 * local console ID. The caller's own session is allowed unless it is session 0.
 * Returns the error to throw, or undefined.
 */
export function refuseBeforeLookup(target: ParsedTarget, ctx: ServerContext): ProtectedSessionError | undefined {
  if (target.kind === 'current') {
    return ctx.currentSessionId === SERVICES_SESSION_ID ? new ServicesSessionError(SERVICES_SESSION_ID, ctx.server) : undefined;
  }
  if (target.kind === 'id') {
    if (target.id === SERVICES_SESSION_ID) return new ServicesSessionError(target.id, ctx.server);
    if (isListenerId(target.id)) return new ListenerSessionError(target.id, ctx.server);
    if (target.id === ctx.currentSessionId) return undefined;
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
  const kind = noUserKind(id, state);
  if (kind === 'services') return new ServicesSessionError(id, server);
  if (kind === 'listener') return new ListenerSessionError(id, server);
  return undefined;
}

/** What refuseNoUser refuses, without making the error (a bulk call sorts every listed session). */
export function noUserKind(id: number, state: Session['state'] | undefined): 'services' | 'listener' | undefined {
  if (id === SERVICES_SESSION_ID) return 'services';
  if (isListenerId(id) || state === 'Listen') return 'listener';
  return undefined;
}

/** What refuse refuses, without making the error. */
export function protectedKind(session: Session): ProtectedKind | undefined {
  return noUserKind(session.id, session.state) ?? (!session.isCurrent && session.isConsole ? 'console' : undefined);
}

/**
 * The protection rules on a resolved session: Services and listeners always (even when they are
 * the caller's own), the console unless it is the caller's own. Returns the error, or undefined.
 */
export function refuse(session: Session): ProtectedSessionError | undefined {
  const kind = protectedKind(session);
  if (kind === 'console') return new ConsoleSessionError(session.id, session.server);
  return kind && refuseNoUser(session.id, session.state, session.server);
}

/**
 * Finds the target in a session list. A name matches without case; if several sessions share it,
 * the Active one wins. With `requireActive`, a named session that is not Active is an error, except
 * Services and listeners, which the caller then refuses as such.
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
    // Services and a listener are refused for what they are (the caller's refusal check), not
    // for not being Active: `logoff Services` is ServicesSessionError, as by its ID.
    if (requireActive && found.state !== 'Active' && noUserKind(found.id, found.state) === undefined) {
      throw new SessionNotActiveError(found.name, found.id, found.state, ctx.server);
    }
    return found;
  }
  if (target.kind === 'current' && ctx.currentSessionId === undefined) {
    throw new SessionNotFoundError(
      'your own session',
      ctx.server,
      undefined,
      `You are not in a session on ${ctx.server ? `server ${ctx.server}` : 'the local server'} (a service or a process ` +
        'without a session has none to act on): name the session instead.',
    );
  }
  const id = target.kind === 'id' ? target.id : (ctx.currentSessionId as number);
  const found = sessions.find((s) => s.id === id);
  if (!found) throw new SessionNotFoundError(id, ctx.server);
  return found;
}

/** The identity a session list shows: no logon time (WTSEnumerateSessionsExW has none). */
export function identityOf(session: Session): SessionIdentity {
  return { sessionId: session.id, name: session.name, userName: session.userName, domain: session.domain, logonTime: null };
}

/**
 * Two names the same without case, as Windows compares names: each UTF-16 unit upper-cased on its
 * own, to one unit (Learn, FsRtlAreNamesEqual: "converting both strings to uppercase", through a
 * table "indexed by the Unicode character"). So the Kelvin sign (U+212A) is not `k`, though
 * `toLowerCase()` makes them equal, and `ß` is not `SS`. That account names are compared this way
 * too is assumed (docs/windows-facts.md, `account-name-case`).
 */
function sameText(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charAt(i);
    const y = b.charAt(i);
    if (x !== y && upcaseUnit(x) !== upcaseUnit(y)) return false;
  }
  return true;
}

/** Whether a name fills its fixed-size WTSINFOW field (so it may have been cut there). */
function fills(text: string, size: number): boolean {
  return text.length >= size - 1;
}

/**
 * Compares two names where `cut` may have been cut to a WTSINFOW field of `size`: one that fills
 * the field (with its NUL, or without one: a name as long as the field) is compared as a prefix.
 */
export function sameMaybeCut(full: string, cut: string, size: number): boolean {
  // A cut that fell inside a surrogate pair loses its lone high surrogate too (the backends decode
  // whole characters only): one unit shorter than the field, and the full name says so.
  const splitPair = cut.length === size - 2 && isHighSurrogate(full.charCodeAt(size - 2));
  return fills(cut, size) || splitPair ? full.length >= cut.length && sameText(full.slice(0, cut.length), cut) : sameText(full, cut);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** Same user and domain, without case (what a session list can tell of a logon). */
export function sameUser(a: { userName: string; domain: string }, b: { userName: string; domain: string }): boolean {
  return sameText(a.userName, b.userName) && sameText(a.domain, b.domain);
}

/**
 * Same logon: same session ID, user and domain (without case), and the same logon time. A session
 * nobody is logged on to has no user and no logon time to tell one connection from the next on a
 * reused ID, so there the WinStation name must match too (it is stable until a user logs on).
 */
export function sameIdentity(a: SessionIdentity, b: SessionIdentity): boolean {
  return (
    a.sessionId === b.sessionId &&
    sameUser(a, b) &&
    sameLogonTime(a.logonTime, b.logonTime) &&
    (a.userName !== '' || sameText(a.name, b.name))
  );
}

/**
 * Reads a session's identity now: one WTSSessionInfo query (WTSINFOW: user, domain, logon time).
 * WTSINFOW holds names in fixed-size fields (user 20, domain 16, WinStation 31 characters); when
 * a name fills its field — or the name it is compared with (`like`) is that long — the full name is
 * read with a WTSUserName / WTSDomainName query (WTSWinStationName for a session with no user,
 * whose WinStation name is its identity), so two long names that share a prefix differ.
 *
 * The order matters for a logon that starts on the ID between the reads (docs/decisions.md):
 * - `'namesFirst'` (a re-check against an identity with a logon time): the full names, then
 *   WTSSessionInfo, so the logon time compared is the last thing read.
 * - `'infoFirst'` (capturing the identity of a session just listed, which has no logon time to
 *   compare): WTSSessionInfo, then the full names, so a new logon's other name is what is read.
 */
export async function readIdentity(
  ctx: ServerContext,
  id: number,
  like?: SessionIdentity,
  order: 'namesFirst' | 'infoFirst' = 'namesFirst',
): Promise<SessionIdentity> {
  return (await readIdentityAndInfo(ctx, id, like, order)).identity;
}

/** The session as its identity read saw it: the state, and WTSINFOW's times when the server answers WTSSessionInfo. */
export type ReadInfo = Awaited<ReturnType<typeof sessionInfoOrNames>>;

/** readIdentity, and the WTSSessionInfo answer (or the names read one by one) it was made from. */
export async function readIdentityAndInfo(
  ctx: ServerContext,
  id: number,
  like?: SessionIdentity,
  order: 'namesFirst' | 'infoFirst' = 'namesFirst',
): Promise<{ identity: SessionIdentity; info: ReadInfo }> {
  const q = ctx.api;
  // A connection known to lack WTSSessionInfo reads the names one by one, whole: no full-name query.
  const whole = NO_SESSION_INFO.has(connectionOf(ctx));
  const longUser = !whole && like !== undefined && fills(like.userName, WTSINFO_LENGTHS.userName);
  const longDomain = !whole && like !== undefined && fills(like.domain, WTSINFO_LENGTHS.domain);
  // With no user the WinStation name is the identity (sameIdentity): read whole too when it fills.
  const longName = !whole && like !== undefined && like.userName === '' && fills(like.name, WTSINFO_LENGTHS.winStationName);
  let fullUser: string | undefined;
  let fullDomain: string | undefined;
  let fullName: string | undefined;
  if (order === 'namesFirst') {
    if (longUser) fullUser = await q.querySessionInformation(ctx.handle, id, 'WTSUserName');
    if (longDomain) fullDomain = await q.querySessionInformation(ctx.handle, id, 'WTSDomainName');
    if (longName) fullName = await q.querySessionInformation(ctx.handle, id, 'WTSWinStationName');
  }
  const info = await sessionInfoOrNames(ctx, id);
  const cut = isWtsInfo(info);
  if (cut && (order === 'infoFirst' || like === undefined)) {
    if (longUser || fills(info.userName, WTSINFO_LENGTHS.userName)) fullUser = await q.querySessionInformation(ctx.handle, id, 'WTSUserName');
    if (longDomain || fills(info.domain, WTSINFO_LENGTHS.domain)) fullDomain = await q.querySessionInformation(ctx.handle, id, 'WTSDomainName');
    if (longName || (info.userName === '' && fills(info.winStationName, WTSINFO_LENGTHS.winStationName))) {
      fullName = await q.querySessionInformation(ctx.handle, id, 'WTSWinStationName');
    }
  }
  // A full name read apart from WTSSessionInfo must be this logon's: its cut form must match. Names
  // read one by one (no WTSSessionInfo) are whole: a full name read before them must equal them,
  // else another logon came between (a 21-character user cut to 20 is not the 20-character one).
  const userName = pickName(fullUser, info.userName, cut, WTSINFO_LENGTHS.userName);
  const domain = pickName(fullDomain, info.domain, cut, WTSINFO_LENGTHS.domain);
  const name = pickName(fullName, info.winStationName, cut, WTSINFO_LENGTHS.winStationName);
  return { identity: { sessionId: id, name, userName, domain, logonTime: info.logonTime }, info };
}

/**
 * The name an identity read keeps: the full name read apart when it is this logon's (its cut form
 * matches WTSINFOW's name; or, with names read whole, it is the same name), else the name read
 * with the rest. Whole names that differ say both, `first / second`, so that every comparison
 * finds the session changed (as sessionInfoOrNames does for its two user reads).
 */
function pickName(full: string | undefined, read: string, cut: boolean, size: number): string {
  if (full === undefined) return read;
  if (cut) return sameMaybeCut(full, read, size) ? full : read;
  return sameText(full, read) ? read : `${full} / ${read}`;
}

/** Connections whose first WTSSessionInfo query said the class is missing, and those where it worked. */
const NO_SESSION_INFO = new WeakSet<object>();
const HAS_SESSION_INFO = new WeakSet<object>();
/** How WTSQuerySessionInformationW says a class is not supported (assumed for old servers). */
const UNSUPPORTED: ReadonlySet<number> = new Set([Win32.ERROR_NOT_SUPPORTED, Win32.ERROR_CALL_NOT_IMPLEMENTED]);

/**
 * WTSSessionInfo, or — on a server without it (Learn: Windows Server 2008 and Vista onwards) —
 * the names read one by one and no logon time: there the identity is user and domain (and the
 * WinStation name for a session with no user), which is what such a server can tell. Whether the
 * server has the class is decided once per connection, by its first WTSSessionInfo query: after one
 * success, a later 50 or 120 is an error, never a switch to a weaker identity in mid-operation.
 */
export async function sessionInfoOrNames(
  ctx: ServerContext,
  id: number,
): Promise<WtsInfo | { state: number; userName: string; domain: string; winStationName: string; logonTime: null }> {
  const connection = connectionOf(ctx);
  if (!NO_SESSION_INFO.has(connection)) {
    try {
      const info = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSSessionInfo');
      HAS_SESSION_INFO.add(connection);
      return info;
    } catch (error) {
      const code = (error as { win32Code?: unknown }).win32Code;
      if (HAS_SESSION_INFO.has(connection) || !(typeof code === 'number' && UNSUPPORTED.has(code))) throw error;
      NO_SESSION_INFO.add(connection);
    }
  }
  // Field by field, nothing ties the reads to one logon: the user is read on both sides of the
  // domain and the state (another user logging on between them shows in the second read, which is
  // the one kept), and the WinStation name last, for the console check right before acting.
  const firstUser = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSUserName');
  const domain = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSDomainName');
  const state = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSConnectState');
  const userName = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSUserName');
  const winStationName = await ctx.api.querySessionInformation(ctx.handle, id, 'WTSWinStationName');
  // Two different users: another logon came between the reads; the domain may be either's. What
  // is said is a user that matches no one (so every comparison finds the session changed).
  return { state, userName: sameText(firstUser, userName) ? userName : `${firstUser} / ${userName}`, domain, winStationName, logonTime: null };
}

/**
 * Reads the identity of a session just listed, and checks that it is still the listed logon (same
 * user and domain; the list has no logon time). Throws SessionChangedError when it is not.
 */
export async function captureIdentity(ctx: ServerContext, session: Session): Promise<SessionIdentity> {
  const listed = identityOf(session);
  const { identity: now, info } = await readIdentityAndInfo(ctx, session.id, listed, 'infoFirst');
  // With no user, a session is told apart by its WinStation name (sameIdentity): it must be the
  // one listed, or this is another connection under the ID.
  if (!sameUser(now, listed) || (listed.userName === '' && !sameText(now.name, listed.name))) {
    throw new SessionChangedError(session.id, ctx.server, listed, now);
  }
  // The names as listed are whole (WTSEnumerateSessionsExW strings are not cut); the WinStation
  // name is the one read now (the console check right before acting looks at it).
  const captured = { ...now, userName: session.userName, domain: session.domain };
  if (readInOneCall(info, session)) return captured;
  // Made of several calls (a name read in full after WTSSessionInfo, or names read one by one),
  // the read could mix two logons: read again, the logon time last, and it must be the same logon.
  const again = await readIdentity(ctx, session.id, captured);
  if (!sameIdentity(captured, again)) throw new SessionChangedError(session.id, ctx.server, captured, again);
  return { ...again, userName: session.userName, domain: session.domain };
}

/**
 * Whether captureIdentity read `session` in one call: this read was WTSSessionInfo (one
 * WTSINFOW holds the names and the logon time together) and neither listed name fills its
 * WTSINFOW field (so neither was read apart, in full). A read made of several calls can mix two
 * logons; it is then checked again before it is relied on.
 */
function readInOneCall(info: ReadInfo, session: Session): boolean {
  return isWtsInfo(info) && !fills(session.userName, WTSINFO_LENGTHS.userName) && !fills(session.domain, WTSINFO_LENGTHS.domain);
}

/** Whether a read is one WTSINFOW (names cut to its fields), not names read one by one (whole). */
export function isWtsInfo(info: ReadInfo): info is WtsInfo {
  return 'currentTime' in info;
}

/**
 * Whether the session is the console now: its WinStation name (as just read) is `Console`, or on
 * the local server WTSGetActiveConsoleSessionId() names it now. The console can move between the
 * enumeration and the action (a user reconnects at the console): checked right before acting.
 */
export function isConsoleNow(ctx: ServerContext, sessionId: number, nameNow: string): boolean {
  if (isConsoleName(nameNow)) return true;
  if (!ctx.isLocal) return false;
  return ctx.api.getActiveConsoleSessionId() === sessionId;
}

/**
 * Whether what a poll read (sessionInfoOrNames, no full-name query) can still be the same logon as
 * `id`: the cheap check a poll uses. Names from WTSINFOW may be cut to their fields; names read
 * one by one (a server without WTSSessionInfo) are whole and compared whole. False means
 * certainly another logon.
 */
export function mayBeSameLogon(id: SessionIdentity, info: ReadInfo): boolean {
  return mayBeSameAccount(id, info) && sameLogonTime(id.logonTime, info.logonTime);
}

/** mayBeSameLogon without the logon time: the same user and domain, as the poll read them. */
export function mayBeSameAccount(id: SessionIdentity, info: ReadInfo): boolean {
  const cut = isWtsInfo(info);
  return (
    (cut ? sameMaybeCut(id.userName, info.userName, WTSINFO_LENGTHS.userName) : sameText(id.userName, info.userName)) &&
    (cut ? sameMaybeCut(id.domain, info.domain, WTSINFO_LENGTHS.domain) : sameText(id.domain, info.domain))
  );
}

/** The same logon time (both null = none), to the 100-ns tick as a Date holds it. */
export function sameLogonTime(a: Date | null | undefined, b: Date | null | undefined): boolean {
  return (a?.getTime() ?? null) === (b?.getTime() ?? null);
}
