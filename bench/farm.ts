/**
 * A farm: 20 servers of 50 sessions with 20 ms injected per call, and one server that takes 5 s
 * to fail with 1722; logoffAll over all of them, against the slowest server's own time, with the
 * event loop's delay watched throughout. Run in its own process (npm run bench starts it with a
 * larger libuv pool, as the commands have).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createKoffiApi, createWts, type Wts } from '../src/index';
import type { Farm, FarmServer } from '../src/mock';
import { theDouble } from './common';

const SERVERS = 20;
const SESSIONS = 50;

function farm(): Farm {
  const servers: FarmServer[] = [{ name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'me' }] }];
  for (let s = 1; s <= SERVERS; s++) {
    const sessions = [
      { id: 0, name: 'Services', state: 'Disconnected' as const },
      { id: 1, name: 'Console', state: 'Connected' as const },
      { id: 65536, name: 'RDP-Tcp', state: 'Listen' as const },
    ];
    for (let i = 0; i < SESSIONS; i++) {
      sessions.push({ id: 2 + i, name: i % 2 ? `RDP-Tcp#${i}` : '', state: i % 2 ? 'Active' : 'Disconnected', user: `u${s}_${i}`, domain: 'CORP' } as never);
    }
    servers.push({ name: `TS${String(s).padStart(2, '0')}`, latencyMs: 20, sessions });
  }
  servers.push({ name: 'DEAD', latencyMs: 5000, unreachable: true });
  return { localServer: 'ADMIN', servers };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

async function main(): Promise<void> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const wts: Wts = createWts({ api });
  const names = [...Array.from({ length: SERVERS }, (_, i) => `TS${String(i + 1).padStart(2, '0')}`), 'DEAD'];

  // The dead server answers its open at once (as WTSOpenServerExW does) and fails 5 s later.
  const load = () => {
    double.loadFarm(farm());
    double.setLatency('DEAD', 'open', 0);
  };
  // Each server alone: the slowest one bounds what a farm-wide run can do.
  load();
  const dead = await timed(() => wts.logoffAll({ server: 'DEAD' }).catch((e: { win32Code?: number }) => e));
  const healthy = await timed(() => wts.logoffAll({ server: 'TS01' }));
  const slowest = Math.max(dead.ms, healthy.ms);

  load();
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const all = await timed(() => wts.logoffAll({ servers: names }));
  histogram.disable();
  const loggedOff = all.value.results.filter((o) => o.status === 'loggedOff').length;
  const leaks = double.leaks();
  console.log(
    JSON.stringify({
      deadAloneMs: dead.ms,
      deadError: (dead.value as { win32Code?: number }).win32Code,
      healthyAloneMs: healthy.ms,
      slowestMs: slowest,
      totalMs: all.ms,
      ratio: all.ms / slowest,
      loggedOff,
      expected: SERVERS * SESSIONS,
      failures: all.value.failures.map((f) => `${f.server}:${(f.error as { win32Code?: number }).win32Code ?? f.error.code}`),
      lagP99Ms: histogram.percentile(99) / 1e6,
      lagMaxMs: histogram.max / 1e6,
      leaks,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
