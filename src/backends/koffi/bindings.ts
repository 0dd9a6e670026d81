/**
 * The one module that loads koffi, lazily, and declares the Win32 types and prototypes — once per
 * process for the types, once per library pair for the functions. Each declaration names the
 * Microsoft Learn page it follows.
 */
import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import { DOCS_URL, UnsupportedPlatformError } from '../../errors';

type Koffi = typeof KoffiModule;
/** A declared native function: sync call, plus `.async(...args, callback)` on a worker thread. */
export type NativeFunction = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

let koffi: Koffi | undefined;

/**
 * koffi throws when more async calls are queued than its max_async_calls (256 by default), and
 * every queued call holds its own stack and heap. Calls beyond this many wait in JS instead.
 */
export class AsyncSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

let slots: AsyncSlots | undefined;

/** The process-wide limit on koffi async calls in flight (koffi's queue is process-wide too). */
export function asyncSlots(): AsyncSlots {
  slots ??= new AsyncSlots(Math.max(8, Math.floor((loadKoffi().config().max_async_calls ?? 256) * 0.75)));
  return slots;
}

/** Loads koffi on first use. Importing wts-session never loads it. */
export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  if (!__filename) {
    // The ES module build, bundled into CommonJS: import.meta.url (where this file is) was lost.
    throw new UnsupportedPlatformError(
      process.platform,
      "koffi could not be loaded: wts-session's ES module build was bundled into CommonJS, which leaves it " +
        'without import.meta.url, so it cannot tell where to require koffi from. Bundle to an ES module ' +
        `(format esm), keep wts-session external, or bundle its CommonJS build: see ${DOCS_URL}bundling.md.`,
    );
  }
  try {
    koffi = createRequire(__filename)('koffi') as Koffi;
  } catch (error) {
    throw koffiLoadError(error, __filename);
  }
  return koffi;
}

/**
 * Why koffi could not be loaded, as an error that says what to do. The require is hidden from
 * bundlers on purpose (koffi must stay a real package beside the bundle), so "not found" is the
 * usual failure of a bundled tool; a koffi that is there but lacks its platform binary is another.
 *
 * @param error - what `require('koffi')` threw.
 * @param from - the file koffi was required from (its node_modules are where Node looked).
 */
export function koffiLoadError(error: unknown, from: string, platform: string = process.platform, arch: string = process.arch): UnsupportedPlatformError {
  const e = error as { code?: unknown; message?: unknown } | null;
  const text = (typeof e?.message === 'string' ? e.message : String(error)).split('\n')[0]!.trim();
  const binary = `@koromix/koffi-${platform}-${arch}`;
  let message: string;
  if (e?.code === 'MODULE_NOT_FOUND' && /^Cannot find module 'koffi'/.test(text)) {
    message =
      `koffi could not be loaded (${text} from ${from}). wts-session needs the koffi package installed next ` +
      'to it (npm installs it with wts-session, as its dependency); if you bundle your tool, keep koffi external ' +
      `and ship its node_modules folder with the bundle: see ${DOCS_URL}bundling.md.`;
  } else if (/Cannot find the native Koffi module/i.test(text) || /^Cannot find module '[^']*@koromix[\\/]koffi-/.test(text)) {
    // Koffi's own words for a missing binary package, or Node's when the package folder is there
    // but empty or cut short (a partial copy of node_modules).
    message =
      `koffi is installed, but its native binary for ${platform}-${arch} is missing (${text}). The binary ships ` +
      `in the package ${binary}, an optional dependency of koffi: install on (or for) ${platform}-${arch}, ` +
      `without --omit=optional or --no-optional, and when you bundle or package your tool, ship ` +
      `node_modules/${binary} next to node_modules/koffi: see ${DOCS_URL}bundling.md.`;
  } else if (/Mismatched native Koffi modules/i.test(text)) {
    message =
      `koffi is installed, but its native binary (${binary}) is of another version than koffi itself (${text}). ` +
      'Reinstall them together (delete node_modules and install again), and ship both from the same install.';
  } else {
    message = `koffi could not be loaded (${text}). wts-session calls wtsapi32 through koffi; see ${DOCS_URL}bundling.md for how it must be installed and shipped.`;
  }
  return new UnsupportedPlatformError(platform, message, { cause: error });
}

/** Win32 types, declared once per process (koffi type names are global). */
export interface Win32Types {
  readonly koffi: Koffi;
  /** WTS_SESSION_INFO_1W — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_session_info_1w */
  readonly WTS_SESSION_INFO_1W: KoffiModule.TypeObject;
  /** WTS_SESSION_INFOW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_session_infow */
  readonly WTS_SESSION_INFOW: KoffiModule.TypeObject;
  /** WTS_CLIENT_ADDRESS — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_client_address */
  readonly WTS_CLIENT_ADDRESS: KoffiModule.TypeObject;
  /** WTSINFOW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfow */
  readonly WTSINFOW: KoffiModule.TypeObject;
  /** WTS_PROCESS_INFOW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_process_infow */
  readonly WTS_PROCESS_INFOW: KoffiModule.TypeObject;
  /** WTSCLIENTW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsclientw */
  readonly WTSCLIENTW: KoffiModule.TypeObject;
  /** WTSINFOEX_LEVEL1_W — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfoex_level1_w */
  readonly WTSINFOEX_LEVEL1_W: KoffiModule.TypeObject;
  /**
   * WTSINFOEXW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wtsinfoexw: Level,
   * then the WTSINFOEX_LEVEL_W union (ns-wtsapi32-wtsinfoex_level_w), whose one member is
   * WTSINFOEX_LEVEL1_W.
   */
  readonly WTSINFOEXW: KoffiModule.TypeObject;
  /** SERVER_INFO_101 — https://learn.microsoft.com/windows/win32/api/lmserver/ns-lmserver-server_info_101 */
  readonly SERVER_INFO_101: KoffiModule.TypeObject;
  /** WTS_PROCESS_INFO_EXW — https://learn.microsoft.com/windows/win32/api/wtsapi32/ns-wtsapi32-wts_process_info_exw */
  readonly WTS_PROCESS_INFO_EXW: KoffiModule.TypeObject;
}

let types: Win32Types | undefined;

/*
 * Every type is anonymous: koffi's type names are process-global, and a second copy of this
 * package (ESM beside CJS) or the user's own koffi code must not collide with ours.
 */
const DWORD = 'uint32_t';
const BOOL = 'int';
const LPCWSTR = 'const char16_t *';
const ENUM = 'int'; // WTS_CONNECTSTATE_CLASS, WTS_INFO_CLASS, WTS_TYPE_CLASS, COMPUTER_NAME_FORMAT

export function win32Types(): Win32Types {
  if (types) return types;
  const k = loadKoffi();
  const WTS_SESSION_INFO_1W = k.struct({
    ExecEnvId: DWORD,
    State: ENUM,
    SessionId: DWORD,
    pSessionName: LPCWSTR,
    pHostName: LPCWSTR,
    pUserName: LPCWSTR,
    pDomainName: LPCWSTR,
    pFarmName: LPCWSTR,
  });
  const WTS_SESSION_INFOW = k.struct({
    SessionId: DWORD,
    pWinStationName: LPCWSTR,
    State: ENUM,
  });
  const WTS_CLIENT_ADDRESS = k.struct({
    AddressFamily: DWORD,
    Address: k.array('uint8_t', 20, 'Array'),
  });
  const WTSINFOW = k.struct({
    State: ENUM,
    SessionId: DWORD,
    IncomingBytes: DWORD,
    OutgoingBytes: DWORD,
    IncomingFrames: DWORD,
    OutgoingFrames: DWORD,
    IncomingCompressedBytes: DWORD,
    OutgoingCompressedBytes: DWORD,
    WinStationName: k.array('char16_t', 32, 'String'), // WINSTATIONNAME_LENGTH
    Domain: k.array('char16_t', 17, 'String'), // DOMAIN_LENGTH
    UserName: k.array('char16_t', 21, 'String'), // USERNAME_LENGTH + 1
    // LARGE_INTEGER: a union of one 64-bit integer, so the same size and alignment as int64.
    ConnectTime: 'int64_t',
    DisconnectTime: 'int64_t',
    LastInputTime: 'int64_t',
    LogonTime: 'int64_t',
    CurrentTime: 'int64_t',
  });
  const WTS_PROCESS_INFOW = k.struct({
    SessionId: DWORD,
    ProcessId: DWORD,
    pProcessName: LPCWSTR,
    pUserSid: 'void *', // PSID: read from memory (src/sid.ts)
  });
  // LARGE_INTEGER: as in WTSINFOW. Both fall on 8-byte boundaries (40 on x86, 48 on x64): no padding.
  const WTS_PROCESS_INFO_EXW = k.struct({
    SessionId: DWORD,
    ProcessId: DWORD,
    pProcessName: LPCWSTR,
    pUserSid: 'void *',
    NumberOfThreads: DWORD,
    HandleCount: DWORD,
    PagefileUsage: DWORD,
    PeakPagefileUsage: DWORD,
    WorkingSetSize: DWORD,
    PeakWorkingSetSize: DWORD,
    UserTime: 'int64_t',
    KernelTime: 'int64_t',
  });
  // CLIENTNAME_LENGTH 20, DOMAIN_LENGTH 17, USERNAME_LENGTH 20, MAX_PATH 260, CLIENTADDRESS_LENGTH 30
  // (wtsapi32.h); ULONG is 32 bits on Windows.
  const path = () => k.array('char16_t', 261, 'Array');
  const WTSCLIENTW = k.struct({
    ClientName: k.array('char16_t', 21, 'Array'),
    Domain: k.array('char16_t', 18, 'Array'),
    UserName: k.array('char16_t', 21, 'Array'),
    WorkDirectory: path(),
    InitialProgram: path(),
    EncryptionLevel: 'uint8_t',
    ClientAddressFamily: 'uint32_t',
    ClientAddress: k.array('uint16_t', 31, 'Array'),
    HRes: 'uint16_t',
    VRes: 'uint16_t',
    ColorDepth: 'uint16_t',
    ClientDirectory: path(),
    ClientBuildNumber: 'uint32_t',
    ClientHardwareId: 'uint32_t',
    ClientProductId: 'uint16_t',
    OutBufCountHost: 'uint16_t',
    OutBufCountClient: 'uint16_t',
    OutBufLength: 'uint16_t',
    DeviceId: path(),
  });
  // WINSTATIONNAME_LENGTH 32, USERNAME_LENGTH 20, DOMAIN_LENGTH 17 (wtsapi32.h), each + 1 here
  // (Learn's syntax); LARGE_INTEGER as int64 (see WTSINFOW); LONG and ULONG are 32 bits on Windows.
  const WTSINFOEX_LEVEL1_W = k.struct({
    SessionId: DWORD, // ULONG
    SessionState: ENUM,
    SessionFlags: 'int32_t', // LONG
    WinStationName: k.array('char16_t', 33, 'Array'),
    UserName: k.array('char16_t', 21, 'Array'),
    DomainName: k.array('char16_t', 18, 'Array'),
    LogonTime: 'int64_t',
    ConnectTime: 'int64_t',
    DisconnectTime: 'int64_t',
    LastInputTime: 'int64_t',
    CurrentTime: 'int64_t',
    IncomingBytes: DWORD,
    OutgoingBytes: DWORD,
    IncomingFrames: DWORD,
    OutgoingFrames: DWORD,
    IncomingCompressedBytes: DWORD,
    OutgoingCompressedBytes: DWORD,
  });
  const WTSINFOEXW = k.struct({
    Level: DWORD,
    Data: k.union({ WTSInfoExLevel1: WTSINFOEX_LEVEL1_W }), // WTSINFOEX_LEVEL_W
  });
  const SERVER_INFO_101 = k.struct({
    sv101_platform_id: DWORD,
    sv101_name: 'void *', // LMSTR: not read
    sv101_version_major: DWORD,
    sv101_version_minor: DWORD,
    sv101_type: DWORD,
    sv101_comment: 'void *', // LMSTR: not read
  });
  types = {
    koffi: k,
    WTS_SESSION_INFO_1W,
    WTS_SESSION_INFOW,
    WTS_CLIENT_ADDRESS,
    WTSINFOW,
    WTS_PROCESS_INFOW,
    WTSCLIENTW,
    WTSINFOEX_LEVEL1_W,
    WTSINFOEXW,
    SERVER_INFO_101,
    WTS_PROCESS_INFO_EXW,
  };
  return types;
}

/** The functions the backend calls. Optional ones are undefined when the library lacks them. */
export interface WtsFunctions {
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsopenserverexw (Windows 7+) */
  readonly WTSOpenServerExW: NativeFunction | undefined;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsopenserverw */
  readonly WTSOpenServerW: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtscloseserver */
  readonly WTSCloseServer: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsenumeratesessionsexw (Windows 7+) */
  readonly WTSEnumerateSessionsExW: NativeFunction | undefined;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsenumeratesessionsw */
  readonly WTSEnumerateSessionsW: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsenumerateprocessesw */
  readonly WTSEnumerateProcessesW: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsfreememoryexw */
  readonly WTSFreeMemoryExW: NativeFunction | undefined;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsfreememory */
  readonly WTSFreeMemory: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsquerysessioninformationw */
  readonly WTSQuerySessionInformationW: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtslogoffsession */
  readonly WTSLogoffSession: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtsdisconnectsession */
  readonly WTSDisconnectSession: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/wtsapi32/nf-wtsapi32-wtssendmessagew */
  readonly WTSSendMessageW: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-wtsgetactiveconsolesessionid */
  readonly WTSGetActiveConsoleSessionId: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/processthreadsapi/nf-processthreadsapi-processidtosessionid */
  readonly ProcessIdToSessionId: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-getcomputernamew */
  readonly GetComputerNameW: NativeFunction;
  /**
   * GetComputerNameExW (sysinfoapi.h, kernel32) —
   * https://learn.microsoft.com/windows/win32/api/sysinfoapi/nf-sysinfoapi-getcomputernameexw
   * (NameType, lpBuffer, nSize). Undefined in a library without it (an older build of the double).
   */
  readonly GetComputerNameExW: NativeFunction | undefined;
  /** https://learn.microsoft.com/windows/win32/api/errhandlingapi/nf-errhandlingapi-getlasterror */
  readonly GetLastError: NativeFunction;
  /** https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-formatmessagew (absent from the Linux double) */
  readonly FormatMessageW: NativeFunction | undefined;
}

export interface LibraryPaths {
  /** The wtsapi32 library: 'wtsapi32.dll' on Windows, or a test double. */
  readonly wtsapi32: string;
  /** The library with the kernel32 calls: 'kernel32.dll' on Windows, or a test double. */
  readonly kernel32: string;
  /**
   * The library with the advapi32 calls (LookupAccountSidW): 'advapi32.dll' on Windows, or a test
   * double. Loaded on first use only: a backend that never resolves an account never loads it.
   */
  readonly advapi32?: string | undefined;
  /**
   * The library with the netapi32 calls (NetServerGetInfo): 'netapi32.dll' on Windows, or a test
   * double. Loaded on first use only.
   */
  readonly netapi32?: string | undefined;
}

/** Which library of {@link LibraryPaths} a function is in. */
export type LibraryName = 'wtsapi32' | 'kernel32' | 'advapi32' | 'netapi32';

const bound = new Map<string, WtsFunctions>();

type TypeSpec = Parameters<Koffi['out']>[0];

function declare(lib: KoffiModule.LibraryHandle, name: string, result: TypeSpec, args: TypeSpec[]): NativeFunction {
  return lib.func('__stdcall', name, result, args) as unknown as NativeFunction;
}

function optional(lib: KoffiModule.LibraryHandle, name: string, result: TypeSpec, args: TypeSpec[]): NativeFunction | undefined {
  try {
    return declare(lib, name, result, args);
  } catch {
    return undefined; // the symbol is missing from this library
  }
}

/** Loads the libraries and declares the functions, once per pair of paths. */
export function bindLibraries(paths: LibraryPaths): WtsFunctions {
  const key = `${paths.wtsapi32}\u0000${paths.kernel32}`;
  const cached = bound.get(key);
  if (cached) return cached;
  const k = win32Types().koffi;
  let wts: KoffiModule.LibraryHandle;
  let kernel: KoffiModule.LibraryHandle;
  try {
    wts = k.load(paths.wtsapi32);
    kernel = paths.kernel32 === paths.wtsapi32 ? wts : k.load(paths.kernel32);
  } catch (error) {
    throw new UnsupportedPlatformError(
      process.platform,
      `Could not load ${paths.wtsapi32} / ${paths.kernel32}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const HANDLE = k.pointer(k.opaque());
  const OUT_PVOID = k.out(k.pointer('void', 2)); // _Out_ PVOID *
  const OUT_DWORD = k.out(k.pointer(DWORD)); // _Out_ DWORD *
  const INOUT_DWORD = k.inout(k.pointer(DWORD)); // _Inout_ DWORD *
  const fns: WtsFunctions = {
    WTSOpenServerExW: optional(wts, 'WTSOpenServerExW', HANDLE, [LPCWSTR]),
    WTSOpenServerW: declare(wts, 'WTSOpenServerW', HANDLE, [LPCWSTR]),
    WTSCloseServer: declare(wts, 'WTSCloseServer', 'void', [HANDLE]),
    WTSEnumerateSessionsExW: optional(wts, 'WTSEnumerateSessionsExW', BOOL, [HANDLE, INOUT_DWORD, DWORD, OUT_PVOID, OUT_DWORD]),
    WTSEnumerateSessionsW: declare(wts, 'WTSEnumerateSessionsW', BOOL, [HANDLE, DWORD, DWORD, OUT_PVOID, OUT_DWORD]),
    WTSEnumerateProcessesW: declare(wts, 'WTSEnumerateProcessesW', BOOL, [HANDLE, DWORD, DWORD, OUT_PVOID, OUT_DWORD]),
    WTSFreeMemoryExW: optional(wts, 'WTSFreeMemoryExW', BOOL, [ENUM, 'void *', 'uint32_t']),
    WTSFreeMemory: declare(wts, 'WTSFreeMemory', 'void', ['void *']),
    WTSQuerySessionInformationW: declare(wts, 'WTSQuerySessionInformationW', BOOL, [HANDLE, DWORD, ENUM, OUT_PVOID, OUT_DWORD]),
    WTSLogoffSession: declare(wts, 'WTSLogoffSession', BOOL, [HANDLE, DWORD, BOOL]),
    WTSDisconnectSession: declare(wts, 'WTSDisconnectSession', BOOL, [HANDLE, DWORD, BOOL]),
    // (hServer, SessionId, pTitle, TitleLength, pMessage, MessageLength, Style, Timeout, pResponse, bWait)
    WTSSendMessageW: declare(wts, 'WTSSendMessageW', BOOL, [HANDLE, DWORD, LPCWSTR, DWORD, LPCWSTR, DWORD, DWORD, DWORD, OUT_DWORD, BOOL]),
    WTSGetActiveConsoleSessionId: declare(kernel, 'WTSGetActiveConsoleSessionId', DWORD, []),
    ProcessIdToSessionId: declare(kernel, 'ProcessIdToSessionId', BOOL, [DWORD, OUT_DWORD]),
    GetComputerNameW: declare(kernel, 'GetComputerNameW', BOOL, ['void *', INOUT_DWORD]),
    // (COMPUTER_NAME_FORMAT NameType, LPWSTR lpBuffer, LPDWORD nSize)
    GetComputerNameExW: optional(kernel, 'GetComputerNameExW', BOOL, [ENUM, 'void *', INOUT_DWORD]),
    GetLastError: declare(kernel, 'GetLastError', DWORD, []),
    // (dwFlags, lpSource, dwMessageId, dwLanguageId, lpBuffer, nSize, Arguments)
    FormatMessageW: optional(kernel, 'FormatMessageW', DWORD, [DWORD, 'void *', DWORD, DWORD, 'void *', DWORD, 'void *']),
  };
  bound.set(key, fns);
  return fns;
}

/** The netapi32 calls made synchronously (freeing a buffer never blocks). */
export interface NetApiFunctions {
  /** https://learn.microsoft.com/windows/win32/api/lmapibuf/nf-lmapibuf-netapibufferfree: NET_API_STATUS NetApiBufferFree(LPVOID Buffer). */
  readonly NetApiBufferFree: NativeFunction;
}

const netapi = new Map<string, NetApiFunctions | undefined>();

/**
 * netapi32's synchronous functions from `path`, loaded on first use and once per path; undefined
 * when the library cannot be loaded or lacks them (off Windows, unless it is a test double).
 */
export function bindNetapi32(path: string): NetApiFunctions | undefined {
  if (netapi.has(path)) return netapi.get(path);
  let fns: NetApiFunctions | undefined;
  try {
    const lib = win32Types().koffi.load(path);
    fns = { NetApiBufferFree: declare(lib, 'NetApiBufferFree', 'uint32_t', ['void *']) };
  } catch {
    fns = undefined;
  }
  netapi.set(path, fns);
  return fns;
}
