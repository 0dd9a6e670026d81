/**
 * Watching sessions, on the koffi backend and the double with the library's defaults: the time
 * from a change on a server (a session put in or removed through the double's control calls,
 * which raise WTSWaitSystemEvent's events as Windows would) to its event arriving in the
 * `watchSessions` iterator, over 200 changes; the threads and memory 50 watched servers take;
 * and the CPU the idle watch uses over 10 s, against the same process idle without it. Run in its own process by npm run bench
 * (`node .tmp/bench/watch.js`, with --expose-gc).
 *
 * When the built double has no WTSWaitSystemEvent, or the library no `watchSessions`, this prints
 * `skipped: ...` and reports no figures.
 */
import { readFileSync } from 'node:fs';
import { createKoffiApi, createWts, type KoffiApi, type SessionEvent } from '../src/index';
import type { Farm, FarmSession } from '../src/mock';
import { emit, percentile, theDouble } from './common';

export const WATCH = { changes: 200, servers: 50, idleMs: 10_000, sessionsPerServer: 10, repeats: 3 } as const;

function procStatus(field: 'Threads' | 'VmRSS'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number.parseInt(line.slice(field.length + 1).trim(), 10) : Number.NaN;
}

const serverName = (s: number) => `W${String(s).padStart(2, '0')}`;

function farm(servers: number): Farm {
  const list = [];
  for (let s = 0; s < servers; s++) {
    const sessions: FarmSession[] = [{ id: 65536, name: 'RDP-Tcp', state: 'Listen' }];
    for (let i = 0; i < WATCH.sessionsPerServer; i++) sessions.push({ id: 2 + i, name: `RDP-Tcp#${i}`, state: 'Active', user: `u${s}_${i}`, domain: 'CORP' });
    list.push({ name: serverName(s), sessions });
  }
  return { localServer: 'ADMIN', servers: [{ name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active' as const, user: 'me' }] }, ...list] };
}

function lanes(api: KoffiApi) {
  const t = api.threads;
  if (t.mode !== 'lanes') throw new Error(`bench: expected the koffi backend on lanes, got ${t.mode}`);
  return t;
}

/** Whether the built double exports WTSWaitSystemEvent. */
function doubleHasWait(path: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as { load(p: string): { func(name: string, ret: string, args: string[]): unknown } };
  try {
    koffi.load(path).func('WTSWaitSystemEvent', 'int', ['void *', 'uint32_t', 'void *']);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const double = theDouble();
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const mode = lanes(api).mode;
  console.error(`bench: api.threads.mode = ${mode}`);
  const wts = createWts({ api });
  const missing = typeof (wts as { watchSessions?: unknown }).watchSessions !== 'function'
    ? 'watchSessions not available'
    : !doubleHasWait(double.path) ? 'the built double has no WTSWaitSystemEvent (npm run build:native)' : undefined;
  if (missing) {
    console.error(`bench watch: skipped: ${missing}`);
    emit({ skipped: missing });
    return;
  }

  // 1. Latency: one watched server; changes one after another, each once the previous one's event
  // has arrived: a logon (a new session put in), then its logoff (the session removed), ...
  double.loadFarm(farm(1), 0);
  const one = new AbortController();
  const iterator = wts.watchSessions({ server: serverName(0), signal: one.signal })[Symbol.asyncIterator]();
  let pending = iterator.next(); // starts the watch
  await double.waitsPending(1);
  const latencies: number[] = [];
  const arrival = async (type: 'logon' | 'logoff', id: number): Promise<void> => {
    for (;;) {
      const r = await pending;
      pending = iterator.next();
      if (r.done) throw new Error('bench watch: the iteration ended');
      const e = r.value as SessionEvent;
      if (e.type === type && e.session.id === id) return;
      if (e.type === 'serverError') throw new Error(`bench watch: ${e.error.message}`);
    }
  };
  for (let i = 0; i < WATCH.changes; i++) {
    const id = 1000 + Math.floor(i / 2);
    const t0 = process.hrtime.bigint();
    if (i % 2 === 0) double.putSession(serverName(0), { id, name: `RDP-Tcp#${id}`, state: 'Active', user: `new${id}`, domain: 'CORP' });
    else if (!double.removeSession(serverName(0), id)) throw new Error(`bench watch: no session ${id}`);
    await arrival(i % 2 === 0 ? 'logon' : 'logoff', id);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  one.abort();
  await pending.catch(() => undefined);
  await iterator.return?.().catch(() => undefined);

  // 2. 50 servers watched at once: threads and memory. The ordinary lanes the watch's first
  // enumerations use are started before the "before" reading (by the same listing), so that the
  // difference is what watching holds.
  double.loadFarm(farm(WATCH.servers), 0);
  const names = Array.from({ length: WATCH.servers }, (_, s) => serverName(s));
  await wts.listSessions({ servers: names });
  const gc = (globalThis as { gc?: () => void }).gc;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const startWatch = () => {
    const controller = new AbortController();
    const done = (async () => {
      try {
        for await (const e of wts.watchSessions({ servers: names, signal: controller.signal })) {
          if (e.type === 'serverError') throw new Error(`bench watch: ${e.server}: ${e.error.message}`);
        }
      } catch (error) {
        if ((error as Error).name !== 'AbortError') throw error;
      }
    })();
    return { stop: async () => (controller.abort(), done) };
  };
  // 3. The idle watch's CPU against the same process idle without a watch, interleaved, 3 times.
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  const baselineCpuMs: number[] = [];
  const idleCpuMs: number[] = [];
  let callsWhileIdle = 0;
  let before: { threads: number; rssKb: number; lanes: ReturnType<typeof lanes>['now'] } | undefined;
  let during: typeof before;
  let settled: { threads: number; lanes: ReturnType<typeof lanes>['now'] } | undefined;
  for (let r = 0; r < WATCH.repeats; r++) {
    gc?.();
    const base0 = process.cpuUsage();
    await sleep(WATCH.idleMs);
    baselineCpuMs.push(cpuMs(process.cpuUsage(base0)));
    before ??= { threads: procStatus('Threads'), rssKb: procStatus('VmRSS'), lanes: lanes(api).now };
    const watch = startWatch();
    await double.waitsPending(WATCH.servers, 10_000);
    gc?.();
    during ??= { threads: procStatus('Threads'), rssKb: procStatus('VmRSS'), lanes: lanes(api).now };
    const calls0 = double.calls('enumerate') + double.calls('query');
    const cpu0 = process.cpuUsage();
    await sleep(WATCH.idleMs);
    idleCpuMs.push(cpuMs(process.cpuUsage(cpu0)));
    callsWhileIdle += double.calls('enumerate') + double.calls('query') - calls0;
    if (r === WATCH.repeats - 1) {
      // Once the ordinary lanes the watch's first listings started have gone idle and exited
      // (idleMs), the threads a long-running watch holds.
      const settleBy = Date.now() + lanes(api).limits.idleMs + 5000;
      while (lanes(api).now.threads > before.lanes.threads && Date.now() < settleBy) await sleep(250);
      settled = { threads: procStatus('Threads'), lanes: lanes(api).now };
    }
    await watch.stop();
    console.error(`bench watch idle ${r + 1}/${WATCH.repeats}: baseline ${baselineCpuMs[r]!.toFixed(1)} ms CPU, watching ${idleCpuMs[r]!.toFixed(1)} ms CPU`);
  }
  if (!before || !during || !settled) throw new Error('bench watch: no readings');

  emit({
    mode,
    latency: { min: Math.min(...latencies), p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), count: latencies.length },
    threads: {
      before: before.threads,
      watching: during.threads,
      extra: during.threads - before.threads,
      waitThreads: during.lanes.waitThreads - before.lanes.waitThreads,
      waitThreadsTotal: during.lanes.waitThreads,
      ordinaryBefore: before.lanes.threads,
      ordinaryWatching: during.lanes.threads,
      settled: settled.threads,
      settledExtra: settled.threads - before.threads,
      settledOrdinary: settled.lanes.threads,
      settledWaitThreads: settled.lanes.waitThreads,
    },
    rssExtraMb: (during.rssKb - before.rssKb) / 1024,
    idleCpuMs,
    baselineCpuMs,
    idleMs: WATCH.idleMs,
    callsWhileIdle,
    leaks: double.leaks(),
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
