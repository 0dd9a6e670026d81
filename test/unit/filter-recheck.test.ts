/**
 * The filters are applied again right before each action, on the session as it is then: a user who
 * came back since the session was chosen — unlocked it, reconnected, typed — during a warning's
 * grace period or between the listing and its turn, is left alone (from the adversarial review:
 * `locked: true` with `warn` logged off a session unlocked during the grace period).
 */
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { createWts, type LogoffOutcome } from '../../src/index';
import { lockedFromFlags } from '../../src/api/lock';

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const H = 3_600_000;

function farm(): Farm {
  return {
    localServer: 'TS01',
    servers: [
      { name: 'TS01', consoleSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
      {
        name: 'WF12',
        sessions: [
          { id: 2, name: 'RDP-Tcp#2', state: 'Active', user: 'alice', domain: 'CORP', locked: true, lastInputTime: ago(3 * H), logonTime: ago(5 * H) },
          { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', locked: false, lastInputTime: ago(3 * H), logonTime: ago(5 * H) },
        ],
      },
    ],
  };
}

/** A mock that changes session `id` of WF12 the first time `when` sees a call. */
function changing(id: number, change: Partial<FarmSession>, when: (api: string, infoClass?: string) => boolean): MockApi {
  let done = false;
  const mock: MockApi = createMockApi(farm(), {
    onCall: (c) => {
      if (done || !when(c.api, c.infoClass)) return;
      done = true;
      setImmediate(() => mock.putSession('WF12', { ...(mock.getSession('WF12', id) as FarmSession), ...change }));
    },
  });
  return mock;
}

const statusOf = (out: readonly LogoffOutcome[], id: number) => {
  const o = out.find((x) => x.session.id === id)!;
  return o.status === 'skipped' ? `skipped:${o.reason}:${o.message}` : o.status;
};
const loggedOff = (mock: MockApi) => mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId);

describe('the filters, again right before each action', () => {
  test('locked: true with warn: a session unlocked during the grace period is not logged off', async () => {
    const mock = changing(2, { locked: false }, (api) => api === 'message');
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', locked: true, warn: { text: 'bye', graceSeconds: 0.2 }, wait: false });
    expect(statusOf(out, 2)).toMatch(/^skipped:filtered:no longer selected when its turn came: not locked$/);
    expect(loggedOff(mock)).toEqual([]);
    expect(out.find((o) => o.session.id === 2)!.requests).toEqual(['WTSSendMessageW']); // the warning went, and says so
  });

  test('locked: true without warn: unlocked after it was chosen, before its turn: not logged off', async () => {
    // The identity re-check (WTSSessionInfo) comes after the filter read the lock state.
    const mock = changing(2, { locked: false }, (api, cls) => api === 'query' && cls === 'WTSSessionInfo');
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', locked: true, wait: false });
    expect(statusOf(out, 2)).toMatch(/^skipped:filtered:.*not locked$/);
    expect(loggedOff(mock)).toEqual([]);
  });

  test('idle over 2 h with warn: a user who types during the grace period is not logged off', async () => {
    const mock = changing(2, { lastInputTime: new Date().toISOString() }, (api) => api === 'message');
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', user: 'alice', idleLongerThan: '2h', warn: { text: 'bye', graceSeconds: 0.2 }, wait: false });
    expect(statusOf(out, 2)).toMatch(/^skipped:filtered:no longer selected when its turn came: idle /);
    expect(loggedOff(mock)).toEqual([]);
  });

  test('disconnected or locked: a user who reconnects (Active, unlocked) during the grace period is left alone; the others go', async () => {
    const mock = changing(3, { state: 'Active', name: 'RDP-Tcp#9', locked: false }, (api) => api === 'message');
    const out = await createWts({ api: mock }).logoffAll({
      server: 'WF12',
      anyOf: [{ state: 'Disconnected' }, { locked: true }],
      warn: { text: 'bye', graceSeconds: 0.2 },
      wait: false,
    });
    expect(statusOf(out, 3)).toMatch(/^skipped:filtered:no longer selected when its turn came: matches no alternative of anyOf/);
    expect(statusOf(out, 2)).toBe('loggedOff');
    expect(loggedOff(mock)).toEqual([2]);
  });

  test('disconnectAll and sendMessageAll re-apply their filters too', async () => {
    const a = changing(2, { locked: false }, (api, cls) => api === 'query' && cls === 'WTSSessionInfo');
    const d = await createWts({ api: a }).disconnectAll({ server: 'WF12', locked: true, wait: false });
    expect(d.find((o) => o.session.id === 2)!.status).toBe('skipped');
    expect(a.calls.filter((c) => c.api === 'disconnect')).toEqual([]);
    const b = changing(2, { locked: false }, (api, cls) => api === 'query' && cls === 'WTSSessionInfo');
    const m = await createWts({ api: b }).sendMessageAll({ server: 'WF12', locked: true, text: 'hi' });
    expect(m.find((o) => o.session.id === 2)!.status).toBe('skipped');
    expect(b.calls.filter((c) => c.api === 'message')).toEqual([]);
  });

  test('the identity read stays the last call before the action (the filters are read before it)', async () => {
    const mock = createMockApi(farm());
    await createWts({ api: mock }).logoffAll({ server: 'WF12', locked: true, wait: false });
    const calls = mock.calls.filter((c) => c.sessionId === 2).map((c) => `${c.api}${c.infoClass ? `:${c.infoClass}` : ''}`);
    const at = calls.indexOf('logoff');
    expect(calls.slice(at - 3, at + 1)).toEqual(['query:WTSConnectState', 'query:WTSSessionInfoEx', 'query:WTSSessionInfo', 'logoff']);
  });

  test('with no filter (or user / domain only), nothing more is asked before acting', async () => {
    const mock = createMockApi(farm());
    await createWts({ api: mock }).logoffAll({ server: 'WF12', user: 'alice', wait: false });
    expect(mock.calls.filter((c) => c.api === 'query' && c.infoClass === 'WTSConnectState')).toEqual([]);
  });
});

describe('lockedFromFlags: only a flag value is a lock state', () => {
  test.each([NaN, 0.5, 2 ** 32, -(2 ** 32), Infinity, 1.5, 2 ** 32 + 1, undefined, null, ''])('%p: null', (flags) => {
    expect(lockedFromFlags(flags as never, { major: 10, minor: 0 })).toBeNull();
  });
  test('0 and 1 (and -1 / 0xFFFFFFFF unknown) read as documented; 6.1 swapped', () => {
    expect([0, 1, -1, 0xffffffff].map((f) => lockedFromFlags(f, { major: 10, minor: 0 }))).toEqual([true, false, null, null]);
    expect([0, 1].map((f) => lockedFromFlags(f, { major: 6, minor: 1 }))).toEqual([false, true]);
  });
});
