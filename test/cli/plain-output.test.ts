/**
 * A command's standard output and error when they are a file, a pipe or a socket: written with
 * fs.writeSync straight to the descriptor (src/cli/common.ts, plainOutput), so that the command
 * never makes process.stdout / process.stderr and never loads Node's net, stream, tty or readline
 * modules at start (docs/performance.md, CLI start-up). These run the built commands (dist/).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm, FarmSession } from '../../src/mock';
import { binPath, simulate } from './run';

/** Node's own modules that a command on a pipe or a file no longer needs at start. */
const NOT_AT_START = ['net', 'tty', 'readline', 'stream', 'internal/streams/writable'];

function loadedModules(stdio: 'pipe' | 'file'): { modules: string[]; stdout: string; status: number | null } {
  const sim = simulate();
  const dir = mkdtempSync(join(tmpdir(), 'wts-plain-'));
  const preload = join(dir, 'modules.js');
  const list = join(dir, 'modules.txt');
  // Written at exit, to a file of its own: the command's stderr stays untouched.
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
  const out = join(dir, 'out.txt');
  const args = ['-r', preload, binPath('wts-query'), 'session'];
  const env = { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path };
  let stdout: string;
  let status: number | null;
  if (stdio === 'pipe') {
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', input: '' });
    stdout = r.stdout;
    status = r.status;
  } else {
    const r = spawnSync('sh', ['-c', `"$0" "$@" > ${JSON.stringify(out)} 2>&1 < /dev/null`, process.execPath, ...args], { env, encoding: 'utf8' });
    stdout = readFileSync(out, 'utf8');
    status = r.status;
  }
  const modules = readFileSync(list, 'utf8')
    .split('\n')
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
  return { modules, stdout, status };
}

const onWindows = process.platform === 'win32';
if (onWindows) console.log('plain-output: skipped on Windows, where the commands write through process.stdout as before');

(onWindows ? describe.skip : describe)('stdout and stderr a pipe or a file: written directly', () => {
  test.each(['pipe', 'file'] as const)('wts-query session with its stdio a %s prints the listing and loads none of net, stream, tty, readline', (stdio) => {
    const r = loadedModules(stdio);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ SESSIONNAME +USERNAME +ID +STATE/);
    expect(r.stdout).toMatch(/>rdp-tcp#0 +alice +2 +Active/);
    expect(NOT_AT_START.filter((m) => r.modules.includes(m))).toEqual([]);
    // The check can fail: the same list holds what the command does load.
    expect(r.modules).toContain('fs');
  });

  test('a pipe left non-blocking by the program reading it, read slowly: every byte arrives once, in order', () => {
    const probe = spawnSync('python3', ['-c', 'import os'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.log('plain-output: the non-blocking pipe case skipped: python3 is not available to make the pipe');
      return;
    }
    // About 400 KB of listing: several times a pipe's 64 KiB buffer.
    const sessions: FarmSession[] = [{ id: 0, name: 'Services', state: 'Disconnected' }];
    for (let i = 0; i < 3000; i++) sessions.push({ id: 10 + i, name: `RDP-Tcp#${i}`, state: 'Active', user: `user-with-a-long-name-${i}`, domain: 'CORP' });
    const farm: Farm = { localServer: 'TS01', servers: [{ name: 'TS01', currentSessionId: 10, sessions }] };
    const sim = simulate(farm);
    const env = { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path };
    const expected = spawnSync(process.execPath, [binPath('wts-query'), 'session', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(expected.status).toBe(0);
    expect(expected.stdout.length).toBeGreaterThan(300_000);
    // The writer's end is non-blocking; the reader takes 4 KiB every 2 ms, so the pipe fills and
    // the command's writes meet EAGAIN.
    const script = [
      'import os, subprocess, sys, time',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      'p = subprocess.Popen(sys.argv[1:], stdout=w, stdin=subprocess.DEVNULL)',
      'os.close(w)',
      'chunks = []',
      'while True:',
      '    time.sleep(0.002)',
      '    b = os.read(r, 4096)',
      '    if not b: break',
      '    chunks.append(b)',
      'code = p.wait()',
      'sys.stdout.buffer.write(b"".join(chunks))',
      'sys.stderr.write("exit %d" % code)',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script, process.execPath, binPath('wts-query'), 'session', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    expect(r.stderr).toBe('exit 0');
    expect(r.stdout.length).toBe(expected.stdout.length);
    expect(r.stdout).toBe(expected.stdout);
  });

  test('a reader that stops reading pauses a streaming bulk run (--json) once the pipe is full; when it reads again, every outcome arrives and the run ends', () => {
    const probe = spawnSync('python3', ['-c', 'import os'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.log('plain-output: the stalled reader case skipped: python3 is not available to make the pipe');
      return;
    }
    const sessions: FarmSession[] = [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 1, name: 'Console', state: 'Active', user: 'admin' }];
    for (let i = 0; i < 3000; i++) sessions.push({ id: 10 + i, name: `RDP-Tcp#${i}`, state: 'Active', user: `user${i}`, domain: 'CORP' });
    const sim = simulate({ localServer: 'TS01', servers: [{ name: 'TS01', consoleSessionId: 1, currentSessionId: 1, sessions }] });
    writeFileSync(sim.log, '');
    const env = { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log };
    // The reader reads nothing for 3 s, then counts the logoffs in the call log, then reads all.
    const script = [
      'import os, subprocess, sys, time',
      'r, w = os.pipe()',
      'p = subprocess.Popen(sys.argv[2:], stdout=w, stdin=subprocess.DEVNULL)',
      'os.close(w)',
      'time.sleep(3)',
      'early = sum(1 for line in open(sys.argv[1]) if \'"api":"logoff"\' in line)',
      'chunks = []',
      'while True:',
      '    b = os.read(r, 65536)',
      '    if not b: break',
      '    chunks.append(b)',
      'code = p.wait()',
      'sys.stdout.buffer.write(b"".join(chunks))',
      'sys.stderr.write("early %d exit %d" % (early, code))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script, sim.log, process.execPath, binPath('wts-logoff'), '/all', '--yes', '--json', '--no-wait'], { env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    const m = /^early (\d+) exit (\d+)$/.exec(r.stderr);
    expect(m).not.toBeNull();
    // A pipe holds 64 KiB: a few hundred outcome lines, plus the requests in flight. (Node's own
    // stream queued the rest in memory and went on: about 3,000 by then on this machine.)
    expect(Number(m![1])).toBeLessThan(1000);
    expect(Number(m![2])).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; session?: { id: number } });
    const loggedOff = lines.filter((l) => l.type === 'outcome' && l.status === 'loggedOff').map((l) => l.session?.id);
    expect(new Set(loggedOff).size).toBe(3000);
    expect(lines[lines.length - 1]!.type).toBe('summary');
  });
});
