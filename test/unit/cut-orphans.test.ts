/**
 * A server's work cut short (its timeout, or the caller's abort) while some of a session's detail
 * queries are in flight: every query started must still have its failure handled. An orphaned
 * rejection ends a Node process that runs with the default --unhandled-rejections=throw (jest
 * fails the test with it): CI saw it from `listSessions({ servers, details: true })` on the koffi
 * backend, where the cut came between two queries of one session.
 */
import fc from 'fast-check';
import { createWts, type FarmResult, type WtsInfoClass } from '../../src/index';
import { createMockApi, type MockFaultTarget } from '../../src/mock';
import { stopping } from '../../src/api/context';
import { rig } from '../call-rig';
import { exampleFarm, overriding, sleep } from '../helpers';

describe('a cut between the detail queries of one session', () => {
  test('the server times out while WTSSessionInfoEx is in flight: the later queries are not made, none fails unhandled, and the server is reported failed', async () => {
    const mock = createMockApi(exampleFarm());
    let cut = false;
    const after: string[] = [];
    const api = overriding(mock, {
      querySessionInformation: ((server: never, sessionId: number, infoClass: WtsInfoClass) => {
        if (cut) after.push(infoClass);
        if (infoClass !== 'WTSSessionInfoEx') return mock.querySessionInformation(server, sessionId, infoClass);
        // The server's time runs out while this query is in flight; it answers after that, and
        // the next session's detail queries are about to start.
        return sleep(40).then(() => mock.querySessionInformation(server, sessionId, infoClass));
      }) as never,
    });
    const r = await createWts({ api }).listSessions({
      servers: ['TS01'],
      details: true,
      serverTimeoutMs: 20,
      concurrency: 1,
      onEvent: (e) => {
        if (e.type === 'serverFailed') cut = true;
      },
    });
    await sleep(100); // the calls in flight settle: jest fails this test if a rejection is left unhandled
    expect(r.failures.map((f) => [f.server, f.error.code])).toEqual([['TS01', 'E_SERVER_TIMEOUT']]);
    // Queries of the same session that were not started before the cut are never made.
    expect(after).toEqual([]);
  });
  test('a backend that throws instead of rejecting, on one detail query while another is in flight: both failures are handled, and the listing rejects once both settled, with the first query\'s', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: ((server: never, sessionId: number, infoClass: WtsInfoClass) => {
        if (infoClass === 'WTSSessionInfoEx') return sleep(20).then(() => Promise.reject(new Error('rejected later')));
        if (infoClass === 'WTSClientProtocolType') throw new Error('thrown at once');
        return mock.querySessionInformation(server, sessionId, infoClass);
      }) as never,
    });
    // Every query settles before the outcome is decided; the first started query's failure is the one.
    await expect(createWts({ api }).listSessions({ details: true, concurrency: 1 })).rejects.toThrow('rejected later');
    await sleep(60); // jest fails this test if a rejection was left unhandled
  });
});

describe('stopping: the api a server\'s work sees once the work was cut short', () => {
  test('every call that returns a promise refuses with a rejected promise (never a throw); the calls that answer at once throw; nothing reaches the backend', async () => {
    const mock = createMockApi(exampleFarm());
    const ac = new AbortController();
    const reason = new Error('cut');
    ac.abort(reason);
    const api = stopping(mock, ac.signal) as unknown as Record<string, (...a: unknown[]) => unknown>;
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(mock)).filter((k) => k !== 'constructor' && typeof (mock as unknown as Record<string, unknown>)[k] === 'function');
    const before = mock.calls.length;
    const seen: string[] = [];
    for (const k of methods) {
      let threw: unknown;
      let returned: unknown;
      try {
        returned = api[k]!();
      } catch (error) {
        threw = error;
      }
      if (threw !== undefined) {
        seen.push(`${k}: throws`);
        expect(threw).toBe(reason);
      } else {
        expect(returned).toBeInstanceOf(Promise);
        await expect(returned).rejects.toBe(reason);
        seen.push(`${k}: rejects`);
      }
    }
    expect(mock.calls.length).toBe(before);
    // The four calls of WtsApi that return no promise are the ones that throw.
    expect(seen.filter((s) => s.endsWith('throws')).map((s) => s.split(':')[0]).sort()).toEqual(['getActiveConsoleSessionId', 'getComputerName', 'getCurrentSessionId', 'getLocalServerNames']);
    for (const k of ['getActiveConsoleSessionId', 'getComputerName', 'getCurrentSessionId', 'getLocalServerNames']) {
      expect((mock as unknown as Record<string, () => unknown>)[k]!()).not.toBeInstanceOf(Promise);
    }
    expect(seen).toContain('querySessionInformation: rejects');
  });
});

describe('property: cuts and failures at random moments of work over many servers', () => {
  const OPS = ['details', 'someDetails', 'filtered', 'logoffIdle', 'logoffPlan', 'disconnectLocked', 'processes', 'message', 'messageWait'] as const;
  test('every call settles to a result that accounts for every server, and no rejection is left unhandled (jest fails the run on one)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPS),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 12 }), // each call's delay, in turn
        fc.array(fc.record({ server: fc.constantFrom('TS01', 'WF12'), api: fc.constantFrom<MockFaultTarget>('query', 'enumerate', 'version', 'processes', 'lookup', 'logoff', 'disconnect', 'message'), code: fc.constantFrom(5, 1722, 7022) }), { maxLength: 2 }),
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.integer({ min: 1, max: 3 }),
        async (op, delays, faults, serverTimeoutMs, abortAt, concurrency) => {
          const mock = createMockApi(exampleFarm());
          for (const f of faults) mock.setFault(f.server, f.api, '*', f.code);
          const { wts } = rig((_api, _args, n) => delays[n % delays.length] as number, mock);
          const ac = new AbortController();
          const timer = abortAt === undefined ? undefined : setTimeout(() => ac.abort(), abortAt);
          const servers = ['TS01', 'WF12', 'WF13'];
          const common = { servers, serverTimeoutMs, serverConcurrency: 2 };
          const acting = { ...common, signal: ac.signal, concurrency };
          let call: Promise<unknown>;
          switch (op) {
            case 'details': call = wts.listSessions({ ...common, details: true, concurrency }); break;
            case 'someDetails': call = wts.listSessions({ ...common, details: ['clientName', 'remote'], concurrency }); break;
            case 'filtered': call = wts.listSessions({ ...common, idleLongerThan: '1m', locked: false, clientName: '*', concurrency }); break;
            case 'logoffIdle': call = wts.logoffAll({ ...acting, idleLongerThan: '1m', wait: false }); break;
            case 'logoffPlan': {
              const plan = await wts.logoffAll({ ...acting, dryRun: true, clientName: '*' });
              call = wts.logoffAll({ ...acting, plan, wait: false });
              break;
            }
            case 'disconnectLocked': call = wts.disconnectAll({ ...acting, locked: false }); break;
            case 'processes': call = wts.listProcesses(common); break;
            case 'message': call = wts.sendMessageAll({ ...acting, text: 'hi' }); break;
            case 'messageWait': call = wts.sendMessageAll({ ...acting, text: 'hi', wait: true, timeoutSeconds: 1 }); break;
          }
          const result = (await call) as FarmResult<unknown>;
          clearTimeout(timer);
          const accounted = new Set([...result.failures.map((f) => f.server), ...result.byServer.keys()]);
          expect(servers.filter((s) => !accounted.has(s))).toEqual([]);
          await sleep(30); // calls still in flight settle now, inside this run
        },
      ),
      { numRuns: Number(process.env['WTS_FUZZ_RUNS'] ?? 150) },
    );
  }, 120_000);
});
