/**
 * Adversarial tests (third round) of the identity promises: captureIdentity's second read, the
 * filter re-judgement on the identity read, the times-filter ordering, waitAllGone's timeout and
 * sameText. Tests under "found:" failed on the code they were written against; "HOLDS:" passed.
 */
import fc from 'fast-check';
import { createWts, Win32Error, type WtsApi } from '../../src/index';
import { createMockApi, type FarmSession } from '../../src/mock';
import { overriding } from '../helpers';
import { ago, farm, H, hooked, outcomeOf, type Query } from './identity-fixtures';

const U20 = 'abcdefghijklmnopqrst'; // 20: fills WTSINFOW's UserName, fits whole
const U21 = 'abcdefghijklmnopqrstu'; // 21: cut to 20
const D16 = 'CORPORATEDOMAIN1'; // 16: fills WTSINFOW's Domain, fits whole
const D17 = 'CORPORATEDOMAIN12'; // 17: cut to 16

const codeOf = async (p: Promise<unknown>) => p.then((v) => `resolved ${(v as { status?: string }).status}`, (e: { code?: string }) => e.code);

// ------------------------------------------------------------------------------------------------
// found
// ------------------------------------------------------------------------------------------------

describe('found: polling on a server without WTSSessionInfo compares whole long names as if cut', () => {
  /**
   * pollSession (logoff(id), disconnect(id), disconnectAll) reads sessionInfoOrNames, which on a
   * server without WTSSessionInfo gives the names whole (WTSUserName / WTSDomainName), and compares
   * them with mayBeSameLogon, which takes a name that fills its field as cut: a 21-character user
   * (or 17-character domain) "is another logon", so the wait ends at once, reported as done.
   */
  for (const [label, user, domain] of [['21-char user', U21, 'CORP'], ['17-char domain', 'bob', D17]] as const) {
    test(`logoff(id), ${label}: a session still logged on after timeoutMs resolves loggedOff (promise 5)`, async () => {
      const s: FarmSession = { id: 3, name: '', state: 'Disconnected', user, domain };
      const mock = createMockApi(farm([s]), { closingPolls: 1_000_000 });
      const { api } = hooked(mock, () => {}, { noSessionInfo: true });
      const result = await codeOf(createWts({ api }).logoff(3, { server: 'WF12', timeoutMs: 80, pollIntervalMs: 5 }));
      expect(mock.getSession('WF12', 3)).toMatchObject({ user, domain }); // still there, same user
      expect(result).toBe('E_TIMEOUT');
    });

    test(`disconnect(id), ${label}: a session that never disconnects resolves disconnected, confirmed (promise 5)`, async () => {
      const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user, domain };
      const mock = createMockApi(farm([s]));
      const { api } = hooked(mock, () => {}, { noSessionInfo: true, inertDisconnect: true });
      const result = await codeOf(createWts({ api }).disconnect(3, { server: 'WF12', timeoutMs: 80, pollIntervalMs: 5 }));
      expect(mock.getSession('WF12', 3)).toMatchObject({ state: 'Active' });
      expect(result).toBe('E_TIMEOUT');
    });

    test(`disconnectAll, ${label}: a session that never disconnects is reported disconnected, confirmed (promise 5)`, async () => {
      const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user, domain };
      const mock = createMockApi(farm([s]));
      const { api } = hooked(mock, () => {}, { noSessionInfo: true, inertDisconnect: true });
      const out = await createWts({ api }).disconnectAll({ server: 'WF12', timeoutMs: 80, pollIntervalMs: 5 });
      expect(mock.getSession('WF12', 3)).toMatchObject({ state: 'Active' });
      expect(outcomeOf(out, 3)).toMatchObject({ status: 'failed', error: { code: 'E_TIMEOUT' } });
    });
  }
});

describe('found: a server without WTSSessionInfo — the second read mixed two logons as the first did', () => {
  /**
   * captureIdentity reads the names one by one (WTSUserName, WTSDomainName, WTSWinStationName,
   * WTSConnectState) and then all again: a new logon of another user of the same domain between the
   * second WTSUserName and the second WTSDomainName is not seen (the second read says bob\CORP,
   * the first said bob\CORP), and the request goes to mallory, though the library read the session
   * (domain, WinStation name, state) after she logged on.
   */
  for (const action of ['logoffAll', 'disconnectAll', 'sendMessageAll', 'logoff(id)'] as const) {
    test(`${action}: another user logging on between the second WTSUserName and WTSDomainName does not get the request (promise 1)`, async () => {
      const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP' };
      const mock = createMockApi(farm([s]));
      let userReads = 0;
      const { api, requests } = hooked(mock, (id, infoClass) => {
        if (id === 3 && infoClass === 'WTSUserName' && ++userReads === 2) mock.putSession('WF12', { ...s, name: 'RDP-Tcp#9', user: 'mallory' });
      }, { noSessionInfo: true });
      const wts = createWts({ api });
      if (action === 'logoff(id)') await codeOf(wts.logoff(3, { server: 'WF12', wait: false }));
      else if (action === 'sendMessageAll') await wts.sendMessageAll({ server: 'WF12', text: 'hi' });
      else await wts[action]({ server: 'WF12', wait: false });
      expect(userReads).toBeGreaterThanOrEqual(2);
      expect(requests.map((r) => r.s?.user)).not.toContain('mallory');
    });
  }

  /**
   * The same order put the WinStation name before the state: a reconnect at the console (same
   * logon, now `Console`) between the second WTSWinStationName and WTSConnectState was not seen, and
   * the console was logged off / disconnected. The WinStation name is now read last: a reconnect
   * after the last WTSConnectState read is seen by it.
   */
  for (const action of ['logoffAll', 'disconnectAll', 'logoff(id)', 'disconnect(id)'] as const) {
    test(`${action}: a session that becomes the console after the last WTSConnectState read does not get the request (promise 4)`, async () => {
      const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP' };
      const mock = createMockApi(farm([s]));
      let nameReads = 0;
      let stateReads = 0;
      const { api, requests } = hooked(mock, (id, infoClass) => {
        if (id === 3 && infoClass === 'WTSWinStationName') nameReads++;
        if (id === 3 && infoClass === 'WTSConnectState' && ++stateReads === 2) mock.putSession('WF12', { ...s, name: 'Console' });
      }, { noSessionInfo: true });
      const wts = createWts({ api });
      if (action === 'logoff(id)') await codeOf(wts.logoff(3, { server: 'WF12', wait: false }));
      else if (action === 'disconnect(id)') await codeOf(wts.disconnect(3, { server: 'WF12', wait: false }));
      else await wts[action]({ server: 'WF12', wait: false });
      expect(nameReads).toBe(2);
      expect(requests.map((r) => r.s?.name)).not.toContain('Console');
    });
  }
});

describe('found: a connection decided as "no WTSSessionInfo" and "has WTSSessionInfo" at once', () => {
  /**
   * sessionInfoOrNames decides per connection by the first WTSSessionInfo answer. Two reads in
   * flight: session 3's answers 50 first (NO_SESSION_INFO), session 4's answers success after it
   * (HAS_SESSION_INFO too). Session 3 is then read by names one by one, but readInOneCall sees
   * HAS_SESSION_INFO and takes the names-one-by-one read as one call: no second read, and a new
   * logon between WTSUserName and WTSDomainName (the mix the second read was added for) is acted on.
   */
  test('logoffAll: session 3 read name by name, once; mallory\\CORP logged on between the reads is logged off (promise 1 / 3)', async () => {
    const s3: FarmSession = { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP' };
    const s4: FarmSession = { id: 4, name: '', state: 'Disconnected', user: 'carol', domain: 'CORP', logonTime: ago(H) };
    const mock = createMockApi(farm([s3, s4]));
    let done = false;
    const requests: string[] = [];
    const api = overriding(mock, {
      querySessionInformation: (async (...args: Query) => {
        if (args[1] === 3 && args[2] === 'WTSSessionInfo') {
          await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(args[0], 3, 'WTSSessionId');
          throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' });
        }
        const answer = await (mock.querySessionInformation as (...a: Query) => Promise<unknown>)(...args);
        if (args[1] === 4 && args[2] === 'WTSSessionInfo') await new Promise((r) => setImmediate(r)); // answers after session 3's 50
        if (!done && args[1] === 3 && args[2] === 'WTSUserName') {
          done = true;
          mock.putSession('WF12', { ...s3, user: 'mallory' });
        }
        return answer;
      }) as WtsApi['querySessionInformation'],
      logoffSession: async (h, id) => (requests.push(mock.getSession('WF12', id)?.user ?? ''), mock.logoffSession(h, id)),
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false });
    expect(requests).not.toContain('mallory');
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
    // Observed: session 3 read WTSUserName, WTSDomainName, WTSWinStationName, WTSConnectState once.
    const userReads = mock.calls.filter((c) => c.sessionId === 3 && c.api === 'query' && c.infoClass === 'WTSUserName');
    expect(userReads.length).toBeGreaterThanOrEqual(2);
  });
});

describe('found: a session with no user — the identity read after a times filter is another connection', () => {
  /**
   * A times filter reads WTSINFOW (times), then the identity of the sessions it keeps, and
   * requires the same logon time. A session with no user has none (null): another connection on
   * the ID (another WinStation name, a logon screen just opened, not idle) between the two reads
   * passes that check. The dry run shows the new connection as chosen by "idle over 2 h", and the
   * plan logs it off, though the filter judged only the old one.
   */
  test('dryRun idleLongerThan: the identity shown is a connection the filter never judged (promise 1)', async () => {
    const A: FarmSession = { id: 3, name: 'RDP-Tcp#5', state: 'Connected', user: '', lastInputTime: ago(3 * H) };
    const mock = createMockApi(farm([A]));
    let done = false;
    const { api, requests } = hooked(mock, (id, infoClass) => {
      if (!done && id === 3 && infoClass === 'WTSSessionInfo') {
        done = true;
        mock.putSession('WF12', { id: 3, name: 'RDP-Tcp#9', state: 'Connected', user: '', lastInputTime: ago(0) });
      }
    });
    const wts = createWts({ api });
    const plan = await wts.logoffAll({ server: 'WF12', idleLongerThan: '2h', dryRun: true });
    await wts.logoffAll({ server: 'WF12', plan, wait: false });
    // The plan logs off RDP-Tcp#9, a logon screen opened after the filter's read, never idle.
    expect(requests.filter((r) => r.api === 'logoff').map((r) => r.s?.name)).not.toContain('RDP-Tcp#9');
    const o = outcomeOf(plan, 3);
    if (o.status === 'wouldLogOff') expect(o.identity.name).toBe('RDP-Tcp#5');
    else expect(o).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('found (CI, seed -657392651): a server without WTSSessionInfo — a full name read before the whole names was kept', () => {
  /**
   * readIdentityAndInfo read WTSUserName in full, then the names one by one (whole), and kept the
   * full name when the whole one was its first 20 characters, as if the whole one were WTSINFOW's
   * cut field. A 21-character user replaced between the reads by the user whose name is those 20
   * characters passed the check before acting and got the request (found by the HOLDS property
   * below in a clean-clone CI run, with a lock filter). The new logon comes after every k-th
   * WTSUserName read of the session, for every k the operation makes.
   */
  for (const op of ['logoffAll', 'disconnectAll', 'sendMessageAll', 'logoff(id)', 'disconnect(id)'] as const) {
    for (const filter of [{}, { locked: true }]) {
      test(`${op}${'locked' in filter ? ' (locked: true)' : ''}: ${U21} replaced by ${U20} after any WTSUserName read gets no request (promise 1)`, async () => {
        const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: U21, domain: D16, locked: true, logonTime: '2026-01-01T00:01:00.000Z' };
        const run = async (k: number) => {
          const mock = createMockApi(farm([s]));
          let userReads = 0;
          const { api, requests } = hooked(mock, (id, infoClass) => {
            if (id === 3 && infoClass === 'WTSUserName' && ++userReads === k) mock.putSession('WF12', { ...s, user: U20, logonTime: '2026-01-01T00:02:00.000Z' });
          }, { noSessionInfo: true });
          // Whether a WTSUserName read came after the new logon when each request was made.
          const seen: boolean[] = [];
          const wts = createWts({ api: overriding(api, {
            logoffSession: async (h, id) => (seen.push(userReads > k), api.logoffSession(h, id)),
            disconnectSession: async (h, id) => (seen.push(userReads > k), api.disconnectSession(h, id)),
            sendMessage: async (h, id, m, o) => (seen.push(userReads > k), api.sendMessage(h, id, m, o)),
          }) });
          if (op === 'logoff(id)') await codeOf(wts.logoff(3, { server: 'WF12', wait: false }));
          else if (op === 'disconnect(id)') await codeOf(wts.disconnect(3, { server: 'WF12', wait: false }));
          else if (op === 'sendMessageAll') await wts.sendMessageAll({ server: 'WF12', text: 'hi', ...filter });
          else await wts[op]({ server: 'WF12', wait: false, ...filter });
          return { userReads, requests, seen };
        };
        const { userReads: reads, requests: unchanged } = await run(0);
        expect(reads).toBeGreaterThan(0);
        expect(unchanged.length).toBeGreaterThan(0);
        for (let k = 1; k <= reads; k++) {
          const { requests, seen } = await run(k);
          // A request made with no read after the change is a race no client can close.
          requests.forEach((r, i) => { if (seen[i]) expect(`k=${k} ${r.api} to ${r.user}`).toBe(`k=${k} ${r.api} to ${U21}`); });
        }
      });
    }
  }
});

describe('found: per-unit upper case by JavaScript is not Windows\' table for ı and ſ', () => {
  /**
   * sameText upper-cases each unit with String.prototype.toUpperCase: U+0131 (dotless ı) becomes
   * "I" and U+017F (long ſ) becomes "S". Windows' ordinal upper-case table maps both to
   * themselves — .NET reproduces it on ICU for OrdinalIgnoreCase (dotnet/runtime,
   * src/native/libs/System.Globalization.Native/pal_casing.c, GlobalizationNative_InitOrdinalCasingPage:
   * "Disable Turkish I behavior on Ordinal operations": 0x0131 -> 0x0131, 0x017F -> 0x017F). So
   * "bıll" is another account than "bill", as "\u212Aate" is than "kate"; the library takes it as
   * the listed user.
   */
  for (const [listed, other] of [['bill', 'b\u0131ll'], ['sam', '\u017Fam']] as const) {
    test(`plain logoffAll: a reused ID now held by ${JSON.stringify(other)} is logged off as ${JSON.stringify(listed)} (promise 6 / 1)`, async () => {
      const s: FarmSession = { id: 3, name: '', state: 'Disconnected', user: listed, domain: 'CORP', logonTime: ago(5 * H) };
      const mock = createMockApi(farm([s]));
      let reused = false;
      const api = overriding(mock, {
        enumerateSessions: async (h) => {
          const list = await mock.enumerateSessions(h);
          if (!reused) mock.putSession('WF12', { ...s, user: other, logonTime: ago(1000) });
          reused = true;
          return list;
        },
      });
      const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false });
      expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
      expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
    });
  }
});

describe('found (minor): a times filter judges disconnectedLongerThan on the listed state, not on the WTSINFOW it read', () => {
  /**
   * selectSessions' times read (fetchDetails -> timesOf(info, session.state)) takes the state from
   * the listing: a user who reconnected after the listing (WTSINFOW: Active, the old DisconnectTime
   * kept) is judged "disconnected 3 h". The dry run plans him; the same call applied a moment later
   * (nothing changed) says filtered; the plan applied as shown logs off an active user.
   */
  test('dryRun disconnectedLongerThan: a session whose filter read says Active is planned wouldLogOff', async () => {
    const s: FarmSession = { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: ago(5 * H), disconnectTime: ago(3 * H), lastInputTime: ago(3 * H) };
    const mock = createMockApi(farm([s]));
    const api = overriding(mock, {
      enumerateSessionsWith: undefined,
      enumerateSessions: async (h) => {
        const list = await mock.enumerateSessions(h);
        const cur = mock.getSession('WF12', 3);
        if (cur?.state === 'Disconnected') mock.putSession('WF12', { ...s, state: 'Active', name: 'RDP-Tcp#9', lastInputTime: ago(0) }); // reconnected, same logon
        return list;
      },
    });
    const wts = createWts({ api });
    const plan = await wts.logoffAll({ server: 'WF12', disconnectedLongerThan: '1h', dryRun: true });
    const infoState = mock.calls.filter((c) => c.sessionId === 3 && c.infoClass === 'WTSSessionInfo').length;
    expect(infoState).toBeGreaterThan(0); // the filter read WTSINFOW (state Active) ...
    expect(outcomeOf(plan, 3)).toMatchObject({ status: 'skipped', reason: 'filtered' }); // ... so it must not plan him
  });
});

describe('HOLDS: polling at the field lengths', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['20-char user, no WTSSessionInfo', U20, 'CORP', true],
    ['16-char domain, no WTSSessionInfo', 'bob', D16, true],
    ['21-char user, WTSSessionInfo', U21, 'CORP', false],
    ['17-char domain, WTSSessionInfo', 'bob', D17, false],
  ];
  for (const [label, user, domain, noSessionInfo] of cases) {
    test(`HOLDS: logoff(id) and disconnect(id), ${label}: a request that never takes effect times out`, async () => {
      const s: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user, domain, logonTime: ago(H) };
      const mock = createMockApi(farm([s]), { closingPolls: 1_000_000 });
      const { api } = hooked(mock, () => {}, { noSessionInfo, inertDisconnect: true });
      const wts = createWts({ api });
      expect(await codeOf(wts.disconnect(3, { server: 'WF12', timeoutMs: 60, pollIntervalMs: 5 }))).toBe('E_TIMEOUT');
      expect(await codeOf(wts.logoff(3, { server: 'WF12', timeoutMs: 60, pollIntervalMs: 5 }))).toBe('E_TIMEOUT');
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Property: filters, names at the field lengths, single targets; the farm changes after any query
// ------------------------------------------------------------------------------------------------

type Kind = 'other' | 'same' | 'end' | 'console' | 'reconnect' | 'disconnect' | 'type' | 'unlock' | 'lock' | 'twin';
interface Mut { at: number; target: number; kind: Kind; user: string; domain: string }
const USERS = ['bob', 'abcdefghijklmnopqrs', U20, U21, ''];
const DOMAINS = ['CORP', 'CORPORATEDOMAIN', D16, D17];
const FILTERS: Record<string, Record<string, unknown>> = {
  none: {},
  disc: { state: 'Disconnected' },
  idle: { idleLongerThan: '2h' },
  discLong: { disconnectedLongerThan: '1h' },
  locked: { locked: true },
  client: { clientName: 'PC1' },
  anyIdle: { anyOf: [{ state: 'Disconnected' }, { locked: true }], idleLongerThan: '2h' },
  lockIdle: { locked: true, idleLongerThan: '2h' },
  clientDisc: { clientName: 'PC1', disconnectedLongerThan: '1h' },
  anyTimes: { anyOf: [{ disconnectedLongerThan: '1h' }, { idleLongerThan: '2h' }] },
};

/** Whether a session (as the farm holds it now) meets what a filter asks of its state and times. */
function meetsStateAndTimes(f: string, s: FarmSession | undefined): boolean {
  if (!s) return false;
  const idle = s.lastInputTime !== undefined && Date.now() - Date.parse(s.lastInputTime) > 2 * H;
  const disc = s.state === 'Disconnected';
  const discLong = disc && s.disconnectTime !== undefined && Date.now() - Date.parse(s.disconnectTime) > H;
  switch (f) {
    case 'disc': return disc;
    case 'idle': case 'anyIdle': case 'lockIdle': return idle;
    case 'discLong': case 'clientDisc': return discLong;
    case 'anyTimes': return discLong || idle;
    default: return true;
  }
}

function propertyFarm(defs: ReadonlyArray<{ user: string; domain: string; state: string; idle: boolean; locked: boolean; client: string }>, muts: readonly Mut[], noSessionInfo = false) {
  let t = 1;
  const logon = () => new Date(Date.UTC(2026, 0, 1, 0, t++)).toISOString();
  const sessions: FarmSession[] = defs.map((d, i) => {
    const s: FarmSession = {
      id: 3 + i, name: d.state === 'Disconnected' ? '' : `RDP-Tcp#${i}`, state: d.state as FarmSession['state'], user: d.user, domain: d.user ? d.domain : '',
      lastInputTime: ago(d.idle ? 3 * H : 60_000), locked: d.locked, clientName: d.client,
    };
    if (d.state === 'Disconnected') s.disconnectTime = ago(d.idle ? 3 * H : 60_000);
    if (d.user) s.logonTime = logon();
    return s;
  });
  const mock = createMockApi(farm(sessions));
  let n = 0;
  let seq = 0;
  const lastMut = new Map<number, number>();
  const lastRead = new Map<number, number>();
  const log: Array<{ api: string; id: number; s: FarmSession | undefined; race: boolean }> = [];
  const listed = new Map<number, string>();
  const state = { armed: true };
  // The last read of each field a check looks at (WTSSessionInfo reads them all): a change after
  // the earliest of them is a race no client can close.
  const fieldRead = new Map<number, Record<string, number>>();
  const FIELDS: Record<string, string[]> = { WTSSessionInfo: ['user', 'domain', 'name', 'state'], WTSUserName: ['user'], WTSDomainName: ['domain'], WTSWinStationName: ['name'], WTSConnectState: ['state'] };
  const lastUseful = (id: number) => Math.min(...['user', 'domain', 'name', 'state'].map((k) => fieldRead.get(id)?.[k] ?? -1));
  const req = (api: string, id: number) => log.push({ api, id, s: mock.getSession('WF12', id), race: (lastMut.get(id) ?? -1) > (noSessionInfo ? lastUseful(id) : (lastRead.get(id) ?? -1)) });
  const api = overriding(mock, {
    enumerateSessions: async (h) => {
      const l = await mock.enumerateSessions(h);
      if (listed.size === 0) for (const x of l) listed.set(x.sessionId, `${x.domainName.toLowerCase()}\\${x.userName.toLowerCase()}`);
      return l;
    },
    enumerateSessionsWith: undefined,
    querySessionInformation: (async (...a: Query) => {
      if (noSessionInfo && a[2] === 'WTSSessionInfo') throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' });
      const r = await (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(...a);
      lastRead.set(a[1], ++seq);
      const fr = fieldRead.get(a[1]) ?? {};
      for (const k of FIELDS[a[2]] ?? []) fr[k] = seq;
      fieldRead.set(a[1], fr);
      if (!state.armed) return r;
      for (const m of muts) {
        if (m.at !== n) continue;
        const id = 3 + (m.target % sessions.length);
        const cur = mock.getSession('WF12', id);
        if (!cur) continue;
        lastMut.set(id, ++seq);
        const { closing: _c, ...base } = cur;
        const put = (s: FarmSession) => mock.putSession('WF12', s);
        switch (m.kind) {
          case 'end': mock.removeSession('WF12', id); break;
          case 'other': {
            const { logonTime: _l, ...rest } = base;
            put(m.user ? { ...rest, user: m.user, domain: m.domain, logonTime: logon() } : { ...rest, user: '', domain: '' });
            break;
          }
          case 'same': if (base.user) put({ ...base, name: 'RDP-Tcp#77', logonTime: logon() }); break;
          case 'twin': if (base.user) put({ ...base, user: base.user.length >= 20 ? `${base.user.slice(0, 20)}Z` : `${base.user}z`, logonTime: logon() }); break;
          case 'console': put({ ...base, name: 'Console' }); break;
          case 'reconnect': { const { disconnectTime: _d, ...rest } = base; put({ ...rest, state: 'Active', name: 'RDP-Tcp#88', lastInputTime: ago(0) }); break; }
          case 'disconnect': put({ ...base, state: 'Disconnected', name: '', disconnectTime: ago(0) }); break;
          case 'type': put({ ...base, lastInputTime: ago(0) }); break;
          case 'unlock': put({ ...base, locked: false }); break;
          case 'lock': put({ ...base, locked: true }); break;
        }
      }
      n++;
      return r;
    }) as WtsApi['querySessionInformation'],
    logoffSession: async (h, id) => (req('logoff', id), mock.logoffSession(h, id)),
    disconnectSession: async (h, id) => (req('disconnect', id), mock.disconnectSession(h, id)),
    sendMessage: async (h, id, m, o) => (req('message', id), mock.sendMessage(h, id, m, o)),
  });
  return { api, mock, log, listed, sessions, state };
}

const propArbs = {
  defs: fc.array(
    fc.record({
      user: fc.constantFrom(...USERS), domain: fc.constantFrom(...DOMAINS), state: fc.constantFrom('Active', 'Disconnected', 'Connected'),
      idle: fc.boolean(), locked: fc.boolean(), client: fc.constantFrom('PC1', 'PC2'),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  muts: fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 30 }), target: fc.nat(2),
      kind: fc.constantFrom<Kind>('other', 'same', 'end', 'console', 'reconnect', 'disconnect', 'type', 'unlock', 'lock', 'twin'),
      user: fc.constantFrom(...USERS), domain: fc.constantFrom(...DOMAINS),
    }),
    { maxLength: 3 },
  ),
};

describe('HOLDS: filters, long names at the field lengths, single targets, farm changing after any query', () => {
  // Without WTSSessionInfo the names are read one by one: a change after the earliest last read of
  // a field is counted as a race there (see the found tests above for what that leaves open).
  for (const noSi of [false, true]) test(`HOLDS property${noSi ? ' (no WTSSessionInfo)' : ''}: no request to another user or the console; state and times filters hold at the request; one outcome each`, async () => {
    await fc.assert(
      fc.asyncProperty(
        propArbs.defs,
        fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll', 'warn', 'logoff(id)', 'disconnect(id)'),
        fc.constantFrom(...Object.keys(FILTERS)),
        propArbs.muts,
        async (defs, op, f, muts) => {
          const { api, log, listed, sessions } = propertyFarm(defs, muts, noSi);
          const wts = createWts({ api });
          const filter = FILTERS[f]!;
          let out: ReadonlyArray<{ session: { id: number }; requests: readonly string[] }> | undefined;
          if (op === 'logoff(id)') await codeOf(wts.logoff(3, { server: 'WF12', wait: false }));
          else if (op === 'disconnect(id)') await codeOf(wts.disconnect(3, { server: 'WF12', wait: false }));
          else if (op === 'sendMessageAll') out = await wts.sendMessageAll({ server: 'WF12', text: 'x', ...filter });
          else if (op === 'disconnectAll') out = await wts.disconnectAll({ server: 'WF12', wait: false, ...filter });
          else out = await wts.logoffAll({ server: 'WF12', wait: false, ...filter, ...(op === 'warn' ? { warn: { text: 'w', graceSeconds: 0 } } : {}) });
          const single = op.endsWith('(id)');
          for (const r of log) {
            if (r.race) continue;
            const where = `${op} ${f} ${r.api}:${r.id}`;
            expect(`${where} ${lower(r.s?.domain)}\\${lower(r.s?.user)}`).toBe(`${where} ${listed.get(r.id)}`);
            if (r.api !== 'message') expect(`${where} ${r.s?.name}`).not.toBe(`${where} Console`);
            if (!single) expect(`${where} meets ${meetsStateAndTimes(f, r.s)}`).toBe(`${where} meets true`);
          }
          if (op === 'warn' && !noSi) {
            const warned = new Map(log.filter((l) => l.api === 'message').map((l) => [l.id, l.s?.logonTime] as const));
            for (const r of log.filter((l) => l.api === 'logoff' && !l.race)) expect(r.s?.logonTime).toBe(warned.get(r.id));
          }
          if (out) {
            expect(out.map((o) => o.session.id).sort()).toEqual([0, ...sessions.map((s) => s.id)].sort());
            const sent = log.map((l) => `${l.api}@${l.id}`).sort();
            const names: Record<string, string> = { WTSLogoffSession: 'logoff', WTSDisconnectSession: 'disconnect', WTSSendMessageW: 'message' };
            expect(out.flatMap((o) => o.requests.map((q) => `${names[q]}@${o.session.id}`)).sort()).toEqual(sent);
          }
        },
      ),
      {
        numRuns: 1500,
        // Found by clean-clone CI runs (seeds -657392651 and -1941413323, no WTSSessionInfo): always
        // tried first. The second: idle judged on the WTSSessionInfoEx read (times with the lock
        // state) before the names were read again, while the user typed in between.
        examples: [
          [
            [{ user: '', domain: 'CORP', state: 'Disconnected', idle: true, locked: false, client: 'PC1' }, { user: 'bob', domain: 'CORP', state: 'Active', idle: false, locked: false, client: 'PC1' }],
            'logoffAll', 'anyIdle', [{ at: 23, target: 0, kind: 'type', user: 'bob', domain: 'CORP' }],
          ],
          [
            [{ user: 'bob', domain: 'CORP', state: 'Disconnected', idle: false, locked: false, client: 'PC1' }, { user: 'bob', domain: 'CORP', state: 'Active', idle: false, locked: false, client: 'PC1' }, { user: U21, domain: D16, state: 'Active', idle: false, locked: true, client: 'PC1' }],
            'disconnectAll', 'locked', [{ at: 28, target: 2, kind: 'other', user: U20, domain: D16 }],
          ],
        ],
      },
    );
  }, 240_000);
});
const lower = (x: string | undefined) => (x ?? '').toLowerCase();

describe('HOLDS: a plan with filters, the farm changing during the dry run or the apply', () => {
  test('HOLDS property: what is acted on is the planned logon, still meeting the state and times filters', async () => {
    await fc.assert(
      fc.asyncProperty(
        propArbs.defs,
        fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll', 'warn'),
        fc.constantFrom(...Object.keys(FILTERS)),
        propArbs.muts,
        fc.constantFrom('dry', 'apply'),
        fc.boolean(),
        async (defs, op, f, muts, phase, filterAgain) => {
          const { api, log, listed, state } = propertyFarm(defs, muts);
          const wts = createWts({ api });
          const filter = FILTERS[f]!;
          type Out = ReadonlyArray<{ status: string; session: { id: number }; identity?: { userName: string; domain: string; logonTime: Date | null } }>;
          const k = op === 'warn' ? 'logoffAll' : op;
          const extra = op === 'sendMessageAll' ? { text: 'x' } : { wait: false, ...(op === 'warn' ? { warn: { text: 'w', graceSeconds: 0 } } : {}) };
          const call = (o: Record<string, unknown>) => (wts[k] as (o: unknown) => Promise<Out>)({ server: 'WF12', ...extra, ...o });
          state.armed = phase === 'dry';
          const plan = await call({ dryRun: true, ...filter });
          log.length = 0;
          state.armed = phase === 'apply';
          await call({ plan, ...(filterAgain ? filter : {}) });
          for (const r of log) {
            if (r.race) continue;
            const where = `${op} ${f} ${r.api}:${r.id}`;
            const p = plan.find((o) => o.session.id === r.id && o.status.startsWith('would'));
            expect(`${where} planned ${p !== undefined}`).toBe(`${where} planned true`);
            const pid = p!.identity!;
            expect(`${where} ${lower(r.s?.domain)}\\${lower(r.s?.user)}@${r.s?.logonTime ?? '-'}`).toBe(`${where} ${lower(pid.domain)}\\${lower(pid.userName)}@${pid.logonTime ? new Date(pid.logonTime).toISOString() : '-'}`);
            expect(`${where} ${lower(r.s?.domain)}\\${lower(r.s?.user)}`).toBe(`${where} ${listed.get(r.id)}`);
            if (r.api !== 'message') expect(`${where} ${r.s?.name}`).not.toBe(`${where} Console`);
            if (filterAgain) expect(`${where} meets ${meetsStateAndTimes(f, r.s)}`).toBe(`${where} meets true`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  }, 240_000);
});

describe('HOLDS: many servers, filters and long names, cut short by an abort or a server timeout', () => {
  test('HOLDS property: one outcome per listed session, every request in its outcome, loggedOff only when seen gone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user: fc.constantFrom('bob', U20, U21, ''), domain: fc.constantFrom('CORP', D16, D17), state: fc.constantFrom('Active', 'Disconnected', 'Connected'), idle: fc.boolean(), locked: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ user: fc.constantFrom('bob', U21), domain: fc.constantFrom('CORP', D17), state: fc.constantFrom('Active', 'Disconnected'), idle: fc.boolean(), locked: fc.boolean() }), { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        fc.constantFrom('logoffAll', 'warn', 'disconnectAll', 'sendMessageAll'),
        fc.constantFrom('none', 'disc', 'idle', 'locked', 'anyIdle', 'lockIdle', 'anyTimes'),
        fc.oneof(fc.record({ abortAt: fc.integer({ min: 1, max: 60 }) }), fc.record({ serverTimeoutMs: fc.integer({ min: 1, max: 30 }) })),
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(1, 1_000_000),
        async (d12, d13, noSi13, op, f, cut, latency, closingPolls) => {
          const mk = (d: typeof d12[number], i: number): FarmSession => {
            const s: FarmSession = { id: 3 + i, name: d.state === 'Disconnected' ? '' : `RDP-Tcp#${i}`, state: d.state as FarmSession['state'], user: d.user, domain: d.user ? d.domain : '', lastInputTime: ago(d.idle ? 3 * H : 60_000), locked: d.locked };
            if (d.state === 'Disconnected') s.disconnectTime = ago(d.idle ? 3 * H : 60_000);
            if (d.user) s.logonTime = new Date(Date.UTC(2026, 0, 1, i)).toISOString();
            return s;
          };
          const s12 = d12.map(mk);
          const s13 = d13.map(mk);
          const f0 = farm(s12, { latencyMs: latency });
          f0.servers.push({ name: 'WF13', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, ...s13], latencyMs: latency });
          const controller = new AbortController();
          let n = 0;
          const sent: string[] = [];
          const mock = createMockApi(f0, {
            closingPolls,
            onCall: (c) => {
              if (['logoff', 'disconnect', 'message'].includes(c.api)) sent.push(`${c.api}@${c.server.toUpperCase()}:${c.sessionId}`);
              if ('abortAt' in cut && ++n === cut.abortAt) queueMicrotask(() => controller.abort());
            },
          });
          const handles = new Map<unknown, string>();
          const api = overriding(mock, {
            openServer: async (name: string) => {
              const h = await mock.openServer(name);
              handles.set(h, name.toUpperCase());
              return h;
            },
            querySessionInformation: (async (...a: Query) => {
              if (noSi13 && a[2] === 'WTSSessionInfo' && handles.get(a[0]) === 'WF13') {
                await (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(a[0], a[1], 'WTSSessionId');
                throw new Win32Error({ win32Code: 120, api: 'WTSQuerySessionInformationW' });
              }
              return (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(...a);
            }) as WtsApi['querySessionInformation'],
          });
          const wts = createWts({ api });
          const base = { servers: ['WF12', 'WF13'], signal: controller.signal, ...('serverTimeoutMs' in cut ? { serverTimeoutMs: cut.serverTimeoutMs } : {}), ...FILTERS[f] };
          const res = op === 'sendMessageAll'
            ? await wts.sendMessageAll({ ...base, text: 'x' })
            : op === 'disconnectAll'
              ? await wts.disconnectAll({ ...base, timeoutMs: 60, pollIntervalMs: 1 })
              : await wts.logoffAll({ ...base, timeoutMs: 60, pollIntervalMs: 1, ...(op === 'warn' ? { warn: { text: 'w', graceSeconds: 0.005 } } : {}) });
          await new Promise((r) => setTimeout(r, 30));
          const names: Record<string, string> = { WTSLogoffSession: 'logoff', WTSDisconnectSession: 'disconnect', WTSSendMessageW: 'message' };
          const got = res.results.flatMap((o) => o.requests.map((q) => `${names[q]}@${(o.session.server || 'TS01').toUpperCase()}:${o.session.id}`)).sort();
          expect(got).toEqual([...sent].sort());
          for (const [server, list] of [['WF12', s12], ['WF13', s13]] as const) {
            const outs = res.results.filter((o) => o.session.server.toUpperCase() === server);
            if (outs.length === 0) continue; // failed before its sessions were listed
            expect(outs.map((o) => o.session.id).sort()).toEqual([0, ...list.map((s) => s.id)].sort());
            for (const o of outs) {
              if (o.status === 'loggedOff' && (o as { confirmed?: boolean }).confirmed) expect(mock.getSession(server, o.session.id)).toBeUndefined();
              if (o.status === 'requested') expect(o.requests.length).toBeGreaterThan(0);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  }, 240_000);
});

describe('HOLDS: bad anyOf alternatives', () => {
  const FK = ['state', 'user', 'domain', 'clientName', 'idleLongerThan', 'disconnectedLongerThan', 'locked', 'anyOf', 'dryRun', 'server', 'x'];
  const values = fc.oneof(fc.anything(), fc.constantFrom('Disc', 'Active', '*', '2h', '1h30m', '30m1h', '.5h', -1, 1e300, NaN, true, [], ['Disc'], [{}], null, undefined, '\u212A*'));
  test('HOLDS property: a rejected filter is an InvalidArgumentError before any backend call, one server or many', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll', 'listSessions'),
        fc.oneof(fc.array(fc.dictionary(fc.constantFrom(...FK), values), { maxLength: 18 }), values),
        fc.dictionary(fc.constantFrom(...FK.slice(0, 7)), values),
        fc.boolean(),
        async (fn, anyOf, top, many) => {
          const mock = createMockApi(farm([]));
          const wts = createWts({ api: mock });
          const o: Record<string, unknown> = { ...top, anyOf, ...(many ? { servers: ['WF12', 'TS01'] } : { server: 'WF12' }), ...(fn === 'sendMessageAll' ? { text: 'hi' } : {}), ...(fn === 'listSessions' ? {} : { dryRun: true }) };
          try {
            await (wts[fn] as (o: unknown) => Promise<unknown>)(o);
          } catch (e) {
            const code = (e as { code?: string }).code;
            expect(code).toBe('E_INVALID_ARGUMENT');
            expect(mock.calls).toEqual([]);
          }
        },
      ),
      { numRuns: 1500 },
    );
  }, 120_000);
});
