/**
 * `signal` on findSession (docs/findSession.md), as on the listings: an abort rejects at once
 * with E_ABORTED, a signal already aborted makes no call, no request starts after the abort, and
 * the handle is closed once the enumeration in flight returns.
 */
import fc from 'fast-check';
import { createWts } from '../../src/index';
import { createMockApi, type MockApi } from '../../src/mock';
import { exampleFarm, overriding, sleep } from '../helpers';

const KERNEL = new Set(['close', 'computerName', 'localNames', 'consoleId', 'currentId']);
const requests = (mock: MockApi, from = 0) => mock.calls.slice(from).filter((c) => !KERNEL.has(c.api)).map((c) => `${c.api}:${c.server}`);

describe('findSession with a signal', () => {
  test('aborted before the call: E_ABORTED, and no request at all (not even the open)', async () => {
    const mock = createMockApi(exampleFarm());
    const ac = new AbortController();
    ac.abort();
    await expect(createWts({ api: mock }).findSession(3, { signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED', server: '' });
    await expect(createWts({ api: mock }).findSession('RDP-Tcp#1', { server: 'WF12', signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED', server: 'WF12' });
    expect(requests(mock)).toEqual([]);
    expect(mock.openHandleCount).toBe(0);
  });

  test('aborted during a slow enumeration: rejects at once, nothing starts after, the handle closed when the enumeration returns', async () => {
    const mock = createMockApi(exampleFarm());
    const ac = new AbortController();
    let inFlight = 0;
    const api = overriding(mock, {
      enumerateSessions: ((server: never) => {
        inFlight++;
        setImmediate(() => ac.abort(new Error('user cancelled')));
        return sleep(60).then(() => mock.enumerateSessions(server)).finally(() => inFlight--);
      }) as never,
    });
    const started = performance.now();
    const error = await createWts({ api }).findSession(3, { server: 'WF12', signal: ac.signal }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: unknown },
    );
    expect({ code: error?.code, cause: error?.cause }).toEqual({ code: 'E_ABORTED', cause: new Error('user cancelled') });
    expect(performance.now() - started).toBeLessThan(60);
    expect(inFlight).toBe(1);
    expect(mock.openHandleCount).toBe(1); // not closed under the call in flight
    await sleep(100);
    expect(inFlight).toBe(0);
    expect(mock.openHandleCount).toBe(0);
    expect(requests(mock)).toEqual(['open:WF12', 'enumerate:WF12']);
  });

  test('a signal that never fires changes nothing: the same session, or the same error, as without (property)', async () => {
    const farm = exampleFarm();
    const targets = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom('Console', 'console', 'RDP-Tcp#1', 'rdp-tcp', 'Services', 'nope'), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(targets, fc.constantFrom(undefined, 'WF12', 'TS01'), fc.boolean(), async (target, server, viaObject) => {
        const outcome = async (withSignal: boolean) => {
          const wts = createWts({ api: createMockApi(farm) });
          const options = { ...(server === undefined || viaObject ? {} : { server }), ...(withSignal ? { signal: new AbortController().signal } : {}) };
          const run = viaObject && server !== undefined ? () => wts.openServer(server).findSession(target, options) : () => wts.findSession(target, options);
          return run().then(
            (s) => ({ ok: s }),
            (e: { code?: string; message?: string }) => ({ error: e.code, message: e.message }),
          );
        };
        expect(await outcome(true)).toEqual(await outcome(false));
      }),
      { numRuns: 150, seed: 712 },
    );
  });
});
