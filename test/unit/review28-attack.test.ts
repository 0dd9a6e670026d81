/**
 * Review 28: adversarial tests of the last hour's promises (docs/errors.md, docs/logoffAll.md,
 * docs/listSessions.md, CHANGELOG "Unreleased"), on the mock backend in this process.
 *
 * `FIXED:` a promise the code broke (the test failed before its fix; its comment cites the
 * promise). `HOLDS:` the code withstood the attack.
 */
import {
  createWts,
  InvalidArgumentError,
  isWtsError,
  LogoffTimeoutError,
  OperationAbortedError,
  reviveWtsError,
  ServerTimeoutError,
  SessionNotFoundError,
  ThreadsExhaustedError,
  Win32Error,
  WtsError,
  type WtsApi,
} from '../../src/index';
import { createMockApi, type Farm, type MockApi } from '../../src/mock';
import { formatOutcome, summarize, wasWarned } from '../../src/cli/format';
import { exampleFarm, logoffCalls, nextEvent, overriding, rejection, sleep } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;
type Enumerate = Parameters<WtsApi['enumerateSessions']>;
const realQuery = (mock: MockApi, ...args: Query) => (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
const realEnumerate = (mock: MockApi, ...args: Enumerate) => (mock.enumerateSessions as (...a: Enumerate) => Promise<unknown>)(...args);

/** Every property a real library error must have (promise 1's list), checked on `error`. */
function expectRealLibraryError(error: unknown, Class: abstract new (...a: never[]) => WtsError): void {
  expect(isWtsError(error)).toBe(true);
  expect(error).toBeInstanceOf(Class);
  expect(error).toBeInstanceOf(Error);
  expect(Object.prototype.toString.call(error)).toBe('[object Error]');
  const e = error as WtsError;
  const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
  expect(json).toEqual(JSON.parse(JSON.stringify(e.toJSON())));
  expect(json['code']).toBe(e.code);
  expect(json['requests']).toEqual([...e.requests]);
  const revived = reviveWtsError(json);
  expect(revived.code).toBe(e.code);
  expect(revived.message).toBe(e.message);
  expect(revived.requests).toEqual(e.requests);
  expect(revived.server).toBe(e.server);
  expect(revived.sessionId).toBe(e.sessionId);
  expect(typeof e.stack).toBe('string');
}

// ---------------------------------------------------------------------------------------------
// Promise 1: errors that carry requests are real library errors (copies, the backend's untouched)
// ---------------------------------------------------------------------------------------------

describe('promise 1: a failed bulk outcome whose error lists the requests accepted before it', () => {
  test('HOLDS: a warned session whose re-check is refused with ONE frozen Win32Error shared by two sessions: each outcome gets its own real copy with the warning listed; the shared error is untouched', async () => {
    // docs/logoffAll.md / CHANGELOG: the requests go on a copy (same class, same fields), never on
    // the backend's own object, which may be frozen or shared.
    const mock = createMockApi(exampleFarm());
    const shared = Object.freeze(new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW', server: 'TS01', sessionId: 77 }));
    const warned = new Set<number>();
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        warned.add(id);
        return r;
      },
      querySessionInformation: (async (...args: Query) => {
        if ((args[1] === 4 || args[1] === 7) && warned.has(args[1])) throw shared;
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    // (Session 5's logoff is refused with 5 by the example farm itself: left out here.)
    const failed = out.filter((o) => o.status === 'failed' && o.session.id !== 5);
    expect(failed.map((o) => o.session.id).sort()).toEqual([4, 7]);
    const errors = failed.map((o) => (o as { error: unknown }).error as Win32Error);
    for (const [k, error] of errors.entries()) {
      expectRealLibraryError(error, Win32Error);
      expect(error).not.toBe(shared);
      expect(error.requests).toEqual(['WTSSendMessageW']);
      expect(failed[k]!.requests).toEqual(['WTSSendMessageW']);
      // Fields kept as the backend gave them.
      expect([error.win32Code, error.api, error.server, error.sessionId, error.message, error.code]).toEqual([5, 'WTSQuerySessionInformationW', 'TS01', 77, shared.message, 'E_WIN32']);
      expect(reviveWtsError(JSON.parse(JSON.stringify(error)))).toBeInstanceOf(Win32Error);
      expect((reviveWtsError(JSON.parse(JSON.stringify(error))) as Win32Error).win32Code).toBe(5);
    }
    expect(errors[0]).not.toBe(errors[1]);
    expect(shared.requests).toEqual([]);
    expect(Object.isFrozen(shared)).toBe(true);
  });

  /*
   * Promise 1: "When a bulk outcome is failed after some requests were sent and accepted, its
   * `error` lists them in `error.requests`". Promise 3: a session warned and then failing later (a
   * re-check failing) is counted as warned, and its line says the warning had been sent.
   *
   * The Ledger adds the accepted requests only "when it has none of its own": a backend error that
   * arrives already carrying `requests` is passed through as it is. Such errors exist: a relay
   * backend that revives its agent's errors (reviveWtsError keeps `requests`), or — through the
   * E_TIMEOUT bug of promise 2 below — a shared backend error that an earlier logoff() wrote its
   * request on. Here the re-check after carol's accepted warning fails with such an error: the
   * outcome says requests ['WTSSendMessageW'] but its error says ['WTSLogoffSession'] (a request
   * never sent to carol) and not the warning; and the command then does NOT count carol as warned
   * and does not say "(The warning had been sent.)" (wasWarned reads the error's requests).
   */
  test('FIXED: a warned session whose re-check fails with a backend error that already carries requests: error.requests does not list the accepted warning, and the command does not count the warning', async () => {
    const mock = createMockApi(exampleFarm());
    const relayed = reviveWtsError({ name: 'Win32Error', code: 'E_WIN32', message: 'relay: access denied', win32Code: 5, api: 'WTSQuerySessionInformationW', requests: ['WTSLogoffSession'] });
    const warned = new Set<number>();
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        warned.add(id);
        return r;
      },
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4 && warned.has(4)) throw relayed;
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).logoffAll({ user: 'carol', wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const carol = out.find((o) => o.session.id === 4)!;
    expect(carol.status).toBe('failed');
    expect(carol.requests).toEqual(['WTSSendMessageW']);
    const error = (carol as { error: WtsError }).error;
    expect(error.requests).toContain('WTSSendMessageW'); // fails: ['WTSLogoffSession']
    expect(wasWarned(carol)).toBe(true);
    expect(formatOutcome(carol)).toContain('(The warning had been sent.)');
    expect(summarize(out)).toContain('1 warned');
  });

  test('HOLDS: a backend error of a subclass of its own (extra field, its own prototype) is copied as that class, the extra field kept', async () => {
    class AgentError extends Win32Error {
      readonly agent = 'relay-7';
    }
    const mock = createMockApi(exampleFarm());
    const warned = new Set<number>();
    const refusal = new AgentError({ win32Code: 1726, api: 'WTSQuerySessionInformationW' });
    const api = overriding(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        warned.add(id);
        return r;
      },
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 4 && warned.has(4)) throw refusal;
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const error = (out.find((o) => o.session.id === 4) as unknown as { error: AgentError }).error;
    expectRealLibraryError(error, AgentError);
    expect(error.agent).toBe('relay-7');
    expect(error.requests).toEqual(['WTSSendMessageW']);
    expect(refusal.requests).toEqual([]);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ agent: 'relay-7', win32Code: 1726, requests: ['WTSSendMessageW'] });
  });

  test('HOLDS: logoffAll with servers: [TS01, WF12], warned, then the wait times out: LogoffTimeoutError copies with both requests, timeoutMs and server kept, JSON round trip back to LogoffTimeoutError', async () => {
    const farm = exampleFarm();
    // Nobody ever closes: closingPolls very high.
    const mock = createMockApi(farm, { closingPolls: 1_000_000 });
    const result = await createWts({ api: mock }).logoffAll({
      servers: ['TS01', 'WF12'],
      user: 'bob',
      warn: { text: 'bye', graceSeconds: 0 },
      timeoutMs: 150,
      pollIntervalMs: 10,
    });
    const failed = result.results.filter((o) => o.status === 'failed');
    expect(failed.length).toBe(1);
    const error = (failed[0] as unknown as { error: LogoffTimeoutError }).error;
    expectRealLibraryError(error, LogoffTimeoutError);
    expect(error.requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
    expect(error.timeoutMs).toBe(150);
    expect(error.server).toBe(''); // TS01 is the local machine: named ''
    expect(error.sessionId).toBe(3);
    const revived = reviveWtsError(JSON.parse(JSON.stringify(error)));
    expect(revived).toBeInstanceOf(LogoffTimeoutError);
    expect((revived as LogoffTimeoutError).timeoutMs).toBe(150);
    expect(revived.requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
  });

  test('HOLDS: disconnectAll({ wait: true }) whose wait times out: a real WtsError E_TIMEOUT listing WTSDisconnectSession', async () => {
    const mock = createMockApi(exampleFarm());
    // The disconnect is accepted, but the session never shows Disconnected.
    const api = overriding(mock, { disconnectSession: async () => undefined });
    const out = await createWts({ api }).disconnectAll({ user: 'carol', wait: true, timeoutMs: 120, pollIntervalMs: 10 });
    const o = out.find((x) => x.session.id === 4)!;
    expect(o.status).toBe('failed');
    const error = (o as { error: WtsError }).error;
    expectRealLibraryError(error, WtsError);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.requests).toEqual(['WTSDisconnectSession']);
    expect(error.sessionId).toBe(4);
  });

  test('HOLDS: a warned session whose logoff the threads refuse unmade (ThreadsExhaustedError, frozen, shared): listed only the warning, a real ThreadsExhaustedError copy', async () => {
    const mock = createMockApi(exampleFarm());
    const refusal = Object.freeze(new ThreadsExhaustedError(4, 4, 1000, 'TS01'));
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        if (id === 4) throw refusal;
        return mock.logoffSession(h, id);
      },
    });
    const out = await createWts({ api }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const o = out.find((x) => x.session.id === 4)!;
    expect(o.status).toBe('failed');
    expect(o.requests).toEqual(['WTSSendMessageW']);
    const error = (o as unknown as { error: ThreadsExhaustedError }).error;
    expectRealLibraryError(error, ThreadsExhaustedError);
    expect(error.requests).toEqual(['WTSSendMessageW']);
    expect([error.maxThreads, error.abandoned]).toEqual([4, 4]);
    expect(refusal.requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 2: a wait after an accepted request keeps the error's class
// ---------------------------------------------------------------------------------------------

type Single = 'logoff' | 'disconnect';
const REQUEST: Record<Single, string> = { logoff: 'WTSLogoffSession', disconnect: 'WTSDisconnectSession' };

/**
 * The mock, where every read after the request (session 3's poll) fails with what `fail()`
 * returns (thrown as is); reads before the request are the mock's.
 */
function pollFailing(op: Single, fail: () => unknown, farm: Farm = exampleFarm()): { api: WtsApi; mock: MockApi; after: () => number } {
  const mock = createMockApi(farm, { closingPolls: 1_000_000 });
  let requested = false;
  let callsAfter = 0;
  const api = overriding(mock, {
    [op === 'logoff' ? 'logoffSession' : 'disconnectSession']: async (h: bigint, id: number) => {
      await (op === 'logoff' ? mock.logoffSession(h as never, id) : mock.disconnectSession(h as never, id));
      requested = true;
    },
    querySessionInformation: (async (...args: Query) => {
      if (requested) {
        callsAfter++;
        throw fail();
      }
      return realQuery(mock, ...args);
    }) as WtsApi['querySessionInformation'],
    enumerateSessions: (async (...args: Enumerate) => {
      if (requested) {
        callsAfter++;
        throw fail();
      }
      return realEnumerate(mock, ...args);
    }) as WtsApi['enumerateSessions'],
  });
  return { api, mock, after: () => callsAfter };
}

const call = (op: Single, api: WtsApi, extra: Record<string, unknown> = {}) =>
  op === 'logoff'
    ? createWts({ api }).logoff(3, { pollIntervalMs: 1, timeoutMs: 2000, ...extra })
    : createWts({ api }).disconnect(3, { wait: true, pollIntervalMs: 1, timeoutMs: 2000, ...extra });

const prefix = (op: Single) => `${REQUEST[op]} was sent and accepted for session ID 3, but waiting for it to take effect failed`;

describe('promise 2: a wait after an accepted request keeps the error class', () => {
  describe.each<Single>(['logoff', 'disconnect'])('%s', (op) => {
    /*
     * Promise 2: "when the poll after the accepted request fails with one of the library's errors
     * (ThreadsExhaustedError; any WtsError subclass), the call rejects with the same class, its
     * message starting with '<Request> was sent and accepted for session ID N, but waiting for it
     * to take effect failed', requests = [that request], server and sessionId set". Promise 1 and
     * copyWtsError's own comment: the backend's error "may be shared ... or frozen" and is never
     * written on.
     *
     * sentThenPoll's E_TIMEOUT branch does `Object.defineProperty(error, 'requests', ...)` on
     * whatever E_TIMEOUT error reached it — including one the BACKEND threw (a backend of your
     * own, or a relay, that times a call out with the library's LogoffTimeoutError): a frozen one
     * makes defineProperty throw, so the call rejects with a TypeError ("Cannot redefine property:
     * requests"), not a library error at all.
     */
    test(`FIXED: ${op}: the poll fails with a FROZEN E_TIMEOUT library error from the backend: the call rejects with a TypeError, not a WtsError`, async () => {
      const shared = Object.freeze(new LogoffTimeoutError(99, 'RELAY', 5));
      const { api } = pollFailing(op, () => shared);
      const error = await rejection(call(op, api));
      expect(isWtsError(error)).toBe(true); // fails: TypeError: Cannot redefine property: requests
      expect(error).toBeInstanceOf(LogoffTimeoutError);
      expect((error as unknown as WtsError).requests).toEqual([REQUEST[op]]);
    });

    /*
     * Same branch, an unfrozen error the backend shares among its calls: the library WRITES its
     * request onto the backend's own object (its `requests` now says ['WTSLogoffSession'] for
     * every later call that gets it), returns that very object (not a copy), and its message does
     * not say the request was sent and accepted (promise 2's message rule for any WtsError).
     */
    test(`FIXED: ${op}: the poll fails with a shared (unfrozen) E_TIMEOUT error from the backend: the backend's object is written on and returned, its message not prefixed`, async () => {
      const shared = new WtsError('E_TIMEOUT', 'The relay gave up on the call after 5 ms.', { server: 'RELAY' });
      const { api } = pollFailing(op, () => shared);
      const error = await rejection(call(op, api));
      expect(shared.requests).toEqual([]); // fails: [that request] is written on the backend's own error
      expect(error).not.toBe(shared);
      expect(isWtsError(error)).toBe(true);
      expect(error.message.startsWith(prefix(op))).toBe(true);
      expect((error as unknown as WtsError).requests).toEqual([REQUEST[op]]);
      expect((error as unknown as WtsError).sessionId).toBe(3);
    });

    const libraryErrors: Array<[string, () => WtsError, abstract new (...a: never[]) => WtsError]> = [
      ['ThreadsExhaustedError (frozen)', () => Object.freeze(new ThreadsExhaustedError(8, 8, 1000)), ThreadsExhaustedError],
      ['ServerTimeoutError', () => new ServerTimeoutError('TS01', 10), ServerTimeoutError],
      ['InvalidArgumentError', () => new InvalidArgumentError('x', 'bad x'), InvalidArgumentError],
      ['SessionNotFoundError (frozen)', () => Object.freeze(new SessionNotFoundError('zzz', 'TS01')), SessionNotFoundError],
      ['a plain WtsError E_SESSION_CHANGED', () => new WtsError('E_SESSION_CHANGED', 'changed'), WtsError],
    ];
    test.each(libraryErrors)(`HOLDS: ${op}: the poll fails with %s: same class, prefixed message, the request listed, server and sessionId set, the backend's error untouched`, async (_name, make, Class) => {
      const original = make();
      const { api } = pollFailing(op, () => original);
      const error = await rejection(call(op, api));
      expectRealLibraryError(error, Class);
      const e = error as unknown as WtsError;
      expect(e).not.toBe(original);
      expect(e.code).toBe(original.code);
      expect(e.message.startsWith(prefix(op))).toBe(true);
      expect(e.message).toContain(original.message);
      expect(e.requests).toEqual([REQUEST[op]]);
      expect(e.server).toBe(original.server ?? '');
      expect(e.sessionId).toBe(original.sessionId ?? 3);
      expect(original.requests).toEqual([]);
    });

    test(`HOLDS: ${op}: a Win32Error (5) from the poll: a Win32Error, prefixed, the request listed, the code kept`, async () => {
      const { api } = pollFailing(op, () => new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW' }));
      const error = await rejection(call(op, api));
      expectRealLibraryError(error, Win32Error);
      expect((error as unknown as Win32Error).win32Code).toBe(5);
      expect(error.message.startsWith(prefix(op))).toBe(true);
      expect((error as unknown as Win32Error).requests).toEqual([REQUEST[op]]);
      expect([(error as unknown as Win32Error).server, (error as unknown as Win32Error).sessionId]).toEqual(['', 3]);
    });

    test.each<[string, () => unknown]>([
      ['a TypeError', () => new TypeError('boom')],
      ['a string', () => 'boom'],
      ['null', () => null],
      ['an object with a win32Code', () => ({ win32Code: 5 })],
      ['a proxy of a Win32Error', () => new Proxy(new Win32Error({ win32Code: 5, api: 'X' }), {})],
    ])(`HOLDS: ${op}: the poll fails with %s (no library error): a WtsError with the request listed`, async (_name, make) => {
      const { api } = pollFailing(op, make);
      const error = await rejection(call(op, api));
      expect(isWtsError(error)).toBe(true);
      expect((error as unknown as WtsError).requests).toEqual([REQUEST[op]]);
      expect((error as unknown as WtsError).sessionId).toBe(3);
      expect(error.message.startsWith(prefix(op))).toBe(true);
    });

    test(`HOLDS: ${op}: a poll that never answers: the timeout error lists the request; nothing is called after the call settled`, async () => {
      const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
      let requested = false;
      let afterSettle = 0;
      let settled = false;
      const api = overriding(mock, {
        [op === 'logoff' ? 'logoffSession' : 'disconnectSession']: async (h: bigint, id: number) => {
          await (op === 'logoff' ? mock.logoffSession(h as never, id) : mock.disconnectSession(h as never, id));
          requested = true;
        },
        querySessionInformation: (async (...args: Query) => {
          if (settled) afterSettle++;
          if (requested) return new Promise(() => undefined);
          return realQuery(mock, ...args);
        }) as WtsApi['querySessionInformation'],
        enumerateSessions: (async (...args: Enumerate) => {
          if (settled) afterSettle++;
          return realEnumerate(mock, ...args);
        }) as WtsApi['enumerateSessions'],
      });
      const error = await rejection(call(op, api, { timeoutMs: 80 }));
      settled = true;
      expect(isWtsError(error)).toBe(true);
      expect((error as unknown as WtsError).code).toBe('E_TIMEOUT');
      if (op === 'logoff') expect(error).toBeInstanceOf(LogoffTimeoutError);
      expect((error as unknown as WtsError).requests).toEqual([REQUEST[op]]);
      await sleep(150);
      expect(afterSettle).toBe(0);
    });

    test(`HOLDS: ${op}: an abort during the wait: OperationAbortedError (E_ABORTED) with the request listed; nothing is called after`, async () => {
      const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
      const controller = new AbortController();
      let requested = false;
      let afterSettle = 0;
      let settled = false;
      const api = overriding(mock, {
        // Accepted, and the session neither closes nor disconnects (closingPolls is huge).
        [op === 'logoff' ? 'logoffSession' : 'disconnectSession']: async (h: bigint, id: number) => {
          if (op === 'logoff') await mock.logoffSession(h as never, id);
          requested = true;
          setTimeout(() => controller.abort(new Error('stop')), 30);
        },
        // Each poll read is slow (and session 3 is already Disconnected in the example farm: the
        // reads after the request hang, so the abort comes in the middle of one).
        querySessionInformation: (async (...args: Query) => {
          if (settled) afterSettle++;
          if (requested) return new Promise(() => undefined);
          return realQuery(mock, ...args);
        }) as WtsApi['querySessionInformation'],
      });
      const error = await rejection(call(op, api, { signal: controller.signal, timeoutMs: 5000, pollIntervalMs: 5 }));
      settled = true;
      expect(error).toBeInstanceOf(OperationAbortedError);
      expect((error as unknown as WtsError).code).toBe('E_ABORTED');
      expect((error as unknown as WtsError).requests).toEqual([REQUEST[op]]);
      expect([(error as unknown as WtsError).server, (error as unknown as WtsError).sessionId]).toEqual(['', 3]);
      await sleep(100);
      expect(afterSettle).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 5: times and lock from one WTSSessionInfoEx query
// ---------------------------------------------------------------------------------------------

const classes = (mock: MockApi) => mock.calls.filter((c) => c.api === 'query').map((c) => `${c.sessionId}:${(c as { infoClass?: string }).infoClass}`);
const MIN = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('promise 5: details times + lock in one WTSSessionInfoEx query', () => {
  test('HOLDS: details: true is 3 queries per session (4 for an IPv6 client), no WTSSessionInfo, one version call', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'ivy', domain: 'CORP', clientName: 'V6', clientAddress: '2001:db8::7', logonTime: '2026-11-21T08:00:00Z' });
    const mock = createMockApi(farm);
    const listed = await createWts({ api: mock }).listSessions({ details: true });
    const perSession = new Map<number, string[]>();
    for (const c of mock.calls.filter((x) => x.api === 'query')) {
      perSession.set(c.sessionId as number, [...(perSession.get(c.sessionId as number) ?? []), (c as { infoClass?: string }).infoClass as string]);
    }
    for (const s of listed) {
      const q = (perSession.get(s.id) ?? []).sort();
      expect(q).toEqual(
        s.id === 9
          ? ['WTSClientAddress', 'WTSClientInfo', 'WTSClientProtocolType', 'WTSSessionInfoEx']
          : ['WTSClientInfo', 'WTSClientProtocolType', 'WTSSessionInfoEx'],
      );
    }
    expect(mock.calls.filter((c) => c.api === 'version').length).toBe(1);
  });

  test('HOLDS: watchSessions({ details: true }): the snapshot costs 3 queries per session, and a lock shows as a lock event', async () => {
    const mock = createMockApi(exampleFarm());
    const it = createWts({ api: mock }).watchSessions({ details: true, initial: true, reconcileMs: 100 })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.type).toBe('snapshot');
    const sessions = (first.value as unknown as { sessions: Array<{ id: number; details: Record<string, unknown> }> }).sessions;
    const queries = mock.calls.filter((c) => c.api === 'query');
    // (The farm has no IPv6 client.)
    expect(queries.length).toBe(sessions.length * 3);
    expect(queries.some((c) => (c as { infoClass?: string }).infoClass === 'WTSSessionInfo')).toBe(false);
    const carol = sessions.find((s) => s.id === 4)!;
    expect(carol.details).toMatchObject({ locked: false, logonTime: new Date('2026-11-21T07:45:00Z') });
    mock.putSession('TS01', { ...mock.getSession('TS01', 4)!, locked: true });
    const ev = await nextEvent(it, 5000);
    expect(ev).toMatchObject({ type: 'lock', session: { id: 4, details: { locked: true } } });
    await it.return?.();
  });

  test.each<[string, (args: Query) => Promise<unknown>]>([
    ['refused with 50', async (a) => { throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW', sessionId: a[1] }); }],
    ['refused with 120', async (a) => { throw new Win32Error({ win32Code: 120, api: 'WTSQuerySessionInformationW', sessionId: a[1] }); }],
    ['answered with level1: null', async () => ({ level: 1, level1: null })],
  ])('HOLDS: WTSSessionInfoEx %s: times from one WTSSessionInfo query, locked null', async (_what, answer) => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[2] === 'WTSSessionInfoEx') {
          await realQuery(mock, ...args); // logged as made
          return answer(args);
        }
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const both = await createWts({ api }).listSessions({ details: ['times', 'lock'] });
    const q = classes(mock);
    for (const s of both) {
      expect(q.filter((c) => c === `${s.id}:WTSSessionInfoEx`).length).toBe(1);
      expect(q.filter((c) => c === `${s.id}:WTSSessionInfo`).length).toBe(1);
      expect(s.details.locked).toBeNull();
    }
    const bob = both.find((s) => s.id === 3)!;
    expect(bob.details.logonTime).toEqual(new Date('2026-11-18T13:15:00Z'));
    expect(bob.details.disconnectTime).toEqual(new Date('2026-11-19T17:40:00Z'));
    expect(bob.details.disconnectedMs).toBeGreaterThan(0);
  });

  test('HOLDS: WTSSessionInfoEx answers 7022 for one session (it ended): listed with details { gone: true }; the others listed', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[2] === 'WTSSessionInfoEx' && args[1] === 5) throw new Win32Error({ win32Code: 7022, api: 'WTSQuerySessionInformationW', sessionId: 5 });
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const both = await createWts({ api }).listSessions({ details: ['times', 'lock'] });
    expect(both.find((s) => s.id === 5)!.details).toEqual({ gone: true });
    expect(both.find((s) => s.id === 4)!.details.locked).toBe(false);
  });

  test('HOLDS: WTSSessionInfoEx refused with 5 (denied) while WTSSessionInfo would answer: listSessions rejects with the Win32Error, as the lock detail alone did', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[2] === 'WTSSessionInfoEx' && args[1] === 5) throw new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW', sessionId: 5 });
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const error = await rejection(createWts({ api }).listSessions({ details: ['times', 'lock'] }));
    expect(error).toBeInstanceOf(Win32Error);
    expect(error['win32Code']).toBe(5);
    const alone = await rejection(createWts({ api }).listSessions({ details: ['lock'] }));
    expect(alone['win32Code']).toBe(5);
  });

  test('HOLDS: Windows 7 (6.1) swap handled with the joined query; the times unchanged', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.osVersion = '6.1';
    farm.servers[0]!.sessions!.find((s) => s.id === 4)!.locked = true;
    const mock = createMockApi(farm);
    const both = await createWts({ api: mock }).listSessions({ details: ['times', 'lock'] });
    expect(both.find((s) => s.id === 4)!.details).toMatchObject({ locked: true, logonTime: new Date('2026-11-21T07:45:00Z') });
    expect(both.find((s) => s.id === 7)!.details.locked).toBe(false);
  });
});

/** A farm where 3 and 4 are locked and idle for 3 hours (the caller is 2, the console 1). */
function idleLockedFarm(): Farm {
  return {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        consoleSessionId: 1,
        currentSessionId: 2,
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
          { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
          { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'dave', domain: 'CORP', logonTime: '2026-11-21T06:00:00Z', lastInputTime: ago(180 * MIN), locked: true },
          { id: 4, name: 'RDP-Tcp#2', state: 'Active', user: 'erin', domain: 'CORP', logonTime: '2026-11-21T06:10:00Z', lastInputTime: ago(180 * MIN), locked: true },
        ],
      },
    ],
  };
}

/**
 * The mock, where `after(n)` runs right after the n-th WTSSessionInfoEx query of session 3 (1 is
 * the selection's, 2 the re-check's) returned, and `afterInfo(n)` after its n-th WTSSessionInfo.
 */
function changing(after: (mock: MockApi, n: number) => void, afterInfo: (mock: MockApi, n: number) => void = () => undefined): { api: WtsApi; mock: MockApi } {
  const mock = createMockApi(idleLockedFarm());
  let ex = 0;
  let info = 0;
  const api = overriding(mock, {
    querySessionInformation: (async (...args: Query) => {
      const r = await realQuery(mock, ...args);
      if (args[1] === 3 && args[2] === 'WTSSessionInfoEx') after(mock, ++ex);
      if (args[1] === 3 && args[2] === 'WTSSessionInfo') afterInfo(mock, ++info);
      return r;
    }) as WtsApi['querySessionInformation'],
  });
  return { api, mock };
}

describe('promise 5 (safety): logoffAll({ idleLongerThan, locked: true }) re-checks both before each logoff', () => {
  const base = { idleLongerThan: '1h', locked: true, wait: false } as const;

  test('HOLDS: both chosen, nothing changes: both logged off (the filter can select at all)', async () => {
    const { api, mock } = changing(() => undefined);
    const out = await createWts({ api }).logoffAll(base);
    expect(logoffCalls(mock).sort()).toEqual([3, 4]);
    expect(out.filter((o) => o.status === 'loggedOff').length).toBe(2);
  });

  test.each<[string, Record<string, unknown>]>([
    ['no warning', {}],
    ['a warning (grace 0)', { warn: { text: 'bye', graceSeconds: 0 } }],
  ])('HOLDS (%s): the user unlocks right after being chosen: not logged off, skipped filtered', async (_w, extra) => {
    const { api, mock } = changing((m, n) => {
      if (n === 1) m.putSession('TS01', { ...m.getSession('TS01', 3)!, locked: false });
    });
    const out = await createWts({ api }).logoffAll({ ...base, ...extra });
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
  });

  test('HOLDS: the user types right after being chosen (still locked? no matter): not logged off', async () => {
    const { api, mock } = changing((m, n) => {
      if (n === 1) m.putSession('TS01', { ...m.getSession('TS01', 3)!, lastInputTime: new Date().toISOString() });
    });
    const out = await createWts({ api }).logoffAll(base);
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
  });

  test("HOLDS: the user types between the re-check's WTSSessionInfoEx and its identity read (WTSSessionInfo): not logged off", async () => {
    const { api, mock } = changing((m, n) => {
      if (n === 2) m.putSession('TS01', { ...m.getSession('TS01', 3)!, lastInputTime: new Date().toISOString(), locked: false });
    });
    const out = await createWts({ api }).logoffAll(base);
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
  });

  test('HOLDS: another logon under the ID (same user, new logon time) after being chosen: skipped changed, not logged off', async () => {
    const { api, mock } = changing((m, n) => {
      if (n === 1) m.putSession('TS01', { ...m.getSession('TS01', 3)!, logonTime: new Date().toISOString() });
    });
    const out = await createWts({ api }).logoffAll(base);
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped' });
  });

  test('HOLDS: the server stops answering WTSSessionInfoEx at the re-check (87): lock unknown, not logged off', async () => {
    const mock = createMockApi(idleLockedFarm());
    let ex = 0;
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 3 && args[2] === 'WTSSessionInfoEx' && ++ex >= 2) throw new Win32Error({ win32Code: 87, api: 'WTSQuerySessionInformationW', sessionId: 3 });
        return realQuery(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).logoffAll(base);
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
  });

  test('HOLDS: listSessions({ idleLongerThan, locked: true }) reads one WTSSessionInfoEx per session the cheap filters pass, and nothing else', async () => {
    const mock = createMockApi(idleLockedFarm());
    const listed = await createWts({ api: mock }).listSessions({ idleLongerThan: '1h', locked: true });
    expect(listed.map((s) => s.id)).toEqual([3, 4]);
    const q = classes(mock);
    expect(q.every((c) => c.endsWith(':WTSSessionInfoEx'))).toBe(true);
    expect(new Set(q).size).toBe(q.length);
  });

  test('HOLDS: a dry run then its plan, the user unlocking in between: the plan does not log the user off', async () => {
    const mock = createMockApi(idleLockedFarm());
    const wts = createWts({ api: mock });
    const plan = await wts.logoffAll({ ...base, dryRun: true });
    expect(plan.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id)).toEqual([3, 4]);
    mock.putSession('TS01', { ...mock.getSession('TS01', 3)!, locked: false });
    const out = await wts.logoffAll({ ...base, plan });
    expect(logoffCalls(mock)).toEqual([4]);
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped' });
  });
});

