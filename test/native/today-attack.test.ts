/**
 * Adversarial tests of the waits bounded by timeoutMs and the signal (2026-12-06, edbb05c) and of
 * queued calls, on the koffi backend and the native double of wtsapi32. Judged by docs/logoff.md
 * ("Waiting"), docs/threads.md, src/wtsapi.ts (WtsApi.closeServer, CallOptions.onQueued),
 * docs/sendMessage.md. setup's afterEach checks the double's leak counters (handles, allocations,
 * closedUnderCall) after every test.
 *
 * FIXED: failed before the fix (a broken promise). HOLDS: an attack the code withstood.
 */
import { spawnSync } from 'node:child_process';
import { createKoffiApi, type KoffiApi } from '../../src/backends/koffi/koffi-api';
import { createWts, type MessageOutcome } from '../../src/index';
import { exampleFarm, overriding, ROOT, sleep, waitFor } from '../helpers';
import { childPrelude } from './child';
import { describeWithDouble } from './setup';

jest.setTimeout(30_000);

const outcomes0 = (r: { results: readonly MessageOutcome[] }): readonly MessageOutcome[] => r.results;

describeWithDouble('bounded waits and queued calls, attacked (koffi + the native double)', (get) => {
  const fresh = (limits: { maxWaitThreads?: number } = {}): KoffiApi => {
    const p = get().double.path;
    return createKoffiApi({ wtsapi32: p, kernel32: p, advapi32: p, netapi32: p, ...limits });
  };

  // ---- a command that timed out exits -------------------------------------------------------

  // docs/threads.md: "While a call someone awaits is queued or running, the event loop is kept
  // alive; an abandoned call does not keep the process alive (a command that timed out exits; the
  // thread dies with it)." docs/logoff.md: a poll that does not come back is cut at timeoutMs, "the
  // query is left to return unseen". The cut query is not abandoned through CallOptions (the
  // library only stops awaiting it), so the lanes still count it as awaited and keep the event loop
  // alive until it returns: a script (or wts-logoff on Windows) whose logoff timed out after 200 ms
  // lives on for as long as the server takes to answer the query (here 1500 ms; an RPC timeout on
  // a server that stopped answering: tens of seconds).
  const childScript = (doublePath: string, how: 'logoff' | 'logoffAll' | 'disconnect') => `
    ${childPrelude(doublePath)}
    const closingPolls = lib.func('void WtsDouble_SetClosingPolls(int)');
    add('TS01', 1, 0xffffffff, 0, 0);
    add('WF12', 0xffffffff, 0xffffffff, 0, 0);
    for (const srv of ['TS01', 'WF12']) for (const id of [1, 2]) put(srv, id, 0, 'RDP-Tcp#' + id, 'u' + id, 'D', '', 0, new Uint8Array(20), 1);
    setLocal('TS01');
    closingPolls(1000000);
    const how = ${JSON.stringify(how)};
    const api = createKoffiApi({ wtsapi32: DOUBLE, kernel32: DOUBLE, advapi32: DOUBLE, netapi32: DOUBLE });
    // Once the request is made, the server stops answering for 1500 ms (every query and listing).
    const slow = () => { setLatency('WF12', 2, 1500); setLatency('WF12', 6, 1500); setLatency('WF12', 1, 1500); };
    // logoffAll makes two requests, each after its own re-check: the server slows down once both
    // are made (a re-check held back by the slow server is not the wait this test is about; on a
    // loaded machine the second re-check could come after the first request).
    let requests = 0;
    const wrapped = new Proxy(api, { get(t, k) {
      const v = Reflect.get(t, k, t);
      if (k === 'logoffSession' || k === 'disconnectSession') return async (...a) => { const r = await v.apply(t, a); if (how !== 'logoffAll' || ++requests === 2) slow(); return r; };
      return typeof v === 'function' ? v.bind(t) : v;
    } });
    const wts = createWts({ api: wrapped });
    const t0 = Date.now();
    let settledAt = -1, result;
    process.on('exit', () => console.log(JSON.stringify({ result, settledAt, exitAt: Date.now() - t0 })));
    const opts = { server: 'WF12', timeoutMs: 200, pollIntervalMs: 10 };
    const run = how === 'logoff' ? wts.logoff(2, opts) : how === 'disconnect' ? wts.disconnect(2, opts) : wts.logoffAll(opts);
    run.then((r) => { result = Array.isArray(r) ? r.map((o) => o.status + (o.error ? ':' + o.error.code : '')).join(',') : r.status; }, (e) => { result = e.code; })
      .finally(() => { settledAt = Date.now() - t0; });
  `;

  test.each(['logoff', 'disconnect', 'logoffAll'] as const)('FIXED: %s with timeoutMs 200, the poll cut at the deadline: the call settles, but the process lives on until the cut query returns (1.5 s)', (how) => {
    const { double } = get();
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', childScript(double.path, how)], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { result: string; settledAt: number; exitAt: number };
    expect(out.result).toMatch(/E_TIMEOUT/);
    expect(out.settledAt).toBeLessThan(1000);
    // ms the process lived on after the call settled (nothing else to do): the cut query's remaining latency
    expect(out.exitAt - out.settledAt).toBeLessThan(400);
  });

  // ---- the handle of a cut poll -------------------------------------------------------------

  // docs/logoff.md: "the query is left to return unseen, and the handle is closed only once it
  // has". WtsApi.closeServer: a call still running on the handle is never closed under.
  test.each(['logoff', 'disconnect', 'logoffAll'] as const)('HOLDS: %s: the poll cut at timeoutMs, WTSCloseServer waits for the cut query (closedUnderCall 0), then the handle is closed', async (how) => {
    const { double } = get();
    double.loadFarm(exampleFarm(), 1_000_000);
    const api = fresh();
    const slow = () => {
      double.setLatency('WF12', 'query', 700);
      double.setLatency('WF12', 'enumerateEx', 700);
      double.setLatency('WF12', 'enumerate', 700);
    };
    // The server slows down once every request is made (logoffAll makes two, each after its own
    // re-check, which a slow server would hold back before the wait even starts).
    let requests = 0;
    const wrapped = overriding(api, {
      logoffSession: async (h, id) => {
        await api.logoffSession(h, id);
        if (how !== 'logoffAll' || ++requests === 2) slow();
      },
      disconnectSession: async (h, id) => {
        await api.disconnectSession(h, id);
        slow();
      },
    });
    const closesBefore = double.calls('close');
    const wts = createWts({ api: wrapped });
    const opts = { server: 'WF12', timeoutMs: 100, pollIntervalMs: 5 };
    const t0 = Date.now();
    const settled = await (how === 'logoff' ? wts.logoff(2, opts) : how === 'disconnect' ? wts.disconnect(2, opts) : wts.logoffAll(opts)).then(
      (r: unknown) => (Array.isArray(r) ? (r as Array<{ status: string }>).map((o) => o.status) : (r as { status: string }).status),
      (e: { code: string }) => e.code,
    );
    const took = Date.now() - t0;
    await sleep(30);
    const closesWhileRunning = double.calls('close') - closesBefore;
    await sleep(900);
    double.setLatency('WF12', '*', 0);
    expect({ settled, fast: took < 600, closesWhileRunning, closesAfter: double.calls('close') - closesBefore, closedUnderCall: double.closedUnderCall }).toEqual({
      settled: how === 'logoffAll' ? expect.arrayContaining(['failed']) : 'E_TIMEOUT',
      fast: true,
      closesWhileRunning: 0,
      closesAfter: 1,
      closedUnderCall: 0,
    });
  });

  // ---- sendMessageAll({ wait }) cut by a server's timeout with boxes queued -------------------

  // docs/sendMessage.md: "With `wait`, a call cut short (an abort, a server's timeout) reports a box
  // already up `requested`, and one still waiting for a thread (beyond `maxWaitThreads`) `skipped`
  // (`aborted` / `timeout`, "never made") with no request listed."
  test.each([600, 120])('HOLDS: sendMessageAll({ wait, servers }) cut by serverTimeoutMs (250 ms) with boxes queued behind maxWaitThreads, each box up for %i ms: queued ones skipped (timeout, never made, no request), those up requested; requests = boxes the double saw', async (boxMs) => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    double.setLatency('TS01', 'message', boxMs);
    double.setLatency('WF12', 'message', boxMs);
    const api = fresh({ maxWaitThreads: 1 });
    const messages = double.calls('message');
    const result = await createWts({ api }).sendMessageAll({ servers: ['TS01', 'WF12'], text: 'Save your work', wait: true, serverTimeoutMs: 250 });
    const madeAtCut = double.calls('message') - messages;
    await sleep(1500); // the boxes up return; their lanes come back
    const answered = outcomes0(result).filter((o) => o.status === 'sent').length;
    double.setLatency('TS01', 'message', 0);
    double.setLatency('WF12', 'message', 0);
    const made = double.calls('message') - messages;
    const outcomes = result.results as readonly MessageOutcome[];
    const listing = outcomes.filter((o) => o.requests.includes('WTSSendMessageW'));
    const unmade = outcomes.filter((o) => o.status === 'skipped' && o.reason === 'timeout' && /never made/.test(o.message));
    // TS01's seven boxes cannot all be answered in 250 ms on one wait thread; WF12's two may be
    // (under Wine they were): every server that failed timed out, and at least one did.
    expect(result.failures.length).toBeGreaterThanOrEqual(1);
    expect(result.failures.map((f) => f.error.code).every((c) => c === 'E_SERVER_TIMEOUT')).toBe(true);
    expect(unmade.length).toBeGreaterThan(0);
    for (const o of unmade) expect(o.requests).toEqual([]);
    // (A box posted to its thread right at the cut enters the double a moment later: the count
    // right after the result may miss it, so the invariant is on the count once all returned.)
    expect(made).toBeGreaterThanOrEqual(madeAtCut);
    expect({ listing: listing.length, answeredWhenQueuedThenStarted: boxMs < 250 ? answered > 0 : true }).toEqual({ listing: made, answeredWhenQueuedThenStarted: true });
    await waitFor(() => api.threads.mode === 'lanes' && api.threads.now.running === 0, 3000);
  });

  // docs/threads.md: "When such a watch ends, its queued waits are dropped at once, never made";
  // docs/watchSessions.md: ending by the signal is an end like return().
  test('HOLDS: a watch ended by its signal while its wait is queued behind maxWaitThreads (a box holds the only wait lane for 1.5 s): next() rejects and the handle is closed within 1 s; no wait made', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxWaitThreads: 1 });
    const h = await api.openServer('TS01');
    double.setLatency('TS01', 'message', 1500);
    const box = api.sendMessage(h, 3, { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true }).catch((e: Error) => e);
    try {
      await waitFor(() => double.calls('message') === 1);
      const stop = new AbortController();
      const it = createWts({ api }).watchSessions({ server: 'WF12', initial: true, reconcileMs: 0, signal: stop.signal })[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ type: 'snapshot' });
      await waitFor(() => api.threads.mode === 'lanes' && api.threads.now.queued === 1);
      const waits = double.calls('wait');
      const handles = double.openHandles;
      const t0 = Date.now();
      stop.abort(new Error('done'));
      const end = await it.next().then(
        (r) => (r.done ? 'done' : 'event'),
        (e: { code?: string }) => e.code ?? 'rejected',
      );
      const took = Date.now() - t0;
      expect({ end, fast: took < 1000, waitsMade: double.calls('wait') - waits, handlesClosed: handles - double.openHandles, queued: api.threads.mode === 'lanes' ? api.threads.now.queued : -1 }).toEqual({
        end: expect.stringMatching(/^(E_ABORTED|done)$/),
        fast: true,
        waitsMade: 0,
        handlesClosed: 1,
        queued: 0,
      });
    } finally {
      double.setLatency('TS01', 'message', 0);
      await box;
      await api.closeServer(h);
    }
  });
});
