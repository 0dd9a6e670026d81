/**
 * Two watch findings from the stop-29 review:
 * - a session whose detail query answered "gone" (it ended between the enumeration and its query)
 *   was kept for the next diff without its logon time, so the same user's next logon under the
 *   same ID came out as no event at all (same WinStation name) or as a `rename` whose before and
 *   after were two logons;
 * - a listing whose detail query failed went on starting queries for the other sessions, and the
 *   watch's handle was closed (so `return()` settled) while those were still running.
 */
import { createWts, type SessionEvent } from '../../src/index';
import { createMockApi, type Farm } from '../../src/mock';
import { exampleFarm } from '../helpers';
import { describeWithDouble } from './setup';

jest.setTimeout(30_000);

describe('watchSessions with details: a logon that ended during its detail query keeps its identity', () => {
  test.each([['RDP-Tcp#5'], ['RDP-Tcp#9']])('the same user logs on again under ID 5 (named %s): logoff of the first logon, then logon of the second', async (newName) => {
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        {
          name: 'TS01',
          sessions: [
            { id: 0, name: 'Services', state: 'Disconnected' },
            { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'alice', domain: 'CORP', logonTime: '2026-01-01T08:00:00Z' },
          ],
        },
      ],
    };
    let armed = false;
    const mock = createMockApi(farm, {
      onCall: (c) => {
        if (armed && c.api === 'query' && c.sessionId === 5) {
          armed = false;
          // The first logon ends between the enumeration and its detail query; alice logs on again
          // a moment later under the same ID.
          mock.removeSession('TS01', 5);
          setTimeout(() => mock.putSession('TS01', { id: 5, name: newName, state: 'Active', user: 'alice', domain: 'CORP', logonTime: '2026-01-01T09:00:00Z' }), 5);
        }
      },
    });
    const it = createWts({ api: mock }).watchSessions({ details: ['times'], initial: true, reconcileMs: 200 })[Symbol.asyncIterator]();
    expect((await it.next()).value?.type).toBe('snapshot');
    armed = true;
    mock.putSession('TS01', { id: 7, name: 'RDP-Tcp#7', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-01-01T08:30:00Z' });
    const seen: string[] = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !(seen.includes('logoff 5 08') && seen.includes('logon 5 09'))) {
      const r = await Promise.race([it.next(), new Promise<undefined>((res) => setTimeout(() => res(undefined), 500))]);
      if (!r || r.done) continue;
      const e = r.value as SessionEvent & { session?: { id: number; details?: { logonTime?: Date | null } } };
      if (e.session?.id === 5) seen.push(`${e.type} 5 ${String(e.session.details?.logonTime?.toISOString().slice(11, 13))}`);
    }
    await it.return?.();
    expect(seen.filter((x) => x.startsWith('rename'))).toEqual([]);
    expect(seen).toContain('logoff 5 08');
    expect(seen).toContain('logon 5 09');
  });
});

describeWithDouble('watchSessions with details on koffi: a failed detail query stops the listing, and return() settles with the handle closed', (get) => {
  test('no query starts after one failed; return() resolves with no handle open', async () => {
    const { double, api } = get();
    const farm = exampleFarm();
    for (let i = 10; i < 26; i++) farm.servers[1]!.sessions!.push({ id: i, name: `RDP-Tcp#${i}`, state: 'Active', user: `u${i}`, domain: 'CORP' });
    double.loadFarm(farm);
    double.setLatency('WF12', 'query', 300);
    double.setFault('WF12', 'query', 3, 1722);
    const before = double.calls('query');
    const it = createWts({ api }).watchSessions({ server: 'WF12', details: ['times'] })[Symbol.asyncIterator]();
    const first = (await it.next()).value as SessionEvent;
    expect(first.type).toBe('serverError');
    double.setFault('WF12', 'query', 3, undefined);
    await it.return?.();
    expect(double.openHandles).toBe(0);
    // The listing's queries: the 8 started at once, and the few started by queries that finished
    // together with the failure; never one for every session, as before.
    const sessions = farm.servers[1]!.sessions!.length;
    expect(double.calls('query') - before).toBeLessThan(sessions);
  });
});
