/**
 * The Windows facts table (issue 11): one entry per Windows behaviour wts-session or its tests
 * depend on, each with its source. docs/windows-facts.md is generated from it
 * (test/conformance/facts-doc.test.ts fails when the doc is stale; WTS_WRITE_FACTS=1 rewrites it),
 * and test/conformance/conformance.test.ts runs every row against every backend that claims it.
 *
 * Backends: `mock` (src/backends/mock through the WtsApi seam), `double` (koffi + the native
 * double, native/: on Linux in `npm test`, and as a Windows DLL inside node.exe under Wine in
 * `npm run test:wine`), `wine` (Wine's own wtsapi32.dll / kernel32.dll under `npm run test:wine`).
 * A backend that cannot honour a row says why (a known difference); nothing is skipped silently.
 */

export type Backend = 'mock' | 'double' | 'wine';
export const BACKENDS: readonly Backend[] = ['mock', 'double', 'wine'];

export const BACKEND_LABELS: Readonly<Record<Backend, string>> = {
  mock: 'mock (WtsApi seam)',
  double: 'koffi + native double (Linux; Windows DLL under Wine)',
  wine: "Wine 8.0's own wtsapi32/kernel32 (under Wine)",
};

export interface Source {
  /** learn: a Learn page; wine-test: Wine's conformance test (run on Windows by Wine's test bot); others as named. */
  readonly kind: 'learn' | 'wine-test' | 'wine-impl' | 'wine-probe' | 'cassia' | 'oshi' | 'veyon' | 'pywin32' | 'header' | 'issue' | 'dotnet' | 'library';
  /** URL, or repository@commit:path. */
  readonly ref: string;
  readonly lines?: string;
  /** The text that says it, verbatim (shortened with …). */
  readonly quote?: string;
}

export interface Fact {
  readonly id: string;
  /** The call and its arguments (CSH = WTS_CURRENT_SERVER_HANDLE, CS = WTS_CURRENT_SESSION). */
  readonly call: string;
  /** Return value, GetLastError and output on Windows. */
  readonly expected: string;
  /** What wts-session does with it. */
  readonly library: string;
  readonly sources: readonly Source[];
  readonly status: 'sourced' | 'assumed';
  /** For an assumed row (or a sourced row with an unsourced detail): the live capture that settles it. */
  readonly capture?: string;
  /** true: the conformance suite runs the row there; a string: the known difference, with its reason. */
  readonly backends: Readonly<Record<Backend, true | string>>;
}

const WT = 'wine-mirror/wine@888416f1f8c2c4aefab46d71b525b501bcbdb5f2:dlls/wtsapi32/tests/wtsapi.c';
const WI = 'wine-mirror/wine@48801b6dd7d5a5b5c7d8f4c371bc285a686b6d64:dlls/wtsapi32/wtsapi32.c';
const W8 = 'Wine 8.0 (Debian 8.0~repack-4), probe in the issue-11 research, Appendix A';
const CASSIA_HELPER = 'leiratech/cassia@932b32a293471b39370f093f86e2a428dcc47798:Source/Cassia/Impl/NativeMethodsHelper.cs';
const CASSIA_SESSION = 'danports/cassia@1476597a52d51587e67a4f939f5ad061f0cf4f07:Source/Cassia/Impl/TerminalServicesSession.cs';
const LEARN = 'https://learn.microsoft.com/en-us/windows/win32';
const INFO_CLASS = `${LEARN}/api/wtsapi32/ne-wtsapi32-wts_info_class`;
const QUERY = `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsquerysessioninformationw`;
const CAPTURE = 'npm run capture:windows (issue 11 §3)';
const WAIT = `${LEARN}/api/wtsapi32/nf-wtsapi32-wtswaitsystemevent`;
const PROCESSES_EX = `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsenumerateprocessesexw`;
const PROCESS_INFO_EX = `${LEARN}/api/wtsapi32/ns-wtsapi32-wts_process_info_exw`;
const TYPE_CLASS = `${LEARN}/api/wtsapi32/ne-wtsapi32-wts_type_class`;
const LOOKUP = `${LEARN}/api/winbase/nf-winbase-lookupaccountsidw`;
/** Wine's advapi32 conformance tests (run on Windows by Wine's test bot). */
const WT_ADVAPI = 'wine-mirror/wine@0024d18430db6d2ee44ec92973ab65d7744dc768:dlls/advapi32/tests/security.c';
const DTYP = 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-dtyp';
/** Wine's WTSWaitSystemEvent (dlls/wtsapi32/wtsapi32.c): `FIXME("Stub …"); return FALSE;`. */
const WINE_WAIT_STUB =
  "Wine's WTSWaitSystemEvent is a stub (dlls/wtsapi32/wtsapi32.c, FIXME \"Stub\"): FALSE at once, last error not set, flags untouched; test/wine checks it returns at once";

const noPointersInSeam = 'the WtsApi seam takes no pointers and hands out no buffers: nothing to pass NULL to';
const noByteCounts = 'the seam returns decoded values, not byte counts';
const noLastError = 'the seam reports no last error on success';

export const FACTS: readonly Fact[] = [
  {
    id: 'query-null-buffer',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSUserName, NULL, &count) with count = 0 and with count = 1',
    expected: 'FALSE; GetLastError 1784 (ERROR_INVALID_USER_BUFFER); count left as it was (0, 1)',
    library: 'The koffi backend always passes both pointers; the row keeps the double honest.',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '229-241', quote: 'ok(count == 1, …); ok(GetLastError() == ERROR_INVALID_USER_BUFFER, …)' },
      { kind: 'wine-impl', ref: WI, lines: 'WTSQuerySessionInformationW', quote: 'if (!buffer || !count) { SetLastError(ERROR_INVALID_USER_BUFFER); return FALSE; }' },
      { kind: 'header', ref: 'mingw-w64 10 winerror.h', lines: '778', quote: '#define ERROR_INVALID_USER_BUFFER __MSABI_LONG(1784)' },
    ],
    status: 'sourced',
    backends: { mock: noPointersInSeam, double: true, wine: true },
  },
  {
    id: 'query-null-count',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSUserName, &buffer, NULL)',
    expected: 'FALSE; GetLastError 1784; *ppBuffer not written (assumed: no source checks it)',
    library: 'As query-null-buffer.',
    sources: [{ kind: 'wine-test', ref: WT, lines: '243-246', quote: 'ok(GetLastError() == ERROR_INVALID_USER_BUFFER, …)' }],
    status: 'sourced',
    capture: `${CAPTURE}: the buffer pointer after the call`,
    backends: { mock: noPointersInSeam, double: true, wine: true },
  },
  {
    id: 'query-protocol-type',
    call: 'WTSQuerySessionInformationW(h, id, WTSClientProtocolType (16), &buffer, &count)',
    expected: 'TRUE; count 2 (a USHORT); 0 the console, 1 ICA (legacy), 2 RDP',
    library: "The `remote` detail reads it (any server, any session) instead of WTSIsRemoteSession.",
    sources: [
      { kind: 'learn', ref: INFO_CLASS, lines: 'WTSClientProtocolType', quote: 'A USHORT value that specifies information about the protocol type for the session.' },
      { kind: 'learn', ref: QUERY, lines: 'Remarks', quote: 'To determine whether your application is running on the physical console, you must specify WTS_CURRENT_SESSION for the SessionId parameter, and WTSClientProtocolType as the WTSInfoClass parameter.' },
      { kind: 'wine-test', ref: WT, lines: '319-325', quote: 'ok(count == sizeof(*protocol), …) (USHORT *protocol; the A function, which Wine forwards to W)' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '82-84', quote: 'WTS_PROTOCOL_TYPE_CONSOLE 0, WTS_PROTOCOL_TYPE_ICA 1, WTS_PROTOCOL_TYPE_RDP 2' },
      { kind: 'oshi', ref: 'oshi/oshi@1a58679f0bb2da8ffdc6ad504f4724b6ecf01c8f:oshi-core/src/main/java/oshi/driver/windows/registry/SessionWtsData.java', lines: '88', quote: 'short protocolType = pBuffer.getShort(0); // 0 = console, 2 = RDP' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: true },
  },
  {
    id: 'query-connect-state',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSConnectState (8), &buffer, &count)',
    expected: "TRUE; count 4 (a WTS_CONNECTSTATE_CLASS enum); the caller's own session is WTSActive (0)",
    library: 'Reads a uint32 state.',
    sources: [{ kind: 'wine-test', ref: WT, lines: '215-219', quote: 'ok(count == sizeof(*state), …); ok(*state == WTSActive, …)' }],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'Wine 8.0 has no WTSConnectState branch: FALSE, last error untouched, count 0 (newer Wine answers WTSActive)' },
  },
  {
    id: 'query-session-info',
    call: 'WTSQuerySessionInformationW(CSH, id, WTSSessionInfo (24), &buffer, &count), between t1 and t2 = GetSystemTimeAsFileTime',
    expected: 'TRUE; count = sizeof(WTSINFOW) = 216 on x64 (and on ia32); t1 <= CurrentTime <= t2 (UTC FILETIME taken during the call)',
    library: 'Decodes WTSINFOW (names, times); idle time = CurrentTime - LastInputTime, both from the server.',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '332-358', quote: 'ok(count == sizeof(*wtsinfoW), …); ok(t1 <= wtsinfoW->CurrentTime.QuadPart, …); ok(wtsinfoW->CurrentTime.QuadPart <= t2, …)' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfow`, quote: 'CurrentTime: The time that the WTSINFO data structure was called.' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '253-270', quote: 'WTSINFOW (216 bytes compiled on x64; ConnectTime at 176, CurrentTime at 208)' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'Wine 8.0 answers FALSE for WTSSessionInfo (last error untouched); newer Wine fills it partly' },
  },
  {
    id: 'query-string-count',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSUserName / WTSDomainName, &buffer, &count)',
    expected: 'TRUE; count = (characters + 1) * 2: the byte count includes the terminating NUL',
    library: 'Decodes up to the NUL; an empty string is count 2.',
    sources: [{ kind: 'wine-test', ref: WT, lines: '251-253, 264-266', quote: 'ok(count == (lstrlenW(buf1) + 1) * sizeof(WCHAR), …)' }],
    status: 'sourced',
    backends: { mock: noByteCounts, double: true, wine: true },
  },
  {
    id: 'query-domain-local-account',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSDomainName, …) for a local account',
    expected: 'TRUE; the computer name (GetComputerNameW), compared without case: Vista, 7 and 8 give it upper-case, the rest lower-case. A domain account: the NetBIOS domain name (assumed)',
    library: 'Shows the domain as given; compares domains and computer names without case.',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '261-272', quote: '/* Windows Vista, 7 and 8 return uppercase computername, while the rest return lowercase. */ ok(!wcsicmp(buf1, computernameW), …)' },
      { kind: 'learn', ref: INFO_CLASS, lines: 'WTSDomainName', quote: 'A null-terminated string that contains the name of the domain to which the logged-on user belongs.' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: WTSDomainName for a domain account`,
    backends: {
      mock: "farm data: the farm says each session's domain; there is no logged-on local account to compare",
      double: "farm data: the farm says each session's domain; there is no logged-on local account to compare",
      wine: true,
    },
  },
  {
    id: 'query-unsupported-classes',
    call: 'WTSQuerySessionInformationW(h, id, WTSIdleTime 17 | WTSLogonTime 18 | WTSIncomingBytes 19 | WTSOutgoingBytes 20 | WTSIncomingFrames 21 | WTSOutgoingFrames 22, …)',
    expected: 'FALSE; GetLastError 50 (ERROR_NOT_SUPPORTED). (Server 2008 / Vista: "not used".)',
    library: 'Never asks for them: idle and logon times come from WTSSessionInfo. The mock and the double answer 50 for every class they do not model.',
    sources: [
      { kind: 'learn', ref: INFO_CLASS, lines: 'WTSIdleTime … WTSOutgoingFrames', quote: 'This value returns FALSE. If you call GetLastError to get extended error information, GetLastError returns ERROR_NOT_SUPPORTED.' },
      { kind: 'header', ref: 'mingw-w64 10 winerror.h', lines: '83', quote: 'ERROR_NOT_SUPPORTED 50' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: "Wine's FIXME path: FALSE with the last error untouched, *ppBuffer NULL and count 0 (WI end of WTSQuerySessionInformationW; W8 probe)" },
  },
  {
    id: 'is-remote-session-local-only',
    call: 'WTSQuerySessionInformationW(hServer, id, WTSIsRemoteSession (29), …)',
    expected: 'Only with hServer = WTS_CURRENT_SERVER_HANDLE (sourced); only for the current session (implied by "the current session"; assumed); unsupported on Vista / Server 2008',
    library: 'The api layer never asks it: the `remote` detail uses WTSClientProtocolType (any session, any server). The seam still decodes it for callers of the backend.',
    sources: [
      { kind: 'learn', ref: INFO_CLASS, lines: 'WTSIsRemoteSession', quote: 'This value can only be used for the local machine, so the hServer parameter of the WTSQuerySessionInformation function must contain WTS_CURRENT_SERVER_HANDLE.' },
      { kind: 'veyon', ref: 'veyon/veyon:plugins/platform/windows/WtsSessionManager.cpp', quote: 'static_cast<WTS_INFO_CLASS>(29) with an arbitrary sessionId on WTS_CURRENT_SERVER_HANDLE' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: WTSIsRemoteSession for another session, and on a remote handle`,
    backends: {
      mock: 'a policy of the api layer, which no longer calls it (test/unit/windows-policy.test.ts checks that); what Windows answers for another session is unknown',
      double: 'a policy of the api layer, which no longer calls it (test/unit/windows-policy.test.ts checks that); what Windows answers for another session is unknown',
      wine: 'Wine has no WTSIsRemoteSession branch (FALSE, last error untouched)',
    },
  },
  {
    id: 'is-remote-session-size',
    call: 'WTSQuerySessionInformationW(CSH, CS, WTSIsRemoteSession, &buffer, &count)',
    expected: 'TRUE; one byte, a BOOLEAN (count 1 assumed), non-zero for a remote session',
    library: 'The koffi backend reads the first byte (right for a BOOL or a BOOLEAN); no api path asks it.',
    sources: [
      { kind: 'library', ref: 'winlabs/gowin32@4c49a4497655c650c162b10f244c2aa357092bf8:wts.go', lines: 'querySessionInformationAsBool', quote: 'if bytesReturned != 1 { return false, buferSizeError(1, bytesReturned) } return *(*byte)(unsafe.Pointer(buffer)) != 0, nil' },
      { kind: 'veyon', ref: 'veyon/veyon:plugins/platform/windows/WtsSessionManager.cpp', quote: 'BOOL *isRDP (read through a BOOL *: a 1-byte answer would satisfy it too)' },
    ],
    status: 'assumed',
    capture: `${CAPTURE}: the count of WTSIsRemoteSession`,
    backends: { mock: true, double: true, wine: 'Wine has no WTSIsRemoteSession branch (FALSE, last error untouched)' },
  },
  {
    id: 'enum-processes-last-error',
    call: 'SetLastError(0xdeadbeef); WTSEnumerateProcessesW(CSH, 0, 1, &info, &count)',
    expected: 'TRUE; GetLastError 0',
    library: 'Reads GetLastError only after a failure.',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '151-156', quote: 'ok(ret, "expected success\\n"); ok(!GetLastError(), "got error %lu\\n", GetLastError());' },
      { kind: 'wine-probe', ref: W8, quote: 'EnumerateProcessesW -> ret=1 err=0' },
    ],
    status: 'sourced',
    backends: { mock: noLastError, double: true, wine: true },
  },
  {
    id: 'enum-processes-bad-arguments',
    call: 'WTSEnumerateProcessesW(CSH, Reserved 1 | Version 0 | Version 2 | ppProcessInfo NULL | pCount NULL, …)',
    expected: 'FALSE; GetLastError 87 (ERROR_INVALID_PARAMETER) for each',
    library: 'Always passes Reserved 0, Version 1 and both pointers.',
    sources: [{ kind: 'wine-test', ref: WT, lines: '118-149', quote: 'ok(GetLastError()== ERROR_INVALID_PARAMETER, …) (five times)' }],
    status: 'sourced',
    backends: { mock: 'the seam takes no Reserved / Version / pointers', double: true, wine: true },
  },
  {
    id: 'enum-processes-pid0',
    call: 'WTSEnumerateProcessesW(h, 0, 1, &info, &count)',
    expected: 'The first element is PID 0 (session 0) — Cassia calls it "an empty struct"; the mock and the double model it as "System Idle Process" with SID S-1-5-18, both assumed',
    library: 'Lists it like any process (listProcesses shows it under session 0).',
    sources: [
      { kind: 'cassia', ref: CASSIA_HELPER, lines: '194-197', quote: 'It seems that WTSEnumerateProcesses likes to return an empty struct in the first element of the array, so we ignore that here.' },
      { kind: 'veyon', ref: 'veyon/veyon:plugins/platform/windows/WtsSessionManager.cpp', quote: 'skips ProcessId == 0' },
    ],
    status: 'assumed',
    capture: `${CAPTURE}: the name and SID of PID 0`,
    backends: { mock: true, double: true, wine: 'Wine 8.0 lists no PID 0 (W8 probe: pid0=0)' },
  },
  {
    id: 'enum-processes-sids',
    call: 'WTSEnumerateProcessesW(CSH, 0, 1, &info, &count)',
    expected: "pUserSid is the process token's user SID (a real, valid SID) for every process the caller can open; NULL for the others is possible (assumed)",
    library: 'Decodes pUserSid into its text form (WtsProcessInfo.userSid); NULL is null (the owner shown as none), never a crash.',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '88-96', quote: 'ok(EqualSid(info[i].pUserSid, sid->Sid), "SID did not match\\n");' },
      { kind: 'wine-impl', ref: WI, lines: 'WTSEnumerateProcessesExW', quote: 'info[count].pUserSid = NULL; if ((process = OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, info[count].ProcessId))) …' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: true },
  },
  {
    id: 'enum-processes-ex',
    call: 'WTSEnumerateProcessesExW(CSH, &level 0, WTS_ANY_SESSION, &info | NULL, &count | NULL)',
    expected:
      'NULL ppProcessInfo: FALSE, 87, *pCount untouched; NULL pCount: FALSE, 87, *ppProcessInfo untouched; both given: TRUE, GetLastError 0, a WTS_PROCESS_INFOW array of every session\'s processes (WTS_ANY_SESSION = (DWORD)-2), freed with WTSFreeMemoryExW(WTSTypeProcessInfoLevel0). *pLevel 1 gives WTS_PROCESS_INFO_EXW; Windows 7 / Server 2008 R2 and later',
    library: 'listProcesses asks level 1 for WTS_ANY_SESSION, passing every pointer; the level-1 array is freed with WTSFreeMemoryExW(WTSTypeProcessInfoLevel1, array, count).',
    sources: [
      { kind: 'wine-test', ref: WT, lines: '166-189', quote: 'ret = pWTSEnumerateProcessesExW(WTS_CURRENT_SERVER_HANDLE, &level, WTS_ANY_SESSION, NULL, &count); ok(!ret …); ok(GetLastError() == ERROR_INVALID_PARAMETER …); ok(count == 0xdeadbeef …) … pWTSFreeMemoryExW(WTSTypeProcessInfoLevel0, info, count);' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'pLevel', quote: 'To return an array of WTS_PROCESS_INFO structures, specify zero. To return an array of WTS_PROCESS_INFO_EX structures, specify one.' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'SessionId', quote: 'To enumerate processes for all sessions on the server, specify WTS_ANY_SESSION.' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'ppProcessInfo', quote: 'After you have finished using the array, free it by calling the WTSFreeMemoryEx function.' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'Requirements', quote: 'Minimum supported client Windows 7; minimum supported server Windows Server 2008 R2' },
      { kind: 'header', ref: 'FreeRDP/FreeRDP@171198bd7dab4a125d1345e54682151836d08c80:winpr/include/winpr/wtsapi.h', quote: '/* Specifies any-session (SessionId) */ #define WTS_ANY_SESSION ((DWORD)-2)' },
    ],
    status: 'sourced',
    backends: { mock: noPointersInSeam, double: true, wine: true },
  },
  {
    id: 'enum-processes-ex-level',
    call: 'WTSEnumerateProcessesExW(CSH, &level 2, WTS_ANY_SESSION, &info, &count)',
    expected: 'FALSE, *pLevel set to 1 (Learn); the last error (87) is assumed',
    library: 'Always passes level 1.',
    sources: [
      { kind: 'learn', ref: PROCESSES_EX, lines: 'pLevel', quote: 'If you do not specify a valid value for this parameter, on output, WTSEnumerateProcessesEx sets this parameter to one and returns an error.' },
    ],
    status: 'assumed',
    capture: `${CAPTURE}: the last error of WTSEnumerateProcessesExW with level 2`,
    backends: { mock: 'the seam takes no level', double: true, wine: "Wine's WTSEnumerateProcessesExW answers any level but 0 with 120, *pLevel untouched (WI: FIXME(\"unhandled level\"))" },
  },
  {
    id: 'enum-processes-ex-free',
    call: 'WTSFreeMemoryExW(WTSTypeProcessInfoLevel1 (1), info, count) after WTSEnumerateProcessesExW level 1',
    expected: 'TRUE; the array, its names and SIDs freed. WTS_TYPE_CLASS counts from 0: WTSTypeProcessInfoLevel0 0, WTSTypeProcessInfoLevel1 1, WTSTypeSessionInfoLevel1 2',
    library: 'Frees level-1 process arrays with WTSFreeMemoryExW(1, …) on every path (the caller gone too); never WTSFreeMemory, never koffi.free. The double counts any other class or count as a bad free.',
    sources: [
      { kind: 'learn', ref: TYPE_CLASS, quote: 'WTSTypeProcessInfoLevel1: The buffer contains one or more WTS_PROCESS_INFO_EX structures.' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'ppProcessInfo', quote: 'free it by calling the WTSFreeMemoryEx function' },
    ],
    status: 'sourced',
    backends: { mock: noPointersInSeam, double: true, wine: "Wine's WTSEnumerateProcessesExW has no level 1 (120): there is no array to free" },
  },
  {
    id: 'enum-processes-ex-unsupported',
    call: 'WTSEnumerateProcessesExW(h, &level 1, WTS_ANY_SESSION, …) where level 1 is not there',
    expected: "FALSE. Wine answers 120 (ERROR_CALL_NOT_IMPLEMENTED) for any level but 0 (sourced); a server older than Windows Server 2008 R2 (Learn's minimum) is assumed to fail as WTSEnumerateSessionsExW does there (120, 50, 1745, 1717)",
    library:
      'listProcesses then asks WTSEnumerateProcessesW (level 0): the same processes and owners, without counters. The koffi backend remembers the code per server handle and answers it at once afterwards; it answers 120 without a call when the library has no WTSEnumerateProcessesExW or WTSFreeMemoryExW. 1722, 5 and any other code are the server\'s failure, not a fallback.',
    sources: [
      { kind: 'wine-impl', ref: WI, lines: 'WTSEnumerateProcessesExW', quote: 'if (*level) { FIXME("unhandled level %lu\\n", *level); SetLastError(ERROR_CALL_NOT_IMPLEMENTED); return FALSE; }' },
      { kind: 'learn', ref: PROCESSES_EX, lines: 'Requirements', quote: 'Minimum supported server Windows Server 2008 R2' },
    ],
    status: 'assumed',
    capture: `${CAPTURE} against a Server 2008 (or older) server: the last error of WTSEnumerateProcessesExW level 1`,
    backends: { mock: true, double: true, wine: true },
  },
  {
    id: 'process-info-ex-layout',
    call: 'WTS_PROCESS_INFO_EXW (the level-1 element)',
    expected:
      'SessionId, ProcessId, pProcessName, pUserSid, NumberOfThreads, HandleCount, PagefileUsage, PeakPagefileUsage, WorkingSetSize, PeakWorkingSetSize (DWORDs), UserTime, KernelTime (LARGE_INTEGER). x64: 64 bytes, UserTime at 48; x86: 56 bytes, UserTime at 40 — both 8-byte boundaries, so no padding on either (LARGE_INTEGER is 8-aligned on both); the counters are "in bytes"',
    library: 'Reads the array straight from memory at the offsets koffi computes for its declaration; test/native/layout.test.ts compares them with the C compiler\'s (on Linux, and on Windows under Wine, where the double is built against mingw-w64).',
    sources: [
      { kind: 'learn', ref: PROCESS_INFO_EX, quote: 'DWORD NumberOfThreads; DWORD HandleCount; DWORD PagefileUsage; … LARGE_INTEGER UserTime; LARGE_INTEGER KernelTime;' },
      { kind: 'learn', ref: PROCESS_INFO_EX, lines: 'PagefileUsage … PeakWorkingSetSize', quote: 'The page file usage of the process, in bytes. … The peak working set size of the process, in bytes.' },
    ],
    status: 'sourced',
    backends: { mock: 'the seam hands out decoded objects, no structs', double: true, wine: "Wine's WTSEnumerateProcessesExW has no level 1 (120): no element to read (the layout test compares the double's Windows build under Wine)" },
  },
  {
    id: 'process-info-ex-times',
    call: 'WTS_PROCESS_INFO_EXW.UserTime / KernelTime',
    expected: "Learn: \"The amount of time, in milliseconds, the process has been running in user mode\" (and kernel mode). That they are milliseconds, not the 100-ns units of the NT process counters they come from, is Learn's word only",
    library: 'SessionProcess.userTime / kernelTime are these values as numbers, documented as milliseconds (the seam keeps the LARGE_INTEGERs as bigints, unconverted).',
    sources: [
      { kind: 'learn', ref: PROCESS_INFO_EX, lines: 'UserTime, KernelTime', quote: 'The amount of time, in milliseconds, the process has been running in user mode. … in kernel mode.' },
      { kind: 'learn', ref: 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tsts/96702c7d-6f5f-4965-8f29-5fdbea73278e', lines: 'TS_SYS_PROCESS_INFORMATION', quote: 'UserTime: Amount of time in milliseconds the process has spent running in user mode.' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: the capturing process's own UserTime against Node's process.cpuUsage()`,
    backends: { mock: true, double: true, wine: "Wine's WTSEnumerateProcessesExW has no level 1 (120)" },
  },
  {
    id: 'lookup-account-sid',
    call: 'LookupAccountSidW(lpSystemName, sid, Name, &cchName, ReferencedDomainName, &cchReferencedDomainName, &peUse)',
    expected:
      'TRUE with the account and its domain (peUse a SID_NAME_USE: SidTypeUser = 1, …, SidTypeWellKnownGroup 5). A buffer too small: FALSE, 122 (ERROR_INSUFFICIENT_BUFFER), and the size needed including the NUL. A SID with no account (a deleted one, a logon SID, a network timeout): FALSE, 1332 (ERROR_NONE_MAPPED). A computer that is not there: 1722 (1707 on Vista). A NULL name or domain buffer crashes Windows',
    library:
      'lookupAccountSid passes buffers of 257 characters, retries with the sizes asked on 122 (three tries), returns null on 1332 and rejects with any other code; it never passes a NULL pointer. listProcesses looks each SID up once per call and server, and shows the SID when the lookup gives null or fails.',
    sources: [
      { kind: 'learn', ref: LOOKUP, lines: 'cchName', quote: 'If the function fails because the buffer is too small or if cchName is zero, cchName receives the required buffer size, including the terminating null character.' },
      { kind: 'learn', ref: LOOKUP, lines: 'Remarks', quote: 'LookupAccountSid fails and GetLastError returns ERROR_NONE_MAPPED if it cannot find an account name for the SID. This can occur if a network timeout prevents the function from finding the name. It also occurs for SIDs that have no corresponding account name, such as a logon SID …' },
      { kind: 'wine-test', ref: WT_ADVAPI, lines: 'test_LookupAccountSid', quote: '/* try a small account buffer */ … ok(!ret, …); ok(GetLastError() == ERROR_INSUFFICIENT_BUFFER, …)' },
      { kind: 'wine-test', ref: WT_ADVAPI, lines: 'test_LookupAccountSid (0-sized buffers)', quote: '/* this can fail or succeed depending on OS version but the size will always be returned */ … ok(acc_sizeW == real_acc_sizeW + 1, …)' },
      { kind: 'wine-test', ref: WT_ADVAPI, lines: 'test_LookupAccountSid', quote: '/* native windows crashes if domainW or accountW is NULL */' },
      { kind: 'wine-test', ref: WT_ADVAPI, lines: 'test_LookupAccountSid', quote: 'LookupAccountSidA("deepthought", …) … ok(GetLastError() == RPC_S_SERVER_UNAVAILABLE || GetLastError() == RPC_S_INVALID_NET_ADDR /* Vista */, …)' },
      { kind: 'wine-test', ref: WT_ADVAPI, lines: 'test_sid_str', quote: 'ok(ret || GetLastError() == ERROR_NONE_MAPPED, …)' },
      { kind: 'learn', ref: `${LEARN}/api/winnt/ne-winnt-sid_name_use`, quote: 'SidTypeUser = 1, SidTypeGroup, SidTypeDomain, SidTypeAlias, SidTypeWellKnownGroup, …' },
      { kind: 'header', ref: 'mingw-w64 10 winerror.h', lines: '135, 509', quote: '#define ERROR_INSUFFICIENT_BUFFER __MSABI_LONG(122) … #define ERROR_NONE_MAPPED __MSABI_LONG(1332)' },
    ],
    status: 'sourced',
    backends: {
      mock: true,
      double: true,
      wine: "Wine 8.0's LookupAccountSidW gives a short buffer's needed size without the NUL (6 for SYSTEM, seen under test:wine; Learn: with it); the library asks one character more either way",
    },
  },
  {
    id: 'sid-format',
    call: 'A SID in memory (pUserSid) and in text form',
    expected:
      'Binary: Revision (1 byte, 1), SubAuthorityCount (1 byte, at most 15), IdentifierAuthority (6 bytes, big-endian: {0,0,0,0,0,5} is the NT authority), then the SubAuthority DWORDs. Text: "S-1-" IdentifierAuthority (decimal below 2^32, else "0x" and 12 hex digits), then "-" and each SubAuthority in decimal, no leading zeros',
    library: 'Decodes and encodes SIDs itself (src/sid.ts; a property test round-trips them); a SID whose revision is not 1 or that has more than 15 subauthorities is not read past its head (null).',
    sources: [
      { kind: 'learn', ref: `${DTYP}/f992ad60-0fe4-4b87-9fed-beb478836861`, lines: '2.4.2.2', quote: 'Revision (1 byte) … MUST be set to 0x01. SubAuthorityCount (1 byte) … The maximum number of elements allowed is 15. IdentifierAuthority (6 bytes) … {0,0,0,0,0,5} denotes SIDs created by the NT SID authority.' },
      { kind: 'learn', ref: `${DTYP}/c92a27b1-c772-4fa7-a432-15df5f1b66a1`, lines: '2.4.2.1', quote: 'SID= "S-1-" IdentifierAuthority 1*SubAuthority … If the identifier authority is >= 2^32, the identifier authority is represented in hexadecimal … IdentifierAuthorityHex = "0x" 12HEXDIG' },
      { kind: 'learn', ref: `${LEARN}/api/winnt/ns-winnt-sid`, quote: 'BYTE Revision; BYTE SubAuthorityCount; SID_IDENTIFIER_AUTHORITY IdentifierAuthority; DWORD SubAuthority[ANYSIZE_ARRAY];' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: true },
  },
  {
    id: 'enum-sessions-services-console',
    call: 'WTSEnumerateSessionsW(CSH, 0, 1, &info, &count)',
    expected: 'TRUE; at least 2 sessions; "Services" is WTSDisconnected; "Console" is listed (WTSActive on an interactive console). Services = session 0 is assumed',
    library: 'Protects session 0 and the console; the test farms model both.',
    sources: [{ kind: 'wine-test', ref: WT, lines: '409-433', quote: 'ok(info[i].State == WTSDisconnected, …) for L"Services"; todo_wine ok(services_found, "Services session not found.\\n");' }],
    status: 'sourced',
    capture: `${CAPTURE}: Services' session ID; the console's state on an RD Session Host with nobody at the console`,
    backends: { mock: true, double: true, wine: 'Wine 8.0 lists no session (TRUE, count 0); newer Wine lists only Console (WT 433 is todo_wine)' },
  },
  {
    id: 'enum-sessions-host-name',
    call: 'WTSEnumerateSessionsExW(CSH, &level 1, 0, &info, &count) on an RD Session Host',
    expected: 'TRUE; pHostName "contains NULL" for a session running directly on the server (a NULL pointer or an empty string: both are read as "")',
    library: "hostName '' for such a session; the server's name comes from the handle, not from pHostName.",
    sources: [{ kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wts_session_info_1w`, lines: 'pHostName', quote: 'If the session is running directly on an RD Session Host server or RD Virtualization Host server, the string contains NULL.' }],
    status: 'sourced',
    capture: `${CAPTURE}: pHostName as a pointer (NULL or empty)`,
    backends: { mock: true, double: true, wine: 'WTSEnumerateSessionsExW is a stub in Wine (FALSE, no last error)' },
  },
  {
    id: 'enum-sessions-exec-env-id',
    call: 'WTSEnumerateSessionsExW on an RD Virtualization Host handle (WTSOpenServerExW)',
    expected: 'ExecEnvId, not SessionId, is unique in the aggregated list; on an RD Session Host ExecEnvId and SessionId agree',
    library: 'Keys sessions on (server handle, SessionId): it opens RD Session Hosts only, never an RD Virtualization Host aggregate (decision: say so in the docs).',
    sources: [{ kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wts_session_info_1w`, lines: 'ExecEnvId, Remarks', quote: 'The ExecEnvId parameter uniquely identifies each session in the aggregated list. This identifier may be different from the actual session identifier …' }],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'WTSEnumerateSessionsExW is a stub in Wine (FALSE, no last error)' },
  },
  {
    id: 'enum-sessions-ex-free',
    call: 'WTSFreeMemoryExW(WTSTypeSessionInfoLevel1 (2), info, count) after WTSEnumerateSessionsExW',
    expected: 'TRUE; the array and its strings freed (WTSFreeMemory would leak the strings)',
    library: 'Frees level-1 arrays with WTSFreeMemoryExW(2, …), everything else with WTSFreeMemory.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsenumeratesessionsexw`, lines: 'Remarks', quote: 'To free the returned buffer, call the WTSFreeMemoryEx function and set the WTSClassType parameter to WTSTypeSessionInfoLevel1.' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ne-wtsapi32-wts_type_class`, quote: 'WTSTypeProcessInfoLevel0, WTSTypeProcessInfoLevel1, WTSTypeSessionInfoLevel1 (the page lists the names in order, without values: 0, 1, 2 by C\'s enum numbering)' },
    ],
    status: 'sourced',
    backends: { mock: noPointersInSeam, double: true, wine: 'WTSEnumerateSessionsExW is a stub in Wine: there is no array to free' },
  },
  {
    id: 'level-one-unsupported',
    call: 'WTSEnumerateSessionsExW on a server older than Windows Server 2008 R2 (or an RPC failure on first use)',
    expected: 'FALSE (Ex needs Windows 7 / Server 2008 R2: sourced); the code (120, 1745 or 50) is assumed',
    library: 'Falls back to WTSEnumerateSessionsW for that server handle only (per server), on 120 / 1745 / 1717 / 50 or a failure without a code; 1722 and other errors are reported.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsenumeratesessionsexw`, lines: 'Requirements', quote: 'Minimum supported client Windows 7; minimum supported server Windows Server 2008 R2' },
    ],
    status: 'assumed',
    capture: `${CAPTURE} against a Server 2008 (or older) server: the last error of WTSEnumerateSessionsExW`,
    backends: { mock: 'the mock has one enumeration (the seam\'s); the fallback lives in the koffi backend', double: true, wine: true },
  },
  {
    id: 'rpc-error-first-use',
    call: 'WTSOpenServerW / WTSOpenServerExW(an unreachable server), then a call on the handle',
    expected:
      'Either of two: the open fails (NULL) with GetLastError 1722 (RPC_S_SERVER_UNAVAILABLE); or it returns a handle that is not valid and the first call on it fails, e.g. with 1722. Which one is not documented',
    library: 'Reports 1722 as an unreachable server from whichever call failed, the open or the first call on its handle (a NULL handle is never used or closed).',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsopenserverw`, lines: 'Return value', quote: 'If the function fails, it returns a handle that is not valid. You can test the validity of the handle by using it in another function call.' },
      { kind: 'issue', ref: 'danports/cassia#66', quote: 'ServerName: ! SYST934 / Exception calling "Open" with "0" argument(s): "The RPC server is unavailable" (a server that was down)' },
      {
        kind: 'cassia',
        ref: 'danports/cassia@27ed559aedec0aef2c69c970656ae8837794d3d3:Source/Cassia/Impl/RemoteServerHandle.cs',
        lines: 'Open()',
        quote: '_serverPtr = NativeMethods.WTSOpenServer(_serverName); if (_serverPtr == IntPtr.Zero) { ... throw new Win32Exception(); } — so #66\'s error came from a NULL open and its GetLastError',
      },
      { kind: 'issue', ref: 'danports/cassia#74', quote: '1. Open a connection to server. 2. The error is when the code runs server.GetSessions() ... I get "RPC Server is unavailable" error.' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: "Wine's WTSOpenServerW/ExW return NULL with 120 (W8 probe)" },
  },
  {
    id: 'console-session-none',
    call: 'WTSGetActiveConsoleSessionId() while no session is attached to the console',
    expected: '0xFFFFFFFF',
    library: 'No console session: nothing is marked as the console.',
    sources: [{ kind: 'learn', ref: `${LEARN}/api/winbase/nf-winbase-wtsgetactiveconsolesessionid`, lines: 'Return value', quote: 'If there is no session attached to the physical console, (for example, if the physical console session is in the process of being attached or detached), this function returns 0xFFFFFFFF.' }],
    status: 'sourced',
    backends: { mock: true, double: true, wine: "Wine's console is always attached (W8 probe: 0x1): the state cannot be produced" },
  },
  {
    id: 'computer-name-short-buffer',
    call: 'GetComputerNameW(buffer, &size) with size shorter than the name + 1',
    expected: 'FALSE; GetLastError 111 (ERROR_BUFFER_OVERFLOW); size = the length needed including the NUL',
    library: 'Passes MAX_COMPUTERNAME_LENGTH + 1.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/winbase/nf-winbase-getcomputernamew`, lines: 'nSize', quote: 'If the buffer is too small, the function fails and GetLastError returns ERROR_BUFFER_OVERFLOW. The lpnSize parameter specifies the size of the buffer required, including the terminating null character.' },
      { kind: 'wine-probe', ref: W8, quote: 'GetComputerNameW(size 2) -> ret=0 err=111 size_out=3' },
    ],
    status: 'sourced',
    backends: { mock: 'the seam returns the name (no buffer)', double: true, wine: true },
  },
  {
    id: 'computer-name-ex-more-data',
    call: 'GetComputerNameExW(ComputerNameDnsHostname (1) / ComputerNameDnsFullyQualified (3), buffer, &size) with a short buffer',
    expected: 'FALSE; GetLastError 234 (ERROR_MORE_DATA); size = the size needed, including the NUL',
    library: 'The koffi backend starts with 64 characters and retries once at the size asked for (read as characters: the same page\'s Return value table says "the number of bytes required"; read as bytes it is only a larger buffer); any other failure fails the operation (the local names are what protects your own session under a DNS name).',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/sysinfoapi/nf-sysinfoapi-getcomputernameexw`, lines: 'lpnSize', quote: 'If the buffer is too small, the function fails and GetLastError returns ERROR_MORE_DATA. This parameter receives the size of the buffer required, including the terminating null character.' },
    ],
    status: 'sourced',
    backends: {
      mock: 'the seam returns the names (no buffer)',
      double: 'checked by test/native/local-names.test.ts against the double (short buffer, NULL size, NULL buffer)',
      wine: 'not run against Wine here (its GetComputerNameExW was tried by hand: it answered the DNS names)',
    },
  },
  {
    id: 'session-info-unsupported-old-server',
    call: 'WTSQuerySessionInformationW(h, id, WTSSessionInfo (24), …) on a server older than Windows Server 2008',
    expected: 'FALSE; the code is assumed to be 50 (ERROR_NOT_SUPPORTED, as Learn gives for other unsupported classes) or 120; WTSINFOW needs Vista SP1 / Server 2008 (sourced)',
    library: 'Decided once per connection, on its first WTSSessionInfo query: 50 or 120 then means the names are read one by one (WTSUserName, WTSDomainName, WTSConnectState, WTSUserName again — two different users say another logon came between the reads — and WTSWinStationName last, for the console check) and the identity has no logon time; those names are whole, so they are compared whole (a 20-character user is not taken for a 21-character one cut to the WTSINFOW field) and no separate full-name query is made; after one success, a later 50 is an error. Read field by field, a change between two reads of the last round can still go unseen.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfow`, lines: 'Requirements', quote: 'Minimum supported client Windows Vista with SP1; minimum supported server Windows Server 2008' },
    ],
    status: 'assumed',
    capture: `${CAPTURE} against a Windows Server 2003 server: the last error of WTSSessionInfo`,
    backends: {
      mock: 'the policy is tested through a seam wrapper that fails the class (test/unit/windows-policy.test.ts)',
      double: 'the double implements WTSSessionInfo; the policy lives in the api layer (test/unit/windows-policy.test.ts)',
      wine: 'Wine 8.0 does not implement WTSSessionInfo (FALSE, last error untouched): the api layer would not take it for an old server',
    },
  },
  {
    id: 'send-message-lengths',
    call: 'WTSSendMessageW(h, id, title, TitleLength, text, MessageLength, …)',
    expected: 'The lengths are in bytes (Learn), without the terminating NUL (Cassia, pywin32 against Windows)',
    library: 'Passes string.length * 2 for each.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtssendmessagew`, lines: 'TitleLength, MessageLength', quote: 'The length, in bytes, of the title bar string.' },
      { kind: 'cassia', ref: CASSIA_HELPER, lines: '138-139', quote: 'title.Length*Marshal.SystemDefaultCharSize' },
      { kind: 'pywin32', ref: 'mhammond/pywin32:win32/src/win32tsmodule.cpp', quote: 'TitleLen * sizeof(WCHAR)' },
    ],
    status: 'sourced',
    backends: { mock: 'the seam takes strings, not lengths', double: true, wine: "Wine's WTSSendMessageW is a stub (FALSE, last error untouched)" },
  },
  {
    id: 'send-message-timeout-zero',
    call: 'WTSSendMessageW(…, Timeout > 0, &response, bWait TRUE) when the time-out elapses',
    expected: 'TRUE; *pResponse IDTIMEOUT (32000) per Learn; 0 seen on Windows Server 2008 R2 beta (Cassia): sources disagree',
    library: "Maps both 32000 and 0 to 'Timeout' (Cassia's mapping).",
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtssendmessagew`, lines: 'pResponse', quote: 'IDTIMEOUT (32000 (0x7D00)) The bWait parameter was TRUE and the time-out interval elapsed.' },
      { kind: 'cassia', ref: CASSIA_SESSION, lines: '301-303', quote: '// TODO: Windows Server 2008 R2 beta returns 0 if the timeout expires. … return result == 0 ? RemoteMessageBoxResult.Timeout : result;' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: a message box left to time out`,
    backends: { mock: true, double: true, wine: "Wine's WTSSendMessageW is a stub (FALSE, last error untouched)" },
  },
  {
    id: 'client-address-ipv4',
    call: 'WTSQuerySessionInformationW(h, id, WTSClientAddress (14), …) for an IPv4 client',
    expected: 'TRUE; count 24; AddressFamily 2 (AF_INET); the address at Address[2..5]',
    library: 'Reads Address[2..5] as a dotted quad.',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wts_client_address`, quote: 'The IP address is offset by two bytes from the start of the Address member. … "0x00 0x00 0xC0 0xA8 0x00 0x01"' },
      { kind: 'cassia', ref: CASSIA_HELPER, lines: '250-254', quote: 'Array.Copy(rawAddress, 2, v4Addr, 0, 4);' },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'Wine does not implement WTSClientAddress (FALSE, last error untouched)' },
  },
  {
    id: 'client-address-ipv6',
    call: 'WTSQuerySessionInformationW(h, id, WTSClientAddress, …) for an IPv6 client',
    expected: "AddressFamily 23 (AF_INET6); the address at Address[0..15] (Learn's example) — Cassia, oshi, Veyon and gowin32 read [2..17]. Decision: follow Learn's explicit example (oshi's comment shows it generalised the IPv4 sentence; none of them records an IPv6 capture), except when bytes 16-17 are non-zero, which only the [2..17] layout can produce",
    library: 'Reads Address[0..15] when bytes 0-1 are set or bytes 0-3 and 16-17 are all zero, else [2..17] (docs/decisions.md).',
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wts_client_address`, quote: '"FFFF::1" would be represented as … "0xFF 0xFF 0x00 … 0x00 0x01"' },
      { kind: 'cassia', ref: CASSIA_HELPER, lines: '255-257', quote: 'Array.Copy(rawAddress, 2, v6Addr, 0, 16);' },
      { kind: 'oshi', ref: 'oshi/oshi@1a58679f0bb2da8ffdc6ad504f4724b6ecf01c8f:oshi-core/src/main/java/oshi/driver/windows/registry/SessionWtsData.java', lines: '137-138, 148', quote: 'Per WTS_INFO_CLASS docs, the IP address is offset by two bytes …' },
  { kind: 'library', ref: 'winlabs/gowin32@4c49a4497655c650c162b10f244c2aa357092bf8:wts.go', lines: 'QuerySessionClientAddress', quote: '// MS doc: The IP address is offset by two bytes … return clientAddressToIP(a.AddressFamily, a.Address[2:])' },
    ],
    status: 'assumed',
    capture: `${CAPTURE}: the 20 raw bytes with the client's real IPv6 address`,
    backends: { mock: true, double: true, wine: 'Wine does not implement WTSClientAddress (FALSE, last error untouched)' },
  },
  {
    id: 'client-info',
    call: 'WTSQuerySessionInformationW(h, id, WTSClientInfo (23), …) for an IPv4 and an IPv6 client',
    expected: 'TRUE; count sizeof(WTSCLIENTW); ClientName the client\'s name; ClientAddressFamily 2 with the address as text in ClientAddress ("127.0.0.1"); for AF_INET6 the address "in binary form" (layout not given)',
    library:
      'Asks WTSClientInfo once for the client name and an IPv4 address (the text checked to be one); reads an IPv6 address (or text that is not IPv4) from WTSClientAddress; on 50, 87 or 120 (assumed: a server without the class) asks WTSClientName and WTSClientAddress.',
    sources: [
      {
        kind: 'learn',
        ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsclientw`,
        quote: 'For the ClientAddressFamily member, AF_INET (IPv4) will return in string format, for example "127.0.0.1". AF_INET6 (IPv6) will return in binary form.',
      },
    ],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'Wine does not implement WTSClientInfo (FALSE)' },
  },
  {
    id: 'query-session-info-ex',
    call: 'WTSQuerySessionInformationW(h, id, WTSSessionInfoEx (25), &buffer, &count)',
    expected:
      'TRUE; a WTSINFOEXW: DWORD Level (1), then the WTSINFOEX_LEVEL_W union holding a WTSINFOEX_LEVEL1_W: ULONG SessionId, WTS_CONNECTSTATE_CLASS SessionState, LONG SessionFlags, WCHAR WinStationName[WINSTATIONNAME_LENGTH + 1], UserName[USERNAME_LENGTH + 1], DomainName[DOMAIN_LENGTH + 1] (32, 20, 17: wtsapi32.h), LARGE_INTEGER LogonTime, ConnectTime, DisconnectTime, LastInputTime, CurrentTime, six DWORD counters. Compiled (x64): Data at 8, SessionFlags at 8 + 8, LogonTime at 8 + 160, sizeof 232. The count is assumed to be sizeof(WTSINFOEXW), as Wine\'s tests show for WTSINFOW; Windows 7 / Server 2008 R2 and later',
    library:
      'The `lock` detail and the `locked` filter read SessionFlags from it (one query per session); with the `times` detail too, the times come from the same answer (LogonTime, ConnectTime, DisconnectTime, LastInputTime and CurrentTime: Learn describes them in the same words as WTSINFOW\'s; that Windows fills both from the same clock is assumed), and from WTSSessionInfo where the class is not answered or not at level 1. The koffi backend decodes it at the offsets koffi computes (the layout test compares them with the C compiler\'s, under Wine with mingw-w64), reads level-1 data only for Level 1 and a count of at least sizeof(WTSINFOEXW) (else the lock state is unknown), and frees it with WTSFreeMemory. A server that answers 50, 87 or 120 (assumed: one older than Server 2008 R2) gives an unknown lock state, not an error.',
    sources: [
      { kind: 'learn', ref: 'http://msdn.microsoft.com/en-us/library/aa383861.aspx', lines: 'WTS_INFO_CLASS syntax', quote: 'WTSSessionInfo, WTSSessionInfoEx, WTSConfigInfo (the page lists the names in order, without values: by C\'s enum numbering, which the header confirms for WTSSessionInfo = 24, WTSSessionInfoEx is 25)' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '87, 111', quote: 'WTSInitialProgram = 0, … WTSSessionInfo = 24 (the header\'s enum ends there)' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoexw`, quote: 'This structure is returned by the WTSQuerySessionInformation function when you specify "WTSSessionInfoEx" for the WTSInfoClass parameter. … Level … 1 The Data member is a WTSINFOEX_LEVEL1 structure.' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoex_level_w`, quote: 'typedef union _WTSINFOEX_LEVEL_W { WTSINFOEX_LEVEL1_W WTSInfoExLevel1; }' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_w`, quote: 'ULONG SessionId; WTS_CONNECTSTATE_CLASS SessionState; LONG SessionFlags; WCHAR WinStationName[WINSTATIONNAME_LENGTH + 1]; WCHAR UserName[USERNAME_LENGTH + 1]; WCHAR DomainName[DOMAIN_LENGTH + 1]; LARGE_INTEGER LogonTime; … DWORD OutgoingCompressedBytes;' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '199-203', quote: '#define USERNAME_LENGTH 20 … #define WINSTATIONNAME_LENGTH 32 #define DOMAIN_LENGTH 17 (the header lacks WTSINFOEXW itself: the double declares it as Learn gives it)' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: the count of WTSSessionInfoEx, and its answer on a Server 2008 server`,
    backends: { mock: true, double: true, wine: 'not run against Wine: its WTSQuerySessionInformationW lacks WTSSessionInfo (query-session-info), and WTSSessionInfoEx was not probed' },
  },
  {
    id: 'session-info-user',
    call: 'WTSQuerySessionInformationW(h, id, WTSSessionInfo (24) / WTSSessionInfoEx (25)): WTSINFOW UserName and Domain, WTSINFOEX_LEVEL1_W UserName and DomainName',
    expected:
      "The session's own user and domain at the time of the call: the user who owns the session and the domain that user belongs to (Learn), so the names WTSEnumerateSessions lists for it, cut to the field (user 20 characters, domain 16 in WTSINFOW and 17 in WTSINFOEX_LEVEL1_W: wtsapi32.h's lengths). Assumed, no capture yet: where the cut falls inside a surrogate pair, Windows keeps the high half, which the library's decoders drop",
    library:
      "A session's identity (logon time) and its `times` / `lock` details are taken only from an answer naming the user and domain the listing gave (without case; the listed name cut to the field first, a lone half of a surrogate pair dropped): another user or domain means another logon took the ID since the listing, and the session is treated as gone (7022), never given that logon's times or lock state. `clientName`, `clientAddress` and `remote` carry no user and cannot be checked so.",
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfow`, lines: 'Domain, UserName', quote: 'Domain: A null-terminated string that contains the name of the domain that the user belongs to. … UserName: A null-terminated string that contains the name of the user who owns the session.' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_w`, lines: 'UserName, DomainName', quote: 'UserName: A null-terminated string that contains the name of the user who owns the session. DomainName: A null-terminated string that contains the name of the domain that the user belongs to.' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '199-203', quote: '#define USERNAME_LENGTH 20 … #define WINSTATIONNAME_LENGTH 32 #define DOMAIN_LENGTH 17' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: a user name longer than 20 characters whose 20th and 21st UTF-16 units are a surrogate pair, in WTSSessionInfo and WTSSessionInfoEx`,
    backends: { mock: true, double: true, wine: 'not run against Wine: its WTSQuerySessionInformationW lacks WTSSessionInfo (query-session-info), and WTSSessionInfoEx was not probed' },
  },
  {
    id: 'session-flags-lock',
    call: "WTSSessionInfoEx's SessionFlags for a locked, an unlocked and an unknown session, on Windows 8 and later and on Windows 7 / Server 2008 R2",
    expected:
      'WTS_SESSIONSTATE_LOCK 0 (locked), WTS_SESSIONSTATE_UNLOCK 1 (unlocked), WTS_SESSIONSTATE_UNKNOWN 0xFFFFFFFF. Windows 7 and Server 2008 R2 (version 6.1) report LOCK for an unlocked session and UNLOCK for a locked one',
    library:
      "details.locked: LOCK true, UNLOCK false, read the other way round when the server's version (server-version-netservergetinfo) is 6.1; UNKNOWN, any value Learn does not list, or an unknown version: null. The `locked` filter matches exactly true or false, never null (skip message 'lock state unknown'): a misread must not select a session somebody is using.",
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_w`, lines: 'SessionFlags', quote: 'WTS_SESSIONSTATE_UNKNOWN (4294967295 (0xFFFFFFFF)) The session state is not known. WTS_SESSIONSTATE_LOCK (0 (0x0)) The session is locked. WTS_SESSIONSTATE_UNLOCK (1 (0x1)) The session is unlocked.' },
      { kind: 'learn', ref: `${LEARN}/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_a`, lines: 'SessionFlags', quote: 'Windows Server 2008 R2 and Windows 7: Due to a code defect, the usage of the WTS_SESSIONSTATE_LOCK and WTS_SESSIONSTATE_UNLOCK flags is reversed. That is, WTS_SESSIONSTATE_LOCK indicates that the session is unlocked, and WTS_SESSIONSTATE_UNLOCK indicates the session is locked.' },
      { kind: 'learn', ref: `${LEARN}/sysinfo/operating-system-version`, quote: 'Windows 7 6.1; Windows Server 2008 R2 6.1' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: SessionFlags of a locked and an unlocked session on Windows Server 2008 R2 and on 2016 or later, and of a disconnected one (which Learn does not describe)`,
    backends: { mock: true, double: true, wine: 'not run against Wine (see query-session-info-ex)' },
  },
  {
    id: 'server-version-netservergetinfo',
    call: 'NetServerGetInfo(NULL for the local server, or L"\\\\NAME", 101, &buffer); NetApiBufferFree(buffer)',
    expected:
      'NERR_Success (0) as the return value (a failure returns its code — Learn lists 5, 8, 87 and 124 ERROR_INVALID_LEVEL; other NERR_ codes such as 2114 NERR_ServerNotStarted are assumed possible — not the last error); a SERVER_INFO_101 { DWORD sv101_platform_id (500 PLATFORM_ID_NT); LMSTR sv101_name; DWORD sv101_version_major; DWORD sv101_version_minor; DWORD sv101_type; LMSTR sv101_comment }: the major version in the low 4 bits of sv101_version_major (MAJOR_VERSION_MASK 0x0F), the server type above; 6 and 1 for Windows Server 2008 R2. No special group membership for level 101. The buffer is freed with NetApiBufferFree',
    library:
      "WtsApi.getServerVersion: asked once per open connection, only for the lock state; the koffi backend runs it on the library's threads, masks the major with 0x0F, frees with NetApiBufferFree. Any failure (or no netapi32: off Windows) leaves the version unknown, so every lock state read on that connection is null. ASSUMED: a remote server is named \\\\NAME (Learn's sample passes argv[1], shown as [\\\\ServerName]); that a 6.1 answer means Windows 7 / Server 2008 R2 whatever the caller's manifest (Learn's version-lie footnote only maps 6.3 and 10.0 down to 6.2, so no newer server can read as 6.1).",
    sources: [
      { kind: 'learn', ref: `${LEARN}/api/lmserver/nf-lmserver-netservergetinfo`, quote: 'servername … If this parameter is NULL, the local computer is used. … 101 Return the server name, type, and associated software. The bufptr parameter points to a SERVER_INFO_101 structure. … This buffer is allocated by the system and must be freed using the NetApiBufferFree function. … If the function succeeds, the return value is NERR_Success.' },
      { kind: 'learn', ref: `${LEARN}/api/lmserver/ns-lmserver-server_info_101`, lines: 'sv101_version_major', quote: 'The major release version number of the operating system is specified in the least significant 4 bits. The server type is specified in the most significant 4 bits. The MAJOR_VERSION_MASK bitmask defined in the Lmserver.h header should be used by an application to obtain the major version number from this member.' },
      { kind: 'learn', ref: 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-dtyp/39c502dd-022b-4a68-9367-89fd76a23bc3', lines: 'sv101_version_major, sv101_version_minor', quote: 'Windows Server 2008 R2 operating system 6 … Windows Server 2008 R2 1' },
      { kind: 'learn', ref: `${LEARN}/api/lmapibuf/nf-lmapibuf-netapibufferfree`, quote: 'NET_API_STATUS NET_API_FUNCTION NetApiBufferFree([in] _Frees_ptr_opt_ LPVOID Buffer);' },
      { kind: 'learn', ref: `${LEARN}/sysinfo/operating-system-version`, quote: 'Windows 8.1 6.3*, Windows 10 10.0* … * For applications that have been manifested for Windows 8.1 or Windows 10. Applications not manifested … will return the Windows 8 OS version value (6.2).' },
      { kind: 'header', ref: 'mingw-w64 10 lmserver.h', lines: '36-43, 720', quote: 'typedef struct _SERVER_INFO_101 { DWORD sv101_platform_id; LMSTR sv101_name; DWORD sv101_version_major; … } … #define MAJOR_VERSION_MASK 0x0F' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: NetServerGetInfo 101 on a remote Server 2008 R2 and 2022 (\\\\NAME and NAME), from an unmanifested node.exe`,
    backends: { mock: true, double: true, wine: "not run against Wine's netapi32 (the double serves NetServerGetInfo in the Wine run)" },
  },
  {
    id: 'logoff-listener',
    call: 'WTSLogoffSession(h, a listener session (65536+, WTSListen), FALSE)',
    expected: 'FALSE; 87 (assumed)',
    library: 'Refuses listener IDs (65536 and up) before the call (ListenerSessionError).',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: WTSLogoffSession on the RDP-Tcp listener (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSLogoffSession fails with 120 for any session" },
  },
  {
    id: 'logoff-session-zero',
    call: 'WTSLogoffSession(h, 0 (Services), FALSE)',
    expected: 'Unknown (no source)',
    library: 'Treats session 0 as protected (it is not a user session); the call is not expected to be made.',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: WTSLogoffSession(0) (not read-only: a manual step)`,
    backends: {
      mock: 'not modelled: no source says what Windows answers; the api layer never makes the call',
      double: 'not modelled: no source says what Windows answers; the api layer never makes the call',
      wine: "Wine's WTSLogoffSession fails with 120 for any session",
    },
  },
  {
    id: 'logoff-closing',
    call: 'WTSLogoffSession(h, a session already logging off, FALSE)',
    expected: 'FALSE; 7007 (ERROR_CTX_CLOSE_PENDING) assumed — 7007 is sourced only for queries on a closing session (Cassia #36, #60, Server 2003)',
    library: 'Treats 7007 as "already logging off": from WTSLogoffSession, and, in logoff(), from the identity read right before it (then no request is made, `requests: []`, and the session is polled until it is gone).',
    sources: [{ kind: 'issue', ref: 'danports/cassia#36', quote: "'A close operation is pending on the session'" }],
    status: 'assumed',
    capture: `${CAPTURE}: two logoffs in a row (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSLogoffSession fails with 120 for any session" },
  },
  {
    id: 'query-after-logoff',
    call: 'WTSQuerySessionInformationW(h, a logged-off session, …)',
    expected: 'FALSE (Learn: "returns zero if the session is logged off"); 7022 (ERROR_CTX_WINSTATION_NOT_FOUND) assumed; during the logoff the session may still answer, or fail with 7007 (assumed)',
    library: 'Polls until 7022: the session is gone; a poll answered 7007 is made again.',
    sources: [{ kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtslogoffsession`, lines: 'bWait', quote: 'WTSQuerySessionInformation returns zero if the session is logged off.' }],
    status: 'assumed',
    capture: `${CAPTURE}: queries during and after a logoff (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSLogoffSession fails with 120 for any session" },
  },
  {
    id: 'request-to-ended-session',
    call: 'WTSLogoffSession / WTSDisconnectSession / WTSSendMessageW(h, a session that has ended, …)',
    expected: 'FALSE, GetLastError() 7022 (ERROR_CTX_WINSTATION_NOT_FOUND) — assumed, as for a query of a logged-off session: Learn lists no error codes for these calls',
    library: 'In logoffAll (its warning too), disconnectAll and sendMessageAll, after a successful re-check: the session is skipped, reason `gone` (its request listed), not failed',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: a request to a session that just ended (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSLogoffSession fails with 120 for any session, its WTSDisconnectSession succeeds even for one that does not exist, and its WTSSendMessageW is a stub (FALSE, last error untouched)" },
  },
  {
    id: 'disconnect-disconnected',
    call: 'WTSDisconnectSession(h, an already disconnected session, FALSE)',
    expected: 'TRUE, nothing changes (assumed)',
    library: "Bulk disconnect filters already-disconnected sessions ('already disconnected'); a single disconnect passes the call through.",
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: WTSDisconnectSession on a disconnected session (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSDisconnectSession succeeds for any session, even one that does not exist" },
  },
  {
    id: 'disconnect-listener-or-session-zero',
    call: 'WTSDisconnectSession(h, a listener session (65536+, WTSListen) or 0 (Services), FALSE)',
    expected: 'FALSE; 87 (assumed, as for WTSLogoffSession on a listener)',
    library: 'Refuses listener IDs and session 0 before the call (ListenerSessionError, ServicesSessionError); bulk disconnect skips them.',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: WTSDisconnectSession on the RDP-Tcp listener and on session 0 (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSDisconnectSession succeeds for any session, even one that does not exist" },
  },
  {
    id: 'disconnect-clears-winstation-name',
    call: 'WTSDisconnectSession(h, an active session, FALSE), then WTSEnumerateSessionsExW',
    expected: "TRUE; the session is listed WTSDisconnected with an empty WinStation name (assumed: `query session` shows disconnected sessions with a blank SESSIONNAME, which is what breaks parsers that split its columns)",
    library: 'Names are never relied on for a disconnected session: a named logoff must find an Active session, and identity is ID + user + domain + logon time.',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: the enumeration after WTSDisconnectSession (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: "Wine's WTSDisconnectSession changes nothing" },
  },
  {
    id: 'wait-system-event-blocks',
    call: 'WTSWaitSystemEvent(h, EventMask (a combination of WTS_EVENT_CREATE 0x1 … WTS_EVENT_LICENSE 0x100, or WTS_EVENT_ALL 0x7fffffff), &flags)',
    expected:
      "Blocks until an event of a kind in EventMask happens on h's server, then TRUE; flags = the bitmask of the events that occurred (kinds, never a session ID). " +
      'That only kinds in the mask are reported, and that a kind outside it does not end the wait, is assumed (Learn: "the set of events to wait for")',
    library:
      'watchSessions waits on a wait lane of its own (never the event loop, never libuv\'s pool), then enumerates and diffs: the flags say what kind of thing happened, not to which session.',
    sources: [
      { kind: 'learn', ref: WAIT, lines: 'Summary', quote: 'Waits for a Remote Desktop Services event before returning to the caller.' },
      { kind: 'learn', ref: WAIT, lines: 'EventMask', quote: 'Bitmask that specifies the set of events to wait for. … Or, the mask can be a combination of the following values.' },
      { kind: 'learn', ref: WAIT, lines: 'pEventFlags', quote: 'Pointer to a variable that receives a bitmask of the event or events that occurred.' },
      { kind: 'header', ref: 'mingw-w64 10 wtsapi32.h', lines: '134-145', quote: '#define WTS_EVENT_NONE 0x0 … WTS_EVENT_LICENSE 0x100, WTS_EVENT_ALL 0x7fffffff, WTS_EVENT_FLUSH 0x80000000' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: a wait with a mask that excludes the next event (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: WINE_WAIT_STUB },
  },
  {
    id: 'wait-system-event-flush',
    call: 'WTSWaitSystemEvent(h, WTS_EVENT_FLUSH (0x80000000), &flags) while waits are pending on h and on another handle h2 to the same server',
    expected:
      'Every wait pending on h returns, TRUE with flags = WTS_EVENT_NONE (0); waits on h2 go on waiting. The flush itself returning TRUE with WTS_EVENT_NONE is assumed',
    library:
      'Stopping a watcher flushes its own handle (one handle per watched remote server), so its waiting thread comes back; other handles are left alone. ' +
      "The local server is watched on WTS_CURRENT_SERVER_HANDLE, which the process shares: ending a local watch returns every wait on it in the process (another local watch enumerates and waits again, losing nothing; an application's own wait returns WTS_EVENT_NONE).",
    sources: [
      { kind: 'learn', ref: WAIT, lines: 'EventMask', quote: 'This mask can be WTS_EVENT_FLUSH to cause all pending WTSWaitSystemEvent calls on the specified RD Session Host server handle to return.' },
      { kind: 'learn', ref: WAIT, lines: 'pEventFlags', quote: '… or WTS_EVENT_NONE if the wait terminated because of a WTSWaitSystemEvent call with WTS_EVENT_FLUSH.' },
    ],
    status: 'sourced',
    capture: `${CAPTURE}: the flushing call's own return value and flags`,
    backends: { mock: true, double: true, wine: WINE_WAIT_STUB },
  },
  {
    id: 'wait-system-event-between-waits',
    call: 'An event happens while no WTSWaitSystemEvent is pending on the server; then WTSWaitSystemEvent(h, WTS_EVENT_ALL, &flags)',
    expected: 'The new wait does not report the earlier event: it blocks until the next one (assumed: no source says whether the server queues events for a handle)',
    library: 'Events between two waits would be missed: watchSessions enumerates after every wait and reconciles periodically, so a missed event is caught by the diff.',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: a disconnect made between two waits (not read-only: a manual step)`,
    backends: { mock: true, double: true, wine: WINE_WAIT_STUB },
  },
  {
    id: 'wait-system-event-close-pending',
    call: 'WTSCloseServer(h) while a WTSWaitSystemEvent(h, …) is pending',
    expected: 'The pending wait returns FALSE with 6 (ERROR_INVALID_HANDLE) (assumed: Learn does not say what closing does to a pending wait); a later wait on h fails with 6',
    library:
      'Never closes a handle while a call on it runs: closeServer (koffi and mock backends) makes WTSCloseServer only once the last call on the handle has returned, an abandoned one included; a watcher flushes its handle and waits for the wait to return first.',
    sources: [],
    status: 'assumed',
    capture: `${CAPTURE}: WTSCloseServer from another thread during a wait`,
    backends: {
      mock: 'not modelled: the mock is reached only through closeServer, which never closes a handle while a call on it runs (as the koffi backend)',
      double: true,
      wine: WINE_WAIT_STUB,
    },
  },
  {
    id: 'terminate-process',
    call: 'WTSTerminateProcess(h, ProcessId, ExitCode)',
    expected: 'Nonzero when the process was ended; zero on failure, with the reason from GetLastError',
    library: 'terminateProcess / wts-kill call it once per process, after listing it again (PIDs are reused); the process leaves the list',
    sources: [{ kind: 'learn', ref: `${LEARN}/api/wtsapi32/nf-wtsapi32-wtsterminateprocess`, quote: 'If the function fails, the return value is zero. To get extended error information, call GetLastError.' }],
    status: 'sourced',
    backends: { mock: true, double: true, wine: 'not probed: the conformance suite never ends a process of the machine it runs on' },
  },
  {
    id: 'terminate-gone',
    call: 'WTSTerminateProcess(h, <a PID that is not running>, 1)',
    expected: 'FALSE, GetLastError() 87 (ERROR_INVALID_PARAMETER) — assumed: Learn lists no error codes for the call',
    library: 'The process is reported skipped, reason `gone` (its request listed), not failed',
    sources: [],
    status: 'assumed',
    capture: 'a live WTSTerminateProcess on a PID just ended (not in the read-only capture: it ends processes)',
    backends: { mock: true, double: true, wine: 'not probed: the conformance suite never ends a process of the machine it runs on' },
  },
  {
    id: 'terminate-idle-process',
    call: 'WTSTerminateProcess(h, 0, 1)',
    expected: 'FALSE, GetLastError() 5 (ERROR_ACCESS_DENIED) for PID 0, the System Idle Process — assumed',
    library: 'PID 0 is in session 0: refused before any call unless allowServices; with it, a failed outcome with the code',
    sources: [],
    status: 'assumed',
    capture: 'a live WTSTerminateProcess(h, 0, 1) as an administrator',
    backends: { mock: true, double: true, wine: 'not probed: the conformance suite never ends a process of the machine it runs on' },
  },
  {
    id: 'account-name-case',
    call: 'none: how Windows compares two user or domain names without case (a session re-checked against the user it was listed or planned with)',
    expected:
      'Each UTF-16 unit upper-cased on its own through the system upcase table, one unit to one unit (so U+212A KELVIN SIGN is not "k", "ß" is not "SS"), and the table leaves ı (U+0131) and ſ (U+017F) as they are (.NET\'s ordinal casing, which follows Windows, says so). Learn states the upper-casing for file names; that account names compare the same way is assumed',
    library:
      'sameUser / sameIdentity (src/api/sessions.ts) compare names unit by unit, each upper-cased to one unit by the simple upper case (ᾳ to ᾼ; ß, whose only upper case is SS, stays as it is), not with toLowerCase(), which makes the Kelvin sign equal to "k". Wildcard filters (user: "kate*", a process name) compare the same way, unit by unit, so they select no account Windows holds to be another (before, a JavaScript case-insensitive match let `kim` select the Kelvin-sign account).',
    sources: [
      { kind: 'learn', ref: 'https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/nf-ntifs-_fsrtl_advanced_fcb_header-fsrtlarenamesequal', lines: 'UpcaseTable; Remarks', quote: 'The table pointed to by UpcaseTable is an array of uppercase Unicode characters, indexed by the Unicode character to be converted to uppercase. … Case-insensitive matching is performed by converting both strings to uppercase before they are compared.' },
      { kind: 'dotnet', ref: 'dotnet/runtime@b124ad00077545adbba36ae37eae36516d91c684:src/native/libs/System.Globalization.Native/pal_casing.c', lines: 'GlobalizationNative_InitOrdinalCasingPage', quote: '// Disable Turkish I behavior on Ordinal operations pTarget[0x31] = (UChar)0x0131; // Turkish lowercase i pTarget[0x7F] = (UChar)0x017F; // // 017F;LATIN SMALL LETTER LONG S' },
    ],
    status: 'assumed',
    capture: 'a live LookupAccountNameW of an account name and its lower-case, Kelvin-sign and ß spellings (not in npm run capture:windows yet)',
    backends: {
      mock: 'library-side: no backend call; checked by test/unit/identity-attack.test.ts ("case rule")',
      double: 'library-side: no backend call; checked by test/unit/identity-attack.test.ts ("case rule")',
      wine: 'library-side: no backend call',
    },
  },
];

/** Renders docs/windows-facts.md from FACTS. */
export function renderFactsDoc(facts: readonly Fact[] = FACTS): string {
  const esc = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const source = (s: Source) =>
    `${s.kind}: ${/^https?:/.test(s.ref) ? `<${s.ref}>` : `\`${s.ref}\``}${s.lines ? ` (${s.lines})` : ''}${s.quote ? ` — “${s.quote}”` : ''}`;
  const lines: string[] = [
    '# Windows facts',
    '',
    '<!-- Generated from test/conformance/facts.ts by test/conformance/facts-doc.test.ts',
    '     (WTS_WRITE_FACTS=1 npx jest test/conformance/facts-doc.test.ts). Do not edit by hand. -->',
    '',
    'Every Windows behaviour wts-session or its tests depend on, with its source. `sourced` rows cite Microsoft Learn,',
    "a line of Wine's conformance tests (dlls/wtsapi32/tests/wtsapi.c, which Wine's test bot runs on real Windows),",
    'or a library observed against Windows (Cassia, oshi, pywin32, Veyon). `assumed` rows name the live capture that settles them.',
    '',
    'test/conformance/conformance.test.ts runs each row against each backend that claims it:',
    '',
    ...BACKENDS.map((b) => `- \`${b}\`: ${BACKEND_LABELS[b]}`),
    '',
    '## Summary',
    '',
    '| id | status | ' + BACKENDS.join(' | ') + ' |',
    '| --- | --- | ' + BACKENDS.map(() => '---').join(' | ') + ' |',
    ...facts.map((f) => `| [${f.id}](#${f.id}) | ${f.status} | ${BACKENDS.map((b) => (f.backends[b] === true ? 'runs' : 'known difference')).join(' | ')} |`),
    '',
    `Assumed rows: ${facts.filter((f) => f.status === 'assumed').map((f) => `\`${f.id}\``).join(', ')}.`,
    '',
  ];
  for (const f of facts) {
    lines.push(`## ${f.id}`, '');
    lines.push(`- **Call:** ${esc(f.call)}`);
    lines.push(`- **Windows:** ${esc(f.expected)}`);
    lines.push(`- **wts-session:** ${esc(f.library)}`);
    lines.push(`- **Status:** ${f.status}${f.capture ? ` — settle by capture: ${esc(f.capture)}` : ''}`);
    lines.push(`- **Sources:**${f.sources.length === 0 ? ' none found' : ''}`);
    for (const s of f.sources) lines.push(`  - ${esc(source(s))}`);
    lines.push('- **Backends:**');
    for (const b of BACKENDS) {
      const v = f.backends[b];
      lines.push(`  - \`${b}\`: ${v === true ? 'runs' : `known difference — ${esc(v)}`}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
