/**
 * A session ID taken by another logon between the listing and the session's detail query: the
 * details read are the other logon's, and must not be given to the session as listed. Found by a
 * watch (`details: ['times']`) that reported carol logging on at zed's logon time.
 */
import fc from 'fast-check';
import { createWts, type DetailedSession, type DetailGroup, type SessionEvent } from '../../src/index';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';

const CAROL: FarmSession = { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T07:45:00Z' };
const farm = (): Farm => ({
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      currentSessionId: 2,
      sessions: [
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
        { ...CAROL },
        { id: 5, name: 'RDP-Tcp#2', state: 'Active', user: 'dave', domain: 'CORP', logonTime: '2026-11-21T07:45:00Z' },
      ],
    },
  ],
});

/** A mock where `replacement` takes session 4 the moment its first detail query is made (once armed). */
function racing(replacement: FarmSession): { mock: MockApi; arm: () => void } {
  let armed = false;
  let done = false;
  // eslint-disable-next-line prefer-const
  let mock: MockApi;
  mock = createMockApi(farm(), {
    onCall: (c) => {
      if (!armed || done || c.api !== 'query' || c.sessionId !== 4) return;
      done = true;
      mock.putSession('TS01', replacement);
    },
  });
  return { mock, arm: () => (armed = true) };
}

const ZED: FarmSession = { ...CAROL, user: 'zed', logonTime: '2026-11-21T10:00:00Z' };

describe('a detail query that finds another logon under the ID', () => {
  test('watchSessions with times: the change is one logoff of carol (her own logon time) and one logon of zed, nothing invented', async () => {
    const { mock, arm } = racing(ZED);
    const ac = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      try {
        for await (const e of createWts({ api: mock }).watchSessions({ details: ['times'], signal: ac.signal }) as AsyncIterable<SessionEvent<DetailedSession>>) {
          if (!('session' in e)) continue;
          seen.push(`${e.type} ${e.session.id} ${e.session.userName} ${e.session.details.logonTime?.toISOString() ?? '-'}`);
        }
      } catch {
        // the abort ends it
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    arm();
    // Any change wakes the watch; its listing then races with zed's logon on ID 4.
    mock.putSession('TS01', { id: 5, name: 'RDP-Tcp#2', state: 'Disconnected', user: 'dave', domain: 'CORP', logonTime: '2026-11-21T07:45:00Z' });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    await watching;
    expect(seen.filter((s) => s.split(' ')[1] === '4')).toEqual(['logoff 4 carol 2026-11-21T07:45:00.000Z', 'logon 4 zed 2026-11-21T10:00:00.000Z']);
    expect(seen.filter((s) => s.split(' ')[1] === '5')).toEqual(['disconnect 5 dave 2026-11-21T07:45:00.000Z']);
  });

  test('property: listSessions never gives the listed session another logon\'s times or lock state; it is listed gone (or left out by a filter that needed them)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray<DetailGroup>(['times', 'lock', 'clientName', 'remote'], { minLength: 1 }).filter((g) => g.includes('times') || g.includes('lock')),
        fc.constantFrom<Partial<FarmSession>>({ user: 'zed' }, { domain: 'OTHER' }, { user: 'CAROL2' }, { user: '', domain: '', state: 'Connected' }),
        fc.boolean(),
        async (groups, change, filtered) => {
          const { mock, arm } = racing({ ...CAROL, ...change, logonTime: '2026-11-21T10:00:00Z', locked: true });
          arm();
          const wts = createWts({ api: mock });
          const rows = filtered
            ? await wts.listSessions({ details: groups, idleLongerThan: 0 })
            : await wts.listSessions({ details: groups });
          const four = (rows as readonly DetailedSession[]).find((s) => s.id === 4);
          if (filtered) {
            // The filter needed the times: a session whose read was another logon's cannot pass.
            expect(four).toBeUndefined();
          } else {
            expect(four?.userName).toBe('carol');
            expect(four?.details).toEqual({ gone: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('the same user and domain in another case, or a name cut to WTSINFOW\'s field, is the same logon: its details are kept', async () => {
    const long = 'abcdefghijklmnopqrstuvwxy'; // 25 characters: WTSINFOW keeps 20
    for (const user of ['CAROL', long]) {
      const f = farm();
      f.servers[0]!.sessions![1] = { ...CAROL, user };
      const mock = createMockApi(f);
      const rows = (await createWts({ api: mock }).listSessions({ details: ['times', 'lock'] })) as readonly DetailedSession[];
      const four = rows.find((s) => s.id === 4);
      expect(four?.details.gone).toBeUndefined();
      expect(four?.details.logonTime).toEqual(new Date('2026-11-21T07:45:00Z'));
    }
  });
});
