/**
 * WTSWaitSystemEvent of the native double, called raw through koffi `.async` (its own libuv
 * thread per call), against Windows' semantics (Learn, nf-wtsapi32-wtswaitsystemevent): it blocks
 * until an event of a kind in the mask happens on the handle's server and reports the kinds that
 * happened, masked; WTS_EVENT_FLUSH releases every wait pending on that handle (and no other) with
 * WTS_EVENT_NONE. Assumed (docs/windows-facts.md): events while no wait is pending are lost; closing
 * the handle fails the waits pending on it with 6.
 *
 * At most three waits are in flight at once: `.async` runs on libuv's pool of four threads.
 */
import koffi from 'koffi';
import { WTS_CURRENT_SERVER_HANDLE as CSH, WtsEvent } from '../../src/wtsapi';
import type { Farm } from '../../src/mock';
import { describeWithDouble } from './setup';

const FARM: Farm = {
  localServer: 'TS01',
  servers: [
    {
      name: 'TS01',
      consoleSessionId: 1,
      currentSessionId: 2,
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected' },
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP' },
        { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP' },
        { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
      ],
    },
    { name: 'WF12', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'WF12' }] },
    { name: 'DOWN', unreachable: true },
  ],
};

interface WaitResult {
  readonly ok: boolean;
  /** *pEventFlags after the call (0xdeadbeef: untouched). */
  readonly flags: number;
  /** GetLastError() after a failed call; 0 after a success. */
  readonly error: number;
}

type Handle = unknown;
type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

const UNTOUCHED = 0xdeadbeef;
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithDouble('WTSWaitSystemEvent in the native double (raw, koffi .async)', (get) => describe('raw calls', () => {
  let raw: { wait: Fn; open: Fn; close: Fn; getLastError: Fn; logoff: Fn };
  const opened: Handle[] = [];

  beforeAll(() => {
    const lib = koffi.load(get().double.path);
    const S = '__stdcall';
    raw = {
      wait: lib.func(S, 'WTSWaitSystemEvent', 'int', ['void *', 'uint32_t', 'void *']) as Fn,
      open: lib.func(S, 'WTSOpenServerW', 'void *', ['const char16_t *']) as Fn,
      close: lib.func(S, 'WTSCloseServer', 'void', ['void *']) as Fn,
      getLastError: lib.func(S, 'GetLastError', 'uint32_t', []) as Fn,
      logoff: lib.func(S, 'WTSLogoffSession', 'int', ['void *', 'uint32_t', 'int']) as Fn,
    };
  });

  beforeEach(() => get().double.loadFarm(FARM));
  afterEach(() => {
    for (const h of opened.splice(0)) raw.close(h);
  });

  const open = (name: string): Handle => {
    const h = raw.open(name);
    expect(h).not.toBeNull();
    opened.push(h);
    return h;
  };

  /** WTSWaitSystemEvent(h, mask, &flags) on a thread of libuv's pool; the last error read in the completion. */
  function wait(h: Handle, mask: number): Promise<WaitResult> & { settled: () => boolean } {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(UNTOUCHED);
    let settled = false;
    const promise = new Promise<WaitResult>((resolve, reject) => {
      raw.wait.async(h, mask >>> 0, buffer, (err: unknown, ret: number) => {
        settled = true;
        if (err) reject(err);
        else resolve({ ok: ret !== 0, flags: buffer.readUInt32LE(0), error: ret ? 0 : (raw.getLastError() as number) });
      });
    });
    return Object.assign(promise, { settled: () => settled });
  }

  /** The same call made synchronously (a flush, a call that fails at once). */
  function waitNow(h: Handle, mask: number): WaitResult {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(UNTOUCHED);
    const ret = raw.wait(h, mask >>> 0, buffer) as number;
    return { ok: ret !== 0, flags: buffer.readUInt32LE(0), error: ret ? 0 : (raw.getLastError() as number) };
  }

  /** Asserts that a wait is still blocked a while later. */
  async function stillBlocked(w: { settled: () => boolean }, pending: number): Promise<void> {
    await tick(60);
    expect(w.settled()).toBe(false);
    expect(get().double.pendingWaits()).toBe(pending);
  }

  test('blocks until an event happens on the server, then reports its kind', async () => {
    const { double } = get();
    const w = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    await stillBlocked(w, 1);
    double.raiseEvent('TS01', WtsEvent.Logon);
    expect(await w).toEqual({ ok: true, flags: WtsEvent.Logon, error: 0 });
    expect(double.pendingWaits()).toBe(0);
  });

  test('an event outside the mask does not wake it; the flags reported are masked', async () => {
    const { double } = get();
    const w = wait(null, WtsEvent.Logoff | WtsEvent.Delete);
    await double.waitsPending(1);
    double.raiseEvent('TS01', WtsEvent.Create | WtsEvent.Logon | WtsEvent.StateChange);
    await stillBlocked(w, 1);
    double.raiseEvent('TS01', WtsEvent.Logoff | WtsEvent.Create | WtsEvent.Connect);
    expect(await w).toEqual({ ok: true, flags: WtsEvent.Logoff, error: 0 });
  });

  test('an event on another server does not wake it; any handle to the server sees the server\'s events', async () => {
    const { double } = get();
    const h = open('WF12');
    const other = open('wf12'); // a second handle, the same server
    const onWf12 = wait(h, WtsEvent.All);
    const onOther = wait(other, WtsEvent.All);
    const onLocal = wait(null, WtsEvent.All);
    await double.waitsPending(3);
    double.raiseEvent('TS01', WtsEvent.Create);
    expect(await onLocal).toEqual({ ok: true, flags: WtsEvent.Create, error: 0 });
    await stillBlocked(onWf12, 2);
    double.raiseEvent('WF12', WtsEvent.Disconnect);
    expect(await onWf12).toEqual({ ok: true, flags: WtsEvent.Disconnect, error: 0 });
    expect(await onOther).toEqual({ ok: true, flags: WtsEvent.Disconnect, error: 0 });
  });

  test('WTS_EVENT_FLUSH returns every wait pending on that handle with WTS_EVENT_NONE, and no wait on another handle', async () => {
    const { double } = get();
    const h = open('WF12');
    const other = open('WF12');
    const first = wait(h, WtsEvent.All);
    const second = wait(h, WtsEvent.Logon);
    const onOther = wait(other, WtsEvent.All);
    await double.waitsPending(3);
    // The local server's handle is another handle too: its flush releases nothing here.
    expect(waitNow(null, WtsEvent.Flush)).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    await stillBlocked(first, 3);
    expect(waitNow(h, WtsEvent.Flush)).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    expect(await first).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    expect(await second).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    await stillBlocked(onOther, 1);
    double.raiseEvent('WF12', WtsEvent.Create);
    expect(await onOther).toEqual({ ok: true, flags: WtsEvent.Create, error: 0 });
  });

  test('a flush with nothing pending succeeds, and is not remembered for the next wait', async () => {
    const { double } = get();
    expect(waitNow(null, WtsEvent.Flush)).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    const w = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    await stillBlocked(w, 1);
    expect(waitNow(null, WtsEvent.Flush | WtsEvent.Logon)).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
    expect(await w).toEqual({ ok: true, flags: WtsEvent.None, error: 0 });
  });

  test('events while no wait is pending are not delivered later (assumed)', async () => {
    const { double } = get();
    double.raiseEvent('TS01', WtsEvent.Logon | WtsEvent.Create);
    const w = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    await stillBlocked(w, 1);
    double.raiseEvent('TS01', WtsEvent.Rename);
    expect(await w).toEqual({ ok: true, flags: WtsEvent.Rename, error: 0 });
  });

  test('a closed or unknown handle fails with ERROR_INVALID_HANDLE (6), flags untouched', async () => {
    const h = raw.open('WF12');
    raw.close(h);
    expect(waitNow(h, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 6 });
    expect(await wait(h, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 6 });
    expect(waitNow(h, WtsEvent.Flush)).toEqual({ ok: false, flags: UNTOUCHED, error: 6 });
    expect(waitNow(koffi.as(Buffer.alloc(8), 'void *'), WtsEvent.All)).toMatchObject({ ok: false, error: 6 });
  });

  test('closing the handle fails the waits pending on it with 6 (assumed), not waits on other handles', async () => {
    const { double } = get();
    const h = raw.open('WF12');
    const other = open('WF12');
    const w = wait(h, WtsEvent.All);
    const onOther = wait(other, WtsEvent.All);
    await double.waitsPending(2);
    raw.close(h);
    expect(await w).toEqual({ ok: false, flags: UNTOUCHED, error: 6 });
    await stillBlocked(onOther, 1);
    double.raiseEvent('WF12', WtsEvent.License);
    expect(await onOther).toEqual({ ok: true, flags: WtsEvent.License, error: 0 });
    // The double counts that close as a misuse (the library never makes it: WtsApi.closeServer);
    // cleared here, with `other` still open.
    expect(double.leaks()).toEqual({ allocations: 0, handles: 1, badFrees: 0, closedUnderCall: 1 });
  });

  test('the dead server fails at once with 1722; an injected fault fails the call, and the waits already pending', async () => {
    const { double } = get();
    const down = open('DOWN');
    expect(await wait(down, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 1722 });
    const unknown = open('NOSUCHHOST');
    expect(await wait(unknown, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 1722 });

    double.setFault('TS01', 'wait', '*', 1722);
    expect(await wait(null, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 1722 });
    double.setFault('TS01', 'wait', '*', undefined);
    const w = wait(null, WtsEvent.All);
    const onWf12 = wait(open('WF12'), WtsEvent.All);
    await double.waitsPending(2);
    double.setFault('TS01', 'wait', '*', 1726); // the connection to TS01 drops mid-wait
    expect(await w).toEqual({ ok: false, flags: UNTOUCHED, error: 1726 });
    await stillBlocked(onWf12, 1);
    double.setFault('TS01', 'wait', '*', undefined);
    double.raiseEvent('WF12', WtsEvent.Create);
    expect((await onWf12).flags).toBe(WtsEvent.Create);
    expect(double.calls('wait')).toBe(5);
  });

  test('latency injected on the wait delays the call before it blocks', async () => {
    const { double } = get();
    double.setLatency('TS01', 'wait', 150);
    double.setFault('TS01', 'wait', '*', 5);
    const started = Date.now();
    expect(await wait(null, WtsEvent.All)).toEqual({ ok: false, flags: UNTOUCHED, error: 5 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('state changes raise events: disconnect, logoff (when the session goes), new and changed sessions, removal', async () => {
    const { double, api } = get();
    const next = async (mask: number, act: () => unknown): Promise<WaitResult> => {
      const w = wait(null, mask);
      await double.waitsPending(1);
      await act();
      return w;
    };
    expect(await next(WtsEvent.All, () => api.disconnectSession(CSH, 3))).toEqual({ ok: true, flags: WtsEvent.Disconnect | WtsEvent.StateChange, error: 0 });

    // WTSLogoffSession(FALSE): the session closes; LOGOFF | DELETE when it is gone (after the poll that still sees it).
    const logoff = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    expect(raw.logoff(null, 2, 0)).toBe(1);
    await stillBlocked(logoff, 1);
    await expect(api.querySessionInformation(CSH, 2, 'WTSConnectState')).resolves.toBe(0);
    await expect(api.querySessionInformation(CSH, 2, 'WTSConnectState')).rejects.toMatchObject({ win32Code: 7022 });
    expect(await logoff).toEqual({ ok: true, flags: WtsEvent.Logoff | WtsEvent.Delete, error: 0 });
    // WTSLogoffSession(TRUE): gone at once.
    expect(await next(WtsEvent.Delete, () => expect(raw.logoff(null, 3, 1)).toBe(1))).toMatchObject({ flags: WtsEvent.Delete });

    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 7, name: 'RDP-Tcp#7', state: 'Active', user: 'zoe', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.Create | WtsEvent.Logon,
    });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: 'RDP-Tcp#8', state: 'Connected' }))).toMatchObject({ flags: WtsEvent.Create });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: 'RDP-Tcp#8', state: 'Active', user: 'yann', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.Logon | WtsEvent.StateChange,
    });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: '', state: 'Disconnected', user: 'yann', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.StateChange | WtsEvent.Disconnect,
    });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: 'RDP-Tcp#9', state: 'Active', user: 'yann', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.StateChange | WtsEvent.Connect,
    });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: 'RDP-Tcp#10', state: 'Active', user: 'yann', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.Rename,
    });
    expect(await next(WtsEvent.All, () => double.putSession('TS01', { id: 8, name: 'RDP-Tcp#10', state: 'Active', user: 'xavier', domain: 'CORP' }))).toMatchObject({
      flags: WtsEvent.Logoff | WtsEvent.Logon,
    });
    expect(await next(WtsEvent.All, () => expect(double.removeSession('TS01', 8)).toBe(true))).toMatchObject({ flags: WtsEvent.Delete | WtsEvent.Logoff });
    expect(await next(WtsEvent.All, () => expect(double.removeSession('TS01', 65536)).toBe(true))).toMatchObject({ flags: WtsEvent.Delete });
    expect(double.removeSession('TS01', 65536)).toBe(false);
  });

  test('the same session again changes nothing and raises nothing', async () => {
    const { double } = get();
    const w = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    double.putSession('TS01', { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP' });
    await stillBlocked(w, 1);
    double.raiseEvent('TS01', WtsEvent.License);
    expect((await w).flags).toBe(WtsEvent.License);
  });

  test('a reset fails the waits pending (1722); pendingWaits counts the threads blocked', async () => {
    const { double } = get();
    const a = wait(null, WtsEvent.All);
    const b = wait(open('WF12'), WtsEvent.Create);
    await double.waitsPending(2);
    double.loadFarm(FARM); // WtsDouble_Reset first
    expect(await a).toEqual({ ok: false, flags: UNTOUCHED, error: 1722 });
    expect(await b).toEqual({ ok: false, flags: UNTOUCHED, error: 1722 });
    expect(double.pendingWaits()).toBe(0);
  });

  test('the leak check reports a wait left pending, and releases it', async () => {
    const { double } = get();
    const w = wait(null, WtsEvent.All);
    await double.waitsPending(1);
    expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0, pendingWaits: 1 });
    expect(await w).toEqual({ ok: false, flags: UNTOUCHED, error: 6 });
    expect(double.pendingWaits()).toBe(0);
  });

  test('a NULL pEventFlags fails with 87 (assumed) and does not block', () => {
    expect(raw.wait(null, WtsEvent.All, null)).toBe(0);
    expect(raw.getLastError()).toBe(87);
  });
}));
