/**
 * Chooses the backend when the caller gives none. The only place that looks at the platform
 * and the environment.
 */
import { UnsupportedPlatformError } from '../errors';
import type { WtsApi } from '../wtsapi';
import { createKoffiApi } from './koffi/koffi-api';
import { openSimulatedFarm, SIMULATE_ENV } from './mock/file';

export interface DetectEnvironment {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platform?: string;
}

/** The farm file simulated mode uses, or undefined when simulated mode is off. */
export function simulatedFarmPath(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const path = env[SIMULATE_ENV];
  return path === undefined || path === '' ? undefined : path;
}

/**
 * Simulated mode when WTS_SESSION_SIMULATE names a farm file; the koffi binding on Windows;
 * otherwise an UnsupportedPlatformError that says how to simulate.
 */
export function detectBackend(environment: DetectEnvironment = {}): WtsApi {
  const env = environment.env ?? process.env;
  const platform = environment.platform ?? process.platform;
  const farm = simulatedFarmPath(env);
  if (farm !== undefined) return openSimulatedFarm(farm);
  if (platform === 'win32') return createKoffiApi();
  throw new UnsupportedPlatformError(
    platform,
    `Remote Desktop sessions exist only on Windows, and this is ${platform}. To run anyway on a simulated ` +
      `farm, set ${SIMULATE_ENV}=path/to/farm.json (the CLI also takes --simulate farm.json), or pass a ` +
      "backend: createWts({ api: createMockApi(farm) }) with createMockApi from 'wts-session/mock'.",
  );
}
