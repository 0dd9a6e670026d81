/**
 * Adversarial tests of logoffAll's `warn` (warn every chosen user, wait the grace period, re-check,
 * log off) and of the plans it makes and applies. Each test quotes the promise it attacks
 * (docs/logoffAll.md, README.md, docs/errors.md, docs/json.md, docs/many-servers.md).
 * `FIXED:` tests failed on the code as reviewed (a broken promise), and pass since the fix;
 * `HOLDS:` tests are attacks that did not break it.
 */
import fc from 'fast-check';
import { createWts, ThreadsExhaustedError, type FarmResult, type LogoffOutcome, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { countingAnswers, exampleFarm, overriding, sleep } from '../helpers';
import { ago, farm, H } from './identity-fixtures';

const bob: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-01-01T00:00:00.000Z' };
const amy: FarmSession = { id: 4, name: 'RDP-Tcp#4', state: 'Active', user: 'amy', domain: 'CORP', logonTime: '2026-01-01T00:01:00.000Z' };

type Any = Record<string, any>;
const outcomeOf = (out: readonly LogoffOutcome[], id: number, server?: string): Any =>
  out.find((o) => o.session.id === id && (server === undefined || o.session.server === server)) as Any;

/** A request as it reached the mock: which, when, and the session as it was at that moment. */
interface Seen {
  readonly api: 'message' | 'logoff';
  readonly server: string;
  readonly id: number;
  readonly at: number;
  readonly s: FarmSession | undefined;
  readonly title?: string;
  readonly text?: string;
  readonly timeoutSeconds?: number;
}

/** The mock with every WTSSendMessageW / WTSLogoffSession recorded (server by handle). */
function recording(mock: MockApi, extra: { readonly [K in keyof WtsApi]?: WtsApi[K] } = {}): { api: WtsApi; seen: Seen[] } {
  const seen: Seen[] = [];
  const names = new Map<unknown, string>();
  const snap = (server: string, id: number) => {
    const s = mock.getSession(server, id);
    return s && (JSON.parse(JSON.stringify(s)) as FarmSession);
  };
  const api = overriding(mock, {
    openServer: async (name) => {
      const h = await mock.openServer(name);
      const def = mock.toFarm().servers.find((s) => s.name.toLowerCase() === name.toLowerCase() || (s.aliases ?? []).some((a) => a.toLowerCase() === name.toLowerCase()));
      names.set(h, def?.name ?? name);
      return h;
    },
    sendMessage: async (h, id, m, o) => {
      const server = names.get(h) ?? mock.toFarm().localServer;
      seen.push({ api: 'message', server, id, at: performance.now(), s: snap(server, id), title: m.title, text: m.text, timeoutSeconds: m.timeoutSeconds });
      return mock.sendMessage(h, id, m, o);
    },
    logoffSession: async (h, id) => {
      const server = names.get(h) ?? mock.toFarm().localServer;
      seen.push({ api: 'logoff', server, id, at: performance.now(), s: snap(server, id) });
      return mock.logoffSession(h, id);
    },
    ...extra,
  });
  return { api, seen };
}

const ids = (seen: readonly Seen[], api: 'message' | 'logoff') => seen.filter((s) => s.api === api).map((s) => s.id);
const logonOf = (s: FarmSession | undefined) => (s ? `${s.domain ?? ''}\\${s.user ?? ''}@${s.logonTime ?? ''}` : 'none');

// ---------------------------------------------------------------------------------------------
describe('FIXED: what an outcome and its error say was sent', () => {
  /*
   * docs/errors.md: "`requests` lists the requests already sent (and accepted) when the error came:
   * they may still take effect." docs/json.md (error object): "`requests` | requests already sent
   * when it failed (`WTSLogoffSession`, ...): they may still take effect; `[]` when nothing was
   * sent"; and the code table: "`E_TIMEOUT` | asked to log off, not gone after the timeout
   * (`requests` says so)". (logoff() on one session does say so: ['WTSLogoffSession'].)
   */
  test('FIXED: a warned session whose logoff times out: its LogoffTimeoutError.requests is [] although WTSSendMessageW and WTSLogoffSession were both sent and accepted', async () => {
    const mock = createMockApi(farm([bob]), { closingPolls: 1_000_000 }); // the logoff never completes
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', timeoutMs: 60, pollIntervalMs: 5, warn: { text: 'bye', graceSeconds: 0 } });
    const o = outcomeOf(out, 3);
    expect(o.status).toBe('failed');
    expect(o.requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
    expect(o.error.code).toBe('E_TIMEOUT');
    // The error (what a script reads in the JSON outcome's `error`) must say both went out.
    expect(o.error.toJSON().requests).toEqual(expect.arrayContaining(['WTSSendMessageW', 'WTSLogoffSession']));
  });

  test('FIXED: a warned session whose logoff is refused (5): its error.requests is [] ("nothing was sent") although the warning had been sent and accepted', async () => {
    const mock = createMockApi(farm([bob, amy]));
    mock.setFault('WF12', 'logoff', 3, 5);
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const o = outcomeOf(out, 3);
    expect(o.status).toBe('failed');
    expect(o.requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
    expect(o.error.win32Code).toBe(5);
    expect(o.error.toJSON().requests).toContain('WTSSendMessageW');
  });

  /*
   * docs/errors.md: ThreadsExhaustedError — "the call was not made". docs/logoffAll.md: "Every
   * outcome is Reported: `requests` lists what was sent to the session"; docs/json.md: "`requests`
   * | each request sent to the session". A warning the backend refused unmade is listed as sent.
   */
  test('FIXED: a warning refused by the backend with ThreadsExhaustedError ("the call was not made") is listed in requests as sent', async () => {
    const mock = createMockApi(farm([bob, amy]));
    const { api, seen } = recording(mock, {
      sendMessage: async (h, id, m, o) => {
        if (id === 3) throw new ThreadsExhaustedError(128, 128, 5000, 'WF12'); // never made
        return mock.sendMessage(h, id, m, o);
      },
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    const o = outcomeOf(out, 3);
    expect(o.status).toBe('failed');
    expect(o.error.code).toBe('E_THREADS_EXHAUSTED');
    expect(ids(seen, 'logoff')).toEqual([4]); // not logged off: holds
    expect(o.requests).toEqual([]); // nothing reached session 3
  });
});

// ---------------------------------------------------------------------------------------------
describe('FIXED: a dry run with warn, applied as a plan', () => {
  /*
   * README.md (`logoffAll({ warn })`): "The dry run shows the plan, warning included; `plan`
   * applies it." docs/logoffAll.md: "With `dryRun`, each `wouldLogOff` outcome carries the `warn`
   * it would get." README: "What is confirmed is what is acted on."
   */
  test('FIXED: a plan whose wouldLogOff outcomes carry a warning, applied (after a JSON round trip) without repeating warn, logs everyone off with no warning at all', async () => {
    const dry = await createWts({ api: createMockApi(farm([bob, amy])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'Save your work', graceSeconds: 0 } });
    expect(outcomeOf(dry, 3)).toMatchObject({ status: 'wouldLogOff', warn: { text: 'Save your work', graceSeconds: 0 } });
    const plan = JSON.parse(JSON.stringify(dry)) as LogoffOutcome[];
    const mock = createMockApi(farm([bob, amy]));
    const { api, seen } = recording(mock);
    const out = await createWts({ api }).logoffAll({ server: 'WF12', plan, wait: false });
    expect(ids(seen, 'logoff')).toEqual([3, 4]);
    // The plan said "Would warn session 3 ..., wait 0 s, then log it off": the warning is part of it.
    expect(ids(seen, 'message')).toEqual([3, 4]);
    expect(outcomeOf(out, 3).requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
  });

  test('FIXED: a plan reviewed as "warn with text A, wait 1 s" applied with warn { text B, 0 s }: users get a warning nobody reviewed, logged off at once (neither refused nor the planned warning)', async () => {
    const dry = await createWts({ api: createMockApi(farm([bob])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'A: you have 1 second', graceSeconds: 1 } });
    const mock = createMockApi(farm([bob]));
    const { api, seen } = recording(mock);
    // Refused, as documented (docs/logoffAll.md): a typed error, nothing called.
    const rejected = await createWts({ api })
      .logoffAll({ server: 'WF12', plan: dry, wait: false, warn: { text: 'B: bye now', graceSeconds: 0 } })
      .then(() => undefined, (error: Any) => error);
    expect(rejected?.code).toBe('E_INVALID_ARGUMENT');
    expect(rejected?.argument).toBe('options.warn');
    expect(seen).toEqual([]);
  });

  test('a plan reviewed with a warning, applied with the same warning and a title: accepted, the title used', async () => {
    const dry = await createWts({ api: createMockApi(farm([bob])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'Save', graceSeconds: 0 } });
    const mock = createMockApi(farm([bob]));
    const { api, seen } = recording(mock);
    const out = await createWts({ api }).logoffAll({ server: 'WF12', plan: dry, wait: false, warn: { text: 'Save', title: 'IT', graceSeconds: 0 } });
    expect(outcomeOf(out, 3).requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
    expect(seen.filter((x) => x.api === 'message')).toHaveLength(1);
  });

  test('a plan reviewed without a warning may be applied with one (documented): warned, then logged off', async () => {
    const dry = await createWts({ api: createMockApi(farm([bob])) }).logoffAll({ server: 'WF12', dryRun: true });
    const mock = createMockApi(farm([bob]));
    const { api } = recording(mock);
    const out = await createWts({ api }).logoffAll({ server: 'WF12', plan: dry, wait: false, warn: { text: 'Save', graceSeconds: 0 } });
    expect(outcomeOf(out, 3).requests).toEqual(['WTSSendMessageW', 'WTSLogoffSession']);
  });

  test('a plan whose sessions carry different warnings (not one dry run) is refused before any call', async () => {
    const a = await createWts({ api: createMockApi(farm([bob, amy])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'A', graceSeconds: 0 } });
    const b = await createWts({ api: createMockApi(farm([bob, amy])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'B', graceSeconds: 0 } });
    const mixed = [outcomeOf(a, 3), outcomeOf(b, 4)] as unknown as LogoffOutcome[];
    const mock = createMockApi(farm([bob, amy]));
    const { api, seen } = recording(mock);
    const rejected = await createWts({ api })
      .logoffAll({ server: 'WF12', plan: mixed, wait: false })
      .then(() => undefined, (error: Any) => error);
    expect(rejected?.code).toBe('E_INVALID_ARGUMENT');
    expect(String(rejected?.message)).toMatch(/warning/);
    expect(seen).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('HOLDS: warn, then the grace period, then the logoff', () => {
  test('HOLDS property: any interleaving of farm changes (end, ID reuse, reconnect, disconnect, lock, typing, rename to Console, new logon) — no logoff reaches a session not warned under the same logon or no longer selected; one outcome per session whose requests are exactly the calls the mock saw', async () => {
    type Kind = 'end' | 'reuseSame' | 'reuseOther' | 'reconnect' | 'disconnect' | 'lock' | 'unlock' | 'type' | 'toConsole' | 'newLogon';
    const FILTERS: Any[] = [{}, { state: 'Disconnected' }, { state: 'Active' }, { idleLongerThan: '1h' }, { user: '*' }, { locked: true }, { anyOf: [{ state: 'Disconnected' }, { locked: true }] }];
    const sessionArb = fc.record({ user: fc.constantFrom('alice', 'bob', ''), state: fc.constantFrom<'Active' | 'Disconnected'>('Active', 'Disconnected'), locked: fc.boolean(), idleH: fc.constantFrom(0, 3) });
    // `rel`: counted from the first warning sent (so that many land in the grace period and after).
    const changeArb = fc.record({ rel: fc.boolean(), at: fc.nat({ max: 30 }), id: fc.constantFrom(2, 3, 4, 5, 9), kind: fc.constantFrom<Kind>('end', 'reuseSame', 'reuseOther', 'reconnect', 'disconnect', 'lock', 'unlock', 'type', 'toConsole', 'newLogon') });
    const base = Date.now();
    const make = (id: number, r: { user: string; state: 'Active' | 'Disconnected'; locked: boolean; idleH: number }): FarmSession =>
      r.user === ''
        ? { id, name: `RDP-Tcp#${id}`, state: 'Connected' }
        : {
            id,
            name: r.state === 'Active' ? `RDP-Tcp#${id}` : '',
            state: r.state,
            user: r.user,
            domain: 'CORP',
            locked: r.locked,
            logonTime: new Date(base - 5 * H + id * 60_000).toISOString(),
            lastInputTime: new Date(base - r.idleH * H - 1000).toISOString(),
            ...(r.state === 'Disconnected' ? { disconnectTime: new Date(base - 2 * H).toISOString() } : {}),
          };
    let newLogons = 0;
    const apply = (mock: MockApi, c: { id: number; kind: Kind }) => {
      const s = mock.getSession('WF12', c.id);
      const fresh = () => new Date(base + ++newLogons * 1000).toISOString();
      switch (c.kind) {
        case 'end':
          if (s) mock.removeSession('WF12', c.id);
          return;
        case 'reuseSame':
          if (s?.user) {
            const { closing: _closing, ...rest } = s;
            mock.putSession('WF12', { ...rest, name: `RDP-Tcp#${90 + c.id}`, state: 'Active', logonTime: fresh(), lastInputTime: new Date().toISOString() });
          }
          return;
        case 'reuseOther':
        case 'newLogon':
          if (c.kind === 'newLogon' ? !s : true) mock.putSession('WF12', { id: c.id, name: `RDP-Tcp#${90 + c.id}`, state: 'Active', user: 'mallory', domain: 'CORP', logonTime: fresh(), lastInputTime: ago(3 * H), locked: true });
          return;
        case 'reconnect':
          if (s?.user) mock.putSession('WF12', { ...s, state: 'Active', name: `RDP-Tcp#${80 + c.id}`, locked: false, lastInputTime: new Date().toISOString() });
          return;
        case 'disconnect':
          if (s?.user) mock.putSession('WF12', { ...s, state: 'Disconnected', name: '', disconnectTime: new Date().toISOString() });
          return;
        case 'lock':
        case 'unlock':
          if (s) mock.putSession('WF12', { ...s, locked: c.kind === 'lock' });
          return;
        case 'type':
          if (s) mock.putSession('WF12', { ...s, lastInputTime: new Date().toISOString() });
          return;
        case 'toConsole':
          if (s) mock.putSession('WF12', { ...s, name: 'Console' });
          return;
      }
    };
    const matches = (f: Any, s: FarmSession): boolean | undefined => {
      if (f['state']) return s.state === f['state'];
      if (f['idleLongerThan']) return !!s.lastInputTime && Date.now() - Date.parse(s.lastInputTime) > H;
      if (f['user']) return !!s.user;
      return f['locked'] === undefined && f['anyOf'] === undefined ? true : undefined; // lock: read before the identity; not judged here
    };

    await fc.assert(
      fc.asyncProperty(
        fc.tuple(sessionArb, sessionArb, sessionArb, sessionArb),
        fc.array(changeArb, { maxLength: 8 }),
        fc.constantFrom(...FILTERS),
        fc.constantFrom('warn', 'warnWait', 'plan'),
        async (rows, changes, filter, mode) => {
          const mock = createMockApi(farm(rows.map((r, k) => make(k + 2, r))), { closingPolls: 1 });
          let n = 0;
          let armed = mode !== 'plan';
          let listed: number[] | undefined;
          let firstWarning: number | undefined;
          const pending = [...changes];
          const due = (c: { rel: boolean; at: number }) => (c.rel ? firstWarning !== undefined && n - firstWarning >= c.at : n >= c.at);
          const seen: Seen[] = [];
          const snap = (id: number) => {
            const s = mock.getSession('WF12', id);
            return s && (JSON.parse(JSON.stringify(s)) as FarmSession);
          };
          // Every call: the changes due land before it — but never between the last read and a
          // request (concurrency 1: a request follows its session's last read at once), a race no
          // re-check can close.
          const api = new Proxy(mock, {
            get(target, key) {
              const value: unknown = Reflect.get(target, key, target);
              if (typeof value !== 'function') return value;
              return (...args: unknown[]) => {
                const request = key === 'sendMessage' || key === 'logoffSession';
                if (armed && !request) {
                  for (const c of pending.filter(due)) {
                    pending.splice(pending.indexOf(c), 1);
                    apply(mock, c);
                  }
                }
                if (armed && key === 'sendMessage') firstWarning ??= n;
                if (armed) n++;
                if (request && armed) seen.push({ api: key === 'sendMessage' ? 'message' : 'logoff', server: 'WF12', id: args[1] as number, at: 0, s: snap(args[1] as number) });
                const result = (value as (...a: unknown[]) => unknown).apply(target, args);
                if (key === 'enumerateSessions' && armed && listed === undefined) {
                  return (result as Promise<Array<{ sessionId: number }>>).then((r) => ((listed = r.map((x) => x.sessionId)), r));
                }
                return result;
              };
            },
          }) as unknown as WtsApi;
          const wts = createWts({ api });
          const warn = { text: 'bye', graceSeconds: 0 };
          let plan: Any[] | undefined;
          if (mode === 'plan') {
            plan = JSON.parse(JSON.stringify(await wts.logoffAll({ server: 'WF12', ...filter, dryRun: true, warn })));
            armed = true;
          }
          const out = await wts.logoffAll({
            server: 'WF12',
            ...filter,
            concurrency: 1,
            warn,
            ...(plan ? { plan: plan as unknown as LogoffOutcome[] } : {}),
            ...(mode === 'warnWait' ? { timeoutMs: 200, pollIntervalMs: 1 } : { wait: false }),
          } as Parameters<typeof wts.logoffAll>[0] as never) as unknown as readonly LogoffOutcome[];
          // One outcome per listed session (and per planned one that ended), none for any other.
          const planned = (plan ?? []).filter((x) => x['status'] === 'wouldLogOff').map((x) => x['session'].id as number);
          const expected = [...new Set([...(listed ?? []), ...planned])].sort((a, b) => a - b);
          expect(out.map((o) => o.session.id).sort((a, b) => a - b)).toEqual(expected);
          // Requests: exactly what the mock saw, in order, per session.
          for (const o of out) {
            const sent = seen.filter((s) => s.id === o.session.id).map((s) => (s.api === 'message' ? 'WTSSendMessageW' : 'WTSLogoffSession'));
            expect({ id: o.session.id, requests: o.requests }).toEqual({ id: o.session.id, requests: sent });
          }
          for (const r of seen) expect(listed).toContain(r.id);
          for (const r of seen.filter((x) => x.api === 'logoff')) {
            const warned = seen.find((x) => x.api === 'message' && x.id === r.id);
            expect(warned).toBeDefined();
            // The same logon as warned (no-user sessions: the same WinStation name).
            expect(logonOf(r.s)).toBe(logonOf(warned!.s));
            if (!r.s?.user) expect(r.s?.name).toBe(warned!.s?.name);
            // With a plan: the planned logon.
            if (plan) {
              const p = plan.find((x) => x['status'] === 'wouldLogOff' && x['session'].id === r.id);
              expect(p).toBeDefined();
              const planned = p!['identity'] as Any;
              expect(`${planned['domain']}\\${planned['userName']}@${planned['logonTime'] ? Date.parse(planned['logonTime']) : ''}`).toBe(
                r.s ? `${r.s.domain ?? ''}\\${r.s.user ?? ''}@${r.s.logonTime ? Date.parse(r.s.logonTime) : ''}` : 'none',
              );
            }
            // Never protected, never the console, still selected.
            expect(r.s?.name).not.toBe('Console');
            expect(r.id).not.toBe(0);
            expect(matches(filter, r.s!)).not.toBe(false);
          }
        },
      ),
      { seed: 20261121, numRuns: 150 },
    );
  });

  test('HOLDS: a session the warning could not reach (5) is failed with the error and not logged off; the others are', async () => {
    const mock = createMockApi(farm([bob, amy]));
    mock.setFault('WF12', 'message', 3, 5);
    const { api, seen } = recording(mock);
    const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'failed', error: { code: 'E_WIN32', win32Code: 5 }, requests: ['WTSSendMessageW'] });
    expect(outcomeOf(out, 4)).toMatchObject({ status: 'loggedOff', requests: ['WTSSendMessageW', 'WTSLogoffSession'] });
    expect(ids(seen, 'logoff')).toEqual([4]);
  });

  test('HOLDS: the message is the warning (title defaults to "Logoff warning", box closes after the grace), and no logoff comes before the grace period is over', async () => {
    const mock = createMockApi(farm([bob, amy]));
    const { api, seen } = recording(mock);
    await createWts({ api }).logoffAll({ server: 'WF12', wait: false, warn: { text: 'Save now', graceSeconds: 0.15 } });
    const messages = seen.filter((s) => s.api === 'message');
    expect(messages.map((m) => [m.id, m.title, m.text, m.timeoutSeconds])).toEqual([
      [3, 'Logoff warning', 'Save now', 1],
      [4, 'Logoff warning', 'Save now', 1],
    ]);
    const lastWarning = Math.max(...messages.map((m) => m.at));
    for (const l of seen.filter((s) => s.api === 'logoff')) expect(l.at - lastWarning).toBeGreaterThanOrEqual(145);
  });

  test('HOLDS: a user who disconnects, or reconnects elsewhere, during the grace period (same logon, no filter) is still logged off; one who logs off and on again (same user) is not', async () => {
    const carl: FarmSession = { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'carl', domain: 'CORP', logonTime: '2026-01-01T00:02:00.000Z' };
    const mock = createMockApi(farm([bob, amy, carl]));
    let done = false;
    const { api, seen } = recording(mock, {
      sendMessage: async (h, id, m, o) => {
        const r = await mock.sendMessage(h, id, m, o);
        if (id === 5 && !done) {
          done = true;
          mock.putSession('WF12', { ...bob, state: 'Disconnected', name: '' }); // bob disconnects
          mock.putSession('WF12', { ...amy, name: 'RDP-Tcp#77' }); // amy reconnects from elsewhere
          mock.putSession('WF12', { ...carl, logonTime: '2026-01-01T09:00:00.000Z' }); // carl logs off and on
        }
        return r;
      },
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', wait: false, concurrency: 1, warn: { text: 'bye', graceSeconds: 0.02 } });
    void seen;
    expect(outcomeOf(out, 3).status).toBe('loggedOff');
    expect(outcomeOf(out, 4).status).toBe('loggedOff');
    expect(outcomeOf(out, 5)).toMatchObject({ status: 'skipped', reason: 'changed', requests: ['WTSSendMessageW'] });
  });

  test('HOLDS: the signal aborting during the grace period: nobody is logged off; each warned session is skipped (aborted) with its warning listed', async () => {
    const mock = createMockApi(farm([bob, amy]));
    const { api: recorded, seen } = recording(mock);
    // The grace period begins once both warnings have returned (one still in flight at the abort
    // is reported requested: the next test), so wait for their return, not for their start.
    const { api, answered } = countingAnswers(recorded);
    const controller = new AbortController();
    const run = createWts({ api }).logoffAll({ server: 'WF12', signal: controller.signal, warn: { text: 'bye', graceSeconds: 0.5 } });
    while (answered() < 2) await sleep(2);
    expect(ids(seen, 'message')).toEqual([3, 4]);
    controller.abort();
    const out = await run;
    await sleep(600); // nothing happens after the call returned either
    expect(ids(seen, 'logoff')).toEqual([]);
    for (const id of [3, 4]) expect(outcomeOf(out, id)).toMatchObject({ status: 'skipped', reason: 'aborted', requests: ['WTSSendMessageW'] });
  });

  test('HOLDS: the signal aborting while the warnings go out: the one in flight is requested (WTSSendMessageW), the ones not started skipped with no request, nobody logged off', async () => {
    const c3: FarmSession = { ...bob, id: 5, user: 'carl', name: 'RDP-Tcp#5' };
    const mock = createMockApi(farm([bob, amy, c3]));
    const controller = new AbortController();
    const { api, seen } = recording(mock, {
      sendMessage: async (h, id, m, o) => {
        if (id === 4) {
          controller.abort();
          await sleep(30);
        }
        return mock.sendMessage(h, id, m, o);
      },
    });
    const out = await createWts({ api }).logoffAll({ server: 'WF12', concurrency: 1, signal: controller.signal, warn: { text: 'bye', graceSeconds: 0 } });
    await sleep(60);
    void seen;
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'aborted', requests: ['WTSSendMessageW'] });
    expect(outcomeOf(out, 4)).toMatchObject({ status: 'requested', request: 'WTSSendMessageW', requests: ['WTSSendMessageW'] });
    expect(outcomeOf(out, 5)).toMatchObject({ status: 'skipped', reason: 'aborted', requests: [] });
    expect(mock.calls.filter((c) => c.api === 'message').map((c) => c.sessionId)).toEqual([3, 4]);
  });

  test('HOLDS: dryRun with warn sends nothing and shows each plan entry with its warn and identity', async () => {
    const mock = createMockApi(farm([bob, amy]));
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'bye', graceSeconds: 30 } });
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'wouldLogOff', warn: { text: 'bye', graceSeconds: 30 }, identity: { userName: 'bob', domain: 'CORP' }, requests: [] });
    expect(mock.calls.filter((c) => c.api === 'message' || c.api === 'logoff')).toEqual([]);
  });

  test('HOLDS: a JSON round-tripped plan applied with warn: only the planned logons are warned and logged off; a new logon is notInPlan, a reused ID changed (not warned)', async () => {
    const dry = await createWts({ api: createMockApi(farm([bob, amy])) }).logoffAll({ server: 'WF12', dryRun: true, warn: { text: 'bye', graceSeconds: 0 } });
    const plan = JSON.parse(JSON.stringify(dry)) as LogoffOutcome[];
    const mock = createMockApi(farm([{ ...bob, logonTime: '2026-01-01T05:00:00.000Z' }, amy, { id: 8, name: 'RDP-Tcp#8', state: 'Active', user: 'eve', domain: 'CORP', logonTime: '2026-01-01T06:00:00.000Z' }]));
    const { api, seen } = recording(mock);
    const out = await createWts({ api }).logoffAll({ server: 'WF12', plan, wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    expect(ids(seen, 'message')).toEqual([4]);
    expect(ids(seen, 'logoff')).toEqual([4]);
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'changed', requests: [] });
    expect(outcomeOf(out, 8)).toMatchObject({ status: 'skipped', reason: 'notInPlan', requests: [] });
  });

  test('HOLDS: bad warn options are typed errors and nothing at all is called (one server and many)', async () => {
    const bad: unknown[] = [
      null,
      'bye',
      [],
      {},
      { text: '' },
      { text: '   ' },
      { text: 'x'.repeat(8001) },
      { text: 'bye', title: '' },
      { text: 'bye', title: 5 },
      { text: 'bye', graceSeconds: -1 },
      { text: 'bye', graceSeconds: 86_400.5 },
      { text: 'bye', graceSeconds: Number.NaN },
      { text: 'bye', graceSeconds: Infinity },
      { text: 'bye', graceSeconds: '60' },
      { text: 'bye', grace: 60 },
      { text: 'bye', buttons: 'OK' },
    ];
    for (const warn of bad) {
      for (const where of [{ server: 'WF12' }, { servers: ['WF12', 'TS01'] }]) {
        const mock = createMockApi(farm([bob]));
        let error: Any | undefined;
        try {
          await createWts({ api: mock }).logoffAll({ ...where, warn } as never);
        } catch (e) {
          error = e as Any;
        }
        expect({ warn, code: error?.['code'], calls: mock.calls.map((c) => c.api) }).toEqual({ warn, code: 'E_INVALID_ARGUMENT', calls: [] });
      }
    }
  });

  test('HOLDS: many servers with warn: each server warns then logs off its own chosen sessions; the dead server is in failures; requests list the warning first', async () => {
    const mock = createMockApi(exampleFarm());
    const { api, seen } = recording(mock);
    const r = (await createWts({ api }).logoffAll({ servers: ['TS01', 'WF12', 'WF13'], wait: false, serverConcurrency: 2, warn: { text: 'bye', graceSeconds: 0.02 } })) as FarmResult<LogoffOutcome>;
    expect(r.failures.map((f) => f.server)).toEqual(['WF13']);
    const msgs = seen.filter((s) => s.api === 'message').map((s) => `${s.server}:${s.id}`).sort();
    expect(msgs).toEqual(['TS01:3', 'TS01:4', 'TS01:5', 'TS01:6', 'TS01:7', 'WF12:2', 'WF12:3']);
    for (const l of seen.filter((s) => s.api === 'logoff')) expect(msgs).toContain(`${l.server}:${l.id}`);
    for (const o of r.results) if (o.requests.includes('WTSLogoffSession')) expect(o.requests[0]).toBe('WTSSendMessageW');
    expect(outcomeOf(r.results, 5, '')).toMatchObject({ status: 'failed', requests: ['WTSSendMessageW', 'WTSLogoffSession'] });
  });

  test('HOLDS: a server that times out (serverTimeoutMs) during its grace period: its warned sessions skipped (timeout) with the warning listed, never logged off; the other server finishes', async () => {
    const mock = createMockApi(exampleFarm());
    mock.setLatency('WF12', 30);
    const { api, seen } = recording(mock);
    const r = (await createWts({ api }).logoffAll({ servers: ['TS01', 'WF12'], wait: false, serverTimeoutMs: 60, warn: { text: 'bye', graceSeconds: 0.3 } })) as FarmResult<LogoffOutcome>;
    await sleep(400);
    expect(r.failures.map((f) => [f.server, f.error.code])).toEqual([['WF12', 'E_SERVER_TIMEOUT']]);
    expect(seen.filter((s) => s.api === 'logoff' && s.server === 'WF12')).toEqual([]);
    const wf12 = r.results.filter((o) => o.session.server === 'WF12');
    // Warned ones (2, 3) skipped with the warning listed; anything still in flight is 'requested'.
    for (const id of [2, 3]) {
      const o = outcomeOf(wf12, id);
      const sent = seen.some((s) => s.api === 'message' && s.server === 'WF12' && s.id === id);
      if (o.status === 'skipped') expect({ id, reason: o.reason, requests: o.requests }).toEqual({ id, reason: 'timeout', requests: sent ? ['WTSSendMessageW'] : [] });
      else expect(o).toMatchObject({ status: 'requested', request: 'WTSSendMessageW' });
    }
    expect(r.results.filter((o) => o.session.server === '' && o.status === 'loggedOff').length).toBe(4);
  });

  test('HOLDS: the console, Services, listeners and your own session are neither warned nor logged off (local server, every name)', async () => {
    const mock = createMockApi(exampleFarm());
    const { api, seen } = recording(mock);
    await createWts({ api }).logoffAll({ servers: ['TS01', 'localhost', 'TS01.corp.example.com'], wait: false, warn: { text: 'bye', graceSeconds: 0 } });
    for (const s of seen) expect([0, 1, 2, 65536]).not.toContain(s.id);
    expect(ids(seen, 'message').sort()).toEqual([3, 4, 5, 6, 7]);
  });
});

// The farm type is used by the fixtures' farm(); keep the import meaningful for readers.
export type { Farm };
