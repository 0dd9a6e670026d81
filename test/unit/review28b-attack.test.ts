/**
 * Review 28b (adversarial) of the last hour's changes: errors that carry requests (promise 1), the
 * wait after an accepted request keeping the error's class (promise 2), `warned` in wts-logoff's
 * summary (promise 3, its pure part) and `details` with `times` and `lock` read from one
 * WTSSessionInfoEx query (promise 5). Each test quotes the promise it attacks.
 *
 * `FIXED:` tests failed on the code as reviewed (a broken promise, since fixed); `HOLDS:` tests are
 * attacks the code withstood; `documented:` a limit kept and written into the docs.
 */
import { inspect } from 'node:util';
import {
  createWts,
  isWtsError,
  LogoffTimeoutError,
  OperationAbortedError,
  reviveWtsError,
  SessionNotFoundError,
  ThreadsExhaustedError,
  Win32Error,
  WtsError,
  type DetailedSession,
  type LogoffOutcome,
  type WtsApi,
} from '../../src/index';
import { createMockApi, type Farm, type MockApi } from '../../src/mock';
import { formatOutcome, summarize } from '../../src/cli/format';
import { summaryDocument } from '../../src/cli/json';
import { exampleFarm, nextEvent, overriding, rejection, sleep } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;
type Any = Record<string, any>;
const realQuery = (mock: MockApi) => (...a: Query): Promise<unknown> => (mock.querySessionInformation as (...b: Query) => Promise<unknown>).apply(mock, a);

/** The error's plain form, revived: the same class and fields again. */
function roundTrip(error: unknown): WtsError {
  return reviveWtsError(JSON.parse(JSON.stringify(error)));
}

// ---------------------------------------------------------------------------------------------
// Promise 2: a wait after an accepted request keeps the error's class
// ---------------------------------------------------------------------------------------------

/**
 * The mock whose session reads fail with `thrown` once the request (`method`) was accepted: the
 * poll after it fails with that error, the request itself went through.
 */
function pollFailsWith(thrown: unknown, method: 'logoffSession' | 'disconnectSession' = 'logoffSession') {
  const mock = createMockApi(exampleFarm(), { closingPolls: 2 });
  let requested = false;
  let callsAfter = 0;
  const api = overriding(mock, {
    [method]: async (h: bigint, id: number) => {
      await (mock[method] as (h: bigint, id: number) => Promise<void>)(h, id);
      requested = true;
    },
    querySessionInformation: (async (...args: Query) => {
      if (requested) {
        callsAfter++;
        throw thrown;
      }
      return realQuery(mock)(...args);
    }) as WtsApi['querySessionInformation'],
  });
  return { mock, wts: createWts({ api }), callsAfter: () => callsAfter };
}

const WAITS: Array<[string, 'logoffSession' | 'disconnectSession', (w: ReturnType<typeof createWts>) => Promise<unknown>, string]> = [
  ['logoff(4)', 'logoffSession', (w) => w.logoff(4, { pollIntervalMs: 1, timeoutMs: 2000 }), 'WTSLogoffSession'],
  ['disconnect(4, { wait: true })', 'disconnectSession', (w) => w.disconnect(4, { wait: true, pollIntervalMs: 1, timeoutMs: 2000 }), 'WTSDisconnectSession'],
];

describe('promise 2: the wait after an accepted request, failing with a library error the backend threw', () => {
  // Promise: "when the poll after the accepted request fails with one of the library's errors
  // (ThreadsExhaustedError; any WtsError subclass), the call rejects with the same class, its
  // message starting with '<Request> was sent and accepted for session ID N, but waiting for it to
  // take effect failed', requests = [that request], server and sessionId set"; and promise 1: "the
  // backend's own error object is never written on (it may be frozen or shared)".
  //
  // As reviewed (8bb3b4c), sentThenPoll (src/api/logoff.ts) special-cased E_TIMEOUT: it ran
  // `Object.defineProperty(error, 'requests', ...)` on whatever error the poll threw and rethrew
  // that very object. (Fixed while this review ran, by 9478ae3, found by review 28 too: these two
  // tests failed on 8bb3b4c and pass since; they are kept as HOLDS.) That is right for the library's own LogoffTimeoutError, made fresh by the
  // poll; but a backend may reject a read with an E_TIMEOUT WtsError of its own (an RPC call timing
  // out: a backend of your own, or a shared/frozen error object). Then:
  //  - frozen: defineProperty throws, and logoff() rejects with a bare TypeError ("Cannot redefine
  //    property: requests") — not a WtsError at all, the request that was accepted not said;
  //  - not frozen: the backend's own (shared) error is written on, and comes back with its own
  //    message (no "was sent and accepted"), no server, no sessionId.
  test.each(WAITS)('HOLDS (failed on 8bb3b4c with a TypeError; fixed during this review by 9478ae3): %s whose poll read is rejected with a FROZEN E_TIMEOUT WtsError from the backend rejects with a WtsError listing the request', async (_name, method, call, request) => {
    const backendError = Object.freeze(new WtsError('E_TIMEOUT', 'The RPC call timed out (backend).'));
    const { wts } = pollFailsWith(backendError, method);
    const error = await rejection(call(wts));
    expect(isWtsError(error)).toBe(true); // got on 8bb3b4c: TypeError: Cannot redefine property: requests
    expect(error['code']).toBe('E_TIMEOUT');
    expect(error['requests']).toEqual([request]);
    expect(error['sessionId']).toBe(4);
    expect(error['server']).toBe('');
  });

  test.each(WAITS)('HOLDS (failed on 8bb3b4c; fixed during this review by 9478ae3): %s whose poll read is rejected with a SHARED (not frozen) E_TIMEOUT WtsError: the backend object is not written on; a copy says the request was sent and accepted, with server and sessionId', async (_name, method, call, request) => {
    const backendError = new WtsError('E_TIMEOUT', 'The RPC call timed out (backend).');
    const { wts } = pollFailsWith(backendError, method);
    const error = await rejection(call(wts));
    expect(backendError.requests).toEqual([]); // got on 8bb3b4c: [the request] — written on the backend's own object
    expect(error).not.toBe(backendError);
    expect(isWtsError(error) && error.code).toBe('E_TIMEOUT');
    expect(error.message.startsWith(`${request} was sent and accepted for session ID 4, but waiting for it to take effect failed`)).toBe(true);
    expect(error['requests']).toEqual([request]);
    expect(error['server']).toBe('');
    expect(error['sessionId']).toBe(4);
  });

  // Promise: the copy is "a real Error" whose message starts with "<Request> was sent and accepted
  // ...". copyWtsError replaces `message` but keeps the backend error's own `stack`, which still
  // begins "ThreadsExhaustedError: All 128 of wts-session's threads are held ...; the call was not
  // made." What console.error / util.inspect / --debug print is that stack: the error shown to a
  // person says the call was NOT made, the opposite of the message — the logoff was sent and
  // accepted. (A real Error's stack begins with `${name}: ${message}`.)
  test.each(WAITS)('FIXED: %s: the ThreadsExhaustedError copy as console.error shows it (util.inspect, its stack) says the request was sent and accepted, not only "the call was not made"', async (_name, method, call, request) => {
    const refusal = Object.freeze(new ThreadsExhaustedError(128, 128, 10_000, ''));
    const { wts } = pollFailsWith(refusal, method);
    const error = await rejection(call(wts));
    expect(error).toBeInstanceOf(ThreadsExhaustedError);
    expect(error.message).toContain(`${request} was sent and accepted`);
    expect(String(error.stack).split('\n')[0]).toContain(`${request} was sent and accepted`);
    expect(inspect(error)).toContain(`${request} was sent and accepted`);
  });

  test.each(WAITS)('HOLDS: %s whose poll is refused by a frozen SessionNotFoundError (a WtsError subclass) keeps the class, prefix, request, server, sessionId; a real Error; JSON and revive; the backend error untouched', async (_name, method, call, request) => {
    const backendError = Object.freeze(new SessionNotFoundError(4, 'TS01'));
    const { wts } = pollFailsWith(backendError, method);
    const error = await rejection(call(wts));
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect(error).not.toBe(backendError);
    expect(backendError.requests).toEqual([]);
    expect(isWtsError(error)).toBe(true);
    expect(Object.prototype.toString.call(error)).toBe('[object Error]');
    expect(error.message.startsWith(`${request} was sent and accepted for session ID 4, but waiting for it to take effect failed: Session ID 4 not found`)).toBe(true);
    expect(error['requests']).toEqual([request]);
    expect(error['target']).toBe(4);
    expect(roundTrip(error)).toBeInstanceOf(SessionNotFoundError);
    expect(roundTrip(error).requests).toEqual([request]);
    expect(roundTrip(error).message).toBe(error.message);
  });

  test.each(WAITS)('HOLDS: %s whose poll gets a frozen Win32Error 5 rejects with a new Win32Error (prefix, request, server, sessionId, win32Code, api)', async (_name, method, call, request) => {
    const backendError = Object.freeze(new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW' }));
    const { wts } = pollFailsWith(backendError, method);
    const error = await rejection(call(wts));
    expect(error).toBeInstanceOf(Win32Error);
    expect(error).not.toBe(backendError);
    expect(backendError.requests).toEqual([]);
    expect(error).toMatchObject({ code: 'E_WIN32', win32Code: 5, api: 'WTSQuerySessionInformationW', requests: [request], server: '', sessionId: 4 });
    expect(error.message.startsWith(`${request} was sent and accepted for session ID 4, but waiting for it to take effect failed`)).toBe(true);
  });

  test.each(WAITS)('HOLDS: %s whose backend throws a plain TypeError (not a library error) rejects with a WtsError listing the request, the TypeError its cause', async (_name, method, call, request) => {
    const thrown = new TypeError('backend bug');
    const { wts } = pollFailsWith(thrown, method);
    const error = await rejection(call(wts));
    expect(isWtsError(error)).toBe(true);
    expect(error).toMatchObject({ requests: [request], server: '', sessionId: 4 });
    expect(error.message.startsWith(`${request} was sent and accepted for session ID 4`)).toBe(true);
    expect(error.cause).toBe(thrown);
  });

  test.each(WAITS)('HOLDS: %s whose backend rejects the poll with its own (frozen) OperationAbortedError: an OperationAbortedError (E_ABORTED) listing the request', async (_name, method, call, request) => {
    const { wts } = pollFailsWith(Object.freeze(new OperationAbortedError('The call', 'cut', { server: '' })), method);
    const error = await rejection(call(wts));
    expect(error).toBeInstanceOf(OperationAbortedError);
    expect(error).toMatchObject({ code: 'E_ABORTED', requests: [request], sessionId: 4 });
  });

  test.each(WAITS)('HOLDS: %s aborted by the signal during the wait: OperationAbortedError (E_ABORTED) listing the request, and no call after it settled', async (_name, method, _call, request) => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    // disconnect's poll waits for Disconnected: keep the session Active by failing nothing but never disconnecting.
    const api = overriding(mock, { disconnectSession: async () => undefined });
    const wts = createWts({ api });
    const ac = new AbortController();
    // Session 4 (carol, Active): it never closes, nor is it ever Disconnected.
    const p = method === 'logoffSession' ? wts.logoff(4, { signal: ac.signal, pollIntervalMs: 5 }) : wts.disconnect(4, { wait: true, signal: ac.signal, pollIntervalMs: 5 });
    await sleep(40);
    ac.abort(new Error('stop'));
    const error = await rejection(p);
    expect(error).toBeInstanceOf(OperationAbortedError);
    expect(error).toMatchObject({ code: 'E_ABORTED', requests: [request], sessionId: 4, server: '' });
    const n = mock.calls.length;
    await sleep(60);
    expect(mock.calls.slice(n).filter((c) => c.api !== 'close')).toEqual([]);
  });

  test('HOLDS: logoff(3) that times out: LogoffTimeoutError (E_TIMEOUT) with the request listed, and no call made after it settled', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    const error = await rejection(createWts({ api: mock }).logoff(3, { timeoutMs: 60, pollIntervalMs: 5 }));
    expect(error).toBeInstanceOf(LogoffTimeoutError);
    expect(error).toMatchObject({ code: 'E_TIMEOUT', requests: ['WTSLogoffSession'], sessionId: 3, server: '' });
    const n = mock.calls.length;
    await sleep(60);
    expect(mock.calls.slice(n).filter((c) => c.api !== 'close')).toEqual([]);
  });

  test('HOLDS: the ThreadsExhaustedError after logoff on a REMOTE server names that server and the session; nothing is called after the rejection', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 2 });
    let requested = false;
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        await mock.logoffSession(h, id);
        requested = true;
      },
      querySessionInformation: (async (...args: Query) => {
        if (requested) throw new ThreadsExhaustedError(128, 3, 10_000); // no server: the backend did not say
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const error = await rejection(createWts({ api }).logoff(2, { server: 'WF12', pollIntervalMs: 1 }));
    expect(error).toBeInstanceOf(ThreadsExhaustedError);
    expect(error).toMatchObject({ server: 'WF12', sessionId: 2, requests: ['WTSLogoffSession'], maxThreads: 128, abandoned: 3 });
    const n = mock.calls.length;
    await sleep(50);
    expect(mock.calls.slice(n).filter((c) => c.api !== 'close')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 1: errors that carry requests are real library errors
// ---------------------------------------------------------------------------------------------

/** Every check promise 1 lists, on a failed outcome's error. */
function expectRealCopy(error: unknown, backendError: WtsError | undefined, Class: new (...a: never[]) => WtsError, requests: string[]): void {
  expect(isWtsError(error)).toBe(true);
  expect(error).toBeInstanceOf(Class);
  expect(error).toBeInstanceOf(Error);
  expect(Object.prototype.toString.call(error)).toBe('[object Error]');
  const e = error as WtsError;
  expect(e.requests).toEqual(requests);
  expect(Object.isFrozen(e.requests)).toBe(true);
  expect(e.toJSON()).toMatchObject({ name: e.name, code: e.code, message: e.message, requests });
  expect(JSON.parse(JSON.stringify(e))).toEqual(JSON.parse(JSON.stringify(e.toJSON())));
  const revived = roundTrip(e);
  expect(revived).toBeInstanceOf(Class);
  expect(revived.requests).toEqual(requests);
  if (backendError) {
    expect(e).not.toBe(backendError);
    expect(backendError.requests).toEqual([]);
    for (const k of ['message', 'code', 'server', 'sessionId', 'win32Code', 'api', 'maxThreads', 'abandoned', 'timeoutMs'] as const) {
      expect([k, (e as Any)[k]]).toEqual([k, (backendError as Any)[k]]);
    }
  }
}

describe('promise 1: the failed outcome of a bulk call, after accepted requests, carries them on a real copy', () => {
  test('HOLDS: logoffAll warn, then every logoff refused by ONE frozen ThreadsExhaustedError shared by all sessions: each outcome has its own real copy listing only the warning; the shared object untouched', async () => {
    const shared = Object.freeze(new ThreadsExhaustedError(64, 64, 10_000, ''));
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, { logoffSession: async () => Promise.reject(shared) });
    const out = await createWts({ api }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const failed = out.filter((o) => o.status === 'failed') as Any[];
    expect(failed.length).toBeGreaterThan(2);
    const errors = new Set(failed.map((o) => o.error));
    expect(errors.size).toBe(failed.length); // one copy each: none shared, none the backend's
    for (const o of failed) {
      expect(o.requests).toEqual(['WTSSendMessageW']); // the refused logoff was never made
      expectRealCopy(o.error, shared, ThreadsExhaustedError, ['WTSSendMessageW']);
      expect(formatOutcome(o as LogoffOutcome)).toMatch(/\(The warning had been sent\.\)$/);
    }
    expect(Object.isFrozen(shared)).toBe(true);
  });

  test('HOLDS: disconnectAll({ wait, servers }) whose polls all fail with ONE frozen Win32Error 5: a real Win32Error copy per session listing the disconnect; code, win32Code, api, server, sessionId as the backend had them', async () => {
    const shared = Object.freeze(new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW', server: 'X', sessionId: 99 }));
    const mock = createMockApi(exampleFarm(), { closingPolls: 3 });
    const done = new Set<string>();
    const names = new Map<unknown, string>();
    const api = overriding(mock, {
      openServer: async (n) => {
        const h = await mock.openServer(n);
        names.set(h, n.toUpperCase());
        return h;
      },
      disconnectSession: async (h, id) => {
        await mock.disconnectSession(h, id);
        done.add(`${names.get(h) ?? 'TS01'}:${id}`);
      },
      querySessionInformation: (async (...args: Query) => {
        if (done.has(`${names.get(args[0]) ?? 'TS01'}:${args[1]}`)) throw shared;
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const r = await createWts({ api }).disconnectAll({ servers: ['TS01', 'WF12'], wait: true, pollIntervalMs: 1, timeoutMs: 2000 });
    const failed = r.results.filter((o) => o.status === 'failed') as Any[];
    expect(failed.length).toBeGreaterThan(2);
    expect(failed.some((o) => o.session.server === 'WF12')).toBe(true);
    for (const o of failed) expectRealCopy(o.error, shared, Win32Error, ['WTSDisconnectSession']);
    expect(new Set(failed.map((o) => o.error)).size).toBe(failed.length);
  });

  test('HOLDS: logoffAll warn + wait that times out: a real LogoffTimeoutError listing the warning and the logoff, timeoutMs kept', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    const out = await createWts({ api: mock }).logoffAll({ timeoutMs: 80, pollIntervalMs: 5, user: 'carol', warn: { text: 'bye', graceSeconds: 0 } });
    const o = out.find((x) => x.session.id === 4) as Any;
    expect(o.status).toBe('failed');
    expectRealCopy(o.error, undefined, LogoffTimeoutError, ['WTSSendMessageW', 'WTSLogoffSession']);
    expect(o.error).toMatchObject({ code: 'E_TIMEOUT', timeoutMs: 80, sessionId: 4, server: '' });
  });

  test('HOLDS: a warned session whose logoff the backend rejects with a frozen shared SessionNotFoundError (not 7022): failed, a real SessionNotFoundError copy listing the warning', async () => {
    const shared = Object.freeze(new SessionNotFoundError(4, ''));
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, { logoffSession: async () => Promise.reject(shared) });
    const out = await createWts({ api }).logoffAll({ wait: false, user: 'carol', warn: { text: 'bye', graceSeconds: 0 } });
    const o = out.find((x) => x.session.id === 4) as Any;
    expect(o.status).toBe('failed');
    expectRealCopy(o.error, shared, SessionNotFoundError, ['WTSSendMessageW']);
    expect(o.error.target).toBe(4);
  });
  // Promise 1: "its error lists them in error.requests, on a copy of the backend's error (same
  // class, same fields)". copyWtsError copies the OWN properties onto a new Error given the
  // class's prototype; a backend's own subclass whose field lives in a private slot (`#field`,
  // read through a getter: the usual TypeScript way to keep a field read-only) is not copied —
  // the copy is "the same class" to instanceof, but reading that field throws "Cannot read private
  // member #retryAfterMs from an object whose class did not declare it". (Low severity: a backend
  // of one's own, `createWts({ api })`; the library's own classes have only own fields.)
  // Kept as the limit, documented (docs/errors.md: a backend's error classes keep their fields as
  // own properties): a private slot cannot be copied onto another object.
  test('documented: disconnectAll({ wait }) whose poll fails with a backend Win32Error subclass holding a #private field behind a getter: the copy is that class with the requests; the private field is not copied', async () => {
    class RpcError extends Win32Error {
      readonly #retryAfterMs: number;
      constructor(ms: number) {
        super({ win32Code: 1726, api: 'WTSQuerySessionInformationW' });
        this.#retryAfterMs = ms;
      }
      get retryAfterMs(): number {
        return this.#retryAfterMs;
      }
    }
    const backendError = new RpcError(250);
    const mock = createMockApi(exampleFarm(), { closingPolls: 3 });
    const done = new Set<number>();
    const api = overriding(mock, {
      disconnectSession: async (h, id) => {
        await mock.disconnectSession(h, id);
        done.add(id);
      },
      querySessionInformation: (async (...args: Query) => {
        if (done.has(args[1])) throw backendError;
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).disconnectAll({ user: 'carol', wait: true, pollIntervalMs: 1, timeoutMs: 2000 });
    const error = (out.find((o) => o.session.id === 4) as Any).error as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.requests).toEqual(['WTSDisconnectSession']);
    expect(backendError.requests).toEqual([]);
    let read: unknown;
    try {
      read = error.retryAfterMs;
    } catch (e) {
      read = String(e); // got: TypeError: Cannot read private member #retryAfterMs ...
    }
    expect(String(read)).toMatch(/Cannot read private member/);
    expect(backendError.retryAfterMs).toBe(250);
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 3 (its pure part): `warned` counts only the warnings that were not refused
// ---------------------------------------------------------------------------------------------

describe('promise 3: warned in the summary, and "(The warning had been sent.)" on the line', () => {
  const warned = (out: readonly LogoffOutcome[]) =>
    summaryDocument({ action: 'loggedOff', dryRun: false, outcomes: out, serversFailed: 0, serversStopped: 0, interrupted: false, exitCode: 1 })['warned'];

  test('HOLDS: per kind of failure: warning refused 5 / 7007 / by the threads (not warned); warning refused 7022 (skipped gone, warned); warned then logoff refused, timed out, re-check refused 5, re-check by a non-library error (warned)', async () => {
    const farm = exampleFarm();
    const ts01 = farm.servers[0]!;
    // Sessions 2 (alice) .. 7 (erin) are chosen (1 is the console, 2 is ours: the caller's own session).
    ts01.sessions!.push(
      { id: 8, name: 'RDP-Tcp#8', state: 'Active', user: 'hank', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
      { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'ivy', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
      { id: 10, name: 'RDP-Tcp#10', state: 'Active', user: 'jo', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
    );
    delete ts01.faults;
    const mock = createMockApi(farm, { closingPolls: 1_000_000 });
    mock.setFault('TS01', 'message', 3, 5); // bob: warning refused
    mock.setFault('TS01', 'message', 4, 7022); // carol: ended before her warning
    mock.setFault('TS01', 'message', 6, 7007); // temp01: warning refused with 7007
    mock.setFault('TS01', 'logoff', 5, 5); // dave: warned, logoff refused
    const warnedIds = new Set<number>();
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        if (id === 7) throw new ThreadsExhaustedError(128, 128, 10_000, ''); // erin: refused unmade
        const r = await mock.sendMessage(h, id, m, o);
        warnedIds.add(id);
        return r;
      },
      querySessionInformation: (async (...args: Query) => {
        // After their warning: ivy's re-check is denied, jo's backend throws a plain Error.
        if (warnedIds.has(args[1]) && args[1] === 9) throw new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW', sessionId: 9 });
        if (warnedIds.has(args[1]) && args[1] === 10) throw new Error('backend bug');
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    // hank (8): warned, then his logoff times out.
    const out = await createWts({ api }).logoffAll({ timeoutMs: 60, pollIntervalMs: 5, warn: { text: 'bye', graceSeconds: 0 } });
    const by = (id: number) => out.find((o) => o.session.id === id) as LogoffOutcome & Any;
    const line = (id: number) => formatOutcome(by(id));
    expect([3, 6, 7].map((id) => by(id).status)).toEqual(['failed', 'failed', 'failed']);
    for (const id of [3, 6, 7]) expect(line(id)).not.toContain('The warning had been sent');
    expect(by(4)).toMatchObject({ status: 'skipped', reason: 'gone', requests: ['WTSSendMessageW'] });
    for (const id of [5, 8, 9, 10]) {
      expect([id, by(id).status]).toEqual([id, 'failed']);
      expect([id, line(id).endsWith('(The warning had been sent.)')]).toEqual([id, true]);
    }
    // Warned: carol (7022, documented), dave, hank, ivy, jo. Not: bob, temp01, erin.
    expect(warned(out)).toBe(5);
    expect(summarize(out)).toContain('5 warned');
  });

  test('HOLDS: a dry run with warn counts nothing (text and JSON)', async () => {
    const out = await createWts({ api: createMockApi(exampleFarm()) }).logoffAll({ dryRun: true, warn: { text: 'bye', graceSeconds: 5 } });
    expect(out.some((o) => o.status === 'wouldLogOff')).toBe(true);
    expect(summarize(out)).not.toContain('warned');
    expect(summaryDocument({ action: 'loggedOff', dryRun: true, outcomes: out, serversFailed: 0, serversStopped: 0, interrupted: false, exitCode: 0 })['warned']).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 5: details times + lock from one WTSSessionInfoEx query
// ---------------------------------------------------------------------------------------------

const classesOf = (mock: MockApi, server?: string) =>
  mock.calls.filter((c) => c.api === 'query' && (server === undefined || c.server === server)).map((c) => `${c.server}:${c.sessionId}:${c.infoClass}`);

describe('promise 5: details with times and lock', () => {
  test('HOLDS: details: true over servers [TS01, WF12] is 3 queries per session (WTSSessionInfoEx, WTSClientInfo, WTSClientProtocolType), 4 for an IPv6 client, and one NetServerGetInfo per server', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.find((s) => s.id === 7)!.clientAddress = '2001:db8::44';
    const mock = createMockApi(farm);
    const r = await createWts({ api: mock }).listSessions({ servers: ['TS01', 'WF12'], details: true });
    expect(r.failures).toEqual([]);
    for (const s of r.results) {
      const server = s.server === '' ? 'TS01' : s.server;
      const mine = mock.calls.filter((c) => c.api === 'query' && c.server === server && c.sessionId === s.id).map((c) => c.infoClass).sort();
      const expected = ['WTSClientInfo', 'WTSClientProtocolType', 'WTSSessionInfoEx', ...(server === 'TS01' && s.id === 7 ? ['WTSClientAddress'] : [])].sort();
      expect([server, s.id, mine]).toEqual([server, s.id, expected]);
    }
    expect(mock.calls.filter((c) => c.api === 'version').map((c) => c.server).sort()).toEqual(['TS01', 'WF12']);
    const erin = (r.results as DetailedSession[]).find((s) => s.server === '' && s.id === 7)!;
    expect(erin.details).toMatchObject({ clientAddress: '2001:db8::44', locked: false, isRemote: true });
    expect(erin.details.lastInputTime).toEqual(new Date('2026-11-21T09:29:00Z'));
  });

  test('HOLDS: on a 6.1 server (flags swapped) details ["times","lock"] give the true lock state, with the times; version unknown gives null with the times', async () => {
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', locked: true, lastInputTime: '2026-11-21T09:00:00Z' }] },
        { name: 'OLD', osVersion: '6.1', sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'dan', locked: true, lastInputTime: '2026-11-21T08:00:00Z' }] },
        { name: 'NOVER', faults: { version: { '*': 5 } }, sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'eve', locked: true, lastInputTime: '2026-11-21T07:00:00Z' }] },
      ],
    };
    const mock = createMockApi(farm);
    const r = await createWts({ api: mock }).listSessions({ servers: ['TS01', 'OLD', 'NOVER'], details: ['times', 'lock'] });
    const by = (server: string) => (r.results as DetailedSession[]).find((s) => s.server === server)!.details;
    expect(by('')).toMatchObject({ locked: true, lastInputTime: new Date('2026-11-21T09:00:00Z') });
    expect(by('OLD')).toMatchObject({ locked: true, lastInputTime: new Date('2026-11-21T08:00:00Z') });
    expect(by('NOVER')).toMatchObject({ locked: null, lastInputTime: new Date('2026-11-21T07:00:00Z') });
    expect(classesOf(mock).every((c) => c.endsWith('WTSSessionInfoEx'))).toBe(true);
  });

  test.each([
    ['7022 (the session ended)', 7022, 'gone'],
    ['5 (denied)', 5, 'error'],
  ])('HOLDS: WTSSessionInfoEx answering %s with details: true: listed gone / the listing rejects, as before', async (_what, code, expected) => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4 && args[2] === 'WTSSessionInfoEx') throw new Win32Error({ win32Code: code, api: 'WTSQuerySessionInformationW', sessionId: 4 });
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const p = createWts({ api }).listSessions({ details: true });
    if (expected === 'gone') {
      const listed = await p;
      expect(listed.find((s) => s.id === 4)!.details).toEqual({ gone: true });
      expect(listed.find((s) => s.id === 5)!.details.locked).toBe(false);
    } else {
      expect(await rejection(p)).toMatchObject({ win32Code: 5 });
    }
  });

  test('HOLDS: WTSSessionInfoEx refused with 120, then WTSSessionInfo answering 7022: listed gone (the fallback read counts as the times read)', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[2] === 'WTSSessionInfoEx') throw new Win32Error({ win32Code: 120, api: 'WTSQuerySessionInformationW', sessionId: args[1] });
        if (args[1] === 4 && args[2] === 'WTSSessionInfo') throw new Win32Error({ win32Code: 7022, api: 'WTSQuerySessionInformationW', sessionId: 4 });
        return realQuery(mock)(...args);
      }) as WtsApi['querySessionInformation'],
    });
    const listed = await createWts({ api }).listSessions({ details: ['times', 'lock'] });
    expect(listed.find((s) => s.id === 4)!.details).toEqual({ gone: true });
    expect(listed.find((s) => s.id === 5)!.details).toMatchObject({ locked: null, lastInputTime: new Date('2026-11-21T06:55:00Z') });
  });

  test('HOLDS: logoffAll({ idleLongerThan: "1h", locked: true }) leaves alone a session that was unlocked (or typed in) between its choice and its re-check, and logs off one still locked and idle', async () => {
    for (const change of ['unlocked', 'typed'] as const) {
      const farm: Farm = {
        localServer: 'TS01',
        servers: [
          {
            name: 'TS01',
            sessions: [
              { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T00:00:00Z', locked: true, lastInputTime: '2026-01-01T00:00:00Z' },
              { id: 4, name: 'RDP-Tcp#4', state: 'Active', user: 'amy', domain: 'CORP', logonTime: '2026-11-21T00:00:00Z', locked: true, lastInputTime: '2026-01-01T00:00:00Z' },
            ],
          },
        ],
      };
      const mock = createMockApi(farm);
      let chosen = 0;
      const api = overriding(mock, {
        querySessionInformation: (async (...args: Query) => {
          // The selection reads each session's WTSSessionInfoEx once; the second one is the re-check's.
          if (args[1] === 3 && args[2] === 'WTSSessionInfoEx' && ++chosen === 2) {
            const s = mock.getSession('TS01', 3)!;
            mock.putSession('TS01', change === 'unlocked' ? { ...s, locked: false } : { ...s, lastInputTime: new Date().toISOString() });
          }
          return realQuery(mock)(...args);
        }) as WtsApi['querySessionInformation'],
      });
      const out = await createWts({ api }).logoffAll({ idleLongerThan: '1h', locked: true, wait: false });
      expect([change, mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId)]).toEqual([change, [4]]);
      expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
    }
  });

  test('HOLDS: watchSessions({ details: true }): its listing reads each session with 3 queries (no WTSSessionInfo), and a lock shows as a lock event', async () => {
    const farm: Farm = {
      localServer: 'TS01',
      servers: [{ name: 'TS01', sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP', clientName: 'PC', clientAddress: '10.0.0.3', logonTime: '2026-11-21T00:00:00Z', locked: false }] }],
    };
    const mock = createMockApi(farm);
    const ac = new AbortController();
    const it = createWts({ api: mock }).watchSessions({ details: true, initial: true, signal: ac.signal, reconcileMs: 100 })[Symbol.asyncIterator]();
    try {
      const first = await nextEvent(it);
      expect(first.type).toBe('snapshot');
      const mine = mock.calls.filter((c) => c.api === 'query' && c.sessionId === 3).map((c) => c.infoClass).sort();
      expect(mine).toEqual(['WTSClientInfo', 'WTSClientProtocolType', 'WTSSessionInfoEx']);
      mock.putSession('TS01', { ...mock.getSession('TS01', 3)!, locked: true });
      let e = await nextEvent(it);
      while (e.type !== 'lock') e = await nextEvent(it);
      expect(e).toMatchObject({ type: 'lock' });
    } finally {
      ac.abort();
      await it.return?.();
    }
  });
  test('HOLDS: watchSessions({ servers: [TS01, WF12], details: true }) over many relistings: one NetServerGetInfo per server connection, never a WTSSessionInfo, and a lock on WF12 shows as a lock event', async () => {
    const mock = createMockApi({
      localServer: 'TS01',
      servers: [
        { name: 'TS01', sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob' }] },
        { name: 'WF12', sessions: [{ id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'xavier' }] },
      ],
    });
    const ac = new AbortController();
    const it = createWts({ api: mock }).watchSessions({ servers: ['TS01', 'WF12'], details: true, initial: true, reconcileMs: 50, signal: ac.signal })[Symbol.asyncIterator]();
    try {
      expect((await nextEvent(it)).type).toBe('snapshot');
      await sleep(300); // several reconciles: each server listed again, with its details
      mock.putSession('WF12', { ...mock.getSession('WF12', 3)!, locked: true });
      let e = await nextEvent(it);
      while (e.type !== 'lock') e = await nextEvent(it);
      expect(e).toMatchObject({ type: 'lock', session: { server: 'WF12', id: 3 } });
      expect(mock.calls.filter((c) => c.api === 'enumerate').length).toBeGreaterThan(4);
      expect(mock.calls.filter((c) => c.api === 'version').map((c) => c.server).sort()).toEqual(['TS01', 'WF12']);
      expect(mock.calls.filter((c) => c.api === 'query' && c.infoClass === 'WTSSessionInfo')).toEqual([]);
    } finally {
      ac.abort();
      await it.return?.();
    }
  });
});
