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

function run(name: string, args: string[], farm: string): { ms: number; stdout: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin(name), ...args], { env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: farm }, encoding: 'utf8' });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout: r.stdout, status: r.status };
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

export function cliBenchmarks(rounds: number): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'wts-bench-'));
  const template = join(dir, 'template.json');
  writeFileSync(template, JSON.stringify(bigFarm(200)));
  const farm = join(dir, 'farm.json');

  const oneProcess: number[] = [];
  const batch: number[] = [];
  for (let round = 0; round < rounds; round++) {
    copyFileSync(template, farm);
    const all = run('wts-logoff', ['/all', '--yes'], farm);
    if (all.status !== 0) throw new Error(`wts-logoff /all failed: ${all.stdout}`);
    oneProcess.push(all.ms);

    copyFileSync(template, farm);
    const t0 = process.hrtime.bigint();
    const listed = run('wts-query', ['session', '--json'], farm);
    const ids = (JSON.parse(listed.stdout) as Array<{ id: number; userName: string; isConsole: boolean; isCurrent: boolean }>)
      .filter((s) => s.userName && !s.isConsole && !s.isCurrent)
      .map((s) => s.id);
    for (const id of ids) {
      const r = run('wts-logoff', [String(id)], farm);
      if (r.status !== 0) throw new Error(`wts-logoff ${id} failed`);
    }
    batch.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const left = (JSON.parse(readFileSync(farm, 'utf8')) as Farm).servers[0]!.sessions!.length;
    if (left !== 4) throw new Error(`the batch left ${left} sessions`);
  }

  const small = join(dir, 'small.json');
  copyFileSync(join(ROOT, 'examples', 'farm.json'), small);
  run('wts-query', ['session'], small);
  const startup: number[] = [];
  for (let i = 0; i < 21; i++) startup.push(run('wts-query', ['session'], small).ms);
  const empty = join(dir, 'empty.js');
  writeFileSync(empty, '');
  const nodeAlone: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, [empty], { env: { PATH: process.env['PATH'] ?? '' } });
    nodeAlone.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }

  const speedup = median(batch) / median(oneProcess);
  return [
    {
      benchmark: `log off 200 sessions: \`wts-logoff /all --yes\` vs the KB 259436 pattern (1 query + 200 \`wts-logoff ID\` processes), ${rounds} rounds`,
      measured: `${(median(oneProcess) / 1000).toFixed(2)} s`,
      baseline: `${(median(batch) / 1000).toFixed(2)} s`,
      ratio: `${speedup.toFixed(0)}x faster`,
      target: '≥ 50x',
      met: speedup >= 50,
    },
    {
      benchmark: 'CLI start-up: `wts-query session` on a small farm (21 runs)',
      measured: `${median(startup).toFixed(0)} ms`,
      baseline: `${median(nodeAlone).toFixed(0)} ms (node on an empty file)`,
      ratio: `${(median(startup) / median(nodeAlone)).toFixed(2)}x`,
      target: '< 150 ms',
      met: median(startup) < 150,
    },
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
