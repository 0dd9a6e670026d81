/**
 * The conformance suite (issue 11 §2): every row of the facts table (./facts.ts) that a backend
 * claims runs against that backend:
 * - `mock`: the in-memory mock, through the WtsApi seam;
 * - `double`: koffi + the native double: through the seam (the koffi backend) and, for the rows
 *   about pointers, byte counts and the last error, through raw wtsapi32 declarations made here
 *   with koffi. On Linux in `npm test`; as a Windows DLL inside node.exe under Wine in
 *   `npm run test:wine`;
 * - `wine`: Wine's own wtsapi32.dll / kernel32.dll, raw and through the seam, in
 *   `npm run test:wine` (WTS_CONFORMANCE=system, a process of its own).
 * A row a backend cannot honour is a known difference: a test named after it, and printed.
 */
import koffi from 'koffi';
import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { win32Types } from '../../src/backends/koffi/bindings';
import { responseName } from '../../src/api/message';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { Win32Error } from '../../src/errors';
import { dateToFileTime, LEVEL_ONE_UNSUPPORTED, WTS_ANY_SESSION, WTS_CURRENT_SERVER_HANDLE as CSH, WTS_CURRENT_SESSION as CS, WtsEvent, type ServerHandle, type WtsApi } from '../../src/wtsapi';
import { createWts } from '../../src/create';
import { isSidString, sidFromString, sidToString } from '../../src/sid';
import { doublePath, NativeDouble } from '../native/double';
import { BACKEND_LABELS, BACKENDS, FACTS, type Backend } from './facts';

// ---- the farm: shaped like a Windows RD Session Host -------------------------------------------

const FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      consoleSessionId: 1,
      currentSessionId: 2,
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected' },
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'TS01' },
        {
          id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', clientName: 'LAPTOP-7', clientAddress: '192.168.0.1',
          messageResponse: 0, processes: [{ pid: 4100, name: 'excel.exe', threads: 9, userTime: 1234, kernelTime: 56 }],
        },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', clientName: 'DESK-9', clientAddress: 'ffff::1' },
        { id: 4, name: '', state: 'Disconnected', user: 'carol', domain: 'CORP', processes: [{ pid: 5200, name: 'notepad.exe' }] },
        { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
      ],
    },
    { name: 'OLD08', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'OLD08' }] },
    { name: 'NEW22', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'NEW22' }] },
    { name: 'DOWN', unreachable: true },
  ],
};

/** No session attached to the console. */
const NO_CONSOLE_FARM: Farm = { localServer: 'HOST', servers: [{ name: 'HOST', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }] }] };

// ---- raw wtsapi32 / kernel32 through koffi ----------------------------------------------------

type Fn = (...args: unknown[]) => number;

class Raw {
  readonly pointerSize = koffi.sizeof('void *');
  readonly #w: Record<string, Fn>;
  /** WTSWaitSystemEvent, called with koffi's .async (it blocks). */
  readonly #wait: ReturnType<ReturnType<typeof koffi.load>["func"]>;

  constructor(wtsapi32: string, kernel32: string, advapi32: string) {
    const w = koffi.load(wtsapi32);
    const k = wtsapi32 === kernel32 ? w : koffi.load(kernel32);
    const a = wtsapi32 === advapi32 ? w : koffi.load(advapi32);
    const OUT_PVOID = koffi.out(koffi.pointer('void', 2));
    const INOUT_DWORD = koffi.inout(koffi.pointer('uint32_t'));
    const S = '__stdcall';
    this.#w = {
      query: w.func(S, 'WTSQuerySessionInformationW', 'int', ['void *', 'uint32_t', 'int', OUT_PVOID, INOUT_DWORD]) as Fn,
      free: w.func(S, 'WTSFreeMemory', 'void', ['void *']) as Fn,
      freeEx: w.func(S, 'WTSFreeMemoryExW', 'int', ['int', 'void *', 'uint32_t']) as Fn,
      processes: w.func(S, 'WTSEnumerateProcessesW', 'int', ['void *', 'uint32_t', 'uint32_t', OUT_PVOID, INOUT_DWORD]) as Fn,
      sessionsEx: w.func(S, 'WTSEnumerateSessionsExW', 'int', ['void *', INOUT_DWORD, 'uint32_t', OUT_PVOID, INOUT_DWORD]) as Fn,
      processesEx: w.func(S, 'WTSEnumerateProcessesExW', 'int', ['void *', INOUT_DWORD, 'uint32_t', OUT_PVOID, INOUT_DWORD]) as Fn,
      // (lpSystemName, Sid, Name, &cchName, ReferencedDomainName, &cchReferencedDomainName, &peUse)
      lookup: a.func(S, 'LookupAccountSidW', 'int', ['const char16_t *', 'void *', 'void *', INOUT_DWORD, 'void *', INOUT_DWORD, INOUT_DWORD]) as Fn,
      message: w.func(S, 'WTSSendMessageW', 'int', [
        'void *', 'uint32_t', 'const char16_t *', 'uint32_t', 'const char16_t *', 'uint32_t', 'uint32_t', 'uint32_t', INOUT_DWORD, 'int',
      ]) as Fn,
      computerName: k.func(S, 'GetComputerNameW', 'int', ['void *', INOUT_DWORD]) as Fn,
      getLastError: k.func(S, 'GetLastError', 'uint32_t', []) as Fn,
      setLastError: k.func(S, 'SetLastError', 'void', ['uint32_t']) as Fn,
      open: w.func(S, 'WTSOpenServerW', 'void *', ['const char16_t *']) as Fn,
      close: w.func(S, 'WTSCloseServer', 'void', ['void *']) as Fn,
    };
    this.#wait = w.func(S, 'WTSWaitSystemEvent', 'int', ['void *', 'uint32_t', koffi.out(koffi.pointer('uint32_t'))]);
  }

  /** WTSOpenServerW(name): the handle. */
  open(name: string): unknown {
    return (this.#w['open'] as Fn)(name);
  }

  /** WTSCloseServer(h). */
  close(handle: unknown): void {
    (this.#w['close'] as Fn)(handle);
  }

  /** WTSWaitSystemEvent(h, mask, &flags) on a thread of koffi's: its result and last error. */
  wait(handle: unknown, mask: number): Promise<{ ok: boolean; error: number }> {
    return new Promise((resolve, reject) => {
      this.#wait.async(handle, mask >>> 0, [0], (err: unknown, ret: number) => {
        if (err) reject(err);
        else resolve({ ok: ret !== 0, error: ret !== 0 ? 0 : (this.#w['getLastError'] as Fn)() >>> 0 });
      });
    });
  }

  /** One call with the last error preset to 0xdeadbeef; the last error read right after it. */
  call(name: string, ...args: unknown[]): { ret: number; error: number } {
    const fn = this.#w[name] as Fn;
    (this.#w['setLastError'] as Fn)(0xdeadbeef);
    const ret = fn(...args);
    const error = (this.#w['getLastError'] as Fn)() >>> 0;
    return { ret, error };
  }

  /** WTSQuerySessionInformationW on the local server; the buffer's bytes copied out, then freed. */
  query(session: number, infoClass: number): { ret: number; error: number; count: number; bytes: Buffer | null } {
    const out: Array<bigint | null> = [null];
    const count = [0xabcd];
    const { ret, error } = this.call('query', null, session >>> 0, infoClass, out, count);
    const pointer = out[0] ?? null;
    let bytes: Buffer | null = null;
    if (pointer) {
      bytes = Buffer.from(new Uint8Array(koffi.view(pointer, Math.max(count[0] ?? 0, 0)) as ArrayBuffer));
      this.free(pointer);
    }
    return { ret, error, count: count[0] ?? 0, bytes };
  }

  free(pointer: unknown): void {
    (this.#w['free'] as Fn)(pointer);
  }

  freeEx(type: number, pointer: unknown, count: number): number {
    return (this.#w['freeEx'] as Fn)(type, pointer, count);
  }

  /** The WTS_PROCESS_INFOW array decoded (SIDs as bytes, or null), then freed. */
  processes(): { ret: number; error: number; list: Array<{ sessionId: number; pid: number; name: string; sid: Buffer | null }> } {
    const out: Array<bigint | null> = [null];
    const count = [0];
    const { ret, error } = this.call('processes', null, 0, 1, out, count);
    const list: Array<{ sessionId: number; pid: number; name: string; sid: Buffer | null }> = [];
    const array = out[0] ?? null;
    if (array) {
      const p = this.pointerSize;
      const size = 8 + 2 * p;
      const view = new DataView(koffi.view(array, size * (count[0] ?? 0)) as ArrayBuffer);
      const ptr = (at: number) => (p === 8 ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true)));
      for (let i = 0; i < (count[0] ?? 0); i++) {
        const base = i * size;
        const namePtr = ptr(base + 8);
        const sidPtr = ptr(base + 8 + p);
        let sid: Buffer | null = null;
        if (sidPtr !== 0n) {
          const head = Buffer.from(new Uint8Array(koffi.view(sidPtr, 8) as ArrayBuffer));
          sid = Buffer.from(new Uint8Array(koffi.view(sidPtr, 8 + 4 * (head[1] ?? 0)) as ArrayBuffer));
        }
        list.push({
          sessionId: view.getUint32(base, true),
          pid: view.getUint32(base + 4, true),
          name: namePtr === 0n ? '' : (koffi.decode(namePtr, 'char16_t', -1) as string),
          sid,
        });
      }
      this.free(array);
    }
    return { ret, error, list };
  }

  /**
   * One LookupAccountSidW call with buffers of `nameChars` and `domainChars` characters; the text
   * up to the NULs and the sizes after the call.
   */
  lookup(system: string | null, sid: string, nameChars: number, domainChars: number): { ret: number; error: number; name: string; domain: string; nameSize: number; domainSize: number; use: number } {
    const name = Buffer.alloc(nameChars * 2 + 2);
    const domain = Buffer.alloc(domainChars * 2 + 2);
    const nameSize = [nameChars];
    const domainSize = [domainChars];
    const use = [0];
    const { ret, error } = this.call('lookup', system, Buffer.from(sidFromString(sid)), name, nameSize, domain, domainSize, use);
    const text = (b: Buffer) => b.toString('utf16le').replace(/\0.*$/s, '');
    return { ret, error, name: text(name), domain: text(domain), nameSize: nameSize[0] ?? 0, domainSize: domainSize[0] ?? 0, use: use[0] ?? 0 };
  }

  /** GetComputerNameW with a buffer of `capacity` characters. */
  computerName(capacity: number): { ret: number; error: number; size: number; text: string } {
    const buffer = Buffer.alloc(capacity * 2 + 2);
    const size = [capacity];
    const { ret, error } = this.call('computerName', buffer, size);
    let end = 0;
    while (end + 1 < buffer.length && buffer.readUInt16LE(end) !== 0) end += 2;
    return { ret, error, size: size[0] ?? 0, text: buffer.toString('utf16le', 0, end) };
  }
}

const sidText = (sid: Buffer): string => {
  const parts = [`S-${sid[0]}-${sid.readUIntBE(2, 6)}`];
  for (let i = 0; i < (sid[1] ?? 0); i++) parts.push(String(sid.readUInt32LE(8 + 4 * i)));
  return parts.join('-');
};

// ---- the backends -----------------------------------------------------------------------------

interface Target {
  readonly backend: Backend;
  /** A fresh seam over `farm` (mock, double); the system's (wine: the farm is ignored). */
  load(farm?: Farm, closingPolls?: number): WtsApi;
  readonly raw?: Raw;
  readonly double?: NativeDouble;
}

const mode = process.env['WTS_CONFORMANCE'] ?? '';
const found = doublePath();
const underWine = process.platform === 'win32' && process.env['WTS_UNDER_WINE'] === '1';

function target(backend: Backend): Target | string {
  if (backend === 'wine') {
    if (!underWine || mode !== 'system') return 'runs only under npm run test:wine (WTS_CONFORMANCE=system, inside Windows node.exe)';
    const raw = new Raw('wtsapi32.dll', 'kernel32.dll', 'advapi32.dll');
    const api = createKoffiApi();
    return { backend, raw, load: () => api };
  }
  if (mode === 'system') return "not in the system-DLL run (it runs in npm run test:wine's double run and in npm test)";
  if (backend === 'mock') return { backend, load: (farm = FARM, closingPolls = 1) => createMockApi(farm, { closingPolls }) };
  if ('missing' in found) return found.missing;
  const double = new NativeDouble(found.path);
  double.leaks();
  const raw = new Raw(found.path, found.path, found.path);
  return {
    backend,
    raw,
    double,
    load: (farm = FARM, closingPolls = 1) => {
      double.loadFarm(farm, closingPolls);
      return createKoffiApi({ wtsapi32: found.path, kernel32: found.path, advapi32: found.path, netapi32: found.path });
    },
  };
}

async function win32Code(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Win32Error) return error.win32Code;
    throw error;
  }
  throw new Error('expected a Win32Error, but the call succeeded');
}

const need = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('missing');
  return value;
};

// ---- the checks, by fact id -------------------------------------------------------------------

type Check = (t: Target) => Promise<void> | void;
const WTSUserName = 5;
const WTSDomainName = 7;
const WTSConnectState = 8;
const WTSClientAddress = 14;
const WTSClientInfo = 23;
const WTSClientProtocolType = 16;
const WTSSessionInfo = 24;
const WTSIsRemoteSession = 29;
const WTSSessionInfoEx = 25;
const UNSUPPORTED = { WTSIdleTime: 17, WTSLogonTime: 18, WTSIncomingBytes: 19, WTSOutgoingBytes: 20, WTSIncomingFrames: 21, WTSOutgoingFrames: 22 };

const rawNullBuffer: Check = (t) => {
  t.load();
  const raw = need(t.raw);
  for (const before of [0, 1, 7]) {
    const count = [before];
    const { ret, error } = raw.call('query', null, CS, WTSUserName, null, count);
    expect({ ret, error, count: count[0] }).toEqual({ ret: 0, error: 1784, count: before });
  }
};

const rawNullCount: Check = (t) => {
  t.load();
  const out: Array<bigint | null> = [null];
  const { ret, error } = need(t.raw).call('query', null, CS, WTSUserName, out, null);
  expect({ ret, error, buffer: out[0] ?? null }).toEqual({ ret: 0, error: 1784, buffer: null });
};

const rawStringCount: Check = (t) => {
  t.load();
  for (const cls of [WTSUserName, WTSDomainName]) {
    const r = need(t.raw).query(CS, cls);
    expect(r.ret).toBe(1);
    const text = need(r.bytes ?? undefined).toString('utf16le').replace(/\0.*$/s, '');
    expect(r.count).toBe((text.length + 1) * 2);
    if (t.backend === 'double') expect(text).toBe(cls === WTSUserName ? 'alice' : 'CORP');
  }
};

const rawProcessesLastError: Check = (t) => {
  t.load();
  const r = need(t.raw).processes();
  expect({ ret: r.ret, error: r.error }).toEqual({ ret: 1, error: 0 });
};

const rawProcessesBadArguments: Check = (t) => {
  t.load();
  const raw = need(t.raw);
  const cases: Array<[string, number, number, boolean, boolean]> = [
    ['Reserved 1', 1, 1, true, true],
    ['Version 0', 0, 0, true, true],
    ['Version 2', 0, 2, true, true],
    ['ppProcessInfo NULL', 0, 1, false, true],
    ['pCount NULL', 0, 1, true, false],
  ];
  for (const [what, reserved, version, withInfo, withCount] of cases) {
    const out: Array<bigint | null> = [null];
    const { ret, error } = raw.call('processes', null, reserved, version, withInfo ? out : null, withCount ? [0] : null);
    if (out[0]) raw.free(out[0]);
    expect({ what, ret, error }).toEqual({ what, ret: 0, error: 87 });
  }
};

const rawProcessSids: Check = (t) => {
  t.load();
  const r = need(t.raw).processes();
  expect(r.ret).toBe(1);
  const sids = r.list.filter((p) => p.sid !== null);
  expect(sids.length).toBeGreaterThan(0);
  for (const p of sids) {
    const sid = need(p.sid ?? undefined);
    expect({ pid: p.pid, revision: sid[0], valid: (sid[1] ?? 99) <= 15 }).toEqual({ pid: p.pid, revision: 1, valid: true });
  }
  if (t.backend === 'double') {
    expect(sids.length).toBe(r.list.length);
    expect(sidText(need(r.list[0]?.sid ?? undefined))).toBe('S-1-5-18');
  }
};

/** WTSEnumerateProcessesExW with NULL ppProcessInfo, NULL pCount, then both (Wine's tests, 166-189). */
const rawProcessesEx: Check = (t) => {
  t.load();
  const raw = need(t.raw);
  const level = [0];
  const count = [0xdeadbeef];
  const nullInfo = raw.call('processesEx', null, level, WTS_ANY_SESSION, null, count);
  expect({ ...nullInfo, count: count[0] }).toEqual({ ret: 0, error: 87, count: 0xdeadbeef });
  const out: Array<bigint | null> = [null];
  const nullCount = raw.call('processesEx', null, level, WTS_ANY_SESSION, out, null);
  expect({ ...nullCount, info: out[0] ?? null }).toEqual({ ret: 0, error: 87, info: null });
  const both = [0];
  const ok = raw.call('processesEx', null, level, WTS_ANY_SESSION, out, both);
  expect({ ...ok, level: level[0] }).toEqual({ ret: 1, error: 0, level: 0 });
  expect(both[0]).toBeGreaterThan(0);
  expect(raw.freeEx(0 /* WTSTypeProcessInfoLevel0 */, out[0], both[0] ?? 0)).toBe(1);
};

/** SIDs in text form as a backend gives them: each encodes and decodes back to itself. */
const sidsRoundTrip = (sids: ReadonlyArray<string | null | undefined>): void => {
  const present = sids.filter((s): s is string => typeof s === 'string');
  expect(present.length).toBeGreaterThan(0);
  for (const sid of present) expect([sid, sidToString(sidFromString(sid))]).toEqual([sid, sid]);
};

const rawComputerNameShort: Check = (t) => {
  t.load();
  const raw = need(t.raw);
  const full = raw.computerName(64);
  expect(full.ret).toBe(1);
  const short = raw.computerName(full.text.length - 1);
  expect({ ret: short.ret, error: short.error, size: short.size }).toEqual({ ret: 0, error: 111, size: full.text.length + 1 });
};

/** WTSTerminateProcess: 4100 ends and leaves the list; again it is 87; PID 0 is 5. */
async function terminateRows(t: Target, row: 'terminate-process' | 'terminate-gone' | 'terminate-idle-process'): Promise<void> {
  const api = t.load();
  const code = async (pid: number) => {
    try {
      await api.terminateProcess!(CSH, pid, 1);
      return 0;
    } catch (error) {
      return (error as { win32Code?: number }).win32Code;
    }
  };
  if (row === 'terminate-process') {
    expect(await code(4100)).toBe(0);
    expect((await api.enumerateProcesses(CSH)).map((p) => p.processId)).not.toContain(4100);
  } else if (row === 'terminate-gone') {
    expect(await code(4100)).toBe(0);
    expect(await code(4100)).toBe(87);
    expect(await code(987654)).toBe(87);
  } else {
    expect(await code(0)).toBe(5);
  }
}

const CHECKS: Record<string, Partial<Record<Backend, Check>>> = {
  'terminate-process': { mock: (t) => terminateRows(t, 'terminate-process'), double: (t) => terminateRows(t, 'terminate-process') },
  'terminate-gone': { mock: (t) => terminateRows(t, 'terminate-gone'), double: (t) => terminateRows(t, 'terminate-gone') },
  'terminate-idle-process': { mock: (t) => terminateRows(t, 'terminate-idle-process'), double: (t) => terminateRows(t, 'terminate-idle-process') },
  'query-null-buffer': { double: rawNullBuffer, wine: rawNullBuffer },
  'query-null-count': { double: rawNullCount, wine: rawNullCount },
  'query-protocol-type': {
    mock: async (t) => {
      const api = t.load();
      expect(await api.querySessionInformation(CSH, 1, 'WTSClientProtocolType')).toBe(0);
      expect(await api.querySessionInformation(CSH, 2, 'WTSClientProtocolType')).toBe(2);
    },
    double: async (t) => {
      const api = t.load();
      expect(await api.querySessionInformation(CSH, 1, 'WTSClientProtocolType')).toBe(0);
      expect(await api.querySessionInformation(CSH, 2, 'WTSClientProtocolType')).toBe(2);
      for (const [id, value] of [[1, 0], [2, 2]] as const) {
        const r = need(t.raw).query(id, WTSClientProtocolType);
        expect({ ret: r.ret, count: r.count, value: r.bytes?.readUInt16LE(0) }).toEqual({ ret: 1, count: 2, value });
      }
    },
    wine: async (t) => {
      const r = need(t.raw).query(CS, WTSClientProtocolType);
      expect({ ret: r.ret, count: r.count, value: r.bytes?.readUInt16LE(0) }).toEqual({ ret: 1, count: 2, value: 0 });
      expect(await t.load().querySessionInformation(CSH, CS, 'WTSClientProtocolType')).toBe(0);
    },
  },
  'query-connect-state': {
    mock: async (t) => expect(await t.load().querySessionInformation(CSH, CS, 'WTSConnectState')).toBe(0),
    double: async (t) => {
      expect(await t.load().querySessionInformation(CSH, CS, 'WTSConnectState')).toBe(0);
      const r = need(t.raw).query(CS, WTSConnectState);
      expect({ ret: r.ret, count: r.count, value: r.bytes?.readUInt32LE(0) }).toEqual({ ret: 1, count: 4, value: 0 });
    },
  },
  'query-session-info': {
    mock: async (t) => {
      const api = t.load();
      const t1 = Date.now();
      const info = await api.querySessionInformation(CSH, CS, 'WTSSessionInfo');
      const t2 = Date.now();
      const now = need(info.currentTime ?? undefined).getTime();
      expect(now >= t1 && now <= t2).toBe(true);
    },
    double: async (t) => {
      const api = t.load();
      const t1 = dateToFileTime(new Date(Date.now()));
      const r = need(t.raw).query(CS, WTSSessionInfo);
      const t2 = dateToFileTime(new Date(Date.now() + 1));
      expect({ ret: r.ret, count: r.count }).toEqual({ ret: 1, count: 216 });
      const current = need(r.bytes ?? undefined).readBigInt64LE(208);
      expect(current >= t1 && current <= t2).toBe(true);
      const info = await api.querySessionInformation(CSH, CS, 'WTSSessionInfo');
      expect(info.winStationName).toBe('RDP-Tcp#0');
    },
  },
  'query-string-count': { double: rawStringCount, wine: rawStringCount },
  'query-domain-local-account': {
    wine: (t) => {
      const raw = need(t.raw);
      const r = raw.query(CS, WTSDomainName);
      const domain = need(r.bytes ?? undefined).toString('utf16le').replace(/\0.*$/s, '');
      expect(domain.toLowerCase()).toBe(raw.computerName(64).text.toLowerCase());
    },
  },
  'query-unsupported-classes': {
    mock: async (t) => {
      const api = t.load();
      for (const name of Object.keys(UNSUPPORTED)) {
        expect([name, await win32Code(api.querySessionInformation(CSH, CS, name as never))]).toEqual([name, 50]);
      }
    },
    double: (t) => {
      t.load();
      for (const [name, cls] of Object.entries(UNSUPPORTED)) {
        const r = need(t.raw).query(CS, cls);
        expect({ name, ret: r.ret, error: r.error }).toEqual({ name, ret: 0, error: 50 });
      }
    },
  },
  'is-remote-session-size': {
    mock: async (t) => {
      const api = t.load();
      expect(await api.querySessionInformation(CSH, 2, 'WTSIsRemoteSession')).toBe(true);
      expect(await api.querySessionInformation(CSH, 1, 'WTSIsRemoteSession')).toBe(false);
    },
    double: async (t) => {
      const api = t.load();
      expect(await api.querySessionInformation(CSH, CS, 'WTSIsRemoteSession')).toBe(true);
      const r = need(t.raw).query(CS, WTSIsRemoteSession);
      expect({ ret: r.ret, count: r.count, value: r.bytes?.readUInt8(0) }).toEqual({ ret: 1, count: 1, value: 1 });
    },
  },
  'enum-processes-last-error': { double: rawProcessesLastError, wine: rawProcessesLastError },
  'enum-processes-bad-arguments': { double: rawProcessesBadArguments, wine: rawProcessesBadArguments },
  'enum-processes-pid0': {
    mock: async (t) => {
      const list = await t.load().enumerateProcesses(CSH);
      expect(list[0]).toEqual({ sessionId: 0, processId: 0, processName: 'System Idle Process', userSid: 'S-1-5-18' });
      expect(list.filter((p) => p.processId === 0)).toHaveLength(1);
    },
    double: async (t) => {
      const list = await t.load().enumerateProcesses(CSH);
      expect(list[0]).toEqual({ sessionId: 0, processId: 0, processName: 'System Idle Process', userSid: 'S-1-5-18' });
      expect(list.map((p) => p.processId)).toEqual([0, 4100, 5200]);
      const raw = need(t.raw).processes();
      expect(raw.list[0]).toMatchObject({ sessionId: 0, pid: 0 });
    },
  },
  'enum-processes-sids': {
    mock: async (t) => {
      const list = await t.load().enumerateProcesses(CSH);
      expect(list.map((p) => p.userSid).every((sid) => isSidString(sid))).toBe(true);
      expect(list[0]?.userSid).toBe('S-1-5-18');
    },
    double: async (t) => {
      rawProcessSids(t);
      // Through the seam: the same SIDs, decoded.
      const seam = await t.load().enumerateProcesses(CSH);
      const raw = need(t.raw).processes().list;
      expect(seam.map((p) => p.userSid)).toEqual(raw.map((p) => (p.sid ? sidText(p.sid) : null)));
    },
    wine: async (t) => {
      rawProcessSids(t);
      const seam = await t.load().enumerateProcesses(CSH);
      expect(seam.some((p) => typeof p.userSid === 'string')).toBe(true);
    },
  },
  'enum-processes-ex': { double: rawProcessesEx, wine: rawProcessesEx },
  'enum-processes-ex-level': {
    double: (t) => {
      t.load();
      const level = [2];
      const out: Array<bigint | null> = [null];
      const count = [0];
      const r = need(t.raw).call('processesEx', null, level, WTS_ANY_SESSION, out, count);
      expect({ ...r, level: level[0], info: out[0] ?? null }).toEqual({ ret: 0, error: 87, level: 1, info: null });
    },
  },
  'enum-processes-ex-free': {
    double: (t) => {
      t.load();
      const raw = need(t.raw);
      const take = () => {
        const out: Array<bigint | null> = [null];
        const count = [0];
        const r = raw.call('processesEx', null, [1], WTS_ANY_SESSION, out, count);
        expect(r).toEqual({ ret: 1, error: 0 });
        return { array: out[0], count: count[0] ?? 0 };
      };
      const a = take();
      expect(raw.freeEx(1 /* WTSTypeProcessInfoLevel1 */, a.array, a.count)).toBe(1);
      // Another class, or WTSFreeMemory, is a bad free (the double counts it; with a wrong class it keeps the array).
      const b = take();
      expect(raw.freeEx(0, b.array, b.count)).toBe(0);
      expect(raw.freeEx(2, b.array, b.count)).toBe(0);
      raw.free(b.array);
      expect(need(t.double).leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 3 });
    },
  },
  'enum-processes-ex-unsupported': {
    mock: async (t) => unsupportedLevelOne(t, (api) => (api as MockApi).setFault('TS01', 'processesEx', '*', 120)),
    double: async (t) => unsupportedLevelOne(t, () => need(t.double).setFault('TS01', 'processesEx', '*', 1745)),
    wine: async (t) => unsupportedLevelOne(t, () => undefined),
  },
  'process-info-ex-layout': {
    double: (t) => {
      const { WTS_PROCESS_INFO_EXW: type } = win32Types();
      const fields = ['SessionId', 'ProcessId', 'pProcessName', 'pUserSid', 'NumberOfThreads', 'HandleCount', 'PagefileUsage', 'PeakPagefileUsage', 'WorkingSetSize', 'PeakWorkingSetSize', 'UserTime', 'KernelTime'];
      const double = need(t.double);
      expect([koffi.sizeof(type), ...fields.map((f) => koffi.offsetof(type, f))]).toEqual([double.layout(9, 0), ...fields.map((_, i) => double.layout(9, i + 1))]);
      const wide = koffi.sizeof('void *') === 8;
      expect({ size: koffi.sizeof(type), userTime: koffi.offsetof(type, 'UserTime') }).toEqual(wide ? { size: 64, userTime: 48 } : { size: 56, userTime: 40 });
    },
  },
  'process-info-ex-times': {
    mock: async (t) => processTimes(t),
    double: async (t) => processTimes(t),
  },
  'lookup-account-sid': {
    mock: async (t) => {
      const api = t.load();
      expect(await need(api.lookupAccountSid).call(api, '', 'S-1-5-18')).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
      expect(await need(api.lookupAccountSid).call(api, '', 'S-1-5-21-9-9-9-500')).toBeNull();
      expect(await win32Code(need(api.lookupAccountSid).call(api, 'DOWN', 'S-1-5-18'))).toBe(1722);
    },
    double: async (t) => {
      const api = t.load();
      const raw = need(t.raw);
      const full = raw.lookup(null, 'S-1-5-18', 64, 64);
      expect(full).toEqual({ ret: 1, error: expect.any(Number), name: 'SYSTEM', domain: 'NT AUTHORITY', nameSize: 6, domainSize: 12, use: 5 });
      const short = raw.lookup(null, 'S-1-5-18', 1, 64);
      expect({ ret: short.ret, error: short.error, nameSize: short.nameSize }).toEqual({ ret: 0, error: 122, nameSize: 7 });
      expect(raw.lookup(null, 'S-1-5-21-9-9-9-500', 64, 64)).toMatchObject({ ret: 0, error: 1332 });
      expect(raw.lookup('NOSUCHHOST', 'S-1-5-18', 64, 64)).toMatchObject({ ret: 0, error: 1722 });
      expect(await need(api.lookupAccountSid).call(api, '', 'S-1-5-18')).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
    },
  },
  'sid-format': {
    mock: async (t) => sidsRoundTrip((await t.load().enumerateProcesses(CSH)).map((p) => p.userSid)),
    double: async (t) => {
      const seam = await t.load().enumerateProcesses(CSH);
      sidsRoundTrip(seam.map((p) => p.userSid));
      // The bytes in memory are the bytes the text encodes back to.
      const raw = need(t.raw).processes().list;
      expect(raw.map((p) => (p.sid ? [...p.sid] : null))).toEqual(seam.map((p) => (p.userSid ? [...sidFromString(p.userSid)] : null)));
    },
    wine: (t) => {
      const raw = need(t.raw).processes().list.filter((p) => p.sid !== null);
      expect(raw.length).toBeGreaterThan(0);
      for (const p of raw) {
        const bytes = new Uint8Array(need(p.sid ?? undefined));
        const text = need(sidToString(bytes) ?? undefined);
        expect([...sidFromString(text)]).toEqual([...bytes]);
      }
    },
  },

  'enum-sessions-services-console': {
    mock: async (t) => servicesAndConsole(t),
    double: async (t) => servicesAndConsole(t),
  },
  'enum-sessions-host-name': {
    mock: async (t) => expect((await t.load().enumerateSessions(CSH)).map((s) => s.hostName)).toEqual(FARM.servers[0]?.sessions?.map(() => '')),
    double: async (t) => expect((await t.load().enumerateSessions(CSH)).map((s) => s.hostName)).toEqual(FARM.servers[0]?.sessions?.map(() => '')),
  },
  'enum-sessions-exec-env-id': {
    mock: async (t) => execEnvIds(t),
    double: async (t) => execEnvIds(t),
  },
  'enum-sessions-ex-free': {
    double: (t) => {
      t.load();
      const raw = need(t.raw);
      const out: Array<bigint | null> = [null];
      const count = [0];
      const level = [1];
      const { ret } = raw.call('sessionsEx', null, level, 0, out, count);
      expect({ ret, level: level[0], count: count[0] }).toEqual({ ret: 1, level: 1, count: 6 });
      expect(raw.freeEx(2, out[0], count[0])).toBe(1);
    },
  },
  'level-one-unsupported': {
    double: async (t) => {
      const api = t.load();
      const double = need(t.double);
      for (const code of [120, 1745, 50]) {
        double.setFault('OLD08', 'enumerateEx', '*', code);
        const old = await api.openServer('OLD08');
        const fresh = await api.openServer('NEW22');
        try {
          expect((await api.enumerateSessions(old)).map((s) => [s.sessionId, s.userName])).toEqual([[0, ''], [1, 'admin']]);
          const queries = double.calls('query');
          expect((await api.enumerateSessions(fresh)).map((s) => s.sessionId)).toEqual([0, 1]);
          // Level 1 on the other server: no per-session queries (level 0 queries user and domain).
          expect([code, double.calls('query') - queries]).toEqual([code, 0]);
        } finally {
          await api.closeServer(old);
          await api.closeServer(fresh);
        }
      }
    },
    wine: async (t) => expect(Array.isArray(await t.load().enumerateSessions(CSH))).toBe(true),
  },
  'rpc-error-first-use': {
    mock: async (t) => rpcFirstUse(t),
    double: async (t) => rpcFirstUse(t),
  },
  'console-session-none': {
    mock: (t) => expect(t.load(NO_CONSOLE_FARM).getActiveConsoleSessionId()).toBe(0xffffffff),
    double: (t) => expect(t.load(NO_CONSOLE_FARM).getActiveConsoleSessionId()).toBe(0xffffffff),
  },
  'computer-name-short-buffer': { double: rawComputerNameShort, wine: rawComputerNameShort },
  'send-message-lengths': {
    double: async (t) => {
      const api = t.load();
      const response = [0xabcd];
      const title = 'Wartung';
      const text = 'Bitte abmelden 😀';
      const { ret } = need(t.raw).call('message', null, 3, title, title.length * 2, text, text.length * 2, 0, 0, response, 1);
      expect({ ret, response: response[0] }).toEqual({ ret: 1, response: 1 });
      expect(await api.sendMessage(CSH, 3, { title, text, style: 0, timeoutSeconds: 0, wait: true })).toBe(1);
    },
  },
  'send-message-timeout-zero': {
    mock: async (t) => timeoutZero(t),
    double: async (t) => timeoutZero(t),
  },
  'client-address-ipv4': {
    mock: async (t) => expect(await t.load().querySessionInformation(CSH, 2, 'WTSClientAddress')).toEqual({ family: 2, address: '192.168.0.1' }),
    double: async (t) => {
      expect(await t.load().querySessionInformation(CSH, 2, 'WTSClientAddress')).toEqual({ family: 2, address: '192.168.0.1' });
      const r = need(t.raw).query(2, WTSClientAddress);
      const b = need(r.bytes ?? undefined);
      expect({ count: r.count, family: b.readUInt32LE(0), address: [...b.subarray(4, 10)] }).toEqual({ count: 24, family: 2, address: [0, 0, 0xc0, 0xa8, 0, 1] });
    },
  },
  'client-info': {
    mock: async (t) => {
      expect(await t.load().querySessionInformation(CSH, 2, 'WTSClientInfo')).toEqual({ clientName: 'LAPTOP-7', family: 2, address: '192.168.0.1' });
      expect(await t.load().querySessionInformation(CSH, 3, 'WTSClientInfo')).toEqual({ clientName: 'DESK-9', family: 23, address: undefined });
    },
    double: async (t) => {
      expect(await t.load().querySessionInformation(CSH, 2, 'WTSClientInfo')).toEqual({ clientName: 'LAPTOP-7', family: 2, address: '192.168.0.1' });
      expect(await t.load().querySessionInformation(CSH, 3, 'WTSClientInfo')).toEqual({ clientName: 'DESK-9', family: 23, address: undefined });
      const { WTSCLIENTW } = win32Types();
      const r = need(t.raw).query(2, WTSClientInfo);
      const b = need(r.bytes ?? undefined);
      const at = koffi.offsetof(WTSCLIENTW, 'ClientAddress');
      expect({ count: r.count, family: b.readUInt32LE(koffi.offsetof(WTSCLIENTW, 'ClientAddressFamily')), text: b.subarray(at, at + 22).toString('utf16le') }).toEqual({
        count: koffi.sizeof(WTSCLIENTW),
        family: 2,
        text: '192.168.0.1',
      });
    },
  },
  'client-address-ipv6': {
    mock: async (t) => expect(await t.load().querySessionInformation(CSH, 3, 'WTSClientAddress')).toEqual({ family: 23, address: 'ffff::1' }),
    double: async (t) => {
      expect(await t.load().querySessionInformation(CSH, 3, 'WTSClientAddress')).toEqual({ family: 23, address: 'ffff::1' });
      const b = need(need(t.raw).query(3, WTSClientAddress).bytes ?? undefined);
      expect([...b.subarray(4, 20)]).toEqual([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    },
  },
  'query-session-info-ex': {
    mock: async (t) => sessionInfoEx(t),
    double: async (t) => {
      await sessionInfoEx(t);
      const r = need(t.raw).query(2, WTSSessionInfoEx);
      const { WTSINFOEXW } = win32Types();
      expect({ ret: r.ret, count: r.count, level: r.bytes?.readUInt32LE(0) }).toEqual({ ret: 1, count: koffi.sizeof(WTSINFOEXW), level: 1 });
      if (koffi.sizeof('void *') === 8) expect([koffi.sizeof(WTSINFOEXW), koffi.offsetof(WTSINFOEXW, 'Data')]).toEqual([232, 8]);
    },
  },
  'session-flags-lock': { mock: async (t) => sessionFlags(t), double: async (t) => sessionFlags(t) },
  'session-info-user': { mock: async (t) => sessionInfoUser(t), double: async (t) => sessionInfoUser(t) },
  'server-version-netservergetinfo': {
    mock: async (t) => serverVersion(t),
    double: async (t) => {
      await serverVersion(t);
      // Raw: the result is the status, the major carries a bit above MAJOR_VERSION_MASK, and the
      // buffer goes back with NetApiBufferFree (the leak check after the test counts a wrong free).
      const lib = koffi.load(need(t.double).path);
      const get = lib.func('__stdcall', 'NetServerGetInfo', 'uint32_t', ['const char16_t *', 'uint32_t', koffi.out(koffi.pointer('void', 2))]);
      const free = lib.func('__stdcall', 'NetApiBufferFree', 'uint32_t', ['void *']);
      const out: unknown[] = [null];
      expect(get(null, 101, out)).toBe(0);
      const info = koffi.decode(out[0], win32Types().SERVER_INFO_101) as { sv101_platform_id: number; sv101_version_major: number; sv101_version_minor: number };
      expect([info.sv101_platform_id, info.sv101_version_major & 0x0f, info.sv101_version_minor]).toEqual([500, 10, 0]);
      expect(free(out[0])).toBe(0);
      const none: unknown[] = [null];
      expect(get(null, 100, none)).toBe(124); // ERROR_INVALID_LEVEL: the double answers level 101 only
      expect(none[0] ?? null).toBeNull();
    },
  },
  'logoff-listener': {
    mock: async (t) => expect(await win32Code(t.load().logoffSession(CSH, 65536))).toBe(87),
    double: async (t) => expect(await win32Code(t.load().logoffSession(CSH, 65536))).toBe(87),
  },
  'logoff-closing': {
    mock: async (t) => logoffClosing(t),
    double: async (t) => logoffClosing(t),
  },
  'query-after-logoff': {
    mock: async (t) => queryAfterLogoff(t),
    double: async (t) => queryAfterLogoff(t),
  },
  'request-to-ended-session': {
    mock: async (t) => requestToEnded(t),
    double: async (t) => requestToEnded(t),
  },
  'disconnect-disconnected': {
    mock: async (t) => disconnectDisconnected(t),
    double: async (t) => disconnectDisconnected(t),
  },
  'disconnect-listener-or-session-zero': {
    mock: async (t) => {
      const api = t.load();
      expect([await win32Code(api.disconnectSession(CSH, 65536)), await win32Code(api.disconnectSession(CSH, 0))]).toEqual([87, 87]);
    },
    double: async (t) => {
      const api = t.load();
      expect([await win32Code(api.disconnectSession(CSH, 65536)), await win32Code(api.disconnectSession(CSH, 0))]).toEqual([87, 87]);
    },
  },
  'disconnect-clears-winstation-name': {
    mock: async (t) => disconnectClearsName(t),
    double: async (t) => disconnectClearsName(t),
  },
  'wait-system-event-blocks': { mock: async (t) => waitBlocks(t), double: async (t) => waitBlocks(t) },
  'wait-system-event-flush': { mock: async (t) => waitFlush(t), double: async (t) => waitFlush(t) },
  'wait-system-event-between-waits': { mock: async (t) => waitBetweenWaits(t), double: async (t) => waitBetweenWaits(t) },
  'wait-system-event-close-pending': { double: async (t) => waitClosePending(t) },
};

/** A server without WTSEnumerateProcessesExW level 1: the seam rejects with a fallback code; listProcesses answers from level 0. */
async function unsupportedLevelOne(t: Target, lackLevelOne: (api: WtsApi) => void): Promise<void> {
  const api = t.load();
  lackLevelOne(api);
  const code = await win32Code(need(api.enumerateProcessesEx).call(api, CSH, WTS_ANY_SESSION));
  expect([code, LEVEL_ONE_UNSUPPORTED.has(code)]).toEqual([code, true]);
  const list = await createWts({ api }).listProcesses();
  expect(list.length).toBeGreaterThan(0);
  expect(list.some((p) => 'threads' in p)).toBe(false);
  expect(list.some((p) => p.owner !== null)).toBe(true);
}

/** UserTime and KernelTime as the server gives them (milliseconds per Learn): not converted. */
async function processTimes(t: Target): Promise<void> {
  const api = t.load();
  const p = (await need(api.enumerateProcessesEx).call(api, CSH, 2))[0];
  expect(p).toMatchObject({ processId: 4100, numberOfThreads: 9, userTime: 1234n, kernelTime: 56n });
  const row = (await createWts({ api }).listProcesses()).find((r) => r.processId === 4100);
  expect(row).toMatchObject({ threads: 9, userTime: 1234, kernelTime: 56 });
}

async function servicesAndConsole(t: Target): Promise<void> {
  const sessions = await t.load().enumerateSessions(CSH);
  expect(sessions.length).toBeGreaterThanOrEqual(2);
  expect(sessions.find((s) => s.sessionName === 'Services')).toMatchObject({ sessionId: 0, state: 4 });
  expect(sessions.find((s) => s.sessionName === 'Console')).toMatchObject({ state: 0 });
}

async function execEnvIds(t: Target): Promise<void> {
  const sessions = await t.load().enumerateSessions(CSH);
  for (const s of sessions) expect(s.execEnvId).toBe(s.sessionId);
  expect(new Set(sessions.map((s) => s.sessionId)).size).toBe(sessions.length);
}

async function rpcFirstUse(t: Target): Promise<void> {
  const api = t.load();
  const handle = await api.openServer('DOWN');
  try {
    expect(await win32Code(api.enumerateSessions(handle))).toBe(1722);
  } finally {
    await api.closeServer(handle);
  }
  // The other path: the open itself fails (NULL, GetLastError 1722). The backend reports it from
  // the open, and the library reports the server unreachable with no handle left behind.
  const refusing: Farm = { ...FARM, servers: [...FARM.servers, { name: 'GONE', sessions: [], faults: { open: { '*': 1722 } } }] };
  const api2 = t.load(refusing);
  expect(await win32Code(api2.openServer('GONE'))).toBe(1722);
  const error = await createWts({ api: api2 }).listSessions({ server: 'GONE' }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Win32Error);
  expect(error).toMatchObject({ win32Code: 1722, server: 'GONE' });
  const farm = await createWts({ api: api2 }).listSessions({ servers: ['GONE', 'NEW22'] });
  expect(farm.failures.map((f) => [f.server, (f.error as Win32Error).win32Code])).toEqual([['GONE', 1722]]);
  expect(farm.results.map((s) => s.server)).toEqual(['NEW22', 'NEW22']);
}

async function timeoutZero(t: Target): Promise<void> {
  const answer = await t.load().sendMessage(CSH, 2, { title: 't', text: 'x', style: 0, timeoutSeconds: 5, wait: true });
  expect(answer).toBe(0);
  expect([responseName(answer), responseName(32000)]).toEqual(['Timeout', 'Timeout']);
}

async function logoffClosing(t: Target): Promise<void> {
  const api = t.load(FARM, 2);
  await api.logoffSession(CSH, 4);
  expect(await win32Code(api.logoffSession(CSH, 4))).toBe(7007);
}

async function queryAfterLogoff(t: Target): Promise<void> {
  const api = t.load(FARM, 2);
  await api.logoffSession(CSH, 4);
  let code = 0;
  for (let poll = 0; poll < 10 && code !== 7022; poll++) {
    try {
      await api.querySessionInformation(CSH, 4, 'WTSConnectState');
      code = 0;
    } catch (error) {
      code = (error as Win32Error).win32Code;
      expect([7007, 7022]).toContain(code);
    }
  }
  expect(code).toBe(7022);
}

/** Each request to a session ID no longer there (77: never in FARM) fails with 7022. */
async function requestToEnded(t: Target): Promise<void> {
  const api = t.load();
  const message = { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: false };
  const codes = [await win32Code(api.logoffSession(CSH, 77)), await win32Code(api.disconnectSession(CSH, 77)), await win32Code(api.sendMessage(CSH, 77, message))];
  expect(codes).toEqual([7022, 7022, 7022]);
}

async function disconnectDisconnected(t: Target): Promise<void> {
  const api = t.load();
  await api.disconnectSession(CSH, 4);
  expect(await api.querySessionInformation(CSH, 4, 'WTSConnectState')).toBe(4);
}

async function disconnectClearsName(t: Target): Promise<void> {
  const api = t.load();
  await api.disconnectSession(CSH, 3);
  const three = (await api.enumerateSessions(CSH)).find((s) => s.sessionId === 3);
  expect(three).toMatchObject({ state: 4, sessionName: '' });
}

// ---- the lock state: WTSSessionInfoEx and NetServerGetInfo ------------------------------------

/** Locked, unlocked and unknown sessions, on a current server and on a 6.1 one. */
const LOCK_FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      consoleSessionId: 1,
      currentSessionId: 2,
      sessions: [
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'TS01' },
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', locked: true },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', locked: false },
        { id: 4, name: 'RDP-Tcp#2', state: 'Active', user: 'carol', domain: 'CORP', locked: null },
      ],
    },
    {
      name: 'R2',
      osVersion: '6.1',
      sessions: [
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'dan', domain: 'CORP', locked: true },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'eve', domain: 'CORP', locked: false },
      ],
    },
  ],
};

async function sessionInfoEx(t: Target): Promise<void> {
  const info = await t.load(LOCK_FARM).querySessionInformation(CSH, 2, 'WTSSessionInfoEx');
  expect(info.level).toBe(1);
  expect(info.level1).toMatchObject({ sessionId: 2, sessionState: 0, winStationName: 'RDP-Tcp#0', userName: 'alice', domainName: 'CORP' });
}

/** A user and a domain longer than WTSINFOW's and WTSINFOEX_LEVEL1_W's fields. */
const LONG_NAMES_FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      sessions: [
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP' },
        { id: 3, name: 'RDP-Tcp#1', state: 'Disconnected', user: 'a.very.long.user.name.x', domain: 'AVERYLONGDOMAINNAME' },
      ],
    },
  ],
};

/** WTSSessionInfo's and WTSSessionInfoEx's user and domain: the session's, as listed, cut to the field. */
async function sessionInfoUser(t: Target): Promise<void> {
  const api = t.load(LONG_NAMES_FARM);
  const listed = await api.enumerateSessions(CSH);
  for (const { sessionId: id, userName, domainName } of listed) {
    const info = await api.querySessionInformation(CSH, id, 'WTSSessionInfo');
    const ex = (await api.querySessionInformation(CSH, id, 'WTSSessionInfoEx')).level1;
    expect({ id, user: info.userName, domain: info.domain }).toEqual({ id, user: userName.slice(0, 20), domain: domainName.slice(0, 16) });
    expect({ id, user: ex?.userName, domain: ex?.domainName }).toEqual({ id, user: userName.slice(0, 20), domain: domainName.slice(0, 17) });
  }
  expect(listed.map((s) => s.userName)).toEqual(['alice', 'a.very.long.user.name.x']);
}

async function sessionFlags(t: Target): Promise<void> {
  const api = t.load(LOCK_FARM);
  const flags = async (h: ServerHandle, id: number) => (await api.querySessionInformation(h, id, 'WTSSessionInfoEx')).level1?.sessionFlags;
  expect([await flags(CSH, 2), await flags(CSH, 3), await flags(CSH, 4)]).toEqual([0, 1, 0xffffffff]);
  const r2 = await api.openServer('R2');
  try {
    expect([await flags(r2, 2), await flags(r2, 3)]).toEqual([1, 0]); // locked reads UNLOCK on 6.1
  } finally {
    await api.closeServer(r2);
  }
}

async function serverVersion(t: Target): Promise<void> {
  const api = t.load(LOCK_FARM);
  const ask = need(api.getServerVersion).bind(api);
  expect([await ask(''), await ask('R2'), await ask('r2')]).toEqual([{ major: 10, minor: 0 }, { major: 6, minor: 1 }, { major: 6, minor: 1 }]);
}

// ---- WTSWaitSystemEvent, through the seam ----------------------------------------------------

/** A wait that can tell whether it has returned yet. */
function startWait(api: WtsApi, h: ServerHandle, mask: number): Promise<number> & { settled: () => boolean } {
  let settled = false;
  const promise = need(api.waitSystemEvent).call(api, h, mask).finally(() => {
    settled = true;
  });
  promise.catch(() => undefined);
  return Object.assign(promise, { settled: () => settled });
}

/** Until `count` waits are blocked in the backend (the double's threads, the mock's waiters). */
async function waitsPending(t: Target, api: WtsApi, count: number): Promise<void> {
  const pending = () => (t.double ? t.double.pendingWaits() : (api as MockApi).pendingWaitCount);
  const deadline = Date.now() + 5000;
  while (pending() !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} pending wait(s), have ${pending()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function stillWaiting(w: { settled: () => boolean }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(w.settled()).toBe(false);
}

function putSession(t: Target, api: WtsApi, server: string, session: FarmSession): void {
  if (t.double) t.double.putSession(server, session);
  else (api as MockApi).putSession(server, session);
}

async function waitBlocks(t: Target): Promise<void> {
  const api = t.load();
  const w = startWait(api, CSH, WtsEvent.Create | WtsEvent.Logon);
  await waitsPending(t, api, 1);
  await api.disconnectSession(CSH, 3); // DISCONNECT | STATECHANGE: not in the mask
  await stillWaiting(w);
  putSession(t, api, 'TS01', { id: 7, name: 'RDP-Tcp#7', state: 'Active', user: 'dave', domain: 'CORP' });
  expect(await w).toBe(WtsEvent.Create | WtsEvent.Logon);
  const all = startWait(api, CSH, WtsEvent.All);
  await waitsPending(t, api, 1);
  await api.disconnectSession(CSH, 2);
  expect(await all).toBe(WtsEvent.Disconnect | WtsEvent.StateChange);
}

async function waitFlush(t: Target): Promise<void> {
  const api = t.load();
  const h = await api.openServer('OLD08');
  const h2 = await api.openServer('OLD08');
  try {
    const first = startWait(api, h, WtsEvent.All);
    const second = startWait(api, h, WtsEvent.Logon);
    const other = startWait(api, h2, WtsEvent.All);
    await waitsPending(t, api, 3);
    await need(api.flushSystemEvents).call(api, h);
    expect([await first, await second]).toEqual([WtsEvent.None, WtsEvent.None]);
    await stillWaiting(other);
    await need(api.flushSystemEvents).call(api, h2);
    expect(await other).toBe(WtsEvent.None);
  } finally {
    await api.closeServer(h);
    await api.closeServer(h2);
  }
}

async function waitBetweenWaits(t: Target): Promise<void> {
  const api = t.load();
  await api.disconnectSession(CSH, 3); // no wait pending
  const w = startWait(api, CSH, WtsEvent.All);
  await waitsPending(t, api, 1);
  await stillWaiting(w);
  await need(api.flushSystemEvents).call(api, CSH);
  expect(await w).toBe(WtsEvent.None);
}

/**
 * Raw: the backends never close a handle while a call on it runs (closeServer waits for it), so
 * the double's own WTSCloseServer is called, from this thread, during a wait on koffi's.
 */
async function waitClosePending(t: Target): Promise<void> {
  t.load();
  const raw = need(t.raw);
  const double = need(t.double);
  const h = raw.open('OLD08');
  const w = raw.wait(h, WtsEvent.All);
  await double.waitsPending(1);
  raw.close(h);
  expect(await w).toEqual({ ok: false, error: 6 });
  expect(await raw.wait(h, WtsEvent.All)).toEqual({ ok: false, error: 6 });
  // The misuse is what the double counts as one (its leak check would fail on it): cleared here.
  expect(double.closedUnderCall).toBe(1);
  double.leaks();
}

// ---- the suite --------------------------------------------------------------------------------

test('every check belongs to a row, and every row a backend claims has a check', () => {
  const ids = new Set(FACTS.map((f) => f.id));
  for (const id of Object.keys(CHECKS)) expect([id, ids.has(id)]).toEqual([id, true]);
  for (const f of FACTS) {
    for (const b of BACKENDS) {
      const claimed = f.backends[b] === true;
      expect([f.id, b, claimed]).toEqual([f.id, b, CHECKS[f.id]?.[b] !== undefined]);
    }
  }
});

const differences: string[] = [];

for (const backend of BACKENDS) {
  const t = target(backend);
  describe(`Windows conformance: ${BACKEND_LABELS[backend]}`, () => {
    if (typeof t === 'string') {
      test.skip(`backend not available here: ${t}`, () => undefined);
      console.log(`conformance: ${backend}: not available here: ${t}`);
      return;
    }
    if (t.double) {
      afterEach(() => expect(need(t.double).leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 }));
    }
    for (const fact of FACTS) {
      const claim = fact.backends[backend];
      if (claim === true) {
        test(`${fact.id} (${fact.status})`, async () => {
          await need(CHECKS[fact.id]?.[backend])(t);
        });
      } else {
        differences.push(`${backend}: ${fact.id}: ${claim}`);
        test(`${fact.id}: known difference — ${claim}`, () => undefined);
      }
    }
  });
}

afterAll(() => {
  if (differences.length > 0) console.log(`conformance: known differences (docs/windows-facts.md):\n  ${differences.join('\n  ')}`);
});
