/**
 * The WtsApi contract for WTSWaitSystemEvent (`waitSystemEvent` / `flushSystemEvents`), run for
 * every backend that offers them. Windows' semantics (Learn, nf-wtsapi32-wtswaitsystemevent): a
 * wait blocks until an event of a kind in its mask happens on the server and resolves to the kinds
 * that happened (masked), never to a session; WTS_EVENT_FLUSH releases every wait pending on that
 * handle with WTS_EVENT_NONE. Which changes raise which kinds is the mock's and the double's shared
 * model (docs/windows-facts.md, wait-* rows): a logoff completes, with LOGOFF | DELETE, when the
 * session is gone; a disconnect is DISCONNECT | STATECHANGE; a new session CREATE (| LOGON with a
 * user). A backend without the optional methods is allowed: its cases are skipped, with the reason
 * printed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Win32Error, WTS_CURRENT_SERVER_HANDLE, type ServerHandle, type WtsApi } from '../../src/index';
import { WtsEvent } from '../../src/wtsapi';
import { CONTRACT_FARM, type BackendFactory, type ContractBackend } from './contract';

type Waiting = Promise<number> & { readonly settled: () => boolean };

/** Why a backend's event cases are skipped, or undefined when it has both methods. */
export function systemEventsMissing(api: WtsApi): string | undefined {
  const missing = (['waitSystemEvent', 'flushSystemEvents'] as const).filter((m) => typeof api[m] !== 'function');
  return missing.length ? `the ${api.name} backend has no ${missing.join(' / ')} (optional in WtsApi: watching falls back to polling)` : undefined;
}

export function describeSystemEventsContract(name: string, factory: BackendFactory): void {
  // Whether the backend has the methods, known before the tests are made when the factory is synchronous.
  const probe = factory(structuredClone(CONTRACT_FARM), { closingPolls: 1 });
  const known = probe instanceof Promise ? undefined : systemEventsMissing(probe.api);
  if (!(probe instanceof Promise)) void probe.dispose();

  describe(`WtsApi contract, system events: ${name}`, () => {
    if (known !== undefined) {
      test.skip(`skipped: ${known}`, () => undefined);
      console.log(`system events contract (${name}) skipped: ${known}`);
      return;
    }

    let backend: ContractBackend;
    let api: WtsApi;
    let skip: string | undefined;
    const local = WTS_CURRENT_SERVER_HANDLE;
    const opened: ServerHandle[] = [];

    beforeEach(async () => {
      backend = await factory(structuredClone(CONTRACT_FARM), { closingPolls: 1 });
      api = backend.api;
      skip = systemEventsMissing(api);
      if (skip) console.log(`system events contract (${name}): ${skip}`);
    });
    afterEach(async () => {
      for (const h of opened.splice(0)) await api.closeServer(h);
      await backend.checkClean();
      await backend.dispose();
    });

    const open = async (server: string): Promise<ServerHandle> => {
      const h = await api.openServer(server);
      opened.push(h);
      return h;
    };

    function wait(server: ServerHandle, mask: number, signal?: AbortSignal): Waiting {
      let settled = false;
      const promise = (api.waitSystemEvent as NonNullable<WtsApi['waitSystemEvent']>).call(api, server, mask, signal ? { signal } : {});
      const tracked = promise.then(
        (flags) => {
          settled = true;
          return flags;
        },
        (error: unknown) => {
          settled = true;
          throw error;
        },
      );
      tracked.catch(() => undefined); // awaited by the test; no unhandled rejection meanwhile
      return Object.assign(tracked, { settled: () => settled });
    }

    const flush = (server: ServerHandle) => (api.flushSystemEvents as NonNullable<WtsApi['flushSystemEvents']>).call(api, server);

    /** Until `count` waits are blocked in the backend (a real wait reaches the server on a thread of its own). */
    async function pending(count: number): Promise<void> {
      if (!backend.pendingWaits) {
        await sleep(50);
        return;
      }
      const deadline = Date.now() + 5000;
      while (backend.pendingWaits() !== count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} pending wait(s), the backend has ${backend.pendingWaits()}`);
        await sleep(2);
      }
    }

    async function stillBlocked(w: Waiting, count: number): Promise<void> {
      await sleep(50);
      expect(w.settled()).toBe(false);
      if (backend.pendingWaits) expect(backend.pendingWaits()).toBe(count);
    }

    async function failure(promise: Promise<unknown>): Promise<{ code: number; api: string }> {
      try {
        await promise;
      } catch (error) {
        if (error instanceof Win32Error) return { code: error.win32Code, api: error.api };
        throw error;
      }
      throw new Error('expected the wait to fail with a Win32 error, but it resolved');
    }

    /** Until the handle is closed (a close held back by a call is made once it returns): a flush then fails with 6. */
    async function closedSoon(h: ServerHandle): Promise<void> {
      const deadline = Date.now() + 2000;
      let code: number | undefined;
      while (code === undefined && Date.now() < deadline) {
        code = await flush(h).then(
          () => undefined,
          (error: unknown) => (error instanceof Win32Error ? error.win32Code : -1),
        );
        if (code === undefined) await sleep(5);
      }
      expect(code).toBe(6);
      // 6 comes at once while WTSCloseServer is being made: wait for the handle to be gone.
      if (backend.openHandles) {
        while (backend.openHandles() > 0 && Date.now() < deadline) await sleep(5);
        expect(backend.openHandles()).toBe(0);
      }
    }

    /** Runs a case only when the backend has the methods (else prints why it did not). */
    const it = (title: string, body: () => Promise<void>) =>
      test(title, async () => {
        if (skip) return;
        await body();
      });

    it('a logoff: the wait resolves with LOGOFF | DELETE once the session is gone, not before', async () => {
      const w = wait(local, WtsEvent.All);
      await pending(1);
      await api.logoffSession(local, 4);
      // Closing: the next poll still sees the session; the wait is still blocked.
      await api.querySessionInformation(local, 4, 'WTSConnectState');
      await stillBlocked(w, 1);
      await expect(api.querySessionInformation(local, 4, 'WTSConnectState')).rejects.toMatchObject({ win32Code: 7022 });
      expect(await w).toBe(WtsEvent.Logoff | WtsEvent.Delete);
    });

    it('a disconnect: DISCONNECT | STATECHANGE; a wait for STATECHANGE alone gets only that', async () => {
      const all = wait(local, WtsEvent.All);
      const state = wait(local, WtsEvent.StateChange);
      await pending(2);
      await api.disconnectSession(local, 4);
      expect(await all).toBe(WtsEvent.Disconnect | WtsEvent.StateChange);
      expect(await state).toBe(WtsEvent.StateChange);
    });

    it('a new session on a remote server: CREATE | LOGON on a handle to it; the local server sees nothing', async () => {
      const h = await open('WF12');
      const remote = wait(h, WtsEvent.All);
      const onLocal = wait(local, WtsEvent.All);
      await pending(2);
      await backend.putSession('WF12', { id: 3, name: 'TERM05', state: 'Active', user: 'heidi', domain: 'CORP' });
      expect(await remote).toBe(WtsEvent.Create | WtsEvent.Logon);
      await stillBlocked(onLocal, 1);
      await flush(local);
      expect(await onLocal).toBe(WtsEvent.None);
    });

    it('kinds outside the mask do not wake a wait', async () => {
      const w = wait(local, WtsEvent.Logon);
      await pending(1);
      await backend.putSession('TS01', { id: 9, name: 'RDP-Tcp#9', state: 'Connected' }); // CREATE only
      await api.disconnectSession(local, 2); // DISCONNECT | STATECHANGE
      await stillBlocked(w, 1);
      await backend.putSession('TS01', { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'ivan', domain: 'CORP' });
      expect(await w).toBe(WtsEvent.Logon);
    });

    it('flushSystemEvents releases the waits pending on that handle with 0, not those on another handle', async () => {
      const h = await open('WF12');
      const other = await open('WF12');
      const first = wait(h, WtsEvent.All);
      const second = wait(h, WtsEvent.Create);
      const onOther = wait(other, WtsEvent.All);
      await pending(3);
      await flush(h);
      expect(await first).toBe(WtsEvent.None);
      expect(await second).toBe(WtsEvent.None);
      await stillBlocked(onOther, 1);
      await flush(other);
      expect(await onOther).toBe(WtsEvent.None);
    });

    it('an aborted signal rejects at once with an AbortError; the backend stays usable', async () => {
      const already = new AbortController();
      already.abort();
      await expect(wait(local, WtsEvent.All, already.signal)).rejects.toMatchObject({ name: 'AbortError' });

      const controller = new AbortController();
      const w = wait(local, WtsEvent.All, controller.signal);
      await pending(1);
      const started = Date.now();
      controller.abort();
      await expect(w).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(200);
      // Still usable: calls answer, and the native wait left behind is released by a flush.
      expect((await api.enumerateSessions(local)).length).toBe(6);
      await flush(local);
      await pending(0);
      const next = wait(local, WtsEvent.All);
      await pending(1);
      await api.disconnectSession(local, 4);
      expect(await next).toBe(WtsEvent.Disconnect | WtsEvent.StateChange);
    });

    it('a closed handle fails with 6; an unreachable server with 1722; an injected fault with its code', async () => {
      const closed = await api.openServer('WF12');
      await api.closeServer(closed);
      expect(await failure(wait(closed, WtsEvent.All))).toEqual({ code: 6, api: 'WTSWaitSystemEvent' });
      expect(await failure(flush(closed))).toEqual({ code: 6, api: 'WTSWaitSystemEvent' });
      const down = await open('WF13');
      expect(await failure(wait(down, WtsEvent.All))).toEqual({ code: 1722, api: 'WTSWaitSystemEvent' });
      await backend.setFault('WF12', 'wait', '*', 1726);
      expect(await failure(wait(await open('WF12'), WtsEvent.All))).toEqual({ code: 1726, api: 'WTSWaitSystemEvent' });
    });

    // WtsApi.closeServer: never under a call still running on the handle (Win32 leaves closing
    // under a pending wait undefined): the wait goes on, the handle takes no new call but a flush,
    // and it is closed once the wait has returned.
    it('closeServer under a pending wait: the wait goes on, new calls fail with 6, a flush releases it, then the handle is closed', async () => {
      const h = await api.openServer('WF12');
      const w = wait(h, WtsEvent.All);
      await pending(1);
      await api.closeServer(h);
      await stillBlocked(w, 1);
      expect(await failure(api.enumerateSessions(h))).toMatchObject({ code: 6 });
      expect(await failure(wait(h, WtsEvent.All))).toEqual({ code: 6, api: 'WTSWaitSystemEvent' });
      await flush(h);
      expect(await w).toBe(WtsEvent.None);
      await closedSoon(h);
    });

    it('closeServer under an abandoned wait: the abandonment rejects at once, the wait still runs, and the handle is closed once it returns', async () => {
      const h = await api.openServer('WF12');
      const stop = new AbortController();
      let returned = false;
      const w = (api.waitSystemEvent as NonNullable<WtsApi['waitSystemEvent']>).call(api, h, WtsEvent.All, { signal: stop.signal, onReturn: () => (returned = true) });
      w.catch(() => undefined);
      await pending(1);
      stop.abort();
      await expect(w).rejects.toMatchObject({ code: 'E_ABORTED' });
      await api.closeServer(h);
      await sleep(50);
      // The mock's wait ends with its abort; a native one is still in WTSWaitSystemEvent.
      if (backend.pendingWaits?.() === 1) {
        expect(returned).toBe(false);
        await flush(h);
      }
      const deadline = Date.now() + 2000;
      while (!returned && Date.now() < deadline) await sleep(5);
      expect(returned).toBe(true);
      await closedSoon(h);
    });
  });
}
