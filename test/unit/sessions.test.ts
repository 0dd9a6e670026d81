import { createWts, InvalidArgumentError, SessionNotFoundError, UnsupportedPlatformError } from '../../src/index';
import { detectBackend } from '../../src/backends/detect';
import { overriding, rejection, setup } from '../helpers';
import fc from 'fast-check';
import { noUserKind, protectedKind, refuse, refuseNoUser } from '../../src/api/sessions';
import { SESSION_STATES, type Session } from '../../src/api/types';

describe('listSessions', () => {
  test('one enumerate call; console, current and server marked', async () => {
    const { mock, wts } = setup();
    const sessions = await wts.listSessions();
    expect(mock.calls.filter((c) => c.api === 'enumerate')).toHaveLength(1);
    expect(mock.calls.filter((c) => c.api === 'query')).toHaveLength(0);
    expect(sessions.map((s) => s.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 65536]);
    expect(sessions[1]).toEqual({
      id: 1, name: 'Console', state: 'Active', userName: 'admin', domain: 'CORP', server: '', isConsole: true, isCurrent: false,
    });
    expect(sessions.filter((s) => s.isCurrent).map((s) => s.id)).toEqual([2]);
    expect(sessions[3]).toMatchObject({ name: '', state: 'Disconnected', userName: 'bob' });
    expect(Object.isFrozen(sessions) && Object.isFrozen(sessions[0])).toBe(true);
  });

  test('remote: server name kept, nobody is current', async () => {
    const { mock, wts } = setup();
    const sessions = await wts.listSessions({ server: '\\\\WF12' });
    expect(sessions.every((s) => s.server === 'WF12' && !s.isCurrent)).toBe(true);
    expect(sessions.find((s) => s.id === 1)?.isConsole).toBe(true);
    expect(mock.openHandleCount).toBe(0);
  });

  test('filters by state and user', async () => {
    const { wts } = setup();
    expect((await wts.listSessions({ state: 'Disconnected' })).map((s) => s.id)).toEqual([0, 3, 6]);
    expect((await wts.listSessions({ user: 'corp\\a*' })).map((s) => s.id)).toEqual([1, 2]);
  });
});

describe('findSession', () => {
  test('by ID, by name (any case), own session', async () => {
    const { wts } = setup();
    expect((await wts.findSession(4)).userName).toBe('carol');
    expect((await wts.findSession('rdp-TCP#2')).id).toBe(5);
    expect((await wts.findSession()).id).toBe(2);
    expect((await wts.findSession('TERM04', { server: 'WF12' })).id).toBe(2);
  });
  test('not found is typed', async () => {
    const { wts } = setup();
    const error = await rejection(wts.findSession('Nope'));
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect(error.target).toBe('Nope');
  });
});

describe('openServer', () => {
  test('one handle for several calls, closed by await using', async () => {
    const { mock, wts } = setup();
    {
      await using wf12 = wts.openServer('\\\\WF12');
      expect(wf12.name).toBe('WF12');
      expect(mock.calls.filter((c) => c.api === 'open')).toHaveLength(0); // opened lazily
      await wf12.listSessions();
      await wf12.findSession('TERM04');
      await wf12.logoff(3, { pollIntervalMs: 1 });
      expect(mock.calls.filter((c) => c.api === 'open')).toHaveLength(1);
      expect(mock.openHandleCount).toBe(1);
    }
    expect(mock.openHandleCount).toBe(0);
  });

  test('close is idempotent; a closed server refuses work', async () => {
    const { mock, wts } = setup();
    const server = wts.openServer('WF12');
    await server.listSessions();
    await server.close();
    await server.close();
    expect(mock.calls.filter((c) => c.api === 'close')).toHaveLength(1);
    expect(await rejection(server.listSessions())).toBeInstanceOf(InvalidArgumentError);
  });

  test('no own session on a server object; bad names throw at once', () => {
    const { wts } = setup();
    expect(() => wts.openServer('bad name')).toThrow(InvalidArgumentError);
    return expect(wts.openServer('WF12').logoff()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test('a server option is not accepted on a server object', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.openServer('WF12').listSessions({ server: 'WF13' } as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(mock.calls).toEqual([]);
  });
});

describe('createWts and backend detection', () => {
  test('off Windows with nothing chosen: UnsupportedPlatformError that says how to simulate', () => {
    let error: unknown;
    try {
      detectBackend({ env: {}, platform: 'linux' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedPlatformError);
    expect((error as UnsupportedPlatformError).code).toBe('E_UNSUPPORTED_PLATFORM');
    expect((error as Error).message).toMatch(/WTS_SESSION_SIMULATE/);
  });

  test('createWts() on this machine without simulation fails typed (never at import)', () => {
    const saved = process.env['WTS_SESSION_SIMULATE'];
    delete process.env['WTS_SESSION_SIMULATE'];
    try {
      if (process.platform === 'win32') {
        console.log('skipped on Windows: the auto-detected backend exists there');
        return;
      }
      expect(() => createWts()).toThrow(UnsupportedPlatformError);
    } finally {
      if (saved !== undefined) process.env['WTS_SESSION_SIMULATE'] = saved;
    }
  });

  test('a non-backend is rejected', () => {
    expect(() => createWts({ api: {} as never })).toThrow(/missing openServer/);
    expect(() => createWts({ apii: 1 } as never)).toThrow(InvalidArgumentError);
  });
});

describe('details: the client group', () => {
  const { Win32Error } = require('../../src/errors') as typeof import('../../src/errors');
  /** The mock, with WTSClientInfo answered by `answer` instead; every class asked is recorded. */
  function withClientInfo(answer: () => void) {
    const { mock } = setup();
    const asked: string[] = [];
    const query = (async (h: never, id: number, infoClass: never) => {
      asked.push(infoClass);
      if (infoClass === 'WTSClientInfo') answer();
      return mock.querySessionInformation(h, id, infoClass);
    }) as typeof mock.querySessionInformation;
    return { wts: createWts({ api: overriding(mock, { querySessionInformation: query }) }), asked };
  }

  test('name and address come from one WTSClientInfo query', async () => {
    const { wts, asked } = withClientInfo(() => undefined);
    const [s] = await wts.listSessions({ details: ['clientName', 'clientAddress'], state: 'Active', user: 'alice' });
    expect(s!.details).toEqual({ clientName: 'LAPTOP-7', clientAddress: '10.1.2.7' });
    expect(asked).toEqual(['WTSClientInfo']);
  });

  for (const code of [50, 87, 120]) {
    test(`a server that answers WTSClientInfo with ${code} is asked WTSClientName and WTSClientAddress instead`, async () => {
      const { wts, asked } = withClientInfo(() => {
        throw new Win32Error({ win32Code: code, api: 'WTSQuerySessionInformationW' });
      });
      const [s] = await wts.listSessions({ details: ['clientName', 'clientAddress'], state: 'Active', user: 'alice' });
      expect(s!.details).toEqual({ clientName: 'LAPTOP-7', clientAddress: '10.1.2.7' });
      expect(asked.sort()).toEqual(['WTSClientAddress', 'WTSClientInfo', 'WTSClientName']);
    });
  }

  test('any other failure of WTSClientInfo is the listing\'s failure (no silent fallback)', async () => {
    const { wts } = withClientInfo(() => {
      throw new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW' });
    });
    expect(await rejection(wts.listSessions({ details: ['clientName'] }))).toMatchObject({ win32Code: 5 });
  });
});

describe('details: the outcome does not depend on which query fails first', () => {
  const { Win32Error } = require('../../src/errors') as typeof import('../../src/errors');
  const fail = (code: number, ms: number) => async () => {
    await new Promise((r) => setTimeout(r, ms));
    throw new Win32Error({ win32Code: code, api: 'WTSQuerySessionInformationW' });
  };
  for (const [denied, ended] of [[20, 0], [0, 20]] as const) {
    test(`access denied (after ${denied} ms) beside "session ended" (after ${ended} ms): the listing fails with 5`, async () => {
      const { mock } = setup();
      const query = (async (h: never, id: number, infoClass: never) => {
        if (id === 2 && infoClass === 'WTSClientInfo') await fail(5, denied)();
        if (id === 2 && infoClass === 'WTSSessionInfo') await fail(7022, ended)();
        return mock.querySessionInformation(h, id, infoClass);
      }) as typeof mock.querySessionInformation;
      const api = overriding(mock, { querySessionInformation: query });
      expect(await rejection(createWts({ api }).listSessions({ details: true }))).toMatchObject({ win32Code: 5 });
    });
  }

  test('a client name cut at 20 characters never ends in half an emoji', async () => {
    const { createMockApi } = require('../../src/mock') as typeof import('../../src/mock');
    const { wholeCharacters } = require('../../src/wtsapi') as typeof import('../../src/wtsapi');
    const mock = createMockApi({ localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 2, state: 'Active', user: 'a', clientName: 'ABCDEFGHIJKLMNOPQRS😀' }] }] });
    const info = await mock.querySessionInformation(0n as never, 2, 'WTSClientInfo');
    expect(info.clientName).toBe('ABCDEFGHIJKLMNOPQRS');
    expect(wholeCharacters('ABCDEFGHIJKLMNOPQRS\ud83d')).toBe('ABCDEFGHIJKLMNOPQRS');
    expect(wholeCharacters('DESK-😀')).toBe('DESK-😀');
  });
});

describe('protectedKind: what refuse refuses, without making the error', () => {
  // Bulk calls sort every listed session with protectedKind (no Error built per session); the
  // single-session paths throw refuse's errors. The two must never disagree.
  test('property: protectedKind(s) is refuse(s)?.kind, and noUserKind is refuseNoUser(...)?.kind, for any session', () => {
    const id = fc.oneof(fc.constantFrom(0, 1, 2, 65535, 65536, 65537, 0xfffffffe, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(
      fc.property(id, fc.constantFrom(...SESSION_STATES), fc.boolean(), fc.boolean(), (sessionId, state, isCurrent, isConsole) => {
        const s = { id: sessionId, state, isCurrent, isConsole, server: 'WF12', name: '', userName: '', domain: '' } as Session;
        expect(protectedKind(s)).toBe(refuse(s)?.kind);
        expect(noUserKind(sessionId, state)).toBe(refuseNoUser(sessionId, state, 'WF12')?.kind);
      }),
      { numRuns: 2000 },
    );
  });
});
