/**
 * Composition: the API (src/api) over a backend chosen here. The api layer itself never picks a
 * backend.
 */
import { detectBackend } from './backends/detect';
import { checkApi, Wts } from './api/wts';
import { checkKnownKeys, checkOptionsObject } from './api/validate';
import type { WtsApi } from './wtsapi';

/** The options of {@link createWts}. */
export interface CreateWtsOptions {
  /**
   * The backend: `createMockApi(farm)`, `createKoffiApi(options)`, or any object implementing
   * {@link WtsApi}.
   * @defaultValue auto-detected when createWts is called: simulated mode (`openSimulatedFarm`)
   * when `WTS_SESSION_SIMULATE` names a farm file, else the koffi binding to wtsapi32.dll
   * (`createKoffiApi()`) on Windows, else an UnsupportedPlatformError
   */
  api?: WtsApi;
}

/**
 * The API over a backend — the one given, or the auto-detected one: the same functions as the
 * top-level ones (which use a default backend), as the methods of a {@link Wts}.
 *
 * @param options - `api`: the backend.
 * @returns the API over that backend.
 * @throws {@link InvalidArgumentError} when `options` is not an object, has an unknown key, or
 *   `api` lacks a WtsApi method (the message lists them).
 * @throws {@link UnsupportedPlatformError} without `api` when no backend is found: not Windows and
 *   not simulated (the message says how to simulate), or Koffi cannot be loaded.
 * @throws {@link InvalidArgumentError} in simulated mode when the farm file cannot be read or is
 *   not a valid farm.
 *
 * @example
 * ```ts
 * import { createWts } from 'wts-session';
 * import { createMockApi } from 'wts-session/mock';
 *
 * const wts = createWts({
 *   api: createMockApi({ localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 2, state: 'Active', user: 'alice' }] }] }),
 * });
 * console.log(await wts.listSessions()); // [{ id: 2, userName: 'alice', ... }]
 * ```
 */
export function createWts(options: CreateWtsOptions = {}): Wts {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, ['api']);
  return new Wts(o['api'] === undefined ? detectBackend() : checkApi(o['api']));
}
