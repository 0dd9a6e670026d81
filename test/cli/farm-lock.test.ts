/**
 * The simulated farm's lock (docs/mock.md, "Several processes at once"): a save waits up to 10 s
 * for another's lock, then fails with ELOCKED. Whatever `<farm>.lock` is, a command ends by that
 * deadline (it never spins), and a lock it already waited for in full is not waited for again by
 * every later call of the same command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFarm } from '../../src/backends/mock/file';
import { exampleFarm } from '../helpers';
import { binPath, simulate } from './run';

/** Runs a command to its end or kills it at `killAfterMs`; its exit, the time it took, its JSON lines. */
async function runUntil(args: string[], env: Record<string, string>, killAfterMs: number, nodeArgs: string[] = []) {
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, ...args], { env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const lines = out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, signal, ms: Date.now() - started, lines, err };
}

/** A process that is running for the test's length: the live holder of a lock. */
function liveHolder(): { pid: number; stop: () => void } {
  const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
  return { pid: holder.pid!, stop: () => holder.kill() };
}

/** A module to preload (`node -r`) that makes fs.renameSync refuse to set a lock aside (EPERM). */
function refusingRename(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wts-preload-')), 'refuse-rename.js');
  writeFileSync(
    file,
    `const fs = require('fs'); const rename = fs.renameSync;
     fs.renameSync = (from, to) => { if (String(to).endsWith('.stale')) throw Object.assign(new Error('EPERM: operation not permitted, rename'), { code: 'EPERM' }); return rename(from, to); };`,
  );
  return file;
}

describe('whatever <farm>.lock is, a save ends by its deadline (it used to spin for ever, its event loop blocked)', () => {
  // Observed before the fix: a lock that is a dangling symbolic link reads as "released meanwhile"
  // (stat follows the link) while O_EXCL still finds it there, and lockFarm retried at once, with
  // no deadline check: the command spun at 100% CPU until killed. A stale lock that cannot be
  // renamed aside spun the same way. A FIFO as the lock blocked the read.
  const cases: Array<[string, (lock: string) => void, string[]]> = [
    ['a dangling symbolic link', (lock) => symlinkSync(join(tmpdir(), 'wts-no-such-file-' + process.pid), lock), []],
    ['a FIFO', (lock) => expect(spawnSync('mkfifo', [lock]).status).toBe(0), []],
    [
      'a stale lock (its owner no longer running) that cannot be renamed aside',
      (lock) => writeFileSync(lock, JSON.stringify({ pid: 2147483646, host: hostname(), at: Date.now(), token: 'dead' })),
      // fs.renameSync refuses to set the lock aside, as in a folder the process cannot change.
      ['-r', refusingRename()],
    ],
  ];
  test.each(cases)('%s: wts-logoff 4 --no-wait --json ends within 13 s, exit 1, an E_SIMULATED_FARM document', async (_what, make, nodeArgs) => {
    const sim = simulate();
    make(`${sim.path}.lock`);
    try {
      const r = await runUntil([binPath('wts-logoff'), '4', '--no-wait', '--json'], { WTS_SESSION_SIMULATE: sim.path }, 13_000, nodeArgs);
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      expect(r.lines[r.lines.length - 1]).toMatchObject({ type: 'error', exitCode: 1, error: { code: 'E_SIMULATED_FARM' } });
      expect(JSON.parse(readFileSync(sim.path, 'utf8'))).toEqual(JSON.parse(sim.initial)); // nothing saved
    } finally {
      unlinkSync(`${sim.path}.lock`);
    }
  }, 20_000);
});

describe('a lock held by a live process through a whole wait is not waited for again', () => {
  // Observed before: `wts-logoff /all` with the farm locked by a running process (a command stopped
  // with Ctrl+Z) waited the full 10 s for each session's save: 6 sessions, 60 s, each failing the same way.
  test('wts-logoff /all --yes --json: one 10 s wait, then every session fails at once, each naming the lock', async () => {
    const sim = simulate();
    const holder = liveHolder();
    writeFileSync(`${sim.path}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'live' }));
    try {
      const r = await runUntil([binPath('wts-logoff'), '/all', '--yes', '--json'], { WTS_SESSION_SIMULATE: sim.path }, 45_000);
      // (The example farm also has a session whose logoff is denied: error 5, before any save.)
      const unsaved = r.lines.filter((l) => l['type'] === 'outcome' && l['status'] === 'failed' && (l['error'] as { code?: string }).code === 'E_SIMULATED_FARM');
      expect(unsaved.length).toBeGreaterThanOrEqual(3);
      for (const f of unsaved) expect(f).toMatchObject({ error: { message: expect.stringContaining(`locked by process ${holder.pid}`) } });
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      // One full wait (10 s) and not one per session; the margin is for a loaded machine.
      expect(r.ms).toBeLessThan(10_000 * 2);
      expect(JSON.parse(readFileSync(sim.path, 'utf8'))).toEqual(JSON.parse(sim.initial));
    } finally {
      holder.stop();
      unlinkSync(`${sim.path}.lock`);
    }
  }, 60_000);

  test('lockFarm: the same held lock fails at once; another lock (a new holder) is waited for again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-lock-'));
    const real = join(dir, 'farm.json');
    writeFileSync(real, JSON.stringify(exampleFarm()));
    const holder = liveHolder();
    const lock = (token: string) => writeFileSync(`${real}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token }));
    const attempt = (waitMs: number, notAgain?: string) => {
      const started = Date.now();
      try {
        lockFarm(real, waitMs, notAgain)();
        return { ms: Date.now() - started, code: 'taken', key: undefined };
      } catch (e) {
        return { ms: Date.now() - started, code: (e as { code?: string }).code, key: (e as { lockKey?: string }).lockKey };
      }
    };
    try {
      lock('first');
      const first = attempt(300);
      expect(first).toMatchObject({ code: 'ELOCKED' });
      expect(first.ms).toBeGreaterThanOrEqual(300);
      expect(typeof first.key).toBe('string');
      // The same lock: at once, though the wait allowed is long.
      const again = attempt(30_000, first.key);
      expect(again).toMatchObject({ code: 'ELOCKED', key: first.key });
      expect(again.ms).toBeLessThan(5_000);
      // Another holder's lock: waited for again.
      lock('second');
      const other = attempt(300, first.key);
      expect(other.code).toBe('ELOCKED');
      expect(other.key).not.toBe(first.key);
      expect(other.ms).toBeGreaterThanOrEqual(300);
      // Released: taken.
      unlinkSync(`${real}.lock`);
      expect(attempt(300, other.key).code).toBe('taken');
    } finally {
      holder.stop();
    }
  });
});
