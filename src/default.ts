/**
 * The top-level functions (`logoff`, `listSessions`, ...) run on a default Wts: the auto-detected
 * backend, created on first use. In simulated mode the farm file is read afresh on every call,
 * so a long-lived process sees what other processes (the CLI) did to it.
 */
import { simulatedFarmPath } from './backends/detect';
import { createWts } from './create';
import type {
  FindSessionOptions,
  ListSessionsOptions,
  LoggedOff,
  ServerLogoffAllOptions,
  ServerLogoffOptions,
  Wts,
  WtsServer,
} from './api/wts';
import type { LogoffOutcome, Session } from './api/types';
import type { SessionTarget } from './api/validate';

let shared: Wts | undefined;

function defaultWts(): Wts {
  if (simulatedFarmPath() !== undefined) return createWts();
  shared ??= createWts();
  return shared;
}

/** {@link Wts.listSessions} on the default backend. */
export async function listSessions(options?: ListSessionsOptions): Promise<readonly Session[]> {
  return defaultWts().listSessions(options);
}

/** {@link Wts.findSession} on the default backend. */
export async function findSession(target?: SessionTarget, options?: FindSessionOptions): Promise<Session> {
  return defaultWts().findSession(target, options);
}

/** {@link Wts.logoff} on the default backend. */
export async function logoff(target?: SessionTarget, options?: ServerLogoffOptions): Promise<LoggedOff> {
  return defaultWts().logoff(target, options);
}

/** {@link Wts.logoffAll} on the default backend. */
export async function logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[]> {
  return defaultWts().logoffAll(options);
}

/** {@link Wts.openServer} on the default backend. Throws at once if there is no backend. */
export function openServer(name: string): WtsServer {
  return defaultWts().openServer(name);
}
