import {
  ConsoleSessionError,
  InvalidArgumentError,
  ListenerSessionError,
  LogoffTimeoutError,
  ServicesSessionError,
  SessionChangedError,
  SessionNotActiveError,
  SessionNotFoundError,
  Win32Error,
  createWts,
  type WtsApi,
  WTS_CURRENT_SERVER_HANDLE,
  WTS_CURRENT_SESSION,
} from '../../src/index';
import { createMockApi } from '../../src/mock';
import type { Farm } from '../../src/mock';
import { exampleFarm, logoffCalls, overriding, rejection, setup, waitFor, wtsCalls } from '../helpers';

describe('logoff: bad input makes no call at all', () => {
  const bad: Array<[string, unknown, unknown?]> = [
    ['-1', -1, undefined],
    ['"-1"', '-1', undefined],
    ['4294967296', 4294967296, undefined],
    ['"4294967296"', '4294967296', undefined],
    ['WTS_CURRENT_SESSION', 0xffffffff, undefined],
    ['WTS_ANY_SESSION', 0xfffffffe, undefined],
    ['1.5', 1.5, undefined],
    ['NaN', NaN, undefined],
    ['"12abc"', '12abc', undefined],
    ['empty string', '', undefined],
    ['blank string', '   ', undefined],
    ['a name with a space', 'RDP Tcp', undefined],
    ['an object', { id: 3 }, undefined],
    ['an empty server', 3, { server: '' }],
    ['a server with a space', 3, { server: 'WF 12' }],
    ['a server with a slash', 3, { server: 'WF/12' }],
    ['a server with a backslash inside', 3, { server: 'CORP\\WF12' }],
    ['an unknown option', 3, { servr: 'WF12' }],
    ['a negative timeout', 3, { timeoutMs: -5 }],
    ['a non-boolean wait', 3, { wait: 'yes' }],
    ['a non-signal', 3, { signal: {} }],
    ['own session on a remote server', undefined, { server: 'WF12' }],
  ];
  test.each(bad)('%s', async (_label, target, options) => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(target as never, options as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('E_INVALID_ARGUMENT');
    expect(mock.calls).toEqual([]);
  });

  test('server names in every accepted form are taken, normalised', async () => {
    const forms: Array<[string, string]> = [
      ['WF12', 'WF12'],
      ['\\\\WF12', 'WF12'],
      ['wf12.corp.example.com', 'wf12.corp.example.com'],
      ['192.0.2.10', '192.0.2.10'],
      ['fe80::1', 'fe80::1'],
    ];
    for (const [server, opened] of forms) {
      const { mock, wts } = setup();
      await wts.listSessions({ server }).catch(() => undefined);
      expect(mock.calls.filter((c) => c.api === 'open').map((c) => c.server.toLowerCase())).toEqual([opened.toLowerCase()]);
    }
  });
});

describe('logoff: by ID, by name, own session', () => {
  test('by ID: logs off and waits until the session is gone', async () => {
    const { mock, wts } = setup();
    const outcome = await wts.logoff(3);
    expect(outcome).toMatchObject({ status: 'loggedOff', confirmed: true, alreadyClosing: false, session: { id: 3, userName: 'bob' } });
    expect(mock.getSession('TS01', 3)).toBeUndefined();
    expect(logoffCalls(mock)).toEqual([3]);
  });

  test('a numeric string is an ID', async () => {
    const { mock, wts } = setup();
    await wts.logoff('6');
    expect(logoffCalls(mock)).toEqual([6]);
  });

  test('by name, without case', async () => {
    const { mock, wts } = setup();
    const outcome = await wts.logoff('rdp-tcp#1');
    expect(outcome.session).toMatchObject({ id: 4, name: 'RDP-Tcp#1', userName: 'carol' });
    expect(logoffCalls(mock)).toEqual([4]);
  });

  test('by name on a remote server (logoff TERM04 /server:WF12), handle closed after', async () => {
    const { mock, wts } = setup();
    const outcome = await wts.logoff('TERM04', { server: '\\\\WF12' });
    expect(outcome.session).toMatchObject({ id: 2, server: 'WF12', isCurrent: false });
    expect(logoffCalls(mock)).toEqual([2]);
    expect(mock.openHandleCount).toBe(0);
  });

  test('a name that is not there', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff('RDP-Tcp#9'));
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect(error.code).toBe('E_NOT_FOUND');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('an ID that is not there', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(42));
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('a named session must be Active', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Connected', user: 'zoe', domain: 'CORP' });
    const { mock, wts } = setup(farm);
    const error = await rejection(wts.logoff('RDP-Tcp#9'));
    expect(error).toBeInstanceOf(SessionNotActiveError);
    expect(error.code).toBe('E_NOT_ACTIVE');
    expect(logoffCalls(mock)).toEqual([]);
    // The same session by ID is fine: the Active rule is for names.
    await wts.logoff(9);
    expect(logoffCalls(mock)).toEqual([9]);
  });

  test('no target logs off your own session', async () => {
    const { mock, wts } = setup();
    const outcome = await wts.logoff();
    expect(outcome.session).toMatchObject({ id: 2, isCurrent: true, userName: 'alice' });
    expect(logoffCalls(mock)).toEqual([2]);
  });
});

describe('logoff: protected sessions are refused before any logoff call', () => {
  test('the console by the local console ID: no WTS call at all', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(1));
    expect(error).toBeInstanceOf(ConsoleSessionError);
    expect(error.code).toBe('E_CONSOLE');
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('the console by name, any case: no WTS call at all', async () => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoff('CONSOLE'))).toBeInstanceOf(ConsoleSessionError);
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('the console session is found by ID, not assumed to be 0 (Vista+)', async () => {
    const farm = exampleFarm();
    const ts01 = farm.servers[0]!;
    ts01.consoleSessionId = 7; // the console moved to session 7 (named RDP-Tcp#3 in the farm)
    const { mock, wts } = setup(farm);
    expect(await rejection(wts.logoff(7))).toBeInstanceOf(ConsoleSessionError);
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('the console of a remote server, known by its name', async () => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoff(1, { server: 'WF12' }))).toBeInstanceOf(ConsoleSessionError);
    expect(logoffCalls(mock)).toEqual([]);
    expect(mock.openHandleCount).toBe(0);
  });

  test('services (session 0): no WTS call', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(0));
    expect(error).toBeInstanceOf(ServicesSessionError);
    expect(error.code).toBe('E_SERVICES');
    expect(wtsCalls(mock)).toEqual([]);
  });

  test.each([
    ['Services', ServicesSessionError, 'E_SERVICES'],
    ['services', ServicesSessionError, 'E_SERVICES'],
    ['RDP-Tcp', ListenerSessionError, 'E_LISTENER'],
  ] as const)('%s by name is refused as what it is, not as "not active"; no logoff, disconnect or message is sent', async (name, type, code) => {
    const { mock, wts } = setup();
    for (const call of [() => wts.logoff(name), () => wts.disconnect(name), () => wts.sendMessage(name, { text: 'hi' })]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(type);
      expect(error.code).toBe(code);
    }
    expect(mock.calls.filter((c) => ['logoff', 'disconnect', 'message'].includes(c.api))).toEqual([]);
  });

  test('a listener by ID (>= 65536): no WTS call', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(65536));
    expect(error).toBeInstanceOf(ListenerSessionError);
    expect(error.code).toBe('E_LISTENER');
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('a listener by state (Listen below 65536)', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 8, name: 'ICA-tcp', state: 'Listen' });
    const { mock, wts } = setup(farm);
    expect(await rejection(wts.logoff('ICA-tcp'))).toBeInstanceOf(ListenerSessionError);
    expect(await rejection(wts.logoff(8))).toBeInstanceOf(ListenerSessionError);
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('your own session is allowed even when it is the console', async () => {
    const farm: Farm = exampleFarm();
    farm.servers[0]!.currentSessionId = 1;
    for (const target of [undefined, 1, 'Console'] as const) {
      const { mock, wts } = setup(structuredClone(farm));
      const outcome = await wts.logoff(target);
      expect(outcome.session).toMatchObject({ id: 1, isConsole: true, isCurrent: true });
      expect(logoffCalls(mock)).toEqual([1]);
    }
  });

  test('the local server named explicitly is still the local server (own session and console known)', async () => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoff(1, { server: 'ts01' }))).toBeInstanceOf(ConsoleSessionError);
    expect(wtsCalls(mock)).toEqual([]);
    const own = await wts.findSession(2, { server: 'TS01.corp.example.com' });
    expect(own).toMatchObject({ isCurrent: true, server: '' });
  });
});

describe('logoff: identity is re-checked before acting', () => {
  /** A backend whose session 3 is replaced by another user right after it is listed. */
  function racingApi(): { api: WtsApi; mock: ReturnType<typeof setup>['mock'] } {
    const { mock } = setup();
    const api: WtsApi = Object.create(mock);
    api.enumerateSessions = async (h) => {
      const list = await mock.enumerateSessions(h);
      mock.putSession('TS01', { id: 3, name: 'RDP-Tcp#8', state: 'Active', user: 'mallory', domain: 'CORP' });
      return list;
    };
    for (const key of ['querySessionInformation', 'logoffSession', 'getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'openServer', 'closeServer'] as const) {
      (api as unknown as Record<string, unknown>)[key] = (mock[key] as (...a: unknown[]) => unknown).bind(mock);
    }
    return { api, mock };
  }

  test('logoff(id): a reused ID is not logged off', async () => {
    const { api, mock } = racingApi();
    const error = await rejection(createWts({ api }).logoff(3));
    expect(error).toBeInstanceOf(SessionChangedError);
    expect(error.code).toBe('E_SESSION_CHANGED');
    expect(logoffCalls(mock)).toEqual([]);
    expect(mock.getSession('TS01', 3)).toMatchObject({ user: 'mallory' });
  });

  test('logoffAll: a reused ID is skipped and reported, the others proceed', async () => {
    const { api, mock } = racingApi();
    const outcomes = await createWts({ api }).logoffAll({ state: 'Disconnected' });
    const three = outcomes.find((o) => o.session.id === 3)!;
    expect(three).toMatchObject({ status: 'skipped', reason: 'changed' });
    expect(outcomes.find((o) => o.session.id === 6)).toMatchObject({ status: 'loggedOff' });
    expect(logoffCalls(mock)).toEqual([6]);
  });
});

describe('logoff: Win32 failures read like logoff.exe', () => {
  test('access denied (5)', async () => {
    const { wts } = setup();
    const error = await rejection(wts.logoff(5));
    expect(error).toBeInstanceOf(Win32Error);
    expect(error).toMatchObject({ code: 'E_WIN32', win32Code: 5, api: 'WTSLogoffSession', server: '', sessionId: 5 });
    expect(error.message).toBe('Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5\nError [5]: Access is denied.');
    expect((error as unknown as Win32Error).hint).toMatch(/Full Control/);
  });

  /** Every session's logoff on TS01 denied with 5 (no Full Control), the caller in session 2. */
  function deniedEverywhere(): Farm {
    const farm = exampleFarm();
    const ts01 = farm.servers.find((s) => s.name === 'TS01')!;
    ts01.faults = { logoff: Object.fromEntries((ts01.sessions ?? []).map((s) => [String(s.id), 5])) };
    return farm;
  }
  const callerNameReads = (mock: ReturnType<typeof setup>['mock']) =>
    mock.calls.filter((c) => c.api === 'query' && c.infoClass === 'WTSWinStationName' && c.sessionId === WTS_CURRENT_SESSION).length;

  test('logoffAll refused for every session reads the caller\'s WinStation name once, and every message names it', async () => {
    const { mock, wts } = setup(deniedEverywhere());
    const outcomes = await wts.logoffAll({});
    const failed = outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(1);
    expect(failed.length).toBe(logoffCalls(mock).length);
    for (const o of failed) {
      expect(o.status === 'failed' && o.error.message).toBe(`Could not logoff session ID ${o.session.id} from session RDP-Tcp#0, Error code 5\nError [5]: Access is denied.`);
    }
    expect(callerNameReads(mock)).toBe(1);
  });

  test('a refused logoff whose caller-name read hangs is still reported when the signal fires (the read is abandoned)', async () => {
    const mock = createMockApi(deniedEverywhere());
    let abandoned: AbortSignal | undefined;
    const api = overriding(mock, {
      querySessionInformation: ((server, id, infoClass, options) => {
        if (server === WTS_CURRENT_SERVER_HANDLE && id === WTS_CURRENT_SESSION && infoClass === 'WTSWinStationName') {
          // A local call that does not come back; it honours AbandonOptions as the backends do.
          return new Promise((_, reject) => {
            abandoned = options?.signal;
            options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
          });
        }
        return mock.querySessionInformation(server, id, infoClass, options);
      }) as WtsApi['querySessionInformation'],
    });
    const controller = new AbortController();
    const pending = rejection(createWts({ api }).logoff(5, { signal: controller.signal }));
    await waitFor(() => abandoned !== undefined);
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(Win32Error);
    expect(error).toMatchObject({ win32Code: 5, sessionId: 5 });
    expect(error.message).toBe('Could not logoff session ID 5 from session , Error code 5\nError [5]: Access is denied.');
    expect(abandoned).toBe(controller.signal);
  });

  /** WF12 refuses every logoff (5); the local server, where the caller's name is read, answers after a minute. */
  function slowLocalName(): Farm {
    const user = (id: number) => ({ id, name: `RDP-Tcp#${id}`, state: 'Active' as const, user: `u${id}`, domain: 'CORP' });
    return {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', consoleSessionId: 1, currentSessionId: 2, latencyMs: 60_000, sessions: [user(2)] },
        { name: 'WF12', consoleSessionId: 1, sessions: [user(3), user(4)], faults: { logoff: { '*': 5 } } },
      ],
    };
  }

  test('the mock ignores the abandon signal on a slow read of the caller\'s name: the refusal is still reported as soon as the signal fires', async () => {
    const wts = createWts({ api: createMockApi(slowLocalName()) });
    const controller = new AbortController();
    const pending = rejection(wts.logoff(3, { server: 'WF12', wait: false, signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('stop')), 30);
    const error = await pending;
    expect(error).toBeInstanceOf(Win32Error);
    expect(error).toMatchObject({ win32Code: 5, sessionId: 3, server: 'WF12' });
    expect(error.message).toBe('Could not logoff session ID 3 from session , Error code 5\nError [5]: Access is denied.');
  });

  test('logoffAll cut short while the caller\'s name is read reports the refused logoffs as failed, not as requested', async () => {
    const mock = createMockApi(slowLocalName());
    const controller = new AbortController();
    const run = createWts({ api: mock }).logoffAll({ server: 'WF12', signal: controller.signal });
    await waitFor(() => logoffCalls(mock).length === 2);
    setTimeout(() => controller.abort(new Error('stop')), 20);
    const outcomes = await run;
    const users = outcomes.filter((o) => o.session.id === 3 || o.session.id === 4);
    expect(users.map((o) => [o.session.id, o.status, o.status === 'failed' ? (o.error as Win32Error).win32Code : undefined, o.requests])).toEqual([
      [3, 'failed', 5, ['WTSLogoffSession']],
      [4, 'failed', 5, ['WTSLogoffSession']],
    ]);
  });

  test('an unreachable server (1722) is a typed error and the handle is closed', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff('TERM04', { server: 'WF13' }));
    expect(error).toMatchObject({ code: 'E_WIN32', win32Code: 1722, server: 'WF13' });
    expect(mock.openHandleCount).toBe(0);
  });
});

describe('logoff: waiting', () => {
  test('wait: false requests the logoff and does not poll', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 5 });
    const outcome = await wts.logoff(3, { wait: false });
    expect(outcome).toMatchObject({ status: 'loggedOff', confirmed: false });
    // One identity read before the request; no poll after it.
    expect(mock.calls.filter((c) => c.api === 'query').map((c) => c.infoClass)).toEqual(['WTSSessionInfo']);
    expect(mock.getSession('TS01', 3)).toMatchObject({ closing: 5 });
  });

  test('polls until the session is gone', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 3 });
    await wts.logoff(3, { pollIntervalMs: 1 });
    // The identity read before the request, then polls: closingPolls sightings and the 7022.
    const logoffAt = mock.calls.findIndex((c) => c.api === 'logoff');
    expect(mock.calls.slice(logoffAt).filter((c) => c.infoClass === 'WTSSessionInfo').length).toBe(4);
    expect(mock.getSession('TS01', 3)).toBeUndefined();
  });

  test('a close already pending (7007) counts as logging off', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 10 });
    await mock.logoffSession(0n as never, 3);
    mock.resetCalls();
    const outcome = await wts.logoff(3, { pollIntervalMs: 1 });
    expect(outcome).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: true });
    expect(mock.getSession('TS01', 3)).toBeUndefined();
  });

  test('times out with LogoffTimeoutError when the session does not go', async () => {
    const { wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const error = await rejection(wts.logoff(3, { timeoutMs: 120, pollIntervalMs: 20 }));
    expect(error).toBeInstanceOf(LogoffTimeoutError);
    expect(error).toMatchObject({ code: 'E_TIMEOUT', timeoutMs: 120, sessionId: 3 });
  });

  test('an AbortSignal stops the wait', async () => {
    const { wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user pressed cancel')), 50);
    const error = await rejection(wts.logoff(3, { signal: controller.signal, pollIntervalMs: 10 }));
    expect(error).toMatchObject({ code: 'E_ABORTED', name: 'AbortError' });
    expect((error.cause as Error).message).toBe('user pressed cancel');
  });

  test('an already-aborted signal: nothing is logged off', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoff(3, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('E_ABORTED');
    expect(logoffCalls(mock)).toEqual([]);
  });
});
