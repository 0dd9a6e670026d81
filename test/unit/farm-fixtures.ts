/**
 * Farms for the tests of calls over many servers (farm-schedule, farm-attack, farm-attack2): a
 * local admin server, servers of N users beside services and a listener, and a mock whose calls
 * can be told apart by server.
 */
import type { Farm, FarmServer, MockApi } from '../../src/mock';
import type { ServerHandle, WtsApi } from '../../src/wtsapi';
import { overriding } from '../helpers';

/** The local server: the console, which is the caller's own session. */
export const ADMIN: FarmServer = { name: 'ADMIN', consoleSessionId: 1, currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] };

/** Services (0), `count` active users (IDs 2...), and the listener (65536). */
export function users(server: number, count: number): NonNullable<FarmServer['sessions']> {
  return [
    { id: 0, name: 'Services', state: 'Disconnected' },
    ...Array.from({ length: count }, (_, i) => ({ id: 2 + i, name: `RDP-Tcp#${i}`, state: 'Active' as const, user: `u${server}x${i}`, domain: 'CORP' })),
    { id: 65536, name: 'RDP-Tcp', state: 'Listen' as const },
  ];
}

export function farmOf(servers: readonly FarmServer[], admin: FarmServer = ADMIN): Farm {
  return { localServer: 'ADMIN', servers: [admin, ...servers] };
}

export const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The mock with some methods replaced; `name(handle)` is the server a handle was opened on. */
export function named(mock: MockApi, overrides: (name: (h: ServerHandle) => string) => Parameters<typeof overriding>[1]): WtsApi {
  const names = new Map<ServerHandle, string>();
  const name = (h: ServerHandle) => names.get(h) ?? '?';
  const o = overrides(name);
  return overriding(mock, {
    openServer: async (n) => {
      const h = await mock.openServer(n);
      names.set(h, n.toUpperCase());
      return h;
    },
    ...o,
  });
}

/** Counts calls in flight per server: `track(server, call)` wraps a call; `peak()` the most on one server at once. */
export function perServerInFlight(): { track: <T>(server: string, call: () => Promise<T>) => Promise<T>; peak: () => number } {
  const inFlight = new Map<string, number>();
  let peak = 0;
  const track = async <T>(server: string, call: () => Promise<T>): Promise<T> => {
    inFlight.set(server, (inFlight.get(server) ?? 0) + 1);
    peak = Math.max(peak, inFlight.get(server) ?? 0);
    try {
      return await call();
    } finally {
      inFlight.set(server, (inFlight.get(server) ?? 1) - 1);
    }
  };
  return { track, peak: () => peak };
}
