#!/usr/bin/env node
/*
 * npm run capture:windows [-- [--out FILE] [--server NAME]...]
 *
 * Records what this Windows host's wtsapi32.dll and kernel32.dll really answer, for every row of
 * the facts table (test/conformance/facts.ts, docs/windows-facts.json) that a read-only call can
 * observe, and writes one JSON file (default: wts-capture-<host>-<time>.json). Check it with
 * `npm run capture:check FILE`.
 *
 * READ-ONLY: it never logs off, disconnects or messages anyone, and never changes a session. It
 * calls only WTSQuerySessionInformationW, WTSEnumerateSessionsW/ExW, WTSEnumerateProcessesW,
 * WTSOpenServerW/WTSCloseServer, WTSFreeMemory(Ex)W, WTSGetActiveConsoleSessionId,
 * GetComputerNameW, ProcessIdToSessionId, GetSystemTimeAsFileTime and Get/SetLastError.
 * Rows about logoff, disconnect and WTSSendMessageW are listed as "not captured" on purpose.
 *
 * Plain Node + koffi, no build step. Other libraries (the test double on Linux, or under Wine):
 *   WTS_CAPTURE_WTSAPI32=path WTS_CAPTURE_KERNEL32=path node scripts/capture-windows.js
 * A kernel32 function the given kernel32 library lacks is taken from kernel32.dll on Windows, and
 * left out elsewhere; the capture's `libraries` says which library answered each function.
 *
 * Every observation is keyed by a probe id and carries `rows`: the facts-table row ids it
 * settles. capture-check.js matches rows to observations through `rows`.
 */
'use strict';

const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');

const FORMAT = 'wts-session-capture';
const FORMAT_VERSION = 1;

const WTS_CURRENT_SESSION = 0xffffffff;
const SENTINEL = 0xdeadbeef;
/** WTS_INFO_CLASS values (Learn ne-wtsapi32-wts_info_class; mingw-w64 wtsapi32.h). */
const CLASS = {
  WTSSessionId: 4,
  WTSUserName: 5,
  WTSWinStationName: 6,
  WTSDomainName: 7,
  WTSConnectState: 8,
  WTSClientName: 10,
  WTSClientAddress: 14,
  WTSClientProtocolType: 16,
  WTSIdleTime: 17,
  WTSLogonTime: 18,
  WTSIncomingBytes: 19,
  WTSOutgoingBytes: 20,
  WTSIncomingFrames: 21,
  WTSOutgoingFrames: 22,
  WTSClientInfo: 23,
  WTSSessionInfo: 24,
  WTSSessionInfoEx: 25,
  WTSIsRemoteSession: 29,
};
const USED_CLASSES = [
  'WTSSessionId',
  'WTSUserName',
  'WTSWinStationName',
  'WTSDomainName',
  'WTSConnectState',
  'WTSClientName',
  'WTSClientAddress',
  'WTSClientInfo',
  'WTSClientProtocolType',
  'WTSSessionInfo',
  'WTSIsRemoteSession',
];
const UNSUPPORTED_CLASSES = ['WTSIdleTime', 'WTSLogonTime', 'WTSIncomingBytes', 'WTSOutgoingBytes', 'WTSIncomingFrames', 'WTSOutgoingFrames'];
const STATES = ['Active', 'Connected', 'ConnectQuery', 'Shadow', 'Disconnected', 'Idle', 'Listen', 'Reset', 'Down', 'Init'];

/**
 * Probe id -> the facts-table row ids it settles. Probes not listed here are recorded with
 * `rows: []` (context only). Keep in step with test/conformance/facts.ts.
 */
const ROWS = {
  'query.nullBuffer.count0': ['query-null-buffer'],
  'query.nullBuffer.count1': ['query-null-buffer'],
  'query.nullCount': ['query-null-count'],
  'query.current.WTSClientProtocolType': ['query-protocol-type'],
  'query.current.WTSConnectState': ['query-connect-state'],
  'query.current.WTSSessionInfo': ['query-session-info', 'session-info-user'],
  'query.current.WTSSessionInfoEx': ['query-session-info-ex', 'session-flags-lock', 'session-info-user'],
  'netapi.serverInfo101': ['server-version-netservergetinfo'],
  'netapi.remote': ['server-version-netservergetinfo'],
  'query.current.WTSUserName': ['query-string-count', 'session-info-user'],
  'query.current.WTSDomainName': ['query-string-count', 'query-domain-local-account', 'session-info-user'],
  'query.current.WTSClientAddress': ['client-address-ipv4', 'client-address-ipv6', 'client-info'],
  'query.current.WTSClientInfo': ['client-info'],
  'query.other': ['query-protocol-type', 'client-address-ipv4', 'client-address-ipv6', 'client-info'],
  'query.unsupported': ['query-unsupported-classes'],
  'query.current.WTSIsRemoteSession': ['is-remote-session-size', 'is-remote-session-local-only'],
  'query.other.WTSIsRemoteSession': ['is-remote-session-local-only'],
  'query.remote.WTSIsRemoteSession': ['is-remote-session-local-only'],
  'processes.success': ['enum-processes-last-error', 'enum-processes-pid0', 'enum-processes-sids', 'sid-format'],
  'processes.badArgs': ['enum-processes-bad-arguments'],
  'processesEx.args': ['enum-processes-ex'],
  'processesEx.badLevel': ['enum-processes-ex-level'],
  'processesEx.level1': ['enum-processes-ex-free', 'process-info-ex-layout', 'process-info-ex-times'],
  'lookup.system': ['lookup-account-sid'],
  'sessions.level0': ['enum-sessions-services-console'],
  'sessions.level1': ['enum-sessions-host-name', 'enum-sessions-exec-env-id', 'enum-sessions-ex-free'],
  remote: ['level-one-unsupported', 'rpc-error-first-use', 'enum-processes-ex-unsupported'],
  'console.sessionId': ['console-session-none'],
  'computerName.shortBuffer': ['computer-name-short-buffer'],
  rdpPeers: ['client-address-ipv6', 'client-address-ipv4'],
};

function parseArgs(argv) {
  const options = { out: undefined, servers: [], clientAddresses: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '-o') options.out = argv[++i];
    else if (arg === '--server' || arg === '-s') options.servers.push(argv[++i]);
    else if (arg === '--client-address') options.clientAddresses.push(argv[++i]);
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (!arg.startsWith('-')) options.servers.push(arg);
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const stateName = (n) => (n >= 0 && n < STATES.length ? STATES[n] : `unknown(${n})`);

/** Loads koffi and the libraries, and declares every function the capture calls (netapi32's and advapi32's: optional). */
function bind(wtsapiPath, kernelPath, netapiPath, advapiPath) {
  const koffi = require('koffi');
  const wtsapi = koffi.load(wtsapiPath);
  const kernel = koffi.load(kernelPath);
  const optionalLibrary = (p) => {
    try {
      return p ? koffi.load(p) : undefined;
    } catch {
      return undefined;
    }
  };
  const netapi = optionalLibrary(netapiPath);
  const advapi = optionalLibrary(advapiPath);
  const fallback = process.platform === 'win32' && !/^kernel32(\.dll)?$/i.test(path.basename(kernelPath)) ? koffi.load('kernel32.dll') : undefined;
  const libraries = { wtsapi32: wtsapiPath, kernel32: kernelPath, netapi32: netapi ? netapiPath : null, advapi32: advapi ? advapiPath : null, functions: {} };
  const declare = (lib, libName, name, ret, args, optional = false) => {
    try {
      const fn = lib.func('__stdcall', name, ret, args);
      libraries.functions[name] = libName;
      return fn;
    } catch (error) {
      if (lib === kernel && fallback) return declare(fallback, 'kernel32.dll', name, ret, args, optional);
      if (optional) {
        libraries.functions[name] = null;
        return undefined;
      }
      throw new Error(`${name} is not exported by ${libName}: ${error.message}`);
    }
  };
  const PVOID = 'void *';
  const out = (t) => koffi.out(koffi.pointer(t));
  const inout = (t) => koffi.inout(koffi.pointer(t));
  const w = (name, ret, args, optional) => declare(wtsapi, wtsapiPath, name, ret, args, optional);
  const k = (name, ret, args, optional) => declare(kernel, kernelPath, name, ret, args, optional);
  const fn = {
    WTSQuerySessionInformationW: w('WTSQuerySessionInformationW', 'int', [PVOID, 'uint32_t', 'int', out(PVOID), inout('uint32_t')]),
    WTSFreeMemory: w('WTSFreeMemory', 'void', [PVOID]),
    WTSFreeMemoryExW: w('WTSFreeMemoryExW', 'int', ['int', PVOID, 'uint32_t'], true),
    WTSEnumerateSessionsW: w('WTSEnumerateSessionsW', 'int', [PVOID, 'uint32_t', 'uint32_t', out(PVOID), inout('uint32_t')]),
    WTSEnumerateSessionsExW: w('WTSEnumerateSessionsExW', 'int', [PVOID, inout('uint32_t'), 'uint32_t', out(PVOID), inout('uint32_t')], true),
    WTSEnumerateProcessesW: w('WTSEnumerateProcessesW', 'int', [PVOID, 'uint32_t', 'uint32_t', out(PVOID), inout('uint32_t')]),
    WTSEnumerateProcessesExW: w('WTSEnumerateProcessesExW', 'int', [PVOID, inout('uint32_t'), 'uint32_t', out(PVOID), inout('uint32_t')], true),
    // (lpSystemName, Sid, Name, &cchName, ReferencedDomainName, &cchReferencedDomainName, &peUse)
    LookupAccountSidW: advapi ? declare(advapi, advapiPath, 'LookupAccountSidW', 'int', ['const char16_t *', PVOID, PVOID, inout('uint32_t'), PVOID, inout('uint32_t'), inout('uint32_t')], true) : undefined,
    WTSOpenServerW: w('WTSOpenServerW', PVOID, ['const char16_t *']),
    WTSCloseServer: w('WTSCloseServer', 'void', [PVOID]),
    GetLastError: k('GetLastError', 'uint32_t', []),
    SetLastError: k('SetLastError', 'void', ['uint32_t'], true),
    WTSGetActiveConsoleSessionId: k('WTSGetActiveConsoleSessionId', 'uint32_t', [], true),
    GetComputerNameW: k('GetComputerNameW', 'int', [PVOID, inout('uint32_t')], true),
    ProcessIdToSessionId: k('ProcessIdToSessionId', 'int', ['uint32_t', out('uint32_t')], true),
    GetSystemTimeAsFileTime: k('GetSystemTimeAsFileTime', 'void', [out('uint64_t')], true),
    // (servername, level, bufptr) -> NET_API_STATUS; NetApiBufferFree(Buffer) -> NET_API_STATUS
    NetServerGetInfo: netapi ? declare(netapi, netapiPath, 'NetServerGetInfo', 'uint32_t', ['const char16_t *', 'uint32_t', out(PVOID)], true) : undefined,
    NetApiBufferFree: netapi ? declare(netapi, netapiPath, 'NetApiBufferFree', 'uint32_t', [PVOID], true) : undefined,
  };
  return { koffi, fn, libraries };
}

/** Runs every probe; returns the capture object. `options`: { wtsapi32, kernel32, servers }. */
function runCapture(options = {}) {
  const onWindows = process.platform === 'win32';
  const wtsapiPath = options.wtsapi32 ?? process.env.WTS_CAPTURE_WTSAPI32 ?? (onWindows ? 'wtsapi32.dll' : undefined);
  const kernelPath = options.kernel32 ?? process.env.WTS_CAPTURE_KERNEL32 ?? (onWindows ? 'kernel32.dll' : wtsapiPath);
  const netapiPath = options.netapi32 ?? process.env.WTS_CAPTURE_NETAPI32 ?? (onWindows ? 'netapi32.dll' : wtsapiPath);
  const advapiPath = options.advapi32 ?? process.env.WTS_CAPTURE_ADVAPI32 ?? (onWindows ? 'advapi32.dll' : wtsapiPath);
  if (!wtsapiPath) throw new Error('not on Windows: set WTS_CAPTURE_WTSAPI32 (and WTS_CAPTURE_KERNEL32) to the libraries to capture');
  const { koffi, fn, libraries } = bind(wtsapiPath, kernelPath, netapiPath, advapiPath);

  const setLastError = (code) => fn.SetLastError && fn.SetLastError(code);
  /** Sets the last error to 0xDEADBEEF (when SetLastError exists), runs `call`, reads GetLastError at once. */
  const raw = (call) => {
    setLastError(SENTINEL);
    const ret = call();
    const lastError = fn.GetLastError();
    return { ret, lastError, lastErrorPreset: fn.SetLastError ? SENTINEL : null };
  };
  const bytesAt = (ptr, n) => (ptr && n > 0 ? Array.from(koffi.decode(ptr, 'uint8_t', n)) : []);
  const wstrAt = (ptr) => (ptr ? koffi.decode(ptr, 'char16_t', -1) : null);
  /** Now as a FILETIME; without GetSystemTimeAsFileTime, from Date.now() (the "after" reading rounded up). */
  const fileTimeNow = (after = false) => {
    if (fn.GetSystemTimeAsFileTime) {
      const t = [0n];
      fn.GetSystemTimeAsFileTime(t);
      return BigInt(t[0]);
    }
    return BigInt(Date.now()) * 10000n + 116444736000000000n + (after ? 9999n : 0n);
  };
  const sidAt = (ptr) => {
    if (!ptr) return null;
    const head = koffi.decode(ptr, 'uint8_t', 8);
    const n = head[1];
    if (head[0] !== 1 || n > 15) return `invalid(${hex(head)})`;
    const all = Buffer.from(koffi.decode(ptr, 'uint8_t', 8 + 4 * n));
    let authority = 0n;
    for (let i = 2; i < 8; i++) authority = (authority << 8n) | BigInt(all[i]);
    const subs = [];
    for (let i = 0; i < n; i++) subs.push(all.readUInt32LE(8 + 4 * i));
    return ['S', all[0], authority.toString(), ...subs].join('-');
  };

  /** One WTSQuerySessionInformationW, decoded by class; buffer freed. */
  const query = (handle, sessionId, className, { withTimes = false } = {}) => {
    const cls = CLASS[className];
    const buf = [null];
    const count = [SENTINEL];
    const t1 = withTimes ? fileTimeNow() : undefined;
    const r = raw(() => fn.WTSQuerySessionInformationW(handle, sessionId, cls, buf, count));
    const t2 = withTimes ? fileTimeNow(true) : undefined;
    const o = { call: `WTSQuerySessionInformationW(${handle ? 'hServer' : 'WTS_CURRENT_SERVER_HANDLE'}, ${sessionId === WTS_CURRENT_SESSION ? 'WTS_CURRENT_SESSION' : sessionId}, ${className} (${cls}), &buf, &count)`, ret: r.ret, lastError: r.lastError, count: count[0] === SENTINEL ? 'unchanged' : count[0], bufferNull: !buf[0] };
    if (r.ret && buf[0]) {
      const n = Math.min(count[0], 4096);
      const bytes = Buffer.from(bytesAt(buf[0], n));
      o.hex = hex(bytes);
      o.value = decodeClass(className, bytes);
      if (withTimes) {
        o.timeBefore = t1.toString();
        o.timeAfter = t2.toString();
        if (o.value && o.value.CurrentTime !== undefined) {
          const ct = BigInt(o.value.CurrentTime);
          o.currentTimeBetween = t1 <= ct && ct <= t2;
        }
      }
    }
    if (buf[0]) fn.WTSFreeMemory(buf[0]);
    return o;
  };

  const probes = {};
  const notes = [];
  const record = (id, observation) => {
    probes[id] = { rows: ROWS[id] ?? [], ...observation };
    // A native crash (an access violation cannot be caught) must not lose what was observed:
    // each probe also goes to the journal at once, synchronously.
    if (options.onProbe) options.onProbe(id, probes[id]);
  };
  const attempt = (id, body) => {
    try {
      const o = body();
      if (o !== undefined) record(id, o);
    } catch (error) {
      record(id, { error: String(error && error.message ? error.message : error) });
    }
  };

  // --- WTSQuerySessionInformationW with NULL pointers (Wine tests 229-246)
  attempt('query.nullBuffer.count0', () => {
    const count = [0];
    const r = raw(() => fn.WTSQuerySessionInformationW(null, WTS_CURRENT_SESSION, CLASS.WTSUserName, null, count));
    return { call: 'WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTSUserName, NULL, &count=0)', ret: r.ret, lastError: r.lastError, countBefore: 0, count: count[0] };
  });
  attempt('query.nullBuffer.count1', () => {
    const count = [1];
    const r = raw(() => fn.WTSQuerySessionInformationW(null, WTS_CURRENT_SESSION, CLASS.WTSUserName, null, count));
    return { call: 'WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTSUserName, NULL, &count=1)', ret: r.ret, lastError: r.lastError, countBefore: 1, count: count[0] };
  });
  attempt('query.nullCount', () => {
    const buf = [null];
    const r = raw(() => fn.WTSQuerySessionInformationW(null, WTS_CURRENT_SESSION, CLASS.WTSUserName, buf, null));
    const written = !!buf[0];
    // Nothing to free unless the call wrote a buffer it should not have.
    if (written && r.ret) fn.WTSFreeMemory(buf[0]);
    return { call: 'WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTSUserName, &buf, NULL)', ret: r.ret, lastError: r.lastError, bufferWritten: written };
  });

  // --- the caller's own session
  let ownSessionId = null;
  if (fn.ProcessIdToSessionId) {
    const sid = [0];
    if (fn.ProcessIdToSessionId(process.pid, sid)) ownSessionId = sid[0];
  }
  for (const className of USED_CLASSES) {
    attempt(`query.current.${className}`, () => query(null, WTS_CURRENT_SESSION, className, { withTimes: className === 'WTSSessionInfo' }));
  }
  let computerName = null;
  attempt('computerName.full', () => {
    if (!fn.GetComputerNameW) return { skipped: 'GetComputerNameW not available' };
    const buffer = Buffer.alloc(2 * 64);
    const size = [64];
    const r = raw(() => fn.GetComputerNameW(buffer, size));
    if (r.ret) computerName = buffer.toString('utf16le', 0, size[0] * 2);
    return { call: 'GetComputerNameW(buf, &size=64)', ret: r.ret, lastError: r.ret ? undefined : r.lastError, size: size[0], value: computerName };
  });
  {
    const domain = probes['query.current.WTSDomainName'];
    if (domain && domain.value !== undefined && computerName !== null) {
      domain.computerName = computerName;
      domain.equalsComputerNameIgnoringCase = String(domain.value).toLowerCase() === computerName.toLowerCase();
      domain.countIsCharsPlusOneTimesTwo = domain.count === (String(domain.value).length + 1) * 2;
    }
    const info = probes['query.current.WTSSessionInfo'];
    if (info && info.value && computerName !== null) info.domainEqualsComputerNameIgnoringCase = String(info.value.Domain).toLowerCase() === computerName.toLowerCase();
  }
  attempt('query.unsupported', () => {
    const byClass = {};
    for (const className of UNSUPPORTED_CLASSES) byClass[className] = query(null, WTS_CURRENT_SESSION, className);
    return { call: 'WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, class 17..22, &buf, &count)', classes: byClass };
  });
  attempt('query.current.WTSSessionInfoEx', () => query(null, WTS_CURRENT_SESSION, 'WTSSessionInfoEx'));
  attempt('query.missingSession', () => {
    const o = query(null, 0x7ffffff0, 'WTSConnectState');
    o.note = 'a session id no host uses (0x7FFFFFF0): stands in for "a query after logoff"';
    return o;
  });

  // --- enumerations
  let sessions = [];
  attempt('sessions.level0', () => {
    const buf = [null];
    const count = [0];
    const r = raw(() => fn.WTSEnumerateSessionsW(null, 0, 1, buf, count));
    const o = { call: 'WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &info, &count)', ret: r.ret, lastError: r.lastError, count: count[0] };
    if (r.ret && buf[0]) {
      const T = koffi.struct({ SessionId: 'uint32_t', pWinStationName: 'const char16_t *', State: 'int' });
      const list = count[0] ? koffi.decode(buf[0], koffi.array(T, count[0], 'Array')) : [];
      sessions = list.map((s) => ({ SessionId: s.SessionId, name: s.pWinStationName, State: s.State, state: stateName(s.State) }));
      o.sessions = sessions;
      const services = sessions.find((s) => s.name === 'Services');
      const console = sessions.find((s) => s.name === 'Console');
      o.services = services ?? null;
      o.console = console ?? null;
      fn.WTSFreeMemory(buf[0]);
    }
    return o;
  });
  const level1 = (handle, level) => {
    if (!fn.WTSEnumerateSessionsExW) return { skipped: 'WTSEnumerateSessionsExW not exported' };
    const buf = [null];
    const count = [0];
    const lv = [level];
    const r = raw(() => fn.WTSEnumerateSessionsExW(handle, lv, 0, buf, count));
    const o = { call: `WTSEnumerateSessionsExW(${handle ? 'hServer' : 'WTS_CURRENT_SERVER_HANDLE'}, &level=${level}, 0, &info, &count)`, ret: r.ret, lastError: r.lastError, levelAfter: lv[0], count: count[0] };
    if (r.ret && buf[0]) {
      const P = 'void *';
      const T = koffi.struct({ ExecEnvId: 'uint32_t', State: 'int', SessionId: 'uint32_t', pSessionName: P, pHostName: P, pUserName: P, pDomainName: P, pFarmName: P });
      const list = count[0] ? koffi.decode(buf[0], koffi.array(T, count[0], 'Array')) : [];
      // null: a NULL pointer; '': an empty string (Learn: "the string contains NULL" is ambiguous).
      o.sessions = list.map((s) => ({
        ExecEnvId: s.ExecEnvId,
        SessionId: s.SessionId,
        State: s.State,
        state: stateName(s.State),
        pSessionName: wstrAt(s.pSessionName),
        pHostName: wstrAt(s.pHostName),
        pUserName: wstrAt(s.pUserName),
        pDomainName: wstrAt(s.pDomainName),
        pFarmName: wstrAt(s.pFarmName),
      }));
      o.execEnvIdEqualsSessionId = o.sessions.every((s) => s.ExecEnvId === s.SessionId);
      o.hostNames = [...new Set(o.sessions.map((s) => (s.pHostName === null ? 'NULL' : s.pHostName === '' ? 'empty' : 'name')))];
      if (fn.WTSFreeMemoryExW) {
        const f = raw(() => fn.WTSFreeMemoryExW(2 /* WTSTypeSessionInfoLevel1 */, buf[0], count[0]));
        o.free = { call: 'WTSFreeMemoryExW(WTSTypeSessionInfoLevel1 (2), info, count)', ret: f.ret, lastError: f.ret ? undefined : f.lastError };
      }
    }
    return o;
  };
  attempt('sessions.level1', () => level1(null, 1));
  attempt('sessions.otherLevels', () => {
    const levels = {};
    for (const level of [0, 2]) {
      const o = level1(null, level);
      delete o.sessions;
      levels[level] = o;
    }
    return { call: 'WTSEnumerateSessionsExW(WTS_CURRENT_SERVER_HANDLE, &level=0|2, ...)', levels };
  });

  // --- other sessions of this host (read-only queries)
  attempt('query.other', () => {
    const others = sessions.filter((s) => s.SessionId !== ownSessionId);
    const bySession = {};
    for (const s of others) {
      const classes = {};
      for (const className of USED_CLASSES) if (className !== 'WTSIsRemoteSession') classes[className] = query(null, s.SessionId, className);
      bySession[s.SessionId] = { name: s.name, state: s.state, classes };
    }
    return { ownSessionId, sessions: bySession };
  });
  attempt('query.other.WTSIsRemoteSession', () => {
    const results = {};
    for (const s of sessions) results[s.SessionId] = { name: s.name, state: s.state, own: s.SessionId === ownSessionId, ...query(null, s.SessionId, 'WTSIsRemoteSession') };
    return { ownSessionId, sessions: results };
  });

  // --- processes
  attempt('processes.success', () => {
    const buf = [null];
    const count = [0];
    const r = raw(() => fn.WTSEnumerateProcessesW(null, 0, 1, buf, count));
    const o = { call: 'WTSEnumerateProcessesW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &info, &count)', ret: r.ret, lastError: r.lastError, lastErrorPreset: r.lastErrorPreset, count: count[0] };
    if (r.ret && buf[0]) {
      const T = koffi.struct({ SessionId: 'uint32_t', ProcessId: 'uint32_t', pProcessName: 'void *', pUserSid: 'void *' });
      const list = count[0] ? koffi.decode(buf[0], koffi.array(T, count[0], 'Array')) : [];
      const decoded = list.map((p) => ({ SessionId: p.SessionId, ProcessId: p.ProcessId, name: wstrAt(p.pProcessName), sid: sidAt(p.pUserSid) }));
      const pid0 = decoded.findIndex((p) => p.ProcessId === 0);
      o.pid0Present = pid0 >= 0;
      o.pid0Index = pid0;
      o.pid0 = pid0 >= 0 ? decoded[pid0] : null;
      o.first = decoded[0] ?? null;
      o.nullSids = decoded.filter((p) => p.sid === null).length;
      const own = decoded.find((p) => p.ProcessId === process.pid);
      o.ownProcess = own ?? null;
      o.sample = decoded.slice(0, 8);
      if (process.platform === 'win32') {
        try {
          // The caller's own user SID, to compare with its process's pUserSid (read-only).
          const line = require('node:child_process').execFileSync('whoami', ['/user', '/fo', 'csv', '/nh'], { encoding: 'utf8', timeout: 20000 });
          const sid = (line.trim().split(',').pop() || '').replace(/"/g, '');
          o.whoamiSid = /^S-1-/.test(sid) ? sid : null;
        } catch (error) {
          o.whoamiSid = null;
        }
      }
      fn.WTSFreeMemory(buf[0]);
    }
    return o;
  });
  attempt('processes.badArgs', () => {
    const cases = {
      'Reserved=1': (b, c) => fn.WTSEnumerateProcessesW(null, 1, 1, b, c),
      'Version=0': (b, c) => fn.WTSEnumerateProcessesW(null, 0, 0, b, c),
      'Version=2': (b, c) => fn.WTSEnumerateProcessesW(null, 0, 2, b, c),
      'ppProcessInfo=NULL': (_b, c) => fn.WTSEnumerateProcessesW(null, 0, 1, null, c),
      'pCount=NULL': (b) => fn.WTSEnumerateProcessesW(null, 0, 1, b, null),
    };
    const results = {};
    for (const [name, call] of Object.entries(cases)) {
      const buf = [null];
      const count = [0];
      const r = raw(() => call(buf, count));
      if (r.ret && buf[0]) fn.WTSFreeMemory(buf[0]);
      results[name] = { ret: r.ret, lastError: r.lastError };
    }
    return { call: 'WTSEnumerateProcessesW with bad arguments (Wine tests 118-149)', cases: results };
  });

  // --- WTSEnumerateProcessesExW (WTS_ANY_SESSION = (DWORD)-2), read-only
  const ANY_SESSION = 0xfffffffe;
  attempt('processesEx.args', () => {
    if (!fn.WTSEnumerateProcessesExW) return { skipped: 'WTSEnumerateProcessesExW not exported' };
    const count = [SENTINEL];
    const nullInfo = raw(() => fn.WTSEnumerateProcessesExW(null, [0], ANY_SESSION, null, count));
    const o = { call: 'WTSEnumerateProcessesExW(WTS_CURRENT_SERVER_HANDLE, &level 0, WTS_ANY_SESSION, NULL | &info, &count | NULL) (Wine tests 166-189)' };
    o.nullInfo = { ret: nullInfo.ret, lastError: nullInfo.lastError, countUnchanged: count[0] === SENTINEL };
    const buf = [null];
    const nullCount = raw(() => fn.WTSEnumerateProcessesExW(null, [0], ANY_SESSION, buf, null));
    o.nullCount = { ret: nullCount.ret, lastError: nullCount.lastError };
    if (nullCount.ret && buf[0] && fn.WTSFreeMemoryExW) fn.WTSFreeMemoryExW(0, buf[0], 0);
    const level = [0];
    const n = [0];
    const info = [null];
    const ok = raw(() => fn.WTSEnumerateProcessesExW(null, level, ANY_SESSION, info, n));
    o.level0 = { ret: ok.ret, lastError: ok.lastError, lastErrorPreset: ok.lastErrorPreset, levelAfter: level[0], count: n[0] };
    if (ok.ret && info[0]) o.level0.free = fn.WTSFreeMemoryExW ? raw(() => fn.WTSFreeMemoryExW(0 /* WTSTypeProcessInfoLevel0 */, info[0], n[0])) : { skipped: 'no WTSFreeMemoryExW' };
    return o;
  });
  attempt('processesEx.badLevel', () => {
    if (!fn.WTSEnumerateProcessesExW) return { skipped: 'WTSEnumerateProcessesExW not exported' };
    const level = [2];
    const info = [null];
    const n = [0];
    const r = raw(() => fn.WTSEnumerateProcessesExW(null, level, ANY_SESSION, info, n));
    if (r.ret && info[0] && fn.WTSFreeMemoryExW) fn.WTSFreeMemoryExW(level[0], info[0], n[0]);
    return { call: 'WTSEnumerateProcessesExW(WTS_CURRENT_SERVER_HANDLE, &level 2, WTS_ANY_SESSION, &info, &count)', ret: r.ret, lastError: r.lastError, levelAfter: level[0] };
  });
  attempt('processesEx.level1', () => {
    if (!fn.WTSEnumerateProcessesExW || !fn.WTSFreeMemoryExW) return { skipped: 'WTSEnumerateProcessesExW or WTSFreeMemoryExW not exported' };
    const level = [1];
    const info = [null];
    const n = [0];
    const r = raw(() => fn.WTSEnumerateProcessesExW(null, level, ANY_SESSION, info, n));
    // Node's own CPU times (microseconds), read at once: what the process's UserTime / KernelTime describe.
    const cpu = process.cpuUsage();
    const o = { call: 'WTSEnumerateProcessesExW(WTS_CURRENT_SERVER_HANDLE, &level 1, WTS_ANY_SESSION, &info, &count)', ret: r.ret, lastError: r.lastError, levelAfter: level[0], count: n[0] };
    if (r.ret && info[0]) {
      // WTS_PROCESS_INFO_EXW as Learn declares it: 64 bytes on x64 (UserTime at 48), 56 on x86 (at 40).
      const wide = koffi.sizeof('void *') === 8;
      const size = wide ? 64 : 56;
      const P = wide ? 8 : 4;
      const bytes = Buffer.from(bytesAt(info[0], size * n[0]));
      const ptr = (at) => (wide ? bytes.readBigUInt64LE(at) : BigInt(bytes.readUInt32LE(at)));
      const at = { NumberOfThreads: 8 + 2 * P, HandleCount: 12 + 2 * P, WorkingSetSize: 24 + 2 * P, UserTime: wide ? 48 : 40, KernelTime: wide ? 56 : 48 };
      const rows = [];
      for (let i = 0, base = 0; i < n[0]; i++, base += size) {
        rows.push({
          SessionId: bytes.readUInt32LE(base),
          ProcessId: bytes.readUInt32LE(base + 4),
          name: ptr(base + 8) ? wstrAt(ptr(base + 8)) : null,
          sid: ptr(base + 8 + P) ? sidAt(ptr(base + 8 + P)) : null,
          NumberOfThreads: bytes.readUInt32LE(base + at.NumberOfThreads),
          HandleCount: bytes.readUInt32LE(base + at.HandleCount),
          WorkingSetSize: bytes.readUInt32LE(base + at.WorkingSetSize),
          UserTime: bytes.readBigInt64LE(base + at.UserTime).toString(),
          KernelTime: bytes.readBigInt64LE(base + at.KernelTime).toString(),
        });
      }
      o.elementSize = size;
      o.sample = rows.slice(0, 8);
      o.ownProcess = rows.find((p) => p.ProcessId === process.pid) ?? null;
      o.ownCpuMicroseconds = { user: cpu.user, system: cpu.system };
      o.free = raw(() => fn.WTSFreeMemoryExW(1 /* WTSTypeProcessInfoLevel1 */, info[0], n[0]));
    }
    return o;
  });

  // --- advapi32 LookupAccountSidW on the local machine: LocalSystem, a short buffer, a SID of no account
  attempt('lookup.system', () => {
    if (!fn.LookupAccountSidW) return { skipped: 'LookupAccountSidW not available' };
    const sidBytes = (subs) => {
      const b = Buffer.alloc(8 + 4 * subs.length);
      b[0] = 1;
      b[1] = subs.length;
      b[7] = 5; // SECURITY_NT_AUTHORITY
      subs.forEach((v, i) => b.writeUInt32LE(v, 8 + 4 * i));
      return b;
    };
    const lookup = (sid, nameChars, domainChars) => {
      const name = Buffer.alloc(2 * nameChars + 2);
      const domain = Buffer.alloc(2 * domainChars + 2);
      const nameSize = [nameChars];
      const domainSize = [domainChars];
      const use = [0];
      const r = raw(() => fn.LookupAccountSidW(null, sid, name, nameSize, domain, domainSize, use));
      const text = (b) => b.toString('utf16le').replace(/\0.*$/s, '');
      return { ret: r.ret, lastError: r.ret ? undefined : r.lastError, name: r.ret ? text(name) : undefined, domain: r.ret ? text(domain) : undefined, use: r.ret ? use[0] : undefined, nameSize: nameSize[0], domainSize: domainSize[0] };
    };
    const system = sidBytes([18]);
    return {
      call: 'LookupAccountSidW(NULL, S-1-5-18 | S-1-5-21-1-2-3-4, Name, &cchName, Domain, &cchDomain, &use)',
      full: lookup(system, 256, 256),
      shortName: lookup(system, 1, 256),
      noAccount: lookup(sidBytes([21, 1, 2, 3, 4]), 256, 256),
    };
  });

  // --- kernel32
  attempt('console.sessionId', () => {
    if (!fn.WTSGetActiveConsoleSessionId) return { skipped: 'WTSGetActiveConsoleSessionId not available' };
    const id = fn.WTSGetActiveConsoleSessionId();
    return { call: 'WTSGetActiveConsoleSessionId()', value: id, valueHex: `0x${id.toString(16)}`, consoleInEnumeration: sessions.find((s) => s.SessionId === id) ?? null };
  });
  attempt('computerName.shortBuffer', () => {
    if (!fn.GetComputerNameW) return { skipped: 'GetComputerNameW not available' };
    const chars = computerName !== null ? computerName.length : 1;
    const buffer = Buffer.alloc(2 * (chars + 1), 0x55);
    const size = [chars];
    const r = raw(() => fn.GetComputerNameW(buffer, size));
    return { call: `GetComputerNameW(buf, &size=${chars}) (the name's length: no room for the terminator)`, ret: r.ret, lastError: r.lastError, sizeBefore: chars, sizeAfter: size[0], requiredIncludesTerminator: computerName !== null ? size[0] === computerName.length + 1 : null };
  });

  // --- the RDP clients' real addresses, to settle where WTS_CLIENT_ADDRESS keeps an IPv6 address:
  // the peers of established connections to local port 3389 (netstat, read-only), plus any given
  // with --client-address.
  attempt('rdpPeers', () => {
    const given = options.clientAddresses ?? [];
    let peers = [];
    let netstat = null;
    if (process.platform === 'win32' && options.netstat !== false) {
      try {
        const text = require('node:child_process').execFileSync('netstat', ['-an', '-p', 'TCP'], { encoding: 'utf8', timeout: 20000 }) +
          require('node:child_process').execFileSync('netstat', ['-an', '-p', 'TCPv6'], { encoding: 'utf8', timeout: 20000 });
        peers = rdpPeersFromNetstat(text);
        netstat = 'netstat -an -p TCP / TCPv6';
      } catch (error) {
        netstat = `netstat failed: ${error.message}`;
      }
    }
    return { source: netstat, given, peers: [...new Set([...given, ...peers])] };
  });

  // --- remote servers given on the command line: read-only calls only
  const remote = {};
  for (const server of options.servers ?? []) {
    const entry = {};
    const h = raw(() => fn.WTSOpenServerW(server));
    entry.open = { ret: h.ret ? 'handle' : null, lastError: h.ret ? undefined : h.lastError };
    if (h.ret) {
      const handle = h.ret;
      try {
        const buf = [null];
        const count = [0];
        const e = raw(() => fn.WTSEnumerateSessionsW(handle, 0, 1, buf, count));
        entry.level0 = { ret: e.ret, lastError: e.lastError, count: count[0] };
        let ids = [];
        if (e.ret && buf[0]) {
          const T = koffi.struct({ SessionId: 'uint32_t', pWinStationName: 'const char16_t *', State: 'int' });
          ids = (count[0] ? koffi.decode(buf[0], koffi.array(T, count[0], 'Array')) : []).map((s) => ({ SessionId: s.SessionId, name: s.pWinStationName, state: stateName(s.State) }));
          entry.level0.sessions = ids;
          fn.WTSFreeMemory(buf[0]);
        }
        entry.level1 = level1(handle, 1);
        if (fn.WTSEnumerateProcessesExW) {
          const pbuf = [null];
          const pcount = [0];
          const pe = raw(() => fn.WTSEnumerateProcessesExW(handle, [1], 0xfffffffe, pbuf, pcount));
          entry.processesEx = { ret: pe.ret, lastError: pe.ret ? undefined : pe.lastError, count: pcount[0] };
          if (pe.ret && pbuf[0] && fn.WTSFreeMemoryExW) fn.WTSFreeMemoryExW(1, pbuf[0], pcount[0]);
        }
        const zbuf = [null];
        const zcount = [0];
        const pz = raw(() => fn.WTSEnumerateProcessesW(handle, 0, 1, zbuf, zcount));
        entry.processes = { ret: pz.ret, lastError: pz.ret ? undefined : pz.lastError, count: zcount[0] };
        if (pz.ret && zbuf[0]) fn.WTSFreeMemory(zbuf[0]);
        entry.sessions = {};
        for (const s of ids) {
          const classes = {};
          for (const className of USED_CLASSES) classes[className] = query(handle, s.SessionId, className);
          entry.sessions[s.SessionId] = { name: s.name, state: s.state, classes };
        }
        entry.isRemoteSessionCurrent = query(handle, WTS_CURRENT_SESSION, 'WTSIsRemoteSession');
      } finally {
        fn.WTSCloseServer(handle);
      }
    }
    remote[server] = entry;
  }
  if (Object.keys(remote).length) {
    const first = Object.values(remote).find((r) => r.isRemoteSessionCurrent);
    if (first) record('query.remote.WTSIsRemoteSession', { server: Object.keys(remote)[0], ...first.isRemoteSessionCurrent });
    record('remote', { servers: remote });
  }

  // --- NetServerGetInfo level 101 (the server's version, for the lock state): the local server
  // (NULL), then each remote server as \\NAME and as NAME. SERVER_INFO_101: platform id at 0, the
  // version DWORDs after the first pointer (at 2 * pointer size and + 4).
  const serverInfo101 = (name) => {
    const buf = [null];
    const status = fn.NetServerGetInfo(name, 101, buf);
    const o = { call: `NetServerGetInfo(${name === null ? 'NULL' : JSON.stringify(name)}, 101, &buf)`, status, bufferNull: !buf[0] };
    if (status === 0 && buf[0]) {
      const p = koffi.sizeof('void *');
      const bytes = Buffer.from(bytesAt(buf[0], 4 * p + 12));
      o.platformId = bytes.readUInt32LE(0);
      o.versionMajorRaw = bytes.readUInt32LE(2 * p);
      o.versionMajor = o.versionMajorRaw & 0x0f;
      o.versionMinor = bytes.readUInt32LE(2 * p + 4);
      o.freeStatus = fn.NetApiBufferFree(buf[0]);
    }
    return o;
  };
  attempt('netapi.serverInfo101', () => {
    if (!fn.NetServerGetInfo || !fn.NetApiBufferFree) return { skipped: 'netapi32 NetServerGetInfo / NetApiBufferFree not available' };
    return { ...serverInfo101(null), osRelease: os.release() };
  });
  if (fn.NetServerGetInfo && fn.NetApiBufferFree && (options.servers ?? []).length) {
    attempt('netapi.remote', () => {
      const servers = {};
      for (const server of options.servers) servers[server] = { unc: serverInfo101(`\\\\${server}`), plain: serverInfo101(server) };
      return { servers };
    });
  }

  for (const id of ['logoff', 'disconnect', 'sendMessage']) notes.push(`${id}: not captured (the capture is read-only)`);

  // Wine says so through ntdll's wine_get_version: such a capture is Wine's, not Windows'.
  let wine = null;
  if (process.platform === 'win32') {
    try {
      wine = koffi.load('ntdll.dll').func('wine_get_version', 'const char *', [])();
    } catch {
      wine = null;
    }
  }

  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    capturedAt: new Date().toISOString(),
    os: { platform: process.platform, wine, release: os.release(), version: typeof os.version === 'function' ? os.version() : null, arch: process.arch, hostname: os.hostname() },
    node: process.version,
    koffi: koffi.version,
    libraries,
    ownSessionId,
    notes,
    probes,
  };
}

/** Decodes a query buffer by class (x64 and ia32 layouts agree for these classes). */
function decodeClass(className, bytes) {
  switch (className) {
    case 'WTSUserName':
    case 'WTSWinStationName':
    case 'WTSDomainName':
    case 'WTSClientName': {
      const text = bytes.toString('utf16le');
      const end = text.indexOf('\0');
      return end < 0 ? text : text.slice(0, end);
    }
    case 'WTSSessionId':
    case 'WTSConnectState':
    case 'WTSIsRemoteSession':
      return bytes.length >= 4 ? bytes.readUInt32LE(0) : bytes.length > 0 ? bytes[0] : null;
    case 'WTSClientProtocolType':
      return bytes.length >= 2 ? bytes.readUInt16LE(0) : null;
    case 'WTSClientAddress': {
      if (bytes.length < 24) return null;
      const family = bytes.readUInt32LE(0);
      const address = [...bytes.subarray(4, 24)];
      return {
        AddressFamily: family,
        Address: address,
        ipv4At2: address.slice(2, 6).join('.'),
        ipv6At0: ipv6(address.slice(0, 16)),
        ipv6At2: ipv6(address.slice(2, 18)),
      };
    }
    case 'WTSClientInfo': {
      // WTSCLIENTW has no pointers: one layout on x64 and ia32 (mingw-w64's <wtsapi32.h>, checked
      // by test/native/layout.test.ts under Wine): ClientName at 0, ClientAddressFamily at 1168,
      // ClientAddress (31 USHORTs) at 1172, 2304 bytes in all.
      if (bytes.length < 1234) return { short: bytes.length };
      const text = bytes.toString('utf16le', 1172, 1234);
      const end = text.indexOf('\0');
      const name = bytes.toString('utf16le', 0, 42);
      return {
        ClientName: name.indexOf('\0') < 0 ? name : name.slice(0, name.indexOf('\0')),
        ClientAddressFamily: bytes.readUInt32LE(1168),
        ClientAddressText: end < 0 ? text : text.slice(0, end),
        ClientAddressHex: bytes.subarray(1172, 1234).toString('hex'),
      };
    }
    case 'WTSSessionInfoEx': {
      // WTSINFOEXW has no pointers: one layout on x64 and ia32 (Learn's syntax, compiled: Level at
      // 0, the union at 8; test/native/layout.test.ts checks it under Wine): SessionFlags at 16,
      // 232 bytes in all.
      if (bytes.length < 4) return { short: bytes.length };
      const Level = bytes.readUInt32LE(0);
      if (bytes.length < 232) return { Level, short: bytes.length };
      const str = (off, chars) => {
        const t = bytes.toString('utf16le', off, off + chars * 2);
        const end = t.indexOf('\0');
        return end < 0 ? t : t.slice(0, end);
      };
      return {
        Level,
        SessionId: bytes.readUInt32LE(8),
        SessionState: bytes.readUInt32LE(12),
        SessionFlags: bytes.readUInt32LE(16),
        WinStationName: str(20, 33),
        UserName: str(86, 21),
        DomainName: str(128, 18),
        LogonTime: bytes.readBigUInt64LE(168).toString(),
        CurrentTime: bytes.readBigUInt64LE(200).toString(),
      };
    }
    case 'WTSSessionInfo': {
      if (bytes.length < 216) return { short: bytes.length };
      const str = (off, chars) => {
        const t = bytes.toString('utf16le', off, off + chars * 2);
        const end = t.indexOf('\0');
        return end < 0 ? t : t.slice(0, end);
      };
      const q = (off) => bytes.readBigUInt64LE(off).toString();
      return {
        State: bytes.readUInt32LE(0),
        SessionId: bytes.readUInt32LE(4),
        IncomingBytes: bytes.readUInt32LE(8),
        OutgoingBytes: bytes.readUInt32LE(12),
        IncomingFrames: bytes.readUInt32LE(16),
        OutgoingFrames: bytes.readUInt32LE(20),
        IncomingCompressedBytes: bytes.readUInt32LE(24),
        OutgoingCompressedBytes: bytes.readUInt32LE(28),
        WinStationName: str(32, 32),
        Domain: str(96, 17),
        UserName: str(130, 21),
        ConnectTime: q(176),
        DisconnectTime: q(184),
        LastInputTime: q(192),
        LogonTime: q(200),
        CurrentTime: q(208),
      };
    }
    default:
      return undefined;
  }
}

/**
 * Remote addresses of TCP connections whose local port is 3389, from `netstat -an`. The state
 * column is localized (ESTABLISHED, HERGESTELLT, ...): any connection with a real remote address
 * counts; a listening socket's remote side is 0.0.0.0:0 or [::]:0.
 */
function rdpPeersFromNetstat(text) {
  const peers = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*TCP\s+(\S+):(\d+)\s+(\S+):(\d+)\s+\S+/i.exec(line);
    if (!m || m[2] !== '3389' || m[4] === '0') continue;
    const peer = m[3].replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
    if (peer !== '0.0.0.0' && peer !== '::' && !peers.includes(peer)) peers.push(peer);
  }
  return peers;
}

function ipv6(b) {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    process.stdout.write('usage: npm run capture:windows -- [--out FILE] [--server NAME]... [--client-address IP]...\n(read-only; see the header of scripts/capture-windows.js)\n');
    return 0;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = options.out ?? `wts-capture-${os.hostname()}-${stamp}.json`;
  // The journal: one JSON line per probe as it is made (the first line says what it is). If the
  // capture dies in a native call, `npm run capture:check FILE.partial.jsonl` still reads it.
  const journal = `${file}.partial.jsonl`;
  fs.writeFileSync(journal, `${JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, partial: true, startedAt: new Date().toISOString(), os: { platform: process.platform, release: os.release(), arch: process.arch, hostname: os.hostname() } })}\n`);
  const capture = runCapture({
    servers: options.servers,
    clientAddresses: options.clientAddresses,
    onProbe: (id, observation) => fs.appendFileSync(journal, `${JSON.stringify({ id, observation })}\n`),
  });
  fs.writeFileSync(file, `${JSON.stringify(capture, null, 2)}\n`);
  fs.rmSync(journal, { force: true });
  process.stdout.write(`capture:windows: ${Object.keys(capture.probes).length} probes written to ${file}\n`);
  return 0;
}

module.exports = { runCapture, main, ROWS, FORMAT, FORMAT_VERSION, decodeClass, rdpPeersFromNetstat, ipv6 };

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (error) {
    process.stderr.write(`capture:windows: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 2;
  }
}
