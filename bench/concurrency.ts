/**
 * logoffAll over 1,000 sessions on one server with 10 ms injected on every call, at concurrency
 * 8 and 64, and at 8 with an `idleLongerThan` filter (interleaved, 3 repeats each), against the ideal: the calls per session, read from
 * the double's counters (the closing polls included), × 10 ms × 1,000 / concurrency. The koffi
 * backend on the double with the library's defaults. Run in its own process by npm run bench
 * (`node .tmp/bench/concurrency.js`).
 */
import { DEFAULT_POLL_INTERVAL_MS, pollDelay } from '../src/api/logoff';
import { createKoffiApi, createWts } from '../src/index';
import type { Farm, FarmSession } from '../src/mock';
import { emit, latentCalls, theDouble, timed } from './common';

export const BULK = {
  sessions: 1000,
  latencyMs: 10,
  concurrencies: [8, 64],
  /**
   * Also at concurrency 8 with a filter that needs a query (`idleLongerThan`, every session idle
   * for an hour): its query when the sessions are chosen, and again right before each request
   * (with a `WTSConnectState` query) — the price of not acting on a user who came back.
   */
  filtered: { concurrency: 8, idleLongerThan: '1m' },
  /**
   * Also at concurrency 64 without waiting for the sessions to go (`wait: false`): the same calls
   * less the closing polls, so the library's own cost at that width shows apart from the
   * confirmation's serial tail (the last look, its pause, and the look that finds them gone).
   */
  unconfirmed: { concurrency: 64, wait: false },
  /**
   * Also at concurrency 64 confirmed with (almost) no pause between looks (`pollIntervalMs: 1`):
   * what the confirmation costs when only its looks remain, so whether a shorter pause could
   * meet the target shows (it would not, and the library keeps its pause).
   */
  unpaused: { concurrency: 64, pollIntervalMs: 1 },
  repeats: 3,
  /**
   * Enumerations that still list a session after its WTSLogoffSession (the double's closing
   * phase; loadFarm's default): Windows keeps listing a session for a moment while it closes, so
   * the logoff is confirmed by a later poll, as it is there.
   */
  closingPolls: 1,
} as const;

function farm(): Farm {
  const sessions: FarmSession[] = [
    { id: 0, name: 'Services', state: 'Disconnected' },
    { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
  ];
  for (let i = 0; i < BULK.sessions; i++) {
    sessions.push({
      id: 2 + i,
      name: i % 2 ? `RDP-Tcp#${i}` : '',
      state: i % 2 ? 'Active' : 'Disconnected',
      user: `user${i}`,
      domain: 'CORP',
      lastInputTime: new Date(Date.now() - 3_600_000).toISOString(),
    });
  }
  return {
    localServer: 'ADMIN',
    servers: [
      { name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'me' }] },
      { name: 'BIG', sessions },
    ],
  };
}

async function main(): Promise<void> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const mode = api.threads.mode;
  if (mode !== 'lanes') throw new Error(`bench: expected the koffi backend on lanes, got ${mode}`);
  console.error(`bench: api.threads.mode = ${mode}`);
  const wts = createWts({ api });
  const runs: Array<Record<string, unknown>> = [];
  for (let r = 0; r < BULK.repeats; r++) {
    const configs: Array<{ concurrency: number; idleLongerThan?: string; wait?: boolean; pollIntervalMs?: number }> = [
      ...BULK.concurrencies.map((concurrency) => ({ concurrency })),
      BULK.filtered,
      BULK.unconfirmed,
      BULK.unpaused,
    ];
    for (const config of configs) {
      const { concurrency } = config;
      double.loadFarm(farm(), BULK.closingPolls);
      double.setLatency('BIG', '*', BULK.latencyMs);
      const run = await timed(() => wts.logoffAll({ server: 'BIG', ...config }));
      const loggedOff = run.value.filter((o) => o.status === 'loggedOff').length;
      if (loggedOff !== BULK.sessions) throw new Error(`bench: ${loggedOff}/${BULK.sessions} logged off`);
      const calls = latentCalls(double);
      const callsPerSession = calls.total / BULK.sessions;
      const idealMs = (callsPerSession * BULK.latencyMs * BULK.sessions) / concurrency;
      // What cannot run in parallel: the open, the enumerations (the listing, then the polls: the
      // first right after the last request, each later one after logoffAll's pause), the pauses.
      const polls = (calls.byApi['enumerate'] ?? 0) - 1;
      let pausesMs = 0;
      for (let n = 0; n < polls - 1; n++) pausesMs += pollDelay(n, config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
      const serialMs = ((calls.byApi['open'] ?? 0) + (calls.byApi['enumerate'] ?? 0)) * BULK.latencyMs + pausesMs;
      const leaks = double.leaks();
      const entry = {
        concurrency,
        filter: config.idleLongerThan !== undefined ? `idleLongerThan: '${config.idleLongerThan}'` : config.wait === false ? 'wait: false' : config.pollIntervalMs !== undefined ? `pollIntervalMs: ${config.pollIntervalMs}` : null,
        totalMs: run.ms,
        idealMs,
        ratio: run.ms / idealMs,
        callsPerSession,
        serialMs,
        calls: calls.byApi,
        loggedOff,
        threads: api.threads.mode === 'lanes' ? api.threads.now.threads : undefined,
        clean: Object.values(leaks).every((v) => v === 0),
      };
      console.error(`bench concurrency ${concurrency} ${r + 1}/${BULK.repeats}: ${JSON.stringify(entry)}`);
      runs.push(entry);
    }
  }
  emit({ mode, bulk: BULK, runs });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
