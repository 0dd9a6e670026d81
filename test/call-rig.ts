/**
 * A call rig for attack tests: the mock behind a proxy that logs every backend call as it is made
 * (before any delay it adds), and whether `cut()` (the test's abort, the end of a watch) had been
 * called by then, so a test can list the requests started after it.
 */
import { createWts } from '../src/index';
import { createMockApi, type MockApi } from '../src/mock';
import { exampleFarm, sleep } from './helpers';

export const SYNC = new Set(['getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'getLocalServerNames']);
/** Calls that start no request on a server (giving back a handle, flushing a wait). */
export const NOT_REQUESTS = new Set(['closeServer', 'flushSystemEvents']);

export interface Logged { api: string; args: unknown[]; afterCut: boolean; t: number }

/**
 * The mock behind a proxy that logs every backend call as it is made (before any delay), whether
 * `cut()` had been called by then, and delays calls by `delay(api, args, n)` ms.
 */
export function rig(delay: (api: string, args: unknown[], n: number) => number | Promise<void> = () => 0, mock: MockApi = createMockApi(exampleFarm())) {
  const log: Logged[] = [];
  let cutAt: number | undefined;
  let n = 0;
  const t0 = Date.now();
  const api = new Proxy(mock, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const call = (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      if (SYNC.has(String(key))) return call;
      return async (...args: unknown[]) => {
        log.push({ api: String(key), args, afterCut: cutAt !== undefined, t: Date.now() - t0 });
        const d = delay(String(key), args, n++);
        if (typeof d === 'number') { if (d > 0) await sleep(d); }
        else await d;
        return call(...args);
      };
    },
  });
  return {
    mock,
    api,
    wts: createWts({ api }),
    log,
    cut: () => { cutAt ??= Date.now() - t0; },
    /** Requests started after cut() (closes and flushes excluded). */
    afterCut: () => log.filter((c) => c.afterCut && !NOT_REQUESTS.has(c.api)).map((c) => `${c.api}(${c.args.filter((a) => typeof a !== 'object' || a === null).map(String).join(',')})`),
  };
}
