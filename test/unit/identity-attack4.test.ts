/**
 * Adversarial tests (fourth round) of the identity promises. A harness changes the farm after the
 * k-th backend read (k = -1: right after the listing) and records, for every field a read shows
 * the library, when it was last read and last changed: a request to a logon other than the one
 * listed / shown / planned / warned is a failure unless every field that differs changed after the
 * library's last read of it (a race no client can close). Tests under "found:" fail on the code
 * they were written against (they say what they show); "HOLDS:" passed.
 */
import fc from 'fast-check';
import { createWts, Win32Error, type WtsApi } from '../../src/index';
import { createMockApi, type FarmSession } from '../../src/mock';
import { overriding } from '../helpers';
import { ago, farm, H, hooked, outcomeOf, type Query } from './identity-fixtures';

// ------------------------------------------------------------------------------------------------
// harness
// ------------------------------------------------------------------------------------------------

export type Field = 'user' | 'domain' | 'logon' | 'name' | 'state';
/** The fields each query class shows the library (WTSSessionInfoEx's names and time are not used by it). */
export const SHOWS: Record<string, Field[]> = {
  WTSSessionInfo: ['user', 'domain', 'logon', 'name', 'state'],
  WTSUserName: ['user'],
  WTSDomainName: ['domain'],
  WTSWinStationName: ['name'],
  WTSConnectState: ['state'],
};

/** Windows' name rule for the strings used here: each UTF-16 unit upper-cased to one unit, ı and ſ kept. */
export function winSame(a: string | undefined, b: string | undefined): boolean {
  const x = a ?? '';
  const y = b ?? '';
  if (x.length !== y.length) return false;
  const up = (u: string) => (u === '\u0131' || u === '\u017f' ? u : u.toUpperCase().length === 1 ? u.toUpperCase() : u);
  for (let i = 0; i < x.length; i++) if (up(x[i]!) !== up(y[i]!)) return false;
  return true;
}

export interface Seen {
  readonly api: 'logoff' | 'disconnect' | 'message';
  readonly id: number;
  readonly s: FarmSession | undefined;
  /** Per field: whether a read of it came after its last change (the library could have seen it). */
  readonly readSince: Record<Field, boolean>;
}

export type Change = (cur: FarmSession) => FarmSession | undefined;

/**
 * The mock, with `change` applied to session `target` after backend read number `at` (reads of
 * any session, counted from 0; -1: right after the first listing). `noSessionInfo`: every
 * WTSSessionInfo fails with 50 (a server without the class); `sessionInfoFails`: decides per
 * session ID whether WTSSessionInfo fails with 50 (some sessions only).
 */
export function harness(
  sessions: FarmSession[],
  o: { changes: ReadonlyArray<{ at: number; target: number; change: Change }>; noSessionInfo?: boolean; sessionInfoFails?: ((id: number, n: number) => boolean) | undefined; armed?: () => boolean; wf13?: FarmSession[]; afterRead?: (n: number) => void },
) {
  const f0 = farm(sessions);
  if (o.wf13) f0.servers.push({ name: 'WF13', sessions: [{ id: 0, name: 'Services', state: 'Disconnected' }, ...o.wf13] });
  const mock = createMockApi(f0, { closingPolls: 1 });
  const handles = new Map<unknown, string>();
  let seq = 0;
  let reads = 0;
  let base0 = 0; // reads counted from here (reset when the harness is armed again)
  const lastRead = new Map<number, Partial<Record<Field, number>>>();
  const changedAt = new Map<number, Partial<Record<Field, number>>>();
  const history = new Map<number, FarmSession[]>(sessions.map((s) => [s.id, [structuredClone(s)]]));
  const seen: Seen[] = [];
  const listed = new Map<number, FarmSession>();
  const queries: string[] = [];
  const fire = (at: number) => {
    if (o.armed && !o.armed()) return;
    for (const m of o.changes) if (m.at === at) apply(m.target, m.change);
  };
  const apply = (target: number, change: Change) => {
    const cur = mock.getSession('WF12', target);
    if (!cur) return;
    const { closing: _c, ...base } = cur;
    const next = change(base);
    seq++;
    const ch = changedAt.get(target) ?? {};
    const diff = (f: Field, a: unknown, b: unknown) => { if (a !== b) ch[f] = seq; };
    if (!next) {
      mock.removeSession('WF12', target);
      for (const f of ['user', 'domain', 'logon', 'name', 'state'] as Field[]) ch[f] = seq;
    } else {
      diff('user', base.user ?? '', next.user ?? '');
      diff('domain', base.domain ?? '', next.domain ?? '');
      diff('logon', base.logonTime, next.logonTime);
      diff('name', base.name ?? '', next.name ?? '');
      diff('state', base.state, next.state);
      mock.putSession('WF12', next);
      history.get(target)?.push(structuredClone(next));
    }
    changedAt.set(target, ch);
  };
  const record = (api: Seen['api'], id: number) => {
    const lr = lastRead.get(id) ?? {};
    const ch = changedAt.get(id) ?? {};
    const readSince = Object.fromEntries((['user', 'domain', 'logon', 'name', 'state'] as Field[]).map((f) => [f, (lr[f] ?? -1) > (ch[f] ?? -1) && ch[f] !== undefined])) as Record<Field, boolean>;
    seen.push({ api, id, s: mock.getSession('WF12', id), readSince });
  };
  let enumerations = 0;
  let infoQueries = 0;
  const api = overriding(mock, {
    enumerateSessionsWith: undefined,
    openServer: async (name: string) => {
      const h = await mock.openServer(name);
      handles.set(h, name.toUpperCase());
      return h;
    },
    enumerateSessions: async (h) => {
      const l = await mock.enumerateSessions(h);
      if ((handles.get(h) ?? 'WF12') !== 'WF12') return l;
      // The session as the last listing showed it (a server that waited for its turn lists again).
      listed.clear();
      for (const x of l) listed.set(x.sessionId, structuredClone(mock.getSession('WF12', x.sessionId)!));
      if (enumerations++ === 0) fire(-1);
      return l;
    },
    querySessionInformation: (async (...a: Query) => {
      const fail = a[2] === 'WTSSessionInfo' && (o.noSessionInfo || o.sessionInfoFails?.(a[1], infoQueries++));
      let answer: unknown;
      let error: unknown;
      try {
        if (fail) {
          await (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(a[0], a[1], 'WTSSessionId');
          throw new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' });
        }
        answer = await (mock.querySessionInformation as (...q: Query) => Promise<unknown>)(...a);
        seq++;
        const lr = lastRead.get(a[1]) ?? {};
        for (const f of SHOWS[a[2]] ?? []) lr[f] = seq;
        lastRead.set(a[1], lr);
      } catch (e) {
        error = e;
      }
      queries.push(`${a[2]}:${a[1]}`);
      o.afterRead?.(reads);
      fire(reads++ - base0);
      if (error) throw error;
      return answer;
    }) as WtsApi['querySessionInformation'],
    logoffSession: async (h, id) => (record('logoff', id), mock.logoffSession(h, id)),
    disconnectSession: async (h, id) => (record('disconnect', id), mock.disconnectSession(h, id)),
    sendMessage: async (h, id, m, opt) => (record('message', id), mock.sendMessage(h, id, m, opt)),
  });
  return {
    api, mock, wts: createWts({ api }), seen, listed, history, queries, reads: () => reads,
    /** Counts reads from 0 again (for the second phase of a plan), and lists the session again. */
    restart: () => { base0 = reads; enumerations = 0; },
    apply,
  };
}

/**
 * What is wrong with a request, as the promise puts it (undefined: nothing). `want` is the logon it
 * must go to: the listed user and domain (plain calls), and with `logonTime` the logon shown,
 * planned or warned; `name` for a session listed without a user.
 */
export function wrongRequest(r: Seen, want: { user: string; domain: string; logonTime?: string | null | undefined; name?: string }): string | undefined {
  const s = r.s;
  const why: string[] = [];
  if (!s) return undefined; // gone: WTSLogoffSession on a gone session is harmless (7022)
  if (!winSame(s.user, want.user) && r.readSince.user) why.push(`user ${s.user} (want ${want.user})`);
  if (!winSame(s.domain, want.domain) && r.readSince.domain) why.push(`domain ${s.domain} (want ${want.domain})`);
  if (want.logonTime !== undefined && (s.logonTime ?? null) !== want.logonTime && r.readSince.logon) why.push(`logon ${s.logonTime} (want ${want.logonTime})`);
  if (want.user === '' && want.name !== undefined && !winSame(s.name, want.name) && r.readSince.name) why.push(`name ${s.name} (want ${want.name})`);
  if (r.api !== 'message' && (s.name ?? '').toLowerCase() === 'console' && r.readSince.name) why.push('console');
  return why.length ? `${r.api}:${r.id} -> ${why.join(', ')}` : undefined;
}

// ------------------------------------------------------------------------------------------------
// found
// ------------------------------------------------------------------------------------------------

const N31 = 'RDP-Finance-Listener-Pool#12345'; // 31 characters: fills WTSINFOW's WinStationName (32 with its NUL)
const N32 = `${N31}2`; // 32 (WINSTATIONNAME_LENGTH): cut to N31 in WTSINFOW, whole in the listing and WTSWinStationName

/** The mock, with session 3 replaced by `next` right after the first listing (a new connection on the reused ID). */
function reusedAfterListing(first: FarmSession, next: FarmSession, o: { noSessionInfo?: boolean } = {}) {
  const mock = createMockApi(farm([first]));
  const { api, requests } = hooked(mock, () => {}, o);
  let listings = 0;
  const wts = createWts({
    api: overriding(api, {
      enumerateSessionsWith: undefined,
      enumerateSessions: async (h) => {
        const l = await api.enumerateSessions(h);
        if (listings++ === 0) mock.putSession('WF12', next);
        return l;
      },
    }),
  });
  return { mock, wts, requests };
}

describe('found: a session with no user is told apart by a WinStation name WTSINFOW cuts to 31 characters', () => {
  /**
   * docs/decisions.md: "With no user, the WinStation name is the identity: a capture of a session
   * listed without a user must read the WinStation name it was listed with, else it is another
   * connection (changed)". The listing gives names whole (up to WINSTATIONNAME_LENGTH, 32), but
   * the identity read takes the WinStation name from WTSINFOW, which holds 31 characters (the mock
   * cuts it as src/wtsapi.ts's WTSINFO_LENGTHS says) and is never read whole (WTSWinStationName)
   * the way a user or domain that fills its field is. So a connection listed as N31 (31
   * characters) that ended, its ID reused by a new connection N32 = N31 + '2', is "the same": the
   * request goes to N32, a connection the library never listed, showed or planned. (On a server
   * without WTSSessionInfo the name is read whole and the change is seen: see the HOLDS test.)
   * A connection listed with a 32-character name is the other side of the same cut: its capture
   * always differs from the listing, so it is never acted on (reported `changed`).
   */
  const first: FarmSession = { id: 3, name: N31, state: 'Connected' };
  const next: FarmSession = { id: 3, name: N32, state: 'Connected' };

  test('plain logoffAll: N31 listed, N32 on the ID by the identity read — N32 is logged off (promise 1 / 2)', async () => {
    const { wts, requests } = reusedAfterListing(first, next);
    const out = await wts.logoffAll({ server: 'WF12', wait: false });
    expect(requests.map((r) => `${r.api} to ${r.name}`)).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('plain disconnectAll: the same — N32 is disconnected (promise 1 / 2)', async () => {
    const { wts, requests } = reusedAfterListing(first, next);
    const out = await wts.disconnectAll({ server: 'WF12', wait: false });
    expect(requests.map((r) => `${r.api} to ${r.name}`)).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('logoff(3): N32 is logged off as the N31 resolved from the listing (promise 1 / 2)', async () => {
    const { wts, requests } = reusedAfterListing(first, next);
    const code = await wts.logoff(3, { server: 'WF12', wait: false }).then(() => 'resolved', (e: { code?: string }) => e.code);
    expect(requests.map((r) => `${r.api} to ${r.name}`)).toEqual([]);
    expect(code).toBe('E_SESSION_CHANGED');
  });

  test('dryRun then plan: the plan shows N31, the ID is reused by N32 before the apply — N32 is logged off (promise 1 / 2)', async () => {
    const mock = createMockApi(farm([first]));
    const { api, requests } = hooked(mock, () => {});
    const wts = createWts({ api });
    const plan = await wts.logoffAll({ server: 'WF12', dryRun: true });
    expect(outcomeOf(plan, 3)).toMatchObject({ status: 'wouldLogOff', identity: { name: N31 } });
    mock.putSession('WF12', next);
    const out = await wts.logoffAll({ server: 'WF12', plan, wait: false });
    expect(requests.map((r) => `${r.api} to ${r.name}`)).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

describe('HOLDS: the WinStation-name cut, where the name is read whole', () => {
  test('HOLDS (after the fix): a session with no user listed as N32 (longer than WTSINFOW holds) is acted on, not always "changed"', async () => {
    const mock = createMockApi(farm([{ id: 3, name: N32, state: 'Connected' }]));
    const { api, requests } = hooked(mock, () => {});
    const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false });
    expect(requests.map((r) => `${r.api} to ${r.name}`)).toEqual([`logoff to ${N32}`]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'loggedOff' });
  });

  test('HOLDS: without WTSSessionInfo (WTSWinStationName, whole), N31 listed and N32 on the ID is skipped as changed', async () => {
    const { wts, requests } = reusedAfterListing({ id: 3, name: N31, state: 'Connected' }, { id: 3, name: N32, state: 'Connected' }, { noSessionInfo: true });
    const out = await wts.logoffAll({ server: 'WF12', wait: false });
    expect(requests).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('HOLDS: a user of 20 + 1 characters whose last one becomes the Kelvin sign (past the cut) is another account: changed', async () => {
    const s: FarmSession = { id: 3, name: 'RDP-Tcp#5', state: 'Active', user: 'abcdefghijklmnopqrstk', domain: 'CORP', logonTime: '2026-01-01T00:00:01.000Z' };
    const { wts, requests } = reusedAfterListing(s, { ...s, user: 'abcdefghijklmnopqrst\u212A' });
    const out = await wts.logoffAll({ server: 'WF12', wait: false });
    expect(requests).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('HOLDS: a plan shown for D16 applied after the ID went to the same user of D16 + one character with the same logon time: changed', async () => {
    const s: FarmSession = { id: 3, name: 'RDP-Tcp#5', state: 'Active', user: 'kate', domain: 'CORPORATEDOMAIN1', logonTime: '2026-01-01T00:00:01.000Z' };
    const mock = createMockApi(farm([s]));
    const { api, requests } = hooked(mock, () => {});
    const wts = createWts({ api });
    const plan = await wts.disconnectAll({ server: 'WF12', dryRun: true });
    mock.putSession('WF12', { ...s, domain: 'CORPORATEDOMAIN1x' });
    const out = await wts.disconnectAll({ server: 'WF12', plan: plan as never, wait: false });
    expect(requests).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });
});

// ------------------------------------------------------------------------------------------------
// properties
// ------------------------------------------------------------------------------------------------

const U20 = 'abcdefghijklmnopqrst';
const U21 = 'abcdefghijklmnopqrstu';
const D16 = 'CORPORATEDOMAIN1';
const D17 = 'CORPORATEDOMAIN12';
let t = 0;
const T = () => new Date(Date.UTC(2026, 0, 1, 0, 0, ++t)).toISOString();

const base = (user: string, domain: string, state: FarmSession['state'] = 'Active', name = 'RDP-Tcp#5'): FarmSession => ({
  id: 3, name: state === 'Disconnected' ? '' : name, state, user, domain, ...(user ? { logonTime: T() } : {}),
  lastInputTime: ago(3 * H), locked: true, clientName: 'PC1', ...(state === 'Disconnected' ? { disconnectTime: ago(3 * H) } : {}),
});
const DEFS: Record<string, () => FarmSession> = {
  short: () => base('kate', 'CORP'),
  u21: () => base(U21, 'CORP'),
  u20: () => base(U20, 'CORP'),
  d17: () => base('kate', D17),
  d16: () => base('kate', D16),
  both: () => base(U21, D17),
  disc: () => base('kate', 'CORP', 'Disconnected'),
  nouser: () => base('', '', 'Connected'),
  nouserDisc: () => base('', '', 'Disconnected'),
  emoji: () => base('abcdefghijklmnopqrs\u{1F600}', 'CORP'),
  kTail: () => base('abcdefghijklmnopqrstk', 'CORP'),
  kDom: () => base('kate', 'CORPORATEDOMAINk'),
  lower20: () => base('abcdefghijklmnopqrsk', 'corporatedomain1'),
};
const twin = (x: string, n: number) => (x.length >= n ? `${x.slice(0, n)}Z` : `${x}z`);
const CHANGES: Record<string, Change> = {
  other: (c) => ({ ...c, user: 'mallory', domain: c.domain || 'CORP', logonTime: T() }),
  otherDom: (c) => (c.user ? { ...c, domain: 'EVIL', logonTime: T() } : c),
  twinUser: (c) => (c.user ? { ...c, user: twin(c.user, 20), logonTime: T() } : c),
  twinUserSameTime: (c) => (c.user ? { ...c, user: twin(c.user, 20) } : c),
  prefixUser: (c) => (c.user && c.user.length > 20 ? { ...c, user: c.user.slice(0, 20), logonTime: T() } : c),
  longerUser: (c) => (c.user && c.user.length === 20 ? { ...c, user: `${c.user}u`, logonTime: T() } : c),
  twinDom: (c) => (c.user ? { ...c, domain: twin(c.domain ?? '', 16), logonTime: T() } : c),
  twinDomSameTime: (c) => (c.user ? { ...c, domain: twin(c.domain ?? '', 16) } : c),
  prefixDom: (c) => (c.domain && c.domain.length > 16 ? { ...c, domain: c.domain.slice(0, 16), logonTime: T() } : c),
  longerDom: (c) => (c.domain && c.domain.length === 16 ? { ...c, domain: `${c.domain}2`, logonTime: T() } : c),
  relogon: (c) => (c.user ? { ...c, name: 'RDP-Tcp#77', logonTime: T() } : c),
  caseUser: (c) => (c.user ? { ...c, user: c.user.toUpperCase(), logonTime: T() } : c),
  kelvin: (c) => (c.user ? { ...c, user: c.user.replace(/k/g, '\u212A').replace(/a/, 'a'), logonTime: T() } : c),
  console: (c) => ({ ...c, name: 'Console', state: 'Active' }),
  userLogsOn: (c) => (c.user ? c : { ...c, user: 'mallory', domain: 'CORP', logonTime: T() }),
  newConn: (c) => (c.user ? c : { ...c, name: 'RDP-Tcp#9', state: 'Connected' }),
  userLogsOff: (c) => {
    if (!c.user) return c;
    const { logonTime: _l, ...rest } = c;
    return { ...rest, user: '', domain: '', name: 'RDP-Tcp#9', state: 'Connected' };
  },
  end: () => undefined,
  emojiTwin: (c) => (c.user ? { ...c, user: c.user.replace(/\u{1F600}/u, '\u{1F601}').replace(/^kate$/, 'kat\u{1F600}'), logonTime: T() } : c),
  kelvinTail: (c) => (c.user ? { ...c, user: c.user.replace(/k$/, '\u212A'), domain: (c.domain ?? '').replace(/k$/, '\u212A'), logonTime: T() } : c),
  upper: (c) => (c.user ? { ...c, user: c.user.toUpperCase(), domain: (c.domain ?? '').toUpperCase() } : c),
  reconnect: (c) => ({ ...c, state: 'Active', name: 'RDP-Tcp#88' }),
  disconnect: (c) => ({ ...c, state: 'Disconnected', name: '' }),
};
const FILTERS: Record<string, Record<string, unknown>> = {
  none: {},
  user: { user: '*' },
  state: { state: ['Active', 'Connected', 'Disconnected'] },
  idle: { idleLongerThan: '1h' },
  locked: { locked: true },
  client: { clientName: 'PC1' },
};
const OPS = ['farmlogoffAll', 'farmlogoffAll13', 'farmwarn13', 'farmdisconnectAll13', 'farmsendMessageAll13', 'logoffName', 'logoffAll', 'disconnectAll', 'sendMessageAll', 'warn', 'logoff', 'disconnect', 'sendMessage',
  'planLogoff:dry', 'planLogoff:apply', 'planLogoff:between', 'planDisc:apply', 'planDisc:between', 'planMsg:dry', 'planMsg:apply', 'planMsg:between', 'planWarn:apply', 'planWarn:between'];
const SI_MODES: Record<string, ((id: number, n: number) => boolean) | undefined> = {
  ok: undefined,
  none: () => true,
  only3: (id) => id === 3,
  only4: (id) => id === 4,
  first: (_id, n) => n === 0,
  second: (_id, n) => n === 1,
  third: (_id, n) => n === 2,
  after2: (_id, n) => n >= 2,
};
const SAME_TIME = new Set(['twinUserSameTime', 'twinDomSameTime']);

async function runOne(op: string, f: string, d: string, muts: ReadonlyArray<{ c: string; at: number; target: number }>, si: string, abortAt = -5) {
  const controller = new AbortController();
  const signal = controller.signal;
  const s = DEFS[d]!();
  const other: FarmSession = { id: 4, name: 'RDP-Tcp#6', state: 'Active', user: 'zed', domain: 'CORP', logonTime: T(), lastInputTime: ago(3 * H), locked: true, clientName: 'PC1' };
  // A twin with the same logon time is only a change between a dry run and its apply (docs/decisions.md).
  const during = muts.filter((m) => !SAME_TIME.has(m.c));
  let armed = !op.endsWith(':apply') && !op.endsWith(':between');
  const many = op.startsWith('farm');
  const wf13: FarmSession[] = [{ id: 7, name: 'RDP-Tcp#1', state: 'Active', user: 'yan', domain: 'CORP', logonTime: T(), lastInputTime: ago(3 * H), locked: true, clientName: 'PC1' }];
  const h = harness([s, other], { ...(many ? { wf13 } : {}), afterRead: (n) => { if (n === abortAt) queueMicrotask(() => controller.abort()); }, changes: during.map((m) => ({ at: m.at, target: m.target, change: CHANGES[m.c]! })), sessionInfoFails: SI_MODES[si], armed: () => armed });
  const filter = { ...FILTERS[f]!, ...(abortAt >= 0 ? { signal } : {}) };
  const bad: string[] = [];
  const outs: Array<ReadonlyArray<{ status: string; session: { id: number }; requests: readonly string[] }>> = [];
  try {
    if (op === 'logoff' || op === 'disconnect') await h.wts[op](3, { server: 'WF12', wait: false, signal }).catch(() => undefined);
    else if (op === 'logoffName') await h.wts.logoff('RDP-Tcp#5', { server: 'WF12', wait: false }).catch(() => undefined);
    else if (op === 'sendMessage') await h.wts.sendMessage(3, { server: 'WF12', text: 'x' }).catch(() => undefined);
    else if (many) {
      const o = { servers: op.endsWith('13') ? ['WF13', 'WF12'] : ['WF12', 'WF13'], serverConcurrency: 1, ...filter };
      const k = op.replace(/^farm/, '').replace(/13$/, '');
      const r = k === 'sendMessageAll' ? await h.wts.sendMessageAll({ ...o, text: 'x' }) : k === 'disconnectAll' ? await h.wts.disconnectAll({ ...o, wait: false }) : await h.wts.logoffAll({ ...o, wait: false, ...(k === 'warn' ? { warn: { text: 'w', graceSeconds: 0 } } : {}) });
      outs.push(r.results.filter((x) => x.session.server.toUpperCase() === 'WF12'));
    }
    else if (op === 'sendMessageAll') outs.push(await h.wts.sendMessageAll({ server: 'WF12', text: 'x', ...filter }));
    else if (op === 'disconnectAll') outs.push(await h.wts.disconnectAll({ server: 'WF12', wait: false, ...filter }));
    else if (op === 'logoffAll' || op === 'warn') outs.push(await h.wts.logoffAll({ server: 'WF12', wait: false, ...filter, ...(op === 'warn' ? { warn: { text: 'w', graceSeconds: 0 } } : {}) }));
    else {
      const kind = op.split(':')[0]!;
      const call = (o: Record<string, unknown>) =>
        kind === 'planMsg' ? h.wts.sendMessageAll({ server: 'WF12', text: 'x', ...o }) as Promise<readonly unknown[]>
          : kind === 'planDisc' ? h.wts.disconnectAll({ server: 'WF12', wait: false, ...o }) as Promise<readonly unknown[]>
            : h.wts.logoffAll({ server: 'WF12', wait: false, ...o, ...(kind === 'planWarn' ? { warn: { text: 'w', graceSeconds: 0 } } : {}) }) as Promise<readonly unknown[]>;
      const plan = (await call({ dryRun: true, ...filter })) as ReadonlyArray<{ status: string; session: { id: number }; identity?: { userName: string; domain: string; logonTime: Date | null; name: string } }>;
      for (const p of plan.filter((o) => o.status.startsWith('would'))) {
        const hist = h.history.get(p.session.id) ?? [];
        const real = hist.some((x) => winSame(x.user, p.identity!.userName) && winSame(x.domain, p.identity!.domain) && (si !== 'ok' || (x.logonTime ?? null) === (p.identity!.logonTime ? p.identity!.logonTime.toISOString() : null)));
        if (!real) bad.push(`dry identity ${p.identity!.domain}\\${p.identity!.userName}@${p.identity!.logonTime?.toISOString()} is no logon`);
      }
      h.seen.length = 0;
      h.restart();
      if (op.endsWith(':between')) for (const m of muts) h.apply(m.target, CHANGES[m.c]!);
      armed = op.endsWith(':apply');
      outs.push(await call({ plan, ...filter }) as never);
      for (const r of h.seen) {
        const p = plan.find((o) => o.session.id === r.id && o.status.startsWith('would'));
        if (!p) { bad.push(`${r.api}:${r.id} to unplanned`); continue; }
        const w = wrongRequest(r, { user: p.identity!.userName, domain: p.identity!.domain, logonTime: p.identity!.logonTime ? p.identity!.logonTime.toISOString() : null, name: p.identity!.name });
        if (w) bad.push(w);
      }
      checkOuts();
      return bad;
    }
  } catch (e) {
    if ((e as { code?: string }).code !== 'E_ABORTED') bad.push(`threw ${(e as Error).message}`);
  }
  const messaged = new Map<number, FarmSession | undefined>();
  for (const r of h.seen) {
    if (r.id === 7) continue;
    const l = h.listed.get(r.id)!;
    const w = wrongRequest(r, { user: l.user ?? '', domain: l.domain ?? '', name: l.name ?? '' });
    if (w) bad.push(w);
    if (op === 'warn' && r.api === 'message') messaged.set(r.id, r.s);
    const m = messaged.get(r.id);
    if (op === 'warn' && r.api === 'logoff' && m) {
      const w2 = wrongRequest(r, { user: m.user ?? '', domain: m.domain ?? '', logonTime: si === 'ok' ? (m.logonTime ?? null) : undefined, name: m.name ?? '' });
      if (w2) bad.push(`after warn: ${w2}`);
    }
  }
  checkOuts();
  return bad;

  function checkOuts() {
    const names: Record<string, string> = { WTSLogoffSession: 'logoff', WTSDisconnectSession: 'disconnect', WTSSendMessageW: 'message' };
    for (const out of outs.slice(-1)) {
      const ids = out.map((o) => o.session.id).sort();
      const want = [...h.listed.keys()].sort();
      if (JSON.stringify(ids.filter((x, i) => ids.indexOf(x) === i)) !== JSON.stringify(ids)) bad.push(`outcomes twice: ${ids}`);
      for (const id of want) if (!ids.includes(id)) bad.push(`no outcome for ${id}`);
      const got = out.flatMap((o) => o.requests.map((q) => `${names[q]}@${o.session.id}`)).sort();
      const sent = h.seen.filter((x) => x.id !== 7).map((x) => `${x.api}@${x.id}`).sort();
      if (JSON.stringify(got) !== JSON.stringify(sent)) bad.push(`requests ${got} vs sent ${sent}`);
    }
  }
}


const KEYS = ['server', 'servers', 'state', 'user', 'domain', 'clientName', 'idleLongerThan', 'disconnectedLongerThan', 'locked', 'anyOf', 'dryRun', 'plan', 'concurrency', 'warn', 'wait', 'timeoutMs', 'pollIntervalMs', 'signal', 'text', 'title', 'buttons', 'timeoutSeconds', 'serverTimeoutMs', 'onEvent', 'listConcurrency'];
const outcome = (status: string, o: Record<string, unknown> = {}) => ({ status, session: { id: 3, server: 'WF12', name: 'x', state: 'Active', userName: 'bob', domain: 'CORP', isConsole: false, isCurrent: false, ...(o['session'] as object) }, identity: { sessionId: 3, name: 'x', userName: 'bob', domain: 'CORP', logonTime: '2026-01-01T00:00:00Z', ...(o['identity'] as object) } });
const special = fc.constantFrom<unknown>(
  'WF12', '', ' ', '\\\\', '.', 'TS01', '127.0.0.1', 'wf12.', '-x', 'a'.repeat(300), ['WF12'], [], ['WF12', 'WF12'], [''], ['WF12', 3],
  true, false, 0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 53, '1h', '30m1h', 'Disc', ['Disc', 'Bogus'], '*', null, undefined, {}, [], [{}],
  { text: 'w' }, { text: 'w', graceSeconds: -1 }, { text: 'w', graceSeconds: NaN }, { text: '', title: 'x' }, { text: 'w', extra: 1 },
  new AbortController().signal, { aborted: false }, () => 1,
  [outcome('wouldLogOff')], [outcome('wouldSend')], [outcome('wouldDisconnect')], { results: [outcome('wouldLogOff')] }, [outcome('wouldLogOff'), outcome('wouldLogOff')],
  [outcome('wouldLogOff', { session: { id: 3.5 } })], [outcome('wouldLogOff', { identity: { sessionId: 4 } })], [outcome('wouldLogOff', { session: { server: 'WF13' } })],
  [outcome('wouldLogOff', { identity: { logonTime: 'never' } })], [outcome('wouldLogOff', { session: { state: 'Bogus' } })], [outcome('wouldLogOff', { session: { server: '' } })],
  [outcome('wouldLogOff', { identity: { userName: 3 } })], [outcome('skipped', { session: { id: 'x' } })], [null], [3], 'plan', { results: 3 },
);
const values = fc.oneof(special, fc.anything());


const mutArb = fc.record({ c: fc.constantFrom(...Object.keys(CHANGES)), at: fc.integer({ min: -1, max: 26 }), target: fc.constantFrom(3, 3, 4) });

describe('HOLDS: identity under a change after any read — every operation, filter, name length and WTSSessionInfo mode', () => {
  /**
   * Up to three changes (another user, another domain, a twin past the cut, the prefix, a longer
   * name, a re-logon, case, the Kelvin sign, an emoji's other half at the cut, the console, a user
   * logging on to / off from a logon screen, a new connection, the end, a reconnect, a disconnect)
   * after any read, on session 3 or its neighbour 4; plain calls, single targets (ID and name),
   * warn, many servers with a server that waits for its turn (listed again), dry runs whose plan
   * is applied with the farm changing during the dry run, during the apply or between them (a
   * twin with the same logon time only between them); WTSSessionInfo answered, unsupported, or
   * failing with 50 for one session or only on its 1st / 2nd / 3rd query, or from its 3rd; an
   * abort after any read. Checked: no request to a logon other than the one listed (plain),
   * shown (plan) or warned, nor to the console, unless the field that differs changed after the
   * library's last read of it; a dry run shows only a logon the session really had; one outcome
   * per listed session, whose requests are those sent. (Explored with about 170 000 runs while
   * writing; 3000 here.)
   */
  test('HOLDS property: no request to another logon or the console; one outcome each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPS), fc.constantFrom(...Object.keys(FILTERS)), fc.constantFrom(...Object.keys(DEFS)), fc.array(mutArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...Object.keys(SI_MODES)), fc.option(fc.integer({ min: 0, max: 20 }), { nil: -5 }),
        async (op, f, d, muts, si, abortAt) => {
          const bad = await runOne(op, ['logoff', 'disconnect', 'sendMessage', 'logoffName'].includes(op) ? 'none' : f, d, muts, si, abortAt);
          expect(`${op} ${f} ${d} ${si}: ${bad.join(' | ')}`).toBe(`${op} ${f} ${d} ${si}: `);
        },
      ),
      { numRuns: 3000 },
    );
  }, 240_000);

  test('HOLDS: the harness sees a wrong request (a twin with the same logon time between the last WTSUserName and WTSSessionInfo, which the library assumes away)', async () => {
    // The check of the property above, shown to fire: this change is outside the promise (docs/decisions.md's assumption).
    const s = DEFS['u21']!();
    const h = harness([s], { changes: [{ at: 2, target: 3, change: (c) => ({ ...c, user: twin(c.user!, 20) }) }] });
    await h.wts.logoffAll({ server: 'WF12', wait: false });
    const l = h.listed.get(3)!;
    expect(h.seen.map((r) => wrongRequest(r, { user: l.user ?? '', domain: l.domain ?? '' }))).toEqual([`logoff:3 -> user ${U20}Z (want ${U21})`]);
  });
});

describe('HOLDS: bad input', () => {
  test('HOLDS property: a rejected call is a typed error; E_INVALID_ARGUMENT only before any backend call', async () => {
    const seen: string[] = [];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll', 'logoff', 'disconnect', 'sendMessage', 'listSessions'),
      fc.oneof(fc.constant(undefined), values),
      fc.dictionary(fc.constantFrom(...KEYS), values, { maxKeys: 5 }),
      async (fn, target, o) => {
        const mock = createMockApi(farm([{ id: 3, name: 'x', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-01-01T00:00:00Z' }]));
        const wts = createWts({ api: mock }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
        const p = ['logoff', 'disconnect', 'sendMessage'].includes(fn) ? wts[fn]!(target, o) : wts[fn]!(o);
        await p.then(() => undefined, (e: { code?: string; message?: string }) => {
          const calls = mock.calls.map((c) => c.api).filter((c) => !['open', 'close', 'localNames', 'computerName', 'consoleId', 'currentId'].includes(c));
          if (typeof e?.code !== 'string') seen.push(`${fn}: untyped ${e?.message}`);
          else if (e.code === 'E_INVALID_ARGUMENT' && calls.length > 0) seen.push(`${fn}: ${e.message} after ${calls.join(',')}`);
        });
      }), { numRuns: 3000 });
    expect(seen).toEqual([]);
  }, 120_000);
});
