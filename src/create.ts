/**
 * Composition: the API (src/api) over a backend chosen here. The api layer itself never picks a
 * backend.
 */
import { detectBackend } from './backends/detect';
import { checkApi, Wts } from './api/wts';
import { checkKnownKeys, checkOptionsObject } from './api/validate';
import type { WtsApi } from './wtsapi';

export interface CreateWtsOptions {
  /**
   * The backend. Default: auto-detected — simulated mode when WTS_SESSION_SIMULATE names a farm
   * file, the koffi binding to wtsapi32.dll on Windows, else an UnsupportedPlatformError.
   */
  api?: WtsApi;
}

/** The API over a backend: the one given, or the auto-detected one. */
export function createWts(options: CreateWtsOptions = {}): Wts {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, ['api']);
  return new Wts(o['api'] === undefined ? detectBackend() : checkApi(o['api']));
}
