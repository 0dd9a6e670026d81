/**
 * The top-level functions (`logoff`, `listSessions`, ...) run on a default Wts: the auto-detected
 * backend, created on first use. In simulated mode the farm file is read afresh on every call,
 * so a long-lived process sees what other processes (the CLI) did to it.
 */
import { simulatedFarmPath } from './backends/detect';
import { createWts } from './create';
import type { Wts, WtsServer } from './api/wts';
import type { SessionWatch, WatchOptions } from './api/watch';
import type { DetailedSession, DetailGroup } from './api/details';
import type { Session } from './api/types';

let shared: Wts | undefined;

function defaultWts(): Wts {
  if (simulatedFarmPath() !== undefined) return createWts();
  shared ??= createWts();
  return shared;
}

type Method = 'listSessions' | 'findSession' | 'listProcesses' | 'logoff' | 'logoffAll' | 'disconnect' | 'disconnectAll' | 'sendMessage' | 'sendMessageAll';

/** A method of the default Wts as a function, overloads kept; it rejects (never throws) on error. */
function onDefault<M extends Method>(method: M): Wts[M] {
  const fn = async (...args: unknown[]) => (defaultWts()[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  return fn as unknown as Wts[M];
}

/** {@link Wts.listSessions} on the default backend. */
export const listSessions = onDefault('listSessions');
/** {@link Wts.findSession} on the default backend. */
export const findSession = onDefault('findSession');
/** {@link Wts.listProcesses} on the default backend. */
export const listProcesses = onDefault('listProcesses');
/** {@link Wts.logoff} on the default backend. */
export const logoff = onDefault('logoff');
/** {@link Wts.logoffAll} on the default backend. */
export const logoffAll = onDefault('logoffAll');
/** {@link Wts.disconnect} on the default backend. */
export const disconnect = onDefault('disconnect');
/** {@link Wts.disconnectAll} on the default backend. */
export const disconnectAll = onDefault('disconnectAll');
/** {@link Wts.sendMessage} on the default backend. */
export const sendMessage = onDefault('sendMessage');
/** {@link Wts.sendMessageAll} on the default backend. */
export const sendMessageAll = onDefault('sendMessageAll');

/** {@link Wts.openServer} on the default backend. Throws at once if there is no backend. */
export function openServer(name: string): WtsServer {
  return defaultWts().openServer(name);
}

/**
 * {@link Wts.watchSessions} on the default backend. Not async: it returns the AsyncIterable at once
 * and throws at once for a bad option, or when there is no backend (UnsupportedPlatformError).
 */
export function watchSessions(options: WatchOptions & { details: true | readonly DetailGroup[] }): SessionWatch<DetailedSession>;
export function watchSessions(options?: WatchOptions): SessionWatch<Session>;
export function watchSessions(options?: WatchOptions): SessionWatch<Session> | SessionWatch<DetailedSession> {
  // In simulated mode the backend re-reads the farm file when another process changed it.
  return defaultWts().watchSessions(options);
}
