/**
 * The simulated farm's lock (docs/mock.md, "Several processes at once"): a save waits up to 10 s
 * for another's lock, then fails with ELOCKED. Whatever `<farm>.lock` is, a command ends by that
 * deadline (it never spins), and a lock it already waited for in full is not waited for again by
 * every later call of the same command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { lockFarm, openSimulatedFarm } from '../../src/backends/mock/file';
import { createWts } from '../../src/index';
import { ROOT } from '../helpers';
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

/** A module to preload (`node -r`) that makes fs.unlinkSync refuse to remove a lock (EPERM), as a sticky folder does. */
function refusingUnlink(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wts-preload-')), 'refuse-unlink.js');
  writeFileSync(
    file,
    `const fs = require('fs'); const unlink = fs.unlinkSync;
     fs.unlinkSync = (path) => { if (String(path).endsWith('.lock')) throw Object.assign(new Error('EPERM: operation not permitted, unlink'), { code: 'EPERM' }); return unlink(path); };`,
  );
  return file;
}

describe('whatever <farm>.lock is, a save ends by its deadline (it used to spin for ever, its event loop blocked)', () => {
  // Observed before the fix: a lock that is a dangling symbolic link reads as "released meanwhile"
  // (stat follows the link) while O_EXCL still finds it there, and lockFarm retried at once, with
  // no deadline check: the command spun at 100% CPU until killed. A stale lock that cannot be
  // set aside spun the same way. A FIFO as the lock blocked the read.
  const cases: Array<[string, (lock: string) => void, string[]]> = [
    ['a dangling symbolic link', (lock) => symlinkSync(join(tmpdir(), 'wts-no-such-file-' + process.pid), lock), []],
    ['a FIFO', (lock) => expect(spawnSync('mkfifo', [lock]).status).toBe(0), []],
    [
      'a stale lock (its owner no longer running) that cannot be removed',
      (lock) => writeFileSync(lock, JSON.stringify({ pid: 2147483646, host: hostname(), at: Date.now(), token: 'dead' })),
      // fs.unlinkSync refuses to remove the lock, as in a sticky folder the lock is not the process's in.
      ['-r', refusingUnlink()],
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

describe('breaking a stale lock never lets two writers in', () => {
  // Observed before (a reviewer's three-process reproduction, and this stress test 3 times in 5):
  // a stale lock was broken by renaming what was at <farm>.lock aside — which could be a live lock
  // that had replaced the stale one meanwhile. A third process then took the lock while the live
  // holder still wrote (a lost update: two logoffs gone), or the live lock was put back after its
  // holder had released it (a lock no one held: every command failed ELOCKED).
  test('8 processes × 150 locked read-modify-writes, every third leaving its lock as if it had died: no update lost, none stuck', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-lock-stress-'));
    const lockModule = join(dir, 'lock.js');
    buildSync({
      stdin: { contents: "export { lockFarm } from './src/backends/mock/file';", resolveDir: ROOT, loader: 'ts' },
      outfile: lockModule,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'warning',
    });
    const worker = join(dir, 'worker.js');
    writeFileSync(
      worker,
      `const fs = require('fs');
       const { hostname } = require('os');
       const { lockFarm } = require(${JSON.stringify(lockModule)});
       const [real, n, crashEvery] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
       const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
       for (let i = 0; i < n; i++) {
         const unlock = lockFarm(real, 60000);
         const v = Number(fs.readFileSync(real + '.count', 'utf8'));
         sleep(Math.random() < 0.5 ? 0 : 1);
         fs.writeFileSync(real + '.count', String(v + 1));
         // As if this process died holding the lock: the lock now names a process that is not running.
         if (i % crashEvery === crashEvery - 1) fs.writeFileSync(real + '.lock', JSON.stringify({ pid: 2147483646, host: hostname(), at: Date.now(), token: 'dead' + process.pid + '.' + i }));
         else unlock();
       }`,
    );
    for (let round = 0; round < 3; round++) {
      const real = join(dir, `farm${round}.json`);
      writeFileSync(real, '{}');
      writeFileSync(`${real}.count`, '0');
      const script = `
        const { spawn } = require('child_process');
        let left = 8, failed = [];
        for (let w = 0; w < 8; w++) {
          const c = spawn(process.execPath, [${JSON.stringify(worker)}, ${JSON.stringify(real)}, '150', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = ''; c.stderr.on('data', (d) => (err += d));
          c.on('close', (code) => { if (code !== 0) failed.push(code + ' ' + err.split('\\n').slice(0, 2).join(' ')); if (--left === 0) console.log(JSON.stringify(failed)); });
        }`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 90_000 });
      expect({ round, failed: r.stdout.trim(), count: readFileSync(`${real}.count`, 'utf8') }).toEqual({ round, failed: '[]', count: '1200' });
    }
    // Nothing left behind but the last (stale) lock: no break lock, no half-made lock.
    expect(readdirSync(dir).filter((n) => /\.(break|new|stale)$/.test(n))).toEqual([]);
  }, 200_000);
});

describe('what a failed save keeps, and which lock it gave up on', () => {
  test('an unreadable lock given up on, removed and made again (a new folder) is waited for again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-lock-'));
    const real = join(dir, 'farm.json');
    writeFileSync(real, JSON.stringify(exampleFarm()));
    const attempt = (notAgain?: string) => {
      const started = Date.now();
      try {
        lockFarm(real, 300, notAgain)();
        return { ms: Date.now() - started, code: 'taken', key: undefined as string | undefined };
      } catch (e) {
        return { ms: Date.now() - started, code: (e as { code?: string }).code, key: (e as { lockKey?: string }).lockKey };
      }
    };
    mkdirSync(`${real}.lock`);
    const first = attempt();
    expect(first.code).toBe('ELOCKED');
    expect(attempt(first.key).ms).toBeLessThan(300); // the same folder: at once
    rmdirSync(`${real}.lock`);
    mkdirSync(`${real}.lock`); // another one (observed before: the same key, never waited for)
    const second = attempt(first.key);
    expect(second.code).toBe('ELOCKED');
    expect(second.ms).toBeGreaterThanOrEqual(300);
    rmdirSync(`${real}.lock`);
  });

  test('a change a failed flush kept pending is still saved after a later call fails (it was dropped with that call)', async () => {
    // A reviewer's reproduction: logoff(4) waits for the timer, flush() fails on another's lock and
    // says the changes stay pending, logoff(7) then fails at once on the same lock — and took
    // logoff(4) down with it: once the lock was free, nothing saved session 4.
    const dir = mkdtempSync(join(tmpdir(), 'wts-lock-'));
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(exampleFarm(), null, 2));
    const api = openSimulatedFarm(path);
    const wts = createWts({ api });
    await wts.logoff(2, { wait: false }); // saved at once
    await wts.logoff(4, { wait: false }); // within the interval: left for the timer
    const holder = liveHolder();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'live' }));
    let seven: string;
    try {
      expect(() => api.flush()).toThrow(/ELOCKED|locked by/); // waits 10 s
      await new Promise((resolve) => setTimeout(resolve, 150));
      // Saved at once, it fails on the same lock. (On a loaded machine a slow earlier save can
      // stretch the save interval past this point: then it waits for the timer and resolves.)
      seven = await wts.logoff(7, { wait: false }).then(
        () => 'resolved',
        (e: Error) => e.message,
      );
    } finally {
      holder.stop();
      unlinkSync(`${path}.lock`);
    }
    if (seven !== 'resolved') expect(seven).toMatch(/locked by/);
    api.flush();
    const session = (id: number) => (JSON.parse(readFileSync(path, 'utf8')) as ReturnType<typeof exampleFarm>).servers[0]!.sessions!.find((x) => x.id === id);
    const loggedOff = (id: number) => session(id) === undefined || session(id)!.closing !== undefined; // closing, or gone already
    expect({ s2: loggedOff(2), s4: loggedOff(4), s7: loggedOff(7) }).toEqual({ s2: true, s4: true, s7: seven === 'resolved' });
  }, 40_000);
});

describe('PID namespaces, and a full disk', () => {
  // A reviewer's reproductions. Two containers sharing a volume have one host name but number
  // their processes apart: a command in another PID namespace found the live holder's PID not
  // running, and removed its lock at once (two writers).
  const unshare = spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;
  if (!unshare) console.log('farm-lock: PID namespace tests skipped: `unshare -p -f --mount-proc` is not available here (needs Linux and privileges)');
  const inOtherNamespace = unshare ? test : test.skip;
  /** This process's PID namespace as the library writes it in a lock (the inode of /proc/self/ns/pid, base 36). */
  const ns = () => Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]).toString(36);

  inOtherNamespace("a live holder's lock is not broken from another PID namespace: that command waits its 10 s, then ELOCKED", async () => {
    const sim = simulate();
    const holder = liveHolder();
    const lock = JSON.stringify({ pid: holder.pid, host: hostname(), ns: ns(), at: Date.now(), token: 'live' });
    writeFileSync(`${sim.path}.lock`, lock);
    let status: number | null;
    try {
      status = spawnSync('unshare', ['-p', '-f', '--mount-proc', process.execPath, binPath('wts-logoff'), '4', '--no-wait', '--json'], {
        env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path },
        encoding: 'utf8',
        timeout: 20_000,
      }).status;
    } finally {
      holder.stop();
    }
    expect(status).toBe(1);
    expect(readFileSync(`${sim.path}.lock`, 'utf8')).toBe(lock); // observed before: removed at once, and the save made
    expect(JSON.parse(readFileSync(sim.path, 'utf8'))).toEqual(JSON.parse(sim.initial));
    unlinkSync(`${sim.path}.lock`);
  }, 30_000);

  inOtherNamespace("a lock naming the command's own PID (a predecessor that died in a container) is broken once it is 30 s old, not waited for for ever", async () => {
    const sim = simulate();
    // In a new namespace the command is PID 1; the lock is an older version's (no ns), a minute old.
    writeFileSync(`${sim.path}.lock`, JSON.stringify({ pid: 1, host: hostname(), at: Date.now() - 60_000, token: 'dead' }));
    const r = spawnSync('unshare', ['-p', '-f', '--mount-proc', process.execPath, binPath('wts-logoff'), '4', '--no-wait', '--json'], {
      env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' }); // observed before: ELOCKED after 10 s, every time
    expect(existsSync(`${sim.path}.lock`)).toBe(false);
  }, 30_000);

  test('a lock that cannot be written whole (a full disk) leaves no file behind', async () => {
    const sim = simulate();
    const preload = join(mkdtempSync(join(tmpdir(), 'wts-preload-')), 'full-disk.js');
    // The lock's text file is created, then the write fails, as on a full disk.
    writeFileSync(
      preload,
      `const fs = require('fs'); const write = fs.writeFileSync;
       fs.writeFileSync = (path, data, options) => { if (String(path).endsWith('.new')) { write(path, ''); throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); } return write(path, data, options); };`,
    );
    const r = await runUntil([binPath('wts-logoff'), '4', '--no-wait', '--json'], { WTS_SESSION_SIMULATE: sim.path }, 15_000, ['-r', preload]);
    expect({ code: r.code }).toEqual({ code: 1 });
    expect(r.lines[r.lines.length - 1]).toMatchObject({ type: 'error', error: { code: 'E_SIMULATED_FARM', errno: 'ENOSPC' } });
    const dir = join(sim.path, '..');
    expect(readdirSync(dir).filter((n) => n.startsWith('farm.json.'))).toEqual([]); // observed before: a 0-byte farm.json.lock.<pid>.<n>.new
  });
});
