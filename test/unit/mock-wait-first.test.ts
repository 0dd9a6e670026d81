/**
 * The mock's first wait in simulated mode (docs/mock.md "Waiting for events"): a change another
 * process makes while the call is on its way in (after it is logged, before it is registered)
 * wakes it. Found by the CLI watch guard (test/cli/watch-attack.test.ts), which twice missed an
 * in-place edit made the moment the call log showed the first wait, under a full CI run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { openSimulatedFarm, type Farm } from '../../src/mock';
import { WTS_CURRENT_SERVER_HANDLE, WtsEvent } from '../../src/wtsapi';
import { farmFile, within } from '../helpers';



/** Another process's in-place edit: session `id` of the first server disconnected. */
function disconnectInFile(path: string, id: number): void {
  const farm = JSON.parse(readFileSync(path, 'utf8')) as Farm;
  Object.assign(farm.servers[0]!.sessions!.find((s) => s.id === id)!, { state: 'Disconnected', name: '' });
  writeFileSync(path, JSON.stringify(farm, null, 2));
}

describe('found: a change that lands while the first wait is on its way in', () => {
  for (const before of ['nothing', 'an enumeration', 'a wait that returned'] as const) {
    test(`after ${before}, an edit right after the call wakes the wait with DISCONNECT`, async () => {
      const path = farmFile(undefined, 2);
      const a = openSimulatedFarm(path);
      const stop = new AbortController();
      const local = WTS_CURRENT_SERVER_HANDLE;
      if (before === 'an enumeration') await a.enumerateSessions(local);
      if (before === 'a wait that returned') {
        await a.enumerateSessions(local);
        const first = a.waitSystemEvent(local, WtsEvent.All);
        await new Promise((r) => setTimeout(r, 20));
        await a.flushSystemEvents(local);
        expect(await first).toBe(WtsEvent.None);
      }
      // The call is made (and logged); before it registers, another process edits the file.
      const wait = a.waitSystemEvent(local, WtsEvent.All, { signal: stop.signal });
      disconnectInFile(path, 4);
      const flags = await within(wait, 3000);
      stop.abort();
      await wait.catch(() => undefined);
      expect(flags === 'timeout' ? 'timeout' : flags & WtsEvent.Disconnect).toBe(WtsEvent.Disconnect);
    });
  }
});

describe('HOLDS: the same edit once the wait is registered', () => {
  test('an edit 100 ms after the call wakes the wait with DISCONNECT', async () => {
    const path = farmFile(undefined, 2);
    const a = openSimulatedFarm(path);
    const stop = new AbortController();
    await a.enumerateSessions(WTS_CURRENT_SERVER_HANDLE);
    const wait = a.waitSystemEvent(WTS_CURRENT_SERVER_HANDLE, WtsEvent.All, { signal: stop.signal });
    await new Promise((r) => setTimeout(r, 100));
    disconnectInFile(path, 4);
    const flags = await within(wait, 3000);
    stop.abort();
    await wait.catch(() => undefined);
    expect(flags === 'timeout' ? 'timeout' : flags & WtsEvent.Disconnect).toBe(WtsEvent.Disconnect);
  });
});
