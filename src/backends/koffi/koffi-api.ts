/**
 * The real backend: wtsapi32 through koffi. Win32 semantics in, Win32 semantics out.
 *
 * - Every call that can block (anything on a server handle) runs on koffi's worker threads
 *   (`.async`), so the event loop keeps turning while a server is slow or an RPC call times out.
 * - GetLastError is read at once after a failing call: for async calls, inside the completion
 *   callback, where koffi has restored the worker thread's last error.
 * - Every WTS buffer is freed with the function that matches it (WTSFreeMemoryExW for level-1
 *   arrays, WTSFreeMemory otherwise), on every path. Never koffi.free.
 */
import { networkInterfaces } from 'node:os';
import { Win32Error, win32Message } from '../../errors';
import {
  fileTimeToDate,
  Win32,
  WTS_CURRENT_SERVER_HANDLE,
  WtsInfoClassId,
  type ServerHandle,
  type WtsApi,
  type WtsClientAddress,
  type WtsInfoClass,
  type WtsInfoClassValues,
  type WtsMessage,
  type WtsProcessInfo,
  type WtsSessionInfo1,
} from '../../wtsapi';
import { asyncSlots, bindLibraries, win32Types, type LibraryPaths, type NativeFunction, type WtsFunctions } from './bindings';

export interface KoffiApiOptions {
  /** Path or name of wtsapi32. Default 'wtsapi32.dll'. */
  wtsapi32?: string;
  /** Path or name of the library with WTSGetActiveConsoleSessionId, GetLastError, ... Default 'kernel32.dll'. */
  kernel32?: string;
}

const WTSTypeSessionInfoLevel1 = 2;
/** Why WTSEnumerateSessionsExW may fail on a server that simply lacks it (see enumerateSessions). */
const LEVEL_ONE_MISSING: ReadonlySet<number> = new Set([
  0,
  Win32.ERROR_CALL_NOT_IMPLEMENTED, // 120
  Win32.ERROR_NOT_SUPPORTED, // 50
  1745, // RPC_S_PROCNUM_OUT_OF_RANGE (https://learn.microsoft.com/windows/win32/debug/system-error-codes--1700-3999-)
  1717, // RPC_S_UNKNOWN_IF (same page)
]);
const FORMAT_MESSAGE_FROM_SYSTEM = 0x1000;
const FORMAT_MESSAGE_IGNORE_INSERTS = 0x200;
const AF_INET = 2;
const AF_INET6 = 23;
const MAX_COMPUTERNAME_LENGTH = 15;
/**
 * COMPUTER_NAME_FORMAT values (sysinfoapi.h, an enum counted from 0: ComputerNameNetBIOS,
 * ComputerNameDnsHostname, ComputerNameDnsDomain, ComputerNameDnsFullyQualified,
 * ComputerNamePhysicalNetBIOS, ComputerNamePhysicalDnsHostname, ComputerNamePhysicalDnsDomain,
 * ComputerNamePhysicalDnsFullyQualified) —
 * https://learn.microsoft.com/windows/win32/api/sysinfoapi/ne-sysinfoapi-computer_name_format
 * The names the local machine answers to: the DNS host name and FQDN (on a cluster node, the
 * virtual server's), and the node's own (Physical) names.
 */
const LOCAL_NAME_FORMATS = {
  ComputerNameDnsHostname: 1,
  ComputerNameDnsFullyQualified: 3,
  ComputerNamePhysicalNetBIOS: 4,
  ComputerNamePhysicalDnsHostname: 5,
  ComputerNamePhysicalDnsFullyQualified: 7,
} as const;
/**
 * GetComputerNameExW's short-buffer failure: FALSE, GetLastError() ERROR_MORE_DATA (234), nSize
 * set to the size needed including the NUL (Learn, nf-sysinfoapi-getcomputernameexw; 234 per
 * https://learn.microsoft.com/windows/win32/debug/system-error-codes--0-499-).
 */
const ERROR_MORE_DATA = 234;
/** A first buffer that holds most DNS names (a DNS name is at most 255 characters). */
const COMPUTER_NAME_EX_BUFFER = 64;

type Pointer = bigint | null;

/** A native call's result and, when it failed, the last error read right after it. */
interface Outcome<R> {
  readonly value: R;
  readonly lastError: number;
}

export class KoffiApi implements WtsApi {
  readonly name = 'koffi';
  readonly #fn: WtsFunctions;
  readonly #types = win32Types();
  readonly #slots = asyncSlots();
  /** WTS_SESSION_INFO_1W's size and field offsets, from the declared struct. */
  readonly #layout = levelOneLayout();
  /** Whether this wtsapi32 has WTSEnumerateSessionsExW and WTSFreeMemoryExW at all. */
  readonly #levelOneEnumeration: boolean;
  /**
   * Servers (by handle) whose WTSEnumerateSessionsExW proved unsupported: each falls back to
   * WTSEnumerateSessionsW on its own — one older server does not switch every server to level 0.
   */
  readonly #levelZeroServers = new Set<bigint>();
  readonly #messages = new Map<number, string>();
  /** Server names by open handle, for error messages. */
  readonly #names = new Map<bigint, string>();

  constructor(paths: LibraryPaths) {
    this.#fn = bindLibraries(paths);
    this.#levelOneEnumeration = this.#fn.WTSEnumerateSessionsExW !== undefined && this.#fn.WTSFreeMemoryExW !== undefined;
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Runs `fn` on a worker thread; reads GetLastError in the callback when `failed(value)`. */
  async #async<R>(fn: NativeFunction, args: unknown[], failed: (value: R) => boolean): Promise<Outcome<R>> {
    await this.#slots.acquire();
    try {
      return await new Promise<Outcome<R>>((resolve, reject) => {
        fn.async(...args, (err: unknown, value: R) => {
          if (err) {
            reject(err);
            return;
          }
          // Nothing may run between the call and this read: koffi set the thread's last error
          // to the worker's just before invoking this callback.
          const lastError = failed(value) ? (this.#fn.GetLastError() as number) : 0;
          resolve({ value, lastError });
        });
      });
    } finally {
      this.#slots.release();
    }
  }

  #sync<R>(fn: NativeFunction, args: unknown[], failed: (value: R) => boolean): Outcome<R> {
    const value = fn(...args) as R;
    const lastError = failed(value) ? (this.#fn.GetLastError() as number) : 0;
    return { value, lastError };
  }

  /** A failed call's error; `server` is the handle it used, or the name it was to open. */
  #error(api: string, code: number, server: ServerHandle | string, sessionId?: number): Win32Error {
    const name = typeof server === 'string' ? server : this.#names.get(server);
    return new Win32Error({
      win32Code: code,
      api,
      systemMessage: this.systemMessage(code),
      ...(name === undefined ? {} : { server: name }),
      ...(sessionId === undefined ? {} : { sessionId }),
    });
  }

  /** The system's text for a Win32 code: FormatMessageW where there is one, else the built-in table. */
  systemMessage(code: number): string {
    const cached = this.#messages.get(code);
    if (cached !== undefined) return cached;
    let text = '';
    const format = this.#fn.FormatMessageW;
    // Code 0 is "success" to FormatMessage; a call that failed with it needs our own words.
    if (format && code !== 0) {
      const buffer = Buffer.alloc(1024);
      const chars = format(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, null, code >>> 0, 0, buffer, 512, null) as number;
      if (chars > 0) text = buffer.toString('utf16le', 0, chars * 2).trim();
    }
    if (!text) text = win32Message(code);
    this.#messages.set(code, text);
    return text;
  }

  #handle(server: ServerHandle): Pointer {
    return server === WTS_CURRENT_SERVER_HANDLE ? null : server;
  }

  // ---- WtsApi -------------------------------------------------------------------------------

  async openServer(serverName: string): Promise<ServerHandle> {
    const [fn, api] = this.#fn.WTSOpenServerExW ? [this.#fn.WTSOpenServerExW, 'WTSOpenServerExW'] : [this.#fn.WTSOpenServerW, 'WTSOpenServerW'];
    const { value, lastError } = await this.#async<Pointer>(fn, [serverName], (h) => !h);
    if (!value) throw this.#error(api, lastError || Win32.ERROR_INVALID_PARAMETER, serverName);
    const handle = BigInt(value) as ServerHandle;
    this.#names.set(handle, serverName);
    return handle;
  }

  async closeServer(server: ServerHandle): Promise<void> {
    if (server === WTS_CURRENT_SERVER_HANDLE) return;
    this.#names.delete(server);
    this.#levelZeroServers.delete(server);
    // (An enumeration still in flight on it cannot mark it again: #names no longer has it.)
    await this.#async<void>(this.#fn.WTSCloseServer, [server], () => false);
  }

  async enumerateSessions(server: ServerHandle): Promise<readonly WtsSessionInfo1[]> {
    if (this.#levelOneEnumeration && !this.#levelZeroServers.has(server)) {
      const ex = this.#fn.WTSEnumerateSessionsExW as NativeFunction;
      const level = [1];
      const out: Pointer[] = [null];
      const count = [0];
      const { value, lastError } = await this.#async<number>(ex, [this.#handle(server), level, 0, out, count], (ok) => !ok);
      if (value) return this.#decodeLevelOne(out[0] ?? null, count[0] ?? 0);
      // 120/50: not implemented by this server; 1745/1717: its RPC interface lacks the call (a
      // server older than Windows 7 / 2008 R2, Learn's minimum for WTSEnumerateSessionsExW — the
      // RPC codes are assumed, see docs/windows-facts.md). 0: failed without saying why, as a stub
      // does (Wine's). Level 0 then either works or reports the real error. Any other code (1722:
      // the server is down, 5: denied) is that server's failure, not a missing call.
      if (!LEVEL_ONE_MISSING.has(lastError)) throw this.#error('WTSEnumerateSessionsExW', lastError, server);
      // This server only, for as long as its handle lives: not a handle closed meanwhile, whose value
      // Windows may give the next server opened.
      if (lastError !== 0 && (server === WTS_CURRENT_SERVER_HANDLE || this.#names.has(server))) this.#levelZeroServers.add(server);
      return this.#enumerateLevelZero(server);
    }
    return this.#enumerateLevelZero(server);
  }

  /**
   * Reads the WTS_SESSION_INFO_1W array straight from memory (a view of it, at the offsets koffi
   * computed for the declared struct) and decodes each string with koffi's fast UTF-16 decoder:
   * several times faster than decoding the array of structs as objects. Then frees it.
   */
  #decodeLevelOne(array: Pointer, count: number): WtsSessionInfo1[] {
    if (!array) return [];
    try {
      const k = this.#types.koffi;
      const L = this.#layout;
      const view = new DataView(k.view(array, L.size * count));
      const pointer = L.pointerSize === 8 ? (at: number) => view.getBigUint64(at, true) : (at: number) => BigInt(view.getUint32(at, true));
      const text = (at: number): string => {
        const p = pointer(at);
        return p === 0n ? '' : (k.decode.string16(p) ?? '');
      };
      const sessions = new Array<WtsSessionInfo1>(count);
      for (let i = 0, base = 0; i < count; i++, base += L.size) {
        sessions[i] = {
          execEnvId: view.getUint32(base + L.ExecEnvId, true),
          state: view.getInt32(base + L.State, true),
          sessionId: view.getUint32(base + L.SessionId, true),
          sessionName: text(base + L.pSessionName),
          hostName: text(base + L.pHostName),
          userName: text(base + L.pUserName),
          domainName: text(base + L.pDomainName),
          farmName: text(base + L.pFarmName),
        };
      }
      return sessions;
    } finally {
      (this.#fn.WTSFreeMemoryExW as NativeFunction)(WTSTypeSessionInfoLevel1, array, count);
    }
  }

  /** WTSEnumerateSessionsW (ID, WinStation, state), then the user and domain per session. */
  async #enumerateLevelZero(server: ServerHandle): Promise<WtsSessionInfo1[]> {
    const out: Pointer[] = [null];
    const count = [0];
    const { value, lastError } = await this.#async<number>(
      this.#fn.WTSEnumerateSessionsW,
      [this.#handle(server), 0, 1, out, count],
      (ok) => !ok,
    );
    if (!value) throw this.#error('WTSEnumerateSessionsW', lastError, server);
    let basics: Array<{ SessionId: number; pWinStationName: string | null; State: number }> = [];
    const array = out[0] ?? null;
    if (array) {
      try {
        basics = this.#types.koffi.decode(array, this.#types.WTS_SESSION_INFOW, count[0] ?? 0) as typeof basics;
      } finally {
        this.#fn.WTSFreeMemory(array);
      }
    }
    const optionalText = async (id: number, cls: 'WTSUserName' | 'WTSDomainName') => {
      try {
        return await this.querySessionInformation(server, id, cls);
      } catch (error) {
        if ((error as Win32Error).win32Code === Win32.ERROR_CTX_WINSTATION_NOT_FOUND) return ''; // ended meanwhile
        throw error;
      }
    };
    return Promise.all(
      basics.map(async (b) => ({
        execEnvId: b.SessionId,
        state: b.State,
        sessionId: b.SessionId,
        sessionName: b.pWinStationName ?? '',
        hostName: '',
        userName: await optionalText(b.SessionId, 'WTSUserName'),
        domainName: await optionalText(b.SessionId, 'WTSDomainName'),
        farmName: '',
      })),
    );
  }

  async enumerateProcesses(server: ServerHandle): Promise<readonly WtsProcessInfo[]> {
    const out: Pointer[] = [null];
    const count = [0];
    const { value, lastError } = await this.#async<number>(
      this.#fn.WTSEnumerateProcessesW,
      [this.#handle(server), 0, 1, out, count],
      (ok) => !ok,
    );
    if (!value) throw this.#error('WTSEnumerateProcessesW', lastError, server);
    const array = out[0] ?? null;
    if (!array) return [];
    try {
      const raw = this.#types.koffi.decode(array, this.#types.WTS_PROCESS_INFOW, count[0] ?? 0) as Array<{
        SessionId: number;
        ProcessId: number;
        pProcessName: string | null;
      }>;
      return raw.map((r) => ({ sessionId: r.SessionId, processId: r.ProcessId, processName: r.pProcessName ?? '' }));
    } finally {
      this.#fn.WTSFreeMemory(array);
    }
  }

  async querySessionInformation<C extends WtsInfoClass>(
    server: ServerHandle,
    sessionId: number,
    infoClass: C,
  ): Promise<WtsInfoClassValues[C]> {
    const out: Pointer[] = [null];
    const bytes = [0];
    const { value, lastError } = await this.#async<number>(
      this.#fn.WTSQuerySessionInformationW,
      [this.#handle(server), sessionId >>> 0, WtsInfoClassId[infoClass], out, bytes],
      (ok) => !ok,
    );
    if (!value) throw this.#error('WTSQuerySessionInformationW', lastError, server, sessionId);
    const buffer = out[0] ?? null;
    if (!buffer) throw this.#error('WTSQuerySessionInformationW', Win32.ERROR_INVALID_PARAMETER, server, sessionId);
    try {
      return this.#decodeInfo(infoClass, buffer, bytes[0] ?? 0) as WtsInfoClassValues[C];
    } finally {
      this.#fn.WTSFreeMemory(buffer);
    }
  }

  #decodeInfo(infoClass: WtsInfoClass, buffer: bigint, bytes: number): WtsInfoClassValues[WtsInfoClass] {
    const k = this.#types.koffi;
    switch (infoClass) {
      case 'WTSUserName':
      case 'WTSWinStationName':
      case 'WTSDomainName':
      case 'WTSClientName':
        return bytes >= 2 ? (k.decode.string16(buffer) ?? '') : '';
      case 'WTSConnectState':
      case 'WTSSessionId':
        return k.decode.uint32(buffer) as number;
      case 'WTSClientProtocolType':
        // A USHORT: 2 bytes (Learn's WTS_INFO_CLASS; Wine's tests: count == sizeof(USHORT)).
        return k.decode.uint16(buffer) as number;
      case 'WTSClientAddress': {
        const raw = k.decode(buffer, this.#types.WTS_CLIENT_ADDRESS) as { AddressFamily: number; Address: number[] };
        return clientAddress(raw.AddressFamily, raw.Address);
      }
      case 'WTSIsRemoteSession':
        return k.decode.uint8(buffer) !== 0;
      case 'WTSSessionInfo': {
        const r = k.decode(buffer, this.#types.WTSINFOW) as Record<string, number | bigint | string>;
        const n = (key: string) => Number(r[key]);
        const text = (key: string) => String(r[key] ?? '').replace(/\0.*$/s, '');
        const time = (key: string) => fileTimeToDate(r[key] as number | bigint);
        return {
          state: n('State'),
          sessionId: n('SessionId'),
          incomingBytes: n('IncomingBytes'),
          outgoingBytes: n('OutgoingBytes'),
          incomingFrames: n('IncomingFrames'),
          outgoingFrames: n('OutgoingFrames'),
          incomingCompressedBytes: n('IncomingCompressedBytes'),
          outgoingCompressedBytes: n('OutgoingCompressedBytes'),
          winStationName: text('WinStationName'),
          domain: text('Domain'),
          userName: text('UserName'),
          connectTime: time('ConnectTime'),
          disconnectTime: time('DisconnectTime'),
          lastInputTime: time('LastInputTime'),
          logonTime: time('LogonTime'),
          currentTime: time('CurrentTime'),
        };
      }
    }
  }

  async logoffSession(server: ServerHandle, sessionId: number): Promise<void> {
    // bWait = FALSE always: with TRUE the call can block forever; the api layer polls instead.
    const { value, lastError } = await this.#async<number>(this.#fn.WTSLogoffSession, [this.#handle(server), sessionId >>> 0, 0], (ok) => !ok);
    if (!value) throw this.#error('WTSLogoffSession', lastError, server, sessionId);
  }

  async disconnectSession(server: ServerHandle, sessionId: number): Promise<void> {
    const { value, lastError } = await this.#async<number>(this.#fn.WTSDisconnectSession, [this.#handle(server), sessionId >>> 0, 0], (ok) => !ok);
    if (!value) throw this.#error('WTSDisconnectSession', lastError, server, sessionId);
  }

  async sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage): Promise<number> {
    const response = [0];
    // TitleLength and MessageLength are in bytes: a JS string's length counts UTF-16 units.
    const { value, lastError } = await this.#async<number>(
      this.#fn.WTSSendMessageW,
      [
        this.#handle(server),
        sessionId >>> 0,
        message.title,
        message.title.length * 2,
        message.text,
        message.text.length * 2,
        message.style >>> 0,
        message.timeoutSeconds >>> 0,
        response,
        message.wait ? 1 : 0,
      ],
      (ok) => !ok,
    );
    if (!value) throw this.#error('WTSSendMessageW', lastError, server, sessionId);
    return response[0] ?? 0;
  }

  getActiveConsoleSessionId(): number {
    return (this.#fn.WTSGetActiveConsoleSessionId() as number) >>> 0;
  }

  getCurrentSessionId(): number {
    const out = [0];
    const { value, lastError } = this.#sync<number>(this.#fn.ProcessIdToSessionId, [process.pid, out], (ok) => !ok);
    if (!value) throw this.#error('ProcessIdToSessionId', lastError, WTS_CURRENT_SERVER_HANDLE);
    return (out[0] ?? 0) >>> 0;
  }

  getComputerName(): string {
    const size = [MAX_COMPUTERNAME_LENGTH + 1];
    const buffer = Buffer.alloc((MAX_COMPUTERNAME_LENGTH + 1) * 2);
    const { value, lastError } = this.#sync<number>(this.#fn.GetComputerNameW, [buffer, size], (ok) => !ok);
    if (!value) throw this.#error('GetComputerNameW', lastError, WTS_CURRENT_SERVER_HANDLE);
    return buffer.toString('utf16le', 0, (size[0] ?? 0) * 2);
  }

  /**
   * The DNS host name and FQDN (GetComputerNameExW), the physical node's names, and every
   * address of the machine's network interfaces (node:os networkInterfaces). Asked afresh on each
   * call: addresses come and go (VPN, DHCP).
   */
  getLocalServerNames(): readonly string[] {
    const names = new Set<string>();
    for (const format of Object.values(LOCAL_NAME_FORMATS)) {
      const name = this.#computerNameEx(format);
      if (name) names.add(name);
    }
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) names.add(a.address);
    }
    return [...names];
  }

  /**
   * GetComputerNameExW(format): a first buffer, and on ERROR_MORE_DATA one of the size the call
   * asked for. '' when the library lacks the function (the other names still count).
   */
  #computerNameEx(format: number): string {
    const fn = this.#fn.GetComputerNameExW;
    if (!fn) return '';
    let capacity = COMPUTER_NAME_EX_BUFFER;
    // The size needed can grow between two calls (a rename); three tries are plenty.
    for (let attempt = 0; ; attempt++) {
      const size = [capacity];
      const buffer = Buffer.alloc(capacity * 2);
      const { value, lastError } = this.#sync<number>(fn, [format, buffer, size], (ok) => !ok);
      if (value) return buffer.toString('utf16le', 0, Math.min(size[0] ?? 0, capacity) * 2);
      const needed = size[0] ?? 0;
      if (lastError !== ERROR_MORE_DATA || needed <= capacity || attempt === 2) {
        throw this.#error('GetComputerNameExW', lastError, WTS_CURRENT_SERVER_HANDLE);
      }
      capacity = needed;
    }
  }
}

const LEVEL_ONE_FIELDS = ['ExecEnvId', 'State', 'SessionId', 'pSessionName', 'pHostName', 'pUserName', 'pDomainName', 'pFarmName'] as const;

function levelOneLayout(): Record<(typeof LEVEL_ONE_FIELDS)[number] | 'size' | 'pointerSize', number> {
  const { koffi: k, WTS_SESSION_INFO_1W } = win32Types();
  const layout = { size: k.sizeof(WTS_SESSION_INFO_1W), pointerSize: k.sizeof('void *') } as Record<string, number>;
  for (const field of LEVEL_ONE_FIELDS) layout[field] = k.offsetof(WTS_SESSION_INFO_1W, field);
  return layout as ReturnType<typeof levelOneLayout>;
}

/** WTS_CLIENT_ADDRESS: IPv4 bytes start at offset 2 of Address; IPv6 bytes at offset 0. */
export function clientAddress(family: number, address: readonly number[]): WtsClientAddress {
  if (family === AF_INET) return { family, address: address.slice(2, 6).join('.') };
  if (family === AF_INET6) {
    // Sources disagree on where the 16 bytes sit: Learn's WTS_CLIENT_ADDRESS example puts them at
    // Address[0..15]; Cassia, oshi and Veyon read Address[2..17] (extending the IPv4 "offset by two
    // bytes" note; none cites a capture). Learn is followed, except when bytes 16-17 are non-zero,
    // which only the [2..17] layout can produce. `npm run capture:windows` records the raw bytes to
    // settle it (docs/windows-facts.md, docs/decisions.md).
    const start = ipv6Start(address);
    const groups: string[] = [];
    for (let i = start; i < start + 16; i += 2) groups.push((((address[i] ?? 0) << 8) | (address[i + 1] ?? 0)).toString(16));
    return { family, address: compressIPv6(groups) };
  }
  return { family, address: '' };
}

/**
 * Where the 16 bytes of an IPv6 WTS_CLIENT_ADDRESS start (see clientAddress): bytes 0-1 non-zero
 * can only be [0..15]; after two zero bytes, a non-zero group at bytes 2-3 (a client address whose
 * first group is 0 under [0..15] would be in 0::/16 — loopback, IPv4-mapped — where a second group is
 * 0 too) or at bytes 16-17 can only be [2..17]; all four zero: Learn's [0..15].
 */
export function ipv6Start(address: readonly number[]): 0 | 2 {
  const b = (i: number) => address[i] ?? 0;
  if (b(0) !== 0 || b(1) !== 0) return 0;
  if (b(2) !== 0 || b(3) !== 0 || b(16) !== 0 || b(17) !== 0) return 2;
  return 0;
}

/** RFC 5952 text: the longest run of two or more zero groups becomes '::'. */
function compressIPv6(groups: string[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

/** The koffi backend over the given libraries (Windows: the system's wtsapi32 and kernel32). */
export function createKoffiApi(options: KoffiApiOptions = {}): KoffiApi {
  return new KoffiApi({ wtsapi32: options.wtsapi32 ?? 'wtsapi32.dll', kernel32: options.kernel32 ?? 'kernel32.dll' });
}
