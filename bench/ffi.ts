/**
 * Listing N sessions through the koffi backend and `listSessions`, against a C program calling
 * the same double (bench/enumerate.c), run in turns: C, then JS, three times over.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createKoffiApi, createWts, WTS_CURRENT_SERVER_HANDLE } from '../src/index';
import type { Farm, FarmSession } from '../src/mock';
import { fmtSpread, median, spread, timeIt, theDouble, type Row } from './common';

function farmOf(n: number): Farm {
  const sessions: FarmSession[] = [];
  for (let i = 1; i <= n; i++) {
    sessions.push({ id: i, name: `RDP-Tcp#${i}`, state: i % 2 ? 'Active' : 'Disconnected', user: `user${String(i).padStart(5, '0')}`, domain: 'CORP', clientName: `PC-${i}` });
  }
  return { localServer: 'BENCH', servers: [{ name: 'BENCH', currentSessionId: 1, sessions }] };
}

const REPEATS = 3;

export async function ffiBenchmarks(binDir: string): Promise<Row[]> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, netapi32: double.path });
  const wts = createWts({ api });
  const rows: Row[] = [];
  const perSession = new Map<number, number>();
  // C building the same list, per session: how much of the growth the machine itself shows.
  const cPerSession = new Map<number, number>();
  for (const [n, iterations] of [[100, 400], [1000, 200], [10000, 40], [50000, 10]] as const) {
    const c = { call: [] as number[], walk: [] as number[], build: [] as number[] };
    const js = { backend: [] as number[], listed: [] as number[] };
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      // The C program loads its own copy of the farm into its own process's double.
      const r = JSON.parse(execFileSync(join(binDir, 'enumerate'), [double.path, String(n), String(iterations)], { encoding: 'utf8' })) as {
        callUs: number;
        medianUs: number;
        buildUs: number;
      };
      c.call.push(r.callUs);
      c.walk.push(r.medianUs);
      c.build.push(r.buildUs);
      double.loadFarm(farmOf(n));
      js.backend.push(median(await timeIt(iterations, () => api.enumerateSessions(WTS_CURRENT_SERVER_HANDLE))) * 1000);
      js.listed.push(median(await timeIt(iterations, () => wts.listSessions())) * 1000);
      const leaks = double.leaks();
      if (leaks.allocations || leaks.handles || leaks.badFrees) throw new Error(`bench: the double reports leaks ${JSON.stringify(leaks)}`);
    }
    const ratio = spread(js.listed.map((v, i) => v / (c.build[i] as number)));
    const backendRatio = spread(js.backend.map((v, i) => v / (c.build[i] as number)));
    const listed = spread(js.listed);
    perSession.set(n, listed.median / n);
    cPerSession.set(n, spread(c.build).median / n);
    rows.push({
      benchmark: `list ${n.toLocaleString('en-US')} sessions: \`listSessions()\` (koffi backend alone) vs C building the same list, ${REPEATS} turns`,
      measured: `${fmtSpread(listed, fmtUs)} (backend ${fmtSpread(spread(js.backend), fmtUs)})`,
      baseline: `C: ${fmtSpread(spread(c.build), fmtUs)} building structs with UTF-8 strings; of which the double's own call + free ${fmtSpread(spread(c.call), fmtUs)}; reading every field without building ${fmtSpread(spread(c.walk), fmtUs)}`,
      ratio: `${fmtSpread(ratio, (v) => `${v.toFixed(2)}x`)} (backend ${fmtSpread(backendRatio, (v) => `${v.toFixed(2)}x`)})`,
      target: n === 10000 ? '≤ 1.5x (median)' : '—',
      met: n !== 10000 || ratio.median <= 1.5,
    });
  }
  // details: true at 1,000 sessions, against the plain listing plus two queries' cost per session.
  {
    const n = 1000;
    double.loadFarm(farmOf(n));
    const plain: number[] = [];
    const perCall: number[] = [];
    const detailed: number[] = [];
    let queries = 0;
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      plain.push(median(await timeIt(20, () => wts.listSessions())));
      perCall.push(median(await timeIt(200, () => api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, 7, 'WTSSessionInfo'))));
      const before = double.calls('query');
      detailed.push(median(await timeIt(5, () => wts.listSessions({ details: true }), 1)));
      queries = (double.calls('query') - before) / (6 * n);
    }
    const bound = plain.map((l, i) => l + 2 * n * (perCall[i] as number));
    const ratio = spread(detailed.map((d, i) => d / (bound[i] as number)));
    rows.push({
      benchmark: '`listSessions({ details: true })` over 1,000 sessions: queries per session (the double\'s count) and time, against the plain listing + 2 × 1,000 × one query\'s own time',
      measured: `${queries} queries per session; ${fmtSpread(spread(detailed), (v) => fmtUs(v * 1000))}`,
      baseline: `${fmtSpread(spread(bound), (v) => fmtUs(v * 1000))} (listing ${fmtSpread(spread(plain), (v) => fmtUs(v * 1000))}; one query ${fmtSpread(spread(perCall), (v) => fmtUs(v * 1000))})`,
      ratio: fmtSpread(ratio, (v) => `${v.toFixed(2)}x`),
      target: '≤ 2 queries per session, ≤ 3x (median)',
      met: queries <= 2 && ratio.median <= 3,
    });
    const leaks = double.leaks();
    if (leaks.allocations || leaks.handles || leaks.badFrees) throw new Error(`bench: the double reports leaks ${JSON.stringify(leaks)}`);
  }
  const growth = (perSession.get(50000) as number) / (perSession.get(1000) as number);
  const cGrowth = (cPerSession.get(50000) as number) / (cPerSession.get(1000) as number);
  rows.push({
    benchmark: '`listSessions()` per session at 1,000 / 10,000 / 50,000 sessions (medians above)',
    measured: [1000, 10000, 50000].map((n) => `${((perSession.get(n) as number) * 1000).toFixed(0)} ns`).join(' / '),
    baseline: `C building the same lists: ${[1000, 10000, 50000].map((n) => `${((cPerSession.get(n) as number) * 1000).toFixed(0)} ns`).join(' / ')}, ${cGrowth.toFixed(2)}x (50,000 vs 1,000; context, not part of the target)`,
    ratio: `${growth.toFixed(2)}x (50,000 vs 1,000)`,
    target: 'linear: ≤ 1.3x',
    met: growth <= 1.3,
  });
  return rows;
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}
