/**
 * Simulated mode's farm file shared by several writers: concurrent commands never lose each
 * other's changes, the write-back keeps what it does not own, and crashed writers' leftovers
 * (a lock, temporary files) are recovered.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createWts } from '../../src/index';
import { openSimulatedFarm, type Farm, type FarmSession } from '../../src/mock';
import { ROOT, sleep, within } from '../helpers';
import { WTS_CURRENT_SERVER_HANDLE as LOCAL } from '../../src/wtsapi';
import { binPath } from '../cli/run';

/** A local server TS01 with the console (1), the caller (2) and `count` ordinary sessions from 10 on. */
function bigFarm(count: number): Farm {
  const sessions: FarmSession[] = [
    { id: 0, name: 'Services', state: 'Disconnected' },
    { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP', logonTime: '2026-11-20T07:58:00Z' },
    { id: 2, name: 'RDP-Tcp#1', state: 'Active', user: 'me', domain: 'CORP', logonTime: '2026-11-20T08:00:00Z' },
  ];
  for (let i = 0; i < count; i++) {
    sessions.push({ id: 10 + i, name: `RDP-Tcp#${10 + i}`, state: 'Active', user: `user${i}`, domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' });
  }
  return { localServer: 'TS01', servers: [{ name: 'TS01', consoleSessionId: 1, currentSessionId: 2, sessions }] };
}

function farmDir(): string {
  return mkdtempSync(join(tmpdir(), 'wts-farmfile-'));
}

function readFarm(path: string): Farm & Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Farm & Record<string, unknown>;
}

const idsOf = (farm: Farm) => farm.servers[0]!.sessions!.map((s) => s.id);

function run(path: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath('wts-logoff'), ...args], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: path },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** The PID of a process that has exited (a crashed writer). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('simulated farm file: several writers', () => {
  test('20 wts-logoff commands run at once on one farm: all 20 sessions are logged off in the file', async () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(20), null, 2));
    const ids = Array.from({ length: 20 }, (_, i) => 10 + i);
    const results = await Promise.all(ids.map((id) => run(path, [String(id)])));
    expect(results).toEqual(ids.map(() => ({ code: 0, stderr: '' })));
    const left = idsOf(readFarm(path));
    expect(left.filter((id) => ids.includes(id))).toEqual([]);
    expect(left).toEqual([0, 1, 2]);
    expect(readdirSync(dir)).toEqual(['farm.json']); // no lock, no temporary file
  }, 60_000);

  test('two processes changing different sessions in any interleaving never undo each other (property)', async () => {
    // Each of two simulated farms (two "processes" on one file) owns half of the sessions and
    // changes only those (a query of a closing session counts it down: a change too), in a random
    // interleaving with random explicit saves; at the end the file holds each session as its
    // owner left it. (An enumeration would count down the other's closing sessions as well: a
    // change to a session it does not own, so it is left out.)
    const op = fc.record({
      who: fc.constantFrom(0, 1),
      kind: fc.constantFrom('logoff', 'disconnect', 'remove', 'put', 'flush', 'query'),
      index: fc.nat(4),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const dir = farmDir();
        const path = join(dir, 'farm.json');
        writeFileSync(path, JSON.stringify(bigFarm(10)));
        const apis = [openSimulatedFarm(path), openSimulatedFarm(path)];
        const own = (who: number, index: number) => 10 + who * 5 + index; // 10-14 and 15-19
        for (const { who, kind, index } of ops) {
          const api = apis[who]!;
          const id = own(who, index);
          if (kind === 'flush') api.flush();
          else if (kind === 'query') await api.querySessionInformation(0n as never, id, 'WTSConnectState').catch(() => undefined);
          else if (kind === 'remove') api.removeSession('TS01', id);
          else if (kind === 'put') api.putSession('TS01', { id, name: `P${who}-${index}`, state: 'Active', user: `new${who}${index}`, domain: 'CORP' });
          else await api[kind === 'logoff' ? 'logoffSession' : 'disconnectSession'](0n as never, id).catch(() => undefined);
        }
        apis[0]!.flush();
        apis[1]!.flush();
        const file = new Map(readFarm(path).servers[0]!.sessions!.map((s) => [s.id, s] as const));
        for (const who of [0, 1]) {
          const mine = apis[who]!.toFarm().servers[0]!.sessions!;
          for (let index = 0; index < 5; index++) {
            const id = own(who, index);
            expect(file.get(id)).toEqual(mine.find((s) => s.id === id));
          }
        }
      }),
      { numRuns: 40, seed: 1309 },
    );
  });
});

describe('simulated farm file: two processes changing the same sessions', () => {
  test('a logoff and a disconnect of one session at once both stand, in either order', async () => {
    for (const order of [0, 1]) {
      const dir = farmDir();
      const path = join(dir, 'farm.json');
      writeFileSync(path, JSON.stringify(bigFarm(2)));
      const a = openSimulatedFarm(path);
      const b = openSimulatedFarm(path);
      await a.enumerateSessions(0n as never); // both have read the farm
      await b.enumerateSessions(0n as never);
      const logoff = () => a.logoffSession(0n as never, 10);
      const disconnect = () => b.disconnectSession(0n as never, 10);
      if (order === 0) await Promise.all([logoff(), disconnect()]);
      else await Promise.all([disconnect(), logoff()]);
      a.flush();
      b.flush();
      // (The disconnect may have polled the closing session: one count down.)
      const s = readFarm(path).servers[0]!.sessions!.find((x) => x.id === 10);
      expect([s?.state, typeof s?.closing]).toEqual(['Disconnected', 'number']);
    }
  });

  test('random changes by two processes to the same sessions: a logoff is never lost, an ended session never comes back (property)', async () => {
    const op = fc.record({
      who: fc.constantFrom(0, 1),
      kind: fc.constantFrom('logoff', 'disconnect', 'query', 'enumerate', 'flush'),
      id: fc.integer({ min: 10, max: 13 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const dir = farmDir();
        const path = join(dir, 'farm.json');
        writeFileSync(path, JSON.stringify(bigFarm(4)));
        const apis = [openSimulatedFarm(path, { closingPolls: 2 }), openSimulatedFarm(path, { closingPolls: 2 })];
        // By each process: the sessions it logged off (a logoff that succeeded).
        const loggedOffBy = [new Set<number>(), new Set<number>()];
        const loggedOff = new Set<number>();
        const ended = new Set<number>(); // some process saw it gone (7022) or listed without it, and saved since
        const endedBy = [new Set<number>(), new Set<number>()];
        const check = (who: 0 | 1 | 'both') => {
          const file = new Map(readFarm(path).servers[0]!.sessions!.map((s) => [s.id, s] as const));
          // What a process has saved: its own logoffs (another's may still be unsaved).
          for (const id of who === 'both' ? loggedOff : loggedOffBy[who]!) {
            const s = file.get(id);
            if (s && s.closing === undefined) throw new Error(`session ${id} was logged off, and the file has it open: ${JSON.stringify(s)}`);
          }
          for (const id of ended) if (file.has(id)) throw new Error(`session ${id} ended, and the file has it back: ${JSON.stringify(file.get(id))}`);
        };
        for (const { who, kind, id } of ops) {
          const api = apis[who]!;
          if (kind === 'flush') {
            api.flush();
            for (const x of endedBy[who]!) ended.add(x);
            check(who);
          } else if (kind === 'enumerate') {
            const listed = new Set((await api.enumerateSessions(0n as never)).map((s) => s.sessionId));
            for (const x of [10, 11, 12, 13]) if (!listed.has(x) && loggedOff.has(x)) endedBy[who]!.add(x);
          } else {
            const call =
              kind === 'logoff'
                ? api.logoffSession(0n as never, id)
                : kind === 'disconnect'
                  ? api.disconnectSession(0n as never, id)
                  : api.querySessionInformation(0n as never, id, 'WTSConnectState');
            const outcome = await call.then(
              () => 'ok',
              (e: { win32Code?: number }) => e.win32Code,
            );
            if (kind === 'logoff' && outcome === 'ok') {
              loggedOff.add(id);
              loggedOffBy[who]!.add(id);
            }
            if (outcome === 7022 && loggedOff.has(id)) endedBy[who]!.add(id);
          }
        }
        apis[0]!.flush();
        apis[1]!.flush();
        for (const x of [...endedBy[0]!, ...endedBy[1]!]) ended.add(x);
        check('both');
      }),
      { numRuns: 60, seed: 2207 },
    );
  });
});

describe('simulated farm file: saves that fail', () => {
  test('a save that keeps failing (the file left broken) is reported at exit, exit code 1; a moment of breakage is tried again', () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(3)));
    const script = (restore: boolean) => `
      const fs = require('fs');
      const { openSimulatedFarm } = require(${JSON.stringify(join(ROOT, 'dist', 'mock.js'))});
      const api = openSimulatedFarm(${JSON.stringify(path)});
      (async () => {
        await api.logoffSession(0n, 10); // saved at once
        await api.logoffSession(0n, 11); // left for the timer
        const good = fs.readFileSync(${JSON.stringify(path)}, 'utf8');
        fs.writeFileSync(${JSON.stringify(path)}, '{"localServer": "TS01", "serv'); // a hand edit half saved
        await new Promise((r) => setTimeout(r, 300)); // the timer's save fails meanwhile
        if (${restore}) fs.writeFileSync(${JSON.stringify(path)}, good);
      })();
    `;
    const broken = spawnSync(process.execPath, ['-e', script(false)], { encoding: 'utf8' });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^wts-session: Cannot save the simulated farm: 1 session change not saved \(TS01: 11\) '.*farm\.json': .*JSON/);
    writeFileSync(path, JSON.stringify(bigFarm(3)));
    const recovered = spawnSync(process.execPath, ['-e', script(true)], { encoding: 'utf8' });
    expect([recovered.status, recovered.stderr]).toEqual([0, '']);
    const closing = readFarm(path).servers[0]!.sessions!.filter((s) => s.closing !== undefined).map((s) => s.id);
    expect(closing).toEqual([10, 11]);
  });
});

describe('simulated farm file: the farm\'s own progress while the file cannot be saved', () => {
  // A watch that sees a session closing (another process's `wts-logoff 4 --no-wait`) ends it a
  // moment later, from a timer. That change used to be saved at once from the timer: with another
  // process holding the lock it waited 10 s (the event loop stalled), then threw from the timer,
  // and a library user's process died of an uncaught SimulatedFarmError.
  test('a library watch sees the logoff end, with the lock held by another process: no crash, no stall', () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    const farm = bigFarm(2);
    writeFileSync(path, JSON.stringify(farm));
    const script = `
      const fs = require('fs');
      const { spawn } = require('child_process');
      const { hostname } = require('os');
      const { createWts } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      const { openSimulatedFarm } = require(${JSON.stringify(join(ROOT, 'dist', 'mock.js'))});
      const path = ${JSON.stringify(path)};
      const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
      const started = Date.now();
      let tick = Date.now(), stalled = 0;
      const beat = setInterval(() => { stalled = Math.max(stalled, Date.now() - tick); tick = Date.now(); }, 20);
      const watch = createWts({ api: openSimulatedFarm(path) }).watchSessions({ initial: true });
      (async () => {
        for await (const e of watch) {
          if (e.type === 'snapshot') {
            // Another process holds the lock, and marks session 10 closing (as a logoff --no-wait leaves it).
            fs.writeFileSync(path + '.lock', JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'test' }));
            const f = JSON.parse(fs.readFileSync(path, 'utf8'));
            f.servers[0].sessions.find((s) => s.id === 10).closing = 1;
            fs.writeFileSync(path, JSON.stringify(f));
          } else {
            console.log(JSON.stringify({ type: e.type, id: e.session && e.session.id, stalled: stalled > 2000 }));
            break;
          }
        }
        clearInterval(beat);
        holder.kill();
        fs.unlinkSync(path + '.lock');
      })().catch((e) => { console.log('rejected ' + e); holder.kill(); process.exitCode = 3; });
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: run.status, stdout: run.stdout.trim(), crash: /SimulatedFarmError|Error:/.test(run.stderr) ? run.stderr : '' }).toEqual({
      status: 0,
      stdout: JSON.stringify({ type: 'logoff', id: 10, stalled: false }),
      crash: '',
    });
  }, 30_000);
});

describe('simulated farm file: a call\'s change beside the farm\'s own progress', () => {
  const withClosing = (closing: boolean): Farm => {
    const f = bigFarm(2);
    if (closing) f.servers[0]!.sessions!.find((x) => x.id === 11)!.closing = 3;
    return f;
  };

  // The listing before a logoff counts a closing session down (the farm's own progress, saved by
  // the timer). The logoff's own change must still be saved at once, and fail the call when the
  // file cannot be written; it used to wait behind that timer and resolve.
  test.each([false, true])('a logoff whose change cannot be saved fails, with a closing session elsewhere on the farm: %s', async (closing) => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(withClosing(closing)));
    const api = openSimulatedFarm(path);
    writeFileSync(path, '{ "localServer": "TS01", "servers": [ '); // a hand edit half saved
    const error = await createWts({ api }).logoff(10, { wait: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    writeFileSync(path, JSON.stringify(withClosing(closing)));
    try {
      api.flush();
    } catch {
      // what is left is saved, or not: not this test's concern
    }
    expect({ name: error?.name, cause: (error?.cause as Error | undefined)?.name }).toEqual({ name: 'WtsError', cause: 'SimulatedFarmError' });
  });

  // A reader (`wts-query session`) that counts a closing session down has nothing of its own to
  // save: with another process holding the lock it neither waits 10 s nor fails at the end.
  test('wts-query session with the lock held by another process and a closing session: exit 0, no wait for the lock', () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(withClosing(true)));
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(`${path}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'test' }));
      const started = Date.now();
      const run = spawnSync(process.execPath, [binPath('wts-query'), 'session', '--json', '--simulate', path], { encoding: 'utf8', timeout: 20_000 });
      const tookMs = Date.now() - started;
      expect({ status: run.status, stderr: run.stderr, documents: run.stdout.trim().split('\n').length, waited: tookMs > 8_000 }).toEqual({ status: 0, stderr: '', documents: 1, waited: false });
    } finally {
      holder.kill();
    }
  }, 30_000);
});

describe('simulated farm file: a hand edit that is no valid farm', () => {
  // Process A polled a file that is JSON but no farm (a bad state elsewhere): the mock refused it,
  // but the file's view moved to it, and A's next change was merged as if A had read B's later
  // logoff: A's older copy of the session was written over it (the logoff lost).
  test('another process\'s logoff, then this one\'s disconnect of the same session: the logoff stands', async () => {
    type Raw = { servers: Array<{ name: string; sessions: Array<Record<string, unknown>> }> };
    const ts01 = (raw: Raw) => raw.servers.find((x) => x.name === 'TS01')!;
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(2), null, 2));
    const a = createWts({ api: openSimulatedFarm(path) });
    const b = createWts({ api: openSimulatedFarm(path) });
    await a.listSessions();
    await b.listSessions();
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Raw;
    ts01(raw).sessions.find((x) => x['id'] === 2)!['state'] = 'Bogus';
    writeFileSync(path, JSON.stringify(raw, null, 2));
    await b.logoff(10, { wait: false });
    await a.disconnect(10, { wait: false }).catch(() => undefined);
    const s10 = ts01(JSON.parse(readFileSync(path, 'utf8')) as Raw).sessions.find((x) => x['id'] === 10);
    expect(s10?.['closing']).toBeDefined();
  });
});

describe('simulated farm file: the farm\'s own progress of a session this process logged off (review)', () => {
  const holdLock = (path: string) => {
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'test' }));
    return () => {
      holder.kill();
      try {
        unlinkSync(`${path}.lock`);
      } catch {
        // already gone
      }
    };
  };

  // The watcher's timer that ends a session this process logged off saved at once, waiting 10 s
  // for the lock inside the timer: the event loop stalled.
  test('a wait pending after this process\'s own logoff, the lock held elsewhere: the event loop never stalls, and the wait wakes', async () => {
    const path = join(farmDir(), 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(2)));
    const api = openSimulatedFarm(path);
    await api.logoffSession(LOCAL, 10);
    await sleep(150); // past the throttle: the next change would be saved at once
    const release = holdLock(path);
    try {
      let last = Date.now();
      let worst = 0;
      const tick = setInterval(() => {
        worst = Math.max(worst, Date.now() - last);
        last = Date.now();
      }, 20);
      const woke = await within(api.waitSystemEvent(LOCAL, 0x3ff), 5_000);
      clearInterval(tick);
      expect({ woke: typeof woke === 'number' && woke !== 0, stalled: worst > 2_000 }).toEqual({ woke: true, stalled: false });
    } finally {
      release();
    }
    api.flush();
  }, 30_000);

  // After a failed flush, a call's next change after a quiet moment was not saved at once (it
  // waited for a retry timer that did not exist, until the process exited).
  test('after a flush that failed, the next call\'s change is saved at once again', async () => {
    const path = join(farmDir(), 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(3)));
    const api = openSimulatedFarm(path);
    await api.disconnectSession(LOCAL, 10);
    const release = holdLock(path);
    await api.disconnectSession(LOCAL, 11); // within the throttle: left for the timer, which cannot lock
    expect(() => api.flush()).toThrow(/locked/);
    release();
    await sleep(150);
    await api.disconnectSession(LOCAL, 12);
    const states = readFarm(path).servers[0]!.sessions!.filter((x) => x.id >= 10).map((x) => `${x.id}:${x.state}`);
    expect(states).toEqual(['10:Disconnected', '11:Disconnected', '12:Disconnected']);
  }, 40_000);

  // A logoff this process could not save is not this process's: another process's logoff of the
  // same session later is the farm's progress here, and a listing neither waits for nor fails on it.
  test('a logoff that failed to save, then another process\'s logoff of the session: this process\'s listing does not wait for the lock', async () => {
    const path = join(farmDir(), 'farm.json');
    const good = JSON.stringify(bigFarm(2));
    writeFileSync(path, good);
    const mine = openSimulatedFarm(path, { closingPolls: 3 });
    await mine.enumerateSessions(LOCAL);
    writeFileSync(path, '{ "localServer": "TS01", "serv'); // half saved: this logoff cannot be saved
    await expect(mine.logoffSession(LOCAL, 10)).rejects.toThrow();
    writeFileSync(path, good);
    const other = openSimulatedFarm(path, { closingPolls: 3 });
    await other.logoffSession(LOCAL, 10);
    await sleep(150);
    const release = holdLock(path);
    try {
      const started = Date.now();
      await mine.enumerateSessions(LOCAL);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      release();
    }
  }, 40_000);
});

describe('simulated farm file: the write-back keeps what it does not own', () => {
  test('unknown top-level fields, the file mode, and a symbolic link to the farm', async () => {
    const dir = farmDir();
    mkdirSync(join(dir, 'real'));
    const target = join(dir, 'real', 'farm.json');
    writeFileSync(target, JSON.stringify({ $schema: './farm.schema.json', comment: 'kept', ...bigFarm(2) }, null, 2));
    chmodSync(target, 0o600);
    const link = join(dir, 'farm.json');
    symlinkSync(target, link);
    const api = openSimulatedFarm(link);
    await api.logoffSession(0n as never, 10);
    api.flush();
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const written = readFarm(target);
    expect(written['$schema']).toBe('./farm.schema.json');
    expect(written['comment']).toBe('kept');
    expect(written.servers[0]!.sessions!.find((s) => s.id === 10)?.closing).toBe(1);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'real'))).toEqual(['farm.json']);
  });
});

describe('simulated farm file: crashed writers', () => {
  test('a lock left by a process that is gone is broken, and its temporary files removed', async () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(2)));
    const dead = deadPid();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname(), at: Date.now(), token: 'x' }));
    writeFileSync(`${path}.${dead}.0abc.tmp`, '{"torn":');
    writeFileSync(`${path}.lock.${dead}.0abc.stale`, 'set aside by a process that is gone');
    const api = openSimulatedFarm(path);
    await api.logoffSession(0n as never, 11);
    api.flush();
    expect(readFarm(path).servers[0]!.sessions!.find((s) => s.id === 11)?.closing).toBe(1);
    expect(readdirSync(dir)).toEqual(['farm.json']);
  });

  test('a lock held by a running process is waited for, not broken', async () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(2)));
    // The holder: a running process, which releases the lock after 400 ms.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs');
         // Taken a minute ago: age alone never breaks a lock whose process of this machine runs.
         fs.writeFileSync(${JSON.stringify(`${path}.lock`)}, JSON.stringify({ pid: process.pid, host: require('os').hostname(), at: Date.now() - 60000, token: 'h' }));
         fs.writeFileSync(${JSON.stringify(`${path}.`)} + process.pid + '.0live.tmp', '{"half":');
         process.stdout.write('held\\n');
         setTimeout(() => fs.unlinkSync(${JSON.stringify(`${path}.lock`)}), 400);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const api = openSimulatedFarm(path);
    const started = Date.now();
    await api.logoffSession(0n as never, 10); // the first change is saved at once: it waits for the lock
    const waited = Date.now() - started;
    await new Promise((r) => holder.once('exit', r));
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(readFarm(path).servers[0]!.sessions!.find((s) => s.id === 10)?.closing).toBe(1);
    expect(existsSync(`${path}.lock`)).toBe(false);
    // The holder's temporary file was not removed while it ran (it was a live writer's).
    expect(existsSync(`${path}.${holder.pid}.0live.tmp`)).toBe(true);
  });

  test('a process that exits with changes not saved yet saves them at exit', () => {
    const dir = farmDir();
    const path = join(dir, 'farm.json');
    writeFileSync(path, JSON.stringify(bigFarm(3)));
    const script = `
      const { openSimulatedFarm } = require(${JSON.stringify(join(ROOT, 'dist', 'mock.js'))});
      const api = openSimulatedFarm(${JSON.stringify(path)});
      (async () => {
        for (const id of [10, 11, 12]) await api.logoffSession(0n, id); // the first saved at once, the others later
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const closing = readFarm(path).servers[0]!.sessions!.filter((s) => s.closing !== undefined).map((s) => s.id);
    expect(closing).toEqual([10, 11, 12]);
  });
});
