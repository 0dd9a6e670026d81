/**
 * watchSessions on the koffi backend and the native double: real WTSWaitSystemEvent calls on the
 * library's wait threads, woken by the double's events, flushed when the watch ends. Runs on Linux
 * and, through test/native, inside Windows node.exe under Wine (npm run test:wine).
 */
import { createWts, type SessionEvent } from '../../src/index';
import { exampleFarm } from '../helpers';
import { describeWithDouble } from './setup';

/** The next event the iterator yields that satisfies `want`, within `ms`. */
async function next(it: AsyncIterator<SessionEvent>, want: (e: SessionEvent) => boolean, ms = 5000): Promise<SessionEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('no such event in time');
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no such event in time')), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (r.done) throw new Error('the watch ended');
    if (want(r.value)) return r.value;
  }
}

describeWithDouble('watchSessions on koffi + the native double', (get) => {
  test('a logoff and a new logon made elsewhere arrive as typed events; ending the watch releases the wait and closes the handle', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const wts = createWts({ api });
    // reconcile off: only the wait can wake the watch.
    const watch = wts.watchSessions({ server: 'WF12', initial: true, reconcileMs: 0 });
    const it = watch[Symbol.asyncIterator]();
    const snapshot = await next(it, (e) => e.type === 'snapshot');
    expect(snapshot).toMatchObject({ type: 'snapshot', server: 'WF12' });
    await double.waitsPending(1); // the watch is blocked in WTSWaitSystemEvent on a wait thread
    expect(api.threads).toMatchObject({ mode: 'lanes', now: { waitThreads: 1 } });

    expect(double.removeSession('WF12', 3)).toBe(true); // grace logs off (another process did it)
    const logoff = await next(it, (e) => e.type === 'logoff');
    expect(logoff).toMatchObject({ type: 'logoff', server: 'WF12', gone: true, session: { id: 3, userName: 'grace' } });

    // Windows reports nothing that happens while no wait is pending (the reconcile, off here, would
    // catch it): the next change is made once the watch waits again.
    await double.waitsPending(1);
    double.putSession('WF12', { id: 7, name: 'RDP-Tcp#9', state: 'Active', user: 'heidi', domain: 'CORP' });
    const logon = await next(it, (e) => e.type === 'logon');
    expect(logon).toMatchObject({ type: 'logon', server: 'WF12', session: { id: 7, userName: 'heidi', state: 'Active' } });
    expect((logon as { before?: unknown }).before).toBeUndefined();

    await it.return?.();
    // The flush released the wait before the handle was closed: no wait left, no handle (setup's afterEach).
    expect(double.pendingWaits()).toBe(0);
  });

  test('a server whose wait fails is reported and retried; its recovery is reported, then its changes', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const wts = createWts({ api });
    const watch = wts.watchSessions({ server: 'WF12', reconcileMs: 0, retryMinMs: 50, retryMaxMs: 100 });
    const it = watch[Symbol.asyncIterator]();
    const failed = next(it, (e) => e.type === 'serverError'); // starts the watch
    await double.waitsPending(1);
    double.setFault('WF12', 'wait', '*', 1722);
    double.raiseEvent('WF12', 0x1); // wakes the pending wait: the enumeration is fine, the next wait fails
    expect(await failed).toMatchObject({ type: 'serverError', server: 'WF12', error: { win32Code: 1722 } });
    double.setFault('WF12', 'wait', '*', undefined);
    const back = next(it, (e) => e.type === 'serverBack');
    await back;
    await double.waitsPending(1);
    double.removeSession('WF12', 2);
    await next(it, (e) => e.type === 'logoff' && e.session.id === 2);
    await it.return?.();
    expect(double.pendingWaits()).toBe(0);
  });
});
