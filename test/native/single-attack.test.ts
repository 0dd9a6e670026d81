/**
 * Adversarial tests of sendMessage(target) on the real backend (koffi + the native double of
 * wtsapi32), where a promise depends on the backend: what an abort says was sent.
 *
 * FIXED: failed before the fix (the code broke a documented promise). HOLDS: an attack the code withstood.
 */
import { createKoffiApi, type KoffiApi } from '../../src/backends/koffi/koffi-api';
import { createWts } from '../../src/index';
import { WtsEvent } from '../../src/wtsapi';
import { exampleFarm, waitFor } from '../helpers';
import { describeWithDouble } from './setup';

jest.setTimeout(30_000);

describeWithDouble('sendMessage(target) aborted, attacked (koffi + the native double)', (get) => {
  const fresh = (limits: { maxWaitThreads?: number } = {}): KoffiApi => {
    const p = get().double.path;
    return createKoffiApi({ wtsapi32: p, kernel32: p, advapi32: p, netapi32: p, ...limits });
  };
  const queued = (api: KoffiApi): number => (api.threads.mode === 'lanes' ? api.threads.now.queued : -1);

  // docs/errors.md: "`requests` lists the requests already sent (and accepted) when the error came".
  // docs/sendMessage.md, `signal`: "stops waiting for the answer: `OperationAbortedError` with
  // `requests: ['WTSSendMessageW']` (the box is on the screen)". docs/threads.md: "Waits beyond
  // `maxWaitThreads` queue too". A message box waiting for its answer queued behind the wait
  // threads, then aborted, was never sent (the lanes drop it unmade) — yet the error says it was.
  test('FIXED: sendMessage(wait: true) queued behind maxWaitThreads and aborted: no WTSSendMessageW was made, yet the error says requests [WTSSendMessageW] ("had already been sent")', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh({ maxWaitThreads: 1 });
    const other = await api.openServer('WF12');
    const holder = api.waitSystemEvent(other, WtsEvent.All); // holds the only wait thread
    await double.waitsPending(1);
    const stop = new AbortController();
    const messages = double.calls('message');
    const sent = createWts({ api }).sendMessage(4, { text: 'Save your work', wait: true, signal: stop.signal });
    sent.catch(() => undefined);
    await waitFor(() => queued(api) === 1);
    stop.abort(new Error('Ctrl+C'));
    const error = (await sent.then(
      () => undefined,
      (e: { code: string; requests: readonly string[]; message: string }) => e,
    ))!;
    await api.flushSystemEvents(other);
    await holder;
    await api.closeServer(other);
    expect(error.code).toBe('E_ABORTED');
    expect(double.calls('message') - messages).toBe(0); // never made
    expect({ requests: [...error.requests], says: /had already been sent/.test(error.message) }).toEqual({ requests: [], says: false });
  });

  test('HOLDS: sendMessage(wait: true) aborted while the box is up: E_ABORTED, requests [WTSSendMessageW], the call was made', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = fresh();
    double.setLatency('TS01', 'message', 400);
    const stop = new AbortController();
    const messages = double.calls('message');
    const sent = createWts({ api }).sendMessage(4, { text: 'x', wait: true, signal: stop.signal });
    sent.catch(() => undefined);
    await waitFor(() => double.calls('message') - messages === 1);
    stop.abort();
    await expect(sent).rejects.toMatchObject({ code: 'E_ABORTED', requests: ['WTSSendMessageW'] });
    await new Promise((r) => setTimeout(r, 500)); // the box returns; its lane comes back
    double.setLatency('TS01', 'message', 0);
  });

  // Found while fixing the one above: sendMessageAll({ wait: true }) aborted with boxes still
  // queued behind maxWaitThreads reported each 'requested' ("WTSSendMessageW was sent"), though
  // the lanes drop them unmade. Now each is skipped (aborted, never made, no request listed); a
  // box already up when the abort came is still 'requested'.
  test('FIXED: sendMessageAll(wait: true) aborted with boxes queued behind maxWaitThreads: those never made are skipped, with no request; the one up is requested', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    double.setLatency('TS01', 'message', 300);
    const api = fresh({ maxWaitThreads: 1 });
    const stop = new AbortController();
    const messages = double.calls('message');
    const run = createWts({ api }).sendMessageAll({ text: 'Save your work', wait: true, signal: stop.signal });
    await waitFor(() => double.calls('message') - messages === 1 && queued(api) > 0);
    stop.abort(new Error('Ctrl+C'));
    const outcomes = await run;
    await new Promise((r) => setTimeout(r, 400)); // the box up returns; its lane comes back
    double.setLatency('TS01', 'message', 0);
    const made = double.calls('message') - messages;
    expect(made).toBe(1);
    const requested = outcomes.filter((o) => o.status === 'requested');
    const unmade = outcomes.filter((o) => o.status === 'skipped' && o.reason === 'aborted' && /never made/.test(o.message));
    expect(requested).toHaveLength(1);
    expect(requested[0]!.requests).toEqual(['WTSSendMessageW']);
    expect(unmade.length).toBeGreaterThan(0);
    for (const o of unmade) expect(o.requests).toEqual([]);
    // Every outcome that lists WTSSendMessageW is a box the double saw.
    expect(outcomes.filter((o) => o.requests.includes('WTSSendMessageW'))).toHaveLength(made);
  });
});
