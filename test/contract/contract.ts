/**
 * The WtsApi contract: the same cases against every backend. A backend passes by behaving like
 * wtsapi32 — same shapes, same error codes — not by matching the mock's internals.
 */
import { Win32Error, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, type ServerHandle, type WtsApi } from '../../src/index';
import type { Farm, FarmSession, MockApiName } from '../../src/mock';

/** What a backend under test offers besides the WtsApi: the double's control surface. */
export interface ContractBackend {
  readonly api: WtsApi;
  /** Replaces (or adds) a session: the way Windows reuses an ID. */
  putSession(server: string, session: FarmSession): void | Promise<void>;
  /** `wait`: WTSWaitSystemEvent (waits and flushes); `version`: NetServerGetInfo. */
  setFault(server: string, api: MockApiName | 'wait' | 'version', key: number | '*', code: number | undefined): void | Promise<void>;
  /** Latency on every call on a server, in ms. */
  setLatency(server: string, ms: number): void | Promise<void>;
  /** How many calls of this kind the backend has seen since it was made. */
  callCount(api: 'enumerate' | 'query' | 'logoff' | 'disconnect' | 'message' | 'processes' | 'processesEx' | 'lookup' | 'open' | 'version'): number;
  /** Calls blocked in WTSWaitSystemEvent right now, where the backend can tell. */
  pendingWaits?(): number;
  /** Handles open in the backend right now (the system's count), where it can tell. */
  openHandles?(): number;
  /** Called after every test: asserts no leaked buffers/handles (nor pending waits) where the backend can tell. */
  checkClean(): void | Promise<void>;
  dispose(): void | Promise<void>;
}

/** Builds a backend over a farm; `closingPolls` as in MockApiOptions. */
export type BackendFactory = (farm: Farm, options: { closingPolls: number }) => Promise<ContractBackend> | ContractBackend;

export const CONTRACT_FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      consoleSessionId: 1,
      currentSessionId: 2,
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected' },
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
        {
          id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', clientName: 'LAPTOP-7', clientAddress: '10.1.2.7',
          logonTime: '2026-11-21T08:00:00.000Z', connectTime: '2026-11-21T08:00:05.000Z', lastInputTime: '2026-11-21T09:30:00.000Z',
        },
        { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', processes: [{ pid: 4100, name: 'excel.exe' }, { pid: 4104, name: 'explorer.exe' }] },
        { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'Jürgen', domain: 'CORP', clientName: 'DESK-😀', clientAddress: 'fe80::1' },
        { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
      ],
      faults: { logoff: { '3': 5 } },
    },
    {
      name: 'WF12',
      sessions: [
        { id: 1, name: 'Console', state: 'Connected' },
        { id: 2, name: 'TERM04', state: 'Active', user: 'frank', domain: 'CORP' },
      ],
    },
    { name: 'WF13', unreachable: true },
  ],
};

async function win32Code(promise: Promise<unknown>): Promise<{ code: number; api: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Win32Error || (error as { code?: string }).code === 'E_WIN32') {
      const e = error as Win32Error;
      return { code: e.win32Code, api: e.api };
    }
    throw error;
  }
  throw new Error('expected the call to fail with a Win32 error, but it succeeded');
}

export function describeWtsApiContract(name: string, factory: BackendFactory): void {
  describe(`WtsApi contract: ${name}`, () => {
    let backend: ContractBackend;
    let api: WtsApi;
    const local = WTS_CURRENT_SERVER_HANDLE;

    beforeEach(async () => {
      backend = await factory(structuredClone(CONTRACT_FARM), { closingPolls: 1 });
      api = backend.api;
    });
    afterEach(async () => {
      await backend.checkClean();
      await backend.dispose();
    });

    async function withServer<T>(server: string, fn: (h: ServerHandle) => Promise<T>): Promise<T> {
      const h = await api.openServer(server);
      try {
        return await fn(h);
      } finally {
        await api.closeServer(h);
      }
    }

    test('enumerates the local server with level-1 fields', async () => {
      const sessions = await api.enumerateSessions(local);
      expect(sessions.map((s) => s.sessionId)).toEqual([0, 1, 2, 3, 4, 65536]);
      expect(sessions.every((s) => s.execEnvId === s.sessionId)).toBe(true);
      const alice = sessions.find((s) => s.sessionId === 2)!;
      expect(alice).toMatchObject({ state: 0, sessionName: 'RDP-Tcp#0', userName: 'alice', domainName: 'CORP' });
      const bob = sessions.find((s) => s.sessionId === 3)!;
      expect(bob).toMatchObject({ state: 4, sessionName: '', userName: 'bob' });
      const listener = sessions.find((s) => s.sessionId === 65536)!;
      expect(listener).toMatchObject({ state: 6, sessionName: 'RDP-Tcp', userName: '', domainName: '' });
      expect(sessions.find((s) => s.sessionId === 4)!.userName).toBe('Jürgen');
    });

    test('opens, enumerates and closes a remote server; close is idempotent', async () => {
      const h = await api.openServer('WF12');
      const sessions = await api.enumerateSessions(h);
      expect(sessions.map((s) => [s.sessionId, s.sessionName])).toEqual([
        [1, 'Console'],
        [2, 'TERM04'],
      ]);
      await api.closeServer(h);
      await api.closeServer(h);
      await api.closeServer(local);
    });

    test('an unreachable server opens, then fails with 1722 on first use', async () => {
      await withServer('WF13', async (h) => {
        expect(await win32Code(api.enumerateSessions(h))).toEqual({ code: 1722, api: 'WTSEnumerateSessionsExW' });
        expect((await win32Code(api.logoffSession(h, 2))).code).toBe(1722);
      });
    });

    test('an unknown server behaves like an unreachable one (1722)', async () => {
      await withServer('NOSUCHHOST', async (h) => {
        expect((await win32Code(api.enumerateSessions(h))).code).toBe(1722);
      });
    });

    test('a closed handle is invalid (6)', async () => {
      const h = await api.openServer('WF12');
      await api.closeServer(h);
      expect((await win32Code(api.enumerateSessions(h))).code).toBe(6);
    });

    test('queries each information class with its decoded type', async () => {
      expect(await api.querySessionInformation(local, 2, 'WTSUserName')).toBe('alice');
      expect(await api.querySessionInformation(local, 2, 'WTSDomainName')).toBe('CORP');
      expect(await api.querySessionInformation(local, 2, 'WTSWinStationName')).toBe('RDP-Tcp#0');
      expect(await api.querySessionInformation(local, 2, 'WTSConnectState')).toBe(0);
      expect(await api.querySessionInformation(local, 3, 'WTSConnectState')).toBe(4);
      expect(await api.querySessionInformation(local, 2, 'WTSClientName')).toBe('LAPTOP-7');
      expect(await api.querySessionInformation(local, 2, 'WTSSessionId')).toBe(2);
      expect(await api.querySessionInformation(local, 2, 'WTSClientAddress')).toEqual({ family: 2, address: '10.1.2.7' });
      expect(await api.querySessionInformation(local, 4, 'WTSClientAddress')).toEqual({ family: 23, address: 'fe80::1' });
      expect(await api.querySessionInformation(local, 1, 'WTSClientAddress')).toEqual({ family: 0, address: '' });
      expect(await api.querySessionInformation(local, 4, 'WTSClientName')).toBe('DESK-😀');
    });

    test('WTSClientInfo (WTSCLIENTW): the client name and an IPv4 address as text in one query; IPv6 left to WTSClientAddress', async () => {
      expect(await api.querySessionInformation(local, 2, 'WTSClientInfo')).toEqual({ clientName: 'LAPTOP-7', family: 2, address: '10.1.2.7' });
      expect(await api.querySessionInformation(local, 4, 'WTSClientInfo')).toEqual({ clientName: 'DESK-😀', family: 23, address: undefined });
      expect(await api.querySessionInformation(local, 1, 'WTSClientInfo')).toEqual({ clientName: '', family: 0, address: '' });
    });

    test('WTSSessionInfo (WTSINFOW): names, state and FILETIME times as Dates', async () => {
      const before = Date.now();
      const info = await api.querySessionInformation(local, 2, 'WTSSessionInfo');
      expect(info).toMatchObject({
        state: 0, sessionId: 2, winStationName: 'RDP-Tcp#0', domain: 'CORP', userName: 'alice',
        logonTime: new Date('2026-11-21T08:00:00.000Z'),
        connectTime: new Date('2026-11-21T08:00:05.000Z'),
        lastInputTime: new Date('2026-11-21T09:30:00.000Z'),
        disconnectTime: null,
      });
      expect(info.currentTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const none = await api.querySessionInformation(local, 0, 'WTSSessionInfo');
      expect(none).toMatchObject({ winStationName: 'Services', userName: '', logonTime: null });
    });

    test('WTSSessionInfo cuts names to the struct\'s fixed sizes, as Windows does', async () => {
      await backend.putSession('TS01', { id: 9, name: 'W'.repeat(40), state: 'Active', user: 'U'.repeat(30), domain: 'D'.repeat(25) });
      const info = await api.querySessionInformation(local, 9, 'WTSSessionInfo');
      expect([info.winStationName.length, info.domain.length, info.userName.length]).toEqual([31, 16, 20]);
      expect(await api.querySessionInformation(local, 9, 'WTSUserName')).toBe('U'.repeat(30));
    });

    test('WTSIsRemoteSession: sessions with a client are remote', async () => {
      expect(await api.querySessionInformation(local, 2, 'WTSIsRemoteSession')).toBe(true);
      expect(await api.querySessionInformation(local, 1, 'WTSIsRemoteSession')).toBe(false);
    });

    test('enumerates processes with their sessions (WTSEnumerateProcessesW), remote too', async () => {
      const processes = await api.enumerateProcesses(local);
      expect(processes.map(({ userSid: _, ...p }) => p)).toEqual([
        { sessionId: 0, processId: 0, processName: 'System Idle Process' }, // every server with a session 0
        { sessionId: 3, processId: 4100, processName: 'excel.exe' },
        { sessionId: 3, processId: 4104, processName: 'explorer.exe' },
      ]);
      // pUserSid decoded: LocalSystem for PID 0, the session's user for bob's processes.
      expect(processes[0]?.userSid).toBe('S-1-5-18');
      expect(processes[1]?.userSid).toMatch(/^S-1-5-21-\d+-\d+-\d+-\d+$/);
      expect(processes[2]?.userSid).toBe(processes[1]?.userSid);
      await withServer('WF12', async (h) => expect(await api.enumerateProcesses(h)).toEqual([]));
      await withServer('WF13', async (h) => expect((await win32Code(api.enumerateProcesses(h))).code).toBe(1722));
    });

    const processIds = async (h: ServerHandle) => (await api.enumerateProcesses(h)).map((p) => `${p.sessionId}:${p.processId}:${p.processName}`);

    test('WTSTerminateProcess ends a process: it leaves the list; a PID not running is 87, PID 0 is 5', async () => {
      const terminate = api.terminateProcess!.bind(api);
      await terminate(local, 4100, 1);
      expect(await processIds(local)).toEqual(['0:0:System Idle Process', '3:4104:explorer.exe']);
      expect(await win32Code(terminate(local, 4100, 1))).toEqual({ code: 87, api: 'WTSTerminateProcess' });
      expect(await win32Code(terminate(local, 0, 1))).toEqual({ code: 5, api: 'WTSTerminateProcess' });
      await withServer('WF13', async (h) => expect((await win32Code(terminate(h, 4104, 1))).code).toBe(1722));
    });

    test('WTSTerminateProcess: a fault is keyed by the process ID; a reused PID is the new process', async () => {
      await backend.setFault('TS01', 'terminate', 4104, 5);
      expect(await win32Code(api.terminateProcess!(local, 4104, 1))).toEqual({ code: 5, api: 'WTSTerminateProcess' });
      await backend.setFault('TS01', 'terminate', 4104, undefined);
      // excel.exe ends; Windows gives PID 4100 to a new process in another session.
      await backend.putSession('TS01', { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', processes: [{ pid: 4104, name: 'explorer.exe' }] });
      await backend.putSession('TS01', { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'Jürgen', domain: 'CORP', processes: [{ pid: 4100, name: 'notepad.exe' }] });
      expect(await processIds(local)).toContain('4:4100:notepad.exe');
      await api.terminateProcess!(local, 4100, 0);
      expect(await processIds(local)).not.toContain('4:4100:notepad.exe');
    });

    test('WTS_CURRENT_SESSION on the local server is the caller\'s session', async () => {
      expect(await api.querySessionInformation(local, WTS_CURRENT_SESSION, 'WTSWinStationName')).toBe('RDP-Tcp#0');
    });

    test('a missing session is 7022', async () => {
      expect(await win32Code(api.querySessionInformation(local, 99, 'WTSUserName'))).toEqual({
        code: 7022,
        api: 'WTSQuerySessionInformationW',
      });
      expect((await win32Code(api.logoffSession(local, 99))).code).toBe(7022);
    });

    test('logoff closes the session: still seen for a poll, then 7022 and gone from the list', async () => {
      await api.logoffSession(local, 4);
      expect(await api.querySessionInformation(local, 4, 'WTSConnectState')).toEqual(expect.any(Number));
      expect((await win32Code(api.querySessionInformation(local, 4, 'WTSConnectState'))).code).toBe(7022);
      expect((await api.enumerateSessions(local)).map((s) => s.sessionId)).not.toContain(4);
    });

    test('a second logoff while closing is 7007', async () => {
      await api.logoffSession(local, 4);
      expect(await win32Code(api.logoffSession(local, 4))).toEqual({ code: 7007, api: 'WTSLogoffSession' });
    });

    test('injected faults fail with their code, per session or for any', async () => {
      expect(await win32Code(api.logoffSession(local, 3))).toEqual({ code: 5, api: 'WTSLogoffSession' });
      await backend.setFault('TS01', 'enumerate', '*', 1726);
      expect(await win32Code(api.enumerateSessions(local))).toEqual({ code: 1726, api: 'WTSEnumerateSessionsExW' });
      await backend.setFault('TS01', 'enumerate', '*', undefined);
      expect((await api.enumerateSessions(local)).length).toBe(6);
      await backend.setFault('TS01', 'query', 2, 5);
      expect((await win32Code(api.querySessionInformation(local, 2, 'WTSUserName'))).code).toBe(5);
    });

    test('disconnect leaves the session Disconnected with no WinStation name', async () => {
      const before = Date.now();
      await api.disconnectSession(local, 4);
      const info = await api.querySessionInformation(local, 4, 'WTSSessionInfo');
      expect(info.disconnectTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(await api.querySessionInformation(local, 4, 'WTSConnectState')).toBe(4);
      expect(await api.querySessionInformation(local, 4, 'WTSWinStationName')).toBe('');
      expect(await api.querySessionInformation(local, 4, 'WTSUserName')).toBe('Jürgen');
    });

    test('send message answers IDOK when waiting and IDASYNC when not', async () => {
      const message = { title: 'Maintenance', text: 'Log off in 5 minutes', style: 0, timeoutSeconds: 0 };
      expect(await api.sendMessage(local, 2, { ...message, wait: true })).toBe(1);
      expect(await api.sendMessage(local, 2, { ...message, wait: false })).toBe(32001);
      expect((await win32Code(api.sendMessage(local, 99, { ...message, wait: false }))).code).toBe(7022);
    });

    test('console, current session and computer name', () => {
      expect(api.getActiveConsoleSessionId()).toBe(1);
      expect(api.getCurrentSessionId()).toBe(2);
      expect(api.getComputerName()).toBe('TS01');
    });

    test('a reused session ID shows its new identity', async () => {
      await api.logoffSession(local, 4);
      await api.enumerateSessions(local);
      await api.enumerateSessions(local);
      await backend.putSession('TS01', { id: 4, name: 'RDP-Tcp#7', state: 'Active', user: 'mallory', domain: 'CORP' });
      const reused = (await api.enumerateSessions(local)).find((s) => s.sessionId === 4);
      expect(reused).toMatchObject({ sessionName: 'RDP-Tcp#7', userName: 'mallory' });
    });
  });
}
