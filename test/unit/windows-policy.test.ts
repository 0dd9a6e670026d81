/**
 * Issue 11: policies that follow sourced (or explicitly assumed) Windows facts.
 * See docs/windows-facts.md for the rows and their sources.
 */
import { createWts, Win32Error, type WtsApi } from '../../src/index';
import { responseName } from '../../src/api/message';
import type { ServerHandle, WtsInfoClass } from '../../src/wtsapi';
import { createMockApi } from '../../src/mock';
import { exampleFarm } from '../helpers';

/** The mock, with chosen information classes failing as a server that lacks them would. */
function withoutClasses(missing: readonly WtsInfoClass[], code = 50): { api: WtsApi; asked: WtsInfoClass[] } {
  const mock = createMockApi(exampleFarm());
  const asked: WtsInfoClass[] = [];
  const api: WtsApi = {
    name: 'old-server',
    openServer: (n) => mock.openServer(n),
    closeServer: (h) => mock.closeServer(h),
    enumerateSessions: (h) => mock.enumerateSessions(h),
    enumerateProcesses: (h) => mock.enumerateProcesses(h),
    querySessionInformation: async (h: ServerHandle, id: number, c: WtsInfoClass) => {
      asked.push(c);
      if (missing.includes(c)) throw new Win32Error({ win32Code: code, api: 'WTSQuerySessionInformationW', sessionId: id });
      return mock.querySessionInformation(h, id, c);
    },
    logoffSession: (h, id) => mock.logoffSession(h, id),
    disconnectSession: (h, id) => mock.disconnectSession(h, id),
    sendMessage: (h, id, m) => mock.sendMessage(h, id, m),
    getActiveConsoleSessionId: () => mock.getActiveConsoleSessionId(),
    getCurrentSessionId: () => mock.getCurrentSessionId(),
    getComputerName: () => mock.getComputerName(),
  } as WtsApi;
  return { api, asked };
}

describe('WTSSendMessageW answers', () => {
  test('0 is a timeout (seen on Windows, Cassia maps it so), never a button the user did not press', () => {
    expect(responseName(0)).toBe('Timeout');
    expect(responseName(32000)).toBe('Timeout');
    expect(responseName(2)).toBe('Cancel');
    expect(responseName(12345)).toBe('Unknown');
    // A box that never closes by itself cannot time out.
    expect(responseName(0, 0)).toBe('Unknown');
  });
});

describe('a server without WTSSessionInfo (older than Windows Server 2008)', () => {
  test('the identity re-check falls back to the names, and the logoff still happens', async () => {
    const { api, asked } = withoutClasses(['WTSSessionInfo']);
    const wts = createWts({ api });
    const outcome = await wts.logoff(3, { pollIntervalMs: 1 });
    expect(outcome).toMatchObject({ status: 'loggedOff', confirmed: true });
    expect(asked).toEqual(expect.arrayContaining(['WTSUserName', 'WTSDomainName', 'WTSWinStationName']));
    // Asked once: the server is remembered as lacking it.
    expect(asked.filter((c) => c === 'WTSSessionInfo')).toEqual(['WTSSessionInfo']);
  });

  test('a 50 from WTSSessionInfo after it worked on the connection is an error, not a switch to a weaker identity', async () => {
    const mock = createMockApi(exampleFarm(), { closingPolls: 1000 });
    let sessionInfoCalls = 0;
    const api = new Proxy({} as WtsApi, {
      get: (_t, key: string) => {
        if (key === 'querySessionInformation') {
          return async (h: ServerHandle, id: number, c: WtsInfoClass) => {
            if (c === 'WTSSessionInfo' && ++sessionInfoCalls === 2) throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW', sessionId: id });
            return mock.querySessionInformation(h, id, c);
          };
        }
        const v = (mock as unknown as Record<string, unknown>)[key];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(mock) : v;
      },
    });
    const error = await createWts({ api }).logoff(3, { pollIntervalMs: 1, timeoutMs: 200 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Not "logged off, confirmed" while the session is still there.
    expect(error).toMatchObject({ win32Code: 50, requests: ['WTSLogoffSession'] });
    expect(mock.getSession('TS01', 3)).toBeDefined();
  });

  test('another failure of WTSSessionInfo (access denied) is not taken for a missing class', async () => {
    const { api } = withoutClasses(['WTSSessionInfo'], 5);
    await expect(createWts({ api }).logoff(3)).rejects.toMatchObject({ win32Code: 5 });
  });
});

describe('the remote detail', () => {
  test('uses WTSClientProtocolType, never WTSIsRemoteSession (local handle, current session only)', async () => {
    const { api, asked } = withoutClasses([]);
    const sessions = await createWts({ api }).listSessions({ details: ['remote'] });
    expect(asked).not.toContain('WTSIsRemoteSession');
    expect(asked).toContain('WTSClientProtocolType');
    expect(sessions.find((s) => s.id === 1)?.details.isRemote).toBe(false); // the console
    expect(sessions.find((s) => s.id === 4)?.details.isRemote).toBe(true); // RDP-Tcp#1 from DESK-12
  });
});

describe('WTS_CLIENT_ADDRESS (the koffi backend decodes the raw 20 bytes)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { clientAddress } = require('../../src/backends/koffi/koffi-api') as typeof import('../../src/backends/koffi/koffi-api');
  const bytes = (start: number, values: number[]) => {
    const a = new Array<number>(20).fill(0);
    values.forEach((v, i) => (a[start + i] = v));
    return a;
  };
  test('IPv4 at Address[2..5] (Learn: "offset by two bytes"; every source agrees)', () => {
    expect(clientAddress(2, bytes(2, [192, 168, 0, 1]))).toEqual({ family: 2, address: '192.168.0.1' });
  });
  test("IPv6 at Address[0..15], Learn's example FFFF::1", () => {
    expect(clientAddress(23, bytes(0, [0xff, 0xff, ...new Array(13).fill(0), 1])).address).toBe('ffff::1');
  });
  test('IPv6 at Address[2..17] whose last group is 0 is still read at [2..17] (the first group tells)', () => {
    const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0];
    expect(clientAddress(23, bytes(2, v6)).address).toBe('2001:db8:1:2:3:4:5:0');
  });
  test('an IPv4-mapped address at Address[0..15] stays there', () => {
    expect(clientAddress(23, bytes(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5])).address).toBe('::ffff:a00:5');
  });
  test('IPv6 at Address[2..17] (Cassia, oshi, Veyon) when bytes 16-17 say so', () => {
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 5];
    expect(clientAddress(23, bytes(2, v6)).address).toBe('2001:db8::5');
  });
});
