/**
 * Processes on every backend: WTSEnumerateProcessesExW level 1 (counters, owners' SIDs, the session
 * filter), its fallback to WTSEnumerateProcessesW where a server lacks it, LookupAccountSidW, and
 * listProcesses on top: owners resolved once per SID, a SID that maps to no account shown as the SID,
 * a lookup failure that leaves the listing standing, many servers.
 */
import { createWts, InvalidArgumentError, Win32Error, WTS_ANY_SESSION, WTS_CURRENT_SERVER_HANDLE, type Wts, type WtsApi } from '../../src/index';
import type { Farm } from '../../src/mock';
import { overriding, rejection } from '../helpers';
import type { BackendFactory, ContractBackend } from './contract';

export const ORPHAN_SID = 'S-1-5-21-9-9-9-500';
export const BACKUP_SID = 'S-1-5-21-1111-2222-3333-1104';

/** A server with services in session 0, two users, a SID of the farm's own, one no account has, and a process without a SID. */
export function processFarm(): Farm {
  return {
    localServer: 'TS01',
    accounts: { [BACKUP_SID]: 'CORP\\svc-backup' },
    servers: [
      {
        name: 'TS01',
        currentSessionId: 2,
        sessions: [
          {
            id: 0,
            name: 'Services',
            state: 'Disconnected',
            processes: [
              { pid: 4, name: 'System', user: 'SYSTEM', threads: 150, handleCount: 4000 },
              { pid: 812, name: 'svchost.exe', user: 'NETWORK SERVICE' },
              { pid: 900, name: 'backup.exe', user: BACKUP_SID },
              { pid: 901, name: 'orphan.exe', user: ORPHAN_SID },
              { pid: 902, name: 'protected.exe', user: null },
            ],
          },
          {
            id: 2,
            name: 'RDP-Tcp#0',
            state: 'Active',
            user: 'alice',
            domain: 'CORP',
            processes: [
              {
                pid: 5004,
                name: 'explorer.exe',
                threads: 40,
                handleCount: 1200,
                workingSetSize: 83_886_080,
                peakWorkingSetSize: 90_000_000,
                pagefileUsage: 41_943_040,
                peakPagefileUsage: 50_000_000,
                userTime: 12_500,
                kernelTime: 3_400,
              },
              { pid: 5120, name: 'powershell.exe' },
              { pid: 5200, name: 'excel.exe' },
              { pid: 5300, name: 'mmc.exe', user: 'CORP\\admin' },
            ],
          },
          { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', processes: [{ pid: 6100, name: 'excel.exe' }] },
        ],
      },
      {
        name: 'WF12',
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 2, name: 'TERM04', state: 'Active', user: 'frank', domain: 'CORP', processes: [{ pid: 700, name: 'notepad.exe' }, { pid: 701, name: 'calc.exe' }] },
        ],
      },
      { name: 'WF13', unreachable: true },
    ],
  };
}

async function win32Code(promise: Promise<unknown>): Promise<{ code: number; api: string }> {
  const error = await rejection(promise);
  if (!(error instanceof Win32Error)) throw error;
  return { code: error.win32Code, api: error.api };
}

const local = WTS_CURRENT_SERVER_HANDLE;

export function describeProcessesContract(name: string, factory: BackendFactory): void {
  describe(`processes and owners: ${name}`, () => {
    let backend: ContractBackend;
    let api: WtsApi;
    let wts: Wts;

    beforeEach(async () => {
      backend = await factory(processFarm(), { closingPolls: 1 });
      api = backend.api;
      wts = createWts({ api });
    });
    afterEach(async () => {
      await backend.checkClean();
      await backend.dispose();
    });

    const ex = (server = local, session = WTS_ANY_SESSION) => {
      if (!api.enumerateProcessesEx) throw new Error('the backend has no enumerateProcessesEx');
      return api.enumerateProcessesEx(server, session);
    };
    const lookup = (server: string, sid: string) => {
      if (!api.lookupAccountSid) throw new Error('the backend has no lookupAccountSid');
      return api.lookupAccountSid(server, sid);
    };

    test('WTSEnumerateProcessesExW level 1: every process with its counters and its owner SID, PID 0 first', async () => {
      const list = await ex();
      expect(list.map((p) => p.processId)).toEqual([0, 4, 812, 900, 901, 902, 5004, 5120, 5200, 5300, 6100]);
      expect(list[0]).toEqual({
        sessionId: 0, processId: 0, processName: 'System Idle Process', userSid: 'S-1-5-18',
        numberOfThreads: 0, handleCount: 0, pagefileUsage: 0, peakPagefileUsage: 0, workingSetSize: 0, peakWorkingSetSize: 0, userTime: 0n, kernelTime: 0n,
      });
      const explorer = list.find((p) => p.processId === 5004);
      expect(explorer).toMatchObject({
        sessionId: 2, processName: 'explorer.exe', numberOfThreads: 40, handleCount: 1200, workingSetSize: 83_886_080, peakWorkingSetSize: 90_000_000,
        pagefileUsage: 41_943_040, peakPagefileUsage: 50_000_000, userTime: 12_500n, kernelTime: 3_400n,
      });
      const sid = (pid: number) => list.find((p) => p.processId === pid)?.userSid;
      expect([sid(4), sid(812), sid(900), sid(901), sid(902)]).toEqual(['S-1-5-18', 'S-1-5-20', BACKUP_SID, ORPHAN_SID, null]);
      // A process without a user of its own runs as its session's user.
      expect(sid(5120)).toBe(sid(5004));
      expect(sid(5300)).not.toBe(sid(5004));
    });

    test('level 0 (WTSEnumerateProcessesW) gives the same processes and SIDs, without counters', async () => {
      const [zero, one] = [await api.enumerateProcesses(local), await ex()];
      expect(zero.map((p) => [p.processId, p.sessionId, p.processName, p.userSid])).toEqual(one.map((p) => [p.processId, p.sessionId, p.processName, p.userSid]));
      expect(zero.every((p) => !('numberOfThreads' in p))).toBe(true);
    });

    test('SessionId: one session, session 0 with PID 0, a session that does not exist (none)', async () => {
      expect((await ex(local, 2)).map((p) => p.processId)).toEqual([5004, 5120, 5200, 5300]);
      expect((await ex(local, 0)).map((p) => p.processId)).toEqual([0, 4, 812, 900, 901, 902]);
      expect(await ex(local, 99)).toEqual([]);
    });

    test('a remote server, an unreachable one (1722), a closed handle (6)', async () => {
      const h = await api.openServer('WF12');
      expect((await ex(h)).map((p) => [p.processId, p.sessionId])).toEqual([[0, 0], [700, 2], [701, 2]]);
      await api.closeServer(h);
      expect((await win32Code(ex(h))).code).toBe(6);
      const down = await api.openServer('WF13');
      try {
        expect(await win32Code(ex(down))).toEqual({ code: 1722, api: 'WTSEnumerateProcessesExW' });
      } finally {
        await api.closeServer(down);
      }
    });

    test('a session ID that is not a DWORD is refused before any call', async () => {
      const before = backend.callCount('processesEx');
      for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
        expect(await rejection(ex(local, bad))).toBeInstanceOf(InvalidArgumentError);
      }
      expect(backend.callCount('processesEx')).toBe(before);
    });

    test('a server without level 1 (a fault of 120 or 1745 on WTSEnumerateProcessesExW only): level 0 still answers', async () => {
      for (const code of [120, 1745]) {
        const h = await api.openServer('TS01');
        try {
          await backend.setFault('TS01', 'processesEx', '*', code);
          expect(await win32Code(ex(h))).toEqual({ code, api: 'WTSEnumerateProcessesExW' });
          expect((await api.enumerateProcesses(h)).length).toBe(11);
        } finally {
          await backend.setFault('TS01', 'processesEx', '*', undefined);
          await api.closeServer(h);
        }
      }
    });

    test('LookupAccountSidW: well-known, the farm\'s users and accounts, on the local server and a remote one', async () => {
      expect(await lookup('', 'S-1-5-18')).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY', use: 5 });
      expect(await lookup('', BACKUP_SID)).toEqual({ name: 'svc-backup', domain: 'CORP', use: 1 });
      const alice = (await ex(local, 2))[0]?.userSid as string;
      expect(await lookup('', alice)).toEqual({ name: 'alice', domain: 'CORP', use: 1 });
      expect(await lookup('WF12', alice)).toEqual({ name: 'alice', domain: 'CORP', use: 1 });
    });

    test('LookupAccountSidW: a SID with no account is null (ERROR_NONE_MAPPED); an unreachable or unknown server 1722; a fault its code', async () => {
      expect(await lookup('', ORPHAN_SID)).toBeNull();
      expect(await win32Code(lookup('WF13', 'S-1-5-18'))).toEqual({ code: 1722, api: 'LookupAccountSidW' });
      expect((await win32Code(lookup('NOSUCHHOST', 'S-1-5-18'))).code).toBe(1722);
      await backend.setFault('TS01', 'lookup', '*', 5);
      expect(await win32Code(lookup('', 'S-1-5-18'))).toEqual({ code: 5, api: 'LookupAccountSidW' });
    });

    test('LookupAccountSidW: text that is not a SID is refused before any call', async () => {
      const before = backend.callCount('lookup');
      for (const bad of ['', 'alice', 'S-1-5-x', 'S-2-5-18', 'S-1-5-01', 'S-1-281474976710656-1', `S-1-5${'-1'.repeat(16)}`, 'S-1-5-4294967296']) {
        const error = await rejection(lookup('', bad));
        expect([bad, error instanceof InvalidArgumentError]).toEqual([bad, true]);
      }
      expect(backend.callCount('lookup')).toBe(before);
    });

    test('listProcesses: owners resolved (DOMAIN\\name), an unresolvable SID shown as the SID, no SID as null; counters; frozen', async () => {
      const list = await wts.listProcesses();
      const by = (pid: number) => list.find((p) => p.processId === pid);
      expect(list.map((p) => [p.processId, p.owner])).toEqual([
        [0, 'NT AUTHORITY\\SYSTEM'],
        [4, 'NT AUTHORITY\\SYSTEM'],
        [812, 'NT AUTHORITY\\NETWORK SERVICE'],
        [900, 'CORP\\svc-backup'],
        [901, ORPHAN_SID],
        [902, null],
        [5004, 'CORP\\alice'],
        [5120, 'CORP\\alice'],
        [5200, 'CORP\\alice'],
        [5300, 'CORP\\admin'],
        [6100, 'CORP\\bob'],
      ]);
      expect(by(901)).toMatchObject({ owner: ORPHAN_SID, ownerSid: ORPHAN_SID });
      expect(by(902)).toMatchObject({ owner: null, ownerSid: null });
      expect(by(5300)).toMatchObject({ sessionId: 2, sessionName: 'RDP-Tcp#0', userName: 'alice', owner: 'CORP\\admin' });
      expect(by(5004)).toEqual({
        server: '', sessionId: 2, sessionName: 'RDP-Tcp#0', userName: 'alice', processId: 5004, processName: 'explorer.exe',
        owner: 'CORP\\alice', ownerSid: by(5120)?.ownerSid,
        threads: 40, handleCount: 1200, workingSetSize: 83_886_080, peakWorkingSetSize: 90_000_000, pagefileUsage: 41_943_040, peakPagefileUsage: 50_000_000,
        userTime: 12_500, kernelTime: 3_400,
      });
      expect(Object.isFrozen(list) && list.every((p) => Object.isFrozen(p))).toBe(true);
    });

    test('listProcesses looks each SID up once: N processes of one user, one lookup', async () => {
      const before = backend.callCount('lookup');
      const list = await wts.listProcesses();
      const sids = new Set(list.map((p) => p.ownerSid).filter((s) => s !== null));
      expect(list.filter((p) => p.owner === 'CORP\\alice').length).toBe(3);
      expect(backend.callCount('lookup') - before).toBe(sids.size);
      // A farm where one user runs many processes.
      await backend.putSession('WF12', { id: 5, name: 'TERM05', state: 'Active', user: 'gina', domain: 'CORP', processes: Array.from({ length: 25 }, (_, i) => ({ pid: 9000 + i, name: 'chrome.exe' })) });
      const again = backend.callCount('lookup');
      const remote = await wts.listProcesses({ server: 'WF12' });
      expect(remote.filter((p) => p.owner === 'CORP\\gina').length).toBe(25);
      // SYSTEM (PID 0), frank, gina.
      expect(backend.callCount('lookup') - again).toBe(3);
    });

    test('listProcesses falls back to level 0 where the server lacks level 1: no counters, owners still resolved', async () => {
      await backend.setFault('TS01', 'processesEx', '*', 120);
      const level0 = backend.callCount('processes');
      const list = await wts.listProcesses();
      expect(backend.callCount('processes') - level0).toBe(1);
      expect(list.length).toBe(11);
      expect(list.some((p) => 'threads' in p || 'workingSetSize' in p || 'userTime' in p)).toBe(false);
      expect(list.find((p) => p.processId === 5004)).toMatchObject({ owner: 'CORP\\alice', processName: 'explorer.exe' });
      expect(list.find((p) => p.processId === 901)?.owner).toBe(ORPHAN_SID);
    });

    test('listProcesses on a backend without enumerateProcessesEx or lookupAccountSid: level 0, owners as SIDs', async () => {
      const bare = createWts({ api: overriding(api, { enumerateProcessesEx: undefined, lookupAccountSid: undefined }) });
      const list = await bare.listProcesses();
      expect(list.find((p) => p.processId === 5004)).toMatchObject({ owner: expect.stringMatching(/^S-1-5-21-/), processName: 'explorer.exe' });
      expect(list.find((p) => p.processId === 5004)?.owner).toBe(list.find((p) => p.processId === 5004)?.ownerSid);
      expect(list.some((p) => 'threads' in p)).toBe(false);
    });

    test('a dead server is an error, not a fallback; so is a denied level 0', async () => {
      const level0 = backend.callCount('processes');
      expect(await win32Code(wts.listProcesses({ server: 'WF13' }))).toEqual({ code: 1722, api: 'WTSEnumerateProcessesExW' });
      expect(backend.callCount('processes')).toBe(level0);
      await backend.setFault('TS01', 'processes', '*', 5);
      expect((await win32Code(wts.listProcesses())).code).toBe(5);
    });

    test('a lookup that fails leaves the listing standing: the owners are their SIDs', async () => {
      await backend.setFault('TS01', 'lookup', '*', 1722);
      const list = await wts.listProcesses();
      expect(list.length).toBe(11);
      expect(list.filter((p) => p.ownerSid !== null).every((p) => p.owner === p.ownerSid)).toBe(true);
    });

    test('many servers: each server\'s processes with their owners, a server that fails in failures', async () => {
      const result = await wts.listProcesses({ servers: ['TS01', 'WF12', 'WF13'] });
      expect(result.results.filter((p) => p.server === 'WF12').map((p) => [p.processId, p.owner])).toEqual([
        [0, 'NT AUTHORITY\\SYSTEM'],
        [700, 'CORP\\frank'],
        [701, 'CORP\\frank'],
      ]);
      // TS01 is the local machine: listed as the local server ('').
      expect(result.results.filter((p) => p.server === '').length).toBe(11);
      expect(result.failures.map((f) => [f.server, (f.error as Win32Error).win32Code])).toEqual([['WF13', 1722]]);
    });
  });
}
