/**
 * The koffi backend's process calls on the native double, where the contract suite cannot reach:
 * LookupAccountSidW's ERROR_INSUFFICIENT_BUFFER retry, the per-handle memory of a server without
 * WTSEnumerateProcessesExW level 1, koffi's `.async` path (no lanes), abandoned calls, SIDs at the
 * edges of the format, NULL pUserSid, and bad input refused before any call. Every test ends with
 * no buffer left and no bad free (setup.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createKoffiApi, createWts, InvalidArgumentError, OperationAbortedError, Win32Error, WTS_ANY_SESSION, WTS_CURRENT_SERVER_HANDLE } from '../../src/index';
import type { Farm } from '../../src/mock';
import { rejection } from '../helpers';
import { doublePath } from './double';
import { describeWithDouble } from './setup';

const local = WTS_CURRENT_SERVER_HANDLE;

function farm(): Farm {
  return {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected', processes: [{ pid: 4, name: 'System', user: 'SYSTEM' }] },
          { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', processes: [{ pid: 5004, name: 'explorer.exe', threads: 40 }] },
        ],
      },
      { name: 'WF12', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, { id: 2, name: 'TERM04', state: 'Active', user: 'frank', domain: 'CORP', processes: [{ pid: 700, name: 'notepad.exe' }] }] },
      { name: 'WF13', unreachable: true },
    ],
  };
}

describeWithDouble('koffi backend: processes and accounts on the native double', (get) => {
  test('LookupAccountSidW: a name longer than the first buffer (257 characters) is read on the second call, with the size the first asked for', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    const sid = 'S-1-5-21-1-2-3-4242';
    const name = `long-${'ü'.repeat(400)}`;
    const domain = `D${'x'.repeat(300)}😀`;
    double.putAccount('TS01', sid, name, domain);
    const before = double.calls('lookup');
    expect(await api.lookupAccountSid('', sid)).toEqual({ name, domain, use: 1 });
    expect(double.calls('lookup') - before).toBe(2);
    // A short name takes one call.
    expect(await api.lookupAccountSid('', 'S-1-5-18')).toMatchObject({ name: 'SYSTEM' });
    expect(double.calls('lookup') - before).toBe(3);
  });

  test('LookupAccountSidW on a remote server by name; 1722 for one that is down, with the server in the error', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    expect(await api.lookupAccountSid('TS01', 'S-1-5-18')).toMatchObject({ name: 'SYSTEM', domain: 'NT AUTHORITY' });
    const error = await rejection(api.lookupAccountSid('WF13', 'S-1-5-18'));
    expect(error).toBeInstanceOf(Win32Error);
    expect(error).toMatchObject({ win32Code: 1722, api: 'LookupAccountSidW', server: 'WF13' });
  });

  test('a server whose level 1 proved unsupported is answered at once for as long as its handle lives; 1722 is not remembered', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    // A remote server: the local one (WTS_CURRENT_SERVER_HANDLE) would stay remembered in this shared backend.
    double.setFault('WF12', 'processesEx', '*', 1745);
    const h = await api.openServer('WF12');
    try {
      const calls = double.calls('processesEx');
      expect(await rejection(api.enumerateProcessesEx(h, WTS_ANY_SESSION))).toMatchObject({ win32Code: 1745, api: 'WTSEnumerateProcessesExW' });
      expect(await rejection(api.enumerateProcessesEx(h, WTS_ANY_SESSION))).toMatchObject({ win32Code: 1745 });
      expect(double.calls('processesEx') - calls).toBe(1);
      // Still answered at once once the server has it again: the handle is what is remembered.
      double.setFault('WF12', 'processesEx', '*', undefined);
      expect(await rejection(api.enumerateProcessesEx(h, WTS_ANY_SESSION))).toMatchObject({ win32Code: 1745 });
      expect(double.calls('processesEx') - calls).toBe(1);
      // Another handle asks again.
      const h2 = await api.openServer('WF12');
      try {
        expect((await api.enumerateProcessesEx(h2, WTS_ANY_SESSION)).length).toBe(2);
      } finally {
        await api.closeServer(h2);
      }
      // listProcesses (a handle of its own) falls back to level 0 only where the server fails it.
      double.setFault('WF12', 'processesEx', '*', 120);
      const level0 = double.calls('processes');
      expect((await createWts({ api }).listProcesses({ server: 'WF12' })).some((p) => 'threads' in p)).toBe(false);
      expect(double.calls('processes') - level0).toBe(1);
    } finally {
      await api.closeServer(h);
    }
    const down = await api.openServer('WF13');
    try {
      const calls = double.calls('processesEx');
      for (let i = 0; i < 2; i++) expect(await rejection(api.enumerateProcessesEx(down, WTS_ANY_SESSION))).toMatchObject({ win32Code: 1722 });
      expect(double.calls('processesEx') - calls).toBe(2);
    } finally {
      await api.closeServer(down);
    }
  });

  test('NULL pUserSid is null; SIDs at the edges of the format (15 subauthorities, a 48-bit authority, 0 subauthorities) decode exactly', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    const sids = ['S-1-5-21-4294967295-0-1-2-3-4-5-6-7-8-9-10-11-12', 'S-1-0xFFFFFFFFFFFF-7', 'S-1-5', 'S-1-4294967295-1'];
    double.setProcessInfo('TS01', 4, null);
    const put = (pid: number, sid: string) => double.putSession('TS01', { id: 3 + pid, name: '', state: 'Disconnected', processes: [{ pid: 7000 + pid, name: 'x.exe', user: sid }] });
    sids.forEach((sid, i) => put(i, sid));
    for (const list of [await api.enumerateProcesses(local), await api.enumerateProcessesEx(local, WTS_ANY_SESSION)] as const) {
      expect(list.find((p) => p.processId === 4)?.userSid).toBeNull();
      expect(sids.map((_, i) => list.find((p) => p.processId === 7000 + i)?.userSid)).toEqual(sids);
    }
    const rows = await createWts({ api }).listProcesses();
    expect(rows.find((p) => p.processId === 4)).toMatchObject({ owner: null, ownerSid: null });
    expect(rows.find((p) => p.processId === 7001)).toMatchObject({ owner: 'S-1-0xFFFFFFFFFFFF-7', ownerSid: 'S-1-0xFFFFFFFFFFFF-7' });
  });

  test('bad input is refused before any call: a session ID that is not a DWORD, text that is not a SID, a server name that is not a string', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    const [ex, lookups] = [double.calls('processesEx'), double.calls('lookup')];
    expect(await rejection(api.enumerateProcessesEx(local, -1))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(api.enumerateProcessesEx(local, '2' as never))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(api.lookupAccountSid('', 'S-1-5-21-x'))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(api.lookupAccountSid(undefined as never, 'S-1-5-18'))).toBeInstanceOf(InvalidArgumentError);
    expect([double.calls('processesEx') - ex, double.calls('lookup') - lookups]).toEqual([0, 0]);
  });

  test('an abandoned WTSEnumerateProcessesExW (its signal fired) still frees its array when the call returns', async () => {
    const { double, api } = get();
    double.loadFarm(farm());
    double.setLatency('TS01', 'processesEx', 150);
    const controller = new AbortController();
    const call = api.enumerateProcessesEx(local, WTS_ANY_SESSION, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await rejection(call)).toBeInstanceOf(OperationAbortedError);
    await sleep(300); // the native call returns; its finish frees the array (setup.ts checks no leak)
    double.setLatency('TS01', 'processesEx', 0);
  });
});

const found = doublePath();
describeWithDouble("koffi backend without lanes (koffi's .async): processes and accounts", (get) => {
  test('WTSEnumerateProcessesExW, WTSEnumerateProcessesW and LookupAccountSidW (7 arguments) on libuv threads', async () => {
    if ('missing' in found) return;
    const { double } = get();
    double.loadFarm(farm());
    const api = createKoffiApi({ wtsapi32: found.path, kernel32: found.path, advapi32: found.path, lanes: false });
    expect(api.threads.mode).toBe('libuv');
    const rows = await createWts({ api }).listProcesses();
    expect(rows.map((p) => [p.processId, p.owner, p.threads])).toEqual([
      [0, 'NT AUTHORITY\\SYSTEM', 0],
      [4, 'NT AUTHORITY\\SYSTEM', 0],
      [5004, 'CORP\\alice', 40],
    ]);
    expect((await api.enumerateProcesses(local)).map((p) => p.userSid)).toEqual(rows.map((p) => p.ownerSid));
    double.putAccount('TS01', 'S-1-5-21-1-2-3-9', 'n'.repeat(600), 'CORP');
    expect((await api.lookupAccountSid('', 'S-1-5-21-1-2-3-9'))?.name).toBe('n'.repeat(600));
  });
});
