/**
 * Regression tests for issue 10: what is confirmed is what is acted on, protected sessions stay
 * protected for every caller, bad input makes no call, nothing done goes unreported.
 * The property-based suite (test/safety/) hunts for counterexamples; these pin each reported case.
 */
import { InvalidArgumentError } from '../../src/index';
import type { Farm, FarmSession } from '../../src/mock';
import type { LogoffOutcome } from '../../src/index';
import { exampleFarm, logoffCalls, rejection, setup, wtsCalls } from '../helpers';

const byId = (outcomes: readonly LogoffOutcome[]) =>
  Object.fromEntries(outcomes.map((o) => [o.session.id, o.status === 'skipped' ? `skipped:${o.reason}` : o.status]));

function farmWith(sessions: FarmSession[], server: Partial<Farm['servers'][number]> = {}): Farm {
  return {
    localServer: 'TS01',
    servers: [{ name: 'TS01', consoleSessionId: 1, currentSessionId: 2, ...server, sessions }],
  };
}

const base: FarmSession[] = [
  { id: 0, name: 'Services', state: 'Disconnected' },
  { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP', logonTime: '2026-11-20T07:00:00Z' },
  { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me', domain: 'CORP', logonTime: '2026-11-21T07:00:00Z' },
  { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: '2026-11-18T13:00:00Z' },
  { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
];

describe('a plan is what gets acted on', () => {
  test('a session that appears after the dry run is not in the plan and is left alone', async () => {
    const { mock, wts } = setup(farmWith(base));
    const plan = await wts.logoffAll({ dryRun: true });
    expect(byId(plan)).toMatchObject({ 3: 'wouldLogOff', 4: 'wouldLogOff' });
    mock.putSession('TS01', { id: 9, name: 'RDP-Tcp#5', state: 'Active', user: 'newcomer', domain: 'CORP', logonTime: '2026-11-21T10:00:00Z' });
    const outcomes = await wts.logoffAll({ plan, pollIntervalMs: 1 });
    expect(byId(outcomes)).toMatchObject({ 3: 'loggedOff', 4: 'loggedOff', 9: 'skipped:notInPlan' });
    expect(logoffCalls(mock).sort()).toEqual([3, 4]);
  });

  test('an ID reused by the same user (a new logon) is not logged off', async () => {
    const { mock, wts } = setup(farmWith(base));
    const plan = await wts.logoffAll({ dryRun: true });
    mock.putSession('TS01', { id: 3, name: 'RDP-Tcp#7', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T11:00:00Z' });
    const outcomes = await wts.logoffAll({ plan, pollIntervalMs: 1 });
    expect(byId(outcomes)[3]).toBe('skipped:changed');
    expect(logoffCalls(mock)).toEqual([4]);
  });

  test('an ID reused by another user whose long name shares the first 20 characters is not logged off', async () => {
    const long = 'svc-reporting-nightly-a';
    const other = 'svc-reporting-nightly-b';
    expect(long.slice(0, 20)).toBe(other.slice(0, 20));
    const t = '2026-11-21T09:00:00Z';
    const { mock, wts } = setup(farmWith([...base, { id: 5, name: '', state: 'Disconnected', user: long, domain: 'CORP', logonTime: t }]));
    const plan = await wts.logoffAll({ dryRun: true, user: 'svc-*' });
    // Same logon time too: only the full name tells them apart.
    mock.putSession('TS01', { id: 5, name: '', state: 'Disconnected', user: other, domain: 'CORP', logonTime: t });
    const outcomes = await wts.logoffAll({ plan, pollIntervalMs: 1 });
    expect(byId(outcomes)[5]).toBe('skipped:changed');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('a long domain name that fills WTSINFOW is compared in full', async () => {
    const t = '2026-11-21T09:00:00Z';
    const { mock, wts } = setup(farmWith([...base, { id: 5, name: '', state: 'Disconnected', user: 'x', domain: 'ENGINEERING-EUROPE-1', logonTime: t }]));
    const plan = await wts.logoffAll({ dryRun: true, user: 'x' });
    mock.putSession('TS01', { id: 5, name: '', state: 'Disconnected', user: 'x', domain: 'ENGINEERING-EUROPE-2', logonTime: t });
    expect(byId(await wts.logoffAll({ plan }))[5]).toBe('skipped:changed');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('a planned session that ended is reported gone; one that disconnected meanwhile is still logged off', async () => {
    const { mock, wts } = setup(farmWith(base));
    const plan = await wts.logoffAll({ dryRun: true });
    await mock.logoffSession(0n as never, 3); // ends by itself
    await mock.enumerateSessions(0n as never); // (one poll: closingPolls 1)
    await mock.enumerateSessions(0n as never);
    await mock.disconnectSession(0n as never, 4); // carol disconnects: same logon, new WinStation name
    mock.resetCalls();
    const outcomes = await wts.logoffAll({ plan, pollIntervalMs: 1 });
    expect(outcomes.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'gone' });
    expect(byId(outcomes)[4]).toBe('loggedOff');
    expect(logoffCalls(mock)).toEqual([4]);
  });

  test('a plan survives a JSON round trip (a program can show it and apply it later)', async () => {
    const { mock, wts } = setup(farmWith(base));
    const plan = JSON.parse(JSON.stringify(await wts.logoffAll({ dryRun: true, state: 'Disconnected' })));
    const outcomes = await wts.logoffAll({ plan, pollIntervalMs: 1 });
    expect(byId(outcomes)).toMatchObject({ 3: 'loggedOff', 4: 'skipped:notInPlan' });
    expect(logoffCalls(mock)).toEqual([3]);
  });

  test('filters still narrow a plan (a user who came back is not logged off as idle)', async () => {
    const farm = farmWith([{ ...base[3]!, state: 'Active', name: 'RDP-Tcp#4', lastInputTime: '2026-11-01T00:00:00Z' }, base[2]!]);
    const { mock, wts } = setup(farm);
    const plan = await wts.logoffAll({ dryRun: true, idleLongerThan: '2h' });
    expect(byId(plan)[3]).toBe('wouldLogOff');
    mock.putSession('TS01', { ...farm.servers[0]!.sessions![0]!, lastInputTime: new Date().toISOString() });
    expect(byId(await wts.logoffAll({ plan, idleLongerThan: '2h' }))[3]).toBe('skipped:filtered');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('a plan over many servers is applied per server', async () => {
    const { mock, wts } = setup();
    const plan = await wts.logoffAll({ servers: ['TS01', 'WF12'], dryRun: true, state: 'Disconnected' });
    mock.putSession('WF12', { id: 7, name: '', state: 'Disconnected', user: 'late', domain: 'CORP' });
    const result = await wts.logoffAll({ servers: ['TS01', 'WF12'], plan, state: 'Disconnected', pollIntervalMs: 1 });
    expect(result.results.find((o) => o.session.server === 'WF12' && o.session.id === 7)).toMatchObject({ reason: 'notInPlan' });
    expect(mock.calls.filter((c) => c.api === 'logoff').map((c) => `${c.server}:${c.sessionId}`).sort()).toEqual(['TS01:3', 'TS01:6', 'WF12:3']);
  });

  test.each([
    ['a plan of another operation', async (w: ReturnType<typeof setup>['wts']) => ({ plan: await w.disconnectAll({ dryRun: true }) })],
    ['a plan and dryRun together', async (w: ReturnType<typeof setup>['wts']) => ({ plan: await w.logoffAll({ dryRun: true }), dryRun: true })],
    ['a plan for a server the call does not work on', async (w: ReturnType<typeof setup>['wts']) => ({ plan: (await w.logoffAll({ dryRun: true, server: 'WF12' })) })],
    ['a plan without identities', async () => ({ plan: [{ status: 'wouldLogOff', session: { id: 3, server: '', name: '', state: 'Active', userName: 'bob', domain: 'CORP' } }] })],
    ['a plan that names a session twice', async (w: ReturnType<typeof setup>['wts']) => {
      const p = await w.logoffAll({ dryRun: true });
      return { plan: [...p, ...p] };
    }],
    ['a plan that is not a list', async () => ({ plan: 'everything' })],
  ])('%s is an invalid argument and makes no call', async (_name, make) => {
    const { mock, wts } = setup();
    const options = await make(wts);
    mock.resetCalls();
    const error = await rejection(wts.logoffAll(options as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('a warned session whose ID is reused during the grace period is not logged off', async () => {
    // The reuse lands right after the warning was sent (not at a fixed time, which a loaded
    // machine could reach before the identity was even read).
    const { mock, wts } = setup(farmWith(base), {
      onCall: (c) => {
        if (c.api === 'message' && c.sessionId === 3) {
          setImmediate(() => mock.putSession('TS01', { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T12:00:00Z' }));
        }
      },
    });
    const outcomes = await wts.logoffAll({ state: 'Disconnected', warn: { text: 'bye', graceSeconds: 0.05 }, pollIntervalMs: 1 });
    expect(outcomes.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'changed', requests: ['WTSSendMessageW'] });
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('a plan for the local server applied to a remote one is reported, not silently dropped', async () => {
    const { mock, wts } = setup();
    const plan = await wts.logoffAll({ dryRun: true, state: 'Disconnected' });
    const result = await wts.logoffAll({ servers: ['WF12'], plan });
    expect(result.failures.map((f) => f.error.code)).toContain('E_INVALID_ARGUMENT');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('aborting the wait after a logoff was accepted says the logoff was sent', async () => {
    const { wts } = setup(farmWith(base), { closingPolls: 1_000_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(wts.logoff(3, { signal: controller.signal, pollIntervalMs: 5 }));
    expect(error).toMatchObject({ code: 'E_ABORTED', requests: ['WTSLogoffSession'] });
    expect(error.message).toMatch(/WTSLogoffSession had already been sent/);
  });
});

describe('session 0 is never acted on, whoever asks', () => {
  const inServices = () => setup(farmWith(base, { currentSessionId: 0 }));

  test.each([
    ['logoff()', (w: ReturnType<typeof setup>['wts']) => w.logoff()],
    ['logoff(0)', (w: ReturnType<typeof setup>['wts']) => w.logoff(0)],
    ["logoff('Services')", (w: ReturnType<typeof setup>['wts']) => w.logoff('Services')],
    ['disconnect()', (w: ReturnType<typeof setup>['wts']) => w.disconnect()],
    ['disconnect(0)', (w: ReturnType<typeof setup>['wts']) => w.disconnect(0)],
    ['sendMessage()', (w: ReturnType<typeof setup>['wts']) => w.sendMessage(undefined, { text: 'hi' })],
    ['sendMessage(0)', (w: ReturnType<typeof setup>['wts']) => w.sendMessage(0, { text: 'hi' })],
  ])('%s from a caller in session 0 is refused with no action call', async (_name, call) => {
    const { mock, wts } = inServices();
    const error = await rejection(call(wts));
    expect(error['code']).toMatch(/^E_(SERVICES|NOT_ACTIVE)$/);
    expect(mock.calls.filter((c) => ['logoff', 'disconnect', 'message'].includes(c.api))).toEqual([]);
  });

  test('bulk calls from session 0 leave session 0 alone', async () => {
    const { mock, wts } = inServices();
    const outcomes = await wts.logoffAll({ pollIntervalMs: 1 });
    expect(outcomes.find((o) => o.session.id === 0)).toMatchObject({ status: 'skipped' });
    expect(logoffCalls(mock)).not.toContain(0);
    await wts.sendMessageAll({ text: 'hi' });
    await wts.disconnectAll({ pollIntervalMs: 1 });
    expect(mock.calls.filter((c) => c.sessionId === 0 && ['logoff', 'disconnect', 'message'].includes(c.api))).toEqual([]);
  });

  test('disconnect refuses the console (by ID and by name) unless it is your own session', async () => {
    const { mock, wts } = setup(farmWith(base));
    expect((await rejection(wts.disconnect(1)))['code']).toBe('E_CONSOLE');
    expect((await rejection(wts.disconnect('Console')))['code']).toBe('E_CONSOLE');
    expect(mock.calls.filter((c) => c.api === 'disconnect')).toEqual([]);
    const own = setup(farmWith(base, { currentSessionId: 1 }));
    await own.wts.disconnect(undefined, { pollIntervalMs: 1 });
    expect(own.mock.calls.filter((c) => c.api === 'disconnect').map((c) => c.sessionId)).toEqual([1]);
  });

  test('your own session, when it is the console and not 0, may be logged off', async () => {
    const { mock, wts } = setup(farmWith(base, { currentSessionId: 1 }));
    await wts.logoff(undefined, { pollIntervalMs: 1 });
    expect(logoffCalls(mock)).toEqual([1]);
  });
});

describe('bad input makes no call', () => {
  test.each([
    ['a prototype property', () => Object.create({ dryRun: true, user: 'carol' }) as object],
    ['a class getter', () => new (class { get dryRun() { return true; } })()],
    ['an inherited plan', () => Object.create({ plan: [] }) as object],
    ['a non-enumerable option', () => Object.defineProperty({ user: 'carol' }, 'dryRun', { value: true })],
  ])('an options object with %s is refused, not half-read (it must not run for real)', async (_name, make) => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoffAll(make() as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(mock.calls).toEqual([]);
  });

  test.each([
    ['servers', { servers: new Proxy(['TS01'], { get: (t, k) => { if (k === '0') throw new Error('trap'); return Reflect.get(t, k); } }) }],
    ['state', { state: new Proxy(['Active'], { get: (t, k) => { if (k === '0') throw new Error('trap'); return Reflect.get(t, k); } }) }],
    ['plan', { plan: new Proxy([], { get: (t, k) => { if (k === 'length') throw new Error('trap'); return Reflect.get(t, k); } }) }],
    ['a revoked proxy as options', (() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; })()],
    ['a fake AbortSignal', { signal: Object.create(AbortSignal.prototype) as AbortSignal }],
  ])('%s that throws when read is an InvalidArgumentError, with no call', async (_name, options) => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoffAll(options as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(mock.calls).toEqual([]);
  });

  test('an option getter that throws is an InvalidArgumentError, and no call is made', async () => {
    const { mock, wts } = setup();
    const options = { get dryRun(): boolean { throw new Error('boom'); } };
    const error = await rejection(wts.logoffAll(options));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error['argument']).toBe('options.dryRun');
    expect(wtsCalls(mock)).toEqual([]);
  });

  test('a getter is read once: it cannot pass the check with one value and act with another', async () => {
    const { mock, wts } = setup();
    let reads = 0;
    const options = { pollIntervalMs: 1, get server(): string { reads++; return reads === 1 ? 'WF12' : 'TS01'; } };
    await wts.logoff(3, options).catch(() => undefined);
    expect(reads).toBe(1);
    expect(mock.calls.filter((c) => c.api === 'logoff').map((c) => c.server)).toEqual(['WF12']);
  });

  test.each([[['']], [[' ', '  ']], [[]]])('servers: %j is an invalid argument', async (servers) => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoffAll({ servers } as never))).toBeInstanceOf(InvalidArgumentError);
    expect(wtsCalls(mock)).toEqual([]);
  });
});

describe('nothing done goes unreported', () => {
  test('a server that times out part-way reports every logoff it sent, and an outcome for every session', async () => {
    const sessions: FarmSession[] = [{ id: 0, name: 'Services', state: 'Disconnected' }];
    for (let id = 10; id < 40; id++) sessions.push({ id, name: '', state: 'Disconnected', user: `u${id}`, domain: 'CORP', logonTime: '2026-11-21T00:00:00Z' });
    const farm: Farm = {
      localServer: 'TS01',
      servers: [
        { name: 'TS01', currentSessionId: 2, sessions: [] },
        { name: 'SLOW', latencyMs: 5, sessions },
      ],
    };
    const { mock, wts } = setup(farm);
    const result = await wts.logoffAll({ servers: ['SLOW'], serverTimeoutMs: 250, concurrency: 1, wait: false });
    expect(result.failures.map((f) => f.error.code)).toEqual(['E_SERVER_TIMEOUT']);
    const sent = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(30);
    // Every session listed has exactly one outcome...
    expect(result.results.map((o) => o.session.id).sort((a, b) => a - b)).toEqual(sessions.map((s) => s.id));
    // ...and every request sent is in one of them.
    const reported = result.results.filter((o) => o.requests.includes('WTSLogoffSession')).map((o) => o.session.id);
    expect(reported.sort()).toEqual([...sent].sort());
    expect(result.results.filter((o) => o.status === 'skipped' && o.reason === 'timeout').length).toBe(30 - sent.length);
  });

  test('a warned run cut short right after a re-check sends no warning it does not report', async () => {
    const controller = new AbortController();
    let queries = 0;
    const { mock, wts } = setup(farmWith(base), {
      onCall: (c) => {
        // The second identity read of session 4 is the re-check right before its warning.
        if (c.api === 'query' && c.sessionId === 4 && ++queries === 2) controller.abort();
      },
    });
    const outcomes = await wts.logoffAll({ user: 'carol', warn: { text: 'bye', graceSeconds: 0 }, signal: controller.signal });
    const sent = mock.calls.filter((c) => c.api === 'message').map((c) => c.sessionId);
    const reported = outcomes.filter((o) => o.requests.includes('WTSSendMessageW')).map((o) => o.session.id);
    expect(reported).toEqual(sent);
  });

  test.each([
    ['throws a null-prototype object', () => { throw Object.create(null); }],
    ['returns a rejected promise', async () => { throw new Error('ipc failed'); }],
  ])('an onEvent that %s never changes an outcome nor loses the result', async (_name, onEvent) => {
    const quiet = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { mock, wts } = setup();
      const result = await wts.logoffAll({ servers: ['WF12', 'TS01', 'WF13'], user: 'carol', serverConcurrency: 1, pollIntervalMs: 1, onEvent: onEvent as never });
      await new Promise((r) => setImmediate(r));
      expect(result.results.find((o) => o.session.id === 4 && o.session.server === '')).toMatchObject({ status: 'loggedOff' });
      expect(result.failures.map((f) => f.server)).toEqual(['WF13']);
      expect(logoffCalls(mock)).toEqual([4]);
    } finally {
      quiet.mockRestore();
    }
  });

  test('a session that becomes the console after it was chosen is not logged off or disconnected', async () => {
    for (const op of ['logoffAll', 'disconnectAll'] as const) {
      let moved = false;
      const { mock, wts } = setup(farmWith(base), {
        onCall: (c) => {
          // After the enumeration, carol reconnects at the console: same logon, WinStation Console.
          if (c.api === 'enumerate' && !moved) {
            moved = true;
            setImmediate(() => mock.putSession('TS01', { ...base[4]!, name: 'Console' }));
          }
        },
      });
      const outcomes = await wts[op]({ user: 'carol', pollIntervalMs: 1 });
      expect(outcomes.find((o) => o.session.id === 4)).toMatchObject({ status: 'skipped', reason: 'console' });
      expect(mock.calls.filter((c) => c.api === 'logoff' || c.api === 'disconnect')).toEqual([]);
    }
  });

  test('a planned session with no user is not matched by another connection on its reused ID', async () => {
    const { mock, wts } = setup(farmWith([...base, { id: 8, name: 'RDP-Tcp#8', state: 'Connected' }]));
    const plan = await wts.logoffAll({ dryRun: true, state: 'Connected' });
    expect(plan.find((o) => o.session.id === 8)?.status).toBe('wouldLogOff');
    mock.putSession('TS01', { id: 8, name: 'RDP-Tcp#12', state: 'Connected' });
    expect(byId(await wts.logoffAll({ plan, state: 'Connected' }))[8]).toBe('skipped:changed');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test.each([
    ['logoff', 'WTSLogoffSession'],
    ['disconnect', 'WTSDisconnectSession'],
  ] as const)('%s(id) whose wait fails after the request was accepted says the request was sent', async (op, request) => {
    const { mock, wts } = setup(farmWith(base), {
      onCall: (c) => {
        if (c.api === op) mock.setFault('TS01', 'query', '*', 1722);
      },
    });
    const error = await rejection(wts[op](4, { pollIntervalMs: 1 }));
    expect(error['code']).toBe('E_WIN32');
    expect(error['requests']).toEqual([request]);
    expect(error.message).toMatch(new RegExp(`${request} was sent and accepted`));
  });

  test('closing a server object waits for a call cut short by an abort, and no call uses the closed handle', async () => {
    const at: Record<string, number> = {};
    const controller = new AbortController();
    const { mock, wts } = setup(exampleFarm(), {
      onCall: (c) => {
        at[c.api] ??= Date.now();
        // Abort while WTSEnumerateSessionsExW (60 ms) is in flight.
        if (c.api === 'enumerate') setTimeout(() => controller.abort(), 20);
      },
    });
    mock.setLatency('WF12', 60);
    const server = wts.openServer('WF12');
    await server.logoffAll({ concurrency: 1, signal: controller.signal }).catch(() => undefined);
    await server.close();
    // The enumeration took 60 ms: WTSCloseServer came only once it had returned.
    expect(at['close']! - at['enumerate']!).toBeGreaterThanOrEqual(55);
    const closeAt = mock.calls.findIndex((c) => c.api === 'close');
    await new Promise((r) => setTimeout(r, 100));
    expect(mock.calls.slice(closeAt + 1)).toEqual([]);
  });

  test('a throwing onEvent never changes an outcome', async () => {
    const quiet = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const plain = await setup().wts.logoffAll({ servers: ['TS01'], state: 'Disconnected', pollIntervalMs: 1 });
      const { wts } = setup();
      const thrown = await wts.logoffAll({
        servers: ['TS01'],
        state: 'Disconnected',
        pollIntervalMs: 1,
        onEvent: () => {
          throw new Error('UI bug');
        },
      });
      expect(thrown.results.map((o) => o.status)).toEqual(plain.results.map((o) => o.status));
      expect(thrown.failures).toEqual([]);
      expect(quiet).toHaveBeenCalled();
    } finally {
      quiet.mockRestore();
    }
  });

  test('listSessions({ details }) survives a session that ends before its details are read', async () => {
    const { mock, wts } = setup();
    mock.setFault('TS01', 'query', 4, 7022);
    const sessions = await wts.listSessions({ details: true });
    expect(sessions.find((s) => s.id === 4)?.details).toEqual({ gone: true });
    expect(sessions.find((s) => s.id === 3)?.details.clientName).toBe('DESK-3');
  });

  test('logoff(id) whose ID is reused while it waits reports the session gone, not a timeout', async () => {
    const farm = farmWith(base);
    let reused = false;
    const { mock, wts } = setup(farm, {
      closingPolls: 1_000_000,
      onCall: (call) => {
        if (call.api === 'logoff' && !reused) {
          reused = true;
          setImmediate(() => mock.putSession('TS01', { id: 3, name: 'RDP-Tcp#9', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T12:00:00Z' }));
        }
      },
    });
    const outcome = await wts.logoff(3, { pollIntervalMs: 1, timeoutMs: 2000 });
    expect(outcome).toMatchObject({ status: 'loggedOff', confirmed: true });
  });

  test('an abort during a farm call reports what was sent on every server', async () => {
    const { mock, wts } = setup();
    mock.setLatency('TS01', 15);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 60);
    const result = await wts.logoffAll({ servers: ['TS01'], signal: controller.signal, concurrency: 1, pollIntervalMs: 1 });
    const sent = mock.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId);
    const reported = result.results.filter((o) => o.requests.includes('WTSLogoffSession')).map((o) => o.session.id);
    expect(reported.sort()).toEqual([...sent].sort());
    expect(result.failures.map((f) => f.error.code)).toEqual(['E_ABORTED']);
  });
});
