/**
 * The lock state through the koffi backend and the native double: WTSSessionInfoEx decoded at
 * koffi's offsets, NetServerGetInfo's version masked with MAJOR_VERSION_MASK and its buffer freed
 * with NetApiBufferFree (the double counts a wrong free), the 6.1 swap, unknown flags and an
 * unknown version as null, and the `locked` filter's safety property hunted on this backend too.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { createWts, type ServerHandle, type WtsApi } from '../../src/index';
import type { Farm } from '../../src/mock';
import { WTS_CURRENT_SERVER_HANDLE as CSH } from '../../src/wtsapi';
import { ROOT, rejection } from '../helpers';
import { checkLockCase, lockCaseArb, lockWorldArb } from '../lock-property';
import { describeWithDouble } from './setup';

const RUNS = Number(process.env['WTS_FUZZ_RUNS'] ?? '0') || 25;

const FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      consoleSessionId: 1,
      sessions: [
        { id: 1, name: 'Console', state: 'Active', user: 'admin' },
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', locked: true },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob' },
        { id: 4, name: 'RDP-Tcp#2', state: 'Active', user: 'carol', locked: null },
      ],
    },
    { name: 'OLD', osVersion: '6.1', sessions: [{ id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'dan', locked: true }, { id: 3, state: 'Active', user: 'eve' }] },
    { name: 'NEW', osVersion: '6.2', sessions: [{ id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'fay', locked: true }] },
  ],
};

/** The backend, recording every request sent to a session (server name, session ID). */
function recording(api: WtsApi): { api: WtsApi; acted: Array<{ server: string; sessionId: number }> } {
  const names = new Map<bigint, string>();
  const acted: Array<{ server: string; sessionId: number }> = [];
  const nameOf = (h: ServerHandle) => (h === CSH ? 'TS01' : (names.get(h) ?? '?'));
  const wrapped = new Proxy(api, {
    get: (target, key) => {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (key === 'openServer') {
        return async (name: string) => {
          const h = (await fn(name)) as ServerHandle;
          names.set(h, name.toUpperCase());
          return h;
        };
      }
      if (key === 'logoffSession' || key === 'disconnectSession' || key === 'sendMessage') {
        return (h: ServerHandle, id: number, ...rest: unknown[]) => {
          acted.push({ server: nameOf(h), sessionId: id });
          return fn(h, id, ...rest);
        };
      }
      return fn;
    },
  });
  return { api: wrapped, acted };
}

describeWithDouble('lock state: koffi + the native double', (get) => {
  test('WTSSessionInfoEx decoded: Level 1, the names, SessionFlags raw (swapped by a 6.1 server)', async () => {
    const { double, api } = get();
    double.loadFarm(FARM);
    const info = await api.querySessionInformation(CSH, 2, 'WTSSessionInfoEx');
    expect(info.level).toBe(1);
    expect(info.level1).toMatchObject({ sessionId: 2, sessionState: 0, sessionFlags: 0, winStationName: 'RDP-Tcp#0', userName: 'alice' });
    expect(info.level1?.currentTime).toBeInstanceOf(Date);
    expect((await api.querySessionInformation(CSH, 3, 'WTSSessionInfoEx')).level1?.sessionFlags).toBe(1);
    expect((await api.querySessionInformation(CSH, 4, 'WTSSessionInfoEx')).level1?.sessionFlags).toBe(0xffffffff);
    const old = await api.openServer('OLD');
    try {
      expect((await api.querySessionInformation(old, 2, 'WTSSessionInfoEx')).level1?.sessionFlags).toBe(1);
    } finally {
      await api.closeServer(old);
    }
  });

  test('NetServerGetInfo: the version masked (the double sets a bit above it), local and remote, freed with NetApiBufferFree', async () => {
    const { double, api } = get();
    double.loadFarm(FARM);
    expect(await api.getServerVersion('')).toEqual({ major: 10, minor: 0 });
    expect(await api.getServerVersion('OLD')).toEqual({ major: 6, minor: 1 });
    expect(await api.getServerVersion('\\\\new')).toEqual({ major: 6, minor: 2 });
    expect(double.calls('version')).toBe(3);
    // The leak check after each test sees a buffer freed with the wrong function as a bad free.
  });

  test("NetServerGetInfo on koffi's own threads too (lanes: false)", async () => {
    const { double } = get();
    double.loadFarm(FARM);
    const path = double.path;
    const api = createKoffiApi({ wtsapi32: path, kernel32: path, netapi32: path, lanes: false });
    expect([await api.getServerVersion(''), await api.getServerVersion('OLD')]).toEqual([{ major: 10, minor: 0 }, { major: 6, minor: 1 }]);
    double.setFault('NEW', 'version', '*', 2114);
    expect(await rejection(api.getServerVersion('NEW'))).toMatchObject({ win32Code: 2114, api: 'NetServerGetInfo' });
  });

  test('NetServerGetInfo failures reject with the NET_API_STATUS (no buffer to free)', async () => {
    const { double, api } = get();
    double.loadFarm(FARM);
    double.setFault('OLD', 'version', '*', 5);
    expect(await rejection(api.getServerVersion('OLD'))).toMatchObject({ code: 'E_WIN32', win32Code: 5, api: 'NetServerGetInfo', server: 'OLD' });
    expect(await rejection(api.getServerVersion('NOWHERE'))).toMatchObject({ win32Code: 1722, api: 'NetServerGetInfo' });
  });

  test('the lock detail: the swap undone on 6.1 (not on 6.2), UNKNOWN and unlisted values null', async () => {
    const { double, api } = get();
    double.loadFarm(FARM);
    const wts = createWts({ api });
    expect((await wts.listSessions({ details: ['lock'] })).map((s) => [s.id, s.details.locked])).toEqual([[1, false], [2, true], [3, false], [4, null]]);
    expect((await wts.listSessions({ server: 'OLD', details: ['lock'] })).map((s) => [s.id, s.details.locked])).toEqual([[2, true], [3, false]]);
    expect((await wts.listSessions({ server: 'NEW', details: ['lock'] })).map((s) => s.details.locked)).toEqual([true]);
    double.setSessionFlags('TS01', 3, 7); // a value Learn does not list
    expect((await wts.listSessions({ details: ['lock'] })).find((s) => s.id === 3)?.details.locked).toBeNull();
    expect((await wts.listSessions({ locked: false })).map((s) => s.id)).toEqual([1]);
  });

  test('without netapi32 (the library cannot be loaded) the version is unknown: every lock state null', async () => {
    const { double } = get();
    double.loadFarm(FARM);
    const path = double.path;
    const api = createKoffiApi({ wtsapi32: path, kernel32: path, netapi32: join(ROOT, 'no-such-netapi32.dll') });
    expect(await api.getServerVersion('')).toBeNull();
    const wts = createWts({ api });
    expect((await wts.listSessions({ details: ['lock'] })).map((s) => s.details.locked)).toEqual([null, null, null, null]);
    expect(await wts.logoffAll({ locked: true, dryRun: true })).toEqual(expect.not.arrayContaining([expect.objectContaining({ status: 'wouldLogOff' })]));
    expect(double.calls('version')).toBe(0);
  });

  test('property: no session whose lock state is not exactly `locked` is listed, planned or acted on (koffi + double)', async () => {
    const { double, api } = get();
    await fc.assert(
      fc.asyncProperty(lockWorldArb, lockCaseArb, async (world, c) => {
        double.loadFarm(world.farm);
        const r = recording(api);
        const violations = await checkLockCase(world, c, r.api, () => r.acted);
        expect(violations).toEqual([]);
        expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 });
      }),
      { numRuns: RUNS, seed: 20261216 },
    );
  }, 60_000);
});
