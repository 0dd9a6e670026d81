/**
 * Over many servers, a server that had to wait for its turn is listed again; when that second
 * listing fails (1722), every session its first listing showed still gets an outcome: the
 * protected ones skipped as such, the others `failed` with the server's error (they used to get
 * none at all, where a timeout or an abort at the same point gives each one `skipped`).
 */
import { createWts, Win32Error } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { exampleFarm, sleep } from '../helpers';

// The server's listing slot goes to the next server only when its work starts: serverConcurrency 1.
test.each(['logoffAll', 'disconnectAll', 'sendMessageAll'] as const)('%s: WF12 waits for its turn, its second listing fails: its listed sessions are accounted for', async (op) => {
  const mock = createMockApi(exampleFarm());
  let wf12Lists = 0;
  const api = new Proxy(mock, {
    get(t, k) {
      const v = Reflect.get(t, k, t) as (...a: unknown[]) => Promise<unknown>;
      if (typeof v !== 'function') return v;
      if (k === 'enumerateSessions') {
        return async (h: unknown, o?: unknown) => {
          if (h !== 0n && ++wf12Lists === 2) throw new Win32Error({ win32Code: 1722, api: 'WTSEnumerateSessionsExW' });
          return v.call(t, h, o);
        };
      }
      // TS01's work is slow: WF12 waits for the one work slot.
      if (k === 'querySessionInformation') return async (...a: unknown[]) => { if (a[0] === 0n) await sleep(20); return v.apply(t, a); };
      return v.bind(t);
    },
  });
  const wts = createWts({ api });
  const common = { servers: ['TS01', 'WF12'], serverConcurrency: 1 };
  const run = op === 'logoffAll' ? await wts.logoffAll({ ...common, wait: false }) : op === 'disconnectAll' ? await wts.disconnectAll({ ...common, wait: false }) : await wts.sendMessageAll({ ...common, text: 'hi' });
  const wf12 = (run.results as unknown as Array<{ session: { server: string; id: number }; status: string; reason?: string; error?: { win32Code?: number }; requests: readonly string[] }>).filter((o) => o.session.server === 'WF12');
  expect({ lists: wf12Lists, failures: run.failures.map((f) => [f.server, f.error.code]) }).toEqual({ lists: 2, failures: [['WF12', 'E_WIN32']] });
  // WF12's first listing, each session once: nothing was sent to any of them.
  // WF12: 0 Services, 1 the console (no user), 2 Active, 3 Disconnected, 65536 the listener.
  const alone: Record<typeof op, Record<number, string>> = {
    logoffAll: { 0: 'services', 1: 'console', 65536: 'listener' },
    disconnectAll: { 0: 'services', 1: 'console', 3: 'filtered', 65536: 'listener' },
    sendMessageAll: { 0: 'services', 1: 'noUser', 65536: 'listener' },
  };
  const expected = [0, 1, 2, 3, 65536].map((id) => [id, alone[op][id] ? 'skipped' : 'failed', alone[op][id] ?? 1722, []]);
  expect(wf12.map((o) => [o.session.id, o.status, o.reason ?? o.error?.win32Code, o.requests])).toEqual(expected);
  expect(run.byServer.get('WF12')).toEqual(wf12);
});
