/**
 * A session's lock state: WTSQuerySessionInformationW(WTSSessionInfoEx)'s SessionFlags, read with
 * the server's Windows version, because Windows 7 and Windows Server 2008 R2 report LOCK and UNLOCK
 * swapped (Learn, WTSINFOEX_LEVEL1_W: "Due to a code defect, the usage of the
 * WTS_SESSIONSTATE_LOCK and WTS_SESSIONSTATE_UNLOCK flags is reversed").
 *
 * Whatever cannot be read for certain is null, never a guess: an unknown flag, an unknown version
 * (NetServerGetInfo failed, or the backend cannot ask), a server without the class. The `locked`
 * filter never matches null, so a misread can never select a session somebody is using.
 */
import { Win32, WtsSessionStateFlags, type WtsInfoEx, type WtsInfoExLevel1, type WtsServerVersion } from '../wtsapi';
import { connectionOf, isCut, type ServerContext } from './context';

/** Windows 7 and Windows Server 2008 R2: version 6.1 (Learn, "Operating System Version"). */
const SWAPPED_VERSION: WtsServerVersion = { major: 6, minor: 1 };

/** Whether a server of this version reports LOCK and UNLOCK swapped (6.1 only). */
export function swapsLockFlags(version: WtsServerVersion): boolean {
  return version.major === SWAPPED_VERSION.major && version.minor === SWAPPED_VERSION.minor;
}

/**
 * The lock state SessionFlags says on a server of `version`: WTS_SESSIONSTATE_LOCK (0) locked,
 * WTS_SESSIONSTATE_UNLOCK (1) unlocked — the other way round on 6.1; anything else
 * (WTS_SESSIONSTATE_UNKNOWN 0xFFFFFFFF, a value Learn does not list) null; an unknown version null.
 *
 * @param flags - SessionFlags (as a signed LONG or an unsigned DWORD: both read the same).
 * @param version - the server's version; null when it could not be read.
 * @returns true locked, false unlocked, null unknown.
 */
export function lockedFromFlags(flags: number, version: WtsServerVersion | null): boolean | null {
  // A LONG as Windows gives it (or its unsigned reading): anything else from a backend is no flag
  // (NaN, 0.5, 2**32 or undefined must not read as LOCK after `>>> 0`).
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < -(2 ** 31) || flags > 0xffffffff) return null;
  const value = flags >>> 0;
  if (value !== WtsSessionStateFlags.Lock && value !== WtsSessionStateFlags.Unlock) return null;
  if (version === null) return null;
  const lock = value === WtsSessionStateFlags.Lock;
  return swapsLockFlags(version) ? !lock : lock;
}

/** A WTSINFOEXW answer's level-1 data: null unless its Level is 1 and the data is there. */
function level1Of(info: WtsInfoEx): WtsInfoExLevel1 | null {
  return info.level === 1 && info.level1 !== null && typeof info.level1 === 'object' ? info.level1 : null;
}

/** The lock state of a WTSINFOEXW answer: null unless its Level is 1. */
export function lockedFromInfoEx(info: WtsInfoEx, version: WtsServerVersion | null): boolean | null {
  const level1 = level1Of(info);
  return level1 === null ? null : lockedFromFlags(level1.sessionFlags, version);
}

/** Each open connection's server version, asked once (a promise, so concurrent queries share it). */
const VERSIONS = new WeakMap<ServerContext, Promise<WtsServerVersion | null>>();

/**
 * The server's version, asked of the backend once per open connection (NetServerGetInfo level
 * 101): null when the backend cannot ask or the call fails — the lock state is then unknown.
 */
export function serverVersion(ctx: ServerContext): Promise<WtsServerVersion | null> {
  const key = connectionOf(ctx);
  let version = VERSIONS.get(key);
  if (!version) {
    const asked = askVersion(ctx);
    version = asked;
    VERSIONS.set(key, asked);
    // Not asked after all — the call was cut short (an abort, a timeout) and its api refused it —
    // is not an answer to keep: a later call on the connection (a server object's) asks again.
    void asked.then((v) => {
      if (v === null && isCut(ctx.api) && VERSIONS.get(key) === asked) VERSIONS.delete(key);
    });
  }
  return version;
}

async function askVersion(ctx: ServerContext): Promise<WtsServerVersion | null> {
  const api = ctx.api;
  if (typeof api.getServerVersion !== 'function') return null;
  try {
    const version = await api.getServerVersion(ctx.isLocal ? '' : ctx.server);
    return isVersion(version) ? { major: version.major, minor: version.minor } : null;
  } catch {
    // Any failure (denied, unreachable by NetServerGetInfo's path, the Server service stopped):
    // the version is unknown, so every lock state read on this connection is null.
    return null;
  }
}

function isVersion(value: unknown): value is WtsServerVersion {
  const v = value as { major?: unknown; minor?: unknown } | null;
  return v !== null && typeof v === 'object' && Number.isInteger(v.major) && Number.isInteger(v.minor);
}

/**
 * Codes that say a server does not answer an information class (not supported, a bad parameter,
 * not implemented): assumed of servers older than a class's minimum — WTSSessionInfoEx's is
 * Windows 7 / Server 2008 R2, WTSClientInfo's Windows Server 2008 (details.ts).
 */
export const CLASS_UNSUPPORTED: ReadonlySet<number> = new Set([Win32.ERROR_NOT_SUPPORTED, Win32.ERROR_INVALID_PARAMETER, Win32.ERROR_CALL_NOT_IMPLEMENTED]);

/**
 * One session's WTSSessionInfoEx: its lock state and its level-1 data (one query, and the server's
 * version, asked once per connection alongside the first query; a server that does not answer the
 * class: locked null; any other failure, 7022 the session ended, is thrown),
 * which also carries the state and the times WTSINFOW does (Learn gives both structures the same
 * LogonTime, ConnectTime, DisconnectTime, LastInputTime and CurrentTime): null when the server does
 * not answer the class (50, 87, 120), or the answer is not level 1.
 */
export async function readInfoEx(ctx: ServerContext, sessionId: number): Promise<{ readonly locked: boolean | null; readonly level1: WtsInfoExLevel1 | null }> {
  const version = serverVersion(ctx);
  let info: WtsInfoEx;
  try {
    info = await ctx.api.querySessionInformation(ctx.handle, sessionId, 'WTSSessionInfoEx');
  } catch (error) {
    const code = (error as { win32Code?: unknown } | null)?.win32Code;
    if (typeof code === 'number' && CLASS_UNSUPPORTED.has(code)) return { locked: null, level1: null };
    throw error;
  }
  return { locked: lockedFromInfoEx(info, await version), level1: level1Of(info) };
}
