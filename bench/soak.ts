/**
 * Soak: 100,000 enumerate + query + logoff cycles through the koffi backend on the double. At the
 * end: no outstanding WTS allocation or open handle, and resident memory flat after warm-up.
 * Run with --expose-gc in its own process.
 */
import { createKoffiApi, WTS_CURRENT_SERVER_HANDLE } from '../src/index';
import type { Farm } from '../src/mock';
import { theDouble } from './common';

const CYCLES = Number(process.env['SOAK_CYCLES'] ?? 100_000);
const WARMUP = Math.min(10_000, Math.floor(CYCLES / 10));

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const double = theDouble();
  const farm: Farm = {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        currentSessionId: 1,
        sessions: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `RDP-Tcp#${i}`, state: 'Active' as const, user: `user${i}`, domain: 'CORP' })),
      },
      { name: 'WF12', sessions: [{ id: 2, name: 'TERM04', state: 'Active', user: 'frank', domain: 'CORP' }] },
    ],
  };
  double.loadFarm(farm, 0);
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const victim = { id: 5, name: 'RDP-Tcp#4', state: 'Active' as const, user: 'user4', domain: 'CORP' };
  let rssAfterWarmup = 0;
  let heapTotalAfterWarmup = 0;
  const t0 = Date.now();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    if (cycle === WARMUP) {
      gc();
      rssAfterWarmup = process.memoryUsage().rss;
      heapTotalAfterWarmup = process.memoryUsage().heapTotal;
    }
    const sessions = await api.enumerateSessions(WTS_CURRENT_SERVER_HANDLE);
    if (sessions.length !== 10) throw new Error(`cycle ${cycle}: ${sessions.length} sessions`);
    await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, 3, 'WTSUserName');
    await api.logoffSession(WTS_CURRENT_SERVER_HANDLE, victim.id);
    double.putSession('TS01', victim); // the same ID comes back, as Windows reuses IDs
    if (cycle % 100 === 0) {
      const h = await api.openServer('WF12');
      await api.enumerateSessions(h);
      await api.closeServer(h);
    }
  }
  gc();
  const rssEnd = process.memoryUsage().rss;
  const heapTotalEnd = process.memoryUsage().heapTotal;
  console.log(
    JSON.stringify({
      cycles: CYCLES,
      seconds: (Date.now() - t0) / 1000,
      rssAfterWarmupMb: rssAfterWarmup / 2 ** 20,
      rssEndMb: rssEnd / 2 ** 20,
      growthMb: (rssEnd - rssAfterWarmup) / 2 ** 20,
      // V8's own heap (its young generation grows with the allocation rate, up to its limit) apart
      // from everything else: what native memory the calls leave behind.
      heapTotalAfterWarmupMb: heapTotalAfterWarmup / 2 ** 20,
      heapTotalEndMb: heapTotalEnd / 2 ** 20,
      nativeGrowthMb: (rssEnd - heapTotalEnd - (rssAfterWarmup - heapTotalAfterWarmup)) / 2 ** 20,
      leaks: double.leaks(),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
