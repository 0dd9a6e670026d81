/**
 * The library's own threads (native/lanes, src/backends/koffi/lanes.ts) on the native double:
 * blocking calls run on lanes, not libuv's pool; a slow server holds only its own lanes; stuck
 * calls exhaust the limit into a typed refusal (no call made), and their lanes come back when the
 * calls return; an abandoned wait frees its caller at once and its lane later; nothing leaks.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createKoffiApi, ThreadsExhaustedError, WTS_CURRENT_SERVER_HANDLE, type KoffiApi } from '../../src/index';
import { exampleFarm, rejection, ROOT } from '../helpers';
import { describeWithDouble } from './setup';

const local = WTS_CURRENT_SERVER_HANDLE;

/** Resolves once `check` holds (polled every 5 ms), or fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function lanesOf(api: KoffiApi) {
  const t = api.threads;
  if (t.mode !== 'lanes') throw new Error(`expected lanes, got ${t.mode}`);
  return t;
}

describeWithDouble('lanes: the library runs blocking calls on threads it owns', (get) => {
  test('the backend runs on lanes, with the documented default limits', () => {
    const { api } = get();
    const t = lanesOf(api);
    expect(t.limits).toEqual({ maxThreads: 128, maxWaitThreads: 128, stuckAfterMs: 10_000, idleMs: 15_000 });
  });

  test('64 slow calls run at once (libuv would run 4), and the lanes idle afterwards', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'query', 400);
    const calls = Array.from({ length: 64 }, () => api.querySessionInformation(h, 3, 'WTSConnectState'));
    await until(() => lanesOf(api).now.running === 64, '64 calls running at once');
    expect(lanesOf(api).now.threads).toBeGreaterThanOrEqual(64);
    const states = await Promise.all(calls);
    expect(new Set(states)).toEqual(new Set([states[0]]));
    expect(lanesOf(api).now).toMatchObject({ running: 0, queued: 0, stuck: 0 });
    double.setLatency('WF12', '*', 0);
    await api.closeServer(h);
  });

  test('a slow server holds only its own lanes: another server answers meanwhile', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const dead = await api.openServer('WF12');
    double.setLatency('WF12', '*', 3000);
    const slow = Array.from({ length: 8 }, () => api.enumerateSessions(dead));
    await until(() => lanesOf(api).now.running === 8, 'the slow calls running');
    const started = Date.now();
    const fast = await api.enumerateSessions(local);
    expect(fast.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2000); // did not wait for the 3 s calls
    await Promise.all(slow);
    double.setLatency('WF12', '*', 0);
    await api.closeServer(dead);
  });

  test('when every lane is held by a stuck call, new work is refused with a typed error and no call; lanes come back', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, maxThreads: 2, stuckAfterMs: 100 });
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'query', 800);
    const held = [api.querySessionInformation(h, 3, 'WTSUserName'), api.querySessionInformation(h, 3, 'WTSUserName')];
    // A third call queues behind them while they are not yet stuck, and is refused when they become so.
    const queued = api.querySessionInformation(h, 3, 'WTSUserName');
    const queuedError = await rejection(queued);
    const before = double.calls('query'); // the two held calls are in the double by now (100 ms on)
    expect(queuedError).toBeInstanceOf(ThreadsExhaustedError);
    expect(queuedError).toMatchObject({ code: 'E_THREADS_EXHAUSTED', maxThreads: 2 });
    // Once stuck, a new call is refused at once, before any call reaches the server.
    const refused = await rejection(api.querySessionInformation(h, 3, 'WTSUserName'));
    expect(refused).toBeInstanceOf(ThreadsExhaustedError);
    expect(double.calls('query')).toBe(before);
    expect(lanesOf(api).now).toMatchObject({ threads: 2, running: 2, stuck: 2, queued: 0 });
    await Promise.all(held);
    // Reclaimed: the lanes serve new calls.
    double.setLatency('WF12', '*', 0);
    await expect(api.querySessionInformation(h, 3, 'WTSUserName')).resolves.toBe('grace');
    expect(lanesOf(api).now).toMatchObject({ running: 0, stuck: 0 });
    await api.closeServer(h);
  });

  test('calls queue (not refused) while the busy lanes are not stuck', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, maxThreads: 1 });
    double.setLatency('WF12', 'query', 50);
    const h = await api.openServer('WF12');
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.querySessionInformation(h, 3, 'WTSUserName')));
    expect(answers).toEqual(Array(5).fill('grace'));
    expect(lanesOf(api).now.threads).toBe(1);
    double.setLatency('WF12', '*', 0);
    await api.closeServer(h);
  });

  test('a message waiting for its answer can be abandoned: the caller is freed at once, the lane when the call returns', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'message', 3000);
    const controller = new AbortController();
    const sending = api.sendMessage(h, 3, { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true }, { signal: controller.signal });
    await until(() => lanesOf(api).now.waitThreads > 0 && lanesOf(api).now.running === 1, 'the message on a wait lane');
    const aborted = Date.now();
    controller.abort();
    const error = await rejection(sending);
    expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
    expect(Date.now() - aborted).toBeLessThan(1500); // not the 3 s the call takes
    expect(lanesOf(api).now).toMatchObject({ running: 1, abandoned: 1 });
    await until(() => lanesOf(api).now.running === 0, 'the abandoned call returned');
    expect(double.calls('message')).toBeGreaterThan(0);
    double.setLatency('WF12', '*', 0);
    await api.closeServer(h);
  });

  test('an already-aborted signal makes no call', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const before = double.calls('message');
    const error = await rejection(
      api.sendMessage(local, 3, { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true }, { signal: AbortSignal.abort() }),
    );
    expect(error).toMatchObject({ code: 'E_ABORTED' });
    expect(double.calls('message')).toBe(before);
  });

  test('bad limits are refused before anything is loaded', () => {
    const { double } = get();
    for (const bad of [0, -1, 1.5, Number.NaN, '4' as unknown as number]) {
      expect(() => createKoffiApi({ wtsapi32: double.path, kernel32: double.path, maxThreads: bad })).toThrow(/options\.maxThreads/);
    }
  });

  test('lanes: false runs the same calls on koffi .async (libuv)', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, lanes: false });
    expect(api.threads.mode).toBe('libuv');
    const h = await api.openServer('WF12');
    expect((await api.enumerateSessions(h)).length).toBeGreaterThan(0);
    await expect(api.querySessionInformation(h, 3, 'WTSUserName')).resolves.toBe('grace');
    await api.closeServer(h);
  });

  test('the process stays alive while a call it awaits runs on a lane (koffi does not hold the loop)', () => {
    const { double } = get();
    const script = `
      const { createKoffiApi } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      const koffi = require('koffi');
      const lib = koffi.load(${JSON.stringify(double.path)});
      lib.func('int WtsDouble_AddServer(const char16_t *, uint32_t, uint32_t, uint32_t, int)')('SLOW', 1, 1, 400, 0);
      const api = createKoffiApi({ wtsapi32: ${JSON.stringify(double.path)}, kernel32: ${JSON.stringify(double.path)} });
      if (api.threads.mode !== 'lanes') { console.log('not lanes'); process.exit(1); }
      api.openServer('SLOW').then((h) => api.enumerateSessions(h)).then((s) => console.log('done ' + s.length), (e) => console.log('failed ' + e.message));
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(out.trim()).toBe('done 0');
  });
});
