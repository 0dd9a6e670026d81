/**
 * An abort that lands in any of the few microtask turns between a bulk call's last check before a
 * request (clearToAct) and the request: no request is made after it, on the one-server form as
 * over many servers, and the outcome says what was sent. (The one-server form used to make the
 * request and report the session `skipped`, aborted, with no request: found by a review.)
 * A signal already aborted makes no backend call at all, not even the server's open.
 */
import { createWts } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { exampleFarm, sleep } from '../helpers';

type Op = 'logoffAll' | 'disconnectAll' | 'sendMessageAll' | 'logoffAllWarn';

async function attempt(op: Op, hops: number, servers: boolean, nth = 1) {
  let seen = 0;
  const mock = createMockApi(exampleFarm());
  const ac = new AbortController();
  let abortedAt: number | undefined;
  const log: Array<{ api: string; id: unknown; afterAbort: boolean }> = [];
  let armed = true;
  const api = new Proxy(mock, {
    get(t, k) {
      const v = Reflect.get(t, k, t);
      if (typeof v !== 'function') return v;
      if (k === 'querySessionInformation') {
        return async (...a: unknown[]) => {
          log.push({ api: 'query', id: a[1], afterAbort: abortedAt !== undefined });
          const value = await (v as (...x: unknown[]) => Promise<unknown>).apply(t, a);
          if (armed && a[1] === 4 && a[2] === 'WTSSessionInfo' && ++seen === nth) {
            armed = false;
            // The caller aborts `hops` microtask turns after this read is handed back.
            let p: Promise<void> = Promise.resolve();
            for (let i = 0; i < hops; i++) p = p.then(() => undefined);
            void p.then(() => { abortedAt = log.length; ac.abort(); });
          }
          return value;
        };
      }
      if (['logoffSession', 'disconnectSession', 'sendMessage'].includes(String(k))) {
        return (...a: unknown[]) => {
          log.push({ api: String(k), id: a[1], afterAbort: abortedAt !== undefined });
          return (v as (...x: unknown[]) => unknown).apply(t, a);
        };
      }
      return (v as (...x: unknown[]) => unknown).bind(t);
    },
  });
  const wts = createWts({ api });
  const base = { signal: ac.signal, concurrency: 1, ...(servers ? { servers: ['TS01'] } : {}) };
  let result: unknown;
  switch (op) {
    case 'logoffAll': result = await wts.logoffAll({ ...base, wait: false } as never); break;
    case 'logoffAllWarn': result = await wts.logoffAll({ ...base, wait: false, warn: { text: 'bye', graceSeconds: 0 } } as never); break;
    case 'disconnectAll': result = await wts.disconnectAll({ ...base, wait: false } as never); break;
    case 'sendMessageAll': result = await wts.sendMessageAll({ ...base, text: 'hi' } as never); break;
  }
  await sleep(5);
  const outcomesOf = (Array.isArray(result) ? result : (result as { results: unknown[] }).results) as Array<{ session: { id: number }; requests: string[] }>;
  // Every request the backend received for session 4 is in its outcome's requests.
  const sentTo4 = log.filter((c) => c.id === 4 && c.api !== 'query').length;
  const reported4 = outcomesOf.find((o) => o.session.id === 4)?.requests.length ?? 0;
  if (sentTo4 !== reported4) throw new Error(`session 4: ${sentTo4} request(s) made, ${reported4} reported (hops ${hops}, read ${nth})`);
  const late = log.filter((c) => c.afterAbort && ['logoffSession', 'disconnectSession', 'sendMessage'].includes(c.api));
  const outcomes = (Array.isArray(result) ? result : (result as { results: unknown[] }).results) as Array<{ session: { id: number }; status: string; requests: string[] }>;
  return { late: late.map((c) => `${c.api}(${String(c.id)})`), s4: outcomes.find((o) => o.session.id === 4), aborted: abortedAt !== undefined };
}

describe.each([false, true])('servers form: %s', (servers) => {
  test.each<Op>(['logoffAll', 'disconnectAll', 'sendMessageAll', 'logoffAllWarn'])('%s: no request to session 4 after the abort, whatever microtask it lands in', async (op) => {
    const found: string[] = [];
    for (const nth of [1, 2, 3]) for (let hops = 0; hops <= 12; hops++) {
      const r = await attempt(op, hops, servers, nth);
      if (r.late.length > 0) found.push(`read#${nth} hops=${hops}: ${r.late.join(',')} reported as ${r.s4?.status} requests=${JSON.stringify(r.s4?.requests)}`);
    }
    expect(found).toEqual([]);
  });
});

describe('a signal already aborted', () => {
  const aborted = () => {
    const ac = new AbortController();
    ac.abort();
    return ac.signal;
  };
  type W = ReturnType<typeof createWts>;
  test.each<[string, (w: W) => Promise<unknown>]>([
    ['logoff', (w) => w.logoff(2, { server: 'WF12', signal: aborted() })],
    ['disconnect', (w) => w.disconnect(2, { server: 'WF12', signal: aborted() })],
    ['sendMessage', (w) => w.sendMessage(2, { server: 'WF12', text: 'x', signal: aborted() })],
    ['terminateProcess', (w) => w.terminateProcess({ pid: 1, session: 2 }, { server: 'WF12', signal: aborted() })],
    ['logoffAll', (w) => w.logoffAll({ server: 'WF12', signal: aborted() })],
    ['logoff, local', (w) => w.logoff(3, { signal: aborted() })],
    ['logoff, localhost', (w) => w.logoff(3, { server: 'localhost', signal: aborted() })],
  ])('%s: rejects E_ABORTED with no backend call (the server is not opened)', async (name, call) => {
    const mock = createMockApi(exampleFarm());
    const error = await call(createWts({ api: mock })).then(
      () => undefined,
      (e: unknown) => e as { code: string; server?: string },
    );
    expect({ code: error?.code, server: error?.server }).toEqual({ code: 'E_ABORTED', server: name.includes('local') ? '' : 'WF12' });
    expect(mock.calls.filter((c) => !['computerName', 'localNames', 'consoleId', 'currentId'].includes(c.api))).toEqual([]);
  });
});
