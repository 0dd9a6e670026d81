/**
 * The real backend: wtsapi32 through koffi. Win32 semantics in, Win32 semantics out.
 *
 * - Every call that can block (anything on a server handle) runs on the library's own threads
 *   (lanes.ts: native threads of wts_lanes), never on libuv's shared pool, so the event loop and
 *   the user's fs/dns work keep moving while a server is slow or an RPC call times out. Where no
 *   wts_lanes build exists for the platform, the calls fall back to koffi's `.async` (libuv's
 *   pool), as in 0.1; `threads` says which.
 * - GetLastError is read at once after a failing call, on the thread that made it (by the lane
 *   itself; for `.async`, in the completion callback, where koffi has restored the last error).
 * - Every WTS buffer is freed with the function that matches it (WTSFreeMemoryExW for level-1
 *   arrays, WTSFreeMemory otherwise), on every path, also for a call whose caller gave up on it.
 *   Never koffi.free.
 */
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { DOCS_URL, InvalidArgumentError, OperationAbortedError, UnsupportedPlatformError, Win32Error, win32Message } from '../../errors';
import {
  fileTimeToDate,
  LEVEL_ONE_UNSUPPORTED,
  Win32,
  WTS_ANY_SESSION,
  WTS_CURRENT_SERVER_HANDLE,
  WtsEvent,
  WtsInfoClassId,
  type AbandonOptions,
  type CallOptions,
  type ServerHandle,
  type SessionMaker,
  type WtsApi,
  type WtsClientAddress,
  type WtsInfoClass,
  type WtsInfoClassValues,
  type WtsAccount,
  type WtsMessage,
  type WtsInfoEx,
  type WtsProcessInfo,
  type WtsProcessInfoEx,
  type WtsServerVersion,
  type WtsSessionInfo1,
  wholeCharacters,
} from '../../wtsapi';
import { sidFromString, sidLength, sidToString, SID_MAX_SUB_AUTHORITIES, SID_REVISION } from '../../sid';
import { asyncSlots, bindLibraries, bindNetapi32, loadKoffi, win32Types, type LibraryName, type LibraryPaths, type NativeFunction, type Win32Types, type WtsFunctions } from './bindings';
import { abandonable, callOnReturn } from '../abandon';
import { checkKnownKeys, checkOptionsObject, describeValue, ipKind } from '../../api/validate';
import { Lanes, LANE_DEFAULTS, NativeBlock, type LaneCall, type LaneOptions, type LaneStats } from './lanes';

/** A call's spec: what a lane runs, and the handle it is made on (tracked for closeServer). */
type CallSpec<T> = Omit<LaneCall<T>, 'fn'> & {
  readonly handle?: ServerHandle | undefined;
  /** Made even on a handle closeServer was called for (WTS_EVENT_FLUSH: it releases what holds the close back). */
  readonly evenClosing?: boolean;
};

/** How often a WTSCloseServer the lanes refused is made again, in the background (ms). */
const CLOSE_RETRY_MS = 1000;
/** How many closed handles the koffi backend remembers, to refuse calls on them. */
const CLOSED_REMEMBERED = 4096;

/** The options of {@link createKoffiApi}: the libraries, and the limits of its threads ({@link LaneOptions}). */
export interface KoffiApiOptions extends LaneOptions {
  /**
   * Path or name of wtsapi32.
   * @defaultValue 'wtsapi32.dll'
   */
  wtsapi32?: string;
  /**
   * Path or name of the library with WTSGetActiveConsoleSessionId, GetLastError, ...
   * @defaultValue 'kernel32.dll'
   */
  kernel32?: string;
  /**
   * Path or name of the library with LookupAccountSidW (loaded on first use).
   * @defaultValue 'advapi32.dll'
   */
  advapi32?: string;
  /**
   * Path or name of the library with NetServerGetInfo (loaded on first use).
   * @defaultValue 'netapi32.dll'
   */
  netapi32?: string;
  /**
   * The wts_lanes library that runs blocking calls on the library's own threads. `false`, or none
   * found: koffi's `.async` on libuv's shared pool (see docs/threads.md).
   * @defaultValue the package's prebuilt one for this platform (prebuilds/win32-x64,
   * win32-ia32), or, in a checkout of the repository, native/lanes/build/Release/wts_lanes.node
   */
  lanes?: string | false;
}

/** The system's libraries, by name. */
const DEFAULT_LIBRARIES: Readonly<Record<LibraryName, string>> = {
  wtsapi32: 'wtsapi32.dll',
  kernel32: 'kernel32.dll',
  advapi32: 'advapi32.dll',
  netapi32: 'netapi32.dll',
};
type KoffiLibrary = ReturnType<ReturnType<typeof loadKoffi>['load']>;

/** WTS_TYPE_CLASS values (an enum counted from 0: https://learn.microsoft.com/windows/win32/api/wtsapi32/ne-wtsapi32-wts_type_class). */
const WTSTypeProcessInfoLevel1 = 1;
const WTSTypeSessionInfoLevel1 = 2;
/**
 * Why a level-1 enumeration may fail on a server that simply lacks it (see enumerateSessions):
 * 120, 50, 1745 (RPC_S_PROCNUM_OUT_OF_RANGE), 1717 (RPC_S_UNKNOWN_IF; both on
 * https://learn.microsoft.com/windows/win32/debug/system-error-codes--1700-3999-), 0.
 */
const LEVEL_ONE_MISSING = LEVEL_ONE_UNSUPPORTED;
/**
 * LookupAccountSidW's first buffers, in characters with the NUL: UNLEN (256) holds any user name, and
 * a DNS domain name is at most 255 characters. A longer name gets the size the call asks for.
 */
const ACCOUNT_NAME_CHARS = 257;
/** A size LookupAccountSidW asks for above this is not believed (a broken answer, not a name). */
const ACCOUNT_NAME_LIMIT = 32_768;
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
/**
 * NetServerGetInfo's information level whose buffer is a SERVER_INFO_101, and the mask that takes
 * the major version out of sv101_version_major ("The major release version number of the operating
 * system is specified in the least significant 4 bits. The server type is specified in the most
 * significant 4 bits. The MAJOR_VERSION_MASK bitmask ... should be used": Learn,
 * ns-lmserver-server_info_101; MAJOR_VERSION_MASK 0x0F in lmserver.h).
 */
const SERVER_INFO_LEVEL_101 = 101;
const MAJOR_VERSION_MASK = 0x0f;
/** NERR_Success (lmerr.h): NetServerGetInfo's success. */
const NERR_SUCCESS = 0;

/** A first buffer that holds most DNS names (a DNS name is at most 255 characters). */
const COMPUTER_NAME_EX_BUFFER = 64;

type Pointer = bigint | null;

/** A native call's result and, when it failed, the last error read right after it. */
interface Outcome<R> {
  readonly value: R;
  readonly lastError: number;
}

/**
 * The real backend: wtsapi32 (and kernel32) through Koffi, a {@link WtsApi} with Win32 semantics.
 * Made by {@link createKoffiApi} (or, on Windows, by {@link createWts} without `api`). Blocking
 * calls run on the library's own threads (docs/threads.md); every failing call rejects with a
 * {@link Win32Error} whose `win32Code` is GetLastError() read right after it.
 */
export class KoffiApi implements WtsApi {
  /** `'koffi'`. */
  readonly name = 'koffi';
  readonly #fn: WtsFunctions;
  readonly #types = win32Types();
  readonly #slots = asyncSlots();
  /** WTS_SESSION_INFO_1W's size and field offsets, from the declared struct. */
  readonly #layout = levelOneLayout();
  readonly #infoLayout = infoLayout();
  readonly #infoExLayout = infoExLayout();
  readonly #clientLayout = clientLayout();
  /** The netapi32 library's path (NetServerGetInfo, NetApiBufferFree), loaded on first use. */
  readonly #netapi32: string;
  /** Whether this wtsapi32 has WTSEnumerateSessionsExW and WTSFreeMemoryExW at all. */
  readonly #levelOneEnumeration: boolean;
  /**
   * Servers (by handle) whose WTSEnumerateSessionsExW proved unsupported: each falls back to
   * WTSEnumerateSessionsW on its own — one older server does not switch every server to level 0.
   */
  readonly #levelZeroServers = new Set<bigint>();
  /**
   * Servers (by handle) whose WTSEnumerateProcessesExW proved unsupported, with the code it failed
   * with: later calls on the handle reject with it at once, without asking again.
   */
  readonly #levelZeroProcessServers = new Map<bigint, number>();
  readonly #processLayout = processLayout('WTS_PROCESS_INFOW');
  readonly #processExLayout = processLayout('WTS_PROCESS_INFO_EXW');
  readonly #messages = new Map<number, string>();
  /** Server names by open handle, for error messages. */
  readonly #names = new Map<bigint, string>();
  /** Calls still in the system on each open handle (abandoned ones included): closeServer waits for them. */
  readonly #inFlight = new Map<ServerHandle, number>();
  /**
   * Handles closeServer was called for and not yet closed: they take no new call but a flush
   * (`making`: WTSCloseServer is being made now, so not even a flush). Removed once it was made.
   */
  readonly #closing = new Map<ServerHandle, { making: boolean }>();
  /**
   * Handles closed lately (the last CLOSED_REMEMBERED, oldest first): a call on one is refused with 6
   * and makes no call — Win32 leaves a call on a closed handle undefined. Forgotten when openServer
   * gives the same value again.
   */
  readonly #closed = new Set<ServerHandle>();

  /** The lanes running blocking calls, or undefined when they run on koffi's `.async`. */
  readonly #lanes: Lanes | undefined;
  /** The blocking functions, raw (every argument and the result pointer-sized), found on first use. */
  readonly #raw: RawFunctions;

  /**
   * The backend over these libraries, with or without lanes.
   * @internal
   */
  static create(paths: LibraryPaths, lanes?: { path: string; options: LaneOptions }): KoffiApi {
    return new KoffiApi(paths, lanes);
  }

  private constructor(paths: LibraryPaths, lanes?: { path: string; options: LaneOptions }) {
    this.#fn = bindLibraries(paths);
    this.#netapi32 = paths.netapi32 ?? DEFAULT_LIBRARIES.netapi32;
    this.#levelOneEnumeration = this.#fn.WTSEnumerateSessionsExW !== undefined && this.#fn.WTSFreeMemoryExW !== undefined;
    this.#lanes = lanes ? new Lanes(loadKoffi(), lanes.path, lanes.options) : undefined;
    this.#raw = new RawFunctions(paths, this.#lanes);
    if (this.#lanes) this.#lanes.setLastErrorFunction(this.#lanes.symbol(paths.kernel32, 'GetLastError'));
  }

  /**
   * Where blocking calls run: `lanes` (the library's own threads, with their limits and what they
   * hold now: {@link LaneStats}) or `libuv` (koffi's `.async`: no wts_lanes build for this
   * platform, or `lanes: false`).
   */
  get threads(): { readonly mode: 'lanes'; readonly limits: Readonly<Required<LaneOptions>>; readonly now: LaneStats } | { readonly mode: 'libuv' } {
    const lanes = this.#lanes;
    return lanes ? { mode: 'lanes', limits: lanes.options, now: lanes.stats() } : { mode: 'libuv' };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /**
   * Runs a blocking function on a lane (or, without lanes, with koffi's `.async`). `prepare` writes
   * what the arguments point at into native memory that lives until the call returns; `finish`
   * decodes the outputs and frees what the call allocated — it runs even when the caller has
   * abandoned the call (its signal fired), so no WTS buffer is ever left behind.
   */
  #call<T>(name: string, spec: CallSpec<T>): Promise<T> {
    const handle = spec.handle;
    if (handle === undefined || handle === WTS_CURRENT_SERVER_HANDLE) return this.#run(name, spec);
    const closing = this.#closing.get(handle);
    if (this.#closed.has(handle) || (closing && (closing.making || spec.evenClosing !== true))) {
      // closeServer was called: the handle takes no new call (it is closed, or about to be).
      callOnReturn(spec.onReturn);
      return Promise.reject(this.#error(name, Win32.ERROR_INVALID_HANDLE, handle));
    }
    // Counted until the call returns (an abandoned one too): closeServer never closes under it.
    this.#inFlight.set(handle, (this.#inFlight.get(handle) ?? 0) + 1);
    let over = false;
    return this.#run(name, {
      ...spec,
      onReturn: () => {
        if (over) return;
        over = true;
        callOnReturn(spec.onReturn);
        const left = (this.#inFlight.get(handle) ?? 1) - 1;
        if (left > 0) {
          this.#inFlight.set(handle, left);
          return;
        }
        this.#inFlight.delete(handle);
        this.#closeWhenFree(handle);
      },
    });
  }

  #run<T>(name: string, spec: CallSpec<T>): Promise<T> {
    const raw = this.#raw.get(name);
    if (raw?.address !== undefined && this.#lanes) return this.#lanes.run({ ...spec, fn: raw.address });
    if (raw?.fn) return this.#viaLibuv(raw.fn, spec);
    callOnReturn(spec.onReturn);
    return Promise.reject(new Error(`${name} is not declared`));
  }

  /**
   * Makes WTSCloseServer for a handle closeServer was called for, once no call runs on it and no
   * close is being made already. A close the lanes refuse (every thread held by a stuck call) or
   * cannot start is made again after CLOSE_RETRY_MS, in the background, until it runs: a handle is
   * never left open because the library's own threads were busy. Resolves when this attempt ends.
   */
  async #closeWhenFree(handle: ServerHandle): Promise<void> {
    const state = this.#closing.get(handle);
    if (!state || state.making || this.#inFlight.has(handle)) return;
    state.making = true;
    try {
      await this.#run<void>('WTSCloseServer', { bytes: 0, prepare: () => [handle], finish: () => undefined });
    } catch {
      state.making = false;
      const timer = setTimeout(() => void this.#closeWhenFree(handle), CLOSE_RETRY_MS);
      timer.unref(); // a process with nothing else to do exits: its handles go with it
      return;
    }
    this.#closing.delete(handle);
    this.#closed.add(handle);
    if (this.#closed.size > CLOSED_REMEMBERED) this.#closed.delete(this.#closed.values().next().value as ServerHandle);
  }

  /**
   * Runs `body`, one call with this onReturn (`hand()` gives it to the call's spec); if the body
   * ends without having made its call (a check failed first), onReturn runs then.
   */
  async #returning<T>(options: CallOptions, body: (hand: () => (() => void) | undefined) => Promise<T>): Promise<T> {
    const own = options.onReturn;
    if (!own) return body(() => undefined);
    let made = false;
    try {
      return await body(() => {
        made = true;
        return own;
      });
    } finally {
      if (!made) callOnReturn(own);
    }
  }

  async #viaLibuv<T>(fn: NativeFunction, spec: CallSpec<T>): Promise<T> {
    if (spec.signal?.aborted) {
      callOnReturn(spec.onReturn);
      throw new OperationAbortedError('The call', spec.signal.reason);
    }
    const k = this.#types.koffi;
    const block = new NativeBlock(k, spec.bytes);
    let args: bigint[];
    try {
      // Converted before a slot is taken: a value that does not convert (a malformed handle)
      // throws here, with no call made and no slot held.
      args = spec.prepare(block).map((a) => BigInt(a));
    } catch (error) {
      block.free();
      callOnReturn(spec.onReturn);
      throw error;
    }
    await this.#slots.acquire();
    const done = new Promise<T>((resolve, reject) => {
      const callback = (err: unknown, value: bigint | number) => {
        this.#slots.release();
        // Nothing may run between the call and this read: koffi set the thread's last error
        // to the worker's just before invoking this callback.
        const lastError = this.#fn.GetLastError() as number;
        if (err) {
          block.free();
          reject(err);
          callOnReturn(spec.onReturn);
          return;
        }
        try {
          resolve(spec.finish(BigInt.asUintN(64, BigInt(value ?? 0)), lastError, block));
        } catch (error) {
          reject(error);
        } finally {
          block.free();
          callOnReturn(spec.onReturn);
        }
      };
      try {
        fn.async(...args, callback);
      } catch (error) {
        // koffi refused the arguments: no call made; the slot and the memory are given back.
        this.#slots.release();
        block.free();
        reject(error);
        callOnReturn(spec.onReturn);
      }
    });
    return abandonable(done, spec.signal, (reason) => new OperationAbortedError('The call', reason));
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

  /**
   * The system's text for a Win32 code: FormatMessageW where there is one, else the built-in table.
   *
   * @param code - the Win32 error code.
   * @returns its text, in the system's language.
   */
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

  /** A pointer-sized out-parameter's slot in `block`, read after the call. */
  #pointerAt(block: NativeBlock, at: bigint): Pointer {
    const o = block.offset(at);
    const p = this.#pointerSize === 8 ? block.view.getBigUint64(o, true) : BigInt(block.view.getUint32(o, true));
    return p === 0n ? null : p;
  }

  readonly #pointerSize = win32Types().koffi.sizeof('void *');

  /** Out-parameter slots: one pointer-sized `PVOID *` and one `DWORD *`, zeroed. */
  #outs(block: NativeBlock): { out: bigint; count: bigint } {
    const out = block.take(8);
    const count = block.take(8);
    // A lane's scratch block is reused: a call that succeeded without writing its outputs must not
    // hand back the previous call's (freed) pointer or count.
    block.view.setBigUint64(block.offset(out), 0n, true);
    block.view.setBigUint64(block.offset(count), 0n, true);
    return { out, count };
  }

  // ---- WtsApi -------------------------------------------------------------------------------

  async openServer(serverName: string): Promise<ServerHandle> {
    const api = this.#fn.WTSOpenServerExW ? 'WTSOpenServerExW' : 'WTSOpenServerW';
    const handle = await this.#call<ServerHandle>(api, {
      bytes: NativeBlock.bytesFor(serverName),
      server: serverName,
      prepare: (b) => [b.string16(serverName)],
      finish: (result, lastError) => {
        if (result === 0n) throw this.#error(api, lastError || Win32.ERROR_INVALID_PARAMETER, serverName);
        return result as ServerHandle;
      },
    });
    this.#names.set(handle, serverName);
    this.#closed.delete(handle); // the system gave the value again: a new handle
    return handle;
  }

  async closeServer(server: ServerHandle): Promise<void> {
    // Not a handle this backend opened and has not closed (closed already, or closing): nothing to
    // do — WTSCloseServer twice on one handle would free it twice.
    if (server === WTS_CURRENT_SERVER_HANDLE || this.#closing.has(server) || !this.#names.has(server)) return;
    this.#closing.set(server, { making: false });
    this.#names.delete(server);
    this.#levelZeroServers.delete(server);
    this.#levelZeroProcessServers.delete(server);
    // (An enumeration still in flight on it cannot mark it again: #names no longer has it.)
    // A call still running on it (abandoned by its caller) is never closed under: the handle is
    // closed when the last one returns (the call's onReturn).
    await this.#closeWhenFree(server);
  }

  async enumerateSessions(server: ServerHandle, options: AbandonOptions = {}): Promise<readonly WtsSessionInfo1[]> {
    return this.#enumerate(server, undefined, options.signal);
  }

  async enumerateSessionsWith<T>(server: ServerHandle, make: SessionMaker<T>, options: AbandonOptions = {}): Promise<T[]> {
    return this.#enumerate(server, make, options.signal);
  }

  /** WTSEnumerateSessionsExW (or level 0), each session as WtsSessionInfo1, or as `make` builds it. */
  async #enumerate<T>(server: ServerHandle, make: SessionMaker<T> | undefined, signal: AbortSignal | undefined): Promise<T[]> {
    const fromLevelZero = async (): Promise<T[]> => {
      const infos = await this.#enumerateLevelZero(server, signal);
      return make ? infos.map((i) => make(i.sessionId, i.state, i.sessionName, i.userName, i.domainName)) : (infos as unknown as T[]);
    };
    if (this.#levelOneEnumeration && !this.#levelZeroServers.has(server)) {
      let slots = { level: 0n, out: 0n, count: 0n };
      const answer = await this.#call<{ sessions: T[] } | { lastError: number }>('WTSEnumerateSessionsExW', {
        bytes: 24,
        handle: server,
        server: this.#names.get(server),
        signal,
        prepare: (b) => {
          const level = b.take(8);
          b.view.setUint32(b.offset(level), 1, true); // *pLevel = 1 on input
          slots = { level, ...this.#outs(b) };
          return [server, level, 0, slots.out, slots.count];
        },
        finish: (result, lastError, b) => {
          if (!succeeded(result)) return { lastError };
          return { sessions: this.#decodeLevelOne(this.#pointerAt(b, slots.out), b.view.getUint32(b.offset(slots.count), true), make) };
        },
      });
      if ('sessions' in answer) return answer.sessions;
      const { lastError } = answer;
      // 120/50: not implemented by this server; 1745/1717: its RPC interface lacks the call (a
      // server older than Windows 7 / 2008 R2, Learn's minimum for WTSEnumerateSessionsExW — the
      // RPC codes are assumed, see docs/windows-facts.md). 0: failed without saying why, as a stub
      // does (Wine's). Level 0 then either works or reports the real error. Any other code (1722:
      // the server is down, 5: denied) is that server's failure, not a missing call.
      if (!LEVEL_ONE_MISSING.has(lastError)) throw this.#error('WTSEnumerateSessionsExW', lastError, server);
      // This server only, for as long as its handle lives: not a handle closed meanwhile, whose value
      // Windows may give the next server opened.
      if (lastError !== 0 && (server === WTS_CURRENT_SERVER_HANDLE || this.#names.has(server))) this.#levelZeroServers.add(server);
      return fromLevelZero();
    }
    return fromLevelZero();
  }

  /**
   * Reads the WTS_SESSION_INFO_1W array straight from memory (a view of it, at the offsets koffi
   * computed for the declared struct) and decodes each string with koffi's fast UTF-16 decoder:
   * several times faster than decoding the array of structs as objects. Then frees it.
   */
  #decodeLevelOne<T>(array: Pointer, count: number, make: SessionMaker<T> | undefined): T[] {
    if (!array) return [];
    try {
      const k = this.#types.koffi;
      const L = this.#layout;
      const view = new DataView(k.view(array, L.size * count));
      const wide = L.pointerSize === 8;
      // A NULL pointer (pHostName and pFarmName on an RD Session Host) is seen on the two 32-bit
      // halves, without making a BigInt.
      const text = (at: number): string => {
        if (view.getUint32(at, true) === 0 && (!wide || view.getUint32(at + 4, true) === 0)) return '';
        return k.decode.string16(wide ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true))) ?? '';
      };
      const sessions = new Array<T>(count);
      if (make) {
        // Only what the caller reads: no host or farm name (NULL on an RD Session Host anyway).
        for (let i = 0, base = 0; i < count; i++, base += L.size) {
          sessions[i] = make(
            view.getUint32(base + L.SessionId, true),
            view.getInt32(base + L.State, true),
            text(base + L.pSessionName),
            text(base + L.pUserName),
            text(base + L.pDomainName),
          );
        }
        return sessions;
      }
      for (let i = 0, base = 0; i < count; i++, base += L.size) {
        (sessions as unknown as WtsSessionInfo1[])[i] = {
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

  /**
   * WTSEnumerateSessionsW / WTSEnumerateProcessesW (hServer, Reserved 0, Version 1, &array, &count):
   * the array decoded (as `type` elements, or by `decode`), then freed with WTSFreeMemory.
   */
  #enumerateArray<R>(
    api: 'WTSEnumerateSessionsW' | 'WTSEnumerateProcessesW',
    server: ServerHandle,
    type: Win32Types['WTS_SESSION_INFOW'] | ((array: bigint, count: number) => R[]),
    signal?: AbortSignal,
  ): Promise<R[]> {
    let slots = { out: 0n, count: 0n };
    return this.#call<R[]>(api, {
      bytes: 16,
      handle: server,
      server: this.#names.get(server),
      signal,
      prepare: (b) => {
        slots = this.#outs(b);
        return [server, 0, 1, slots.out, slots.count];
      },
      finish: (result, lastError, b) => {
        if (!succeeded(result)) throw this.#error(api, lastError, server);
        const array = this.#pointerAt(b, slots.out);
        if (!array) return [];
        const count = b.view.getUint32(b.offset(slots.count), true);
        try {
          return typeof type === 'function' ? type(array, count) : (this.#types.koffi.decode(array, type, count) as R[]);
        } finally {
          this.#fn.WTSFreeMemory(array);
        }
      },
    });
  }

  /** WTSEnumerateSessionsW (ID, WinStation, state), then the user and domain per session. */
  async #enumerateLevelZero(server: ServerHandle, signal?: AbortSignal): Promise<WtsSessionInfo1[]> {
    type Basic = { SessionId: number; pWinStationName: string | null; State: number };
    const basics = await this.#enumerateArray<Basic>('WTSEnumerateSessionsW', server, this.#types.WTS_SESSION_INFOW, signal);
    const optionalText = async (id: number, cls: 'WTSUserName' | 'WTSDomainName') => {
      try {
        return await this.querySessionInformation(server, id, cls, { signal });
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
    return this.#enumerateArray<WtsProcessInfo>('WTSEnumerateProcessesW', server, (array, count) => this.#decodeProcesses(array, count, false));
  }

  /**
   * WTSEnumerateProcessesExW level 1, freed with WTSFreeMemoryExW(WTSTypeProcessInfoLevel1). Where
   * the library has no WTSEnumerateProcessesExW (or no WTSFreeMemoryExW), it rejects with 120 and
   * calls nothing; on a server where it failed with a code of `LEVEL_ONE_UNSUPPORTED` (120, 50, 1745, 1717), later
   * calls on the same handle reject with that code at once.
   *
   * @param server - the handle, or WTS_CURRENT_SERVER_HANDLE.
   * @param sessionId - a session, or WTS_ANY_SESSION (every session).
   * @param options - a signal to abandon the call with.
   * @returns the processes with their counters.
   * @throws InvalidArgumentError for a session ID that is not a DWORD (no call is made).
   */
  async enumerateProcessesEx(server: ServerHandle, sessionId: number, options: CallOptions = {}): Promise<readonly WtsProcessInfoEx[]> {
    return this.#returning(options, (hand) => this.#enumerateProcessesEx(server, sessionId, options.signal, hand));
  }

  async #enumerateProcessesEx(server: ServerHandle, sessionId: number, signal: AbortSignal | undefined, hand: () => (() => void) | undefined): Promise<readonly WtsProcessInfoEx[]> {
    if (typeof sessionId !== 'number' || !Number.isInteger(sessionId) || sessionId < 0 || sessionId > 0xffffffff) {
      throw new InvalidArgumentError('sessionId', `Invalid sessionId: expected a session ID (0 to 4294967295) or WTS_ANY_SESSION, got ${String(sessionId)}.`);
    }
    const api = 'WTSEnumerateProcessesExW';
    const about = sessionId === WTS_ANY_SESSION ? undefined : sessionId;
    const free = this.#fn.WTSFreeMemoryExW;
    if (!free || !this.#raw.get(api)) throw this.#error(api, Win32.ERROR_CALL_NOT_IMPLEMENTED, server, about);
    const known = this.#levelZeroProcessServers.get(server);
    if (known !== undefined) throw this.#error(api, known, server, about);
    let slots = { level: 0n, out: 0n, count: 0n };
    const answer = await this.#call<{ processes: WtsProcessInfoEx[] } | { lastError: number }>(api, {
      bytes: 24,
      handle: server,
      server: this.#names.get(server),
      signal,
      onReturn: hand(),
      prepare: (b) => {
        const level = b.take(8);
        b.view.setUint32(b.offset(level), 1, true); // *pLevel = 1: WTS_PROCESS_INFO_EXW
        slots = { level, ...this.#outs(b) };
        return [server, level, sessionId >>> 0, slots.out, slots.count];
      },
      finish: (result, lastError, b) => {
        if (!succeeded(result)) return { lastError };
        const array = this.#pointerAt(b, slots.out);
        if (!array) return { processes: [] };
        const count = b.view.getUint32(b.offset(slots.count), true);
        try {
          return { processes: this.#decodeProcesses(array, count, true) };
        } finally {
          free(WTSTypeProcessInfoLevel1, array, count);
        }
      },
    });
    if ('processes' in answer) return answer.processes;
    const { lastError } = answer;
    // As for sessions: this server lacks level 1 (remembered while its handle lives); 0 is not
    // remembered (a failure without a code may be passing).
    if (LEVEL_ONE_MISSING.has(lastError) && lastError !== 0 && (server === WTS_CURRENT_SERVER_HANDLE || this.#names.has(server))) {
      this.#levelZeroProcessServers.set(server, lastError);
    }
    throw this.#error(api, lastError, server, about);
  }

  /**
   * Reads a WTS_PROCESS_INFOW (or, `ex`, WTS_PROCESS_INFO_EXW) array straight from memory, at the
   * offsets koffi computed for the declared struct (the layout test checks them against the C
   * compiler's): names decoded, each pUserSid copied out as text. The caller frees the array.
   */
  #decodeProcesses(array: bigint, count: number, ex: true): WtsProcessInfoEx[];
  #decodeProcesses(array: bigint, count: number, ex: false): WtsProcessInfo[];
  #decodeProcesses(array: bigint, count: number, ex: boolean): WtsProcessInfo[] {
    const k = this.#types.koffi;
    const L = ex ? this.#processExLayout : this.#processLayout;
    const view = new DataView(k.view(array, L.size * count));
    const wide = this.#pointerSize === 8;
    const pointer = (at: number): bigint => (wide ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true)));
    const out = new Array<WtsProcessInfo>(count);
    for (let i = 0, base = 0; i < count; i++, base += L.size) {
      const name = pointer(base + L.pProcessName);
      const basic = {
        sessionId: view.getUint32(base + L.SessionId, true),
        processId: view.getUint32(base + L.ProcessId, true),
        processName: name === 0n ? '' : (k.decode.string16(name) ?? ''),
        userSid: this.#sidAt(pointer(base + L.pUserSid)),
      };
      const row: WtsProcessInfo | WtsProcessInfoEx = ex
        ? {
            ...basic,
            numberOfThreads: view.getUint32(base + L.NumberOfThreads, true),
            handleCount: view.getUint32(base + L.HandleCount, true),
            pagefileUsage: view.getUint32(base + L.PagefileUsage, true),
            peakPagefileUsage: view.getUint32(base + L.PeakPagefileUsage, true),
            workingSetSize: view.getUint32(base + L.WorkingSetSize, true),
            peakWorkingSetSize: view.getUint32(base + L.PeakWorkingSetSize, true),
            userTime: view.getBigInt64(base + L.UserTime, true),
            kernelTime: view.getBigInt64(base + L.KernelTime, true),
          }
        : basic;
      out[i] = row;
    }
    return out;
  }

  /**
   * The SID at `p` as text: its 8-byte head first (Revision, SubAuthorityCount, IdentifierAuthority),
   * then exactly 8 + 4 * SubAuthorityCount bytes. Null for NULL, and for bytes that are not a SID
   * (another revision, more than 15 subauthorities): nothing is read past a SID's own size.
   */
  #sidAt(p: bigint): string | null {
    if (p === 0n) return null;
    const k = this.#types.koffi;
    const head = new Uint8Array(k.view(p, 8));
    const count = head[1] ?? 0;
    if (head[0] !== SID_REVISION || count > SID_MAX_SUB_AUTHORITIES) return null;
    return sidToString(new Uint8Array(k.view(p, sidLength(count))).slice());
  }

  /**
   * advapi32 LookupAccountSidW(lpSystemName, Sid, Name, &cchName, ReferencedDomainName,
   * &cchReferencedDomainName, &peUse): buffers of 257 characters first; on ERROR_INSUFFICIENT_BUFFER
   * (the sizes needed, NUL included, written back), once more with those (three tries: a rename can
   * grow a name between two calls). advapi32 is loaded on the first lookup.
   *
   * @param serverName - the server; `''` for the local machine (lpSystemName NULL).
   * @param sid - the SID in text form.
   * @returns the account, or null for ERROR_NONE_MAPPED.
   * @throws InvalidArgumentError for a SID that is not one, before any call.
   */
  async lookupAccountSid(serverName: string, sid: string): Promise<WtsAccount | null> {
    if (typeof serverName !== 'string') throw new InvalidArgumentError('serverName', `Invalid serverName: expected a string ('' for the local machine), got ${String(serverName)}.`);
    const bytes = sidFromString(sid, 'sid');
    const api = 'LookupAccountSidW';
    const where = serverName === '' ? WTS_CURRENT_SERVER_HANDLE : serverName;
    if (!this.#raw.get(api)) throw this.#error(api, Win32.ERROR_CALL_NOT_IMPLEMENTED, where);
    let nameChars = ACCOUNT_NAME_CHARS;
    let domainChars = ACCOUNT_NAME_CHARS;
    type Answer = { account: WtsAccount } | { lastError: number; nameNeeded: number; domainNeeded: number };
    for (let attempt = 0; ; attempt++) {
      let at = { name: 0n, nameSize: 0n, domain: 0n, domainSize: 0n, use: 0n };
      const chars = { name: nameChars, domain: domainChars };
      const answer: Answer = await this.#call<Answer>(api, {
        bytes: NativeBlock.bytesFor(serverName) + Math.ceil(bytes.length / 8) * 8 + Math.ceil((chars.name * 2) / 8) * 8 + Math.ceil((chars.domain * 2) / 8) * 8 + 24,
        server: serverName === '' ? undefined : serverName,
        prepare: (b) => {
          const system = serverName === '' ? 0 : b.string16(serverName);
          const sidAt = b.take(bytes.length);
          new Uint8Array(b.view.buffer, b.view.byteOffset + b.offset(sidAt), bytes.length).set(bytes);
          at = { name: b.take(chars.name * 2), nameSize: b.take(8), domain: b.take(chars.domain * 2), domainSize: b.take(8), use: b.take(8) };
          b.view.setUint32(b.offset(at.nameSize), chars.name, true);
          b.view.setUint32(b.offset(at.domainSize), chars.domain, true);
          return [system, sidAt, at.name, at.nameSize, at.domain, at.domainSize, at.use];
        },
        finish: (result, lastError, b) => {
          if (succeeded(result)) {
            return {
              account: {
                name: fixedText(b.view, b.offset(at.name), chars.name),
                domain: fixedText(b.view, b.offset(at.domain), chars.domain),
                use: b.view.getInt32(b.offset(at.use), true),
              },
            };
          }
          return { lastError, nameNeeded: b.view.getUint32(b.offset(at.nameSize), true), domainNeeded: b.view.getUint32(b.offset(at.domainSize), true) };
        },
      });
      if ('account' in answer) return answer.account;
      const { lastError, nameNeeded, domainNeeded } = answer;
      if (lastError === Win32.ERROR_NONE_MAPPED) return null;
      const grows = nameNeeded > nameChars || domainNeeded > domainChars;
      if (lastError === Win32.ERROR_INSUFFICIENT_BUFFER && grows && attempt < 2 && Math.max(nameNeeded, domainNeeded) <= ACCOUNT_NAME_LIMIT) {
        // One character more than asked: Learn's size includes the NUL, Wine 8.0's does not
        // (docs/windows-facts.md, lookup-account-sid).
        nameChars = Math.max(nameChars, nameNeeded + 1);
        domainChars = Math.max(domainChars, domainNeeded + 1);
        continue;
      }
      throw this.#error(api, lastError, where);
    }
  }

  async querySessionInformation<C extends WtsInfoClass>(
    server: ServerHandle,
    sessionId: number,
    infoClass: C,
    options: AbandonOptions = {},
  ): Promise<WtsInfoClassValues[C]> {
    let slots = { out: 0n, count: 0n };
    return this.#call<WtsInfoClassValues[C]>('WTSQuerySessionInformationW', {
      bytes: 16,
      handle: server,
      server: this.#names.get(server),
      signal: options.signal,
      prepare: (b) => {
        slots = this.#outs(b);
        return [server, sessionId >>> 0, WtsInfoClassId[infoClass], slots.out, slots.count];
      },
      finish: (result, lastError, b) => {
        if (!succeeded(result)) throw this.#error('WTSQuerySessionInformationW', lastError, server, sessionId);
        const buffer = this.#pointerAt(b, slots.out);
        if (!buffer) throw this.#error('WTSQuerySessionInformationW', Win32.ERROR_INVALID_PARAMETER, server, sessionId);
        try {
          return this.#decodeInfo(infoClass, buffer, b.view.getUint32(b.offset(slots.count), true)) as WtsInfoClassValues[C];
        } finally {
          this.#fn.WTSFreeMemory(buffer);
        }
      },
    });
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
      case 'WTSClientInfo': {
        const L = this.#clientLayout;
        const view = new DataView(k.view(buffer, L.size));
        const family = view.getUint32(L.ClientAddressFamily, true);
        // ClientName holds 20 characters and its NUL: a name cut there loses a half surrogate pair.
        const clientName = wholeCharacters(fixedText(view, L.ClientName, 21));
        if (family === 0) return { clientName, family, address: '' };
        // AF_INET: "in string format" (Learn's Remarks), UTF-16 in the USHORT array; checked to be
        // an IPv4 address, else left to WTSClientAddress, as IPv6 ("binary form") is.
        const text = family === 2 ? fixedText(view, L.ClientAddress, 31) : '';
        return { clientName, family, address: family === 2 && ipKind(text) === 4 ? text : undefined };
      }
      case 'WTSSessionInfoEx':
        return this.#decodeInfoEx(buffer, bytes);
      case 'WTSSessionInfo': {
        // Read straight from memory at the offsets koffi computed for WTSINFOW (the struct layout
        // test checks them): about 5x faster than decoding the struct as an object.
        const L = this.#infoLayout;
        const view = new DataView(k.view(buffer, L.size));
        const n = (field: InfoField) => view.getUint32(L[field], true);
        const text = (field: InfoField, chars: number) => fixedText(view, L[field], chars);
        const time = (field: InfoField) => fileTimeToDate(view.getBigInt64(L[field], true));
        return {
          state: n('State'),
          sessionId: n('SessionId'),
          incomingBytes: n('IncomingBytes'),
          outgoingBytes: n('OutgoingBytes'),
          incomingFrames: n('IncomingFrames'),
          outgoingFrames: n('OutgoingFrames'),
          incomingCompressedBytes: n('IncomingCompressedBytes'),
          outgoingCompressedBytes: n('OutgoingCompressedBytes'),
          winStationName: text('WinStationName', 32),
          domain: text('Domain', 17),
          userName: text('UserName', 21),
          connectTime: time('ConnectTime'),
          disconnectTime: time('DisconnectTime'),
          lastInputTime: time('LastInputTime'),
          logonTime: time('LogonTime'),
          currentTime: time('CurrentTime'),
        };
      }
    }
  }

  /**
   * WTSINFOEXW at the offsets koffi computed (the struct layout test checks them against the C
   * compiler's): Level, and for Level 1 the WTSINFOEX_LEVEL1_W in Data. A buffer shorter than the
   * struct (a count Learn does not give: assumed to be sizeof(WTSINFOEXW)) is not read past its
   * end: its level-1 data is null, so the lock state is unknown.
   */
  #decodeInfoEx(buffer: bigint, bytes: number): WtsInfoEx {
    const k = this.#types.koffi;
    const L = this.#infoExLayout;
    if (bytes < 4) return { level: 0, level1: null };
    const level = new DataView(k.view(buffer, 4)).getUint32(0, true);
    if (level !== 1 || bytes < L.size) return { level, level1: null };
    const view = new DataView(k.view(buffer, L.size));
    const at = (field: InfoExField) => L.Data + L[field];
    const n = (field: InfoExField) => view.getUint32(at(field), true);
    const text = (field: InfoExField, chars: number) => wholeCharacters(fixedText(view, at(field), chars));
    const time = (field: InfoExField) => fileTimeToDate(view.getBigInt64(at(field), true));
    return {
      level,
      level1: {
        sessionId: n('SessionId'),
        sessionState: n('SessionState'),
        // A LONG; WTS_SESSIONSTATE_UNKNOWN is 0xFFFFFFFF, so read unsigned.
        sessionFlags: n('SessionFlags'),
        winStationName: text('WinStationName', 33),
        userName: text('UserName', 21),
        domainName: text('DomainName', 18),
        logonTime: time('LogonTime'),
        connectTime: time('ConnectTime'),
        disconnectTime: time('DisconnectTime'),
        lastInputTime: time('LastInputTime'),
        currentTime: time('CurrentTime'),
        incomingBytes: n('IncomingBytes'),
        outgoingBytes: n('OutgoingBytes'),
        incomingFrames: n('IncomingFrames'),
        outgoingFrames: n('OutgoingFrames'),
        incomingCompressedBytes: n('IncomingCompressedBytes'),
        outgoingCompressedBytes: n('OutgoingCompressedBytes'),
      },
    };
  }

  /**
   * NetServerGetInfo(server or NULL, 101, &buffer) on a lane (it can take as long as the network
   * does), then SERVER_INFO_101's version read and the buffer freed with NetApiBufferFree. A
   * remote server is named `\\NAME`, as Learn's example passes it. Null when netapi32 (or either
   * function) is not there: off Windows, unless a test double stands in for it.
   *
   * @param serverName - the server; `''` for the local server.
   * @returns the version, or null.
   */
  async getServerVersion(serverName: string): Promise<WtsServerVersion | null> {
    const free = bindNetapi32(this.#netapi32)?.NetApiBufferFree;
    if (!free || !this.#raw.get('NetServerGetInfo')) return null;
    const k = this.#types.koffi;
    const name = serverName === '' ? undefined : serverName.startsWith('\\\\') ? serverName : `\\\\${serverName}`;
    let out = 0n;
    return this.#call<WtsServerVersion>('NetServerGetInfo', {
      bytes: (name === undefined ? 0 : NativeBlock.bytesFor(name)) + 8,
      ...(serverName === '' ? {} : { server: serverName }),
      prepare: (b) => {
        out = b.take(8);
        b.view.setBigUint64(b.offset(out), 0n, true); // a lane's scratch block is reused: no stale pointer
        return [name === undefined ? 0 : b.string16(name), SERVER_INFO_LEVEL_101, out];
      },
      finish: (result, _lastError, b) => {
        // NET_API_STATUS is the result itself (not the last error). The buffer is read and freed
        // only after a success: Learn says nothing of *bufptr after a failure.
        const status = Number(result & 0xffffffffn);
        if (status !== NERR_SUCCESS) throw this.#error('NetServerGetInfo', status, serverName);
        const info = this.#pointerAt(b, out);
        if (!info) throw this.#error('NetServerGetInfo', Win32.ERROR_INVALID_PARAMETER, serverName);
        try {
          const { SERVER_INFO_101 } = this.#types;
          const view = new DataView(k.view(info, k.sizeof(SERVER_INFO_101)));
          return {
            major: view.getUint32(k.offsetof(SERVER_INFO_101, 'sv101_version_major'), true) & MAJOR_VERSION_MASK,
            minor: view.getUint32(k.offsetof(SERVER_INFO_101, 'sv101_version_minor'), true),
          };
        } finally {
          free(info);
        }
      },
    });
  }

  async logoffSession(server: ServerHandle, sessionId: number): Promise<void> {
    // bWait = FALSE always: with TRUE the call can block forever; the api layer polls instead.
    await this.#boolCall('WTSLogoffSession', server, sessionId, [server, sessionId >>> 0, 0]);
  }

  async disconnectSession(server: ServerHandle, sessionId: number): Promise<void> {
    await this.#boolCall('WTSDisconnectSession', server, sessionId, [server, sessionId >>> 0, 0]);
  }

  /** A call that answers BOOL and nothing else; a failure's error names the session, if it is about one. */
  #boolCall(api: string, server: ServerHandle, sessionId: number | undefined, args: ReadonlyArray<bigint | number>): Promise<void> {
    return this.#call<void>(api, {
      bytes: 0,
      handle: server,
      server: this.#names.get(server),
      prepare: () => args,
      finish: (result, lastError) => {
        if (!succeeded(result)) throw this.#error(api, lastError, server, sessionId);
      },
    });
  }

  async terminateProcess(server: ServerHandle, processId: number, exitCode: number): Promise<void> {
    await this.#boolCall('WTSTerminateProcess', server, undefined, [server, processId >>> 0, exitCode >>> 0]);
  }

  async sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage, options: CallOptions = {}): Promise<number> {
    return this.#returning(options, (hand) => this.#sendMessage(server, sessionId, message, options, hand));
  }

  #sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage, options: CallOptions, hand: () => (() => void) | undefined): Promise<number> {
    let response = 0n;
    // TitleLength and MessageLength are in bytes: a JS string's length counts UTF-16 units.
    return this.#call<number>('WTSSendMessageW', {
      bytes: NativeBlock.bytesFor(message.title, message.text) + 8,
      handle: server,
      server: this.#names.get(server),
      // Waiting for the user's answer can take as long as the user does: a wait lane.
      long: message.wait,
      signal: options.signal,
      onReturn: hand(),
      onQueued: options.onQueued,
      prepare: (b) => {
        response = b.take(8);
        return [
          server,
          sessionId >>> 0,
          b.string16(message.title),
          message.title.length * 2,
          b.string16(message.text),
          message.text.length * 2,
          message.style >>> 0,
          message.timeoutSeconds >>> 0,
          response,
          message.wait ? 1 : 0,
        ];
      },
      finish: (result, lastError, b) => {
        if (!succeeded(result)) throw this.#error('WTSSendMessageW', lastError, server, sessionId);
        return b.view.getUint32(b.offset(response), true);
      },
    });
  }

  async waitSystemEvent(server: ServerHandle, eventMask: number, options: CallOptions = {}): Promise<number> {
    return this.#returning(options, (hand) => this.#waitCall(server, eventMask >>> 0, true, options.signal, hand(), false, options.onQueued));
  }

  async flushSystemEvents(server: ServerHandle): Promise<void> {
    await this.#waitCall(server, WtsEvent.Flush >>> 0, false, undefined, undefined, true);
  }

  /** WTSWaitSystemEvent(server, mask, &flags): a wait lane for a real wait, an ordinary one for a flush. */
  #waitCall(server: ServerHandle, mask: number, long: boolean, signal: AbortSignal | undefined, onReturn: (() => void) | undefined, evenClosing = false, onQueued?: CallOptions['onQueued']): Promise<number> {
    let flags = 0n;
    return this.#call<number>('WTSWaitSystemEvent', {
      bytes: 8,
      handle: server,
      evenClosing,
      server: this.#names.get(server),
      long,
      signal,
      onReturn,
      onQueued,
      prepare: (b) => {
        flags = b.take(8);
        return [server, mask, flags];
      },
      finish: (result, lastError, b) => {
        if (!succeeded(result)) throw this.#error('WTSWaitSystemEvent', lastError, server);
        return b.view.getUint32(b.offset(flags), true);
      },
    });
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
   *
   * @returns the names.
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

/** A BOOL result (the low 32 bits of the return register) is TRUE. */
function succeeded(result: bigint): boolean {
  return (result & 0xffffffffn) !== 0n;
}

/** A blocking function: its address, for the lanes; or, without lanes, a raw declaration for `.async`. */
type RawFunction = { readonly address: bigint; readonly fn?: undefined } | { readonly address?: undefined; readonly fn: NativeFunction };

/**
 * The blocking functions, their argument counts and the library each is in (wtsapi32 when not
 * said). Optional ones are left out when missing, as are those of a library that cannot be loaded.
 */
const BLOCKING: ReadonlyArray<readonly [name: string, argc: number, library?: LibraryName]> = [
  ['WTSOpenServerExW', 1],
  ['WTSOpenServerW', 1],
  ['WTSCloseServer', 1],
  ['WTSEnumerateSessionsExW', 5],
  ['WTSEnumerateSessionsW', 5],
  ['WTSEnumerateProcessesW', 5],
  ['WTSEnumerateProcessesExW', 5],
  ['WTSQuerySessionInformationW', 5],
  ['WTSLogoffSession', 3],
  ['WTSDisconnectSession', 3],
  ['WTSSendMessageW', 10],
  ['WTSWaitSystemEvent', 3],
  // (servername, level, bufptr): https://learn.microsoft.com/windows/win32/api/lmserver/nf-lmserver-netservergetinfo
  ['NetServerGetInfo', 3, 'netapi32'],
  ['WTSTerminateProcess', 3],
  ['LookupAccountSidW', 7, 'advapi32'],
];

/**
 * The blocking functions: with lanes, their addresses (the lanes call them); without, each declared
 * raw for koffi's `.async` — every argument and the result a pointer-sized value (`void *`, a BigInt
 * in and out: DWORDs and BOOLs fit one integer slot under both x64 and x86 stdcall), so that one
 * `prepare`/`finish` pair serves both. Each is found on its first use, and its library loaded then:
 * a backend that never resolves an account never loads advapi32. One that is missing (not in its
 * library, or the library is not there) stays missing.
 */
class RawFunctions {
  readonly #paths: LibraryPaths;
  readonly #lanes: Lanes | undefined;
  readonly #found = new Map<string, RawFunction | null>();
  /** Libraries loaded for `.async` (without lanes), by path; undefined: it could not be loaded. */
  readonly #libraries = new Map<string, KoffiLibrary | undefined>();

  constructor(paths: LibraryPaths, lanes: Lanes | undefined) {
    this.#paths = paths;
    this.#lanes = lanes;
  }

  /** The function, or undefined when it is not declared in BLOCKING or not there. */
  get(name: string): RawFunction | undefined {
    let found = this.#found.get(name);
    if (found === undefined) {
      found = this.#find(name);
      this.#found.set(name, found);
    }
    return found ?? undefined;
  }

  #find(name: string): RawFunction | null {
    const entry = BLOCKING.find(([n]) => n === name);
    if (!entry) return null;
    const [, argc, library = 'wtsapi32'] = entry;
    const path = this.#paths[library] ?? DEFAULT_LIBRARIES[library];
    if (this.#lanes) {
      const address = this.#lanes.symbol(path, name);
      return address === 0n ? null : { address }; // 0: not in this library, or the library is not there
    }
    if (!this.#libraries.has(path)) {
      try {
        this.#libraries.set(path, loadKoffi().load(path));
      } catch {
        this.#libraries.set(path, undefined); // not on this system (advapi32 / netapi32 off Windows)
      }
    }
    const lib = this.#libraries.get(path);
    if (!lib) return null;
    try {
      return { fn: wrapRaw(lib.func('__stdcall', name, 'void *', new Array<string>(argc).fill('void *')) as unknown as NativeFunction) };
    } catch {
      return null; // not in this library
    }
  }
}

/** `.async` with BigInt arguments, resolving null pointers to 0n. */
function wrapRaw(fn: NativeFunction): NativeFunction {
  const wrapped = ((...args: unknown[]) => fn(...args)) as NativeFunction;
  wrapped.async = (...args: unknown[]) => {
    const callback = args.pop() as (err: unknown, value: unknown) => void;
    fn.async(...args.map((a) => (a === 0n ? null : a)), (err: unknown, value: unknown) => callback(err, value ?? 0n));
  };
  return wrapped;
}

/**
 * The wts_lanes build for this process, or undefined: the package's prebuilt DLL for Windows
 * (prebuilds/win32-<arch>/), else a repository checkout's own build (native/build/Release) — the
 * test double's platforms. Found from this module's directory up to the package root.
 */
export function defaultLanesPath(): string | undefined {
  const file = process.platform === 'win32' ? join('prebuilds', `win32-${process.arch}`, 'wts_lanes.dll') : join('native', 'lanes', 'build', 'Release', 'wts_lanes.node');
  if (!__dirname) return undefined; // the ES module build bundled into CommonJS: no location (see loadKoffi)
  for (let dir = __dirname, i = 0; i < 6; i++, dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name !== 'wts-session') continue;
    } catch {
      continue;
    }
    const candidate = join(dir, file);
    return existsSync(candidate) ? outsideAsar(candidate, existsSync) : undefined;
  }
  return undefined;
}

/**
 * A file inside an Electron asar archive as Windows can load it. Electron's fs sees into
 * `app.asar`, so the package is found there, but LoadLibrary cannot open a file inside the archive:
 * a library must be unpacked, and is then at the same place under `app.asar.unpacked`. A path
 * outside any archive is returned as it is.
 *
 * @throws {@link UnsupportedPlatformError} when the file is in an archive and not unpacked.
 */
export function outsideAsar(path: string, exists: (path: string) => boolean): string {
  const archive = /([\\/][^\\/]+\.asar)(?=[\\/])/.exec(path);
  if (!archive) return path;
  const unpacked = path.slice(0, archive.index) + `${archive[1]}.unpacked` + path.slice(archive.index + archive[0].length);
  if (exists(unpacked)) return unpacked;
  throw new UnsupportedPlatformError(
    process.platform,
    `${path} is inside an asar archive, where Windows cannot load it. Unpack wts-session's prebuilds ` +
      "(electron-builder does it by itself unless smartUnpack is off, or add 'node_modules/wts-session/prebuilds/**' " +
      "to asarUnpack; Electron Forge: packagerConfig.asar.unpack '**/wts-session/prebuilds/**'), or pass " +
      `createKoffiApi({ lanes: false }) to run the calls on koffi's threads instead: see ${DOCS_URL}bundling.md.`,
  );
}

const LEVEL_ONE_FIELDS = ['ExecEnvId', 'State', 'SessionId', 'pSessionName', 'pHostName', 'pUserName', 'pDomainName', 'pFarmName'] as const;

function levelOneLayout(): Record<(typeof LEVEL_ONE_FIELDS)[number] | 'size' | 'pointerSize', number> {
  const { koffi: k, WTS_SESSION_INFO_1W } = win32Types();
  const layout = { size: k.sizeof(WTS_SESSION_INFO_1W), pointerSize: k.sizeof('void *') } as Record<string, number>;
  for (const field of LEVEL_ONE_FIELDS) layout[field] = k.offsetof(WTS_SESSION_INFO_1W, field);
  return layout as ReturnType<typeof levelOneLayout>;
}

const INFO_FIELDS = [
  'State', 'SessionId', 'IncomingBytes', 'OutgoingBytes', 'IncomingFrames', 'OutgoingFrames', 'IncomingCompressedBytes',
  'OutgoingCompressedBytes', 'WinStationName', 'Domain', 'UserName', 'ConnectTime', 'DisconnectTime', 'LastInputTime',
  'LogonTime', 'CurrentTime',
] as const;
type InfoField = (typeof INFO_FIELDS)[number];

const INFO_EX_FIELDS = [
  'SessionId', 'SessionState', 'SessionFlags', 'WinStationName', 'UserName', 'DomainName', 'LogonTime', 'ConnectTime',
  'DisconnectTime', 'LastInputTime', 'CurrentTime', 'IncomingBytes', 'OutgoingBytes', 'IncomingFrames', 'OutgoingFrames',
  'IncomingCompressedBytes', 'OutgoingCompressedBytes',
] as const;
type InfoExField = (typeof INFO_EX_FIELDS)[number];

/** WTSINFOEXW's size, the offset of its Data, and WTSINFOEX_LEVEL1_W's field offsets (within Data). */
function infoExLayout(): Record<InfoExField | 'size' | 'Data', number> {
  const { koffi: k, WTSINFOEXW, WTSINFOEX_LEVEL1_W } = win32Types();
  const layout = { size: k.sizeof(WTSINFOEXW), Data: k.offsetof(WTSINFOEXW, 'Data') } as Record<string, number>;
  for (const field of INFO_EX_FIELDS) layout[field] = k.offsetof(WTSINFOEX_LEVEL1_W, field);
  return layout as ReturnType<typeof infoExLayout>;
}

/** WTSCLIENTW's size and the offsets of the fields read, as koffi lays out the declared struct. */
function clientLayout(): Record<'size' | 'ClientName' | 'ClientAddressFamily' | 'ClientAddress', number> {
  const { koffi: k, WTSCLIENTW } = win32Types();
  return {
    size: k.sizeof(WTSCLIENTW),
    ClientName: k.offsetof(WTSCLIENTW, 'ClientName'),
    ClientAddressFamily: k.offsetof(WTSCLIENTW, 'ClientAddressFamily'),
    ClientAddress: k.offsetof(WTSCLIENTW, 'ClientAddress'),
  };
}

/** A fixed-size UTF-16 field: up to its first NUL, or all `chars` of it. */
function fixedText(view: DataView, offset: number, chars: number): string {
  let out = '';
  for (let i = 0, at = offset; i < chars; i++, at += 2) {
    const c = view.getUint16(at, true);
    if (c === 0) break;
    out += String.fromCharCode(c);
  }
  return out;
}

/** WTSINFOW's size and field offsets, as koffi lays out the declared struct. */
function infoLayout(): Record<InfoField | 'size', number> {
  const { koffi: k, WTSINFOW } = win32Types();
  const layout = { size: k.sizeof(WTSINFOW) } as Record<string, number>;
  for (const field of INFO_FIELDS) layout[field] = k.offsetof(WTSINFOW, field);
  return layout as ReturnType<typeof infoLayout>;
}

const PROCESS_FIELDS = [
  'SessionId', 'ProcessId', 'pProcessName', 'pUserSid', 'NumberOfThreads', 'HandleCount', 'PagefileUsage', 'PeakPagefileUsage',
  'WorkingSetSize', 'PeakWorkingSetSize', 'UserTime', 'KernelTime',
] as const;

/**
 * WTS_PROCESS_INFOW's or WTS_PROCESS_INFO_EXW's size and field offsets, as koffi lays out the
 * declared struct (the level-0 struct has only the first four fields).
 */
function processLayout(name: 'WTS_PROCESS_INFOW' | 'WTS_PROCESS_INFO_EXW'): Record<(typeof PROCESS_FIELDS)[number] | 'size', number> {
  const types = win32Types();
  const k = types.koffi;
  const type = types[name];
  const layout = { size: k.sizeof(type) } as Record<string, number>;
  for (const [i, field] of PROCESS_FIELDS.entries()) layout[field] = name === 'WTS_PROCESS_INFOW' && i >= 4 ? -1 : k.offsetof(type, field);
  return layout as ReturnType<typeof processLayout>;
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

/**
 * The koffi backend over the given libraries (on Windows, the system's wtsapi32 and kernel32): the
 * default backend on Windows. Koffi and the libraries are loaded here, not on import. Create one
 * and share it: each holds its own threads.
 *
 * @param options - the libraries' paths, `lanes`, and the thread limits `maxThreads`,
 *   `maxWaitThreads`, `stuckAfterMs`, `idleMs`.
 * @returns the backend, for {@link createWts}.
 * @throws {@link InvalidArgumentError} for a limit that is not an integer from 1 to 2147483647.
 * @throws {@link UnsupportedPlatformError} when Koffi or a library cannot be loaded (not Windows,
 *   a missing DLL).
 *
 * @example
 * ```ts
 * import { createKoffiApi, createWts } from 'wts-session';
 *
 * const wts = createWts({ api: createKoffiApi({ maxThreads: 256 }) });
 * ```
 */
export function createKoffiApi(options: KoffiApiOptions = {}): KoffiApi {
  // Checked before anything is loaded, on one copy of the options (a getter is read once): a
  // misspelt limit (`maxThread`) must not silently leave the default.
  const o = checkOptionsObject(options);
  checkKnownKeys(o, KOFFI_API_KEYS);
  const path = (name: string, what = 'the path or name of the library'): string | undefined => {
    const value = o[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) {
      throw new InvalidArgumentError(`options.${name}`, `Invalid options.${name}: expected ${what}, got ${describeValue(value)}.`);
    }
    return value;
  };
  const libraries = {
    wtsapi32: path('wtsapi32') ?? DEFAULT_LIBRARIES.wtsapi32,
    kernel32: path('kernel32') ?? DEFAULT_LIBRARIES.kernel32,
    advapi32: path('advapi32') ?? DEFAULT_LIBRARIES.advapi32,
    netapi32: path('netapi32') ?? DEFAULT_LIBRARIES.netapi32,
  };
  const lanes = o['lanes'] === false ? undefined : (path('lanes', 'the path of the wts_lanes library, or false') ?? defaultLanesPath());
  const limit = (name: 'maxThreads' | 'maxWaitThreads' | 'stuckAfterMs' | 'idleMs') => (o[name] === undefined ? {} : { [name]: positive(o[name], name) });
  const limits: LaneOptions = { ...limit('maxThreads'), ...limit('maxWaitThreads'), ...limit('stuckAfterMs'), ...limit('idleMs') };
  return KoffiApi.create(libraries, lanes === undefined ? undefined : { path: lanes, options: limits });
}

/** Every option createKoffiApi knows. */
const KOFFI_API_KEYS = ['wtsapi32', 'kernel32', 'advapi32', 'netapi32', 'lanes', 'maxThreads', 'maxWaitThreads', 'stuckAfterMs', 'idleMs'] as const;

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new InvalidArgumentError(`options.${name}`, `options.${name} must be an integer from 1 to 2147483647 (got ${String(value)}).`);
  }
  return value;
}

export { LANE_DEFAULTS };
