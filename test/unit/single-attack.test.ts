/**
 * Adversarial tests of the single-session surface: logoff(target), disconnect(target),
 * sendMessage(target) — not the bulk forms, not watchSessions. Judged by docs/logoff.md,
 * docs/disconnect.md, docs/sendMessage.md, docs/errors.md, README.md (protected sessions) and
 * docs/windows-facts.md.
 *
 * FIXED: failed before the fix (the code broke a documented promise). HOLDS: an attack the code withstood.
 */
import fc from 'fast-check';
import { createWts, Win32Error, type Wts, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { exampleFarm, logoffCalls, overriding, rejection, setup, within, wtsCalls } from '../helpers';

type Query = Parameters<WtsApi['querySessionInformation']>;
const query = (mock: MockApi, ...args: Query) => (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);

/** What a promise settles to within `ms`: 'resolved', the error's code, or 'pending'. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<string> {
  const r = await within(
    p.then(
      () => 'resolved',
      (e: { code?: string }) => e.code ?? 'rejected',
    ),
    ms,
  );
  return r === 'timeout' ? 'pending' : r;
}

// -------------------------------------------------------------------------------------------------
// 1. "refused before any WTS call" — Services and listener IDs on a remote server
// -------------------------------------------------------------------------------------------------

describe('protected IDs are refused before any WTS call, on any server', () => {
  // docs/logoff.md (Refusals): "Services, listener IDs and, on the local server, the console's ID or
  // the name `Console` are refused **before any WTS call**". README (Protected sessions): "Checks
  // that need no list are made before any WTS call." The server is opened (WTSOpenServerExW) and
  // closed first: the refusal is made inside the opened connection.
  const calls: Array<[string, (w: Wts) => Promise<unknown>]> = [
    ['logoff(0, { server: WF12 })', (w) => w.logoff(0, { server: 'WF12' })],
    ['logoff(65536, { server: WF12 })', (w) => w.logoff(65536, { server: 'WF12' })],
    ['disconnect(0, { server: WF12 })', (w) => w.disconnect(0, { server: 'WF12' })],
    ['disconnect(70000, { server: WF12 })', (w) => w.disconnect(70000, { server: 'WF12' })],
    ['sendMessage(0, { server: WF12 })', (w) => w.sendMessage(0, { server: 'WF12', text: 'hi' })],
    ['sendMessage(65536, { server: WF12 })', (w) => w.sendMessage(65536, { server: 'WF12', text: 'hi' })],
  ];
  test.each(calls)('FIXED: %s is refused with no WTS call at all (no WTSOpenServerExW / WTSCloseServer)', async (_name, call) => {
    const { mock, wts } = setup();
    const error = await rejection(call(wts));
    expect(error['code']).toMatch(/^E_(SERVICES|LISTENER)$/);
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('FIXED: a server object (openServer(WF12)).logoff(0) opens the server to refuse it', async () => {
    const { mock, wts } = setup();
    const server = wts.openServer('WF12');
    const error = await rejection(server.logoff(0));
    await server.close();
    expect(error['code']).toBe('E_SERVICES');
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('HOLDS: on the local server (any of its names) Services, listeners and the console ID / name make no WTS call', async () => {
    for (const server of [undefined, 'TS01', 'localhost', '127.0.0.1', 'ts01.corp.example.com']) {
      const o = server === undefined ? {} : { server };
      for (const call of [
        (w: Wts) => w.logoff(0, o),
        (w: Wts) => w.logoff(65536, o),
        (w: Wts) => w.logoff(1, o),
        (w: Wts) => w.logoff('console', o),
        (w: Wts) => w.disconnect(1, o),
        (w: Wts) => w.disconnect('CONSOLE', o),
        (w: Wts) => w.sendMessage(0, { ...o, text: 'x' }),
        (w: Wts) => w.sendMessage(65536, { ...o, text: 'x' }),
      ]) {
        const { mock, wts } = setup();
        const error = await rejection(call(wts));
        expect(error['code']).toMatch(/^E_(SERVICES|LISTENER|CONSOLE)$/);
        expect(wtsCalls(mock)).toEqual([]);
      }
    }
  });
});

// -------------------------------------------------------------------------------------------------
// 2. Waiting: 7007 while the logoff runs
// -------------------------------------------------------------------------------------------------

describe('logoff: a close pending (7007)', () => {
  // docs/logoff.md (Waiting): "the session is then polled ... until it is gone: the call fails with
  // 7022 (session not found), or the ID now holds another logon ... After `timeoutMs`:
  // LogoffTimeoutError". docs/windows-facts.md, query-after-logoff: "during the logoff the session
  // may still answer, or fail with 7007 (assumed)" — wts-session: "Polls until 7022".
  test('FIXED: a poll answered 7007 (close pending) while the requested logoff runs does not end the wait: the logoff resolves loggedOff, confirmed', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 2 });
    let requested = false;
    let injected = 0;
    const api = overriding(mock, {
      logoffSession: async (h, id) => {
        await mock.logoffSession(h, id);
        requested = true;
      },
      querySessionInformation: (async (...args: Query) => {
        if (requested && args[1] === 3 && args[2] === 'WTSSessionInfo' && injected++ === 0) {
          throw new Win32Error({ win32Code: 7007, api: 'WTSQuerySessionInformationW', sessionId: 3 });
        }
        return query(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const result = await createWts({ api })
      .logoff(3, { pollIntervalMs: 1, timeoutMs: 2000 })
      .then(
        (o) => ({ status: o.status, confirmed: o.confirmed }),
        (e: { code: string; win32Code?: number }) => ({ code: e.code, win32Code: e.win32Code }),
      );
    expect(result).toEqual({ status: 'loggedOff', confirmed: true });
    expect(logoffCalls(mock)).toEqual([3]);
  });

  // docs/logoff.md (Waiting): "If a close was already pending (7007), that counts as the logoff:
  // `alreadyClosing: true`." docs/windows-facts.md, logoff-closing: "7007 is sourced only for
  // queries on a closing session (Cassia #36, #60)". A session another admin is logging off is
  // still listed, and its WTSSessionInfo query answers 7007: the identity read fails first.
  test('FIXED: logoff(id) of a session whose close is already pending (its query answers 7007, as sourced) counts as the logoff (alreadyClosing), not a Win32Error', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 50 });
    await mock.logoffSession(0n as never, 3); // someone else's logoff, still running
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 3 && mock.getSession('TS01', 3)?.closing !== undefined) {
          throw new Win32Error({ win32Code: 7007, api: 'WTSQuerySessionInformationW', sessionId: 3 });
        }
        return query(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    const result = await createWts({ api })
      .logoff(3, { wait: false })
      .then(
        (o) => ({ status: o.status, alreadyClosing: o.alreadyClosing, requests: o.requests }),
        (e: { code: string; win32Code?: number }) => ({ code: e.code, win32Code: e.win32Code }),
      );
    // No request of its own: without an identity read, nothing is made on the ID.
    expect(result).toEqual({ status: 'loggedOff', alreadyClosing: true, requests: [] });
    expect(logoffCalls(mock)).toEqual([3]); // the other admin's, made above
  });

  test('FIXED (with wait): a session whose close is already pending is polled until it is gone, with no request of its own', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 3 });
    await mock.logoffSession(0n as never, 3);
    const api = overriding(mock, {
      // The mock's own query first (it counts the closing phase in polls), then 7007 while closing.
      querySessionInformation: (async (...args: Query) => {
        const answer = await query(mock, ...args);
        if (args[1] === 3 && mock.getSession('TS01', 3)?.closing !== undefined) {
          throw new Win32Error({ win32Code: 7007, api: 'WTSQuerySessionInformationW', sessionId: 3 });
        }
        return answer;
      }) as WtsApi['querySessionInformation'],
    });
    const out = await createWts({ api }).logoff(3, { pollIntervalMs: 1, timeoutMs: 2000 });
    expect(out).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: true, requests: [] });
    expect(mock.getSession('TS01', 3)).toBeUndefined();
    expect(logoffCalls(mock)).toEqual([3]);
  });

  test('FIXED (with wait): the ID of a closing session taken by another account ends the wait (gone); the same account still answering does not', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    const before = mock.getSession('TS01', 3)!;
    let polls = 0;
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 3 && polls++ === 0) throw new Win32Error({ win32Code: 7007, api: 'WTSQuerySessionInformationW', sessionId: 3 });
        return query(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    // The same account still answering: not gone, the wait runs to its timeout.
    const same = await rejection(createWts({ api }).logoff(3, { pollIntervalMs: 5, timeoutMs: 120 }));
    expect(same).toMatchObject({ code: 'E_TIMEOUT', requests: [] });
    // Another account under the ID: gone.
    polls = 0;
    const wts = createWts({ api });
    const p = wts.logoff(3, { pollIntervalMs: 5, timeoutMs: 2000 });
    setTimeout(() => mock.putSession('TS01', { ...before, id: 3, user: 'mallory', name: 'RDP-Tcp#9' }), 30);
    expect(await p).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: true, requests: [] });
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('HOLDS: WTSLogoffSession answering 7007 counts (alreadyClosing), and a repeat while closing is not a failure', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 4 });
    await mock.logoffSession(0n as never, 6);
    const out = await wts.logoff(6, { pollIntervalMs: 1 });
    expect(out).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: true, requests: ['WTSLogoffSession'] });
    expect(mock.getSession('TS01', 6)).toBeUndefined();
  });
});

// -------------------------------------------------------------------------------------------------
// 3. timeoutMs and signal while a poll query does not come back
// -------------------------------------------------------------------------------------------------

describe('timeoutMs and signal bound the wait', () => {
  /** The mock, whose WTSSessionInfo queries of `id` never return once the action was requested (a server that stopped answering). */
  function hangingAfterRequest(id: number): { mock: MockApi; api: WtsApi } {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    let requested = false;
    const api = overriding(mock, {
      logoffSession: async (h, sid) => {
        await mock.logoffSession(h, sid);
        requested = true;
      },
      disconnectSession: async (h, sid) => {
        await mock.disconnectSession(h, sid);
        requested = true;
      },
      querySessionInformation: (async (...args: Query) => {
        if (requested && args[1] === id) return new Promise(() => undefined);
        return query(mock, ...args);
      }) as WtsApi['querySessionInformation'],
    });
    return { mock, api };
  }

  // docs/logoff.md: "After `timeoutMs` (default 60000): `LogoffTimeoutError`; the logoff was
  // requested and may still finish." README: timeoutMs "then LogoffTimeoutError".
  test('FIXED: logoff(3, { timeoutMs: 100 }): a poll query that does not come back holds the call far past timeoutMs (no LogoffTimeoutError)', async () => {
    const { api } = hangingAfterRequest(3);
    const p = createWts({ api }).logoff(3, { timeoutMs: 100, pollIntervalMs: 10 });
    expect(await settledWithin(p, 900)).toBe('E_TIMEOUT');
  });

  // docs/logoff.md: "`signal` aborts the wait (`OperationAbortedError`)". README: signal "stops waiting".
  test('FIXED: logoff(3, { signal }): aborting while a poll query does not come back does not stop the wait', async () => {
    const { api } = hangingAfterRequest(3);
    const controller = new AbortController();
    const p = createWts({ api }).logoff(3, { signal: controller.signal, pollIntervalMs: 10 });
    setTimeout(() => controller.abort(new Error('Ctrl+C')), 100);
    expect(await settledWithin(p, 900)).toBe('E_ABORTED');
  });

  // docs/disconnect.md: "polled until it reads Disconnected ... under `timeoutMs` (default 60000;
  // then a `WtsError` with code `E_TIMEOUT`; the request was accepted)".
  test('FIXED: disconnect(4, { timeoutMs: 100 }): a poll query that does not come back holds the call past timeoutMs', async () => {
    const { api } = hangingAfterRequest(4);
    const p = createWts({ api }).disconnect(4, { timeoutMs: 100, pollIntervalMs: 10 });
    expect(await settledWithin(p, 900)).toBe('E_TIMEOUT');
  });

  test('HOLDS: a session that stays: LogoffTimeoutError with requests [WTSLogoffSession] and a message saying it was asked; disconnect the same', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const e = await rejection(wts.logoff(3, { timeoutMs: 60, pollIntervalMs: 5 }));
    expect(e).toMatchObject({ code: 'E_TIMEOUT', requests: ['WTSLogoffSession'], sessionId: 3 });
    expect(e.message).toMatch(/was asked to log off/);
    const inert = overriding(mock, { disconnectSession: async () => undefined });
    const d = await rejection(createWts({ api: inert }).disconnect(4, { timeoutMs: 60, pollIntervalMs: 5 }));
    expect(d).toMatchObject({ code: 'E_TIMEOUT', requests: ['WTSDisconnectSession'] });
    expect(mock.openHandleCount).toBe(0);
  });

  test('HOLDS: an abort after the request is accepted says it was sent (logoff, disconnect); an abort before sends nothing', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const c1 = new AbortController();
    setTimeout(() => c1.abort(), 40);
    expect(await rejection(wts.logoff(3, { signal: c1.signal, pollIntervalMs: 5 }))).toMatchObject({ code: 'E_ABORTED', requests: ['WTSLogoffSession'] });
    const inert = overriding(mock, { disconnectSession: async () => undefined });
    const c2 = new AbortController();
    setTimeout(() => c2.abort(), 40);
    expect(await rejection(createWts({ api: inert }).disconnect(4, { signal: c2.signal, pollIntervalMs: 5 }))).toMatchObject({
      code: 'E_ABORTED',
      requests: ['WTSDisconnectSession'],
    });
    mock.resetCalls();
    for (const call of [
      () => wts.logoff(4, { signal: AbortSignal.abort() }),
      () => wts.disconnect(4, { signal: AbortSignal.abort() }),
      () => wts.sendMessage(4, { text: 'x', wait: true, signal: AbortSignal.abort() }),
    ]) {
      expect(await rejection(call())).toMatchObject({ code: 'E_ABORTED', requests: [] });
    }
    expect(mock.calls.filter((c) => ['logoff', 'disconnect', 'message'].includes(c.api))).toEqual([]);
  });
});

describe("logoffAll's wait is bounded too (found while fixing the single wait)", () => {
  /**
   * The mock, whose listings never return once a logoff was requested, nor the queries of a
   * session whose logoff was requested (the others' re-checks still answer).
   */
  function hangingBulk(): { mock: MockApi; api: WtsApi } {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1_000_000 });
    const requested = new Set<number>();
    const never = () => new Promise<never>(() => undefined);
    const api = overriding(mock, {
      logoffSession: async (h, sid) => {
        await mock.logoffSession(h, sid);
        requested.add(sid);
      },
      enumerateSessions: (async (h: Parameters<WtsApi['enumerateSessions']>[0]) => (requested.size > 0 ? never() : mock.enumerateSessions(h))) as WtsApi['enumerateSessions'],
      querySessionInformation: (async (...args: Query) => (requested.has(args[1]) ? never() : query(mock, ...args))) as WtsApi['querySessionInformation'],
    });
    delete (api as { enumerateSessionsWith?: unknown }).enumerateSessionsWith;
    return { mock, api };
  }

  test('a listing that does not come back: every requested session is failed with LogoffTimeoutError soon after timeoutMs, its request listed', async () => {
    const { api } = hangingBulk();
    const p = createWts({ api }).logoffAll({ server: 'WF12', concurrency: 1, timeoutMs: 150, pollIntervalMs: 20 });
    const out = await within(p, 1500);
    expect(out).not.toBe('timeout');
    const outcomes = out as Awaited<typeof p>;
    const failed = outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const o of failed) expect(o).toMatchObject({ error: { code: 'E_TIMEOUT' }, requests: ['WTSLogoffSession'] });
  });

  test('an abort while a listing does not come back: every requested session is reported requested, at once', async () => {
    const { api } = hangingBulk();
    const controller = new AbortController();
    const p = createWts({ api }).logoffAll({ server: 'WF12', concurrency: 1, timeoutMs: 60_000, pollIntervalMs: 20, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const out = await within(p, 1500);
    expect(out).not.toBe('timeout');
    const outcomes = out as Awaited<typeof p>;
    const requested = outcomes.filter((o) => o.status === 'requested');
    expect(requested.length).toBeGreaterThan(0);
    for (const o of requested) expect(o).toMatchObject({ request: 'WTSLogoffSession', accepted: true, requests: ['WTSLogoffSession'] });
    expect(outcomes.filter((o) => o.status === 'loggedOff' || o.status === 'failed')).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
// 4. Targets: "anything else ... is an InvalidArgumentError, and no call is made"
// -------------------------------------------------------------------------------------------------

describe('targets', () => {
  // docs/logoff.md (Targets) said "a string of digits" and was silent about white space, which the
  // code trims (found by the review). Kept, and documented: an ID read from a file or a prompt
  // ('3\n') means session 3; what is left after trimming must still be digits or a name.
  test.each([['space before', ' 3'], ['space after', '3 '], ['tab', '\t3'], ['newline', '3\n'], ['no-break space', '\u00a03']])('white space around a target is ignored (documented): %s (%j) is session 3', async (_label, target) => {
    const { mock, wts } = setup();
    const result = await wts.logoff(target, { pollIntervalMs: 1 }).then(
      (o) => `loggedOff ${o.session.id}`,
      (e: { code: string }) => e.code,
    );
    expect(result).toBe('loggedOff 3');
    expect(logoffCalls(mock)).toEqual([3]);
  });

  test.each([' ', '\n\t', '3 4', '3\u00a04'])('white space only, or inside, is still refused: %j', async (target) => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoff(target))).toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    expect(mock.calls).toEqual([]);
  });

  test('HOLDS property: any target or options the three calls reject as E_INVALID_ARGUMENT made no backend call at all', async () => {
    const target = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[-+ #0-9A-Za-z._]{0,36}$/),
      fc.integer(),
      fc.double(),
      fc.constantFrom(-0, 4294967293, 4294967294, 4294967295, 4294967296, Number.MAX_SAFE_INTEGER, NaN, Infinity, undefined, null, true, [], {}, 3n, '٣', '３', 'Ⅻ', 'RDP-Tcp#1', 'Console', 'console\u0131'),
    );
    const options = fc.oneof(
      fc.constant(undefined),
      fc.record(
        {
          server: fc.oneof(fc.constantFrom('WF12', '\\\\WF12', 'TS01', 'localhost', '', ' ', 'WF 12', 'a/b', '-x', 'WF12.', '[::1]', '::1'), fc.string({ maxLength: 8 })),
          wait: fc.oneof(fc.boolean(), fc.constant('yes')),
          timeoutMs: fc.oneof(fc.integer({ min: -5, max: 10 }), fc.constant(2 ** 31), fc.constant(NaN)),
          text: fc.oneof(fc.string({ maxLength: 5 }), fc.constant(' ')),
          bogus: fc.constant(1),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(target, options, fc.constantFrom('logoff', 'disconnect', 'sendMessage'), async (t, o, fn) => {
        const { mock, wts } = setup(exampleFarm(), { closingPolls: 0 });
        const opts = o === undefined ? undefined : { ...o, ...(fn === 'sendMessage' ? {} : { pollIntervalMs: 1, timeoutMs: 50 }) };
        if (fn !== 'sendMessage' && opts) delete (opts as Record<string, unknown>)['text'];
        const run = fn === 'logoff' ? wts.logoff(t as never, opts as never) : fn === 'disconnect' ? wts.disconnect(t as never, opts as never) : wts.sendMessage(t as never, opts as never);
        const code = await run.then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? 'thrown',
        );
        if (code === 'E_INVALID_ARGUMENT') expect(mock.calls).toEqual([]);
        expect(code).not.toBe('thrown');
        expect(mock.openHandleCount).toBe(0);
      }),
      { numRuns: 300, seed: 20261122 },
    );
  }, 60_000);
});

// -------------------------------------------------------------------------------------------------
// 5. Never the wrong session: the local server, console moves, reused IDs, own session
// -------------------------------------------------------------------------------------------------

describe('never the wrong session (local server)', () => {
  const IDS = [1, 2, 3, 4, 5, 6];
  const mutationArb = fc.oneof(
    fc.record({ kind: fc.constant('reuse' as const), id: fc.constantFrom(...IDS), user: fc.constantFrom('mallory', 'BOB', 'alice', '') }),
    fc.record({ kind: fc.constant('relogon' as const), id: fc.constantFrom(...IDS) }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.constantFrom(...IDS) }),
    fc.record({ kind: fc.constant('console' as const), id: fc.constantFrom(...IDS) }),
    fc.record({ kind: fc.constant('rename' as const), id: fc.constantFrom(...IDS), name: fc.constantFrom('Console', 'RDP-Tcp#9', '') }),
  );

  function baseFarm(current: number): Farm {
    const at = '2026-01-01T00:00:00.000Z';
    const s = (id: number, name: string, state: FarmSession['state'], user: string): FarmSession => ({ id, name, state, user, domain: user ? 'CORP' : '', ...(user ? { logonTime: at } : {}) });
    return {
      localServer: 'TS01',
      servers: [
        {
          name: 'TS01',
          consoleSessionId: 1,
          currentSessionId: current,
          sessions: [
            { id: 0, name: 'Services', state: 'Disconnected' },
            s(1, 'Console', 'Active', 'admin'),
            s(2, 'RDP-Tcp#0', 'Active', 'alice'),
            s(3, '', 'Disconnected', 'bob'),
            s(4, 'RDP-Tcp#1', 'Active', 'carol'),
            s(5, 'RDP-Tcp#2', 'Connected', ''),
            s(6, 'RDP-Tcp#3', 'Active', 'erin'),
            { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
          ],
        },
      ],
    };
  }

  test('HOLDS property: logoff / disconnect / sendMessage(target) with the farm changing after any call: no request to session 0, a listener, the console (unless own), or a logon other than the one read last', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('logoff', 'disconnect', 'sendMessage'),
        fc.oneof(fc.constantFrom(...IDS), fc.constantFrom('RDP-Tcp#0', 'RDP-Tcp#1', 'rdp-tcp#3', 'Console', 'Services', 'RDP-Tcp'), fc.constant(undefined)),
        fc.constantFrom(1, 2, 3),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), mutationArb), { maxLength: 3 }),
        async (fn, target, current, muts) => {
          const mock = createMockApi(baseFarm(current), { closingPolls: 1 });
          let consoleId = 1;
          let n = 0;
          let lastQueryAt = -1;
          let lastMutationAt = -2;
          /** What each session's logon was when it was last read by the library. */
          const readAs = new Map<number, string>();
          const logon = (id: number) => {
            const s = mock.getSession('TS01', id);
            return s ? `${(s.domain ?? '').toUpperCase()}\\${(s.user ?? '').toUpperCase()}@${s.logonTime ?? '-'}` : 'gone';
          };
          const userOf = (id: number) => {
            const s = mock.getSession('TS01', id);
            return s ? `${(s.domain ?? '').toUpperCase()}\\${(s.user ?? '').toUpperCase()}` : 'gone';
          };
          /** Each session's user as the (one) enumeration listed it. */
          const listed = new Map<number, string>();
          const requests: Array<{ api: string; id: number; race: boolean; wasConsole: boolean; logonNow: string; logonRead: string | undefined; userNow: string }> = [];
          const mutate = () => {
            for (const [at, m] of muts) {
              if (at !== n) continue;
              lastMutationAt = n;
              const s = mock.getSession('TS01', m.id);
              if (m.kind === 'console') consoleId = m.id;
              else if (m.kind === 'remove') mock.removeSession('TS01', m.id);
              else if (m.kind === 'rename' && s) mock.putSession('TS01', { ...s, name: m.name });
              else if (m.kind === 'relogon' && s) mock.putSession('TS01', { ...s, logonTime: new Date(Date.parse(s.logonTime ?? '2026-01-01T00:00:00Z') + 60_000).toISOString() });
              else if (m.kind === 'reuse')
                mock.putSession('TS01', { id: m.id, name: `RDP-Tcp#${m.id + 10}`, state: 'Active', user: m.user, domain: m.user ? 'EVIL' : '', ...(m.user ? { logonTime: '2026-02-02T00:00:00Z' } : {}) });
            }
            n++;
          };
          const act = (api: string) => async (h: never, id: number, ...rest: unknown[]) => {
            requests.push({
              api,
              id,
              race: lastMutationAt >= lastQueryAt,
              wasConsole: id === consoleId || mock.getSession('TS01', id)?.name === 'Console',
              logonNow: logon(id),
              logonRead: readAs.get(id),
              userNow: userOf(id),
            });
            return (mock[api as 'logoffSession'] as (...a: unknown[]) => Promise<unknown>)(h, id, ...rest);
          };
          const api = overriding(mock, {
            getActiveConsoleSessionId: () => consoleId,
            enumerateSessions: async (h) => {
              const out = await mock.enumerateSessions(h);
              for (const s of out) listed.set(s.sessionId, userOf(s.sessionId));
              mutate();
              return out;
            },
            querySessionInformation: (async (...args: Query) => {
              const out = await query(mock, ...args);
              lastQueryAt = n;
              readAs.set(args[1], logon(args[1]));
              mutate();
              return out;
            }) as WtsApi['querySessionInformation'],
            logoffSession: act('logoffSession') as never,
            disconnectSession: act('disconnectSession') as never,
            sendMessage: act('sendMessage') as never,
          });
          const wts = createWts({ api });
          const opts = { pollIntervalMs: 1, timeoutMs: 30 };
          const run =
            fn === 'logoff' ? wts.logoff(target, opts) : fn === 'disconnect' ? wts.disconnect(target, opts) : wts.sendMessage(target, { text: 'x' });
          await run.catch(() => undefined);
          const main = requests;
          expect(main.length).toBeLessThanOrEqual(1);
          for (const r of main) {
            expect(r.id).not.toBe(0);
            expect(r.id).toBeLessThan(65536);
            expect(mock.getSession('TS01', r.id)?.state ?? 'gone').not.toBe('Listen');
            if (r.race) continue; // changed after the last read: no API can see that
            if (fn !== 'sendMessage' && r.id !== current) expect(r.wasConsole).toBe(false);
            expect(r.logonNow).toBe(r.logonRead);
            expect(r.userNow).toBe(listed.get(r.id));
          }
          expect(mock.openHandleCount).toBe(0);
        },
      ),
      { numRuns: 600, seed: 20261121 },
    );
  }, 120_000);

  test('HOLDS: a named target must be Active, also for disconnect; a name matching no Active session is not taken for another', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Disconnected', user: 'zoe', domain: 'CORP' });
    const { mock, wts } = setup(farm);
    expect((await rejection(wts.logoff('rdp-tcp#9')))['code']).toBe('E_NOT_ACTIVE');
    expect((await rejection(wts.disconnect('RDP-TCP#9')))['code']).toBe('E_NOT_ACTIVE');
    expect(mock.calls.filter((c) => c.api === 'logoff' || c.api === 'disconnect')).toEqual([]);
    // sendMessage takes any state.
    expect(await wts.sendMessage('RDP-Tcp#9', { text: 'x' })).toMatchObject({ status: 'sent', session: { id: 9 } });
  });

  test('HOLDS: logoff.exe wording for a failed logoff, also on a remote server (from session = the caller’s own WinStation)', async () => {
    const farm = exampleFarm();
    farm.servers[1]!.faults = { logoff: { '2': 5 } };
    const { mock, wts } = setup(farm);
    const e = await rejection(wts.logoff('TERM04', { server: 'WF12' }));
    expect(e.message).toBe('Could not logoff session ID 2 from session RDP-Tcp#0, Error code 5\nError [5]: Access is denied.');
    expect(e).toMatchObject({ code: 'E_WIN32', win32Code: 5, sessionId: 2, server: 'WF12' });
    expect(mock.openHandleCount).toBe(0);
  });
});
