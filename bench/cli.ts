/**
 * The commands as whole processes on simulated farms: `wts-logoff /all --yes` against KB 259436's
 * pattern (one `wts-query session`, then one `wts-logoff ID` process per session), and the CLI's
 * start-up time.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm, FarmSession } from '../src/mock';
import { ROOT } from '../test/helpers';
import { median, type Row } from './common';

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
