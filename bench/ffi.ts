/**
 * FFI overhead at scale: listing N sessions through the koffi backend against the C program
 * calling the same double (bench/enumerate.c).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createKoffiApi, createWts, WTS_CURRENT_SERVER_HANDLE } from '../src/index';
import type { Farm, FarmSession } from '../src/mock';
import { median, timeIt, theDouble, type Row } from './common';

function farmOf(n: number): Farm {
  const sessions: FarmSession[] = [];
  for (let i = 1; i <= n; i++) {
    sessions.push({ id: i, name: `RDP-Tcp#${i}`, state: i % 2 ? 'Active' : 'Disconnected', user: `user${String(i).padStart(5, '0')}`, domain: 'CORP', clientName: `PC-${i}` });
  }
  return { localServer: 'BENCH', servers: [{ name: 'BENCH', currentSessionId: 1, sessions }] };
}

export async function ffiBenchmarks(binDir: string): Promise<Row[]> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const wts = createWts({ api });
  const rows: Row[] = [];
  for (const [n, iterations] of [[100, 400], [1000, 200], [10000, 40]] as const) {
    const c = JSON.parse(execFileSync(join(binDir, 'enumerate'), [double.path, String(n), String(iterations)], { encoding: 'utf8' })) as { medianUs: number };
    double.loadFarm(farmOf(n));
    const backend = median(await timeIt(iterations, () => api.enumerateSessions(WTS_CURRENT_SERVER_HANDLE))) * 1000;
    const listed = median(await timeIt(iterations, () => wts.listSessions())) * 1000;
    const leaks = double.leaks();
    if (leaks.allocations || leaks.handles || leaks.badFrees) throw new Error(`bench: the double reports leaks ${JSON.stringify(leaks)}`);
    const ratio = backend / c.medianUs;
    rows.push({
      benchmark: `list ${n.toLocaleString('en-US')} sessions (koffi backend) vs C`,
      measured: `${fmtUs(backend)} (listSessions: ${fmtUs(listed)})`,
      baseline: `${fmtUs(c.medianUs)} (C)`,
      ratio: `${ratio.toFixed(2)}x`,
      target: n === 10000 ? '≤ 3x' : '—',
      met: n !== 10000 || ratio <= 3,
    });
  }
  return rows;
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}
