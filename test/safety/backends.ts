/**
 * The two backends the safety suite runs on: the in-memory mock, and the koffi backend over the
 * native C double of wtsapi32 (skipped, with the reason, when the double is not built).
 */
import { createKoffiApi, WTS_CURRENT_SERVER_HANDLE, type ServerHandle, type WtsApi } from '../../src/index';
import { createMockApi, type Farm } from '../../src/mock';
import { doublePath, NativeDouble } from '../native/double';
import type { LoadedBackend, SafetyBackend } from './harness';

export const mockBackend: SafetyBackend = {
  name: 'mock',
  load(farm: Farm, closingPolls = 1): LoadedBackend {
    const mock = createMockApi(farm, { closingPolls });
    return {
      api: mock,
      putSession: (server, session) => mock.putSession(server, session),
      setFault: (server, api, key, code) => mock.setFault(server, api, key, code),
      endSession: (server, id) => {
        // The user logs off by themself: the session closes (gone at the next poll).
        const s = mock.getSession(server, id);
        if (s && s.closing === undefined) mock.putSession(server, { ...s, closing: 0 });
      },
      mockCalls: () => mock.calls,
      leaks: () => (mock.openHandleCount === 0 ? [] : [`${mock.openHandleCount} server handle(s) left open`]),
    };
  },
};

/** koffi + the native double, or why it cannot run. */
export function doubleBackend(): SafetyBackend | { missing: string } {
  const found = doublePath();
  if ('missing' in found) return found;
  const double = new NativeDouble(found.path);
  let api: WtsApi | undefined;
  return {
    name: 'koffi + native double',
    load(farm: Farm, closingPolls = 1): LoadedBackend {
      double.loadFarm(farm, closingPolls);
      double.leaks(); // counts from here
      api ??= createKoffiApi({ wtsapi32: found.path, kernel32: found.path });
      const raw = api;
      return {
        api: raw,
        putSession: (server, session) => double.putSession(server, session),
        setFault: (server, name, key, code) => double.setFault(server, name, key, code),
        endSession: async (server, id) => {
          // The user logs off by themself: WTSLogoffSession through the unrecorded backend.
          const local = server.toLowerCase() === farm.localServer.toLowerCase();
          let handle: ServerHandle = WTS_CURRENT_SERVER_HANDLE;
          try {
            if (!local) handle = await raw.openServer(server);
            await raw.logoffSession(handle, id);
          } catch {
            // a fault or an unreachable server: the session stays
          } finally {
            if (handle !== WTS_CURRENT_SERVER_HANDLE) await raw.closeServer(handle);
          }
        },
        leaks: () => {
          const l = double.leaks();
          const under = l.closedUnderCall ?? 0;
          return l.allocations === 0 && l.handles === 0 && l.badFrees === 0 && under === 0
            ? []
            : [`the double reports ${l.allocations} WTS buffer(s) not freed, ${l.handles} handle(s) open, ${l.badFrees} wrong free(s), ${under} WTSCloseServer(s) under a running call`];
        },
      };
    },
  };
}
