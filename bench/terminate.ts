/**
 * terminateProcess by name over the processes of one session, on the koffi backend and the double
 * with 5 ms injected on every call, at the library's default concurrency (4), against what
 * `taskkill /F /IM worker.exe` does through the same API: one listing, then one
 * WTSTerminateProcess per process, 4 at a time, with no re-check. Interleaved (baseline, then the
 * library, for each size), 3 repeats. Run in its own process by npm run bench
 * (`node .tmp/bench/terminate.js`).
 */
import { createKoffiApi, createWts, WTS_ANY_SESSION, type TerminateOutcome } from '../src/index';
import type { Farm } from '../src/mock';
import { emit, theDouble, timed } from './common';

export const TERM = {
  sizes: [100, 1000],
  latencyMs: 5,
  /** terminateProcess's default `concurrency`; the baseline runs as many at once. */
  concurrency: 4,
  repeats: 3,
} as const;

function farm(n: number): Farm {
  return {
    localServer: 'ADMIN',
    servers: [
      { name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
      {
        name: 'TS09',
        sessions: [{ id: 2, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', processes: Array.from({ length: n }, (_, i) => ({ pid: 1000 + 4 * i, name: 'worker.exe', user: 'bob' })) }],
      },
    ],
  };
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, advapi32: double.path });
  if (api.threads.mode !== 'lanes') throw new Error(`bench: expected the koffi backend on lanes, got ${api.threads.mode}`);
  const wts = createWts({ api });
  const enumerateEx = api.enumerateProcessesEx?.bind(api);
  const terminate = api.terminateProcess?.bind(api);
  if (!enumerateEx || !terminate) throw new Error('bench: the koffi backend lacks the process calls');
  const calls = () => ({ listings: double.calls('processes') + double.calls('processesEx'), terminations: double.calls('terminate') });
  const runs: Array<Record<string, unknown>> = [];
  for (let r = 0; r < TERM.repeats; r++) {
    for (const n of TERM.sizes) {
      // The baseline: taskkill's way, with the same backend, threads and width.
      double.loadFarm(farm(n));
      double.setLatency('TS09', '*', TERM.latencyMs);
      const base = await timed(async () => {
        const h = await api.openServer('TS09');
        try {
          const list = await enumerateEx(h, WTS_ANY_SESSION);
          const mine = list.filter((p) => p.sessionId === 2 && p.processName.toLowerCase() === 'worker.exe');
          await pool(mine, TERM.concurrency, (p) => terminate(h, p.processId, 1));
          return mine.length;
        } finally {
          await api.closeServer(h);
        }
      });
      const baseCalls = calls();
      if (base.value !== n || double.leaks().allocations !== 0) throw new Error(`bench: the baseline ended ${base.value} of ${n}`);

      double.loadFarm(farm(n));
      double.setLatency('TS09', '*', TERM.latencyMs);
      const lib = await timed(() => wts.terminateProcess({ name: 'worker.exe', session: 2 }, { server: 'TS09', concurrency: TERM.concurrency }));
      const ended = lib.value.filter((o: TerminateOutcome) => o.status === 'terminated').length;
      if (ended !== n) throw new Error(`bench: terminateProcess ended ${ended} of ${n}`);
      const libCalls = calls();
      const leaks = double.leaks();
      const entry = {
        processes: n,
        totalMs: lib.ms,
        baselineMs: base.ms,
        ratio: lib.ms / base.ms,
        calls: libCalls,
        baselineCalls: baseCalls,
        clean: Object.values(leaks).every((v) => v === 0),
      };
      console.error(`bench terminate ${n} ${r + 1}/${TERM.repeats}: ${JSON.stringify(entry)}`);
      runs.push(entry);
    }
  }
  emit({ mode: api.threads.mode, term: TERM, runs });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
