/**
 * Adversarial tests of watchSessions on koffi + the native double (real WTSWaitSystemEvent calls
 * on the library's wait lanes), from a review given only the promises. The tests outside the
 * "REGRESSION GUARD" block failed on the code before the fixes: each one quotes the promise it
 * checks. setup's afterEach checks the double's leak counters.
 */
import { createWts, type SessionEvent } from '../../src/index';
import { exampleFarm, nextEvent } from '../helpers';
import { describeWithDouble } from './setup';

type Iter = AsyncIterator<SessionEvent>;

const next = (it: Iter, ms = 3000) => nextEvent(it, ms);


describeWithDouble('watchSessions attacks on koffi + the native double', (get) => {
  // docs/watchSessions.md:111-113: "A server that cannot be opened, enumerated or waited on (1722,
  // 1726, 5, ...) yields `serverError` (`attempt` 1, 2, ...) and is retried ... after `retryMinMs`
  // (1 s), doubling each time up to `retryMaxMs` (60 s)."
  // Observed: the enumeration after each reopen succeeds and resets `attempt` (watch.ts:584): the
  // failing wait is reported as attempt 1 / retryInMs 20 every time, with a serverBack in between.
  test('a server whose every wait fails: attempt 1, 2, 3 and the retry doubling', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setFault('WF12', 'wait', '*', 1722);
    const it = createWts({ api }).watchSessions({ server: 'WF12', retryMinMs: 20, retryMaxMs: 1000 })[Symbol.asyncIterator]();
    const seen: string[] = [];
    try {
      while (seen.filter((s) => s.startsWith('serverError')).length < 3) {
        const e = await next(it);
        seen.push(e.type === 'serverError' ? `serverError#${e.attempt}/${e.retryInMs}/${e.error.code}` : e.type);
      }
    } finally {
      await it.return?.();
    }
    expect(seen.filter((s) => s.startsWith('serverError'))).toEqual(['serverError#1/20/E_WIN32', 'serverError#2/40/E_WIN32', 'serverError#3/80/E_WIN32']);
  });

  // docs/watchSessions.md (Ending) and the facts row wait-system-event-flush: the local server is
  // watched on WTS_CURRENT_SERVER_HANDLE, which the whole process shares, and Learn's flush returns
  // every wait pending on that handle. Ending a local watch therefore returns another local watch's
  // wait (and an application's own, with WTS_EVENT_NONE): the other watch enumerates again, waits
  // again, and loses no change. (The review found the facts row promising otherwise; the row and the
  // page now say this. A guard: this held before too.)
  test('ending a watch of the local server: another local watch goes on and loses no change', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const wts = createWts({ api });
    const other = wts.watchSessions({ reconcileMs: 0, initial: true })[Symbol.asyncIterator]();
    try {
      expect(await next(other)).toMatchObject({ type: 'snapshot', server: '' });
      await double.waitsPending(1);
      const it = wts.watchSessions({ reconcileMs: 0 })[Symbol.asyncIterator]();
      void it.next().catch(() => undefined);
      await double.waitsPending(2);
      await it.return?.();
      // The other watch was woken by the flush, enumerated, and waits again.
      await double.waitsPending(1);
      double.removeSession('TS01', 3);
      double.raiseEvent('TS01', 0x40);
      expect(await next(other)).toMatchObject({ type: 'logoff', server: '', session: { id: 3 }, gone: true });
    } finally {
      await other.return?.();
    }
    expect(double.pendingWaits()).toBe(0);
  });

  // The original request: "(plus lock/unlock where the state is known)". With details: ['lock'] the
  // watch reads the lock state on every enumeration (WTSSessionInfoEx SessionFlags), so it is known.
  // Observed: the session locking yields nothing; only the sentinel's `create` arrives.
  test("details: ['lock']: a session locking is a lock event", async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const wts = createWts({ api });
    const it = wts.watchSessions({ server: 'WF12', details: ['lock'], initial: true, reconcileMs: 0 })[Symbol.asyncIterator]();
    const events: SessionEvent[] = [];
    try {
      const snap = await next(it);
      expect(snap).toMatchObject({ type: 'snapshot' });
      const s3 = snap.type === 'snapshot' ? snap.sessions.find((s) => s.id === 3) : undefined;
      expect(s3).toMatchObject({ details: { locked: false } });
      await double.waitsPending(1);
      double.setSessionFlags('WF12', 3, 0); // WTS_SESSIONSTATE_LOCK
      double.putSession('WF12', { id: 99, name: 'S', state: 'Connected' });
      double.raiseEvent('WF12', 0x1);
      for (;;) {
        const e = await next(it);
        events.push(e);
        if ('session' in e && e.session.id === 99) break;
      }
      const listed = await wts.listSessions({ server: 'WF12', details: ['lock'] });
      expect(listed.find((s) => s.id === 3)).toMatchObject({ details: { locked: true } }); // the harness is right
    } finally {
      await it.return?.();
    }
    expect(events.map((e) => `${e.type}:${'session' in e ? e.session.id : ''}`)).toContain('lock:3');
  });

  describe('REGRESSION GUARD (these pass today)', () => {
    test('abort during a slow enumeration: the rejection comes after the enumeration returned and the handle closed; no lane left running', async () => {
      const { double, api } = get();
      double.loadFarm(exampleFarm());
      const controller = new AbortController();
      const it = createWts({ api }).watchSessions({ server: 'WF12', signal: controller.signal, reconcileMs: 50, retryMinMs: 20 })[Symbol.asyncIterator]();
      const first = it.next();
      await double.waitsPending(1);
      double.setLatency('WF12', 'enumerate', 400);
      await new Promise((r) => setTimeout(r, 120)); // the reconcile's enumeration is in flight
      const t0 = Date.now();
      controller.abort();
      const outcome = await first.then(
        (r) => `resolved ${JSON.stringify(r.value)}`,
        (e: Error) => e.name,
      );
      await it.return?.(); // (a no-op after the abort; cleans up if the test fails)
      expect(outcome).toBe('AbortError');
      expect(Date.now() - t0).toBeGreaterThan(150);
      expect(double.openHandles).toBe(0);
      expect(double.pendingWaits()).toBe(0);
      expect(api.threads).toMatchObject({ mode: 'lanes', now: { running: 0, stuck: 0, abandoned: 0, queued: 0 } });
      double.setLatency('WF12', 'enumerate', 0);
    });

    test('a server failing and recovering: serverBack, then the change made meanwhile; nothing leaks', async () => {
      const { double, api } = get();
      double.loadFarm(exampleFarm());
      const it = createWts({ api }).watchSessions({ server: 'WF12', retryMinMs: 20, reconcileMs: 0 })[Symbol.asyncIterator]();
      const err = next(it);
      await double.waitsPending(1);
      double.setFault('WF12', 'enumerate', '*', 1726);
      double.setFault('WF12', 'open', '*', 1722);
      double.raiseEvent('WF12', 0x1);
      expect(await err).toMatchObject({ type: 'serverError', attempt: 1 });
      expect(await next(it)).toMatchObject({ type: 'serverError', attempt: 2, retryInMs: 40 });
      double.removeSession('WF12', 3);
      double.setFault('WF12', 'enumerate', '*', undefined);
      double.setFault('WF12', 'open', '*', undefined);
      let e = await next(it);
      while (e.type === 'serverError') e = await next(it);
      expect(e).toMatchObject({ type: 'serverBack', server: 'WF12' });
      expect(await next(it)).toMatchObject({ type: 'logoff', session: { id: 3 }, gone: true });
      await it.return?.();
      expect(double.pendingWaits()).toBe(0);
    });
  });
});
