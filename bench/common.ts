/** Helpers for the benchmarks: timing, medians, the double. */
import { doublePath, NativeDouble } from '../test/native/double';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function timeIt(iterations: number, fn: () => Promise<unknown> | unknown, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

export function theDouble(): NativeDouble {
  const found = doublePath();
  if ('missing' in found) throw new Error(`bench: ${found.missing}`);
  return new NativeDouble(found.path);
}

/** A result row of the performance table. */
export interface Row {
  readonly benchmark: string;
  readonly measured: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: boolean;
  /** Not measured (what it needs is missing): shown as skipped, never as met. */
  readonly skipped?: boolean;
}

/** min / median / max of repeated measurements. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly all: readonly number[];
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('bench: no measurements');
  return { min: Math.min(...values), median: median(values), max: Math.max(...values), all: [...values] };
}

/** "a / b / c unit" (min / median / max), each value formatted by `f`. */
export function fmtSpread(s: Spread, f: (v: number) => string): string {
  return `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;
}

/** Milliseconds as "123 ms" or "4.56 s". */
export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** Wall time of `fn` in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/**
 * The double's APIs that sleep their injected latency (native/src/wtsapi32_double.c: `enter` and
 * WTSOpenServerW); WTSCloseServer and WTSFreeMemory[Ex]W count but never sleep.
 */
export const LATENT_APIS = ['open', 'enumerate', 'query', 'logoff', 'disconnect', 'message', 'processes'] as const;

/** Calls to the APIs that sleep, by API and in total, since the double's last reset (loadFarm). */
export function latentCalls(double: NativeDouble): { total: number; byApi: Record<string, number> } {
  const byApi: Record<string, number> = {};
  let total = 0;
  for (const api of LATENT_APIS) {
    byApi[api] = double.calls(api);
    total += byApi[api] as number;
  }
  return { total, byApi };
}

/** The child scripts print one JSON line last: the result. */
export function emit(result: unknown): void {
  console.log(JSON.stringify(result));
}
