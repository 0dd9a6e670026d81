/**
 * watchSessions on the mock: each event, identity and ID reuse, reconcile, the polling fallback,
 * failing servers, many servers, and that ending the watch leaves no handle open and no wait
 * pending. Every wait here is for an event; the only timers are the watcher's own.
 */
import fc from 'fast-check';
import { createWts, InvalidArgumentError, type Session, type SessionEvent, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type MockApi } from '../../src/mock';
import { WtsEvent } from '../../src/wtsapi';
import { exampleFarm, nextEvent, rejection, setup, waitFor } from '../helpers';

type Iter = AsyncIterator<SessionEvent>;

const next = (it: Iter, ms?: number) => nextEvent(it, ms);

/** Starts a watch and waits for its first listing (the snapshot), so changes after it are events. */
async function started(wts: ReturnType<typeof createWts>, options: Record<string, unknown> = {}): Promise<Iter> {
  const it = wts.watchSessions({ initial: true, ...options })[Symbol.asyncIterator]();
  const first = await next(it);
  expect(first.type).toBe('snapshot');
  return it;
}

/** Records, at each WTSCloseServer, how many waits were still pending (must be 0). */
/**
 * Until the watch has a wait pending on each of `servers` and has listed each (its baseline): a
 * change made earlier can land in the first listing, and is then rightly no event. The watcher
 * arms its wait, then lists; the mock logs a call when it is made and reads the farm a turn later.
 */
async function listening(mock: MockApi, servers: readonly string[]): Promise<void> {
  await waitFor(() => mock.pendingWaitCount === servers.length && servers.every((s) => mock.calls.some((c) => c.api === 'enumerate' && c.server.toLowerCase() === s.toLowerCase())));
  await new Promise((resolve) => setTimeout(resolve, 20));
}

function closeAudit(): { options: { onCall: (c: { api: string; server: string }) => void }; pendingAtClose: number[]; attach(m: MockApi): void } {
  let mock: MockApi | undefined;
  const pendingAtClose: number[] = [];
  return {
    options: { onCall: (c) => c.api === 'close' && pendingAtClose.push(mock?.pendingWaitsOn(c.server) ?? -1) },
    pendingAtClose,
    attach: (m) => (mock = m),
  };
}

describe('events', () => {
  test('logoff, logon, create, delete: one event each, with the session and before', async () => {
    const { mock, wts } = setup();
    const it = await started(wts);
    mock.removeSession('TS01', 3);
    const logoff = await next(it);
    expect(logoff).toMatchObject({ type: 'logoff', server: '', gone: true, session: { id: 3, userName: 'bob' }, before: { id: 3, userName: 'bob' } });
    expect(logoff.type !== 'serverError' && logoff.at).toBeInstanceOf(Date);

    mock.putSession('TS01', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'zoe', domain: 'CORP' });
    const logon = await next(it);
    expect(logon).toMatchObject({ type: 'logon', session: { id: 9, userName: 'zoe', state: 'Active' } });
    expect('before' in logon).toBe(false);

    mock.putSession('TS01', { id: 10, name: 'RDP-Tcp#10', state: 'Connected' });
    expect(await next(it)).toMatchObject({ type: 'create', session: { id: 10, userName: '' } });
    mock.removeSession('TS01', 10);
    expect(await next(it)).toMatchObject({ type: 'delete', gone: true, session: { id: 10 } });
    await it.return?.();
  });

  test('disconnect, connect, rename, stateChange', async () => {
    const { mock, wts } = setup();
    const it = await started(wts);
    await wts.disconnect(4);
    expect(await next(it)).toMatchObject({ type: 'disconnect', session: { id: 4, state: 'Disconnected', name: '' }, before: { state: 'Active', name: 'RDP-Tcp#1' } });
    mock.putSession('TS01', { ...mock.getSession('TS01', 4)!, state: 'Active', name: 'RDP-Tcp#4' });
    expect(await next(it)).toMatchObject({ type: 'connect', session: { id: 4, state: 'Active', name: 'RDP-Tcp#4' }, before: { state: 'Disconnected' } });
    mock.putSession('TS01', { ...mock.getSession('TS01', 4)!, name: 'RDP-Tcp#5' });
    expect(await next(it)).toMatchObject({ type: 'rename', session: { id: 4, name: 'RDP-Tcp#5' }, before: { name: 'RDP-Tcp#4' } });
    mock.putSession('TS01', { ...mock.getSession('TS01', 4)!, state: 'Idle' });
    expect(await next(it)).toMatchObject({ type: 'stateChange', session: { id: 4, state: 'Idle' }, before: { state: 'Active' } });
    await it.return?.();
  });

  test('a reused ID is logoff of the old logon and logon of the new; with no user, delete and create', async () => {
    const { mock, wts } = setup();
    const it = await started(wts);
    mock.putSession('TS01', { id: 3, name: 'RDP-Tcp#7', state: 'Active', user: 'zed', domain: 'CORP' });
    expect(await next(it)).toMatchObject({ type: 'logoff', gone: true, session: { id: 3, userName: 'bob' } });
    expect(await next(it)).toMatchObject({ type: 'logon', session: { id: 3, userName: 'zed' } });
    mock.putSession('TS01', { id: 20, name: 'RDP-Tcp#20', state: 'Connected' });
    await next(it);
    mock.putSession('TS01', { id: 20, name: 'RDP-Tcp#21', state: 'Connected' });
    expect(await next(it)).toMatchObject({ type: 'delete', session: { id: 20, name: 'RDP-Tcp#20' } });
    expect(await next(it)).toMatchObject({ type: 'create', session: { id: 20, name: 'RDP-Tcp#21' } });
    await it.return?.();
  });

  test('with details: times, the same user logging on again on the same ID is a new logon (logon time)', async () => {
    const { mock, wts } = setup();
    const it = wts.watchSessions({ details: ['times'], initial: true })[Symbol.asyncIterator]() as Iter;
    await next(it);
    mock.putSession('TS01', { ...mock.getSession('TS01', 4)!, logonTime: '2026-11-21T10:00:00Z' });
    const logoff = await next(it);
    expect(logoff).toMatchObject({ type: 'logoff', session: { id: 4, userName: 'carol' } });
    const logon = await next(it);
    expect(logon).toMatchObject({ type: 'logon', session: { id: 4, userName: 'carol', details: { logonTime: new Date('2026-11-21T10:00:00Z') } } });
    await it.return?.();
  });

  test('a user leaving a session that stays is logoff with the session now; a user logging on to one is logon', async () => {
    const { mock, wts } = setup();
    const it = await started(wts);
    mock.putSession('TS01', { id: 5, name: 'RDP-Tcp#2', state: 'Connected' });
    const off = await next(it);
    expect(off).toMatchObject({ type: 'logoff', session: { id: 5, userName: '' }, before: { userName: 'dave' } });
    expect('gone' in off).toBe(false);
    mock.putSession('TS01', { id: 5, name: 'RDP-Tcp#2', state: 'Active', user: 'dave', domain: 'CORP' });
    expect(await next(it)).toMatchObject({ type: 'logon', session: { id: 5, userName: 'dave' }, before: { userName: '' } });
    await it.return?.();
  });

  test('no events for the sessions there at the start unless initial: true; `events` filters', async () => {
    const { mock, wts } = setup();
    const it = wts.watchSessions({ events: ['logon'] })[Symbol.asyncIterator]();
    const first = it.next();
    // Not an event: filtered out. The logon after it is the first event the watch yields.
    await new Promise((r) => setImmediate(r));
    await waitFor(() => mock.pendingWaitCount === 1);
    mock.removeSession('TS01', 3);
    await waitFor(() => mock.calls.filter((c) => c.api === 'enumerate').length >= 2 && mock.pendingWaitCount === 1);
    mock.putSession('TS01', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'zoe' });
    expect((await first).value).toMatchObject({ type: 'logon', session: { id: 9 } });
    await it.return?.();
  });
});

/** A backend: the mock, with `waitSystemEvent` replaced or removed. */
function withWait(mock: MockApi, wait: WtsApi['waitSystemEvent'] | undefined, flush = true): WtsApi {
  const api: Record<string, unknown> = {};
  for (const key of ['name', 'openServer', 'closeServer', 'enumerateSessions', 'enumerateProcesses', 'querySessionInformation', 'logoffSession', 'disconnectSession', 'sendMessage', 'getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'getLocalServerNames'] as const) {
    const v = (mock as unknown as Record<string, unknown>)[key];
    api[key] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(mock) : v;
  }
  if (wait) api['waitSystemEvent'] = wait;
  if (wait && flush) api['flushSystemEvents'] = mock.flushSystemEvents.bind(mock);
  return api as unknown as WtsApi;
}

describe('reconcile and polling', () => {
  test('reconcile finds a change no wait reported', async () => {
    const { mock } = setup();
    // A wait that only a flush ends: changes never wake it, as for events between two waits.
    const deaf: WtsApi['waitSystemEvent'] = (h, mask, o) => mock.waitSystemEvent(h, mask & ~WtsEvent.All, o);
    const wts = createWts({ api: withWait(mock, deaf) });
    const it = await started(wts, { reconcileMs: 50 });
    mock.removeSession('TS01', 3);
    expect(await next(it)).toMatchObject({ type: 'logoff', session: { id: 3 } });
    await it.return?.();
    expect(mock.pendingWaitCount).toBe(0);
  });

  test('a backend without waitSystemEvent is polled every pollMs', async () => {
    const { mock } = setup();
    const wts = createWts({ api: withWait(mock, undefined) });
    const it = await started(wts, { pollMs: 30 });
    const t0 = Date.now();
    mock.removeSession('TS01', 3);
    expect(await next(it)).toMatchObject({ type: 'logoff' });
    const enumerations = mock.calls.filter((c) => c.api === 'enumerate').length;
    // About one enumeration per 30 ms: not a spin.
    expect(enumerations).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - t0) / 30) + 1);
    await it.return?.();
  });

  test('a wait that fails at once with 0 (Wine stub) falls back to polling, never waits again, never spins', async () => {
    const { mock, wts } = setup();
    mock.setFault('TS01', 'wait', '*', 0);
    const it = await started(wts, { pollMs: 30 });
    const t0 = Date.now();
    mock.removeSession('TS01', 3);
    expect(await next(it)).toMatchObject({ type: 'logoff' });
    mock.removeSession('TS01', 4);
    expect(await next(it)).toMatchObject({ type: 'logoff', session: { id: 4 } });
    const elapsed = Date.now() - t0;
    expect(mock.calls.filter((c) => c.api === 'wait')).toHaveLength(1);
    expect(mock.calls.filter((c) => c.api === 'enumerate').length).toBeLessThanOrEqual(3 + Math.ceil(elapsed / 30) + 1);
    await it.return?.();
  });

  test.each([50, 120])('a wait failing with %i is polling too', async (code) => {
    const { mock, wts } = setup();
    mock.setFault('TS01', 'wait', '*', code);
    const it = await started(wts, { pollMs: 20 });
    mock.removeSession('TS01', 3);
    expect(await next(it)).toMatchObject({ type: 'logoff' });
    expect(mock.calls.filter((c) => c.api === 'wait')).toHaveLength(1);
    await it.return?.();
  });
});

describe('failing servers', () => {
  test('serverError with growing backoff, then serverBack and the changes made meanwhile', async () => {
    const { mock, wts } = setup();
    mock.setFault('WF12', 'enumerate', '*', 1722);
    const it = wts.watchSessions({ server: 'WF12', retryMinMs: 10, retryMaxMs: 25 })[Symbol.asyncIterator]();
    const e1 = await next(it);
    expect(e1).toMatchObject({ type: 'serverError', server: 'WF12', attempt: 1, retryInMs: 10, error: { code: 'E_WIN32', win32Code: 1722 } });
    expect(await next(it)).toMatchObject({ type: 'serverError', attempt: 2, retryInMs: 20 });
    expect(await next(it)).toMatchObject({ type: 'serverError', attempt: 3, retryInMs: 25 });
    // Each failed attempt closed its handle.
    expect(mock.calls.filter((c) => c.api === 'open').length).toBe(mock.calls.filter((c) => c.api === 'close').length);
    mock.setFault('WF12', 'enumerate', '*', undefined);
    // The server never answered: when it does, serverBack, and its first listing is the baseline.
    expect(await next(it)).toMatchObject({ type: 'serverBack', server: 'WF12' });
    const calls = mock.calls.length;
    await waitFor(() => mock.pendingWaitCount === 1);
    mock.setFault('WF12', 'enumerate', '*', 1726);
    mock.setFault('WF12', 'wait', '*', 1726);
    mock.removeSession('WF12', 3);
    expect(await next(it)).toMatchObject({ type: 'serverError', error: { win32Code: 1726 }, attempt: 1 });
    mock.setFault('WF12', 'enumerate', '*', undefined);
    mock.setFault('WF12', 'wait', '*', undefined);
    expect(await next(it)).toMatchObject({ type: 'serverBack', server: 'WF12' });
    // The change made while it was failing, diffed against the listing before the failure.
    expect(await next(it)).toMatchObject({ type: 'logoff', server: 'WF12', session: { id: 3 } });
    expect(mock.calls.length).toBeGreaterThan(calls);
    await it.return?.();
    expect(mock.openHandleCount).toBe(0);
  });

  test('many servers: a dead, slow one does not delay events from the others', async () => {
    const { mock, wts } = setup();
    mock.setLatency('WF13', 1500); // unreachable, and every call takes 1.5 s
    const it = wts.watchSessions({ servers: ['TS01', 'WF12', 'WF13'], retryMinMs: 5000 })[Symbol.asyncIterator]();
    const first = it.next();
    await listening(mock, ['TS01', 'WF12']); // TS01 and WF12 are waiting
    const t0 = Date.now();
    mock.removeSession('WF12', 3);
    expect((await first).value).toMatchObject({ type: 'logoff', server: 'WF12', session: { id: 3, server: 'WF12' } });
    mock.removeSession('TS01', 3);
    expect(await next(it)).toMatchObject({ type: 'logoff', server: '', session: { id: 3 } });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await next(it)).toMatchObject({ type: 'serverError', server: 'WF13', error: { win32Code: 1722 } });
    await it.return?.();
    expect(mock.openHandleCount).toBe(0);
    expect(mock.pendingWaitCount).toBe(0);
  });
});

describe('ending the watch', () => {
  const farmWithRemote = (): Farm => exampleFarm();

  test.each(['break', 'return', 'signal', 'asyncDispose'] as const)('%s: every wait flushed and returned before its handle is closed; none left', async (how) => {
    const audit = closeAudit();
    const mock = createMockApi(farmWithRemote(), audit.options);
    audit.attach(mock);
    const wts = createWts({ api: mock });
    const controller = new AbortController();
    const watch = wts.watchSessions({ servers: ['TS01', 'WF12'], signal: controller.signal });
    let seen = 0;
    const run = (async () => {
      for await (const event of watch) {
        seen++;
        expect(event.type).toBe('logoff');
        if (how === 'break') break;
        if (how === 'return') await watch.return();
        if (how === 'signal') controller.abort();
        if (how === 'asyncDispose') await watch[Symbol.asyncDispose]();
      }
    })();
    await listening(mock, ['TS01', 'WF12']);
    mock.removeSession('WF12', 3);
    if (how === 'signal') {
      const error = await rejection(run);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
    } else {
      await run;
    }
    expect(seen).toBe(1);
    expect(mock.openHandleCount).toBe(0);
    expect(mock.pendingWaitCount).toBe(0);
    expect(audit.pendingAtClose).toEqual([0]);
    const apis = mock.calls.map((c) => `${c.api}:${c.server}`);
    expect(apis.filter((a) => a.startsWith('flush'))).toEqual(expect.arrayContaining(['flush:TS01', 'flush:WF12']));
    expect(apis.lastIndexOf('flush:WF12')).toBeLessThan(apis.lastIndexOf('close:WF12'));
  });

  test('return() while a next() is pending ends that next() with done', async () => {
    const { mock, wts } = setup();
    const watch = wts.watchSessions({ server: 'WF12' });
    const pending = watch.next();
    await waitFor(() => mock.pendingWaitCount === 1);
    await watch.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    expect(mock.openHandleCount).toBe(0);
    expect(mock.pendingWaitCount).toBe(0);
  });

  test('a signal aborted before the start: the first next() rejects with AbortError, nothing is called', async () => {
    const { mock, wts } = setup();
    const watch = wts.watchSessions({ signal: AbortSignal.abort() });
    expect(await rejection(watch.next())).toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
    expect(mock.calls).toEqual([]);
  });

  test('a watch never iterated calls nothing', () => {
    const { mock, wts } = setup();
    wts.watchSessions({ servers: ['TS01', 'WF12'] });
    expect(mock.calls).toEqual([]);
  });
});

describe('bad input', () => {
  test.each([
    [{ server: 5 }],
    [{ server: '' }],
    [{ server: 'WF12', servers: ['WF13'] }],
    [{ servers: [] }],
    [{ servers: ['ok', 'bad name'] }],
    [{ reconcileMs: -1 }],
    [{ pollMs: 0 }],
    [{ pollMs: 'fast' }],
    [{ details: ['idle'] }],
    [{ events: ['logout'] }],
    [{ events: [] }],
    [{ initial: 'yes' }],
    [{ signal: {} }],
    [{ retryMinMs: 100, retryMaxMs: 10 }],
    [{ serverTimeoutMs: 10 }],
    [{ unknown: 1 }],
    ['WF12'],
  ])('%p: InvalidArgumentError at once, no call', (options) => {
    const { mock, wts } = setup();
    expect(() => wts.watchSessions(options as never)).toThrow(InvalidArgumentError);
    expect(mock.calls).toEqual([]);
  });
});

describe('property: the events replayed onto the first listing give the last', () => {
  type Change =
    | { op: 'remove'; id: number }
    | { op: 'put'; id: number; user: string; state: Session['state']; name: string; locked: boolean }
    | { op: 'lock'; id: number; locked: boolean };
  const change: fc.Arbitrary<Change> = fc.oneof(
    fc.record({ op: fc.constant('remove' as const), id: fc.integer({ min: 2, max: 8 }) }),
    fc.record({
      op: fc.constant('put' as const),
      id: fc.integer({ min: 2, max: 8 }),
      user: fc.constantFrom('', 'ann', 'ben'),
      state: fc.constantFrom<Session['state']>('Active', 'Disconnected', 'Connected', 'Idle'),
      name: fc.constantFrom('', 'RDP-Tcp#1', 'RDP-Tcp#2'),
      locked: fc.boolean(),
    }),
    // The session as it is, locked or unlocked: nothing else changes.
    fc.record({ op: fc.constant('lock' as const), id: fc.integer({ min: 2, max: 8 }), locked: fc.boolean() }),
  );

  function replay(start: Map<number, Session>, events: readonly SessionEvent[]): Map<number, Session> {
    const now = new Map(start);
    for (const e of events) {
      if (e.type === 'serverError' || e.type === 'serverBack' || e.type === 'snapshot') continue;
      if (e.gone) now.delete(e.session.id);
      else now.set(e.session.id, e.session);
    }
    return now;
  }

  // With the lock detail group the sessions carry `locked`, and a lock change is an event too.
  test.each([[[] as const], [['lock'] as const]])('for any sequence of changes in bursts (details: %p)', async (groups) => {
    const details = groups.length > 0 ? { details: [...groups] } : {};
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(change, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), async (bursts) => {
        const { mock, wts } = setup();
        const it = wts.watchSessions({ initial: true, ...details })[Symbol.asyncIterator]();
        const first = await next(it);
        if (first.type !== 'snapshot') throw new Error('no snapshot');
        const start = new Map(first.sessions.map((s) => [s.id, s] as const));
        const events: SessionEvent[] = [];
        let sentinel = false;
        try {
          for (const burst of bursts) {
            // A burst lands between two enumerations; the sentinel's event says the watch caught up.
            for (const c of burst) {
              if (c.op === 'remove') mock.removeSession('TS01', c.id);
              else if (c.op === 'lock') {
                const was = mock.getSession('TS01', c.id);
                if (was) mock.putSession('TS01', { ...was, locked: c.locked });
              } else mock.putSession('TS01', { id: c.id, user: c.user, domain: c.user ? 'CORP' : '', state: c.state, name: c.name, locked: c.locked });
            }
            sentinel = !sentinel;
            if (sentinel) mock.putSession('TS01', { id: 999, name: 'S', state: 'Connected' });
            else mock.removeSession('TS01', 999);
            const burstEvents: SessionEvent[] = [];
            for (;;) {
              const e = await next(it);
              burstEvents.push(e);
              if (e.type !== 'serverError' && e.type !== 'serverBack' && e.type !== 'snapshot' && e.session.id === 999) break;
            }
            events.push(...burstEvents);
            // One event per change per session: two only for a reused ID, the first ending the old one.
            const byId = new Map<number, SessionEvent[]>();
            for (const e of burstEvents) if ('session' in e) byId.set(e.session.id, [...(byId.get(e.session.id) ?? []), e]);
            for (const list of byId.values()) {
              expect(list.length).toBeLessThanOrEqual(2);
              if (list.length === 2) expect(list[0]).toMatchObject({ gone: true });
            }
          }
        } finally {
          await it.return?.();
        }
        const final = await wts.listSessions(details);
        expect([...replay(start, events).values()].sort((a, b) => a.id - b.id)).toEqual([...final].sort((a, b) => a.id - b.id));
        expect(mock.openHandleCount).toBe(0);
        expect(mock.pendingWaitCount).toBe(0);
      }),
      // A failure stops at once: each run waits for events, so shrinking would take minutes.
      { numRuns: 40, endOnFailure: true },
    );
  });
});
