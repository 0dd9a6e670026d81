/**
 * Session details: who is connected from where, since when, idle for how long, locked or not.
 * Queried per session only when asked for: `times` one WTSQuerySessionInformationW call,
 * `clientName` and `clientAddress` one together (two for an IPv6 client), `remote` one, `lock` one
 * (plus the server's version, once per connection); `times` and `lock` together one.
 */
import { InvalidArgumentError, Win32Error } from '../errors';
import { readArray } from './validate';
import { Win32, WTSINFO_LENGTHS, WTSINFOEX_LENGTHS, type WtsClientInfo, type WtsInfo, type WtsInfoClass } from '../wtsapi';
import type { ServerContext } from './context';
import { CLASS_UNSUPPORTED, readInfoEx } from './lock';
import { sameMaybeCut } from './sessions';
import { stateFromWin32, type Session } from './types';

/**
 * A group of session details, each read with its own query per session (but `times` with `lock`, which share one): `times` (WTSSessionInfo), `clientName` and `clientAddress` (WTSClientInfo),
 * `remote` (WTSClientProtocolType: 0 console, 1 ICA, 2 RDP), and `lock` (WTSSessionInfoEx's
 * SessionFlags, read with the server's Windows version: one NetServerGetInfo per connection, since
 * Windows 7 / Server 2008 R2 report the flag swapped). Not WTSIsRemoteSession: Learn allows
 * it only on WTS_CURRENT_SERVER_HANDLE and describes it for the current session, so it cannot say
 * whether another session, or one on another server, is remote (docs/windows-facts.md).
 */
export type DetailGroup = 'times' | 'clientName' | 'clientAddress' | 'remote' | 'lock';
export const DETAIL_GROUPS: readonly DetailGroup[] = ['times', 'clientName', 'clientAddress', 'remote', 'lock'];


/**
 * A session's details (`session.details` with listSessions' or watchSessions' `details`): what
 * each {@link DetailGroup} asked for adds; the fields of groups not asked for are absent (unless
 * a filter needed them). Frozen.
 */
export interface SessionDetails {
  /** clientName: the client computer's name (`''` for the console). */
  readonly clientName?: string;
  /** clientAddress: the client's IP address as the client reported it (`''` when none). */
  readonly clientAddress?: string;
  /** times: when the user logged on (WTSINFOW's LogonTime); null = never. */
  readonly logonTime?: Date | null;
  /** times: when the client last connected; null = never. */
  readonly connectTime?: Date | null;
  /** times: when the client last disconnected; null = never. */
  readonly disconnectTime?: Date | null;
  /** times: the last input from the client; null = none. */
  readonly lastInputTime?: Date | null;
  /** times: the server's clock minus the last input, in ms; null when there was none. */
  readonly idleMs?: number | null;
  /** times: for a Disconnected session, how long since it was disconnected, in ms; else null. */
  readonly disconnectedMs?: number | null;
  /** remote: a remote session — WTSClientProtocolType is not 0 (the console). */
  readonly isRemote?: boolean;
  /**
   * lock: true when the session is locked, false when it is not; null when that is not known for
   * certain — the server said WTS_SESSIONSTATE_UNKNOWN, its Windows version could not be read (it
   * decides how the flag is read), or it does not answer WTSSessionInfoEx (older than Windows
   * Server 2008 R2). The `locked` filter never matches null.
   */
  readonly locked?: boolean | null;
  /**
   * true when the session ended between the enumeration and its detail queries (7022): it is
   * listed as the enumeration saw it, without the details asked for.
   */
  readonly gone?: boolean;
}

/** The details of a session that ended before they could be read. */
export const GONE: SessionDetails = Object.freeze({ gone: true });

/** A {@link Session} with its details: what listSessions and watchSessions give with `details`. */
export interface DetailedSession extends Session {
  /** The details asked for. */
  readonly details: SessionDetails;
}

/** The `details` option: `true` = every {@link DetailGroup}; an array = those groups; `false` = none. */
export type DetailsOption = boolean | readonly DetailGroup[];

export function checkDetails(value: unknown, argument = 'options.details'): ReadonlySet<DetailGroup> {
  if (value === undefined || value === false) return new Set();
  if (value === true) return new Set(DETAIL_GROUPS);
  const list = readArray(value, argument);
  if (!list || list.some((g) => !(DETAIL_GROUPS as readonly unknown[]).includes(g))) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: true, or a list of ${DETAIL_GROUPS.join(', ')}.`);
  }
  return new Set(list as DetailGroup[]);
}

/** The times a WTSINFOW or a WTSINFOEX_LEVEL1_W carries (the same five fields in both). */
type SessionTimes = Pick<WtsInfo, 'logonTime' | 'connectTime' | 'disconnectTime' | 'lastInputTime' | 'currentTime'>;

/**
 * Throws 7022 (the session ended) when a detail read shows another user or domain than the
 * session as listed: the logon listed ended and another began under the ID between the listing
 * and the read, so what the read says (its times, its lock state) is another logon's. Names that
 * fill their fixed-size field are compared as a prefix (sessions.ts, sameMaybeCut).
 */
function checkSameLogon(ctx: ServerContext, session: Session, userName: string, domain: string, sizes: { readonly userName: number; readonly domain: number }): void {
  if (sameMaybeCut(session.userName, userName, sizes.userName) && sameMaybeCut(session.domain, domain, sizes.domain)) return;
  const who = (u: string, d: string) => (u === '' ? 'no user' : d === '' ? u : `${d}\\${u}`);
  throw new Win32Error({
    win32Code: Win32.ERROR_CTX_WINSTATION_NOT_FOUND,
    api: 'WTSQuerySessionInformationW',
    server: ctx.server,
    sessionId: session.id,
    message: `Session ID ${session.id} ended between the listing and its detail query: it now holds another logon (${who(userName, domain)}, not ${who(session.userName, session.domain)}).`,
  });
}

/** Promise.all, but a failure is thrown only once every promise has settled (the first in order). */
async function allOrFirstFailure<T extends readonly unknown[]>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(values);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** The `times` group from a WTSINFOW (or a WTSINFOEX_LEVEL1_W), for a session in `state` (disconnectedMs is for Disconnected ones). */
export function timesOf(info: SessionTimes, state: Session['state']): SessionDetails {
  const now = info.currentTime?.getTime() ?? Date.now();
  return {
    logonTime: info.logonTime,
    connectTime: info.connectTime,
    disconnectTime: info.disconnectTime,
    lastInputTime: info.lastInputTime,
    idleMs: info.lastInputTime ? Math.max(0, now - info.lastInputTime.getTime()) : null,
    disconnectedMs: state === 'Disconnected' && info.disconnectTime ? Math.max(0, now - info.disconnectTime.getTime()) : null,
  };
}

/**
 * Queries the asked groups for one session, in parallel: `times` is one WTSSessionInfo query;
 * `lock` one WTSSessionInfoEx query (and, once per connection, the server's version), which also
 * gives the times when both are asked (WTSSessionInfo then only where WTSSessionInfoEx is not answered);
 * `clientName` and `clientAddress` together are one WTSClientInfo query (WTSCLIENTW carries both),
 * plus a WTSClientAddress query for an address WTSCLIENTW does not give as text (IPv6: Learn gives
 * its "binary form" no layout); `remote` is one WTSClientProtocolType query. A server that does not
 * answer WTSClientInfo (50, 87 or 120: assumed of servers older than Windows Server 2008, Learn's
 * minimum for the class) is asked WTSClientName and WTSClientAddress instead.
 */
export async function fetchDetails(ctx: ServerContext, session: Session, groups: ReadonlySet<DetailGroup>): Promise<SessionDetails> {
  const details: Record<string, unknown> = {};
  // async: a backend that throws instead of rejecting cannot leave the queries already started unwaited.
  const query = async <C extends WtsInfoClass>(infoClass: C) => ctx.api.querySessionInformation(ctx.handle, session.id, infoClass);
  const work: Promise<void>[] = [];
  // disconnectedMs for a session Disconnected as the read says (the user may have come back since the listing).
  const readTimes = () =>
    query('WTSSessionInfo').then((info: WtsInfo) => {
      checkSameLogon(ctx, session, info.userName, info.domain, WTSINFO_LENGTHS);
      Object.assign(details, timesOf(info, stateFromWin32(info.state)));
    });
  if (groups.has('lock')) {
    // One WTSSessionInfoEx query for the lock, and with `times` for both: its level-1 data
    // carries the times too. A server that does not answer it (older than Server 2008 R2) is
    // asked WTSSessionInfo for the times.
    work.push(
      readInfoEx(ctx, session.id).then(async ({ locked, level1 }) => {
        if (level1) checkSameLogon(ctx, session, level1.userName, level1.domainName, { userName: WTSINFOEX_LENGTHS.userName, domain: WTSINFOEX_LENGTHS.domainName });
        details['locked'] = locked;
        if (!groups.has('times')) return;
        if (level1) Object.assign(details, timesOf(level1, stateFromWin32(level1.sessionState)));
        else await readTimes();
      }),
    );
  } else if (groups.has('times')) {
    work.push(readTimes());
  }
  if (groups.has('remote')) {
    work.push(
      query('WTSClientProtocolType').then((type) => {
        details['isRemote'] = type !== 0; // 0: the console; 1 (ICA), 2 (RDP): remote
      }),
    );
  }
  const name = groups.has('clientName');
  const address = groups.has('clientAddress');
  if (name || address) {
    work.push(
      (async () => {
        let client: WtsClientInfo | undefined;
        try {
          client = await query('WTSClientInfo');
        } catch (error) {
          if (!CLASS_UNSUPPORTED.has(win32CodeOf(error) as number)) throw error;
        }
        // Both settle before either's failure is thrown: none is left running under a closing handle.
        const [clientName, clientAddress] = await allOrFirstFailure([
          name ? (client ? client.clientName : query('WTSClientName')) : undefined,
          address ? (client?.address ?? query('WTSClientAddress').then((a) => a.address)) : undefined,
        ] as const);
        if (name) details['clientName'] = clientName;
        if (address) details['clientAddress'] = clientAddress;
      })(),
    );
  }
  // Every query settles before the outcome is decided, so that it does not depend on which failed
  // first: any failure but 7022 (the session ended) is the one thrown; else a 7022.
  const failures = (await Promise.allSettled(work)).flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) throw failures.find((e) => win32CodeOf(e) !== Win32.ERROR_CTX_WINSTATION_NOT_FOUND) ?? failures[0];
  return Object.freeze(details) as SessionDetails;
}

/** A failure's Win32 code, if it has one. (bulk.ts's asWin32 would import this module back.) */
function win32CodeOf(error: unknown): unknown {
  return (error as { win32Code?: unknown } | null)?.win32Code;
}

export function withDetails(session: Session, details: SessionDetails): DetailedSession {
  return Object.freeze({ ...session, details });
}
