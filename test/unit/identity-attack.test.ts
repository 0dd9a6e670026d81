/**
 * Adversarial tests of the identity promises of the bulk calls (logoffAll, disconnectAll,
 * sendMessageAll), written by a review of the change that reads a plain call's identity once: the
 * seam between "identity read when the session is chosen" and "identity read only right before
 * the request". Each test under "found:" failed when it was written (five on that change, the rest
 * on the code before it too) and passes since its fix; "HOLDS:" are attacks the code withstood.
 */
import fc from 'fast-check';
import { createWts, Win32Error, type LogoffOutcome, type WtsApi } from '../../src/index';
import { createMockApi, type FarmSession, type MockApi } from '../../src/mock';
import { overriding } from '../helpers';
import { ago, farm, H, hooked, outcomeOf, type Query } from './identity-fixtures';

const LONG = 'averyveryverylongusername01'; // 27 characters: cut to 20 in WTSINFOW
const LONG_TWIN = 'averyveryverylongusername02'; // same first 20 characters

/** A farm session with `logonTime` only when there is one (exactOptionalPropertyTypes). */
const withLogon = (s: FarmSession, logonTime: string | undefined): FarmSession => {
  const { logonTime: _drop, ...rest } = s;
  return logonTime === undefined ? rest : { ...rest, logonTime };
};


// ------------------------------------------------------------------------------------------------
// Found by the review (each failed before its fix)
// ------------------------------------------------------------------------------------------------

describe('found: a filter judges one logon, the identity read next records another', () => {
  /**
   * idleLongerThan: the filter reads WTSSessionInfo (times) of logon X — idle 3 h — and only then
   * is the identity read. If X ended and the same user logged on again (logon Y, just now, not
   * idle) in between, the dry run reports Y's identity as chosen by "idle over 2 h".
   */
  test('dryRun idleLongerThan: the identity shown is that of the logon the filter judged (promise 4 / 1)', async () => {
    const X = { id: 3, name: '', state: 'Disconnected' as const, user: 'bob', domain: 'CORP', logonTime: ago(5 * H), lastInputTime: ago(3 * H), disconnectTime: ago(3 * H) };
    const mock = createMockApi(farm([X]));
    const yLogon = ago(1000);
    let done = false;
    const { api } = hooked(mock, (id, infoClass) => {
      // Right after the filter's read of X: bob logs off and on again (active, typing).
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        const { disconnectTime: _d, ...rest } = X;
        mock.putSession('WF12', { ...rest, name: 'RDP-Tcp#9', state: 'Active', logonTime: yLogon, lastInputTime: ago(0) });
      }
    });
    const wts = createWts({ api });
    const plan = await wts.logoffAll({ server: 'WF12', idleLongerThan: '2h', dryRun: true });
    const o = outcomeOf(plan, 3);
    // Expected: either not planned (changed / filtered), or planned for the logon the filter judged (X).
    if (o.status === 'wouldLogOff') {
      expect(o.identity.logonTime?.toISOString()).toBe(new Date(X.logonTime).toISOString());
    } else {
      expect(['changed', 'filtered', 'gone']).toContain((o as { reason?: string }).reason);
    }
  });

  test('dryRun idleLongerThan, then the plan applied: an active user who was never idle is logged off', async () => {
    const X = { id: 3, name: '', state: 'Disconnected' as const, user: 'bob', domain: 'CORP', logonTime: ago(5 * H), lastInputTime: ago(3 * H), disconnectTime: ago(3 * H) };
    const mock = createMockApi(farm([X]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        const { disconnectTime: _d, ...rest } = X;
        mock.putSession('WF12', { ...rest, name: 'RDP-Tcp#9', state: 'Active', logonTime: ago(1000), lastInputTime: ago(0) });
      }
    });
    const wts = createWts({ api });
    const plan = await wts.logoffAll({ server: 'WF12', idleLongerThan: '2h', dryRun: true });
    await wts.logoffAll({ server: 'WF12', plan, pollIntervalMs: 1 });
    // bob's new logon (active, input just now) was never chosen by "idle over 2 h".
    expect(requests.filter((r) => r.api === 'logoff')).toEqual([]);
  });

  /**
   * locked: true without dryRun: the lock query sees logon X locked; then X ends and bob logs on
   * again (Y) and locks it. The identity read at the choice records Y; at the action Y is locked
   * and is Y: logged off, though the filter chose X (promise 1: "be the same logon the filter chose").
   */
  test('locked: true: the logon logged off is not the logon the filter chose (promise 1)', async () => {
    const X = { id: 3, name: 'RDP-Tcp#3', state: 'Active' as const, user: 'bob', domain: 'CORP', logonTime: ago(5 * H), locked: true };
    const mock = createMockApi(farm([X]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfoEx') {
        done = true;
        mock.putSession('WF12', { ...X, name: 'RDP-Tcp#9', logonTime: ago(1000) });
      }
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', locked: true, pollIntervalMs: 1 });
    const sent = requests.filter((r) => r.api === 'logoff');
    // Expected: nothing sent to a logon other than X (it should be skipped `changed`).
    for (const r of sent) expect(r.logonTime).toBe(X.logonTime);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('found: long user names when a logoff is not seen to finish in time', () => {
  /**
   * waitAllGone's last look reads the identity in full (WTSUserName) and then compares it with
   * mayBeSameLogon, which takes a 21+ character name it is given as "cut": the same logon never
   * compares equal, so a logoff that did not finish is reported loggedOff, confirmed.
   */
  test('a 27-character user still logged on after timeoutMs is reported loggedOff confirmed, not failed (promise 3)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: LONG, domain: 'CORP', logonTime: ago(5 * H) };
    const short = { id: 4, name: '', state: 'Disconnected' as const, user: 'bob', domain: 'CORP', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s, short]), { closingPolls: 1_000_000 });
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', timeoutMs: 60, pollIntervalMs: 5 });
    // Control: the short name times out as documented.
    expect(outcomeOf(out, 4)).toMatchObject({ status: 'failed', error: { code: 'E_TIMEOUT' } });
    // The session is still there, same logon...
    expect(mock.getSession('WF12', 3)).toMatchObject({ user: LONG, logonTime: s.logonTime });
    // ...so it must be failed (LogoffTimeoutError), as session 4 is.
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'failed', error: { code: 'E_TIMEOUT' } });
  });

  test('the same with a 20-character domain (cut to 16 in WTSINFOW)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: 'bob', domain: 'CORPORATEDOMAIN12345', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s]), { closingPolls: 1_000_000 });
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', timeoutMs: 60, pollIntervalMs: 5 });
    expect(mock.getSession('WF12', 3)).toBeDefined();
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'failed', error: { code: 'E_TIMEOUT' } });
  });
});

describe('found: the plain call\'s one identity read is not one read when a name is long', () => {
  /**
   * No dryRun / warn / plan / changeable filter: captureIdentity reads WTSSessionInfo, then only the
   * long name in full (WTSUserName), and keeps the other field from WTSSessionInfo. A new logon
   * between the two reads — same long user name, another domain — is read (WTSUserName comes after
   * it) and acted on, though its domain differs from the listed one.
   */
  test('long user: a new logon EVIL\\<same long name> between WTSSessionInfo and WTSUserName is logged off (promise 1)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: LONG, domain: 'CORP', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        mock.putSession('WF12', { ...s, domain: 'EVIL', logonTime: ago(1000) });
      }
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 1 });
    expect(requests.filter((r) => r.api === 'logoff').map((r) => `${r.domain}\\${r.user}`)).not.toContain(`EVIL\\${LONG}`);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('long domain: another user of the same long domain between WTSSessionInfo and WTSDomainName is disconnected (promise 1)', async () => {
    const s = { id: 3, name: 'RDP-Tcp#3', state: 'Active' as const, user: 'bob', domain: 'CORPORATEDOMAIN12345', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        mock.putSession('WF12', { ...s, user: 'mallory', logonTime: ago(1000) });
      }
    });
    const out = await createWts({ api }).disconnectAll({ server: 'WF12', pollIntervalMs: 1 });
    expect(requests.filter((r) => r.api === 'disconnect').map((r) => r.user)).not.toContain('mallory');
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('long domain, sendMessageAll: the message goes to another user (promise 1)', async () => {
    const s = { id: 3, name: 'RDP-Tcp#3', state: 'Active' as const, user: 'bob', domain: 'CORPORATEDOMAIN12345', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        mock.putSession('WF12', { ...s, user: 'mallory', logonTime: ago(1000) });
      }
    });
    const out = await createWts({ api }).sendMessageAll({ server: 'WF12', text: 'hello' });
    expect(requests.filter((r) => r.api === 'message').map((r) => r.user)).not.toContain('mallory');
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('found: the console, when a long name makes the plain read two reads', () => {
  /**
   * On a remote server the console is known by its WinStation name. The plain call takes the name
   * from WTSSessionInfo and then reads WTSUserName (a long user name): a reconnect at the console in
   * between (same logon, the session is now `Console`) is not seen, and the console is logged off.
   */
  for (const action of ['logoff', 'disconnect'] as const) {
    test(`${action}All: a session that became the console between WTSSessionInfo and WTSUserName gets the request (promise 2)`, async () => {
      const s = { id: 3, name: 'RDP-Tcp#3', state: 'Active' as const, user: LONG, domain: 'CORP', logonTime: ago(5 * H) };
      const mock = createMockApi(farm([s]));
      let done = false;
      const { api, requests } = hooked(mock, (id, infoClass) => {
        if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
          done = true;
          mock.putSession('WF12', { ...s, name: 'Console' }); // the same logon, now at the console
        }
      });
      const wts = createWts({ api });
      const out = action === 'logoff'
        ? await wts.logoffAll({ server: 'WF12', pollIntervalMs: 1 })
        : await wts.disconnectAll({ server: 'WF12', pollIntervalMs: 1 });
      expect(requests.filter((r) => r.api === action).map((r) => r.name)).not.toContain('Console');
      expect(outcomeOf(out as readonly LogoffOutcome[], 3)).toMatchObject({ status: 'skipped', reason: 'console' });
    });
  }
});

describe('found: a server without WTSSessionInfo (names read one by one)', () => {
  /**
   * sessionInfoOrNames reads WTSUserName, then WTSDomainName, ...: a new logon between the two
   * (another user of the same domain) is acted on with the old user name.
   */
  test('logoffAll: another user logging on between WTSUserName and WTSDomainName is logged off (promise 1)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: 'bob', domain: 'CORP' };
    const mock = createMockApi(farm([s]));
    let done = false;
    const requests: string[] = [];
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[2] === 'WTSSessionInfo') throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' });
        const answer = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
        if (!done && args[1] === 3 && args[2] === 'WTSUserName') {
          done = true;
          mock.putSession('WF12', { ...s, user: 'mallory' });
        }
        return answer;
      }) as WtsApi['querySessionInformation'],
      logoffSession: async (h, id) => (requests.push(mock.getSession('WF12', id)?.user ?? ''), mock.logoffSession(h, id)),
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 1 });
    expect(requests).not.toContain('mallory');
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('found: the filter re-check right before the request uses reads older than the identity read', () => {
  /**
   * clearToAct re-applies a changeable filter (WTSConnectState, then the filter's own queries) and
   * then reads the identity (WTSSessionInfo) — whose answer also holds the state and the last input
   * time. A user who reconnects / types between the two is seen by that last read, yet the request
   * is sent to a session that no longer matches the filter.
   */
  /**
   * The change lands right after the k-th read of session 3, for every k: the library may send the
   * request only when that read was its last before the request (a change after the last read is
   * a race no client can close); otherwise a later read saw the change and the session is filtered.
   * (Written first for the old read order — WTSConnectState, the filter's query, then the identity
   * — where the change between the first two reads and the identity read was ignored.)
   */
  async function everyMoment(
    s: FarmSession,
    change: (mock: MockApi) => void,
    call: (wts: ReturnType<typeof createWts>) => Promise<readonly LogoffOutcome[]>,
  ): Promise<void> {
    for (let k = 1; k <= 12; k++) {
      const mock = createMockApi(farm([s]));
      let reads = 0;
      let changedAt = -1;
      const { api, requests } = hooked(mock, (id, infoClass) => {
        if (id === 3 && infoClass !== undefined && ++reads === k) {
          changedAt = mock.calls.length - 1;
          change(mock);
        }
      });
      const out = await call(createWts({ api }));
      if (changedAt < 0) break; // fewer than k reads: every moment was tried
      const logoffAt = mock.calls.findIndex((c) => c.api === 'logoff' && c.sessionId === 3);
      if (logoffAt < 0) {
        expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
        continue;
      }
      // Sent: the change must have come after the library's last read of the session.
      const lastRead = mock.calls.slice(0, logoffAt).map((c, i) => ({ c, i })).filter(({ c }) => c.sessionId === 3 && c.api === 'query').at(-1)!.i;
      expect({ k, changedAt, lastRead }).toEqual({ k, changedAt: lastRead, lastRead });
      expect(requests.filter((r) => r.api === 'logoff')).toHaveLength(1);
    }
  }

  test('state: Disconnected — a reconnect at any moment before the last read is seen: not logged off while Active (promise 1)', async () => {
    const s: FarmSession = { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: ago(5 * H), disconnectTime: ago(3 * H) };
    await everyMoment(
      s,
      (mock) => mock.putSession('WF12', { ...s, name: 'RDP-Tcp#9', state: 'Active' }), // same logon, reconnected
      (wts) => wts.logoffAll({ server: 'WF12', state: 'Disconnected', pollIntervalMs: 1 }),
    );
  });

  test('idleLongerThan with warn — typing at any moment before the last read is seen: not logged off (promise 1)', async () => {
    const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP', logonTime: ago(5 * H), lastInputTime: ago(3 * H) };
    await everyMoment(
      s,
      (mock) => mock.putSession('WF12', { ...s, lastInputTime: new Date().toISOString() }), // bob is back at the keyboard
      (wts) => wts.logoffAll({ server: 'WF12', idleLongerThan: '2h', warn: { text: 'bye', graceSeconds: 0 }, pollIntervalMs: 1 }),
    );
  });
});

describe('found: identities a dry run reports that belong to no logon', () => {
  /**
   * captureIdentity reads WTSSessionInfo and then the long name: listed LONG; before the read the
   * ID holds LONG_TWIN (same first 20 characters, logon T2); after WTSSessionInfo, LONG logs on again
   * (T3). The dry run reports LONG with T2 — the twin's logon time. (Harmless when applied: the
   * re-check then says `changed`; but what is shown is no logon's identity.)
   */
  test('dryRun: the identity shown mixes the user of one logon with the logon time of another (promise 4)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: LONG, domain: 'CORP', logonTime: '2026-01-01T00:00:00.000Z' };
    const mock = createMockApi(farm([s]));
    const api = overriding(mock, {
      enumerateSessions: async (h) => {
        const list = await mock.enumerateSessions(h);
        mock.putSession('WF12', { ...s, user: LONG_TWIN, logonTime: '2026-01-02T00:00:00.000Z' });
        return list;
      },
      querySessionInformation: (async (...args: Query) => {
        const answer = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
        if (args[1] === 3 && args[2] === 'WTSSessionInfo') mock.putSession('WF12', { ...s, logonTime: '2026-01-03T00:00:00.000Z' });
        return answer;
      }) as WtsApi['querySessionInformation'],
    });
    const plan = await createWts({ api }).logoffAll({ server: 'WF12', dryRun: true });
    const o = outcomeOf(plan, 3);
    const logons = new Set([`${LONG}@2026-01-01T00:00:00.000Z`, `${LONG_TWIN}@2026-01-02T00:00:00.000Z`, `${LONG}@2026-01-03T00:00:00.000Z`]);
    if (o.status === 'wouldLogOff') expect(logons).toContain(`${o.identity.userName}@${o.identity.logonTime?.toISOString()}`);
    else expect(o).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('found: "without case" is not Windows\' case rule', () => {
  /**
   * Names are compared with toLowerCase(): U+212A KELVIN SIGN lower-cases to "k", so "\u212Aate" and
   * "kate" compare equal — Windows upper-cases to compare account names (RtlUpcaseUnicodeChar maps
   * "k" to "K", and leaves U+212A alone): two different accounts.
   */
  test('plain logoffAll: a reused ID now held by "\\u212Aate" (Kelvin sign) is logged off as "kate" (promise 1)', async () => {
    const s = { id: 3, name: '', state: 'Disconnected' as const, user: 'kate', domain: 'CORP', logonTime: ago(5 * H) };
    const mock = createMockApi(farm([s]));
    let reused = false;
    const api = overriding(mock, {
      enumerateSessions: async (h) => {
        const list = await mock.enumerateSessions(h);
        if (!reused) mock.putSession('WF12', { ...s, user: '\u212Aate', logonTime: ago(1000) });
        reused = true;
        return list;
      },
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 1 });
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

// ------------------------------------------------------------------------------------------------
// HOLDS (pass on the current code): attacks the code withstood
// ------------------------------------------------------------------------------------------------

const USERS_LONG = ['bob', 'BOB', LONG, LONG_TWIN, 'xxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxy', ''];
const DOMAINS_LONG = ['CORP', 'EVIL', 'CORPORATEDOMAIN12345', 'CORPORATEDOMAIN12399'];
type Mutation = { at: number; target: number; kind: 'other' | 'same' | 'end' | 'console' | 'twin' | 'reconnect'; user: string; domain: string };

/**
 * A WF12 farm of `defs`, a backend that applies `muts` after the n-th query (while `armed`), and a
 * log of every request with the session as it was then. A request counts as a race (not judged)
 * when its session changed after the library's last read of it: no client can close that window.
 */
function mutatingFarm(defs: Array<{ user: string; domain: string; state: string }>, muts: readonly Mutation[]) {
  let t = 1;
  const sessions: FarmSession[] = defs.map((d, i) =>
    withLogon({ id: 3 + i, name: `RDP-Tcp#${i}`, state: d.state as FarmSession['state'], user: d.user, domain: d.user ? d.domain : '' }, d.user ? new Date(Date.UTC(2026, 0, 1, 0, t++)).toISOString() : undefined),
  );
  const mock = createMockApi(farm(sessions));
  const state = { armed: false };
  let n = 0;
  let seq = 0;
  const lastMut = new Map<number, number>();
  const lastRead = new Map<number, number>();
  const log: Array<{ api: string; id: number; s: FarmSession | undefined; race: boolean }> = [];
  const req = (api: string, id: number) => log.push({ api, id, s: mock.getSession('WF12', id), race: (lastMut.get(id) ?? -1) > (lastRead.get(id) ?? -1) });
  const listedAt = new Map<number, string>();
  const api = overriding(mock, {
    enumerateSessions: async (h) => {
      const l = await mock.enumerateSessions(h);
      for (const x of l) listedAt.set(x.sessionId, `${x.domainName.toLowerCase()}\\${x.userName.toLowerCase()}`);
      return l;
    },
    querySessionInformation: (async (...a: Query) => {
      const r = await (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(...a);
      lastRead.set(a[1], ++seq);
      if (state.armed) {
        for (const m of muts) {
          if (m.at !== n) continue;
          const id = 3 + (m.target % sessions.length);
          const cur = mock.getSession('WF12', id);
          const lt = new Date(Date.UTC(2027, 0, 1, 0, t++)).toISOString();
          lastMut.set(id, ++seq);
          if (m.kind === 'end') mock.removeSession('WF12', id);
          else if (!cur) continue;
          else if (m.kind === 'other') mock.putSession('WF12', withLogon({ ...cur, user: m.user, domain: m.user ? m.domain : '' }, m.user ? lt : undefined));
          else if (m.kind === 'same') mock.putSession('WF12', withLogon({ ...cur, name: 'RDP-Tcp#77' }, cur.user ? lt : undefined));
          else if (m.kind === 'twin') {
            const u = cur.user ?? '';
            mock.putSession('WF12', withLogon({ ...cur, user: u.endsWith('1') ? `${u.slice(0, -1)}2` : `${u}z` }, u ? lt : undefined));
          } else if (m.kind === 'console') mock.putSession('WF12', { ...cur, name: 'Console' });
          else if (m.kind === 'reconnect') mock.putSession('WF12', { ...cur, name: 'RDP-Tcp#88', state: 'Active' });
        }
        n++;
      }
      return r;
    }) as WtsApi['querySessionInformation'],
    logoffSession: async (h, id) => (req('logoff', id), mock.logoffSession(h, id)),
    disconnectSession: async (h, id) => (req('disconnect', id), mock.disconnectSession(h, id)),
    sendMessage: async (h, id, m, o) => (req('message', id), mock.sendMessage(h, id, m, o)),
  });
  return { api, mock, log, listedAt, state };
}

const mutationArb = (users: readonly string[], domains: readonly string[]) =>
  fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 40 }),
      target: fc.nat(3),
      kind: fc.constantFrom<Mutation['kind']>('other', 'same', 'end', 'console', 'twin', 'reconnect'),
      user: fc.constantFrom(...users),
      domain: fc.constantFrom(...domains),
    }),
    { maxLength: 4 },
  );
const lower = (x: string | undefined) => (x ?? '').toLowerCase();
const logonOf = (s: FarmSession | undefined) => (s ? `${lower(s.domain)}\\${lower(s.user)}@${s.logonTime ?? '-'}` : 'gone');

describe('HOLDS: plan and warn act only on the planned / warned logon (long names, twins, console moves)', () => {
  test('HOLDS property: plan (logoff / disconnect / message) and warn, farm changing during the dry run or the apply', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user: fc.constantFrom(...USERS_LONG), domain: fc.constantFrom(...DOMAINS_LONG), state: fc.constantFrom('Active', 'Disconnected', 'Connected') }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('plan', 'warn', 'planDisc', 'planMsg', 'warnPlan'),
        mutationArb(USERS_LONG, DOMAINS_LONG),
        fc.constantFrom('dry', 'apply'),
        async (defs, op, muts, phase) => {
          const { api, log, state } = mutatingFarm(defs, muts);
          const wts = createWts({ api });
          const k = op === 'planDisc' ? 'disconnectAll' : op === 'planMsg' ? 'sendMessageAll' : 'logoffAll';
          const extra = k === 'sendMessageAll' ? { text: 'x' } : { pollIntervalMs: 1, wait: false };
          const call = (o: Record<string, unknown>) => (wts[k] as (o: unknown) => Promise<readonly { status: string; session: { id: number }; identity?: { userName: string; domain: string; logonTime: Date | null } }[]>)({ server: 'WF12', ...extra, ...o });
          let plan: Awaited<ReturnType<typeof call>> | undefined;
          if (op !== 'warn') {
            state.armed = phase === 'dry';
            plan = await call({ dryRun: true });
          }
          state.armed = phase === 'apply' || op === 'warn';
          const out = await call({ ...(plan ? { plan } : {}), ...(op.startsWith('warn') ? { warn: { text: 'w', graceSeconds: 0 } } : {}) });
          const main = log.filter((l) => l.api === (k === 'logoffAll' ? 'logoff' : k === 'disconnectAll' ? 'disconnect' : 'message') && !l.race);
          for (const r of main) {
            if (k !== 'sendMessageAll') expect(r.s?.name).not.toBe('Console');
            expect(r.id).not.toBe(0);
            if (plan) {
              const p = plan.find((o) => o.session.id === r.id && o.status.startsWith('would'))!;
              expect(p).toBeDefined();
              const pid = p.identity!;
              expect(logonOf(r.s)).toBe(`${lower(pid.domain)}\\${lower(pid.userName)}@${pid.logonTime ? new Date(pid.logonTime).toISOString() : '-'}`);
            }
          }
          if (op.startsWith('warn')) {
            const warned = new Map(log.filter((l) => l.api === 'message').map((l) => [l.id, logonOf(l.s)] as const));
            for (const r of main) expect(logonOf(r.s)).toBe(warned.get(r.id));
          }
          const ids = out.map((o) => o.session.id);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  test('HOLDS property: plain calls with short names (one WTSSessionInfo read): the user and domain acted on are the listed ones', async () => {
    const users = ['bob', 'BOB', 'carol', ''];
    const domains = ['CORP', 'EVIL'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user: fc.constantFrom(...users), domain: fc.constantFrom(...domains), state: fc.constantFrom('Active', 'Disconnected', 'Connected') }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll'),
        mutationArb(users, domains),
        async (defs, k, muts) => {
          const { api, log, listedAt, state } = mutatingFarm(defs, muts);
          state.armed = true;
          const wts = createWts({ api });
          const out = k === 'sendMessageAll' ? await wts.sendMessageAll({ server: 'WF12', text: 'x' }) : await wts[k]({ server: 'WF12', pollIntervalMs: 1, wait: false });
          const main = log.filter((l) => l.api === (k === 'logoffAll' ? 'logoff' : k === 'disconnectAll' ? 'disconnect' : 'message') && !l.race);
          for (const r of main) {
            expect(`${lower(r.s?.domain)}\\${lower(r.s?.user)}`).toBe(listedAt.get(r.id));
            if (k !== 'sendMessageAll') expect(r.s?.name).not.toBe('Console');
          }
          const ids = out.map((o) => o.session.id);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);
});

describe('HOLDS: one server, an abort after any backend call', () => {
  test('HOLDS property: every listed session has one outcome, every request sent is in its outcome; rejected calls sent nothing', async () => {
    const users = ['bob', LONG, ''];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user: fc.constantFrom(...users), state: fc.constantFrom('Active', 'Disconnected', 'Connected'), locked: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('logoff', 'logoffWait', 'warn', 'warnIdle', 'disc', 'discWait', 'msg', 'msgWait', 'plan', 'locked'),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 }),
        async (defs, op, abortAt, latency) => {
          const sessions: FarmSession[] = defs.map((d, i) =>
            withLogon(
              { id: 3 + i, name: `RDP-Tcp#${i}`, state: d.state as FarmSession['state'], user: d.user, domain: d.user ? 'CORP' : '', lastInputTime: '2026-01-01T00:00:00Z', locked: d.locked },
              d.user ? '2026-01-01T00:00:00Z' : undefined,
            ),
          );
          const controller = new AbortController();
          let n = 0;
          let counting = op !== 'plan';
          const sent: string[] = [];
          const mock = createMockApi(farm(sessions, { latencyMs: latency }), {
            closingPolls: 3,
            onCall: (c) => {
              if (!counting) return;
              if (['logoff', 'disconnect', 'message'].includes(c.api)) sent.push(`${c.api}:${c.sessionId}`);
              if (++n === abortAt) queueMicrotask(() => controller.abort());
            },
          });
          const wts = createWts({ api: mock });
          const plan = op === 'plan' ? await wts.logoffAll({ server: 'WF12', dryRun: true }) : undefined;
          counting = true;
          const base = { server: 'WF12', signal: controller.signal };
          let out: ReadonlyArray<{ session: { id: number }; requests: readonly string[] }>;
          try {
            out = op.startsWith('disc')
              ? await wts.disconnectAll({ ...base, wait: op === 'discWait', pollIntervalMs: 1 })
              : op.startsWith('msg')
                ? await wts.sendMessageAll({ ...base, text: 'x', wait: op === 'msgWait', ...(op === 'msgWait' ? { timeoutSeconds: 1 } : {}) })
                : await wts.logoffAll({
                    ...base, wait: op !== 'logoff', pollIntervalMs: 1, timeoutMs: 200,
                    ...(op.startsWith('warn') ? { warn: { text: 'w', graceSeconds: 0.01 } } : {}),
                    ...(op === 'warnIdle' ? { idleLongerThan: '1h' } : {}),
                    ...(op === 'locked' ? { locked: true } : {}),
                    ...(plan ? { plan } : {}),
                  });
          } catch (e) {
            expect((e as { code?: string }).code).toBe('E_ABORTED');
            expect(sent).toEqual([]);
            return;
          }
          await new Promise((r) => setTimeout(r, 20));
          const names: Record<string, string> = { logoff: 'WTSLogoffSession', disconnect: 'WTSDisconnectSession', message: 'WTSSendMessageW' };
          const want = sent.map((s) => { const [a, id] = s.split(':'); return `${names[a!]}@${id}`; }).sort();
          const got = out.flatMap((o) => o.requests.map((r) => `${r}@${o.session.id}`)).sort();
          expect(got).toEqual(want);
          expect(out.map((o) => o.session.id).sort()).toEqual([0, ...sessions.map((s) => s.id)].sort());
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});

describe('HOLDS: bad input', () => {
  const KEYS = ['server', 'servers', 'state', 'user', 'domain', 'clientName', 'idleLongerThan', 'disconnectedLongerThan', 'locked', 'anyOf', 'dryRun', 'plan', 'concurrency', 'warn', 'wait', 'timeoutMs', 'pollIntervalMs', 'signal', 'serverConcurrency', 'listConcurrency', 'serverTimeoutMs', 'onEvent', 'text', 'title', 'buttons', 'timeoutSeconds'];
  test('HOLDS property: a rejected option is an InvalidArgumentError and no backend call was made', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll'),
        fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.anything(), fc.constantFrom('', 'Disc', 'wf12', ['wf12'], ['wf12', 'localhost'], [], [{}], { results: [] }, [{ status: 'wouldLogOff' }], { text: 'x' }, -1, 0, 1.5, 1e9, NaN, Infinity, null, true, '1h', [{ state: 'Active' }]))),
        async (fn, opts) => {
          const mock = createMockApi(farm([]));
          const wts = createWts({ api: mock });
          const o = fn === 'sendMessageAll' && !('text' in opts) ? { ...opts, text: 'hi' } : opts;
          try {
            await (wts[fn] as (o: unknown) => Promise<unknown>)({ ...o, timeoutMs: 50, pollIntervalMs: 1 });
          } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === 'E_INVALID_ARGUMENT') expect(mock.calls).toEqual([]);
            else expect(code).toBeDefined(); // a typed runtime error, after calls
          }
        },
      ),
      { numRuns: 1500 },
    );
  }, 120_000);
});
