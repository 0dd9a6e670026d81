/**
 * The native double of wtsapi32 (native/), located with node-gyp-build and driven through its
 * control surface with koffi — the same way the backend under test reaches it.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import koffi from 'koffi';
import { SESSION_STATES } from '../../src/api/types';
import { dateToFileTime } from '../../src/wtsapi';
import { sidFromString } from '../../src/sid';
import { FarmAccounts } from '../../src/backends/mock/farm';
import type { Farm, FarmSession, MockApiName } from '../../src/mock';
import { ROOT } from '../helpers';

/** The double's API numbers (native/src/wts_types.h, enum DoubleApi). */
export const DOUBLE_API: Readonly<Record<MockApiName | 'enumerateEx' | 'close' | 'free' | 'wait' | 'version', number>> = {
  terminate: 12,
  open: 0,
  enumerate: 1,
  query: 2,
  logoff: 3,
  disconnect: 4,
  message: 5,
  enumerateEx: 6,
  close: 7,
  free: 8,
  processes: 9,
  /** WTSWaitSystemEvent: waits and flushes. */
  wait: 10,
  /** netapi32 NetServerGetInfo. */
  version: 11,
  /** WTSEnumerateProcessesExW only (`processes` fails both process calls). */
  processesEx: 13,
  /** advapi32 LookupAccountSidW. */
  lookup: 14,
};

/** Where the built double is, or why there is none. */
export function doublePath(): { path: string } | { missing: string } {
  const override = process.env['WTS_DOUBLE_PATH'];
  if (override) return existsSync(override) ? { path: override } : { missing: `WTS_DOUBLE_PATH=${override} does not exist` };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const path = nodeGypBuild.path(join(ROOT, 'native'));
    if (existsSync(path)) return { path };
    return { missing: `node-gyp-build found no binary in ${join(ROOT, 'native')}` };
  } catch (error) {
    return { missing: `the native double is not built (${(error as Error).message}); run npm run build:native` };
  }
}

const ANY = 0xffffffff;

export class NativeDouble {
  readonly path: string;
  readonly #fn: Record<string, (...args: unknown[]) => unknown>;

  constructor(path: string) {
    this.path = path;
    const lib = koffi.load(path);
    const str = 'const char16_t *';
    const decl: Array<[string, string, string[]]> = [
      ['WtsDouble_Reset', 'void', []],
      ['WtsDouble_ClearLeaks', 'void', []],
      ['WtsDouble_AddServer', 'int', [str, 'uint32_t', 'uint32_t', 'uint32_t', 'int']],
      ['WtsDouble_SetLocalServer', 'int', [str]],
      ['WtsDouble_AddAlias', 'int', [str, str]],
      ['WtsDouble_SetDnsNames', 'int', [str, str]],
      ['WtsDouble_SetClosingPolls', 'void', ['int']],
      ['WtsDouble_PutSession', 'int', [str, 'uint32_t', 'int', str, str, str, str, 'uint32_t', 'const uint8_t *', 'uint32_t']],
      ['WtsDouble_PutSessionFull', 'int', [str, 'uint32_t', 'int', str, str, str, str, 'uint32_t', 'const uint8_t *', 'uint32_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int32_t']],
      ['WtsDouble_PutProcess', 'int', [str, 'uint32_t', 'uint32_t', str]],
      [
        'WtsDouble_SetProcessInfo',
        'int',
        [str, 'uint32_t', 'const uint8_t *', 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', 'int64_t', 'int64_t'],
      ],
      ['WtsDouble_PutAccount', 'int', [str, 'const uint8_t *', 'uint32_t', str, str, 'int']],
      ['WtsDouble_SetSessionTimes', 'int', [str, 'uint32_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t']],
      ['WtsDouble_SetSessionLock', 'int', [str, 'uint32_t', 'int32_t']],
      ['WtsDouble_SetServerVersion', 'int', [str, 'uint32_t', 'uint32_t']],
      ['WtsDouble_SetFault', 'int', [str, 'int', 'uint32_t', 'uint32_t']],
      ['WtsDouble_SetLatency', 'int', [str, 'int', 'uint32_t']],
      ['WtsDouble_OutstandingAllocations', 'long', []],
      ['WtsDouble_OpenHandles', 'long', []],
      ['WtsDouble_BadFrees', 'long', []],
      ['WtsDouble_ClosedUnderCall', 'long', []],
      ['WtsDouble_CallCount', 'long', ['int']],
      ['WtsDouble_Layout', 'int', ['int', 'int']],
      ['WtsDouble_RaiseEvent', 'int', [str, 'uint32_t']],
      ['WtsDouble_RemoveSession', 'int', [str, 'uint32_t']],
      ['WtsDouble_PendingWaits', 'long', []],
    ];
    this.#fn = Object.fromEntries(decl.map(([name, ret, args]) => [name, lib.func(name, ret, args) as (...a: unknown[]) => unknown]));
    // The kernel32 calls, raw, to check them against Learn (on Windows builds they are exported
    // under these names by the .def; GetLastError forwards to kernel32 there).
    this.#raw = {
      GetComputerNameExW: lib.func('__stdcall', 'GetComputerNameExW', 'int', ['int', 'void *', koffi.inout(koffi.pointer('uint32_t'))]) as never,
      GetComputerNameW: lib.func('__stdcall', 'GetComputerNameW', 'int', ['void *', koffi.inout(koffi.pointer('uint32_t'))]) as never,
      GetLastError: lib.func('__stdcall', 'GetLastError', 'uint32_t', []) as never,
    };
  }

  readonly #raw: Record<'GetComputerNameExW' | 'GetComputerNameW' | 'GetLastError', (...a: unknown[]) => unknown>;

  /**
   * One raw GetComputerNameExW(type, buffer of `capacity` characters or NULL, &size) call, size
   * starting at `size` (default: capacity; null: a NULL nSize). The buffer starts filled with 0x5555.
   */
  computerNameEx(type: number, capacity: number | null, size: number | null = capacity ?? 0): RawNameCall {
    return this.#rawName((buffer, sizeRef) => this.#raw.GetComputerNameExW(type, buffer, sizeRef), capacity, size);
  }

  /** One raw GetComputerNameW call, like computerNameEx. */
  computerName(capacity: number | null, size: number | null = capacity ?? 0): RawNameCall {
    return this.#rawName((buffer, sizeRef) => this.#raw.GetComputerNameW(buffer, sizeRef), capacity, size);
  }

  #rawName(call: (buffer: Buffer | null, size: number[] | null) => unknown, capacity: number | null, size: number | null): RawNameCall {
    const buffer = capacity === null ? null : Buffer.alloc(capacity * 2 + 2, 0x55);
    const sizeRef = size === null ? null : [size];
    const ok = call(buffer, sizeRef) as number;
    const error = ok ? 0 : (this.#raw.GetLastError() as number);
    let text: string | undefined;
    if (buffer) {
      const units: number[] = [];
      for (let i = 0; i < buffer.length / 2; i++) units.push(buffer.readUInt16LE(i * 2));
      const end = units.indexOf(0);
      text = end < 0 ? undefined : buffer.toString('utf16le', 0, end * 2);
    }
    return { ok: ok !== 0, error, size: sizeRef?.[0], text, firstUnit: buffer ? buffer.readUInt16LE(0) : undefined };
  }

  #call(name: string, ...args: unknown[]): unknown {
    return (this.#fn[name] as (...a: unknown[]) => unknown)(...args);
  }

  #ok(name: string, ...args: unknown[]): void {
    if (this.#call(name, ...args) !== 1) throw new Error(`${name}(${args.map(String).join(', ')}) failed`);
  }

  /**
   * Loads a farm (the mock's JSON shape), call by call. A server's aliases open it; for the local
   * server, GetComputerNameExW reports its first dotted non-address alias as the FQDN (its first
   * label the DNS host name), else its first plain alias as the DNS host name. (The koffi backend
   * takes the machine's IP addresses from node:os, so address aliases are not local to it.)
   */
  loadFarm(farm: Farm, closingPolls = 1): void {
    this.#call('WtsDouble_Reset');
    this.#call('WtsDouble_SetClosingPolls', closingPolls);
    this.#farm = farm;
    this.#servers = farm.servers.map((s) => s.name);
    this.#loading = true;
    for (const server of farm.servers) {
      const sessions = server.sessions ?? [];
      const console = server.consoleSessionId ?? sessions.find((s) => (s.name ?? '').toLowerCase() === 'console')?.id ?? ANY;
      // No currentSessionId: the caller is in no session (ProcessIdToSessionId gives 0xFFFFFFFF, as the mock).
      this.#ok('WtsDouble_AddServer', server.name, console, server.currentSessionId ?? ANY, server.latencyMs ?? 0, server.unreachable ? 1 : 0);
      for (const alias of server.aliases ?? []) this.#ok('WtsDouble_AddAlias', server.name, alias);
      if (server.osVersion !== undefined) {
        const [major, minor] = server.osVersion.split('.').map(Number) as [number, number];
        this.setServerVersion(server.name, major, minor);
      }
      for (const session of sessions) this.putSession(server.name, session);
      for (const [api, table] of Object.entries(server.faults ?? {})) {
        for (const [key, code] of Object.entries(table)) this.setFault(server.name, api as MockApiName, key === '*' ? '*' : Number(key), code);
      }
    }
    this.#loading = false;
    this.#putAccounts(new FarmAccounts(farm));
    this.#ok('WtsDouble_SetLocalServer', farm.localServer);
    const local = farm.servers.find((s) => s.name.toLowerCase() === farm.localServer.toLowerCase());
    const names = (local?.aliases ?? []).filter((a) => isIP(a) === 0);
    const fqdn = names.find((a) => a.includes('.'));
    if (fqdn) this.setDnsNames(fqdn.slice(0, fqdn.indexOf('.')), fqdn.slice(fqdn.indexOf('.') + 1));
    else if (names[0]) this.setDnsNames(names[0], '');
  }

  /** GetComputerNameExW's DNS host name and DNS domain ('' host: the local server's name; '' domain: none). */
  setDnsNames(host: string, domain: string): void {
    this.#ok('WtsDouble_SetDnsNames', host, domain);
  }

  /** Another name WTSOpenServerW resolves to `server`. */
  addAlias(server: string, alias: string): void {
    this.#ok('WtsDouble_AddAlias', server, alias);
  }

  /** The farm loaded last (its `accounts` make the SIDs of sessions put later), and its servers. */
  #farm: Farm | undefined;
  #servers: string[] = [];
  /** Inside loadFarm: the accounts are put once the servers are all there. */
  #loading = false;

  /** Every account, on every server (LookupAccountSidW's table): the mock's are farm-wide. */
  #putAccounts(accounts: FarmAccounts): void {
    for (const [sid, account] of accounts.entries()) {
      const bytes = sidFromString(sid);
      for (const server of this.#servers) this.#ok('WtsDouble_PutAccount', server, bytes, bytes.length, account.name, account.domain, account.use);
    }
  }

  /** An account LookupAccountSidW resolves on `server` (SID_NAME_USE `use`, 1 = SidTypeUser). */
  putAccount(server: string, sid: string, name: string, domain: string, use = 1): void {
    const bytes = sidFromString(sid);
    this.#ok('WtsDouble_PutAccount', server, bytes, bytes.length, name, domain, use);
  }

  /**
   * A process's owner (a SID, or null: pUserSid NULL) and its WTS_PROCESS_INFO_EXW counters (times:
   * the LARGE_INTEGERs as they are).
   */
  setProcessInfo(
    server: string,
    pid: number,
    sid: string | null,
    counters: { threads?: number; handleCount?: number; pagefileUsage?: number; peakPagefileUsage?: number; workingSetSize?: number; peakWorkingSetSize?: number; userTime?: bigint | number; kernelTime?: bigint | number } = {},
  ): void {
    const bytes = sid === null ? null : sidFromString(sid);
    const c = counters;
    this.#ok(
      'WtsDouble_SetProcessInfo',
      server,
      pid,
      bytes,
      bytes?.length ?? 0,
      c.threads ?? 0,
      c.handleCount ?? 0,
      c.pagefileUsage ?? 0,
      c.peakPagefileUsage ?? 0,
      c.workingSetSize ?? 0,
      c.peakWorkingSetSize ?? 0,
      BigInt(c.userTime ?? 0),
      BigInt(c.kernelTime ?? 0),
    );
  }

  putSession(server: string, s: FarmSession): void {
    const { family, bytes } = addressBytes(s.clientAddress ?? '');
    // The session, its times and its lock state in one call (one lock in the double): a query on
    // another thread never sees it half put. The lock state is as a current Windows reports
    // SessionFlags (0 locked, 1 unlocked, 0xFFFFFFFF unknown): the double swaps it on a 6.1 server.
    const t = (iso: string | undefined) => dateToFileTime(iso ? new Date(iso) : null);
    this.#ok(
      'WtsDouble_PutSessionFull',
      server,
      s.id,
      SESSION_STATES.indexOf(s.state),
      s.name ?? '',
      s.user ?? '',
      s.domain ?? '',
      s.clientName ?? '',
      family,
      bytes,
      s.messageResponse ?? 1,
      t(s.logonTime),
      t(s.connectTime),
      t(s.disconnectTime),
      t(s.lastInputTime),
      s.locked === undefined || s.locked === false ? 1 : s.locked === null ? -1 : 0,
    );
    // Owners and counters as the mock reports them: the SIDs the farm's accounts give its users.
    const accounts = new FarmAccounts({ localServer: server, servers: [{ name: server, sessions: [s] }], ...(this.#farm?.accounts ? { accounts: this.#farm.accounts } : {}) });
    for (const p of s.processes ?? []) {
      this.#ok('WtsDouble_PutProcess', server, s.id, p.pid, p.name);
      this.setProcessInfo(server, p.pid, accounts.ownerSid(s, p), p);
    }
    if (this.#farm && !this.#loading) this.#putAccounts(accounts);
  }

  /**
   * A session's SessionFlags as Windows 8 and later report them (0 locked, 1 unlocked, 0xFFFFFFFF
   * unknown, or any other value): the double reports 0 and 1 swapped on a 6.1 server.
   */
  setSessionFlags(server: string, id: number, flags: number): void {
    this.#ok('WtsDouble_SetSessionLock', server, id, flags | 0);
  }

  /** The Windows version NetServerGetInfo reports for `server` (default 10.0). */
  setServerVersion(server: string, major: number, minor: number): void {
    this.#ok('WtsDouble_SetServerVersion', server, major, minor);
  }

  setSessionTimes(server: string, id: number, times: { logon: bigint; connect: bigint; disconnect: bigint; lastInput: bigint }): void {
    this.#ok('WtsDouble_SetSessionTimes', server, id, times.logon, times.connect, times.disconnect, times.lastInput);
  }

  setFault(server: string, api: keyof typeof DOUBLE_API, key: number | '*', code: number | undefined): void {
    this.#ok('WtsDouble_SetFault', server, DOUBLE_API[api], key === '*' ? ANY : key, code ?? 0);
  }

  setLatency(server: string, api: keyof typeof DOUBLE_API | '*', ms: number): void {
    this.#ok('WtsDouble_SetLatency', server, api === '*' ? -1 : DOUBLE_API[api], ms);
  }

  get outstandingAllocations(): number {
    return Number(this.#call('WtsDouble_OutstandingAllocations'));
  }

  get openHandles(): number {
    return Number(this.#call('WtsDouble_OpenHandles'));
  }

  get badFrees(): number {
    return Number(this.#call('WtsDouble_BadFrees'));
  }

  /** WTSCloseServer calls made while another call on the same handle was still inside the double. */
  get closedUnderCall(): number {
    return Number(this.#call('WtsDouble_ClosedUnderCall'));
  }

  calls(api: keyof typeof DOUBLE_API): number {
    return Number(this.#call('WtsDouble_CallCount', DOUBLE_API[api]));
  }

  /** Events of these kinds (WtsEvent flags) happen on `server`: the waits pending on it whose mask has one return. */
  raiseEvent(server: string, flags: number): void {
    this.#ok('WtsDouble_RaiseEvent', server, flags >>> 0);
  }

  /** Ends a session at once, no closing phase (WTS_EVENT_DELETE, and LOGOFF when it had a user); false when there was none. */
  removeSession(server: string, id: number): boolean {
    return this.#call('WtsDouble_RemoveSession', server, id) === 1;
  }

  /** Threads blocked in WTSWaitSystemEvent right now. */
  pendingWaits(): number {
    return Number(this.#call('WtsDouble_PendingWaits'));
  }

  /** Resolves once exactly `count` threads are blocked in WTSWaitSystemEvent (a wait reaches the double on a thread of its own). */
  async waitsPending(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingWaits() !== count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} pending WTSWaitSystemEvent call(s), have ${this.pendingWaits()}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  layout(struct: number, field: number): number {
    return this.#call('WtsDouble_Layout', struct, field) as number;
  }

  /**
   * What leaked since the last clear, then clears for the next test. `pendingWaits` (threads still
   * blocked in WTSWaitSystemEvent) and `closedUnderCall` (handles closed while a call on them was
   * still inside the double) appear only when non-zero, so that a check against
   * { allocations: 0, handles: 0, badFrees: 0 } fails on either; the clear fails those waits (6),
   * so no thread stays blocked.
   */
  leaks(): { allocations: number; handles: number; badFrees: number; pendingWaits?: number; closedUnderCall?: number } {
    const waits = this.pendingWaits();
    const under = this.closedUnderCall;
    const result = {
      allocations: this.outstandingAllocations,
      handles: this.openHandles,
      badFrees: this.badFrees,
      ...(waits ? { pendingWaits: waits } : {}),
      ...(under ? { closedUnderCall: under } : {}),
    };
    this.#call('WtsDouble_ClearLeaks');
    return result;
  }
}

/** What one raw name call did. */
export interface RawNameCall {
  readonly ok: boolean;
  /** GetLastError() right after a failed call; 0 after a success. */
  readonly error: number;
  /** *nSize after the call (undefined for a NULL nSize). */
  readonly size: number | undefined;
  /** The buffer's text up to its first NUL (undefined: no buffer, or no NUL in it). */
  readonly text: string | undefined;
  /** The buffer's first UTF-16 unit after the call (0x5555: untouched). */
  readonly firstUnit: number | undefined;
}

/** WTS_CLIENT_ADDRESS bytes: IPv4 at offset 2, IPv6 at offset 0. */
function addressBytes(text: string): { family: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(20);
  const kind = isIP(text);
  if (kind === 4) {
    text.split('.').forEach((part, i) => (bytes[2 + i] = Number(part)));
    return { family: 2, bytes };
  }
  if (kind === 6) {
    // An embedded IPv4 tail (::ffff:10.1.2.3) is the last two 16-bit groups.
    const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
    if (v4) {
      const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
      text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    }
    const [head = '', tail = ''] = text.split('::');
    const left = head ? head.split(':') : [];
    const right = text.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right];
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      bytes[i * 2] = v >> 8;
      bytes[i * 2 + 1] = v & 0xff;
    });
    return { family: 23, bytes };
  }
  return { family: 0, bytes };
}
