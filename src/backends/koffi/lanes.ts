/**
 * Threads the library owns for the Win32 calls that block (native/lanes/wts_lanes.c, prebuilt as
 * prebuilds/win32-<arch>/wts_lanes.dll).
 *
 * Why not koffi's `.async`: it runs calls on libuv's thread pool — 4 threads by default, shared
 * with the user's fs, dns, zlib and crypto work, sized once per process. One dead server's RPC
 * timeout would hold a quarter of it for tens of seconds, and a WTSWaitSystemEvent for ever.
 *
 * Why not worker_threads: each is a V8 isolate, about 8 MB of memory and 35 ms to start (measured
 * on the development machine); 64 of them take 480 MB and 2.3 s. A lane is a native thread (a
 * reserved 256 KiB stack, committed as used) that starts in microseconds.
 *
 * The policy lives here, in TypeScript:
 * - Calls run on at most `maxThreads` lanes (default 128: the default work over many servers, 8
 *   sessions at a time on each of 8 servers, and 64 servers opened and listed ahead of it). A lane is started when a call finds none idle, and stopped after
 *   `idleMs` without work.
 * - Long waits (WTSWaitSystemEvent, a message box waiting for its answer) run on lanes of their
 *   own, at most `maxWaitThreads`, so that they never hold back ordinary calls.
 * - A lane never hands its result to JS itself: it lists its finished call and goes back to waiting
 *   for work. One relay thread per backend calls `done` once for everything finished so far, and
 *   the JS thread drains the list (lanes_drain). A blocking hand-back per call, as koffi relays
 *   callbacks from other threads, cost about 2 ms per round of 64 calls (measured, bench concurrency).
 *   Each relay takes one of koffi's `max_async_calls` slots (256 by default, process-wide; a relay
 *   that finds none would crash the process): wts_lanes also caps relays in flight process-wide,
 *   whatever the number of backends, at 64 and at that limit minus 32 (left for other `.async` calls).
 * - At process exit (or a worker's), the lanes' group is closed before the JS environment goes: a
 *   call that returns later is dropped instead of relayed to nobody. The library pins itself in
 *   memory, so a thread still inside a call returns into code that is there.
 * - A call that has run for `stuckAfterMs`, or whose caller abandoned it (its signal fired), holds
 *   its lane until it returns: the lane is accounted for as stuck, and comes back when the call
 *   returns. When every lane is held by a stuck call, new calls are refused at once with
 *   ThreadsExhaustedError rather than queued for ever; otherwise they queue until a lane frees.
 * - Native memory a call's arguments point at lives until the call returns, even when its caller
 *   has gone, and `finish` always runs (so every WTS buffer is freed) — its value is then dropped.
 * - While a call someone still awaits is queued or running, the event loop is kept alive (koffi's
 *   callback relay does not hold it); abandoned calls do not keep the process alive.
 */
import type * as KoffiModule from 'koffi';
import { OperationAbortedError, ThreadsExhaustedError, UnsupportedPlatformError } from '../../errors';
import { callOnReturn } from '../abandon';

type Koffi = typeof KoffiModule;

/** Defaults, documented in docs/threads.md. */
export const LANE_DEFAULTS = { maxThreads: 128, maxWaitThreads: 128, stuckAfterMs: 10_000, idleMs: 15_000 } as const;

/**
 * The limits of the threads ("lanes") a koffi backend runs blocking calls on: options of
 * {@link createKoffiApi}, each an integer from 1 to 2147483647 (docs/threads.md).
 */
export interface LaneOptions {
  /**
   * Threads for ordinary calls. When every one is held by a stuck call, new calls are refused
   * with {@link ThreadsExhaustedError}.
   * @defaultValue 128
   */
  readonly maxThreads?: number;
  /**
   * Threads for long waits (watching, message boxes waiting for an answer).
   * @defaultValue 128
   */
  readonly maxWaitThreads?: number;
  /**
   * A call running this long, in ms, counts as stuck (see {@link ThreadsExhaustedError}).
   * @defaultValue 10000
   */
  readonly stuckAfterMs?: number;
  /**
   * An idle thread exits after this long, in ms.
   * @defaultValue 15000
   */
  readonly idleMs?: number;
}

let doneType: KoffiModule.TypeObject | undefined;
/** koffi async slots left for other koffi `.async` calls in the process (the user's own). */
const ASYNC_HEADROOM = 32;
/** The most hand-backs in flight at once, process-wide (see the constructor). */
const RELAY_CAP = 64;

/** Groups to close when this JS environment exits (one listener for all of them). */
const openGroups = new Map<bigint, (group: bigint) => void>();
function closeAtExit(group: bigint, close: (group: bigint) => void): void {
  if (openGroups.size === 0) process.once('exit', () => {
    for (const [g, c] of openGroups) c(g);
    openGroups.clear();
  });
  openGroups.set(group, close);
}

/** LaneJob in wts_lanes.c: every field 8 bytes. */
const JOB = { fn: 0, lastErrorFn: 8, argc: 16, id: 24, args: 32, result: 112, lastError: 120, size: 128 } as const;
const MAX_ARGS = 10;
/** Each lane's own argument memory: out-parameters and short strings (a server name) fit. */
const SCRATCH_BYTES = 512;
/** setTimeout's longest delay (a longer one fires at once, with a warning). */
const MAX_TIMER_MS = 2_147_483_647;
/** A number that fits one DWORD: written as two 32-bit halves (no BigInt on the hot path). */
function isWord(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a <= 0xffffffff;
}
function setWord(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value, true);
  view.setUint32(offset + 4, 0, true);
}

/** Finished ids taken per lanes_drain call. */
const DRAIN_BATCH = 256;

/** Native memory a call writes its arguments into (strings, out-parameters), freed when it returns. */
export class NativeBlock {
  readonly #koffi: Koffi;
  readonly address: bigint;
  readonly view: DataView;
  #next = 0;
  readonly #pointer: unknown;
  constructor(k: Koffi, size: number) {
    this.#koffi = k;
    const pointer = k.alloc('uint8_t', Math.max(size, 8)) as unknown;
    this.address = k.address(pointer);
    this.view = new DataView(k.view(pointer, Math.max(size, 8)));
    this.#pointer = pointer;
  }
  /** Reserves `bytes` (8-aligned) and returns their address. */
  take(bytes: number): bigint {
    const at = this.#next;
    this.#next += Math.ceil(bytes / 8) * 8;
    if (this.#next > this.view.byteLength) throw new RangeError('NativeBlock overflow');
    return this.address + BigInt(at);
  }
  offset(address: bigint): number {
    return Number(address - this.address);
  }
  /** A NUL-terminated UTF-16 copy of `text`. */
  string16(text: string): bigint {
    const at = this.take((text.length + 1) * 2);
    const o = this.offset(at);
    for (let i = 0; i < text.length; i++) this.view.setUint16(o + i * 2, text.charCodeAt(i), true);
    this.view.setUint16(o + text.length * 2, 0, true);
    return at;
  }
  free(): void {
    this.#koffi.free(this.#pointer);
  }
  /** Forgets what was taken: the block serves the next call (a lane's own scratch block). */
  reset(): void {
    this.#next = 0;
  }
  /** Bytes needed for the NUL-terminated UTF-16 copies of `texts`, 8-aligned each. */
  static bytesFor(...texts: string[]): number {
    return texts.reduce((n, t) => n + Math.ceil(((t.length + 1) * 2) / 8) * 8, 0);
  }
}

export interface LaneCall<T> {
  /** The function's address (see Lanes.symbol). */
  readonly fn: bigint;
  /** Bytes of native memory the arguments need (strings, out-parameters). */
  readonly bytes: number;
  /** Writes what the arguments point at into `block`; returns the arguments, pointer-sized each. */
  readonly prepare: (block: NativeBlock) => ReadonlyArray<bigint | number>;
  /**
   * Runs on the JS thread when the call returns: decodes the outputs and frees what the call
   * allocated (WTS buffers). Runs even when the caller abandoned the call; its value is then dropped.
   */
  readonly finish: (result: bigint, lastError: number, block: NativeBlock) => T;
  /** A long wait (runs on the wait lanes, never counted as stuck). */
  readonly long?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** The server the call is about, for ThreadsExhaustedError. */
  readonly server?: string | undefined;
  /**
   * Runs once when the call is over: it returned (after `finish`, abandoned or not), or it was
   * never made (refused, abandoned while queued, its arguments did not convert). What it throws is
   * ignored. After an abandonment, that is when what the call uses (a handle) may be released.
   */
  readonly onReturn?: (() => void) | undefined;
  /** Runs once, in a microtask, when the call is queued for want of a free lane (CallOptions.onQueued). */
  readonly onQueued?: ((notMade: () => boolean) => void) | undefined;
}

/** Calls whose onReturn has been scheduled: it runs once, whatever path reports the call over. */
const over = new WeakSet<LaneCall<unknown>>();

/**
 * Runs a call's onReturn once, in a microtask: never inside the lanes' own bookkeeping, which an
 * onReturn that makes or refuses calls (a deferred WTSCloseServer) would re-enter. What it throws
 * is ignored (the call's own outcome stands).
 */
function returned(call: LaneCall<unknown>): void {
  const onReturn = call.onReturn;
  if (!onReturn || over.has(call)) return;
  over.add(call);
  queueMicrotask(() => callOnReturn(onReturn));
}

interface Pending {
  readonly call: LaneCall<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  startedAt: number;
  abandoned: boolean;
  settled: boolean;
  block: NativeBlock | undefined;
  /** The block is the call's own (freed when it returns), not its lane's scratch block. */
  ownsBlock: boolean;
  detach: (() => void) | undefined;
}

interface Lane {
  readonly id: number;
  readonly pointer: bigint;
  /** The LaneJob this lane runs, in native memory (koffi.alloc), and a view of it. */
  readonly jobPointer: unknown;
  readonly jobAddress: bigint;
  readonly job: DataView;
  /** Native memory for the arguments of the lane's current call, when they fit. */
  readonly scratch: NativeBlock;
  readonly long: boolean;
  running: Pending | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

/** What a koffi backend's threads hold now (`api.threads.now`, see {@link KoffiApi.threads}). */
export interface LaneStats {
  /** Threads alive for ordinary calls. */
  readonly threads: number;
  /** Threads alive for long waits. */
  readonly waitThreads: number;
  /** Calls running now. */
  readonly running: number;
  /** Of those, ordinary calls that are stuck: running past `stuckAfterMs`, or abandoned. */
  readonly stuck: number;
  /** Of those, calls whose caller abandoned them (its signal fired). */
  readonly abandoned: number;
  /** Calls waiting for a thread. */
  readonly queued: number;
}

export class Lanes {
  readonly #k: Koffi;
  readonly #lib: KoffiModule.LibraryHandle;
  readonly #start: (done: unknown) => bigint | null;
  readonly #post: (lane: bigint, job: bigint) => number;
  readonly #stop: (lane: bigint) => void;
  readonly #symbol: (library: string, name: string) => bigint | number;
  readonly #group: bigint;
  readonly #drain: (group: bigint, ids: unknown, capacity: number) => number;
  /** Where lanes_drain writes finished ids (never freed: the group lives as long as the process). */
  readonly #idsPointer: unknown;
  readonly #ids: Uint32Array;
  /** One abort listener per signal, whatever the number of calls sharing it. */
  readonly #bySignal = new Map<AbortSignal, Set<Pending>>();
  readonly #options: Required<LaneOptions>;
  readonly #lanes = new Map<number, Lane>();
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #keepAlive: NodeJS.Timeout | undefined;
  #stuckTimer: NodeJS.Timeout | undefined;

  constructor(k: Koffi, libraryPath: string, options: LaneOptions = {}) {
    this.#k = k;
    this.#options = {
      maxThreads: options.maxThreads ?? LANE_DEFAULTS.maxThreads,
      maxWaitThreads: options.maxWaitThreads ?? LANE_DEFAULTS.maxWaitThreads,
      stuckAfterMs: options.stuckAfterMs ?? LANE_DEFAULTS.stuckAfterMs,
      idleMs: options.idleMs ?? LANE_DEFAULTS.idleMs,
    };
    try {
      this.#lib = k.load(libraryPath);
    } catch (error) {
      throw new UnsupportedPlatformError(process.platform, `Could not load ${libraryPath}: ${(error as Error).message}`, { cause: error });
    }
    // Anonymous, and declared once: koffi's type names are process-wide.
    doneType ??= k.proto('void', ['uint32_t']);
    const DoneFn = doneType;
    this.#start = this.#lib.func('void *lanes_start(void *group)') as never;
    this.#post = this.#lib.func('int lanes_post(void *lane, void *job)') as never;
    this.#stop = this.#lib.func('void lanes_stop(void *lane)') as never;
    this.#symbol = this.#lib.func('uint64_t lanes_symbol(const char *library, const char *name)') as never;
    const jobSize = (this.#lib.func('uint32_t lanes_job_size(void)') as () => number)();
    if (jobSize !== JOB.size) throw new UnsupportedPlatformError(process.platform, `${libraryPath} has a LaneJob of ${jobSize} bytes, expected ${JOB.size}`);
    // One registered callback for the group: its relay thread calls it whenever lanes have
    // finished, and koffi relays that to this (the registering) JS thread, which takes every
    // finished id at once (lanes_drain) and runs each call's `finish`.
    this.#drain = this.#lib.func('int32_t lanes_drain(void *group, void *ids, int32_t capacity)') as never;
    this.#idsPointer = k.alloc('uint32_t', DRAIN_BATCH) as unknown;
    this.#ids = new Uint32Array(k.view(this.#idsPointer, DRAIN_BATCH * 4));
    const done = k.register(() => this.#drained(), k.pointer(DoneFn));
    // Hand-backs in flight, process-wide: below koffi's max_async_calls (a relay that finds no slot
    // crashes), and at most RELAY_CAP, since koffi gives each relay beyond its 8 resident ones
    // 256 KiB of its own for the time it waits (64 of them: 16 MB at worst, returned after). Fewer
    // (the resident 8) measured no better: the lanes then wait for each other (bench, concurrency 64).
    const config = k.config();
    const relayLimit = Math.min(RELAY_CAP, (config.max_async_calls ?? 256) - ASYNC_HEADROOM);
    (this.#lib.func('void lanes_relay_limit(int32_t limit)') as (n: number) => void)(Math.max(1, relayLimit));
    const group = (this.#lib.func('void *lanes_group(void *done)') as (d: unknown) => bigint | null)(done);
    if (!group) throw new UnsupportedPlatformError(process.platform, 'wts_lanes could not make its thread group.');
    this.#group = group;
    closeAtExit(group, this.#lib.func('void lanes_group_close(void *group)') as (g: bigint) => void);
  }

  /** The address of `name` in `library` (already loaded by koffi: the same module), or 0n. */
  symbol(library: string, name: string): bigint {
    return BigInt(this.#symbol(library, name));
  }

  get options(): Readonly<Required<LaneOptions>> {
    return this.#options;
  }

  stats(): LaneStats {
    let threads = 0;
    let waitThreads = 0;
    let running = 0;
    let stuck = 0;
    let abandoned = 0;
    const now = Date.now();
    for (const lane of this.#lanes.values()) {
      if (lane.long) waitThreads++;
      else threads++;
      const p = lane.running;
      if (!p) continue;
      running++;
      if (p.abandoned) abandoned++;
      if (!lane.long && this.#isStuck(p, now)) stuck++;
    }
    return { threads, waitThreads, running, stuck, abandoned, queued: this.#queue.length };
  }

  /** Runs `call` on a lane. Rejects at once (no call made) when its signal has fired. */
  run<T>(call: LaneCall<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = call.signal;
      if (signal?.aborted) {
        reject(new OperationAbortedError('The call', signal.reason, call.server === undefined ? {} : { server: call.server }));
        returned(call as LaneCall<unknown>);
        return;
      }
      const pending: Pending = {
        call: call as LaneCall<unknown>,
        resolve: resolve as (value: unknown) => void,
        reject,
        startedAt: 0,
        abandoned: false,
        settled: false,
        block: undefined,
        ownsBlock: false,
        detach: undefined,
      };
      if (signal) {
        let calls = this.#bySignal.get(signal);
        if (!calls) {
          const set = new Set<Pending>();
          calls = set;
          this.#bySignal.set(signal, set);
          const onAbort = () => {
            this.#bySignal.delete(signal);
            for (const p of [...set]) this.#abandon(p);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          (set as Set<Pending> & { off?: () => void }).off = () => signal.removeEventListener('abort', onAbort);
        }
        const set = calls as Set<Pending> & { off?: () => void };
        set.add(pending);
        pending.detach = () => {
          set.delete(pending);
          if (set.size === 0 && this.#bySignal.get(signal) === set) {
            this.#bySignal.delete(signal);
            set.off?.();
          }
        };
      }
      this.#dispatch(pending);
      this.#updateKeepAlive();
    });
  }

  // ---- internals --------------------------------------------------------------------------------

  #isStuck(p: Pending, now: number): boolean {
    return p.abandoned || now - p.startedAt >= this.#options.stuckAfterMs;
  }

  #count(long: boolean): number {
    let n = 0;
    for (const lane of this.#lanes.values()) if (lane.long === long) n++;
    return n;
  }

  #dispatch(pending: Pending): void {
    const long = pending.call.long === true;
    for (const lane of this.#lanes.values()) {
      if (lane.long === long && !lane.running) {
        this.#runOn(lane, pending);
        return;
      }
    }
    const max = long ? this.#options.maxWaitThreads : this.#options.maxThreads;
    if (this.#count(long) < max) {
      const lane = this.#startLane(long);
      if (lane) {
        this.#runOn(lane, pending);
        return;
      }
      if (this.#count(long) === 0) {
        this.#settle(pending, undefined, new UnsupportedPlatformError(process.platform, 'wts-session could not start a thread for a blocking call.'));
        returned(pending.call);
        return;
      }
    }
    this.#queue.push(pending);
    const onQueued = pending.call.onQueued;
    // Not made while it has never been posted to a lane (startedAt is set right before the post).
    if (onQueued) queueMicrotask(() => callOnReturn(() => onQueued(() => pending.startedAt === 0)));
    this.#checkExhausted();
  }

  #startLane(long: boolean): Lane | undefined {
    const pointer = this.#start(this.#group);
    if (!pointer) return undefined;
    const jobPointer = this.#k.alloc('uint8_t', JOB.size) as unknown;
    const lane: Lane = {
      id: this.#nextId++,
      pointer: BigInt(pointer),
      jobPointer,
      jobAddress: this.#k.address(jobPointer),
      job: new DataView(this.#k.view(jobPointer, JOB.size)),
      scratch: new NativeBlock(this.#k, SCRATCH_BYTES),
      long,
      running: undefined,
      idleTimer: undefined,
    };
    this.#lanes.set(lane.id, lane);
    return lane;
  }

  #runOn(lane: Lane, pending: Pending): void {
    if (lane.idleTimer) {
      clearTimeout(lane.idleTimer);
      lane.idleTimer = undefined;
    }
    const call = pending.call;
    let block: NativeBlock | undefined;
    const job = lane.job;
    try {
      if (call.bytes <= SCRATCH_BYTES) {
        block = lane.scratch;
        block.reset();
        pending.ownsBlock = false;
      } else {
        block = new NativeBlock(this.#k, call.bytes);
        pending.ownsBlock = true;
      }
      pending.block = block;
      const args = call.prepare(block);
      if (args.length > MAX_ARGS) throw new RangeError(`at most ${MAX_ARGS} arguments`);
      // Checked before the lane's job is touched: BigInt() throws on a non-integer (a malformed
      // handle), so a call whose arguments do not convert is never posted.
      for (const a of args) if (typeof a !== 'bigint' && !isWord(a)) BigInt(a);
      job.setBigUint64(JOB.fn, call.fn, true);
      job.setBigUint64(JOB.lastErrorFn, this.#lastErrorFn, true);
      setWord(job, JOB.argc, args.length);
      setWord(job, JOB.id, lane.id);
      for (let i = 0; i < MAX_ARGS; i++) {
        const a = i < args.length ? (args[i] as bigint | number) : 0;
        if (typeof a === 'number' && isWord(a)) setWord(job, JOB.args + i * 8, a);
        else job.setBigUint64(JOB.args + i * 8, BigInt.asUintN(64, typeof a === 'bigint' ? a : BigInt(a)), true);
      }
    } catch (error) {
      if (pending.ownsBlock) block?.free();
      pending.block = undefined;
      this.#settle(pending, undefined, error);
      returned(call);
      // This lane is free: the next queued call of its kind, else idle.
      const next = this.#takeQueued(lane.long);
      if (next) this.#runOn(lane, next);
      else this.#idle(lane);
      this.#updateKeepAlive();
      return;
    }
    setWord(job, JOB.result, 0);
    setWord(job, JOB.lastError, 0);
    pending.startedAt = Date.now();
    lane.running = pending;
    if (!this.#post(lane.pointer, lane.jobAddress)) {
      lane.running = undefined;
      if (pending.ownsBlock) block.free();
      pending.block = undefined;
      this.#settle(pending, undefined, new UnsupportedPlatformError(process.platform, 'A wts-session thread refused work.'));
      returned(call);
      this.#retire(lane);
      return;
    }
    if (this.#queue.length > 0) this.#checkExhausted();
  }

  /** GetLastError's address, for the lanes to read right after each call. */
  #lastErrorFn = 0n;
  setLastErrorFunction(address: bigint): void {
    this.#lastErrorFn = address;
  }

  /** The relay thread's done(): every call finished since the last one. */
  #drained(): void {
    for (;;) {
      const n = this.#drain(this.#group, this.#idsPointer, DRAIN_BATCH);
      for (let i = 0; i < n; i++) this.#finished(this.#ids[i] as number);
      if (n < DRAIN_BATCH) break;
    }
    this.#updateKeepAlive();
  }

  #finished(id: number): void {
    const lane = this.#lanes.get(id);
    const pending = lane?.running;
    if (!lane || !pending) return;
    lane.running = undefined;
    const result = lane.job.getBigUint64(JOB.result, true);
    const lastError = lane.job.getUint32(JOB.lastError, true);
    const block = pending.block as NativeBlock;
    let value: unknown;
    let error: unknown;
    let failed = false;
    try {
      value = pending.call.finish(result, lastError, block);
    } catch (e) {
      failed = true;
      error = e;
    } finally {
      if (pending.ownsBlock) block.free();
      pending.block = undefined;
    }
    this.#settle(pending, value, failed ? error : undefined, failed);
    returned(pending.call);
    // Next queued call for this kind of lane, else idle.
    const next = this.#takeQueued(lane.long);
    if (next) this.#runOn(lane, next);
    else this.#idle(lane);
  }

  #takeQueued(long: boolean): Pending | undefined {
    const i = this.#queue.findIndex((p) => (p.call.long === true) === long);
    if (i < 0) return undefined;
    return this.#queue.splice(i, 1)[0];
  }

  #idle(lane: Lane): void {
    lane.idleTimer = setTimeout(() => this.#retire(lane), Math.min(MAX_TIMER_MS, this.#options.idleMs));
    lane.idleTimer.unref();
  }

  #retire(lane: Lane): void {
    if (lane.running) return;
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    this.#lanes.delete(lane.id);
    this.#stop(lane.pointer);
    // The thread no longer reads its LaneJob: it read job->id before calling done, and an idle
    // lane told to stop only exits.
    this.#k.free(lane.jobPointer);
    lane.scratch.free();
  }

  #settle(pending: Pending, value: unknown, error: unknown, failed = error !== undefined): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.detach?.();
    if (pending.abandoned) return; // its caller has had its AbortError
    if (failed) pending.reject(error);
    else pending.resolve(value);
  }

  #abandon(pending: Pending): void {
    if (pending.settled || pending.abandoned) return;
    const queued = this.#queue.indexOf(pending);
    const reason = pending.call.signal?.reason;
    const server = pending.call.server;
    pending.reject(new OperationAbortedError('The call', reason, server === undefined ? {} : { server }));
    if (queued >= 0) {
      // Never started: no call made, nothing to free.
      this.#queue.splice(queued, 1);
      pending.settled = true;
      pending.detach?.();
      returned(pending.call);
    } else {
      pending.abandoned = true; // its lane stays held until the call returns; finish still runs
    }
    this.#checkExhausted();
    this.#updateKeepAlive();
  }

  /**
   * When every ordinary lane is held by a stuck call, refuses the queued ordinary calls; otherwise
   * re-checks when the next running call would become stuck.
   */
  #checkExhausted(): void {
    if (this.#stuckTimer) {
      clearTimeout(this.#stuckTimer);
      this.#stuckTimer = undefined;
    }
    if (!this.#queue.some((p) => p.call.long !== true)) return;
    const now = Date.now();
    const lanes = [...this.#lanes.values()].filter((l) => !l.long);
    if (lanes.length < this.#options.maxThreads) return; // a lane can still start: #dispatch does
    let nextStuck = Infinity;
    let abandoned = 0;
    for (const lane of lanes) {
      const p = lane.running;
      if (!p) return; // a free lane: the queue drains
      if (p.abandoned) abandoned++;
      if (!this.#isStuck(p, now)) nextStuck = Math.min(nextStuck, p.startedAt + this.#options.stuckAfterMs);
    }
    if (nextStuck === Infinity) {
      for (const p of this.#queue.filter((q) => q.call.long !== true)) {
        const at = this.#queue.indexOf(p);
        if (at < 0) continue; // settled meanwhile
        this.#queue.splice(at, 1);
        this.#settle(p, undefined, new ThreadsExhaustedError(this.#options.maxThreads, abandoned, this.#options.stuckAfterMs, p.call.server));
        returned(p.call);
      }
      this.#updateKeepAlive();
      return;
    }
    this.#stuckTimer = setTimeout(() => this.#checkExhausted(), Math.min(MAX_TIMER_MS, Math.max(1, nextStuck - now)));
    this.#stuckTimer.unref();
  }

  /** Keeps the event loop alive while a call someone awaits is queued or running. */
  #updateKeepAlive(): void {
    let awaited = this.#queue.length > 0;
    if (!awaited) {
      for (const lane of this.#lanes.values()) {
        if (lane.running && !lane.running.abandoned) {
          awaited = true;
          break;
        }
      }
    }
    if (awaited && !this.#keepAlive) this.#keepAlive = setInterval(() => undefined, 2 ** 30);
    else if (!awaited && this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }
}
