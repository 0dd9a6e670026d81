import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWts, type SessionEvent, type Wts, type WtsApi } from '../src/index';
import { createMockApi, type Farm, type MockApi, type MockApiOptions } from '../src/mock';

/** The repository (the benchmarks, bundled elsewhere, say where it is). */
export const ROOT = process.env['WTS_SESSION_ROOT'] ?? join(__dirname, '..');

/** The farm that ships in examples/ (the README's and the demo's). */
export function exampleFarm(): Farm {
  return JSON.parse(readFileSync(join(ROOT, 'examples', 'farm.json'), 'utf8')) as Farm;
}

export function setup(farm: Farm = exampleFarm(), options: MockApiOptions = {}): { mock: MockApi; wts: Wts } {
  const mock = createMockApi(farm, options);
  return { mock, wts: createWts({ api: mock }) };
}

const WTS_CALLS = new Set(['open', 'close', 'enumerate', 'query', 'logoff', 'disconnect', 'message']);

/** The wtsapi32 calls the mock saw (kernel32 look-ups such as the console ID are left out). */
export function wtsCalls(mock: MockApi): string[] {
  return mock.calls.filter((c) => WTS_CALLS.has(c.api)).map((c) => `${c.api}:${c.server}${c.sessionId === undefined ? '' : `:${c.sessionId}`}`);
}

export function logoffCalls(mock: MockApi): number[] {
  return mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId as number);
}

/** Awaits a promise that must reject, and returns the error (a test that can fail). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/**
 * A backend as `api`, with some of its methods replaced (undefined: the backend lacks that
 * optional method); every other method is the original, bound to it (backends keep private fields).
 */
export function overriding<A extends WtsApi>(api: A, overrides: { readonly [K in keyof WtsApi]?: WtsApi[K] | undefined }): A {
  return new Proxy(api, {
    get: (target, key) => {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * `api` with its sendMessage counting the messages that have returned, not only been made: a test
 * that acts during a warning's grace period waits until `answered()` reaches the warnings sent (a
 * warning still in flight at that moment is reported `requested` instead: a race).
 */
export function countingAnswers<A extends WtsApi>(api: A): { api: A; answered: () => number } {
  let answered = 0;
  const counted = overriding(api, {
    sendMessage: async (...args) => {
      const r = await api.sendMessage(...args);
      answered++;
      return r;
    },
  });
  return { api: counted, answered: () => answered };
}

/** The next event of a watch, or fails the test after `ms` (a safety net, not a wait). */
export async function nextEvent(it: AsyncIterator<SessionEvent>, ms = 5000): Promise<SessionEvent> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    it.next(),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
  if (r.done) throw new Error('the watch ended');
  return r.value;
}

/** Resolves when `cond` holds, checked after each turn of the event loop; fails the test after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A farm written to farm.json in a fresh temp folder (`space` as JSON.stringify takes it); its path. */
export function farmFile(farm: Farm = exampleFarm(), space?: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-farm-')), 'farm.json');
  writeFileSync(path, JSON.stringify(farm, null, space));
  return path;
}

/** A small farm for the multi-process merge tests: TS01 with the console and bob's session 5. */
export function bobFarm(): Farm {
  return {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        sessions: [
          { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
          { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-12-01T08:00:00Z' },
        ],
      },
    ],
  };
}

/** What `p` resolves to, or 'timeout' when it has not within `ms`. */
export const within = async <T,>(p: Promise<T>, ms: number): Promise<T | 'timeout'> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  } finally {
    clearTimeout(timer); // a long `ms` would otherwise keep jest from exiting after the run
  }
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
