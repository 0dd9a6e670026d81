/**
 * The seam between the policy layer (src/api) and a backend (src/backends/*).
 *
 * One method per wtsapi32 / kernel32 call the library makes, with Win32 semantics:
 * numeric session IDs, numeric WTS_CONNECTSTATE_CLASS values, and failures reported as a
 * {@link Win32Error} carrying the GetLastError() code. The api layer knows nothing else about
 * a backend: no koffi, no mock internals, no `process.platform`.
 *
 * Every method that can block on the network or on the session manager returns a Promise,
 * so a real backend can run it off the event loop (koffi `.async`).
 */

/** A server handle as WTSOpenServerExW returns it. Opaque outside the backend that made it. */
export type ServerHandle = bigint & { readonly __wtsServerHandle: unique symbol };

/** WTS_CURRENT_SERVER_HANDLE: the local server, never opened, never closed. */
export const WTS_CURRENT_SERVER_HANDLE = 0n as ServerHandle;
/** WTS_CURRENT_SESSION ((DWORD)-1): "the caller's session" for the calls that accept it. */
export const WTS_CURRENT_SESSION = 0xffffffff;
/**
 * WTS_ANY_SESSION ((DWORD)-2, wtsapi32.h): never a real session ID; WTSEnumerateProcessesExW's
 * SessionId for "all sessions on the server" (docs/windows-facts.md, row `enum-processes-ex`).
 */
export const WTS_ANY_SESSION = 0xfffffffe;
/** WTSGetActiveConsoleSessionId's answer when no session is attached to the console. */
export const NO_CONSOLE_SESSION = 0xffffffff;
/** Listener WinStations get IDs from here up (65536 and above). */
export const FIRST_LISTENER_SESSION_ID = 0x10000;

/** WTS_CONNECTSTATE_CLASS (wtsapi32.h): the numeric states a backend reports ({@link SESSION_STATES} names them). */
export const WTSConnectState = {
  WTSActive: 0,
  WTSConnected: 1,
  WTSConnectQuery: 2,
  WTSShadow: 3,
  WTSDisconnected: 4,
  WTSIdle: 5,
  WTSListen: 6,
  WTSReset: 7,
  WTSDown: 8,
  WTSInit: 9,
} as const;
export type WtsConnectStateValue = (typeof WTSConnectState)[keyof typeof WTSConnectState];

/** Win32 error codes the library reasons about, by their winerror.h names (`Win32.ERROR_ACCESS_DENIED === 5`). */
export const Win32 = {
  ERROR_ACCESS_DENIED: 5,
  ERROR_INVALID_HANDLE: 6,
  ERROR_NOT_SUPPORTED: 50,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_CALL_NOT_IMPLEMENTED: 120,
  ERROR_INSUFFICIENT_BUFFER: 122,
  ERROR_NONE_MAPPED: 1332,
  ERROR_TIMEOUT: 1460,
  RPC_S_SERVER_UNAVAILABLE: 1722,
  RPC_S_CALL_FAILED: 1726,
  RPC_S_UNKNOWN_IF: 1717,
  RPC_S_PROCNUM_OUT_OF_RANGE: 1745,
  ERROR_CTX_CLOSE_PENDING: 7007,
  ERROR_CTX_WINSTATION_NOT_FOUND: 7022,
  ERROR_CTX_WINSTATION_ACCESS_DENIED: 7045,
} as const;

/** One element of WTSEnumerateSessionsExW level 1 (WTS_SESSION_INFO_1W), strings decoded. */
export interface WtsSessionInfo1 {
  /** ExecEnvId. */
  readonly execEnvId: number;
  /** State: a WTS_CONNECTSTATE_CLASS value ({@link WTSConnectState}). */
  readonly state: number;
  /** SessionId. */
  readonly sessionId: number;
  /** pSessionName: the WinStation name (`''` for NULL). */
  readonly sessionName: string;
  /** pHostName (`''` for NULL). */
  readonly hostName: string;
  /** pUserName (`''` for none). */
  readonly userName: string;
  /** pDomainName. */
  readonly domainName: string;
  /** pFarmName. */
  readonly farmName: string;
}

/**
 * The codes with which a level-1 enumeration (WTSEnumerateSessionsExW, WTSEnumerateProcessesExW)
 * fails on a server that lacks it, where level 0 is asked instead: 120 and 50 (not implemented,
 * not supported: Wine's WTSEnumerateProcessesExW answers 120 for level 1), 1745 and 1717 (the
 * server's RPC interface lacks the call: a server older than Windows 7 / 2008 R2, assumed), and 0
 * (failed without saying why, as a stub does). Any other code (1722: the server is down, 5: denied)
 * is that server's failure, reported as it is. docs/windows-facts.md, rows `level-one-unsupported`
 * and `enum-processes-ex-unsupported`.
 */
export const LEVEL_ONE_UNSUPPORTED: ReadonlySet<number> = new Set([
  0,
  Win32.ERROR_CALL_NOT_IMPLEMENTED,
  Win32.ERROR_NOT_SUPPORTED,
  Win32.RPC_S_PROCNUM_OUT_OF_RANGE,
  Win32.RPC_S_UNKNOWN_IF,
]);

/**
 * One element of WTSEnumerateProcessesW (WTS_PROCESS_INFOW), the name and the owner's SID decoded
 * (https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_process_infow).
 */
export interface WtsProcessInfo {
  /** SessionId. */
  readonly sessionId: number;
  /** ProcessId. */
  readonly processId: number;
  /** pProcessName. */
  readonly processName: string;
  /**
   * pUserSid, in text form (`S-1-5-18`): the user in the process's primary access token; null when
   * pUserSid is NULL (a process the caller may not open). Undefined from a backend that does not
   * read it.
   */
  readonly userSid?: string | null;
}

/**
 * One element of WTSEnumerateProcessesExW level 1 (WTS_PROCESS_INFO_EXW,
 * https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_process_info_exw):
 * WTS_PROCESS_INFOW's fields and the process's counters, as Windows reports them.
 */
export interface WtsProcessInfoEx extends WtsProcessInfo {
  /** pUserSid in text form; null when NULL. */
  readonly userSid: string | null;
  /** NumberOfThreads. */
  readonly numberOfThreads: number;
  /** HandleCount. */
  readonly handleCount: number;
  /** PagefileUsage, in bytes (a DWORD). */
  readonly pagefileUsage: number;
  /** PeakPagefileUsage, in bytes. */
  readonly peakPagefileUsage: number;
  /** WorkingSetSize, in bytes. */
  readonly workingSetSize: number;
  /** PeakWorkingSetSize, in bytes. */
  readonly peakWorkingSetSize: number;
  /**
   * UserTime, the LARGE_INTEGER as it is. Learn: "The amount of time, in milliseconds, the process
   * has been running in user mode" (docs/windows-facts.md, row `process-info-ex-times`).
   */
  readonly userTime: bigint;
  /** KernelTime, the LARGE_INTEGER as it is: milliseconds in kernel mode, per Learn. */
  readonly kernelTime: bigint;
}

/**
 * The account LookupAccountSidW found for a SID
 * (https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-lookupaccountsidw).
 */
export interface WtsAccount {
  /** Name: the account's name (`alice`, `SYSTEM`). */
  readonly name: string;
  /** ReferencedDomainName: the domain it was found in (`CORP`, `NT AUTHORITY`; `''` for some well-known SIDs). */
  readonly domain: string;
  /** peUse: a SID_NAME_USE value (SidTypeUser 1, SidTypeGroup 2, ..., SidTypeWellKnownGroup 5, ...). */
  readonly use: number;
}

/** Builds a caller's object from one enumerated session (see WtsApi.enumerateSessionsWith). */
export type SessionMaker<T> = (sessionId: number, state: number, sessionName: string, userName: string, domainName: string) => T;

/** WTS_CLIENT_ADDRESS decoded: AddressFamily (AF_INET 2, AF_INET6 23, AF_UNSPEC 0) and text. */
export interface WtsClientAddress {
  /** AddressFamily: AF_INET 2, AF_INET6 23, AF_UNSPEC 0. */
  readonly family: number;
  /** Dotted IPv4 / textual IPv6; '' when the session has no client (console, services). */
  readonly address: string;
}

/**
 * WTSCLIENTW, the parts the library reads
 * (https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsclientw): the client's
 * name and its address. Learn's Remarks: an AF_INET address comes "in string format, for example
 * "127.0.0.1"", an AF_INET6 one "in binary form", whose layout Learn does not give: `address` is
 * then undefined, and WTSClientAddress (documented byte by byte) is the way to read it.
 */
export interface WtsClientInfo {
  /** ClientName: at most 20 characters. */
  readonly clientName: string;
  /** ClientAddressFamily: AF_INET 2, AF_INET6 23, AF_UNSPEC 0. */
  readonly family: number;
  /** The IPv4 text; '' with no address (AF_UNSPEC); undefined when not readable here (IPv6, other families, text that is not an IPv4 address). */
  readonly address: string | undefined;
}

/**
 * WTSINFOW decoded (https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfow).
 * The names are fixed-size in the struct: WinStation 31, domain 16, user 20 characters at most.
 * FILETIME values of 0 (never) are null.
 */
export interface WtsInfo {
  /** State: a WTS_CONNECTSTATE_CLASS value. */
  readonly state: number;
  /** SessionId. */
  readonly sessionId: number;
  /** IncomingBytes. */
  readonly incomingBytes: number;
  /** OutgoingBytes. */
  readonly outgoingBytes: number;
  /** IncomingFrames. */
  readonly incomingFrames: number;
  /** OutgoingFrames. */
  readonly outgoingFrames: number;
  /** IncomingCompressedBytes. */
  readonly incomingCompressedBytes: number;
  /** OutgoingCompressedBytes. */
  readonly outgoingCompressedBytes: number;
  /** WinStationName (at most 31 characters). */
  readonly winStationName: string;
  /** Domain (at most 16 characters). */
  readonly domain: string;
  /** UserName (at most 20 characters). */
  readonly userName: string;
  /** ConnectTime; null = never. */
  readonly connectTime: Date | null;
  /** DisconnectTime; null = never. */
  readonly disconnectTime: Date | null;
  /** LastInputTime; null = never. */
  readonly lastInputTime: Date | null;
  /** LogonTime; null = no user logged on. */
  readonly logonTime: Date | null;
  /** The server's clock when it answered (idle time = currentTime - lastInputTime). */
  readonly currentTime: Date | null;
}

/**
 * WTSINFOEX_LEVEL1_W decoded
 * (https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_w): the
 * level-1 data of WTSINFOEXW. The names are fixed-size in the struct (WinStation 32, user 20,
 * domain 17 characters at most); FILETIME values of 0 (never) are null.
 */
export interface WtsInfoExLevel1 {
  /** SessionId. */
  readonly sessionId: number;
  /** SessionState: a WTS_CONNECTSTATE_CLASS value. */
  readonly sessionState: number;
  /**
   * SessionFlags, as an unsigned 32-bit number: WTS_SESSIONSTATE_LOCK 0, WTS_SESSIONSTATE_UNLOCK 1,
   * WTS_SESSIONSTATE_UNKNOWN 0xFFFFFFFF ({@link WtsSessionStateFlags}). Raw: on Windows 7 and Windows
   * Server 2008 R2 the first two are swapped (Learn); the api layer reads them with the server's
   * version.
   */
  readonly sessionFlags: number;
  /** WinStationName (at most 32 characters). */
  readonly winStationName: string;
  /** UserName (at most 20 characters). */
  readonly userName: string;
  /** DomainName (at most 17 characters). */
  readonly domainName: string;
  /** LogonTime; null = no user logged on. */
  readonly logonTime: Date | null;
  /** ConnectTime; null = never. */
  readonly connectTime: Date | null;
  /** DisconnectTime; null = never. */
  readonly disconnectTime: Date | null;
  /** LastInputTime; null = none. */
  readonly lastInputTime: Date | null;
  /** CurrentTime: the server's clock when it answered. */
  readonly currentTime: Date | null;
  /** IncomingBytes. */
  readonly incomingBytes: number;
  /** OutgoingBytes. */
  readonly outgoingBytes: number;
  /** IncomingFrames. */
  readonly incomingFrames: number;
  /** OutgoingFrames. */
  readonly outgoingFrames: number;
  /** IncomingCompressedBytes. */
  readonly incomingCompressedBytes: number;
  /** OutgoingCompressedBytes. */
  readonly outgoingCompressedBytes: number;
}

/**
 * WTSINFOEXW decoded (https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfoexw):
 * its Level and, when Level is 1 (the one level Learn defines), the WTSINFOEX_LEVEL1_W in its Data
 * union.
 */
export interface WtsInfoEx {
  /** Level: 1 for WTSINFOEX_LEVEL1_W. */
  readonly level: number;
  /** Data.WTSInfoExLevel1 when `level` is 1; null for another level (or a buffer too short to hold it). */
  readonly level1: WtsInfoExLevel1 | null;
}

/**
 * WTSINFOEX_LEVEL1_W's SessionFlags values (Learn, ns-wtsapi32-wtsinfoex_level1_w):
 * WTS_SESSIONSTATE_LOCK 0, WTS_SESSIONSTATE_UNLOCK 1, WTS_SESSIONSTATE_UNKNOWN 0xFFFFFFFF. On
 * Windows 7 and Windows Server 2008 R2 (6.1) Lock and Unlock are reported swapped.
 */
export const WtsSessionStateFlags = {
  Lock: 0,
  Unlock: 1,
  Unknown: 0xffffffff,
} as const;

/** Field sizes of WTSINFOEX_LEVEL1_W's names, in characters including the terminating NUL (WINSTATIONNAME_LENGTH + 1, ...). */
export const WTSINFOEX_LENGTHS = { winStationName: 33, userName: 21, domainName: 18 } as const;

/**
 * A server's operating system version, as NetServerGetInfo level 101 reports it
 * (SERVER_INFO_101: sv101_version_major masked with MAJOR_VERSION_MASK 0x0F, sv101_version_minor):
 * `{ major: 6, minor: 1 }` for Windows 7 / Windows Server 2008 R2, `{ major: 10, minor: 0 }` for
 * Windows 10 / 11 and Windows Server 2016 and later.
 */
export interface WtsServerVersion {
  /** The major version (sv101_version_major & 0x0F). */
  readonly major: number;
  /** The minor version (sv101_version_minor). */
  readonly minor: number;
}

/** Field sizes of WTSINFOW's names, in characters including the terminating NUL. */
export const WTSINFO_LENGTHS = { winStationName: 32, domain: 17, userName: 21 } as const;

/** Text without a high surrogate left alone at its end (a fixed-size field cut a pair in two). */
export function wholeCharacters(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/** 100-ns FILETIME ticks (since 1601) -> Date; 0 -> null. */
export function fileTimeToDate(ticks: bigint | number): Date | null {
  const t = BigInt(ticks);
  if (t <= 0n) return null;
  return new Date(Number(t / 10000n - 11644473600000n));
}

/** Date -> FILETIME ticks; null -> 0. */
export function dateToFileTime(date: Date | null): bigint {
  return date === null ? 0n : (BigInt(date.getTime()) + 11644473600000n) * 10000n;
}

/**
 * The WTS_INFO_CLASS values the library queries, by their wtsapi32.h names, and the decoded
 * type of each. A backend decodes each by its real layout.
 */
export interface WtsInfoClassValues {
  /** The session's ID. */
  WTSSessionId: number;
  /** The user logged on (`''` for none). */
  WTSUserName: string;
  /** The WinStation name. */
  WTSWinStationName: string;
  /** The user's domain. */
  WTSDomainName: string;
  /** The state: a WTS_CONNECTSTATE_CLASS value. */
  WTSConnectState: number;
  /** The client computer's name. */
  WTSClientName: string;
  /** WTS_CLIENT_ADDRESS, decoded. */
  WTSClientAddress: WtsClientAddress;
  /** WTSCLIENTW, the parts the library reads. */
  WTSClientInfo: WtsClientInfo;
  /** WTSINFOW, decoded. */
  WTSSessionInfo: WtsInfo;
  /** WTSINFOEXW, decoded: the lock state (SessionFlags), names, times and counters (Windows 7 / Server 2008 R2 and later). */
  WTSSessionInfoEx: WtsInfoEx;
  /** Whether the session is remote (Learn: only on the local handle, for the current session). */
  WTSIsRemoteSession: boolean;
  /**
   * A USHORT (2 bytes): 0 the console, 1 ICA (legacy), 2 RDP
   * (https://learn.microsoft.com/windows/win32/api/wtsapi32/ne-wtsapi32-wts_info_class).
   */
  WTSClientProtocolType: number;
}
/** A WTS_INFO_CLASS the library queries, by its wtsapi32.h name (`'WTSSessionInfo'`, ...). */
export type WtsInfoClass = keyof WtsInfoClassValues;

/** WTS_INFO_CLASS numeric values (wtsapi32.h), for backends. */
export const WtsInfoClassId: Readonly<Record<WtsInfoClass, number>> = {
  WTSSessionId: 4,
  WTSUserName: 5,
  WTSWinStationName: 6,
  WTSDomainName: 7,
  WTSConnectState: 8,
  WTSClientName: 10,
  WTSClientAddress: 14,
  WTSClientProtocolType: 16,
  WTSClientInfo: 23,
  WTSSessionInfo: 24,
  WTSSessionInfoEx: 25,
  WTSIsRemoteSession: 29,
};

/**
 * WTSWaitSystemEvent's event flags (wtsapi32.h; the kinds are listed on
 * https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtswaitsystemevent ).
 * The wait reports which kinds happened, never which session.
 */
export const WtsEvent = {
  None: 0x0,
  Create: 0x1,
  Delete: 0x2,
  Rename: 0x4,
  Connect: 0x8,
  Disconnect: 0x10,
  Logon: 0x20,
  Logoff: 0x40,
  StateChange: 0x80,
  License: 0x100,
  All: 0x7fffffff,
  /** As the mask: every pending wait on the handle returns, with WTS_EVENT_NONE. */
  Flush: 0x80000000,
} as const;

/** Options of the calls that may be abandoned while they block. */
export interface CallOptions {
  /**
   * Abandons the call: the promise rejects with an AbortError at once. The native call itself
   * cannot be interrupted; its thread is freed when it returns, and its result is ignored.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Called once when the call is over: it returned (abandoned or not), or it was never made (its
   * signal had fired, or the backend refused it). After an abandonment the promise has already
   * rejected; this says when the call has really left the system. What it throws is ignored.
   */
  readonly onReturn?: (() => void) | undefined;
  /**
   * Called (at most once, in a microtask) when the call cannot be made at once and waits for a
   * free thread: the koffi backend's `waitSystemEvent` and `sendMessage` with `wait`, behind
   * `maxWaitThreads`. `notMade()`, asked at any later moment, says whether the call has still not
   * been made: it is still waiting (abandoning it now drops it unmade, and its onReturn comes at
   * once), or it was dropped unmade already. A backend with no such queue, or that cannot see it
   * (the libuv mode), never calls it. What it throws is ignored.
   */
  readonly onQueued?: ((notMade: () => boolean) => void) | undefined;
}

/**
 * A read the caller may give up on (the api layer's polls cut by `timeoutMs` or a signal): the
 * promise rejects with an AbortError at once; the native call runs on unseen, its result ignored,
 * and — as for {@link CallOptions.signal} — it no longer keeps the process alive. A backend may
 * ignore it (the read is then simply not awaited any more).
 */
export interface AbandonOptions {
  /** Abandons the read when it fires: the promise rejects at once; the call runs on unseen. */
  readonly signal?: AbortSignal | undefined;
}

/** Arguments of WTSSendMessageW, already validated by the api layer. */
export interface WtsMessage {
  /** pTitle: the box's title. */
  readonly title: string;
  /** pMessage: the text. */
  readonly text: string;
  /** MessageBox style flags (MB_OK = 0, MB_OKCANCEL = 1, ...). */
  readonly style: number;
  /** Seconds before the box closes by itself; 0 = never. */
  readonly timeoutSeconds: number;
  /** bWait: wait for the user's answer (or the timeout) before returning. */
  readonly wait: boolean;
}

/**
 * The backend contract. Implementations: the in-memory mock (`wts-session/mock`) and the
 * koffi binding to wtsapi32.dll. Each failing call rejects with a `Win32Error` whose
 * `win32Code` is what GetLastError() returned right after the call and whose `api` is the
 * Win32 function's name.
 */
export interface WtsApi {
  /** Short backend name for messages and diagnostics: 'mock', 'koffi'. */
  readonly name: string;

  /**
   * WTSOpenServerExW. Like Win32, an unreachable server usually still yields a handle: its
   * failure (1722, 5) surfaces on the first call that uses the handle.
   *
   * @param serverName - the server's name, as the api layer normalised it.
   * @returns the handle, to close with closeServer.
   */
  openServer(serverName: string): Promise<ServerHandle>;
  /**
   * WTSCloseServer. Closing WTS_CURRENT_SERVER_HANDLE or an already-closed handle is a no-op.
   * From this call on the handle takes no new call (each fails with 6, ERROR_INVALID_HANDLE, and
   * makes none) but a flush (flushSystemEvents), which releases its waits — until WTSCloseServer
   * is being made, when a flush fails with 6 too. A call made on it that is still running — one
   * its caller abandoned, a pending wait — is never closed under: the handle is then closed when
   * the last such call returns, and this resolves at once. After the close, a call on the handle
   * still fails with 6 and makes none (the koffi backend remembers the last 4,096 handles it closed;
   * a value the system gives again is a new handle). A close the backend cannot run now (its
   * threads all held by stuck calls) is retried in the background; it never rejects for that.
   *
   * @param server - the handle.
   */
  closeServer(server: ServerHandle): Promise<void>;
  /**
   * WTSEnumerateSessionsExW level 1 (the array freed by the backend before it resolves).
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param options - a signal to abandon the listing with ({@link AbandonOptions}).
   * @returns every session, in the server's order.
   */
  enumerateSessions(server: ServerHandle, options?: AbandonOptions): Promise<readonly WtsSessionInfo1[]>;
  /**
   * Optional: enumerateSessions, each session handed to `make` as it is read, so that a caller
   * building its own objects makes no intermediate WtsSessionInfo1 (10,000 fewer objects for
   * 10,000 sessions). The same calls, errors and fallbacks as enumerateSessions.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param make - builds the caller's object from one session's fields.
   * @param options - a signal to abandon the listing with ({@link AbandonOptions}).
   * @returns what `make` built, in the server's order.
   */
  enumerateSessionsWith?<T>(server: ServerHandle, make: SessionMaker<T>, options?: AbandonOptions): Promise<T[]>;
  /**
   * WTSEnumerateProcessesW: every process on the server, with its session.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @returns the processes.
   */
  enumerateProcesses(server: ServerHandle): Promise<readonly WtsProcessInfo[]>;
  /**
   * Optional: WTSEnumerateProcessesExW level 1 (the array freed with WTSFreeMemoryExW
   * WTSTypeProcessInfoLevel1 before it resolves): the processes of one session, or of all with
   * {@link WTS_ANY_SESSION}, with their counters. Where the server (or the library) lacks it, it
   * rejects with a Win32Error whose code is in `LEVEL_ONE_UNSUPPORTED` (120, 50, 1745, 1717) (120 when the library
   * has no such function), and the caller asks enumerateProcesses instead.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - the session, or WTS_ANY_SESSION for every session.
   * @param options - a signal to abandon the call with.
   * @returns the processes, in the server's order.
   */
  enumerateProcessesEx?(server: ServerHandle, sessionId: number, options?: CallOptions): Promise<readonly WtsProcessInfoEx[]>;
  /**
   * Optional: advapi32 LookupAccountSidW on a server: the account a SID names there.
   *
   * @param serverName - the server to ask (its name as the api layer normalised it); `''` for the
   *   local machine (lpSystemName NULL).
   * @param sid - the SID in text form (`S-1-5-21-...`); text that is not one is refused with an
   *   InvalidArgumentError before any call.
   * @returns the account; null when the SID maps to no account there (ERROR_NONE_MAPPED, 1332: a
   *   deleted account, a logon SID, or a lookup that timed out). Any other failure rejects with a
   *   Win32Error.
   */
  lookupAccountSid?(serverName: string, sid: string): Promise<WtsAccount | null>;
  /**
   * WTSTerminateProcess(server, processId, exitCode). Optional: a backend without it cannot end
   * processes (terminateProcess refuses with UnsupportedPlatformError before any call).
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param processId - the process.
   * @param exitCode - the exit code the process ends with.
   */
  terminateProcess?(server: ServerHandle, processId: number, exitCode: number): Promise<void>;
  /**
   * WTSQuerySessionInformationW for one info class. 7022 when the session does not exist.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - the session, or WTS_CURRENT_SESSION.
   * @param infoClass - what to ask.
   * @param options - a signal to abandon the query with ({@link AbandonOptions}).
   * @returns the answer, decoded ({@link WtsInfoClassValues}).
   */
  querySessionInformation<C extends WtsInfoClass>(
    server: ServerHandle,
    sessionId: number,
    infoClass: C,
    options?: AbandonOptions,
  ): Promise<WtsInfoClassValues[C]>;
  /**
   * WTSLogoffSession with bWait = FALSE, always. 7007 when a close is already pending.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - the session.
   */
  logoffSession(server: ServerHandle, sessionId: number): Promise<void>;
  /**
   * WTSDisconnectSession with bWait = FALSE.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - the session.
   */
  disconnectSession(server: ServerHandle, sessionId: number): Promise<void>;
  /**
   * WTSSendMessageW. With `message.wait`, it blocks until the user answers or the box times out;
   * `options.signal` then abandons the wait (rejects with an AbortError; the box stays).
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - the session.
   * @param message - the title, text, style, timeout and bWait.
   * @param options - a signal to abandon the call with.
   * @returns the response: IDOK 1 ... IDTIMEOUT 32000, IDASYNC 32001 when not waited for.
   */
  sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage, options?: CallOptions): Promise<number>;
  /**
   * WTSWaitSystemEvent(server, eventMask, &flags): resolves when an event kind in `eventMask`
   * happens on the server. Blocks a thread for as long as nothing happens. Optional: without it,
   * watching falls back to polling.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param eventMask - the {@link WtsEvent} kinds to wait for.
   * @param options - a signal to abandon the wait with.
   * @returns the flags that happened ({@link WtsEvent}); WtsEvent.None when a flush released it.
   */
  waitSystemEvent?(server: ServerHandle, eventMask: number, options?: CallOptions): Promise<number>;
  /**
   * WTSWaitSystemEvent(server, WTS_EVENT_FLUSH, &flags): every pending wait on the handle returns.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   */
  flushSystemEvents?(server: ServerHandle): Promise<void>;
  /**
   * netapi32 NetServerGetInfo(server, 101, &buffer), then NetApiBufferFree: the server's operating
   * system version (SERVER_INFO_101's sv101_version_major masked with MAJOR_VERSION_MASK 0x0F, and
   * sv101_version_minor). Optional: without it, the version is unknown. The api layer asks it once
   * per open connection, for the lock state (Windows 7 / Server 2008 R2 report it swapped).
   *
   * @param serverName - the server's name as the api layer normalised it (`WF12`); `''` for the
   *   local server (NetServerGetInfo with NULL).
   * @returns the version; null when this backend cannot ask (no netapi32, or one without the call).
   * @throws {@link Win32Error} (a rejection) when the call fails: `win32Code` is the NET_API_STATUS
   *   it returned (Learn lists 5, 8, 87, 124 and 2114 NERR_ServerNotStarted; an unreachable
   *   server answers others), `api` 'NetServerGetInfo'.
   */
  getServerVersion?(serverName: string): Promise<WtsServerVersion | null>;
  /**
   * kernel32 WTSGetActiveConsoleSessionId.
   *
   * @returns the local console's session, or 0xFFFFFFFF ({@link NO_CONSOLE_SESSION}).
   */
  getActiveConsoleSessionId(): number;
  /**
   * kernel32 ProcessIdToSessionId(GetCurrentProcessId()).
   *
   * @returns the caller's own session, or 0xFFFFFFFF (WTS_CURRENT_SESSION) when the caller is in
   *   no session of the local server.
   */
  getCurrentSessionId(): number;
  /**
   * kernel32 GetComputerNameW.
   *
   * @returns the local server's NetBIOS name (at most 15 characters).
   */
  getComputerName(): string;
  /**
   * Every other name the local machine answers to: its DNS host name, its FQDN
   * (GetComputerNameExW), its IP addresses. The api layer treats a server given under any of
   * them (or under getComputerName(), `.`, `localhost` or a loopback address) as the local server.
   * Optional: for a backend that lacks it, only getComputerName() and those fixed aliases are
   * recognised.
   *
   * @returns the names.
   */
  getLocalServerNames?(): readonly string[];
}
