/**
 * Issue 11: the level-1 enumeration fallback is decided per server. One server without
 * WTSEnumerateSessionsExW (120, or an RPC interface without the call: 1745) falls back to
 * WTSEnumerateSessionsW on its own; the others keep level 1; a server that is down (1722) is a
 * failure, not a reason to fall back.
 */
import { exampleFarm } from '../helpers';
import { describeWithDouble } from './setup';

describeWithDouble('koffi backend: level-1 fallback per server', (get) => {
  test.each([120, 1745])('an old server (WTSEnumerateSessionsExW fails with %i) falls back alone', async (code) => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setFault('WF12', 'enumerateEx', '*', code);
    const wf12 = await api.openServer('WF12');
    const ts01 = await api.openServer('TS01');
    try {
      // Level 0 reads each session's user and domain with WTSQuerySessionInformationW; level 1 needs none.
      const queries = async (h: Parameters<typeof api.enumerateSessions>[0]) => {
        const before = double.calls('query');
        const sessions = await api.enumerateSessions(h);
        return { sessions, queries: double.calls('query') - before };
      };
      const first = await queries(wf12);
      expect(first.sessions.map((s) => s.userName)).toContain('frank');
      expect(first.queries).toBeGreaterThan(0); // WF12 fell back to level 0
      const other = await queries(ts01);
      expect(other.sessions.length).toBe(9);
      expect(other.queries).toBe(0); // TS01 keeps level 1
      expect((await queries(wf12)).queries).toBeGreaterThan(0); // WF12 stays on level 0
    } finally {
      await api.closeServer(wf12);
      await api.closeServer(ts01);
    }
  });

  test('a server that is down (1722) is reported, not taken for an old one', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setFault('WF12', 'enumerateEx', '*', 1722);
    const wf12 = await api.openServer('WF12');
    try {
      await expect(api.enumerateSessions(wf12)).rejects.toMatchObject({ win32Code: 1722, api: 'WTSEnumerateSessionsExW' });
    } finally {
      await api.closeServer(wf12);
    }
  });

  test('enumerateSessionsWith hands make the same sessions as enumerateSessions, on level 1 and after the fallback to level 0', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setFault('WF12', 'enumerateEx', '*', 120);
    const fields = (s: { sessionId: number; state: number; sessionName: string; userName: string; domainName: string }) => [s.sessionId, s.state, s.sessionName, s.userName, s.domainName];
    for (const name of ['TS01', 'WF12']) {
      const h = await api.openServer(name);
      try {
        const plain = (await api.enumerateSessions(h)).map(fields);
        const made = await api.enumerateSessionsWith(h, (...args) => args);
        expect(plain.length).toBeGreaterThan(0);
        expect(made).toEqual(plain);
      } finally {
        await api.closeServer(h);
      }
    }
  });
});
