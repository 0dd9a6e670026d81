/**
 * How often the bulk actions read a chosen session's identity (WTSSessionInfo), and that the one
 * read they make when nothing else needs it is still the safety check: with no dry run, warning,
 * plan or filter read again at the action, a session is read once, right before its request, and
 * compared with the user its listing showed.
 */
import fc from 'fast-check';
import { createWts, type WtsApi } from '../../src/index';
import type { FarmSession, MockApi } from '../../src/mock';
import { exampleFarm, logoffCalls, setup } from '../helpers';

type Action = 'logoff' | 'disconnect' | 'message';
const REQUEST: Record<Action, string> = { logoff: 'logoff', disconnect: 'disconnect', message: 'message' };

/** For each session that got the request: how many WTSSessionInfo reads of it came after the last listing and before the request. */
function readsBeforeRequest(mock: MockApi, action: Action): Map<number, number> {
  const out = new Map<number, number>();
  let lastList = -1;
  mock.calls.forEach((c, i) => {
    if (c.api === 'enumerate') lastList = i;
    if (c.api !== REQUEST[action]) return;
    const reads = mock.calls.filter((q, j) => j > lastList && j < i && q.api === 'query' && q.infoClass === 'WTSSessionInfo' && q.sessionId === c.sessionId);
    out.set(c.sessionId as number, reads.length);
  });
  return out;
}

function run(wts: ReturnType<typeof createWts>, action: Action, extra: Record<string, unknown> = {}) {
  if (action === 'logoff') return wts.logoffAll({ pollIntervalMs: 1, ...extra });
  if (action === 'disconnect') return wts.disconnectAll({ pollIntervalMs: 1, ...extra });
  return wts.sendMessageAll({ text: 'hello', ...extra });
}

describe('bulk actions read each identity once when nothing else needs it', () => {
  for (const action of ['logoff', 'disconnect', 'message'] as const) {
    test(`${action}All with no options: one WTSSessionInfo read per session, right before its request`, async () => {
      const { mock, wts } = setup();
      await run(wts, action);
      const reads = readsBeforeRequest(mock, action);
      expect(reads.size).toBeGreaterThan(0);
      for (const [id, n] of reads) expect(`${id}: ${n}`).toBe(`${id}: 1`);
      // The read is the last call on the session before its request.
      mock.calls.forEach((c, i) => {
        if (c.api !== REQUEST[action]) return;
        const before = mock.calls.slice(0, i).filter((q) => q.sessionId === c.sessionId && q.api !== 'open');
        expect(before.at(-1)).toMatchObject({ api: 'query', infoClass: 'WTSSessionInfo' });
      });
    });
  }

  test('a dry run still reads the identity it shows, once per session', async () => {
    const { mock, wts } = setup();
    const out = await wts.logoffAll({ dryRun: true });
    const shown = out.filter((o) => o.status === 'wouldLogOff');
    expect(shown.length).toBeGreaterThan(0);
    for (const o of shown) expect(o.status === 'wouldLogOff' && o.identity.logonTime).toBeInstanceOf(Date);
    expect(mock.calls.filter((c) => c.api === 'query')).toHaveLength(shown.length);
  });

  test('a times filter reads the identity only of the sessions it keeps, after its own read', async () => {
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    const users = [0, 1, 2, 3].map((k): FarmSession => ({
      id: 3 + k,
      name: `RDP-Tcp#${k}`,
      state: 'Active',
      user: `u${k}`,
      domain: 'CORP',
      logonTime: ago(10 * 3_600_000),
      lastInputTime: ago(k === 2 ? 3 * 3_600_000 : 1000),
    }));
    const farm = exampleFarm();
    farm.servers[0]!.sessions = [...farm.servers[0]!.sessions!.filter((x) => x.id < 3 || x.id >= 65536), ...users];
    const { mock, wts } = setup(farm);
    const out = await wts.logoffAll({ idleLongerThan: '2h', dryRun: true });
    expect(out.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id)).toEqual([5]);
    // One times read per session, then the identity of the one kept: 4 + 1, in that order for it.
    expect(mock.calls.filter((c) => c.api === 'query').map((c) => `${c.sessionId}:${c.infoClass}`).sort()).toEqual(
      ['3:WTSSessionInfo', '4:WTSSessionInfo', '5:WTSSessionInfo', '5:WTSSessionInfo', '6:WTSSessionInfo'].sort(),
    );
  });

  test('a state or times filter is judged again on the identity read itself: no other read before the request', async () => {
    for (const options of [{ state: 'Disconnected' }, { idleLongerThan: '1m' }, { state: 'Disconnected', idleLongerThan: '1m' }] as const) {
      const { mock, wts } = setup();
      await wts.logoffAll({ ...options, pollIntervalMs: 1 });
      const sent = logoffCalls(mock);
      expect(sent.length).toBeGreaterThan(0);
      for (const id of sent) {
        const i = mock.calls.findIndex((c) => c.api === 'logoff' && c.sessionId === id);
        // Between the read that chose it and the request: one WTSSessionInfo read, nothing else.
        const own = mock.calls.slice(0, i).filter((c) => c.sessionId === id && c.api === 'query');
        const chosenBy = 'idleLongerThan' in options ? 2 : 1; // the filter's times read, then the identity
        expect(own.slice(chosenBy).map((c) => c.infoClass)).toEqual(['WTSSessionInfo']);
      }
    }
  });

  test('with a warning, a logon that ended and came back under the same user during the grace period is not logged off', async () => {
    const { mock } = setup();
    const s3 = mock.getSession('TS01', 3)!;
    const api: WtsApi = Object.create(mock);
    api.sendMessage = async (...args: Parameters<MockApi['sendMessage']>) => {
      const answer = await mock.sendMessage(...args);
      // Session 3's user logs off and on again: same user, a new logon time.
      if (args[1] === 3) mock.putSession('TS01', { ...(s3 as FarmSession), logonTime: '2026-11-22T12:00:00Z' });
      return answer;
    };
    for (const key of ['querySessionInformation', 'logoffSession', 'enumerateSessions', 'getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'openServer', 'closeServer'] as const) {
      (api as unknown as Record<string, unknown>)[key] = (mock[key] as (...a: unknown[]) => unknown).bind(mock);
    }
    const out = await createWts({ api }).logoffAll({ warn: { text: 'bye', graceSeconds: 0 }, pollIntervalMs: 1 });
    expect(out.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
    expect(mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId)).not.toContain(3);
    expect(out.find((o) => o.session.id === 4)).toMatchObject({ status: 'loggedOff' });
  });
});

/**
 * The counterexample hunt: between the listing and the one read, each session may end, be taken
 * by another user under the same ID, log on again as the same user, or move to the console. No
 * request may reach a session whose user at that moment is not the one listed, or that is the
 * console; every listed session gets one outcome; and a session read once is acted on with what
 * that read said.
 */
describe('the one read is the safety check (property)', () => {
  type Change = 'none' | 'end' | 'otherUser' | 'sameUserAgain' | 'console';
  const CHANGES: Change[] = ['none', 'end', 'otherUser', 'sameUserAgain', 'console'];

  test('no request on a changed session, one outcome each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Action>('logoff', 'disconnect', 'message'),
        fc.array(fc.constantFrom(...CHANGES), { minLength: 5, maxLength: 5 }),
        fc.constantFrom<'afterListing' | 'atTheRead'>('afterListing', 'atTheRead'),
        async (action, changes, when) => {
          const farm = exampleFarm();
          const { mock } = setup(farm);
          // Sessions 3..7 of TS01 are the ones chosen (0 services, 1 console, 2 yours).
          const targets = [3, 4, 5, 6, 7];
          const listedUser = new Map(targets.map((id) => [id, mock.getSession('TS01', id)!.user ?? '']));
          // disconnectAll leaves sessions listed as Disconnected alone (filtered), before any read.
          const chosen = new Set(targets.filter((id) => action !== 'disconnect' || mock.getSession('TS01', id)!.state !== 'Disconnected'));
          const pending = new Map(targets.map((id, k) => [id, changes[k]!]));
          const apply = (id: number) => {
            const change = pending.get(id);
            if (change === undefined) return;
            pending.delete(id);
            const s = { ...(mock.getSession('TS01', id) as FarmSession) };
            if (change === 'end') mock.removeSession('TS01', id);
            if (change === 'otherUser') mock.putSession('TS01', { ...s, user: 'mallory', logonTime: '2026-11-22T12:00:00Z' });
            if (change === 'sameUserAgain') mock.putSession('TS01', { ...s, logonTime: '2026-11-22T12:00:00Z' });
            if (change === 'console') mock.putSession('TS01', { ...s, name: 'Console' });
          };
          const api: WtsApi = Object.create(mock);
          const requests: Array<{ id: number; user: string | undefined; name: string | undefined }> = [];
          api.enumerateSessions = async (h) => {
            const list = await mock.enumerateSessions(h);
            if (when === 'afterListing') for (const id of targets) apply(id);
            return list;
          };
          api.querySessionInformation = (async (h: never, id: number, infoClass: never) => {
            if (when === 'atTheRead') apply(id);
            return mock.querySessionInformation(h, id, infoClass);
          }) as WtsApi['querySessionInformation'];
          const record = (id: number) => {
            const s = mock.getSession('TS01', id);
            requests.push({ id, user: s?.user, name: s?.name });
          };
          api.logoffSession = async (h, id) => (record(id), mock.logoffSession(h, id));
          api.disconnectSession = async (h, id) => (record(id), mock.disconnectSession(h, id));
          api.sendMessage = async (h, id, m, o) => (record(id), mock.sendMessage(h, id, m, o));
          for (const key of ['getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'openServer', 'closeServer', 'getLocalServerNames'] as const) {
            (api as unknown as Record<string, unknown>)[key] = (mock[key] as (...a: unknown[]) => unknown).bind(mock);
          }
          const out = await run(createWts({ api }), action);
          // One outcome per listed session.
          const ids = out.map((o) => o.session.id);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of targets) expect(ids).toContain(id);
          // (sendMessageAll also messages the console and your own session, which nothing changes.)
          for (const r of requests.filter((x) => listedUser.has(x.id))) {
            expect(r.user).toBe(listedUser.get(r.id));
            if (action !== 'message') expect(r.name).not.toBe('Console');
          }
          targets.forEach((id, k) => {
            const o = out.find((x) => x.session.id === id)!;
            const change = changes[k]!;
            if (!chosen.has(id)) return void expect(o).toMatchObject({ status: 'skipped', reason: 'filtered' });
            if (change === 'end') expect(o).toMatchObject({ status: 'skipped', reason: 'gone' });
            if (change === 'otherUser') expect(o).toMatchObject({ status: 'skipped', reason: 'changed' });
            if (change === 'console' && action !== 'message') expect(o).toMatchObject({ status: 'skipped', reason: 'console' });
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
