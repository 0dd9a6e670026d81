/**
 * One-server calls aborted while a request or a read is in flight: no read or listing starts
 * after the abort (a logoff's or disconnect's wait started one poll; terminateProcess fell back to
 * an all-sessions listing; found by a review).
 */
import { rig } from '../call-rig';
import { sleep } from '../helpers';

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e) => (e as { code?: string }).code ?? String(e));

describe('single-server calls: no request after the signal aborts', () => {
  test.each([
    ['logoff', 'logoffSession', 3],
    ['disconnect', 'disconnectSession', 4],
  ] as const)('%s(id, { signal }) aborted while its request is in flight: no query after the abort', async (call, request, id) => {
    const r = rig((api) => (api === request ? 40 : 0));
    const ac = new AbortController();
    const p = r.wts[call](id, { signal: ac.signal });
    setTimeout(() => { r.cut(); ac.abort(); }, 15);
    const code = await codeOf(p);
    await sleep(60);
    expect({ code, after: r.afterCut() }).toEqual({ code: 'E_ABORTED', after: [] });
  });
  test('disconnectAll({ signal }) (one server, wait) aborted while the WTSDisconnectSession calls are in flight: no query after', async () => {
    const r = rig((api) => (api === 'disconnectSession' ? 40 : 0));
    const ac = new AbortController();
    const p = r.wts.disconnectAll({ signal: ac.signal });
    setTimeout(() => { r.cut(); ac.abort(); }, 15);
    const out = await p;
    await sleep(60);
    expect({ statuses: out.map((o) => o.status), after: r.afterCut() }).toEqual({ statuses: expect.anything(), after: [] });
  });
  test('terminateProcess({ name: explorer, all }) aborted during the round listing of a session whose process has ended: no listing after', async () => {
    // explorer.exe 3120 (session 1) and 5004 (session 2); 5004's session listing is slow, and the
    // process ends meanwhile, so the round falls back to an all-sessions listing.
    let calls = 0;
    const r = rig((api) => {
      if (api === 'enumerateProcessesEx') { calls++; return calls > 1 ? 40 : 0; }
      return 0;
    });
    const ac = new AbortController();
    const p = r.wts.terminateProcess({ name: 'explorer', all: true }, { signal: ac.signal, allowServices: true });
    setTimeout(() => {
      const s = r.mock.getSession('TS01', 2)!;
      r.mock.putSession('TS01', { ...s, processes: [] } as never);
      r.cut(); ac.abort();
    }, 15);
    const out = await p.catch((e) => e);
    await sleep(80);
    expect({ out: Array.isArray(out) ? out.map((o: { status: string }) => o.status) : out.code, after: r.afterCut() }).toEqual({ out: expect.anything(), after: [] });
  });
  test('logoffAll({ locked: false, signal }) (one server) aborted during the WTSConnectState re-read before a logoff: no further query', async () => {
    const r = rig((api, args) => (api === 'querySessionInformation' && args[2] === 'WTSConnectState' ? 40 : 0));
    const ac = new AbortController();
    const p = r.wts.logoffAll({ locked: false, signal: ac.signal, wait: false, concurrency: 1 });
    // wait until the first WTSConnectState is in flight
    const started = async () => { while (!r.log.some((c) => c.args[2] === 'WTSConnectState')) await sleep(1); };
    await started();
    r.cut(); ac.abort();
    const out = await p;
    await sleep(80);
    expect({ statuses: out.map((o) => o.status), after: r.afterCut() }).toEqual({ statuses: expect.anything(), after: [] });
  });
});

describe('more reads after the abort', () => {
  test('terminateProcess: WTSEnumerateProcessesExW answering 120 after the abort: no fallback to WTSEnumerateProcessesW', async () => {
    const r = rig((api) => (api === 'enumerateProcessesEx' ? 30 : 0));
    r.mock.setFault('TS01', 'processesEx', '*', 120);
    const ac = new AbortController();
    const p = r.wts.terminateProcess({ name: 'explorer', all: true }, { signal: ac.signal });
    setTimeout(() => { r.cut(); ac.abort(); }, 10);
    const code = await p.then(() => 'resolved', (e) => e.code);
    await sleep(50);
    expect({ code, after: r.afterCut() }).toEqual({ code: 'E_ABORTED', after: [] });
  });
  test('logoffAll({ idleLongerThan, locked: false, dryRun, signal }) (one server): a candidate whose identity read is in flight at the abort makes no detail query', async () => {
    const r = rig((api, args) => (api === 'querySessionInformation' && args[2] === 'WTSSessionInfo' ? 30 : 0));
    const ac = new AbortController();
    const p = r.wts.logoffAll({ idleLongerThan: '1m', locked: false, dryRun: true, signal: ac.signal, concurrency: 1 });
    while (!r.log.some((c) => c.args[2] === 'WTSSessionInfo')) await sleep(1);
    r.cut(); ac.abort();
    const out = await p.then((o) => o.map((x) => x.status), (e) => e.code);
    await sleep(60);
    expect({ out, after: r.afterCut() }).toEqual({ out: expect.anything(), after: [] });
  });
});
