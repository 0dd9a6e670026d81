/**
 * Items earlier reviews noticed and left alone, fixed: each test failed before its fix.
 */
import { createWts, isWtsError, LogoffTimeoutError, reviveWtsError, ThreadsExhaustedError, Win32Error, WtsError, type WtsApi } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { formatOutcome, summarize, wasWarned } from '../../src/cli/format';
import { summaryDocument } from '../../src/cli/json';
import { exampleFarm, overriding, rejection } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;
type Enumerate = Parameters<WtsApi['enumerateSessions']>;

describe('a poll refused by the threads after the request keeps its class', () => {
  // docs/errors.md: a ThreadsExhaustedError says no call was made; after an accepted request the
  // wait's failure lists that request. The poll's refusal used to come back as a plain WtsError.
  const cases: Array<[string, 'logoffSession' | 'disconnectSession', (w: ReturnType<typeof createWts>) => Promise<unknown>, string]> = [
    ['logoff', 'logoffSession', (w) => w.logoff(3, { pollIntervalMs: 1, timeoutMs: 2000 }), 'WTSLogoffSession'],
    ['disconnect', 'disconnectSession', (w) => w.disconnect(3, { wait: true, pollIntervalMs: 1, timeoutMs: 2000 }), 'WTSDisconnectSession'],
  ];
  test.each(cases)('%s: a ThreadsExhaustedError from the poll stays one, with the request listed and the backend error untouched', async (_name, method, call, request) => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 2 });
    const refusal = Object.freeze(new ThreadsExhaustedError(128, 128, 10_000, ''));
    let requested = false;
    const api = overriding(mock, {
      [method]: async (h: bigint, id: number) => {
        await (mock[method] as (h: bigint, id: number) => Promise<void>)(h, id);
        requested = true;
      },
      querySessionInformation: (async (...args: Query) => {
        if (requested) throw refusal;
        return (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
      }) as WtsApi['querySessionInformation'],
      enumerateSessions: (async (...args: Enumerate) => {
        if (requested) throw refusal;
        return (mock.enumerateSessions as (...a: Enumerate) => Promise<unknown>)(...args);
      }) as WtsApi['enumerateSessions'],
    });
    const error = await rejection(call(createWts({ api })));
    expect(error).toBeInstanceOf(ThreadsExhaustedError);
    expect(isWtsError(error) && error.code).toBe('E_THREADS_EXHAUSTED');
    expect(error['requests']).toEqual([request]);
    expect(error['sessionId']).toBe(3);
    expect(error['maxThreads']).toBe(128);
    expect(error.message).toContain(`${request} was sent and accepted for session ID 3`);
    expect(error.message).toContain('All 128 of');
    expect(error).not.toBe(refusal);
    expect(refusal.requests).toEqual([]);
  });
});

describe("a failed outcome's error, copied to carry the requests sent before it, is still a library error", () => {
  // docs/errors.md: isWtsError(value) tells the library's errors; a failed outcome's error lists the
  // requests sent and accepted before it (on a copy). The copy was made with Object.create: not a
  // real Error, so isWtsError said no, and `instanceof Error` held only through the prototype.
  test('a warned session whose logoff is refused (5): isWtsError, a Win32Error, an Error with a stack, JSON with the requests', async () => {
    const mock = createMockApi(exampleFarm());
    mock.setFault('TS01', 'logoff', 3, 5);
    const out = await createWts({ api: mock }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const o = out.find((x) => x.session.id === 3);
    expect(o?.status).toBe('failed');
    const error = (o as { error: unknown }).error;
    expect(isWtsError(error)).toBe(true);
    expect(Object.prototype.toString.call(error)).toBe('[object Error]');
    expect(error).toBeInstanceOf(Win32Error);
    expect((error as Win32Error).win32Code).toBe(5);
    expect((error as Win32Error).requests).toEqual(['WTSSendMessageW']);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'Win32Error', code: 'E_WIN32', win32Code: 5, requests: ['WTSSendMessageW'] });
  });
});

describe('wts-logoff --warn counts as warned only the sessions whose warning was not refused', () => {
  // docs/json.md (summary): `warned` — sessions sent the --warn message, not counting a session
  // whose warning was refused (its outcome is `failed` with that error). The text line of such a
  // failure said "(The warning had been sent.)" after "WTSSendMessageW failed".
  test('a warning refused with 5 is not warned; a logoff refused with 5 after an accepted warning is', async () => {
    const mock = createMockApi(exampleFarm());
    mock.setFault('TS01', 'message', 3, 5);
    const out = await createWts({ api: mock }).logoffAll({ wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const byId = (id: number) => out.find((o) => o.session.id === id)!;
    expect(byId(3).status).toBe('failed');
    expect(byId(3).requests).toEqual(['WTSSendMessageW']); // made: it stays listed
    expect(wasWarned(byId(3))).toBe(false);
    expect(formatOutcome(byId(3))).not.toContain('The warning had been sent');
    const warnedIds = out.filter(wasWarned).map((o) => o.session.id);
    expect(warnedIds).not.toContain(3);
    expect(warnedIds.length).toBeGreaterThan(0);
    // Every session with a request after its warning was warned.
    for (const o of out) if (o.requests.includes('WTSLogoffSession') && o.requests[0] === 'WTSSendMessageW') expect(wasWarned(o)).toBe(true);
    expect(summarize(out)).toContain(`${warnedIds.length} warned`);
    const doc = summaryDocument({ action: 'loggedOff', dryRun: false, outcomes: out, serversFailed: 0, serversStopped: 0, interrupted: false, exitCode: 1 });
    expect(doc['warned']).toBe(warnedIds.length);
  });
});

describe('reviveWtsError keeps a plain WtsError plain', () => {
  // Review 28: a disconnect's timeout is a WtsError with code E_TIMEOUT (no class of its own);
  // revived from JSON it became a LogoffTimeoutError (the class of the code), a class it never was.
  test('a disconnect timeout survives JSON as a WtsError; a logoff timeout as a LogoffTimeoutError', async () => {
    const mock = createMockApi(exampleFarm());
    const api = overriding(mock, { disconnectSession: async () => undefined }); // accepted, never takes effect
    const error = await rejection(createWts({ api }).disconnect(4, { wait: true, pollIntervalMs: 1, timeoutMs: 30 }));
    expect((error as unknown as WtsError).code).toBe('E_TIMEOUT');
    const revived = reviveWtsError(JSON.parse(JSON.stringify(error)));
    expect(revived.constructor).toBe(WtsError);
    expect(revived).not.toBeInstanceOf(LogoffTimeoutError);
    expect(revived.requests).toEqual(['WTSDisconnectSession']);
    const logoffTimeout = reviveWtsError(JSON.parse(JSON.stringify(new LogoffTimeoutError(3, '', 30))));
    expect(logoffTimeout).toBeInstanceOf(LogoffTimeoutError);
    expect((logoffTimeout as LogoffTimeoutError).timeoutMs).toBe(30);
  });
});

describe('a warning still unanswered when the run was cut short is not counted as warned', () => {
  // docs/json.md (summary `warned`): a session whose warning was still unanswered when the run was
  // cut short (`requested`, `accepted` not true) is not counted; one whose warning had returned is.
  test('requested with the warning last: counted only when accepted', () => {
    const session = { id: 3, name: 'RDP-Tcp#1', state: 'Active', userName: 'bob', domain: 'CORP', server: '', isConsole: false, isCurrent: false } as const;
    const cut = (accepted: true | undefined) =>
      ({ status: 'requested', session, request: 'WTSSendMessageW', accepted, message: 'cut', requests: ['WTSSendMessageW'] }) as unknown as Parameters<typeof wasWarned>[0];
    expect(wasWarned(cut(undefined))).toBe(false);
    expect(wasWarned(cut(true))).toBe(true);
    const afterLogoff = { status: 'requested', session, request: 'WTSLogoffSession', accepted: undefined, message: 'cut', requests: ['WTSSendMessageW', 'WTSLogoffSession'] } as unknown as Parameters<typeof wasWarned>[0];
    expect(wasWarned(afterLogoff)).toBe(true);
  });
});
