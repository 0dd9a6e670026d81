#!/usr/bin/env node
/*
 * npm run capture:check -- FILE [--facts test/conformance/facts.ts | docs/windows-facts.json] [--json]
 *                            [--backend windows|double|wine]
 *
 * Diffs a capture written by `npm run capture:windows` against the facts table, row by row:
 *   confirmed      the capture shows what the row expects;
 *   contradicted   it shows something else (expected vs observed printed): correct the table;
 *   not captured   the capture has nothing that decides the row (e.g. logoff rows: the capture is
 *                  read-only; or no IPv6 client was connected);
 *   known difference  a capture of the double or of Wine (told by its libraries and by Wine's
 *                  wine_get_version; --backend overrides) contradicts a row that backend lists as a
 *                  known difference in the facts table.
 * Exit 0 when nothing is contradicted, 1 when something is, 2 when the input cannot be read.
 *
 * Facts come from test/conformance/facts.ts (transpiled in memory with the typescript dev
 * dependency), or from a JSON export ({ facts: [...] } or [...]) given with --facts.
 * Rows are matched by id: each observation in the capture lists the row ids it settles (`rows`),
 * and CHECKS below holds, per row id, the machine test of the row's `expected` text.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const FORMAT = 'wts-session-capture';

/**
 * A capture file: the JSON the capture writes at the end, or — when it died in a native call —
 * its journal (FILE.partial.jsonl: a header line, then one { id, observation } line per probe).
 */
function readCapture(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.jsonl')) return JSON.parse(text);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0] || '{}');
  const probes = {};
  for (const line of lines.slice(1)) {
    const { id, observation } = JSON.parse(line);
    probes[id] = observation;
  }
  return {
    ...header,
    capturedAt: header.startedAt,
    os: { ...(header.os || {}), version: null, wine: null },
    libraries: { wtsapi32: '(partial capture)' },
    notes: ['partial: the capture stopped before it finished; the rows after its last probe are not captured'],
    probes,
  };
}
const ERR = { INVALID_PARAMETER: 87, NOT_SUPPORTED: 50, INVALID_USER_BUFFER: 1784, BUFFER_OVERFLOW: 111, RPC_S_SERVER_UNAVAILABLE: 1722 };

/** Loads the facts table: a .json export, or the TypeScript module transpiled in memory. */
function loadFacts(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const data = JSON.parse(text);
    return Array.isArray(data) ? data : data.facts;
  }
  const ts = require('typescript');
  const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 }, fileName: file }).outputText;
  const mod = { exports: {} };
  // eslint-disable-next-line no-new-func
  new Function('exports', 'require', 'module', '__filename', '__dirname', js)(mod.exports, require, mod, file, path.dirname(file));
  if (!Array.isArray(mod.exports.FACTS)) throw new Error(`${file} exports no FACTS array`);
  return mod.exports.FACTS;
}

function defaultFactsFile() {
  const ts = path.join(ROOT, 'test/conformance/facts.ts');
  const json = path.join(ROOT, 'docs/windows-facts.json');
  let haveTs = false;
  try {
    require.resolve('typescript');
    haveTs = true;
  } catch {
    /* no dev dependencies */
  }
  if (haveTs && fs.existsSync(ts)) return ts;
  if (fs.existsSync(json)) return json;
  return ts;
}

// ---------------------------------------------------------------------------------------------
// Verdict helpers

const confirmed = (observed) => ({ verdict: 'confirmed', observed });
const contradicted = (observed, detail) => ({ verdict: 'contradicted', observed, detail });
const notCaptured = (why, observed) => ({ verdict: 'not captured', why, observed });
const fmt = (o) => (typeof o === 'string' ? o : JSON.stringify(o));
const failed = (o) => !o || o.error !== undefined || o.skipped !== undefined;
const brief = (o) => (o ? { ret: o.ret, lastError: o.ret ? undefined : o.lastError, count: o.count } : o);
const normIp = (a) => {
  if (!a) return a;
  try {
    return a.includes(':') ? new URL(`http://[${a}]/`).hostname.replace(/^\[|\]$/g, '') : a;
  } catch {
    return a;
  }
};

/** Every WTSClientAddress answer in the capture (own session and other sessions of this host). */
function clientAddresses(probes) {
  const out = [];
  const own = probes['query.current.WTSClientAddress'];
  if (own && own.ret && own.value) out.push({ session: 'current', ...own });
  const other = probes['query.other'];
  for (const [id, s] of Object.entries((other && other.sessions) || {})) {
    const q = s.classes && s.classes.WTSClientAddress;
    if (q && q.ret && q.value) out.push({ session: Number(id), ...q });
  }
  return out;
}

/** Per session (current and others): its WTSClientInfo and WTSClientAddress answers, where both succeeded. */
function clientInfos(probes) {
  const out = [];
  const own = probes['query.current.WTSClientInfo'];
  const ownAddress = probes['query.current.WTSClientAddress'];
  if (own && own.ret && own.value && ownAddress && ownAddress.ret && ownAddress.value) out.push({ session: 'current', info: own, address: ownAddress });
  const other = probes['query.other'];
  for (const [id, s] of Object.entries((other && other.sessions) || {})) {
    const info = s.classes && s.classes.WTSClientInfo;
    const address = s.classes && s.classes.WTSClientAddress;
    if (info && info.ret && info.value && address && address.ret && address.value) out.push({ session: Number(id), info, address });
  }
  return out;
}

/** Per row id: (probes, capture) -> verdict. The machine form of the row's `expected` text. */
const CHECKS = {
  'query-null-buffer': (p) => {
    const a = p['query.nullBuffer.count0'];
    const b = p['query.nullBuffer.count1'];
    if (failed(a) || failed(b)) return notCaptured('probe failed', { a, b });
    const observed = [a, b].map((o) => `count ${o.countBefore}: ret ${o.ret}, GetLastError ${o.lastError}, count after ${o.count}`).join('; ');
    const ok = [a, b].every((o) => !o.ret && o.lastError === ERR.INVALID_USER_BUFFER && o.count === o.countBefore);
    return ok ? confirmed(observed) : contradicted(observed);
  },
  'query-null-count': (p) => {
    const o = p['query.nullCount'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `ret ${o.ret}, GetLastError ${o.lastError}, buffer written ${o.bufferWritten}`;
    return !o.ret && o.lastError === ERR.INVALID_USER_BUFFER && !o.bufferWritten ? confirmed(observed) : contradicted(observed);
  },
  'query-protocol-type': (p) => {
    const answers = [];
    const own = p['query.current.WTSClientProtocolType'];
    if (own && !failed(own)) answers.push({ session: 'current', ...own });
    for (const [id, s] of Object.entries((p['query.other'] && p['query.other'].sessions) || {})) {
      const q = s.classes && s.classes.WTSClientProtocolType;
      if (q && q.ret) answers.push({ session: Number(id), ...q });
    }
    const ok = answers.filter((a) => a.ret);
    if (!ok.length) return notCaptured('no successful WTSClientProtocolType query', answers.map(brief));
    const observed = ok.map((a) => `session ${a.session}: count ${a.count}, value ${a.value}`).join('; ');
    return ok.every((a) => a.count === 2 && [0, 1, 2].includes(a.value)) ? confirmed(observed) : contradicted(observed);
  },
  'query-connect-state': (p) => {
    const o = p['query.current.WTSConnectState'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `ret ${o.ret}, count ${o.count}, value ${o.value}${o.ret ? '' : `, GetLastError ${o.lastError}`}`;
    return o.ret && o.count === 4 && o.value === 0 ? confirmed(observed) : contradicted(observed);
  },
  'query-session-info': (p) => {
    const o = p['query.current.WTSSessionInfo'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `ret ${o.ret}, count ${o.count}${o.ret ? `, t1 ${o.timeBefore} <= CurrentTime ${o.value && o.value.CurrentTime} <= t2 ${o.timeAfter}: ${o.currentTimeBetween}` : `, GetLastError ${o.lastError}`}`;
    return o.ret && o.count === 216 && o.currentTimeBetween === true ? confirmed(observed) : contradicted(observed);
  },
  'query-session-info-ex': (p) => {
    const o = p['query.current.WTSSessionInfoEx'];
    if (failed(o)) return notCaptured('probe failed', o);
    const v = o.value || {};
    const observed = o.ret ? `ret 1, count ${o.count}, Level ${v.Level}, SessionFlags ${v.SessionFlags}` : `ret ${o.ret}, GetLastError ${o.lastError}`;
    return o.ret && o.count === 232 && v.Level === 1 ? confirmed(observed) : contradicted(observed);
  },
  'session-info-user': (p) => {
    // The own session: WTSSessionInfo's and WTSSessionInfoEx's names against WTSUserName and
    // WTSDomainName (whole strings), cut to the fields. A cut inside a surrogate pair needs a user
    // name over 20 characters with a pair at the 20th (the row's capture note).
    const info = p['query.current.WTSSessionInfo'];
    const ex = p['query.current.WTSSessionInfoEx'];
    const user = p['query.current.WTSUserName'];
    const domain = p['query.current.WTSDomainName'];
    if ([info, ex, user, domain].some((o) => failed(o) || !o.ret || !o.value)) return notCaptured('a query failed', [info, ex, user, domain].map(brief));
    const u = String(user.value);
    const d = String(domain.value);
    const observed = `WTSUserName '${u}', WTSDomainName '${d}'; WTSSessionInfo '${info.value.UserName}' / '${info.value.Domain}'; WTSSessionInfoEx '${ex.value.UserName}' / '${ex.value.DomainName}'`;
    const same = info.value.UserName === u.slice(0, 20) && info.value.Domain === d.slice(0, 16) && ex.value.UserName === u.slice(0, 20) && ex.value.DomainName === d.slice(0, 17);
    return same ? confirmed(observed) : contradicted(observed);
  },
  'session-flags-lock': (p) => {
    // The capture sees its own session only, which is not locked while it runs: it can show that
    // the flag is one Learn lists, and with the version what an unlocked session reads as; the swap
    // itself needs a locked session (the row's capture note).
    const o = p['query.current.WTSSessionInfoEx'];
    const version = p['netapi.serverInfo101'];
    if (failed(o) || !o.ret || !o.value || o.value.SessionFlags === undefined) return notCaptured('WTSSessionInfoEx not read', brief(o));
    const flags = o.value.SessionFlags >>> 0;
    const v = version && version.status === 0 ? `${version.versionMajor}.${version.versionMinor}` : 'unknown';
    const observed = `own session's SessionFlags ${flags} on version ${v}`;
    if (![0, 1, 0xffffffff].includes(flags)) return contradicted(observed, 'a value Learn does not list');
    const unlockedReads = v === '6.1' ? 0 : 1;
    if (v !== 'unknown' && flags !== unlockedReads && flags !== 0xffffffff) {
      return notCaptured('the own session reads as locked (the capture ran in a locked or non-interactive session?)', observed);
    }
    return notCaptured('a locked session is needed to settle the values and the 6.1 swap', observed);
  },
  'server-version-netservergetinfo': (p, capture) => {
    const o = p['netapi.serverInfo101'];
    if (failed(o) || o.skipped) return notCaptured('probe failed or skipped', brief(o));
    const release = String(o.osRelease || '');
    const [major, minor] = release.split('.').map(Number);
    const observed = `status ${o.status}, platform ${o.platformId}, sv101_version_major ${o.versionMajorRaw} (& 0x0F: ${o.versionMajor}), minor ${o.versionMinor}, free ${o.freeStatus}; os.release ${release}`;
    if (o.status !== 0) return contradicted(observed, 'NetServerGetInfo(NULL, 101) failed');
    // os.release() is Windows' own version only on Windows (Wine reports the one it imitates).
    const onWindows = capture && capture.os && capture.os.platform === 'win32';
    const sameVersion = !onWindows || (o.versionMajor === major && o.versionMinor === minor);
    return o.platformId === 500 && o.freeStatus === 0 && sameVersion ? confirmed(observed) : contradicted(observed);
  },
  'query-string-count': (p) => {
    const list = ['WTSUserName', 'WTSDomainName'].map((c) => [c, p[`query.current.${c}`]]);
    if (list.some(([, o]) => failed(o))) return notCaptured('probe failed', list);
    const observed = list.map(([c, o]) => (o.ret ? `${c}: "${o.value}" (${o.value.length} chars), count ${o.count}` : `${c}: ret ${o.ret}, GetLastError ${o.lastError}`)).join('; ');
    return list.every(([, o]) => o.ret && o.count === (o.value.length + 1) * 2) ? confirmed(observed) : contradicted(observed);
  },
  'query-domain-local-account': (p) => {
    const o = p['query.current.WTSDomainName'];
    if (failed(o) || !o.ret) return notCaptured('WTSDomainName failed', brief(o));
    if (o.computerName === undefined) return notCaptured('no computer name captured', o.value);
    const observed = `domain "${o.value}", computer name "${o.computerName}"`;
    // Equal: a local account, as the row says. Different: a domain account (the row's assumed
    // part: the NetBIOS domain name), which this capture cannot tell apart from a wrong answer.
    return o.equalsComputerNameIgnoringCase ? confirmed(observed) : notCaptured('the domain is not the computer name: a domain account? (the NetBIOS domain is assumed; check by hand)', observed);
  },
  'query-unsupported-classes': (p) => {
    const o = p['query.unsupported'];
    if (failed(o)) return notCaptured('probe failed', o);
    const entries = Object.entries(o.classes);
    const observed = entries.map(([c, q]) => `${c}: ret ${q.ret}, GetLastError ${q.lastError}`).join('; ');
    return entries.every(([, q]) => !q.ret && q.lastError === ERR.NOT_SUPPORTED) ? confirmed(observed) : contradicted(observed);
  },
  'is-remote-session-local-only': (p) => {
    // For another session, a TRUE answer alone says little: it may describe the caller's session.
    // It "works" for another session when its value follows that session's WTSClientProtocolType
    // (remote iff 2) where the caller's own value would not.
    const own = p['query.current.WTSIsRemoteSession'];
    const other = p['query.other.WTSIsRemoteSession'];
    const protocols = (p['query.other'] && p['query.other'].sessions) || {};
    const remote = p['query.remote.WTSIsRemoteSession'];
    const parts = [];
    const bad = [];
    let ignoresId = 0;
    if (own && !failed(own)) parts.push(`current session: ret ${own.ret}${own.ret ? `, value ${own.value}` : `, GetLastError ${own.lastError}`}`);
    const others = other && other.sessions ? Object.entries(other.sessions).filter(([, s]) => !s.own) : [];
    for (const [id, s] of others) {
      const proto = protocols[id] && protocols[id].classes && protocols[id].classes.WTSClientProtocolType;
      const remoteByProtocol = proto && proto.ret ? proto.value === 2 : undefined;
      parts.push(`session ${id} (${s.name}): ret ${s.ret}${s.ret ? `, value ${s.value}` : `, GetLastError ${s.lastError}`}${remoteByProtocol === undefined ? '' : `, protocol type ${proto.value}`}`);
      if (!s.ret || remoteByProtocol === undefined || !own || !own.ret) continue;
      const ownRemote = !!own.value;
      if (remoteByProtocol !== ownRemote) {
        if (!!s.value === remoteByProtocol) bad.push(`session ${id}: the answer follows its own protocol type (works for another session)`);
        else ignoresId++;
      }
    }
    if (remote && !failed(remote)) {
      parts.push(`remote handle (${remote.server}): ret ${remote.ret}${remote.ret ? `, value ${remote.value}` : `, GetLastError ${remote.lastError}`}`);
      if (remote.ret) bad.push('a remote handle answered (Learn: WTS_CURRENT_SERVER_HANDLE only)');
    }
    if (bad.length) return contradicted(parts.join('; '), bad.join('; '));
    const failedOthers = others.filter(([, s]) => !s.ret).length;
    if (ignoresId || (others.length && failedOthers === others.length) || (remote && !remote.ret)) return confirmed(parts.join('; '));
    return notCaptured('no session whose answer could tell (need another session with a different protocol type, or --server)', parts.join('; '));
  },
  'is-remote-session-size': (p) => {
    const o = p['query.current.WTSIsRemoteSession'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `ret ${o.ret}, count ${o.count}, value ${o.value}${o.ret ? '' : `, GetLastError ${o.lastError}`}`;
    return o.ret && o.count === 1 ? confirmed(observed) : contradicted(observed);
  },
  'enum-processes-last-error': (p) => {
    const o = p['processes.success'];
    if (failed(o)) return notCaptured('probe failed', o);
    if (o.lastErrorPreset === null) return notCaptured('SetLastError was not available: the last error was not preset', brief(o));
    const observed = `ret ${o.ret}, GetLastError ${o.lastError} (preset 0x${Number(o.lastErrorPreset).toString(16)})`;
    return o.ret && o.lastError === 0 ? confirmed(observed) : contradicted(observed);
  },
  'enum-processes-bad-arguments': (p) => {
    const o = p['processes.badArgs'];
    if (failed(o)) return notCaptured('probe failed', o);
    const entries = Object.entries(o.cases);
    const observed = entries.map(([c, r]) => `${c}: ret ${r.ret}, GetLastError ${r.lastError}`).join('; ');
    return entries.every(([, r]) => !r.ret && r.lastError === ERR.INVALID_PARAMETER) ? confirmed(observed) : contradicted(observed);
  },
  'enum-processes-pid0': (p) => {
    const o = p['processes.success'];
    if (failed(o) || !o.ret) return notCaptured('WTSEnumerateProcessesW failed', brief(o));
    const observed = o.pid0Present ? `PID 0 at index ${o.pid0Index}, session ${o.pid0.SessionId}, name ${fmt(o.pid0.name)}, SID ${fmt(o.pid0.sid)}` : `no PID 0 among ${o.count} processes`;
    return o.pid0Index === 0 && o.pid0.SessionId === 0 ? confirmed(observed) : contradicted(observed);
  },
  'enum-processes-sids': (p) => {
    const o = p['processes.success'];
    if (failed(o) || !o.ret) return notCaptured('WTSEnumerateProcessesW failed', brief(o));
    if (!o.ownProcess) return notCaptured('the capturing process is not in the list', `${o.count} processes`);
    const sid = o.ownProcess.sid;
    const observed = `own process SID ${fmt(sid)}${o.whoamiSid ? ` (whoami /user: ${o.whoamiSid})` : ''}; ${o.nullSids} of ${o.count} processes have a NULL pUserSid`;
    const valid = typeof sid === 'string' && /^S-1-\d+(-\d+)*$/.test(sid);
    if (!valid) return contradicted(observed, 'the own process has no valid SID');
    if (o.whoamiSid && o.whoamiSid !== sid) return contradicted(observed, "the own process's SID is not the user's");
    return confirmed(observed);
  },
  'enum-sessions-services-console': (p) => {
    const o = p['sessions.level0'];
    if (failed(o)) return notCaptured('probe failed', o);
    if (!o.ret) return contradicted(`ret ${o.ret}, GetLastError ${o.lastError}`);
    const observed = `${o.count} sessions; Services: ${o.services ? `id ${o.services.SessionId}, ${o.services.state}` : 'absent'}; Console: ${o.console ? `id ${o.console.SessionId}, ${o.console.state}` : 'absent'}`;
    const problems = [];
    if (o.count < 2) problems.push('fewer than 2 sessions');
    if (!o.services) problems.push('no Services session');
    else {
      if (o.services.State !== 4) problems.push('Services is not WTSDisconnected');
      if (o.services.SessionId !== 0) problems.push('Services is not session 0 (assumed)');
    }
    if (!o.console) problems.push('no Console session');
    return problems.length ? contradicted(observed, problems.join('; ')) : confirmed(observed);
  },
  'enum-sessions-host-name': (p) => {
    const o = p['sessions.level1'];
    if (failed(o)) return notCaptured('probe failed', o);
    if (!o.ret) return notCaptured(`WTSEnumerateSessionsExW failed (GetLastError ${o.lastError})`, brief(o));
    const observed = `pHostName: ${(o.hostNames || []).join(', ') || '(no sessions)'}`;
    return (o.hostNames || []).every((h) => h === 'NULL' || h === 'empty') ? confirmed(observed) : contradicted(observed, 'a session on this host has a host name (a virtual machine session?)');
  },
  'enum-sessions-exec-env-id': (p) => {
    const o = p['sessions.level1'];
    if (failed(o) || !o.ret) return notCaptured('WTSEnumerateSessionsExW failed', brief(o));
    const observed = (o.sessions || []).map((s) => `${s.ExecEnvId}/${s.SessionId}`).join(', ');
    // On an RD Session Host handle (the only kind the library opens) they agree.
    return o.execEnvIdEqualsSessionId ? confirmed(`ExecEnvId/SessionId: ${observed}`) : contradicted(`ExecEnvId/SessionId: ${observed}`, 'ExecEnvId and SessionId differ on a WTS_CURRENT_SERVER_HANDLE enumeration');
  },
  'enum-sessions-ex-free': (p) => {
    const o = p['sessions.level1'];
    if (failed(o) || !o.ret || !o.free) return notCaptured('nothing was freed', brief(o));
    const observed = `WTSFreeMemoryExW: ret ${o.free.ret}${o.free.ret ? '' : `, GetLastError ${o.free.lastError}`}`;
    return o.free.ret ? confirmed(observed) : contradicted(observed);
  },
  'level-one-unsupported': (p) => {
    const servers = Object.entries((p.remote && p.remote.servers) || {});
    // A server that answers WTSEnumerateSessionsW but not WTSEnumerateSessionsExW (a down server fails both).
    const failures = servers.filter(([, s]) => s.level0 && s.level0.ret && s.level1 && s.level1.ret === 0);
    if (!failures.length) return notCaptured(servers.length ? 'every remote server supports WTSEnumerateSessionsExW' : 'no remote server given (--server)', servers.map(([n, s]) => `${n}: ${fmt(brief(s.level1))}`).join('; '));
    const observed = failures.map(([n, s]) => `${n}: FALSE, GetLastError ${s.level1.lastError}`).join('; ');
    return failures.every(([, s]) => [120, 1745, 1717, 50, 0].includes(s.level1.lastError)) ? confirmed(observed) : contradicted(observed, 'a code outside 120 / 1745 / 1717 / 50 (the codes the library falls back on)');
  },
  'rpc-error-first-use': (p) => {
    const servers = Object.entries((p.remote && p.remote.servers) || {});
    const down = servers.filter(([, s]) => s.open.ret === null || (s.level0 && !s.level0.ret));
    if (!down.length) return notCaptured(servers.length ? 'every remote server answered' : 'no remote server given (--server)');
    const observed = down.map(([n, s]) => (s.open.ret === null ? `${n}: WTSOpenServerW NULL, GetLastError ${s.open.lastError}` : `${n}: open ok, WTSEnumerateSessionsW GetLastError ${s.level0.lastError}`)).join('; ');
    return down.every(([, s]) => s.open.ret !== null) ? confirmed(observed) : contradicted(observed, 'WTSOpenServerW itself failed');
  },
  'console-session-none': (p) => {
    const o = p['console.sessionId'];
    if (failed(o)) return notCaptured('probe failed', o);
    return o.value === 0xffffffff ? confirmed('0xFFFFFFFF') : notCaptured(`a session was attached to the console (${o.valueHex})`, o.valueHex);
  },
  'computer-name-short-buffer': (p) => {
    const o = p['computerName.shortBuffer'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `size ${o.sizeBefore}: ret ${o.ret}, GetLastError ${o.lastError}, size after ${o.sizeAfter}`;
    return !o.ret && o.lastError === ERR.BUFFER_OVERFLOW && o.requiredIncludesTerminator !== false ? confirmed(observed) : contradicted(observed);
  },
  'sid-format': (p) => {
    // The capture decodes pUserSid itself, as the library does; whoami prints Windows' own text.
    const o = p['processes.success'];
    if (failed(o) || !o.ret || !o.ownProcess) return notCaptured('the capturing process is not in the list', brief(o));
    if (!o.whoamiSid) return notCaptured('no whoami /user to compare with', o.ownProcess.sid);
    const observed = `decoded ${fmt(o.ownProcess.sid)}, whoami ${o.whoamiSid}`;
    return o.ownProcess.sid === o.whoamiSid ? confirmed(observed) : contradicted(observed, "the decoded SID is not Windows' text form");
  },
  'enum-processes-ex': (p) => {
    const o = p['processesEx.args'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `NULL ppProcessInfo: ret ${o.nullInfo.ret}, GetLastError ${o.nullInfo.lastError}, count unchanged ${o.nullInfo.countUnchanged}; NULL pCount: ret ${o.nullCount.ret}, GetLastError ${o.nullCount.lastError}; level 0: ret ${o.level0.ret}, GetLastError ${o.level0.lastError}, count ${o.level0.count}, level after ${o.level0.levelAfter}, WTSFreeMemoryExW(0) ${o.level0.free ? o.level0.free.ret : '-'}`;
    const ok =
      !o.nullInfo.ret && o.nullInfo.lastError === ERR.INVALID_PARAMETER && o.nullInfo.countUnchanged &&
      !o.nullCount.ret && o.nullCount.lastError === ERR.INVALID_PARAMETER &&
      o.level0.ret && (o.level0.lastErrorPreset === null || o.level0.lastError === 0) && o.level0.count > 0 && o.level0.levelAfter === 0 && o.level0.free && o.level0.free.ret;
    return ok ? confirmed(observed) : contradicted(observed);
  },
  'enum-processes-ex-level': (p) => {
    const o = p['processesEx.badLevel'];
    if (failed(o)) return notCaptured('probe failed', o);
    const observed = `ret ${o.ret}, GetLastError ${o.lastError}, level after ${o.levelAfter}`;
    if (o.ret || o.levelAfter !== 1) return contradicted(observed, 'Learn: FALSE, and *pLevel set to 1');
    return o.lastError === ERR.INVALID_PARAMETER ? confirmed(observed) : contradicted(observed, 'the last error is not 87 (the assumed part)');
  },
  'enum-processes-ex-free': (p) => {
    const o = p['processesEx.level1'];
    if (failed(o)) return notCaptured('probe failed', o);
    if (!o.ret) return notCaptured(`level 1 failed (GetLastError ${o.lastError}): nothing to free`, brief(o));
    const observed = `WTSFreeMemoryExW(WTSTypeProcessInfoLevel1, info, ${o.count}): ret ${o.free.ret}${o.free.ret ? '' : `, GetLastError ${o.free.lastError}`}`;
    return o.free.ret ? confirmed(observed) : contradicted(observed);
  },
  'process-info-ex-layout': (p) => {
    const o = p['processesEx.level1'];
    if (failed(o) || !o.ret) return notCaptured('level 1 failed', brief(o));
    if (!o.ownProcess) return notCaptured(`the capturing process is not among the ${o.count} elements read at ${o.elementSize} bytes each`, o.sample);
    const own = o.ownProcess;
    const observed = `element ${o.elementSize} bytes; own process: session ${own.SessionId}, ${fmt(own.name)}, ${own.NumberOfThreads} threads, ${own.HandleCount} handles, working set ${own.WorkingSetSize}`;
    return own.NumberOfThreads > 0 && own.HandleCount > 0 && own.WorkingSetSize > 0 && /node/i.test(String(own.name)) ? confirmed(observed) : contradicted(observed, 'the own process read at these offsets makes no sense');
  },
  'process-info-ex-times': (p) => {
    const o = p['processesEx.level1'];
    if (failed(o) || !o.ret || !o.ownProcess || !o.ownCpuMicroseconds) return notCaptured('the capturing process is not in the level-1 list', brief(o));
    const user = Number(o.ownProcess.UserTime);
    const micros = o.ownCpuMicroseconds.user;
    const observed = `own process UserTime ${o.ownProcess.UserTime}, KernelTime ${o.ownProcess.KernelTime}; Node's process.cpuUsage(): user ${micros} µs, system ${o.ownCpuMicroseconds.system} µs`;
    if (micros < 20000) return notCaptured('too little CPU time used to tell the unit', observed);
    // Milliseconds: UserTime * 1000 is about the microseconds; 100-ns units: UserTime / 10 is.
    const asMs = (user * 1000) / micros;
    const as100ns = user / 10 / micros;
    if (asMs > 0.5 && asMs < 2) return confirmed(`${observed} (milliseconds)`);
    if (as100ns > 0.5 && as100ns < 2) return contradicted(`${observed} (100-ns units)`, 'UserTime counts 100-ns units, not milliseconds');
    return notCaptured('UserTime matches neither unit', observed);
  },
  'enum-processes-ex-unsupported': (p) => {
    const servers = Object.entries((p.remote && p.remote.servers) || {});
    // A server that lists processes at level 0 but not at level 1 (a down server fails both).
    const failures = servers.filter(([, s]) => s.processes && s.processes.ret && s.processesEx && s.processesEx.ret === 0);
    if (!failures.length) return notCaptured(servers.length ? 'every remote server supports WTSEnumerateProcessesExW level 1' : 'no remote server given (--server)', servers.map(([n, s]) => `${n}: ${fmt(s.processesEx)}`).join('; '));
    const observed = failures.map(([n, s]) => `${n}: FALSE, GetLastError ${s.processesEx.lastError}`).join('; ');
    return failures.every(([, s]) => [120, 1745, 1717, 50, 0].includes(s.processesEx.lastError)) ? confirmed(observed) : contradicted(observed, 'a code outside 120 / 1745 / 1717 / 50 (the codes the library falls back on)');
  },
  'lookup-account-sid': (p) => {
    const o = p['lookup.system'];
    if (failed(o)) return notCaptured('probe failed', o);
    const { full, shortName, noAccount } = o;
    const observed = `S-1-5-18: ret ${full.ret}, ${full.ret ? `${full.domain}\\${full.name}, use ${full.use}` : `GetLastError ${full.lastError}`}; cchName 1: ret ${shortName.ret}, GetLastError ${shortName.lastError}, cchName after ${shortName.nameSize}; S-1-5-21-1-2-3-4: ret ${noAccount.ret}, GetLastError ${noAccount.lastError}`;
    if (!full.ret) return contradicted(observed, 'LocalSystem did not resolve');
    const problems = [];
    if (shortName.ret || shortName.lastError !== 122 || shortName.nameSize !== full.name.length + 1) problems.push('a short buffer is not FALSE / 122 / the size with its NUL');
    if (noAccount.ret || noAccount.lastError !== 1332) problems.push('a SID of no account is not FALSE / 1332');
    return problems.length ? contradicted(observed, problems.join('; ')) : confirmed(observed);
  },
  // Rows this capture version does not probe yet (say so, never "confirmed").
  'computer-name-ex-more-data': () => notCaptured('not probed by this capture version (test/native/local-names.test.ts covers the double)'),
  'session-info-unsupported-old-server': () => notCaptured('needs a server older than Windows Server 2008 (run with --server NAME against one)'),
  'client-address-ipv4': (p) => {
    const v4 = clientAddresses(p).filter((a) => a.value.AddressFamily === 2);
    if (!v4.length) return notCaptured('no session with an IPv4 client address');
    const peers = ((p.rdpPeers && p.rdpPeers.peers) || []).map(normIp);
    const observed = v4.map((a) => `session ${a.session}: count ${a.count}, bytes ${a.hex.slice(8)}, Address[2..5] ${a.value.ipv4At2}`).join('; ');
    if (v4.some((a) => a.count !== 24)) return contradicted(observed, 'count is not 24');
    if (!peers.length) return notCaptured('no RDP peer address to compare with (netstat, --client-address)', observed);
    // A disconnected session has no connection, and a client behind NAT reports its own address
    // (Learn): one match proves the layout; none proves nothing unless another offset matches.
    const withPeers = `${observed}; peers ${peers.join(', ')}`;
    if (v4.some((a) => peers.includes(a.value.ipv4At2))) return confirmed(withPeers);
    const at0 = v4.filter((a) => peers.includes((a.hex.slice(8, 16).match(/../g) || []).map((h) => parseInt(h, 16)).join('.')));
    if (at0.length) return contradicted(withPeers, 'the address is at Address[0..3], not [2..5]');
    return notCaptured('no session address matches an RDP peer (disconnected sessions, NAT)', withPeers);
  },
  'client-info': (p) => {
    // Learn (WTSCLIENTW, Remarks): an AF_INET address "in string format". Compared, session by
    // session, with the same session's WTS_CLIENT_ADDRESS (Address[2..5], its own row).
    const v4 = clientInfos(p).filter((x) => x.info.value.ClientAddressFamily === 2);
    if (!v4.length) return notCaptured('no session with an IPv4 client answered both WTSClientInfo and WTSClientAddress');
    const observed = v4
      .map((x) => `session ${x.session}: count ${x.info.count}, ClientAddress "${x.info.value.ClientAddressText}" (${x.info.value.ClientAddressHex.slice(0, 40)}…), WTSClientAddress ${x.address.value.ipv4At2}`)
      .join('; ');
    if (v4.some((x) => x.info.count !== 2304)) return contradicted(observed, 'count is not sizeof(WTSCLIENTW) = 2304');
    if (v4.every((x) => x.info.value.ClientAddressText === x.address.value.ipv4At2)) return confirmed(observed);
    return contradicted(observed, 'ClientAddress does not hold the IPv4 address as text');
  },
  'client-address-ipv6': (p) => {
    const v6 = clientAddresses(p).filter((a) => a.value.AddressFamily === 23);
    if (!v6.length) return notCaptured('no session with an IPv6 client address');
    const peers = ((p.rdpPeers && p.rdpPeers.peers) || []).map(normIp);
    const observed = v6.map((a) => `session ${a.session}: bytes ${a.hex.slice(8)}; [0..15] ${normIp(a.value.ipv6At0)}, [2..17] ${normIp(a.value.ipv6At2)}`).join('; ');
    if (!peers.length) return notCaptured('no RDP peer address to compare with (netstat, --client-address)', observed);
    const at0 = v6.filter((a) => peers.includes(normIp(a.value.ipv6At0)));
    const at2 = v6.filter((a) => peers.includes(normIp(a.value.ipv6At2)));
    // One session that matches settles the layout; disconnected sessions and NAT match nothing.
    if (at0.length && !at2.length) return confirmed(`${observed}; peers ${peers.join(', ')}`);
    if (at2.length && !at0.length) return contradicted(`${observed}; peers ${peers.join(', ')}`, 'the address is at Address[2..17] (Cassia/oshi/Veyon), not [0..15]');
    return notCaptured('neither layout matches a known peer address', `${observed}; peers ${peers.join(', ')}`);
  },
};

const NOT_READ_ONLY = new Set([
  'send-message-lengths', 'send-message-timeout-zero', 'logoff-listener', 'logoff-session-zero', 'logoff-closing', 'query-after-logoff', 'request-to-ended-session', 'disconnect-disconnected',
  'disconnect-listener-or-session-zero', 'disconnect-clears-winstation-name',
  'terminate-process', 'terminate-gone', 'terminate-idle-process',
]);
/**
 * Rows the capture cannot observe on its own: a wait returns only when a session changes, which a
 * read-only capture never causes (and a flush or close-while-waiting probe is not written yet).
 */
const NEEDS_A_CHANGE = new Map([
  ['wait-system-event-blocks', 'a wait returns only when a session changes; the capture changes none'],
  ['wait-system-event-between-waits', 'needs session changes between two waits; the capture changes none'],
  ['wait-system-event-flush', 'not probed by the capture yet (a wait on a second thread, then a flush)'],
  ['wait-system-event-close-pending', 'not probed by the capture yet (a wait on a second thread, then closing its handle)'],
  ['account-name-case', 'not probed by the capture yet (LookupAccountNameW of other spellings of an account name)'],
]);

/**
 * Which backend of the facts table made the capture: 'double' (the test double's libraries),
 * 'wine' (Wine's own DLLs), or null (Windows). A row that backend lists as a known difference is
 * reported as such instead of as a contradiction.
 */
function backendOf(capture) {
  const lib = String((capture.libraries && capture.libraries.wtsapi32) || '');
  if (!/^(.*[\\/])?wtsapi32(\.dll)?$/i.test(lib)) return 'double';
  if (capture.os && capture.os.wine) return 'wine';
  return null;
}

/** Checks a capture against the facts; returns { backend, results, unknownRows, contradicted }. */
function check(capture, facts, backend = backendOf(capture)) {
  if (!capture || capture.format !== FORMAT) throw new Error(`not a ${FORMAT} file`);
  const probes = capture.probes || {};
  const known = new Set(facts.map((f) => f.id));
  const mentioned = new Set(Object.values(probes).flatMap((o) => (o && o.rows) || []));
  const unknownRows = [...mentioned].filter((id) => !known.has(id));
  const results = facts.map((fact) => {
    const base = { id: fact.id, status: fact.status, expected: fact.expected };
    const checker = CHECKS[fact.id];
    let r;
    if (NOT_READ_ONLY.has(fact.id)) r = notCaptured('not read-only: the capture never logs off, disconnects, messages anyone or ends a process');
    else if (NEEDS_A_CHANGE.has(fact.id)) r = notCaptured(NEEDS_A_CHANGE.get(fact.id));
    else if (!checker) r = notCaptured('no check for this row in scripts/capture-check.js');
    else {
      try {
        r = checker(probes, capture);
      } catch (error) {
        r = notCaptured(`check failed: ${error.message}`);
      }
    }
    if (r.verdict !== 'not captured' && !mentioned.has(fact.id)) r = { ...r, note: 'row not listed by any observation (capture older than the table?)' };
    const difference = backend && fact.backends && typeof fact.backends[backend] === 'string' ? fact.backends[backend] : undefined;
    if (r.verdict === 'contradicted' && difference) r = { ...r, verdict: 'known difference', why: `${backend}: ${difference}` };
    return { ...base, ...r };
  });
  return { backend, results, unknownRows, contradicted: results.filter((r) => r.verdict === 'contradicted').length };
}

function report(capture, out) {
  const lines = [];
  lines.push(`capture: ${capture.os.platform} ${capture.os.release}${capture.os.version ? ` (${capture.os.version})` : ''} ${capture.os.arch}${capture.os.wine ? `, Wine ${capture.os.wine}` : ''}, ${capture.capturedAt}, wtsapi32 ${capture.libraries.wtsapi32}`);
  lines.push(out.backend ? `backend: ${out.backend} (its known differences in the facts table are not contradictions)` : 'backend: Windows');
  for (const r of out.results) {
    lines.push(`${r.verdict.padEnd(13)} ${r.id} [${r.status}]`);
    if (r.verdict === 'contradicted') {
      lines.push(`    expected: ${r.expected}`);
      lines.push(`    observed: ${fmt(r.observed)}${r.detail ? `\n    why:      ${r.detail}` : ''}`);
    } else if (r.verdict === 'confirmed') lines.push(`    observed: ${fmt(r.observed)}`);
    else lines.push(`    ${r.why}${r.observed !== undefined ? `; observed: ${fmt(r.observed)}` : ''}`);
    if (r.note) lines.push(`    note: ${r.note}`);
  }
  const count = (v) => out.results.filter((r) => r.verdict === v).length;
  if (out.unknownRows.length) lines.push(`rows named by the capture but not in the facts table: ${out.unknownRows.join(', ')}`);
  lines.push(`${count('confirmed')} confirmed, ${count('contradicted')} contradicted, ${count('known difference')} known differences, ${count('not captured')} not captured (${out.results.length} rows)`);
  return `${lines.join('\n')}\n`;
}

function main(argv) {
  let file;
  let factsFile;
  let json = false;
  let backend;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--facts') factsFile = argv[++i];
    else if (argv[i] === '--backend') backend = argv[++i] === 'windows' ? null : argv[i];
    else if (argv[i] === '--json') json = true;
    else if (!file) file = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!file) {
    process.stderr.write('usage: npm run capture:check -- FILE [--facts test/conformance/facts.ts|FILE.json] [--json] [--backend windows|double|wine]\n');
    return 2;
  }
  let capture;
  let facts;
  try {
    capture = readCapture(file);
    facts = loadFacts(factsFile ?? defaultFactsFile());
  } catch (error) {
    process.stderr.write(`capture:check: ${error.message}\n`);
    return 2;
  }
  let out;
  try {
    out = check(capture, facts, backend === undefined ? backendOf(capture) : backend);
  } catch (error) {
    process.stderr.write(`capture:check: ${file}: ${error.message}\n`);
    return 2;
  }
  process.stdout.write(json ? `${JSON.stringify(out, null, 2)}\n` : report(capture, out));
  return out.contradicted ? 1 : 0;
}

module.exports = { readCapture, check, loadFacts, report, backendOf, CHECKS, NOT_READ_ONLY, NEEDS_A_CHANGE };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
