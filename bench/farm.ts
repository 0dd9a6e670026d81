/**
 * Many servers at once, on the koffi backend and the double, with the library's defaults (its own
 * threads, no UV_THREADPOOL_SIZE). Run in its own process by npm run bench:
 *
 * - `node .tmp/bench/farm.js farm`: 20 servers of 50 sessions with 20 ms injected per call and one
 *   server that takes 5 s to fail with 1722; logoffAll over all of them against the slowest
 *   server's own time, the event loop's delay watched throughout. 3 repeats, each measuring both
 *   sides (each server alone, then the farm).
 * - `node .tmp/bench/farm.js fanout`: 200 servers, 5 of them dead (2 s on every call, open
 *   included, then 1722) spread through the list, the others 5 ms per call; a farm-wide listing
 *   and a logoffAll dry run at the default serverConcurrency, against the ideal computed from the
 *   double's call counters; the event loop's delay; and an fs.readFile loop in the same process,
 *   alone and during each run, interleaved, with a control: the same loop during a pause.
 * - `node .tmp/bench/farm.js burst`: where the fs loop's loss comes from. 200 healthy servers
 *   (5 ms per call); the loop runs throughout, and its speed in a 1.5 s window holding one
 *   farm-wide dry run (its burst of calls, about 0.5 s) is compared with a window holding nothing,
 *   alternated; the same for a farm-wide listing, for the backend's own calls alone (the dry run's calls, 64 at a time,
 *   straight through the koffi backend) and for plain C threads making them (bench/pool.c).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createKoffiApi, createWts, type FarmResult, type KoffiApi, type Wts } from '../src/index';
import type { Farm, FarmServer, FarmSession } from '../src/mock';
import { emit, latentCalls, theDouble, timed } from './common';
import type { NativeDouble } from '../test/native/double';

/** The library's default serverConcurrency (src/api/farm.ts, checkFarm); the benchmark passes none. */
export const DEFAULT_SERVER_CONCURRENCY = 8;

function setUp(): { double: NativeDouble; api: KoffiApi; wts: Wts; mode: string } {
  const double = theDouble();
  // The library's defaults: it finds its lanes build itself.
  const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
  const mode = api.threads.mode;
  if (mode !== 'lanes') throw new Error(`bench: expected the koffi backend on lanes, got ${mode}`);
  console.error(`bench: api.threads.mode = ${mode}`);
  return { double, api, wts: createWts({ api }), mode };
}

function clean(double: NativeDouble): boolean {
  return Object.values(double.leaks()).every((v) => v === 0);
}

function userSessions(server: number, count: number): FarmSession[] {
  const sessions: FarmSession[] = [
    { id: 0, name: 'Services', state: 'Disconnected' },
    { id: 1, name: 'Console', state: 'Connected' },
    { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
  ];
  for (let i = 0; i < count; i++) {
    sessions.push({ id: 2 + i, name: i % 2 ? `RDP-Tcp#${i}` : '', state: i % 2 ? 'Active' : 'Disconnected', user: `u${server}_${i}`, domain: 'CORP' });
  }
  return sessions;
}

const ADMIN: FarmServer = { name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'me' }] };

// ---- farm: 20 servers + 1 dead --------------------------------------------------------------

const SERVERS = 20;
const SESSIONS = 50;
const REPEATS = 3;

function farm(): Farm {
  const servers: FarmServer[] = [ADMIN];
  for (let s = 1; s <= SERVERS; s++) servers.push({ name: `TS${String(s).padStart(2, '0')}`, latencyMs: 20, sessions: userSessions(s, SESSIONS) });
  servers.push({ name: 'DEAD', latencyMs: 5000, unreachable: true });
  return { localServer: 'ADMIN', servers };
}

async function farmBench(): Promise<void> {
  const { double, wts, api, mode } = setUp();
  const names = [...Array.from({ length: SERVERS }, (_, i) => `TS${String(i + 1).padStart(2, '0')}`), 'DEAD'];
  // The dead server answers its open at once (as WTSOpenServerExW does) and fails 5 s later.
  const load = () => {
    double.loadFarm(farm());
    double.setLatency('DEAD', 'open', 0);
  };
  const runs: Array<Record<string, unknown>> = [];
  for (let r = 0; r < REPEATS; r++) {
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
    const run = {
      deadAloneMs: dead.ms,
      deadError: (dead.value as { win32Code?: number }).win32Code,
      healthyAloneMs: healthy.ms,
      slowestMs: slowest,
      totalMs: all.ms,
      ratio: all.ms / slowest,
      loggedOff: all.value.results.filter((o) => o.status === 'loggedOff').length,
      failures: failuresOf(all.value),
      lagP99Ms: histogram.percentile(99) / 1e6,
      lagMaxMs: histogram.max / 1e6,
      threads: api.threads.mode === 'lanes' ? api.threads.now.threads : undefined,
      clean: clean(double),
    };
    console.error(`bench farm ${r + 1}/${REPEATS}: ${JSON.stringify(run)}`);
    runs.push(run);
  }
  emit({ mode, expected: SERVERS * SESSIONS, runs });
}

function failuresOf(result: FarmResult<unknown>): string[] {
  return result.failures.map((f) => `${f.server}:${(f.error as { win32Code?: number }).win32Code ?? f.error.code}`);
}

// ---- fanout: 200 servers, 5 dead --------------------------------------------------------------

export const FAN = {
  servers: 200,
  /** 0-based positions of the dead servers in the list. */
  deadAt: [20, 60, 100, 140, 180],
  sessionsPerServer: 10,
  healthyMs: 5,
  /** A dead server's RPC timeout, injected on every call, WTSOpenServerExW included. */
  deadMs: 2000,
  /** How long each fs.readFile loop runs alone. */
  aloneMs: 3000,
  /** Five, not three: the fs ratio moves by about ±8% from run to run on this machine. */
  repeats: 5,
} as const;

function fanNames(servers: number = FAN.servers, deadAt: readonly number[] = FAN.deadAt): string[] {
  let dead = 0;
  return Array.from({ length: servers }, (_, i) => (deadAt.includes(i) ? `DEAD${++dead}` : `H${String(i).padStart(3, '0')}`));
}

function fanFarm(names: readonly string[]): Farm {
  const servers: FarmServer[] = [ADMIN];
  names.forEach((name, i) => {
    servers.push(name.startsWith('DEAD') ? { name, latencyMs: FAN.deadMs, unreachable: true } : { name, latencyMs: FAN.healthyMs, sessions: userSessions(i, FAN.sessionsPerServer) });
  });
  return { localServer: 'ADMIN', servers };
}

/** A full collection, where the process was started with --expose-gc (npm run bench does). */
function collectHarnessGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The fs.readFile loop alone for FAN.aloneMs: its reads and seconds. */
async function readAlone(file: string): Promise<{ reads: number; seconds: number }> {
  // Every window opens after a full collection, as each run's and the control's does.
  collectHarnessGarbage();
  const loop = readLoop(file);
  await new Promise((resolve) => setTimeout(resolve, FAN.aloneMs));
  const { reads, perSecond } = await loop.stop();
  return { reads, seconds: reads / perSecond };
}

/** A sequential fs.readFile loop until `stop()`: its reads so far, and at the end reads per second. */
function readLoop(file: string): { reads: () => number; stop: () => Promise<{ reads: number; perSecond: number }> } {
  let running = true;
  let reads = 0;
  const t0 = process.hrtime.bigint();
  const loop = (async () => {
    while (running) {
      await readFile(file);
      reads++;
    }
  })();
  return {
    reads: () => reads,
    stop: async () => {
      running = false;
      await loop;
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      return { reads, perSecond: reads / s };
    },
  };
}

/**
 * `--app-heap-mb N` (or `--app-heap-mb=N`): the harness first builds about N MB of live objects and
 * holds them to the end, as a program using the library would. The bare benchmark process keeps
 * only a few MB, close to the 8 MB of old generation below which V8 does not start incremental
 * marking on its allocation limit (IsBelowActivationThresholds, checked by
 * Heap::IncrementalMarkingLimitReached); traced by hand, a run's leftovers took it over and V8
 * then marked and compacted again and again while the dead servers were waited for. Whether that
 * costs the fs loop is what the second run measures: the same rows, in a process with a program's
 * heap, each against its own control. The page keeps its targets on the bare process's rows.
 */
function appHeapMb(): number {
  const i = process.argv.findIndex((a) => a === '--app-heap-mb' || a.startsWith('--app-heap-mb='));
  if (i < 0) return 0;
  const arg = process.argv[i] as string;
  const mb = Number(arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : process.argv[i + 1]);
  if (!Number.isInteger(mb) || mb < 1) throw new Error('bench: --app-heap-mb takes a whole number of MB');
  return mb;
}

/** V8's old generation in use (old space and large objects), after a full collection. */
function oldGenerationBytes(): number {
  collectHarnessGarbage();
  return getHeapSpaceStatistics()
    .filter((s) => s.space_name === 'old_space' || s.space_name === 'large_object_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);
}

/** Objects shaped like a program's records, about `mb` MB of them, held until the process exits. */
function buildAppHeap(mb: number): { askedMb: number; builtMb: number } {
  const before = oldGenerationBytes();
  const used = () => process.memoryUsage().heapUsed;
  const start = used();
  const records: Array<{ id: number; name: string; tags: number[] }> = [];
  while (used() - start < mb * 1024 * 1024) {
    for (let i = 0; i < 10_000; i++) records.push({ id: records.length, name: `record ${records.length}`, tags: [records.length & 7] });
  }
  (globalThis as { appHeap?: unknown }).appHeap = records;
  return { askedMb: mb, builtMb: (oldGenerationBytes() - before) / (1024 * 1024) };
}

async function fanoutBench(): Promise<void> {
  const heapMb = appHeapMb();
  const appHeap = heapMb > 0 ? buildAppHeap(heapMb) : undefined;
  const oldGenerationMb = oldGenerationBytes() / (1024 * 1024);
  const { double, wts, api, mode } = setUp();
  const names = fanNames();
  const file = join(tmpdir(), `wts-bench-${process.pid}.bin`);
  await writeFile(file, Buffer.alloc(64 * 1024, 7));

  const ops = {
    list: () => wts.listSessions({ servers: names }) as Promise<FarmResult<unknown>>,
    dryRun: () => wts.logoffAll({ servers: names, dryRun: true }) as Promise<FarmResult<unknown>>,
  } as const;
  const single = {
    list: (server: string) => wts.listSessions({ server }),
    dryRun: (server: string) => wts.logoffAll({ server, dryRun: true }),
  } as const;

  // One dead server alone: the calls it takes before it fails (open, then the first call), from
  // the double's counters, and its own time.
  const deadAlone: Record<string, { calls: number; ms: number; error: unknown }> = {};
  for (const op of ['list', 'dryRun'] as const) {
    double.loadFarm(fanFarm(names));
    const t = await timed(() => single[op]('DEAD1').then(() => undefined, (e: { win32Code?: number }) => e.win32Code));
    deadAlone[op] = { calls: latentCalls(double).total, ms: t.ms, error: t.value };
    if (!clean(double)) throw new Error('bench: leaks after the dead server alone');
  }

  const dead = FAN.deadAt.length;
  const results: Record<string, Array<Record<string, unknown>>> = { list: [], dryRun: [] };
  const control: Array<Record<string, unknown>> = [];
  // The fs loop alone, then during a run, then alone again: every run (the control's included) is
  // bracketed by two alone windows, the window after one run being the window before the next, so
  // drift on this shared machine hits both sides alike. The control runs the same loop during a
  // pause as long as the last run, the library idle: how far the fs ratio moves without the
  // library's work (the machine's noise and the harness's own), measured the same way, in turn.
  let before = await readAlone(file);
  let lastMs = FAN.deadMs * 2;
  for (let r = 0; r < FAN.repeats; r++) {
    for (const op of ['control', 'list', 'dryRun'] as const) {
      // The control does everything a run does (the farm loaded into the double just before, the
      // event-loop histogram on) except the library call. Loading the farm is the harness's work,
      // not the library's: its garbage is collected before the window opens (npm run bench gives
      // this process --expose-gc), for the control and the runs alike.
      double.loadFarm(fanFarm(names));
      collectHarnessGarbage();
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      if (op === 'control') {
        const loadedLoop = readLoop(file);
        const pauseMs = lastMs;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        const loaded = await loadedLoop.stop();
        histogram.disable();
        const after = await readAlone(file);
        const alone = (before.reads + after.reads) / (before.seconds + after.seconds);
        const entry = { pauseMs, fsAlonePerSecond: alone, fsLoadedPerSecond: loaded.perSecond, fsRatio: loaded.perSecond / alone, lagP99Ms: histogram.percentile(99) / 1e6 };
        console.error(`bench fanout control ${r + 1}/${FAN.repeats}: ${JSON.stringify(entry)}`);
        control.push(entry);
        before = after;
        continue;
      }
      const loadedLoop = readLoop(file);
      const cpu0 = process.cpuUsage();
      // Only what the entry needs is kept past the run: the loop's next window (alone) does not
      // run beside the run's results.
      const run = await timed(ops[op]).then(({ ms, value }) => ({ ms, failures: failuresOf(value), results: value.results.length }));
      const cpu = process.cpuUsage(cpu0);
      const loaded = await loadedLoop.stop();
      histogram.disable();
      const after = await readAlone(file);
      const alone = { perSecond: (before.reads + after.reads) / (before.seconds + after.seconds) };
      const aloneBeforeAfter = [before.reads / before.seconds, after.reads / after.seconds];
      before = after;
      lastMs = run.ms;

      const calls = latentCalls(double);
      const deadCalls = deadAlone[op]!.calls;
      const healthyWorkMs = (calls.total - dead * deadCalls) * FAN.healthyMs;
      const deadOwnMs = deadCalls * FAN.deadMs;
      const idealMs = Math.max(deadOwnMs, healthyWorkMs / DEFAULT_SERVER_CONCURRENCY);
      const failures = run.failures;
      const entry = {
        totalMs: run.ms,
        idealMs,
        ratio: run.ms / idealMs,
        deadOwnMs,
        healthyWorkMs,
        calls: calls.byApi,
        results: run.results,
        failures,
        lagP99Ms: histogram.percentile(99) / 1e6,
        lagMaxMs: histogram.max / 1e6,
        fsAlonePerSecond: alone.perSecond,
        fsAloneBeforeAfter: aloneBeforeAfter,
        cpuMs: (cpu.user + cpu.system) / 1000,
        fsLoadedPerSecond: loaded.perSecond,
        fsRatio: loaded.perSecond / alone.perSecond,
        threads: api.threads.mode === 'lanes' ? api.threads.now.threads : undefined,
        clean: clean(double),
      };
      if (failures.length !== dead || !failures.every((f) => f.startsWith('DEAD') && f.endsWith(':1722'))) {
        throw new Error(`bench: expected the ${dead} dead servers to fail with 1722, got ${failures.join(', ')}`);
      }
      console.error(`bench fanout ${op} ${r + 1}/${FAN.repeats}: ${JSON.stringify(entry)}`);
      results[op]!.push(entry);
    }
  }
  emit({ mode, fan: FAN, serverConcurrency: DEFAULT_SERVER_CONCURRENCY, deadAlone, results, control, appHeap, oldGenerationMb });
}

// ---- burst: the fs loop beside the dry run's calls, made three ways -------------------------

export const BURST = {
  servers: 200,
  /** Each window: long enough to hold the dry run's burst (about 0.5 s) with room to spare. */
  windowMs: 1500,
  /** Settling before each window, after a forced collection of the harness's garbage. */
  settleMs: 200,
  repeats: 10,
  /** The width of the backend's and the C threads' calls: the dry run's (8 servers × 8 calls). */
  width: 64,
} as const;

/** The dry run's calls made by C threads in this process (bench/pool.c, built beside this file). */
function cPool(double: NativeDouble): (names: readonly string[]) => Promise<number> {
  const run = koffi.load(join(__dirname, 'pool.so')).func('long pool_run(const char *, const char *, int, int, int)');
  return (names) =>
    new Promise((resolve, reject) => {
      // On one of libuv's threads, which only waits for the pool's own; the fs loop needs one.
      run.async(double.path, `${names.join('\0')}\0`, names.length, BURST.width, 2, (error: unknown, calls: number) => {
        if (error) reject(error);
        else if (calls < 0) reject(new Error('bench: pool_run could not run'));
        else resolve(calls);
      });
    });
}

/** The dry run's calls straight through the backend, BURST.width at a time: one server per worker. */
async function backendCalls(api: KoffiApi, names: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const server = await api.openServer(names[next++] as string);
      try {
        await api.enumerateSessions(server);
        for (const s of await api.enumerateSessions(server)) if (s.userName) await api.querySessionInformation(server, s.sessionId, 'WTSSessionInfo');
      } finally {
        await api.closeServer(server);
      }
    }
  };
  await Promise.all(Array.from({ length: BURST.width }, worker));
}

async function burstBench(): Promise<void> {
  const { double, wts, api, mode } = setUp();
  const pool = cPool(double);
  const names = fanNames(BURST.servers, []);
  const file = join(tmpdir(), `wts-bench-${process.pid}.bin`);
  await writeFile(file, Buffer.alloc(64 * 1024, 7));
  // None of the three changes the farm: it is loaded once.
  double.loadFarm(fanFarm(names));
  const calls: Record<string, Record<string, number>> = {};
  const ops = {
    list: async () => {
      await wts.listSessions({ servers: names });
    },
    dryRun: async () => {
      await wts.logoffAll({ servers: names, dryRun: true });
    },
    backend: () => backendCalls(api, names),
    floor: async () => {
      await pool(names);
    },
  } as const;
  const loop = readLoop(file);
  const window = async (work?: () => Promise<void>): Promise<{ perSecond: number; workMs: number }> => {
    collectHarnessGarbage();
    await new Promise((resolve) => setTimeout(resolve, BURST.settleMs));
    const r0 = loop.reads();
    const t0 = performance.now();
    if (work) await work();
    const workMs = performance.now() - t0;
    const left = BURST.windowMs - workMs;
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    return { perSecond: ((loop.reads() - r0) * 1000) / (performance.now() - t0), workMs };
  };
  const runs: Array<Record<string, number>> = [];
  for (let r = 0; r < BURST.repeats; r++) {
    const entry: Record<string, number> = {};
    const speed: Record<string, number> = {};
    // The five windows in turn, the order rotated each repeat: drift hits every side alike.
    const order = ['pause', 'list', 'dryRun', 'backend', 'floor'] as const;
    for (let i = 0; i < order.length; i++) {
      const op = order[(i + r) % order.length] as (typeof order)[number];
      if (op === 'pause') {
        speed[op] = (await window()).perSecond;
        continue;
      }
      const before = latentCalls(double).byApi;
      const w = await window(ops[op]);
      const after = latentCalls(double).byApi;
      calls[op] = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] as number) - (before[k] as number)]));
      if (w.workMs > BURST.windowMs) throw new Error(`bench: burst ${op} took ${w.workMs} ms, longer than its window`);
      entry[`${op}Ms`] = w.workMs;
      speed[op] = w.perSecond;
    }
    entry['pausePerSecond'] = speed['pause'] as number;
    for (const op of ['list', 'dryRun', 'backend', 'floor']) entry[`${op}Ratio`] = (speed[op] as number) / (speed['pause'] as number);
    if (!clean(double)) throw new Error('bench: leaks after a burst window');
    console.error(`bench burst ${r + 1}/${BURST.repeats}: ${JSON.stringify(entry)}`);
    runs.push(entry);
  }
  await loop.stop();
  emit({ mode, burst: BURST, calls, runs });
}

// ---- sweep: 50 and 200 servers, 5 dead first / spread / last ----------------------------------

/** Where the 5 dead servers sit in a list of `servers`. */
export function deadPositions(servers: number, placement: 'first' | 'spread' | 'last'): number[] {
  const dead = 5;
  if (placement === 'first') return Array.from({ length: dead }, (_, i) => i);
  if (placement === 'last') return Array.from({ length: dead }, (_, i) => servers - dead + i);
  return Array.from({ length: dead }, (_, i) => Math.floor(((i + 0.5) * servers) / dead));
}

/** Each sweep configuration's repeats (12 configurations of about 4 s each). */
const SWEEP_REPEATS = 3;

async function sweepBench(): Promise<void> {
  const { double, wts, mode } = setUp();
  const configs: Array<{ servers: number; placement: 'first' | 'spread' | 'last' }> = [];
  for (const servers of [50, 200]) for (const placement of ['first', 'spread', 'last'] as const) configs.push({ servers, placement });
  // A dead server's own calls (open, then the first call), counted once with it alone.
  const own: Record<string, number> = {};
  for (const op of ['list', 'dryRun'] as const) {
    const names = fanNames(50, [0]);
    double.loadFarm(fanFarm(names));
    await (op === 'list' ? wts.listSessions({ server: 'DEAD1' }) : wts.logoffAll({ server: 'DEAD1', dryRun: true })).catch(() => undefined);
    own[op] = latentCalls(double).total;
  }
  const results: Array<Record<string, unknown>> = [];
  for (let r = 0; r < SWEEP_REPEATS; r++) {
    for (const { servers, placement } of configs) {
      for (const op of ['list', 'dryRun'] as const) {
        const names = fanNames(servers, deadPositions(servers, placement));
        double.loadFarm(fanFarm(names));
        const run = await timed(() => (op === 'list' ? wts.listSessions({ servers: names }) : wts.logoffAll({ servers: names, dryRun: true })) as Promise<FarmResult<unknown>>);
        const calls = latentCalls(double).total;
        const deadOwnMs = (own[op] as number) * FAN.deadMs;
        const healthyWorkMs = (calls - 5 * (own[op] as number)) * FAN.healthyMs;
        const idealMs = Math.max(deadOwnMs, healthyWorkMs / DEFAULT_SERVER_CONCURRENCY);
        const failures = failuresOf(run.value);
        if (failures.length !== 5 || !clean(double)) throw new Error(`bench: sweep ${servers}/${placement}/${op}: ${failures.join(', ')}`);
        const entry = { servers, placement, op, totalMs: run.ms, idealMs, ratio: run.ms / idealMs, deadOwnMs, healthyWorkMs };
        console.error(`bench sweep ${r + 1}/${SWEEP_REPEATS}: ${JSON.stringify(entry)}`);
        results.push(entry);
      }
    }
  }
  emit({ mode, serverConcurrency: DEFAULT_SERVER_CONCURRENCY, results });
}

const part = process.argv[2] ?? 'farm';
const parts: Record<string, () => Promise<void>> = { fanout: fanoutBench, farm: farmBench, sweep: sweepBench, burst: burstBench };
(parts[part]?.() ?? Promise.reject(new Error(`bench: unknown part ${part}`))).catch((error) => {
  console.error(error);
  process.exit(1);
});
