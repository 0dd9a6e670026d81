/**
 * Adversarial tests of WtsApi.closeServer and CallOptions.onReturn on the koffi backend (lanes and
 * the libuv mode) against the native double of wtsapi32. The promises attacked (src/wtsapi.ts,
 * docs/threads.md):
 *   1. closeServer of WTS_CURRENT_SERVER_HANDLE, of an already-closed handle or of one the backend
 *      did not open makes no call. From the call on, the handle takes no new call (6, no system
 *      call) but a flush. A call still running on it is never closed under: WTSCloseServer is made
 *      when the last one returns, and closeServer resolves at once. A close the threads refuse is
 *      made again every second; closeServer never rejects for that. WTSCloseServer is never made
 *      twice for one open handle.
 *   2. onReturn: exactly once per call, when it is over, never before the native call returned.
 *   3. The double's closedUnderCall must stay 0.
 *   4. An abandoned call does not keep the process alive; nothing is left open once calls returned.
 *   5. The same in the libuv mode (`lanes: false`).
 *
 * Names: FOUND (fails on the current code: a promise above is broken), HOLDS (passes, pins a
 * promise), DOCUMENTED LIMIT. setup's afterEach checks the double's leak counters after every test
 * (open handles, allocations, pending waits, closedUnderCall).
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { createKoffiApi, type KoffiApi, type KoffiApiOptions } from '../../src/backends/koffi/koffi-api';
import type { LaneStats } from '../../src/backends/koffi/lanes';
import { createWts } from '../../src/index';
import { WTS_ANY_SESSION, WTS_CURRENT_SERVER_HANDLE, WtsEvent, type CallOptions, type ServerHandle, type WtsMessage } from '../../src/wtsapi';
import type { Farm } from '../../src/mock';
import { exampleFarm, ROOT, sleep, waitFor } from '../helpers';
import type { NativeDouble } from './double';
import { describeWithDouble } from './setup';

jest.setTimeout(60_000);

const MSG_WAIT: WtsMessage = { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true };
const MSG_NOWAIT: WtsMessage = { ...MSG_WAIT, wait: false };

function lanesNow(api: KoffiApi): LaneStats {
  const t = api.threads;
  if (t.mode !== 'lanes') throw new Error('expected the koffi backend on lanes');
  return t.now;
}

/** An onReturn that counts its calls and remembers when they came. */
function counter(): { readonly n: number; readonly at: number[]; readonly fn: () => void } {
  const c = { n: 0, at: [] as number[], fn: () => {
    c.n++;
    c.at.push(Date.now());
  } };
  return c;
}

/** The win32Code (or error name) a promise rejects with, or 'resolved'. */
const outcome = (p: Promise<unknown>): Promise<string | number> =>
  p.then(
    () => 'resolved',
    (e: { win32Code?: number; name?: string; code?: string }) => e.win32Code ?? e.code ?? e.name ?? 'rejected',
  );

/** WF12 with a session 2 running processes (for terminateProcess), else the example farm. */
function farmWithProcesses(): Farm {
  const farm = exampleFarm();
  const wf12 = farm.servers.find((s) => s.name === 'WF12')!;
  const s2 = wf12.sessions!.find((s) => s.id === 2)!;
  (s2 as { processes?: unknown }).processes = [
    { pid: 700, name: 'excel.exe' },
    { pid: 701, name: 'excel.exe' },
    { pid: 702, name: 'excel.exe' },
  ];
  return farm;
}

/** Sum of the double's call counters of the calls a handle takes (not open/close/free/version/lookup). */
function handleCalls(double: NativeDouble): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['enumerate', 'enumerateEx', 'query', 'logoff', 'disconnect', 'message', 'processes', 'processesEx', 'wait', 'terminate'] as const) out[k] = double.calls(k);
  return out;
}

describeWithDouble('closeServer and onReturn, attacked (koffi + the native double)', (get) => {
  const fresh = (extra: KoffiApiOptions = {}): KoffiApi => {
    const p = get().double.path;
    return createKoffiApi({ wtsapi32: p, kernel32: p, advapi32: p, netapi32: p, ...extra });
  };

  // ---- 1. closeServer: which closes make a call ------------------------------------------------

  test('HOLDS: closeServer of WTS_CURRENT_SERVER_HANDLE, of a handle closed already, and of one another backend opened makes no call', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const other = fresh();
    const closes = double.calls('close');
    await api.closeServer(WTS_CURRENT_SERVER_HANDLE);
    const h = await api.openServer('WF12');
    const theirs = await other.openServer('WF12');
    await api.closeServer(theirs); // not this backend's: nothing
    expect(double.openHandles).toBe(2);
    await api.closeServer(h);
    await api.closeServer(h);
    await Promise.all([api.closeServer(h), api.closeServer(h)]);
    await api.closeServer(12345n as ServerHandle);
    expect(double.calls('close') - closes).toBe(1);
    await other.closeServer(theirs);
    expect(double.calls('close') - closes).toBe(2);
  });

  test('HOLDS: two closeServer calls at once with an abandoned message box in the handle: both resolve at once, one WTSCloseServer when the box returns', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'message', 500);
    const stop = new AbortController();
    const back = counter();
    const box = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: back.fn });
    box.catch(() => undefined);
    await waitFor(() => double.calls('message') === 1);
    const closes = double.calls('close');
    const t0 = Date.now();
    // The abort and both closes in one turn, closes first.
    const both = Promise.all([api.closeServer(h), api.closeServer(h)]);
    stop.abort();
    await both;
    expect(Date.now() - t0).toBeLessThan(100);
    await expect(box).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect({ back: back.n, open: double.openHandles, closes: double.calls('close') - closes }).toEqual({ back: 0, open: 1, closes: 0 });
    await waitFor(() => double.openHandles === 0, 3000);
    await sleep(50);
    expect({ back: back.n, closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ back: 1, closes: 1, under: 0 });
  });

  // Promise 1: "From the call on, the handle takes no new call — each fails with Win32 error 6 and
  // makes no system call". Expected: after closeServer(h) resolved (WTSCloseServer made), every
  // call on h rejects with 6 and reaches no wtsapi32 function. Observed: each call (enumerate,
  // query, message, wait, logoff, processes) is made — the double's counters go up by one each and
  // the double answers 6 because it knows the handle is gone. Cause: KoffiApi.#closeNow deletes the
  // handle from #closing once WTSCloseServer has run, and #call only refuses handles in #closing.
  // On Windows this is a call on a freed handle (or, once Windows has given the value to a handle
  // opened since, a call on another server's connection).
  test('FIXED: once WTSCloseServer has been made, a new call on the handle still reaches wtsapi32 (6 from the system, not from the library)', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const h = await api.openServer('WF12');
    await api.closeServer(h);
    expect(double.openHandles).toBe(0);
    const before = handleCalls(double);
    const back = counter();
    const codes = await Promise.all([
      outcome(api.enumerateSessions(h)),
      outcome(api.querySessionInformation(h, 2, 'WTSUserName')),
      outcome(api.sendMessage(h, 2, MSG_WAIT, { onReturn: back.fn })),
      outcome(api.waitSystemEvent(h, WtsEvent.All, { onReturn: back.fn })),
      outcome(api.logoffSession(h, 2)),
      outcome(api.enumerateProcessesEx(h, WTS_ANY_SESSION, { onReturn: back.fn })),
    ]);
    expect(codes).toEqual([6, 6, 6, 6, 6, 6]);
    expect(back.n).toBe(3);
    const after = handleCalls(double);
    const made = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, d]) => d !== 0));
    expect(made).toEqual({}); // observed: { enumerate: 1, query: 1, message: 1, wait: 1, logoff: 1, processesEx: 1 }
  });

  // ---- the flush exception, against the close already made or retried --------------------------

  // Promise 1: "WTSCloseServer is never made twice for one open handle", and the flush exception.
  // Setup: one ordinary lane, held by a stuck call on another server, so closeServer(h) is refused
  // and retried every second in the background (#closeNow's timer). Then, the lane free again, a
  // flush on h (allowed on a closing handle) runs and returns: its onReturn sees the count at 0 and
  // the handle in #closing, and makes WTSCloseServer. The retry timer armed before knows nothing of
  // it and makes WTSCloseServer again ~0.5 s later. Expected: one WTSCloseServer for h. Observed: two
  // (the double counts both; the second on a handle already closed). On Windows, where a closed
  // handle's value is reused, the second close can close a handle opened since by anyone in the
  // process (this backend's next openServer included) — under its calls.
  test('FIXED: a close refused by the lanes, then a flush on the handle: WTSCloseServer is made twice (the retry timer and the flush each make one)', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 1, stuckAfterMs: 100 });
    const h = await api.openServer('WF12');
    double.setLatency('TS01', 'open', 1500);
    const stuck = api.openServer('TS01');
    await waitFor(() => lanesNow(api).stuck === 1, 2000);
    const closes = double.calls('close');
    await api.closeServer(h); // refused: retried every second from now
    expect(double.calls('close') - closes).toBe(0);
    const t = await stuck; // at ~1.5 s: the lane is free; the next retry is at ~2.1 s
    double.setLatency('TS01', 'open', 0);
    await api.flushSystemEvents(h); // allowed on a closing handle; its return makes the close
    await waitFor(() => double.openHandles === 1, 1000); // h closed by the flush's return
    expect(double.calls('close') - closes).toBe(1);
    await sleep(1500); // the retry armed before
    await api.closeServer(t);
    expect({ closesOfH: double.calls('close') - closes - 1, under: double.closedUnderCall }).toEqual({ closesOfH: 1, under: 0 }); // observed closesOfH: 2
  });

  // Promise 3 ("the library must never cause one") and promise 1 ("never closed under"). As above,
  // with two lanes: the flush is slow (1.5 s inside WTSWaitSystemEvent) and the retry timer's
  // WTSCloseServer, made on the second lane, lands while the flush is still inside the double.
  // Expected: closedUnderCall 0 (the close waits for the flush, as it waits for any call on the
  // handle). Observed: closedUnderCall 1, and the flush then fails with 6 (its handle closed under it).
  test('FIXED: a close refused by the lanes is retried while a flush runs on the handle: WTSCloseServer under the flush (closedUnderCall 1)', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 2, stuckAfterMs: 100 });
    const h = await api.openServer('WF12');
    double.setLatency('TS01', 'open', 1500);
    const stuck = [api.openServer('TS01'), api.openServer('TS01')];
    await waitFor(() => lanesNow(api).stuck === 2, 2000);
    await api.closeServer(h); // refused: retried every second
    const opened = await Promise.all(stuck); // ~1.5 s: both lanes free; next retry at ~2.1 s
    double.setLatency('TS01', 'open', 0);
    double.setLatency('WF12', 'wait', 1500);
    const flushed = outcome(api.flushSystemEvents(h)); // inside the double until ~3 s
    await sleep(1200); // the retry lands meanwhile
    const under = double.closedUnderCall;
    const flush = await flushed;
    double.setLatency('WF12', 'wait', 0);
    for (const t of opened) await api.closeServer(t);
    await waitFor(() => double.openHandles === 0, 3000);
    expect({ under, flush }).toEqual({ under: 0, flush: 'resolved' }); // observed: { under: 1, flush: 6 }
  });

  // Promise 1's flush exception ("except flushSystemEvents, which still releases its waits") is
  // there to release the waits that hold a close back. Here no call holds it back: the close is made
  // first (queued on the one lane), and the flush made right after closeServer — the documented way
  // to release a handle's waits — runs after WTSCloseServer, on the closed handle. Expected: no
  // WTSWaitSystemEvent on h once WTSCloseServer(h) has been made (nothing to release; on Windows the
  // handle is freed). Observed: the flush is made after the close (the double's wait counter +1, 6).
  // Fixed: a flush made once WTSCloseServer is being made (nothing left to release) fails with 6
  // and makes no call.
  test('FIXED: closeServer then flushSystemEvents at once (both queued on a busy lane): the flush makes no call on the closed handle', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 1 });
    const h = await api.openServer('WF12');
    const t = await api.openServer('TS01');
    double.setLatency('TS01', 'enumerate', 300); // the double's 'enumerate' covers WTSEnumerateSessionsExW too
    const busy = api.enumerateSessions(t); // holds the one lane 300 ms (not stuck)
    await waitFor(() => double.calls('enumerate') > 0);
    const waits = double.calls('wait');
    const closed = api.closeServer(h); // queued
    const flushed = outcome(api.flushSystemEvents(h)); // queued behind it
    await busy;
    await closed;
    const flush = await flushed;
    double.setLatency('TS01', 'enumerate', 0);
    await api.closeServer(t);
    expect({ waitCallsAfterClose: double.calls('wait') - waits, flush }).toEqual({ waitCallsAfterClose: 0, flush: 6 });
  });

  // ---- re-entrancy: the deferred close is started from inside the lanes' own bookkeeping ---------

  // Promises 1-3. The deferred WTSCloseServer is made from the last call's onReturn, which the lanes
  // run inside Lanes.#finished, after `lane.running = undefined` and before #finished hands that lane
  // the next queued call. #closeNow -> Lanes.run -> #dispatch finds the lane idle and posts the
  // close on it; #finished then calls #runOn(lane, next) on the same lane: it overwrites the lane's
  // one LaneJob and posts again. Expected: the queued query (TS01, 300 ms) resolves with the user's
  // name, h is closed once, the lane is back. Observed (one of, by thread timing): the query rejects
  // with UnsupportedPlatformError 'A wts-session thread refused work.' (the lane, busy with the close,
  // refused the second post; Lanes then retires the lane and frees its LaneJob while its thread is
  // still using it), or it is settled with the close's result while its own call is still inside
  // the double (onReturn before the native call returned), and the close's own promise is lost.
  // Run in a child process (the built dist/): in this jest worker the corrupted lane has crashed the
  // worker (SIGSEGV) or hung its event loop when combined with other tests. 12 rounds, each on a
  // fresh backend with one ordinary lane: a call on A (100 ms), closeServer(A) (deferred), a call on
  // B (WTSEnumerateProcessesExW, 300 ms) queued behind it. Expected: every round's queued call
  // resolves, its onReturn comes after its native call returned (>= ~400 ms in), no WTS buffer left,
  // the child exits 0. Observed: see the `observed` comment below.
  test('FIXED: a deferred close started from the last call\'s onReturn double-books the lane that #finished then gives the next queued call', () => {
    const { double } = get();
    const p = JSON.stringify(double.path);
    const script = `
      const { createKoffiApi } = require(${JSON.stringify(ROOT)} + '/dist/index.js');
      const koffi = require('koffi');
      const lib = koffi.load(${p});
      const reset = lib.func('void WtsDouble_Reset(void)');
      const add = lib.func('int WtsDouble_AddServer(const char16_t *, uint32_t, uint32_t, uint32_t, int)');
      const put = lib.func('int WtsDouble_PutSession(const char16_t *, uint32_t, int, const char16_t *, const char16_t *, const char16_t *, const char16_t *, uint32_t, const uint8_t *, uint32_t)');
      const latency = lib.func('int WtsDouble_SetLatency(const char16_t *, int, uint32_t)');
      const allocations = lib.func('long WtsDouble_OutstandingAllocations(void)');
      const openHandles = lib.func('long WtsDouble_OpenHandles(void)');
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        const rounds = [];
        for (let i = 0; i < 12; i++) {
          reset();
          add('A', 1, 1, 0, 0); add('B', 1, 1, 0, 0);
          put('A', 1, 0, 'Console', 'u', 'D', '', 0, new Uint8Array(20), 7);
          put('B', 1, 0, 'Console', 'u', 'D', '', 0, new Uint8Array(20), 7);
          const api = createKoffiApi({ wtsapi32: ${p}, kernel32: ${p}, maxThreads: 1 });
          const a = await api.openServer('A');
          const b = await api.openServer('B');
          latency('A', 1, 100); latency('B', 13, 300);
          const t0 = Date.now();
          let back = -1;
          const first = api.enumerateSessions(a);
          await sleep(20);
          await api.closeServer(a);
          const queued = api.enumerateProcessesEx(b, 1, { onReturn: () => (back = Date.now() - t0) })
            .then(() => 'resolved', (e) => e.name + ' ' + e.win32Code);
          await first;
          const got = await Promise.race([queued, sleep(2000).then(() => 'pending')]);
          await sleep(400);
          await api.closeServer(b);
          await sleep(50);
          rounds.push(got + (back >= 350 ? '' : ' early-onReturn') + (allocations() ? ' leak' : '') + (openHandles() ? ' open' : ''));
        }
        const tally = {};
        for (const r of rounds) tally[r] = (tally[r] || 0) + 1;
        console.log(JSON.stringify(tally));
        process.exit(0);
      })();
    `;
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 40_000 });
    const observed = { status: r.status, signal: r.signal, rounds: r.stdout.trim().split('\n').pop() };
    expect(observed).toEqual({ status: 0, signal: null, rounds: JSON.stringify({ resolved: 12 }) });
    // observed (this machine): either { status: 0, signal: null, rounds: '{"Win32Error 0 early-onReturn leak":12}' }
    // (most runs) or { status: null, signal: 'SIGSEGV', rounds: '' } (1 run in 3 in one series).
    // — every round: the queued call settled ~100 ms in with the close's result (a Win32Error with code
    // 0), its onReturn before its own native call returned, and its WTS_PROCESS_INFO_EX array never
    // freed (the double's allocation counter). In-process, the queueing configurations of the property
    // (see the note at propertyCases) crashed the jest worker (SIGSEGV) or hung its event loop.
  }, 60_000);

  // Promise 2 and docs/threads.md. The same re-entrancy with the user's own onReturn: a call made from
  // inside an onReturn (onReturn is the user's "the call has really left the system" hook — starting
  // the next call there is natural) takes the lane #finished has just freed, and #finished then gives
  // that lane the next queued call too. Here the onReturn's call is slow (300 ms), so the lane is
  // still busy at the second post: lanes_post refuses it, the queued call is failed with "A
  // wts-session thread refused work." although nothing was wrong, and Lanes.#retire frees the lane's
  // LaneJob while its thread is inside the onReturn's call (which later writes its result there);
  // the onReturn's call itself is forgotten (lane.running was overwritten): it never settles.
  // Expected: both calls resolve (the queued one after the first, the onReturn's one after 300 ms),
  // in every round, and the child exits 0. In a child process (the built dist/): memory is corrupted.
  test('FIXED: a call made from inside an onReturn double-books the lane: the queued call fails with "thread refused work", the onReturn\'s call never settles', () => {
    const { double } = get();
    const p = JSON.stringify(double.path);
    const script = `
      const { createKoffiApi } = require(${JSON.stringify(ROOT)} + '/dist/index.js');
      const koffi = require('koffi');
      const lib = koffi.load(${p});
      const reset = lib.func('void WtsDouble_Reset(void)');
      const add = lib.func('int WtsDouble_AddServer(const char16_t *, uint32_t, uint32_t, uint32_t, int)');
      const put = lib.func('int WtsDouble_PutSession(const char16_t *, uint32_t, int, const char16_t *, const char16_t *, const char16_t *, const char16_t *, uint32_t, const uint8_t *, uint32_t)');
      const latency = lib.func('int WtsDouble_SetLatency(const char16_t *, int, uint32_t)');
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const MSG = { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: false };
      (async () => {
        const rounds = [];
        for (let i = 0; i < 8; i++) {
          reset();
          add('A', 1, 1, 0, 0); add('B', 1, 1, 0, 0);
          put('A', 1, 0, 'Console', 'u', 'D', '', 0, new Uint8Array(20), 7);
          put('B', 1, 0, 'Console', 'u', 'D', '', 0, new Uint8Array(20), 7);
          const api = createKoffiApi({ wtsapi32: ${p}, kernel32: ${p}, maxThreads: 1 });
          const a = await api.openServer('A');
          const b = await api.openServer('B');
          latency('A', 5, 100); latency('B', 1, 300);
          let next;
          const first = api.sendMessage(a, 1, MSG, { onReturn: () => { next = api.enumerateSessions(b).then(() => 'resolved', (e) => e.name); } });
          await sleep(20);
          const queued = api.querySessionInformation(a, 1, 'WTSUserName').then(() => 'resolved', (e) => e.name + ': ' + e.message.slice(0, 40));
          await first;
          const q = await Promise.race([queued, sleep(1500).then(() => 'pending')]);
          const n = next ? await Promise.race([next, sleep(1500).then(() => 'pending')]) : 'not started';
          rounds.push('queued ' + q + ' / onReturn call ' + n);
          console.log('round ' + i + ': ' + rounds[i]);
          await api.closeServer(a); await api.closeServer(b);
        }
        const tally = {};
        for (const r of rounds) tally[r] = (tally[r] || 0) + 1;
        console.log(JSON.stringify(tally));
        process.exit(0);
      })();
    `;
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
    const observed = { status: r.status, signal: r.signal, rounds: r.stdout.trim().split('\n').pop() };
    expect(observed).toEqual({ status: 0, signal: null, rounds: JSON.stringify({ 'queued resolved / onReturn call resolved': 8 }) });
    // observed: { status: null, signal: 'SIGSEGV', rounds: '' } — in round 0. Traced by hand (same
    // steps, printing as it goes): the onReturn's call starts on the freed lane (running 1, queued 1);
    // the queued call rejects with "UnsupportedPlatformError: A wts-session thread refused work.";
    // api.threads.now then says threads 0, running 0 while the onReturn's call is still inside the
    // double; ~300 ms later, when it returns, the process dies with SIGSEGV (exit 139).
  }, 60_000);

  // Promises 2 and 1. When every ordinary lane is stuck, Lanes.#checkExhausted refuses the queued
  // ordinary calls in a loop over a snapshot, calling each one's onReturn. The first one's onReturn
  // (the last call on a closing handle) starts the deferred close: Lanes.run -> #dispatch queues it
  // and calls #checkExhausted again, which refuses every queued ordinary call — the snapshot's next
  // one included. Back in the outer loop, that next call is no longer in the queue:
  // `this.#queue.splice(this.#queue.indexOf(p), 1)` is splice(-1, 1), which drops the queue's LAST
  // entry — here a message box queued for a wait lane — and `returned(p.call)` runs p's onReturn a
  // second time. Expected: the second call's onReturn once; the queued box runs once the wait lane
  // frees (or is refused), its onReturn once, its handle (closeServer called) closed. Observed: the
  // second onReturn twice; the box never runs, never settles, its onReturn never comes, and its
  // handle is never closed (inFlight stays 1).
  test('FIXED: refusals re-entered from an onReturn: a queued wait-lane call is silently dropped (never settles, its handle never closed) and another call\'s onReturn runs twice', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 1, maxWaitThreads: 1, stuckAfterMs: 100 });
    const h = await api.openServer('WF12');
    const y = await api.openServer('WF12');
    const x = await api.openServer('TS01');
    const w = api.waitSystemEvent(x, WtsEvent.All); // holds the one wait lane
    await double.waitsPending(1);
    double.setLatency('TS01', 'open', 1500);
    const stuck = api.openServer('TS01'); // holds the one ordinary lane; stuck after 100 ms
    await waitFor(() => double.calls('open') >= 4);
    const q1 = outcome(api.querySessionInformation(h, 2, 'WTSUserName')); // queued; the last call on h
    const q2back = counter();
    const q2 = outcome(api.sendMessage(WTS_CURRENT_SERVER_HANDLE, 1, MSG_NOWAIT, { onReturn: q2back.fn })); // queued
    const boxBack = counter();
    let boxSettled = false;
    const box = api.sendMessage(y, 2, MSG_WAIT, { onReturn: boxBack.fn }); // queued for the wait lane, last in the queue
    void box.then(() => (boxSettled = true), () => (boxSettled = true));
    expect(lanesNow(api).queued).toBe(3);
    await api.closeServer(h); // deferred: q1 is queued on it
    await api.closeServer(y); // deferred: the box is queued on it
    // ~100 ms: the stuck check refuses q1 and q2.
    expect(await q1).toBe('E_THREADS_EXHAUSTED');
    expect(await q2).toBe('E_THREADS_EXHAUSTED');
    const t1 = await stuck;
    double.setLatency('TS01', 'open', 0);
    await api.flushSystemEvents(x); // the wait lane frees: the box should run now
    expect(await w).toBe(WtsEvent.None);
    await sleep(900); // and h's refused close, retried every second, is made
    const seen = { q2onReturn: q2back.n, boxSettled, boxOnReturn: boxBack.n, queued: lanesNow(api).queued, openHandles: double.openHandles - 2 /* x, t1 */ };
    await api.closeServer(x);
    await api.closeServer(t1);
    expect(seen).toEqual({ q2onReturn: 1, boxSettled: true, boxOnReturn: 1, queued: 0, openHandles: 0 });
    // observed: { q2onReturn: 2, boxSettled: false, boxOnReturn: 0, queued: 0, openHandles: 1 } (y left open for good)
  });

  test('HOLDS: 16 calls at once on one handle (boxes, waits, listings; half abandoned), closeServer, openServer again at once: the new handle works while the old one closes; each closed once', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    double.setLatency('WF12', 'message', 300);
    double.setLatency('WF12', 'processesEx', 200);
    const closes = double.calls('close');
    const h = await api.openServer('WF12');
    const stop = new AbortController();
    const rets: Array<ReturnType<typeof counter>> = [];
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 16; i++) {
      const ret = counter();
      rets.push(ret);
      const signal = i % 8 < 4 ? stop.signal : undefined; // of each kind, half abandoned
      const options: CallOptions = { ...(signal ? { signal } : {}), onReturn: ret.fn };
      const kind = i % 4;
      all.push(
        outcome(
          kind === 0 ? api.sendMessage(h, 2, MSG_WAIT, options)
          : kind === 1 ? api.enumerateProcessesEx(h, WTS_ANY_SESSION, options)
          : kind === 2 ? api.waitSystemEvent(h, WtsEvent.All, options)
          : api.sendMessage(h, 2, MSG_NOWAIT, options),
        ),
      );
    }
    await sleep(30);
    stop.abort();
    await api.closeServer(h);
    const again = await api.openServer('WF12');
    expect(again).not.toBe(h);
    expect(await api.querySessionInformation(again, 2, 'WTSUserName')).toBe('frank');
    expect(await outcome(api.enumerateSessions(h))).toBe(6);
    expect(double.openHandles).toBe(2);
    // The 4 waits (2 abandoned) are still pending on h: a flush (allowed on the closing handle) releases them.
    await double.waitsPending(4);
    await api.flushSystemEvents(h);
    const results = await Promise.all(all);
    await waitFor(() => double.openHandles === 1, 3000);
    await api.closeServer(again);
    await sleep(30);
    expect({ returns: rets.map((r) => r.n), sixes: results.filter((r) => r === 6).length, closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ returns: Array(16).fill(1), sixes: 0, closes: 2, under: 0 });
    double.setLatency('WF12', '*', 0);
  });

  test('HOLDS: a flush on a handle with a pending wait and closeServer already called: releases it; WTSCloseServer once, after both returned', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const h = await api.openServer('WF12');
    const back = counter();
    const w = api.waitSystemEvent(h, WtsEvent.All, { onReturn: back.fn });
    await double.waitsPending(1);
    const closes = double.calls('close');
    await api.closeServer(h);
    expect(await outcome(api.enumerateSessions(h))).toBe(6);
    await api.flushSystemEvents(h);
    expect(await w).toBe(WtsEvent.None);
    await waitFor(() => double.openHandles === 0, 2000);
    await sleep(30);
    expect({ back: back.n, closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ back: 1, closes: 1, under: 0 });
  });

  // ---- 2. onReturn on every path (lanes) -------------------------------------------------------

  describe.each([
    ['lanes', {} as KoffiApiOptions],
    ['libuv', { lanes: false } as KoffiApiOptions],
  ])('onReturn paths (%s)', (_mode, modeOptions) => {
    test('HOLDS: a signal already aborted: no call made, onReturn once (sendMessage wait / no wait, waitSystemEvent, enumerateProcessesEx)', async () => {
      const { double } = get();
      double.loadFarm(exampleFarm());
      const api = fresh(modeOptions);
      const h = await api.openServer('WF12');
      const before = handleCalls(double);
      const stop = new AbortController();
      stop.abort();
      const counts = [counter(), counter(), counter(), counter(), counter()];
      const results = await Promise.all([
        outcome(api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: counts[0]!.fn })),
        outcome(api.sendMessage(h, 2, MSG_NOWAIT, { signal: stop.signal, onReturn: counts[1]!.fn })),
        outcome(api.waitSystemEvent(h, WtsEvent.All, { signal: stop.signal, onReturn: counts[2]!.fn })),
        outcome(api.enumerateProcessesEx(h, WTS_ANY_SESSION, { signal: stop.signal, onReturn: counts[3]!.fn })),
        outcome(api.sendMessage(WTS_CURRENT_SERVER_HANDLE, 1, MSG_WAIT, { signal: stop.signal, onReturn: counts[4]!.fn })),
      ]);
      expect(results).toEqual(Array(5).fill('E_ABORTED'));
      await sleep(30);
      expect(counts.map((c) => c.n)).toEqual([1, 1, 1, 1, 1]);
      expect(handleCalls(double)).toEqual(before);
      const closes = double.calls('close');
      await api.closeServer(h);
      expect(double.calls('close') - closes).toBe(1);
    });

    test('HOLDS: abandoned mid-call: rejects at once, onReturn only once the native call has returned, then the deferred close', async () => {
      const { double } = get();
      double.loadFarm(exampleFarm());
      const api = fresh(modeOptions);
      const h = await api.openServer('WF12');
      double.setLatency('WF12', 'message', 400);
      double.setLatency('WF12', 'processesEx', 400);
      const stop = new AbortController();
      const a = counter();
      const b = counter();
      const box = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: a.fn });
      const procs = api.enumerateProcessesEx(h, WTS_ANY_SESSION, { signal: stop.signal, onReturn: b.fn });
      await waitFor(() => double.calls('message') === 1 && double.calls('processesEx') === 1);
      const t0 = Date.now();
      stop.abort();
      expect(await outcome(box)).toBe('E_ABORTED');
      expect(await outcome(procs)).toBe('E_ABORTED');
      expect(Date.now() - t0).toBeLessThan(100);
      expect([a.n, b.n]).toEqual([0, 0]);
      await api.closeServer(h);
      expect(Date.now() - t0).toBeLessThan(150);
      expect(double.openHandles).toBe(1);
      await waitFor(() => a.n === 1 && b.n === 1, 3000);
      // Not before the double returned (~400 ms after it entered).
      expect(Math.min(a.at[0]!, b.at[0]!) - t0).toBeGreaterThanOrEqual(250);
      await waitFor(() => double.openHandles === 0, 2000);
      await sleep(30);
      expect({ a: a.n, b: b.n, under: double.closedUnderCall }).toEqual({ a: 1, b: 1, under: 0 });
      double.setLatency('WF12', '*', 0);
    });

    test('HOLDS: a call on a handle closeServer was called for (an abandoned call still in it): 6, no call made, onReturn once', async () => {
      const { double } = get();
      double.loadFarm(exampleFarm());
      const api = fresh(modeOptions);
      const h = await api.openServer('WF12');
      double.setLatency('WF12', 'message', 400);
      const stop = new AbortController();
      const first = counter();
      const box = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: first.fn });
      box.catch(() => undefined);
      await waitFor(() => double.calls('message') === 1);
      stop.abort();
      await api.closeServer(h);
      const before = handleCalls(double);
      const c = [counter(), counter(), counter()];
      const r = await Promise.all([
        outcome(api.sendMessage(h, 2, MSG_WAIT, { onReturn: c[0]!.fn })),
        outcome(api.waitSystemEvent(h, WtsEvent.All, { onReturn: c[1]!.fn })),
        outcome(api.enumerateProcessesEx(h, 2, { onReturn: c[2]!.fn })),
      ]);
      expect(r).toEqual([6, 6, 6]);
      expect(c.map((x) => x.n)).toEqual([1, 1, 1]);
      expect(handleCalls(double)).toEqual(before);
      await waitFor(() => double.openHandles === 0, 3000);
      expect(first.n).toBe(1);
      double.setLatency('WF12', '*', 0);
    });

    test('HOLDS: enumerateProcessesEx with a bad sessionId: InvalidArgumentError, no call, onReturn once', async () => {
      const { double } = get();
      double.loadFarm(exampleFarm());
      const api = fresh(modeOptions);
      const h = await api.openServer('WF12');
      const before = handleCalls(double);
      const counts: number[] = [];
      for (const bad of [-1, 1.5, Number.NaN, 2 ** 32, '3' as unknown as number]) {
        const c = counter();
        expect(await outcome(api.enumerateProcessesEx(h, bad, { onReturn: c.fn }))).toBe('E_INVALID_ARGUMENT');
        counts.push(c.n);
      }
      expect(counts).toEqual([1, 1, 1, 1, 1]);
      expect(handleCalls(double)).toEqual(before);
      await api.closeServer(h);
    });

    test('HOLDS: an onReturn that throws, and one that closes the handle itself: the close is made once, after the call returned', async () => {
      const { double } = get();
      double.loadFarm(exampleFarm());
      const api = fresh(modeOptions);
      const h = await api.openServer('WF12');
      double.setLatency('WF12', 'message', 200);
      const closes = double.calls('close');
      const stop = new AbortController();
      let closedFromOnReturn: Promise<void> | undefined;
      const p1 = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: () => { throw new Error('boom'); } });
      const p2 = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: () => { closedFromOnReturn = api.closeServer(h); } });
      p1.catch(() => undefined);
      p2.catch(() => undefined);
      await waitFor(() => double.calls('message') === 2);
      stop.abort();
      await waitFor(() => closedFromOnReturn !== undefined, 3000);
      await closedFromOnReturn;
      await waitFor(() => double.openHandles === 0, 2000);
      await sleep(30);
      expect({ closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ closes: 1, under: 0 });
      double.setLatency('WF12', '*', 0);
    });
  });

  // Promise 2 in the libuv mode: "called ... when it was never made (... its arguments failed)".
  // The lanes check that arguments convert before posting (lanes-attack: a malformed handle 1.5);
  // #viaLibuv converts them inside the Promise executor of `fn.async(...args.map(BigInt))`: BigInt(1.5)
  // throws there, the promise rejects, and nothing after runs — no callReturn, no slots.release(),
  // no block.free(). Expected: a rejection and onReturn once. Observed: the rejection, onReturn never.
  test('FIXED: libuv mode, a call whose handle does not convert (1.5): it rejects, but onReturn is never called', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ lanes: false });
    const c = counter();
    const r = await outcome(api.sendMessage(1.5 as unknown as ServerHandle, 2, MSG_NOWAIT, { onReturn: c.fn }));
    expect(r).not.toBe('resolved');
    await sleep(50);
    expect(c.n).toBe(1); // observed: 0
  });

  test('HOLDS: lanes mode, the same malformed handle (1.5): rejects, onReturn once', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const c = counter();
    const r = await outcome(api.sendMessage(1.5 as unknown as ServerHandle, 2, MSG_NOWAIT, { onReturn: c.fn }));
    expect(r).not.toBe('resolved');
    await sleep(50);
    expect(c.n).toBe(1);
  });

  // ---- onReturn on the lanes' own refusals -----------------------------------------------------

  test('HOLDS: abandoned while queued behind maxWaitThreads: no call made, onReturn once at once; the close is made at once when it was the last call', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxWaitThreads: 1 });
    const other = await api.openServer('TS01');
    const h = await api.openServer('WF12');
    const first = api.waitSystemEvent(other, WtsEvent.All); // holds the one wait lane
    await double.waitsPending(1);
    const stop = new AbortController();
    const queuedWait = counter();
    const queuedBox = counter();
    const w = api.waitSystemEvent(h, WtsEvent.All, { signal: stop.signal, onReturn: queuedWait.fn });
    const b = api.sendMessage(h, 2, MSG_WAIT, { signal: stop.signal, onReturn: queuedBox.fn });
    expect(lanesNow(api).queued).toBe(2);
    const before = handleCalls(double);
    const closes = double.calls('close');
    // closeServer first, the abort in the same turn: the close waits for both, which are never made.
    const closed = api.closeServer(h);
    stop.abort();
    await closed;
    expect([await outcome(w), await outcome(b)]).toEqual(['E_ABORTED', 'E_ABORTED']);
    expect([queuedWait.n, queuedBox.n]).toEqual([1, 1]);
    await waitFor(() => double.calls('close') - closes === 1, 1000);
    expect(handleCalls(double)).toEqual(before);
    await api.flushSystemEvents(other);
    expect(await first).toBe(WtsEvent.None);
    await api.closeServer(other);
  });

  test('HOLDS: abandoned while queued behind maxThreads, and refused with ThreadsExhaustedError: onReturn once each, no call made', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 1, stuckAfterMs: 150 });
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'processesEx', 600);
    const running = api.enumerateProcessesEx(h, WTS_ANY_SESSION); // holds the one lane
    await waitFor(() => double.calls('processesEx') === 1);
    const stop = new AbortController();
    const queued = counter();
    const q = api.enumerateProcessesEx(h, 2, { signal: stop.signal, onReturn: queued.fn });
    expect(lanesNow(api).queued).toBe(1);
    stop.abort();
    expect(await outcome(q)).toBe('E_ABORTED');
    expect(queued.n).toBe(1);
    // Stuck after 150 ms: the next call is refused at once.
    await waitFor(() => lanesNow(api).stuck === 1, 1000);
    const refused = counter();
    expect(await outcome(api.enumerateProcessesEx(h, 2, { onReturn: refused.fn }))).toBe('E_THREADS_EXHAUSTED');
    const refusedBox = counter();
    expect(await outcome(api.sendMessage(h, 2, MSG_NOWAIT, { onReturn: refusedBox.fn }))).toBe('E_THREADS_EXHAUSTED');
    expect([refused.n, refusedBox.n]).toEqual([1, 1]);
    expect(double.calls('processesEx')).toBe(1);
    expect(double.calls('message')).toBe(0);
    await running;
    double.setLatency('WF12', 'processesEx', 0);
    const closes = double.calls('close');
    await api.closeServer(h);
    expect(double.calls('close') - closes).toBe(1);
  });

  test('HOLDS: a refused close with no call left: closeServer resolves (never rejects), the handle is closed once a lane frees, once', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxThreads: 1, stuckAfterMs: 100 });
    const h = await api.openServer('WF12');
    double.setLatency('TS01', 'open', 1300);
    const stuck = api.openServer('TS01');
    await waitFor(() => lanesNow(api).stuck === 1, 2000);
    const closes = double.calls('close');
    await expect(api.closeServer(h)).resolves.toBeUndefined();
    expect(await outcome(api.enumerateSessions(h))).toBe(6);
    const t = await stuck;
    double.setLatency('TS01', 'open', 0);
    await waitFor(() => double.calls('close') - closes === 1, 3000);
    await sleep(1200); // one more retry period: no second close
    await api.closeServer(t);
    expect(double.calls('close') - closes).toBe(2);
  });

  // ---- the api layer, end to end ---------------------------------------------------------------

  test('HOLDS: createWts().sendMessage({ server, wait: true, signal }) x6 at once, all abandoned: every handle closed once, after its box returned', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const wts = createWts({ api });
    double.setLatency('WF12', 'message', 600);
    const opens = double.calls('open');
    const closes = double.calls('close');
    const stop = new AbortController();
    const sent = Array.from({ length: 6 }, () => wts.sendMessage(2, { server: 'WF12', text: 'Saving?', wait: true, signal: stop.signal }));
    for (const s of sent) s.catch(() => undefined);
    await waitFor(() => double.calls('message') === 6, 3000);
    stop.abort();
    for (const s of sent) await expect(s).rejects.toMatchObject({ code: 'E_ABORTED', requests: ['WTSSendMessageW'] });
    expect(double.openHandles).toBe(6);
    await waitFor(() => double.openHandles === 0, 3000);
    await sleep(30);
    expect({ opens: double.calls('open') - opens, closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ opens: 6, closes: 6, under: 0 });
    double.setLatency('WF12', 'message', 0);
  });

  test('HOLDS: logoffAll on a remote server, its signal aborted while logoffs are in flight: returns at once; the handle is closed once, after they returned', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    const wts = createWts({ api });
    double.setLatency('WF12', 'logoff', 500);
    const closes = double.calls('close');
    const stop = new AbortController();
    const all = wts.logoffAll({ server: 'WF12', signal: stop.signal });
    await waitFor(() => double.calls('logoff') > 0, 3000);
    const t0 = Date.now();
    stop.abort();
    const outcomes = await all;
    expect(Date.now() - t0).toBeLessThan(200);
    expect(outcomes.some((o) => o.status === 'requested')).toBe(true);
    expect(double.openHandles).toBe(1);
    await waitFor(() => double.openHandles === 0, 3000);
    const logoffs = double.calls('logoff');
    await sleep(300);
    expect({ closes: double.calls('close') - closes, under: double.closedUnderCall, laterLogoffs: double.calls('logoff') - logoffs }).toEqual({ closes: 1, under: 0, laterLogoffs: 0 });
    double.setLatency('WF12', 'logoff', 0);
  });

  test('HOLDS: listProcesses over servers cut by serverTimeoutMs while WTSEnumerateProcessesExW runs: the handle is closed once, after it returned', async () => {
    const { double } = get();
    double.loadFarm(farmWithProcesses());
    const api = fresh();
    const wts = createWts({ api });
    double.setLatency('WF12', 'processesEx', 700);
    const closes = double.calls('close');
    const r = await wts.listProcesses({ servers: ['WF12'], serverTimeoutMs: 200 });
    expect(r.failures.map((f) => f.error.code)).toEqual(['E_SERVER_TIMEOUT']);
    expect(double.openHandles).toBe(1);
    await waitFor(() => double.openHandles === 0, 3000);
    await sleep(30);
    expect({ closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ closes: 1, under: 0 });
    double.setLatency('WF12', 'processesEx', 0);
  });

  test('HOLDS: terminateProcess on a remote server, its signal aborted while a termination is in flight: no termination after the abort, the handle closed once', async () => {
    const { double } = get();
    double.loadFarm(farmWithProcesses());
    const api = fresh();
    const wts = createWts({ api });
    double.setLatency('WF12', 'terminate', 400);
    const closes = double.calls('close');
    const stop = new AbortController();
    const ended = wts.terminateProcess({ name: 'excel.exe', session: 2 }, { server: 'WF12', concurrency: 1, signal: stop.signal });
    await waitFor(() => double.calls('terminate') === 1, 3000);
    stop.abort();
    const outcomes = await ended;
    expect(outcomes.map((o) => o.status)).toEqual(['terminated', 'skipped', 'skipped']);
    await waitFor(() => double.openHandles === 0, 3000);
    await sleep(30);
    expect({ terminations: double.calls('terminate'), closes: double.calls('close') - closes, under: double.closedUnderCall }).toEqual({ terminations: 1, closes: 1, under: 0 });
    double.setLatency('WF12', 'terminate', 0);
  });

  // ---- 4. process exit (child processes running dist/) -----------------------------------------

  const child = (doublePath: string, body: string) => `
    const ROOT = ${JSON.stringify(ROOT)};
    const { createKoffiApi } = require(ROOT + '/dist/index.js');
    const koffi = require('koffi');
    const lib = koffi.load(${JSON.stringify(doublePath)});
    const add = lib.func('int WtsDouble_AddServer(const char16_t *, uint32_t, uint32_t, uint32_t, int)');
    const put = lib.func('int WtsDouble_PutSession(const char16_t *, uint32_t, int, const char16_t *, const char16_t *, const char16_t *, const char16_t *, uint32_t, const uint8_t *, uint32_t)');
    const latency = lib.func('int WtsDouble_SetLatency(const char16_t *, int, uint32_t)');
    const callCount = lib.func('long WtsDouble_CallCount(int)');
    const closes = () => callCount(7);
    add('A', 1, 1, 0, 0); add('B', 1, 1, 0, 0);
    put('A', 1, 0, 'Console', 'u', 'D', '', 0, new Uint8Array(20), 7);
    const MSG = { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true };
    const t0 = Date.now();
    process.on('exit', () => console.log('exit ' + (Date.now() - t0) + ' closes ' + closes()));
    (async () => { ${body} })().catch((e) => { console.log('error ' + e.message); });
  `;
  const runChild = (body: string, timeout = 20_000) => {
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', child(get().double.path, body)], { cwd: ROOT, encoding: 'utf8', timeout });
    const m = /exit (\d+) closes (\d+)/.exec(r.stdout);
    return { status: r.status, signal: r.signal, ms: m ? Number(m[1]) : -1, closes: m ? Number(m[2]) : -1, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  test('HOLDS: a close the lanes refuse (the one lane held by an abandoned 4 s call) does not keep the process alive', () => {
    const r = runChild(`
      const api = createKoffiApi({ wtsapi32: ${JSON.stringify(get().double.path)}, kernel32: ${JSON.stringify(get().double.path)}, maxThreads: 1, stuckAfterMs: 50 });
      const a = await api.openServer('A');
      const b = await api.openServer('B');
      latency('A', 13, 4000);
      const stop = new AbortController();
      api.enumerateProcessesEx(a, 0xfffffffe, { signal: stop.signal }).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      stop.abort();
      await api.closeServer(b); // refused: retried in the background (unref'd timer)
      await api.closeServer(a); // deferred until the abandoned call returns
      console.log('closed');
    `);
    expect({ status: r.status, signal: r.signal, out: r.out.split('\n')[0] }).toEqual({ status: 0, signal: null, out: 'closed' });
    expect(r.ms).toBeLessThan(2000); // not the abandoned call's 4 s
  });

  /** A child process that abandons a 3 s message box after 50 ms and closes its handle; `options` go to createKoffiApi. */
  const abandonedBox = (options: string) =>
    runChild(`
      const api = createKoffiApi({ wtsapi32: ${JSON.stringify(get().double.path)}, kernel32: ${JSON.stringify(get().double.path)}${options} });
      const a = await api.openServer('A');
      latency('A', 5, 3000);
      const stop = new AbortController();
      api.sendMessage(a, 1, MSG, { signal: stop.signal }).catch(() => {});
      setTimeout(() => stop.abort(), 50);
      await api.closeServer(a);
    `);

  test('HOLDS: lanes mode, an abandoned message box (3 s) does not keep the process alive', () => {
    const r = abandonedBox('');
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.ms).toBeLessThan(1500);
  });

  // In the libuv mode the call runs on koffi's `.async` (uv_queue_work), which holds the event loop
  // until the call returns; abandoning it only settles the promise. The process lives until the
  // abandoned box returns (~3 s). docs/threads.md ("Where there are no lanes") now says so.
  test('DOCUMENTED LIMIT: libuv mode, an abandoned message box (3 s) keeps the process alive until it returns', () => {
    const r = abandonedBox(', lanes: false');
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.ms).toBeGreaterThanOrEqual(2500);
  });

  // Promise 2 in the libuv mode, its consequence: each call whose arguments do not convert keeps one
  // of the process-wide koffi `.async` slots (asyncSlots, 192) for ever (see the FOUND above: the
  // executor throws before anything releases it). Expected: 200 such calls reject, and a good call
  // after them is answered. Observed: 'rejected 192 then: stranded' — the 193rd malformed call already
  // waits for a slot for ever (192 = 0.75 x koffi's max_async_calls), and so would any call after it.
  test('FIXED: libuv mode, 200 calls with a malformed handle leak every .async slot: every later call hangs for ever', () => {
    const r = runChild(`
      const api = createKoffiApi({ wtsapi32: ${JSON.stringify(get().double.path)}, kernel32: ${JSON.stringify(get().double.path)}, lanes: false });
      const a = await api.openServer('A');
      let rejected = 0;
      const timer = setTimeout(() => { console.log('rejected ' + rejected + ' then: stranded'); process.exit(0); }, 3000);
      for (let i = 0; i < 200; i++) await api.sendMessage(1.5, 1, { ...MSG, wait: false }).catch(() => rejected++);
      const answer = await api.querySessionInformation(a, 1, 'WTSUserName');
      clearTimeout(timer);
      console.log('rejected ' + rejected + ' then: ' + answer);
      await api.closeServer(a);
    `);
    expect(r.out.split('\n')[0]).toBe('rejected 200 then: u'); // observed: 'rejected 192 then: stranded'
  });

  // ---- the property ------------------------------------------------------------------------------

  type Kind = 'enum' | 'query' | 'msgWait' | 'msgNoWait' | 'wait' | 'procEx';
  type Op =
    | { t: 'open'; s: number }
    | { t: 'call'; kind: Kind; h: number; signal: 'none' | 'live' | 'pre' }
    | { t: 'abort'; c: number }
    | { t: 'close'; h: number; twice: boolean; await: boolean }
    | { t: 'flush'; h: number }
    | { t: 'event'; s: number }
    | { t: 'sleep'; ms: number };

  const SERVERS = ['WF12', 'TS01'];

  const opArb = (kinds: readonly Kind[]): fc.Arbitrary<Op> =>
    fc.oneof(
      { weight: 1, arbitrary: fc.record({ t: fc.constant('open' as const), s: fc.nat(1) }) },
      { weight: 6, arbitrary: fc.record({ t: fc.constant('call' as const), kind: fc.constantFrom(...kinds), h: fc.nat(7), signal: fc.constantFrom('none' as const, 'live' as const, 'live' as const, 'pre' as const) }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('abort' as const), c: fc.nat(30) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('close' as const), h: fc.nat(7), twice: fc.boolean(), await: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('flush' as const), h: fc.nat(7) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('event' as const), s: fc.nat(1) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
    );

  interface Issued {
    readonly kind: Kind;
    readonly h: number;
    readonly afterClose: boolean;
    readonly ret: ReturnType<typeof counter> | undefined;
    readonly controller: AbortController | undefined;
    settled: string | number | undefined;
  }

  /**
   * One random run: calls of every kind on a few handles (two servers, reopened), some with signals
   * aborted at random, closes (some twice, some not awaited), flushes, events. Then everything is
   * released and closed. Checked: every onReturn once; a call made after closeServer on its handle
   * rejects with 6, one made before never does; no WTSCloseServer under a call; exactly one
   * WTSCloseServer per handle opened; no handle left open.
   */
  async function runOnce(api: KoffiApi, double: NativeDouble, ops: Op[], latencies: number[]): Promise<void> {
    double.loadFarm(exampleFarm());
    for (const s of SERVERS) {
      double.setLatency(s, 'message', latencies[0]!);
      double.setLatency(s, 'wait', latencies[1]!);
      double.setLatency(s, 'processesEx', latencies[2]!);
      double.setLatency(s, 'enumerate', latencies[3]!);
      double.setLatency(s, 'query', latencies[3]!);
    }
    const closes0 = double.calls('close');
    const handles: Array<{ h: ServerHandle; s: number; closed: boolean }> = [];
    const closings: Array<Promise<void>> = [];
    const issued: Issued[] = [];
    const pending: Array<Promise<void>> = [];
    /** openServer, made again while the lanes refuse it (ThreadsExhaustedError); undefined after 3 s of refusals. */
    const open = async (s: number): Promise<ServerHandle | undefined> => {
      const until = Date.now() + 3000;
      for (;;) {
        try {
          return await api.openServer(SERVERS[s]!);
        } catch (error) {
          if ((error as { code?: string }).code !== 'E_THREADS_EXHAUSTED' || Date.now() > until) throw error;
          for (const x of SERVERS) double.raiseEvent(x, WtsEvent.Create);
          await sleep(15);
        }
      }
    };
    for (const s of [0, 1]) handles.push({ h: (await open(s))!, s, closed: false });
    const TRACE = process.env['CLOSE_TRACE'] === '1';
    const t0 = Date.now();
    const trace: string[] = [];
    let lastUnder = double.closedUnderCall;
    let lastClose = double.calls('close');
    const poll = TRACE
      ? setInterval(() => {
          const u = double.closedUnderCall;
          const c = double.calls('close');
          if (u !== lastUnder || c !== lastClose) trace.push(`${Date.now() - t0}ms under=${u} closes=${c} open=${double.openHandles} lanes=${JSON.stringify(api.threads.mode === 'lanes' ? api.threads.now : {})}`);
          lastUnder = u;
          lastClose = c;
        }, 1)
      : undefined;
    for (const op of ops) {
      if (TRACE) trace.push(`${Date.now() - t0}ms op ${JSON.stringify(op)} handles=${JSON.stringify(handles.map((x) => [String(x.h), x.s, x.closed]))}`);
      switch (op.t) {
        case 'open':
          handles.push({ h: (await open(op.s))!, s: op.s, closed: false });
          break;
        case 'call': {
          const slot = handles[op.h % handles.length]!;
          const controller = op.signal === 'none' ? undefined : new AbortController();
          if (op.signal === 'pre') controller!.abort();
          const withReturn = op.kind === 'msgWait' || op.kind === 'msgNoWait' || op.kind === 'wait' || op.kind === 'procEx';
          const ret = withReturn ? counter() : undefined;
          const options: CallOptions = { ...(controller ? { signal: controller.signal } : {}), ...(ret ? { onReturn: ret.fn } : {}) };
          const h = slot.h;
          const sid = slot.s === 0 ? 2 : 1;
          const p: Promise<unknown> =
            op.kind === 'enum' ? api.enumerateSessions(h)
            : op.kind === 'query' ? api.querySessionInformation(h, sid, 'WTSUserName')
            : op.kind === 'msgWait' ? api.sendMessage(h, sid, MSG_WAIT, options)
            : op.kind === 'msgNoWait' ? api.sendMessage(h, sid, MSG_NOWAIT, options)
            : op.kind === 'wait' ? api.waitSystemEvent(h, WtsEvent.All, options)
            : api.enumerateProcessesEx(h, WTS_ANY_SESSION, options);
          const entry: Issued = { kind: op.kind, h: handles.indexOf(slot), afterClose: slot.closed, ret, controller, settled: undefined };
          issued.push(entry);
          pending.push(outcome(p).then((r) => void (entry.settled = r)));
          break;
        }
        case 'abort': {
          const withSignal = issued.filter((i) => i.controller);
          if (withSignal.length) withSignal[op.c % withSignal.length]!.controller!.abort();
          break;
        }
        case 'close': {
          const slot = handles[op.h % handles.length]!;
          slot.closed = true;
          const c = api.closeServer(slot.h);
          closings.push(c);
          if (op.twice) closings.push(api.closeServer(slot.h));
          if (op.await) await c;
          break;
        }
        case 'flush': {
          // Only on a handle not closed: the flush on a closed handle is attacked (FOUND) above.
          const slot = handles[op.h % handles.length]!;
          if (!slot.closed) pending.push(outcome(api.flushSystemEvents(slot.h)).then(() => undefined));
          break;
        }
        case 'event':
          double.raiseEvent(SERVERS[op.s]!, WtsEvent.Create);
          break;
        case 'sleep':
          await sleep(op.ms);
          break;
      }
    }
    // Release everything: abort every signal, wake every wait, until every call has settled and
    // every onReturn has run.
    for (const i of issued) i.controller?.abort();
    const deadline = Date.now() + 8000;
    const done = () => issued.every((i) => i.settled !== undefined && (i.ret === undefined || i.ret.n >= 1));
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`calls never returned: ${JSON.stringify(issued.filter((i) => i.settled === undefined || (i.ret && i.ret.n < 1)).map((i) => [i.kind, i.settled, i.ret?.n]))}`);
      for (const s of SERVERS) double.raiseEvent(s, WtsEvent.Create);
      await sleep(10);
    }
    await Promise.all(pending);
    for (const slot of handles) if (!slot.closed) closings.push(api.closeServer(slot.h));
    await Promise.all(closings);
    await waitFor(() => double.openHandles === 0, 3000);
    await sleep(20);
    if (poll) clearInterval(poll);
    if (TRACE && double.closedUnderCall) console.log(trace.join('\n') + '\n' + issued.map((i) => `${i.kind} h${i.h} after=${i.afterClose} -> ${String(i.settled)} ret=${i.ret?.n}`).join('\n'));
    const bad = {
      returns: issued.filter((i) => i.ret && i.ret.n !== 1).map((i) => `${i.kind}:${i.ret!.n}`),
      codeSixBeforeClose: issued.filter((i) => !i.afterClose && i.settled === 6).map((i) => i.kind),
      notSixAfterClose: issued.filter((i) => i.afterClose && i.settled !== 6 && i.settled !== 'E_ABORTED').map((i) => `${i.kind}:${String(i.settled)}`),
      closes: double.calls('close') - closes0 - handles.length,
      under: double.closedUnderCall,
      open: double.openHandles,
    };
    expect(bad).toEqual({ returns: [], codeSixBeforeClose: [], notSixAfterClose: [], closes: 0, under: 0, open: 0 });
    for (const s of SERVERS) double.setLatency(s, '*', 0);
  }

  const ALL_KINDS: readonly Kind[] = ['enum', 'query', 'msgWait', 'msgNoWait', 'wait', 'procEx'];
  const propertyCases: Array<[string, string, KoffiApiOptions, readonly Kind[], number, number]> = [
    // Ordinary calls never queue (32 lanes for at most 24 calls): the double-booked lane (FOUND above)
    // cannot happen, so this pins the accounting itself.
    ['HOLDS', 'lanes, room for every call', { maxThreads: 32, maxWaitThreads: 32 }, ALL_KINDS, 20261206, 30],
    // Waits and boxes queue behind waits (one wait lane) and are abandoned while queued; ordinary
    // calls (the deferred close among them) never queue.
    ['HOLDS', 'lanes, 1 wait thread: long calls queue and are abandoned while queued', { maxThreads: 32, maxWaitThreads: 1 }, ALL_KINDS, 99, 30],
    // NOT RUN HERE: the same property with { maxThreads: 2, maxWaitThreads: 2, stuckAfterMs: 40 }
    // (seed 31337, 15 runs) failed at run 15 (path "14") with closedUnderCall 1 — a flush queued behind
    // a call whose return started the deferred close of another handle got the double-booked lane,
    // was settled with the close's result, and its handle was then closed while it was still inside
    // the double — and, run again, crashed this jest worker (SIGSEGV). { maxThreads: 2,
    // maxWaitThreads: 1 } (seed 99) hung the worker's event loop. Both are the double-booked lane.
    // No event waits: they would hold libuv's pool.
    ['HOLDS', 'libuv mode', { lanes: false }, ['enum', 'query', 'msgWait', 'msgNoWait', 'procEx'], 7, 20],
  ];

  test.each(propertyCases)('%s: property (%s): random calls, abandonments, closes (twice, unawaited), reopens, flushes, events', async (_label, _name, options, kinds, seed, numRuns) => {
    const { double } = get();
    const api = fresh(options);
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb(kinds), { minLength: 4, maxLength: 24 }),
        fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 30 })),
        async (ops, latencies) => {
          await runOnce(api, double, ops, latencies);
          expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 });
        },
      ),
      { seed, numRuns, endOnFailure: true },
    );
  }, 120_000);
});
