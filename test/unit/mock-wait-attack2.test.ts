/**
 * Adversarial tests (round 2) of the mock's waits in simulated mode (docs/mock.md "Waiting for
 * events"): two MockApi objects on one farm file stand for two processes. GUARDS: these attacks
 * held (they pass today); kept so that they keep holding. Every wait is bounded and abandoned.
 */
import { readFileSync } from 'node:fs';
import { openSimulatedFarm, writeFarmFile, type Farm } from '../../src/mock';
import { WTS_CURRENT_SERVER_HANDLE, WtsEvent, type ServerHandle } from '../../src/wtsapi';
import { farmFile, sleep, within } from '../helpers';


describe('GUARD (passes today): simulated mode, another process changes the farm under a pending wait', () => {
  // docs/mock.md: "a closing session on a server with a wait pending completes about 20 ms later,
  // which raises DELETE (and LOGOFF)"; brief: "Nothing may act on a session another process put
  // under the same ID meanwhile."
  test.each([0, 5, 15, 40])('logoff --no-wait, then a new logon on the ID %p ms later: the new one stays', async (gap) => {
    const path = farmFile();
    const a = openSimulatedFarm(path);
    const b = openSimulatedFarm(path);
    const stop = new AbortController();
    const handle = await a.openServer('WF12');
    const flags: number[] = [];
    const waits = (async () => {
      for (;;) {
        try {
          flags.push(await a.waitSystemEvent(handle, WtsEvent.All, { signal: stop.signal }));
        } catch {
          return;
        }
      }
    })();
    await sleep(30);
    await b.logoffSession(await b.openServer('WF12'), 2);
    b.flush();
    await sleep(gap);
    b.putSession('WF12', { id: 2, name: 'RDP-Tcp#9', state: 'Active', user: 'zed', domain: 'CORP' });
    b.flush();
    await sleep(300);
    stop.abort();
    await waits;
    a.flush();
    const file = JSON.parse(readFileSync(path, 'utf8')) as Farm;
    expect(file.servers[1]!.sessions!.find((s) => s.id === 2)).toMatchObject({ user: 'zed' });
    expect(a.getSession('WF12', 2)).toMatchObject({ user: 'zed' });
    expect(flags.reduce((x, y) => x | y, 0) & (WtsEvent.Logoff | WtsEvent.Logon)).toBe(WtsEvent.Logoff | WtsEvent.Logon);
  });

  // docs/mock.md: "a pending wait on a server that another process's change makes unreachable (or
  // takes out of the file) fails with 1722 then".
  test('a server taken out of the file, the local one made unreachable: both pending waits fail with 1722', async () => {
    const path = farmFile();
    const a = openSimulatedFarm(path);
    const stop = new AbortController();
    const code = (p: Promise<number>) => p.then((f) => `flags ${f}`, (e: { win32Code?: number; message: string }) => `error ${e.win32Code ?? e.message}`);
    const remote = code(a.waitSystemEvent(await a.openServer('WF12'), WtsEvent.All, { signal: stop.signal }));
    const local = code(a.waitSystemEvent(WTS_CURRENT_SERVER_HANDLE as ServerHandle, WtsEvent.All, { signal: stop.signal }));
    await sleep(50);
    const farm = JSON.parse(readFileSync(path, 'utf8')) as Farm;
    farm.servers = farm.servers.filter((s) => s.name !== 'WF12');
    farm.servers[0]!.unreachable = true;
    writeFarmFile(path, farm);
    try {
      expect([await within(remote, 3000), await within(local, 3000)]).toEqual(['error 1722', 'error 1722']);
    } finally {
      stop.abort();
    }
  });
});
