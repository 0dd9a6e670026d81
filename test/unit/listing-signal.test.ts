/**
 * `signal` on the listings (listSessions, listProcesses), on one server and over many: an abort
 * rejects at once (over many servers: the servers not finished are failures, E_ABORTED), no
 * request starts after it, and the handle is closed once the calls in flight return.
 */
import fc from 'fast-check';
import { createWts, isWtsError, type FarmResult, type Session, type SessionProcess, type WtsInfoClass } from '../../src/index';
import { createMockApi, type MockApi } from '../../src/mock';
import { exampleFarm, overriding, sleep } from '../helpers';

const KERNEL = new Set(['close', 'computerName', 'localNames', 'consoleId', 'currentId']);
const requestsAfter = (mock: MockApi, from: number) => mock.calls.slice(from).filter((c) => !KERNEL.has(c.api)).map((c) => `${c.api}:${c.server}:${c.sessionId ?? ''}`);

describe('listSessions / listProcesses with a signal', () => {
  test('aborted before the call: E_ABORTED, and no request at all (not even the open)', async () => {
    const mock = createMockApi(exampleFarm());
    const wts = createWts({ api: mock });
    const ac = new AbortController();
    ac.abort();
    for (const call of [() => wts.listSessions({ signal: ac.signal }), () => wts.listSessions({ server: 'WF12', details: true, signal: ac.signal }), () => wts.listProcesses({ server: 'WF12', signal: ac.signal })]) {
      const before = mock.calls.length;
      await expect(call()).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect(requestsAfter(mock, before)).toEqual([]);
    }
    expect(mock.openHandleCount).toBe(0);
  });

  test('aborted while detail queries are in flight: rejects at once, no query starts after the abort, and the handle is closed when the queries in flight return', async () => {
    const mock = createMockApi(exampleFarm());
    const ac = new AbortController();
    let inFlight = 0;
    let queries = 0;
    let startedAfterAbort = 0;
    const api = overriding(mock, {
      querySessionInformation: ((server: never, sessionId: number, infoClass: WtsInfoClass) => {
        if (ac.signal.aborted) startedAfterAbort++;
        inFlight++;
        // Every query takes 30 ms; the abort comes just after the fourth query started (the
        // second session's first), while it is in flight.
        if (++queries === 4) setImmediate(() => ac.abort(new Error('user cancelled')));
        return sleep(30).then(() => mock.querySessionInformation(server, sessionId, infoClass)).finally(() => inFlight--);
      }) as never,
    });
    const started = performance.now();
    const listing = createWts({ api }).listSessions({ server: 'WF12', details: true, concurrency: 1, signal: ac.signal });
    const rejected = await listing.then(
      () => undefined,
      (e: unknown) => e,
    );
    const tookMs = performance.now() - started;
    expect(isWtsError(rejected) ? rejected.code : rejected).toBe('E_ABORTED');
    expect((rejected as Error & { cause?: unknown }).cause).toEqual(new Error('user cancelled'));
    // It did not wait for the second session's queries in flight (nor for the other sessions').
    expect(inFlight).toBe(3);
    expect(tookMs).toBeLessThan(5 * 30);
    expect(mock.openHandleCount).toBe(1); // closed once the calls in flight return, not under them
    await sleep(80);
    expect({ inFlight, startedAfterAbort, queries }).toEqual({ inFlight: 0, startedAfterAbort: 0, queries: 6 });
    expect(mock.openHandleCount).toBe(0);
  });

  test('listProcesses aborted during its account look-ups: rejects E_ABORTED, and no look-up starts after the abort', async () => {
    const mock = createMockApi(exampleFarm());
    const ac = new AbortController();
    const lookups: boolean[] = [];
    const api = overriding(mock, {
      lookupAccountSid: ((serverName: string, sid: string) => {
        lookups.push(ac.signal.aborted);
        if (lookups.length === 1) ac.abort();
        return sleep(20).then(() => mock.lookupAccountSid(serverName, sid));
      }) as never,
    });
    await expect(createWts({ api }).listProcesses({ server: 'WF12', signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    await sleep(60);
    expect(lookups.filter((afterAbort) => afterAbort)).toEqual([]);
    expect(mock.openHandleCount).toBe(0);
  });

  test('over many servers: an abort resolves with the finished servers in byServer and every other one in failures, E_ABORTED', async () => {
    const mock = createMockApi(exampleFarm());
    mock.setLatency('WF12', 200);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = (await createWts({ api: mock }).listSessions({ servers: ['TS01', 'WF12'], signal: ac.signal })) as FarmResult<Session>;
    expect(r.failures.map((f) => [f.server, f.error.code])).toEqual([['WF12', 'E_ABORTED']]);
    expect([...r.byServer.keys()]).toEqual(['TS01']);
    await sleep(250);
    expect(mock.openHandleCount).toBe(0);
  });

  test('a signal that is not an AbortSignal: InvalidArgumentError, and no call', async () => {
    const mock = createMockApi(exampleFarm());
    const wts = createWts({ api: mock });
    await expect(wts.listSessions({ signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'options.signal' });
    await expect(wts.listProcesses({ servers: ['WF12'], signal: 'x' as unknown as AbortSignal })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'options.signal' });
    expect(mock.calls.filter((c) => !KERNEL.has(c.api))).toEqual([]);
  });

  test('property: a signal that never fires changes nothing: the same sessions and processes as without one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('TS01', 'WF12'), fc.boolean(), fc.constantFrom<'sessions' | 'processes'>('sessions', 'processes'), async (server, details, what) => {
        const run = async (signal: AbortSignal | undefined) => {
          const wts = createWts({ api: createMockApi(exampleFarm()) });
          const opts = { server, ...(signal ? { signal } : {}) };
          return what === 'processes' ? ((await wts.listProcesses(opts)) as readonly SessionProcess[]) : await wts.listSessions({ ...opts, ...(details ? { details: true as const } : {}) });
        };
        // idleMs and disconnectedMs are measured from the moment of the query: left out.
        const stable = (rows: readonly unknown[]) => JSON.parse(JSON.stringify(rows, (k, v: unknown) => (k === 'idleMs' || k === 'disconnectedMs' ? undefined : v))) as unknown;
        expect(stable(await run(new AbortController().signal))).toEqual(stable(await run(undefined)));
      }),
      { numRuns: 20 },
    );
  });
});
