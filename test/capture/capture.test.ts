/**
 * npm run capture:windows / capture:check (issue 11 §3), exercised against the native double: the
 * capture script calls the double's wtsapi32/kernel32 exports exactly as it calls Windows', and the
 * checker must accept what it writes. Runs in `npm test` (Linux) and, under Wine, against the
 * double built as a Windows DLL (WTS_DOUBLE_PATH).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm } from '../../src/mock';
import { FACTS } from '../conformance/facts';
import { ROOT } from '../helpers';
import { doublePath, NativeDouble } from '../native/double';

/**
 * Runs a script with this node, its output going to files, not pipes: the Windows node.exe under
 * Wine may die when its stdout or stderr is a pipe (the status is then null), which a pipe-free
 * run avoids on every platform.
 */
function runNode(args: readonly string[], env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wts-run-'));
  const out = openSync(join(dir, 'out'), 'w');
  const err = openSync(join(dir, 'err'), 'w');
  try {
    const run = spawnSync(process.execPath, args, { env: env ?? process.env, stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    return { status: run.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */
const capture = require('../../scripts/capture-windows.js') as {
  runCapture(options: { wtsapi32?: string; kernel32?: string; advapi32?: string; netapi32?: string; servers?: string[]; clientAddresses?: string[]; netstat?: boolean }): Capture;
  ROWS: Record<string, string[]>;
  rdpPeersFromNetstat(text: string): string[];
};
const checker = require('../../scripts/capture-check.js') as {
  check(capture: unknown, facts: readonly unknown[]): { results: Result[]; unknownRows: string[]; contradicted: number };
  loadFacts(file: string): Array<{ id: string }>;
  report(capture: unknown, out: unknown): string;
  CHECKS: Record<string, unknown>;
  NOT_READ_ONLY: Set<string>;
  NEEDS_A_CHANGE: Map<string, string>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface Capture {
  format: string;
  version: number;
  os: { platform: string; release: string; arch: string };
  probes: Record<string, { rows: string[]; [key: string]: unknown }>;
  [key: string]: unknown;
}
interface Result {
  id: string;
  verdict: 'confirmed' | 'contradicted' | 'not captured';
  observed?: unknown;
  why?: string;
}

/** A host shaped like a Windows RD Session Host: Services (0), the console, two RDP clients, a listener. */
const farm: Farm = {
  localServer: 'HOST1',
  servers: [
    {
      name: 'HOST1',
      currentSessionId: 2,
      consoleSessionId: 1,
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected' },
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'HOST1' },
        {
          id: 2,
          name: 'RDP-Tcp#0',
          state: 'Active',
          user: 'alice',
          domain: 'HOST1',
          clientName: 'PC1',
          clientAddress: '192.168.0.7',
          processes: [{ pid: process.pid, name: 'node.exe', threads: 11, handleCount: 240, workingSetSize: 50_000_000 }],
        },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'HOST1', clientName: 'PC2', clientAddress: '2001:db8::5' },
        { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
      ],
    },
    // Given with --server: an old server without level-1 enumeration, and one that is down.
    { name: 'OLD2', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'op', domain: 'CORP' }] },
    { name: 'DOWN3', unreachable: true },
  ],
};

const found = doublePath();
const describeDouble = 'missing' in found ? describe.skip : describe;
const libPath = 'path' in found ? found.path : '';

describe('capture-check.js reads the facts table', () => {
  test('the TypeScript table, transpiled in memory, has the same rows as test/conformance/facts.ts', () => {
    const loaded = checker.loadFacts(join(ROOT, 'test/conformance/facts.ts'));
    expect(loaded.map((f) => f.id)).toEqual(FACTS.map((f) => f.id));
  });

  test('every row id the capture names is a row of the facts table', () => {
    const ids = new Set(FACTS.map((f) => f.id));
    const named = [...new Set(Object.values(capture.ROWS).flat())];
    expect(named.filter((id) => !ids.has(id))).toEqual([]);
  });

  test('every row has a check or is listed as not read-only', () => {
    const missing = FACTS.map((f) => f.id).filter((id) => !checker.CHECKS[id] && !checker.NOT_READ_ONLY.has(id) && !checker.NEEDS_A_CHANGE.has(id));
    expect(missing).toEqual([]);
  });

  test('netstat parsing keeps the peers of established port-3389 connections only', () => {
    const text = [
      '  TCP    10.0.0.5:3389          192.168.1.20:51000     ESTABLISHED',
      '  TCP    [fe80::1%4]:3389       [2001:db8::5]:5123     ESTABLISHED',
      '  TCP    0.0.0.0:3389           0.0.0.0:0              LISTENING',
      '  TCP    10.0.0.5:445           192.168.1.21:50000     ESTABLISHED',
    ].join('\r\n');
    expect(capture.rdpPeersFromNetstat(text)).toEqual(['192.168.1.20', '2001:db8::5']);
  });
});

describeDouble('capture:windows against the native double', () => {
  let double: NativeDouble;
  let result: Capture;

  beforeAll(() => {
    double = new NativeDouble(libPath);
    double.loadFarm(farm);
    double.setFault('OLD2', 'enumerateEx', '*', 120); // ERROR_CALL_NOT_IMPLEMENTED
    double.setFault('OLD2', 'processesEx', '*', 1745); // RPC_S_PROCNUM_OUT_OF_RANGE: no WTSEnumerateProcessesExW level 1
    result = capture.runCapture({ wtsapi32: libPath, kernel32: libPath, advapi32: libPath, netapi32: libPath, servers: ['OLD2', 'DOWN3'], clientAddresses: ['192.168.0.7', '2001:db8::5'], netstat: false });
    // WTS_CAPTURE_DUMP=file: keep the capture, to read it or to run capture:check on it by hand.
    const dump = process.env['WTS_CAPTURE_DUMP'];
    if (dump) writeFileSync(dump, `${JSON.stringify(result, null, 2)}\n`);
  });

  test('writes a versioned capture with OS data, and every observation names its rows', () => {
    expect(result.format).toBe('wts-session-capture');
    expect(result.version).toBe(1);
    expect(result.os).toEqual(expect.objectContaining({ platform: process.platform, arch: process.arch }));
    for (const [id, o] of Object.entries(result.probes)) {
      expect({ id, rows: Array.isArray(o.rows) }).toEqual({ id, rows: true });
      expect(o).not.toHaveProperty('error');
    }
  });

  test('records raw bytes: all 20 Address bytes of WTS_CLIENT_ADDRESS and the 216 bytes of WTSINFOW', () => {
    const address = result.probes['query.current.WTSClientAddress'] as unknown as { ret: number; count: number; hex: string; value: { AddressFamily: number; Address: number[]; ipv4At2: string } };
    expect(address.ret).toBeTruthy();
    expect(address.count).toBe(24);
    expect(address.hex).toHaveLength(48);
    expect(address.value.Address).toHaveLength(20);
    expect(address.value).toEqual(expect.objectContaining({ AddressFamily: 2, ipv4At2: '192.168.0.7' }));
    const info = result.probes['query.current.WTSSessionInfo'] as unknown as { count: number; hex: string; value: { SessionId: number; UserName: string } };
    expect(info.count).toBe(216);
    expect(info.hex).toHaveLength(432);
    expect(info.value).toEqual(expect.objectContaining({ SessionId: 2, UserName: 'alice' }));
  });

  test('queries every other session read-only, and records pHostName as NULL or empty', () => {
    const other = result.probes['query.other'] as unknown as { sessions: Record<string, unknown> };
    expect(Object.keys(other.sessions).map(Number).sort((a, b) => a - b)).toEqual([0, 1, 3, 65536]);
    const level1 = result.probes['sessions.level1'] as unknown as { ret: number; hostNames: string[] };
    expect(level1.ret).toBeTruthy();
    expect(level1.hostNames.every((h) => h === 'NULL' || h === 'empty')).toBe(true);
  });

  test('remote servers: read-only calls through WTSOpenServerW, every handle closed', () => {
    const remote = result.probes['remote'] as unknown as { servers: Record<string, { open: { ret: string | null }; level0: { ret: number; lastError?: number }; level1: { ret: number; lastError: number }; sessions: Record<string, unknown> }> };
    expect(Object.keys(remote.servers)).toEqual(['OLD2', 'DOWN3']);
    expect(remote.servers['OLD2']!.level1).toEqual(expect.objectContaining({ ret: 0, lastError: 120 }));
    expect(Object.keys(remote.servers['OLD2']!.sessions)).toEqual(['0', '1']);
    expect(remote.servers['DOWN3']!.level0).toEqual(expect.objectContaining({ ret: 0, lastError: 1722 }));
  });

  test('frees every buffer it was given', () => {
    expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 });
  });

  test('the checker accepts the capture: no row the double claims is contradicted', () => {
    const out = checker.check(result, FACTS);
    expect(out.unknownRows).toEqual([]);
    expect(out.results.map((r) => r.id)).toEqual(FACTS.map((f) => f.id));
    const claimed = new Set(FACTS.filter((f) => f.backends.double === true).map((f) => f.id));
    const contradicted = out.results.filter((r) => r.verdict === 'contradicted' && claimed.has(r.id));
    expect(contradicted).toEqual([]);
    // The double models these, so the capture decides them.
    const verdict = (id: string) => out.results.find((r) => r.id === id)?.verdict;
    for (const id of [
      'query-null-buffer', 'query-null-count', 'query-protocol-type', 'query-session-info', 'enum-processes-bad-arguments', 'enum-sessions-services-console',
      'computer-name-short-buffer', 'client-address-ipv4', 'client-address-ipv6', 'level-one-unsupported', 'rpc-error-first-use', 'enum-processes-ex',
      'enum-processes-ex-level', 'enum-processes-ex-free', 'enum-processes-ex-unsupported', 'lookup-account-sid',
    ]) {
      expect({ id, verdict: verdict(id) }).toEqual({ id, verdict: 'confirmed' });
    }
    for (const id of checker.NOT_READ_ONLY) expect({ id, verdict: verdict(id) }).toEqual({ id, verdict: 'not captured' });
    expect(checker.report(result, out)).toMatch(/\d+ confirmed, \d+ contradicted, \d+ known differences, \d+ not captured \(\d+ rows\)/);
  });

  test('each probe goes to the journal as it is made, and a capture cut short is still checkable', () => {
    const journal: Array<{ id: string; observation: unknown }> = [];
    const again = capture.runCapture({
      wtsapi32: libPath,
      kernel32: libPath,
      advapi32: libPath,
      netapi32: libPath,
      netstat: false,
      onProbe: (id: string, observation: unknown) => journal.push({ id, observation }),
    } as never);
    expect(journal.map((j) => j.id).sort()).toEqual(Object.keys(again.probes).sort());
    // As if the process died in a native call halfway: the journal file up to there.
    const dir = mkdtempSync(join(tmpdir(), 'wts-capture-'));
    try {
      const file = join(dir, 'wts-capture.json.partial.jsonl');
      const half = journal.slice(0, Math.floor(journal.length / 2));
      writeFileSync(file, [JSON.stringify({ format: 'wts-session-capture', version: 1, partial: true, startedAt: new Date().toISOString(), os: again.os }), ...half.map((j) => JSON.stringify(j))].join('\n') + '\n');
      const run = runNode([join(ROOT, 'scripts/capture-check.js'), file]);
      expect(run.status).toBe(0); // nothing contradicted: what was not reached is "not captured"
      expect(run.stdout).toMatch(/not captured/);
      expect(run.stdout).toMatch(/confirmed +query-null-buffer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a contradicted row is reported with expected and observed, and exits 1', () => {
    const bad = JSON.parse(JSON.stringify(result)) as Capture;
    Object.assign(bad.probes['query.nullBuffer.count1']!, { lastError: 87 });
    const dir = mkdtempSync(join(tmpdir(), 'wts-capture-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify(bad));
      const run = runNode([join(ROOT, 'scripts/capture-check.js'), file]);
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/contradicted +query-null-buffer \[sourced\]\n +expected: FALSE; GetLastError 1784.*\n +observed: .*GetLastError 87/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The command-line path: a separate node process loads the double through the env vars. It has
// no farm loaded (the double's state is per process), so calls fail; the files must still work.
const cliIt = 'path' in found && process.platform !== 'win32' ? test : test.skip;
describe('npm run capture:windows / capture:check as commands', () => {
  cliIt('the capture script writes a file from WTS_CAPTURE_WTSAPI32 / WTS_CAPTURE_KERNEL32 and the checker reads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-capture-'));
    try {
      const file = join(dir, 'capture.json');
      const env = { ...process.env, WTS_CAPTURE_WTSAPI32: libPath, WTS_CAPTURE_KERNEL32: libPath };
      execFileSync(process.execPath, [join(ROOT, 'scripts/capture-windows.js'), '--out', file], { env, encoding: 'utf8' });
      const written = JSON.parse(readFileSync(file, 'utf8')) as Capture;
      expect(written.format).toBe('wts-session-capture');
      expect(existsSync(`${file}.partial.jsonl`)).toBe(false); // the journal goes once the capture is whole
      const run = runNode([join(ROOT, 'scripts/capture-check.js'), file]);
      expect([0, 1]).toContain(run.status);
      for (const f of FACTS) expect(run.stdout).toContain(` ${f.id} [${f.status}]`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the capture script refuses to guess libraries off Windows', () => {
    if (process.platform === 'win32') return;
    const env = { ...process.env };
    delete env['WTS_CAPTURE_WTSAPI32'];
    delete env['WTS_CAPTURE_KERNEL32'];
    const run = runNode([join(ROOT, 'scripts/capture-windows.js'), '--out', join(tmpdir(), 'never.json')], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('set WTS_CAPTURE_WTSAPI32');
  });
});
