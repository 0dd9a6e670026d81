/**
 * Found by the review of this stop's fixes: the api cut by a signal (`stopping`) refused the
 * server-version query of a server object's connection, and the unknown version was kept for every
 * later call; the cut api and the logoff's read api were proxies over the backend itself, which a
 * frozen backend object does not allow; a name cut inside a surrogate pair by WTSINFOEX read as
 * another user; a failed client query did not wait for its sibling.
 */
import { createWts, Win32Error, type DetailedSession, type WtsApi, type WtsInfoClass } from '../../src/index';
import { createMockApi, type Farm } from '../../src/mock';
import { exampleFarm, overriding, sleep } from '../helpers';

describe('review: regressions of the cut api and the other-logon check', () => {
  test('an aborted lock listing on a server object leaves later calls on it unaffected (the server version is asked again, not kept unknown)', async () => {
    const farm = exampleFarm();
    const wf = farm.servers.find((s) => s.name === 'WF12')!;
    (wf.sessions!.find((s) => s.id === 2) as { locked?: boolean }).locked = true;
    const mock = createMockApi(farm);
    const wts = createWts({ api: mock });
    const server = wts.openServer('WF12');
    // Control: a fresh server object sees locked true.
    const control = wts.openServer('WF12');
    const c = (await control.listSessions({ details: ['lock'] })) as readonly DetailedSession[];
    expect(c.find((s) => s.id === 2)?.details.locked).toBe(true);
    await control.close();

    await server.listSessions(); // opens the handle (no version asked yet)
    mock.setLatency('WF12', 30);
    const ac = new AbortController();
    const p = server.listSessions({ details: ['lock'], signal: ac.signal });
    setTimeout(() => ac.abort(), 10); // while the enumeration is in flight
    await expect(p).rejects.toMatchObject({ code: 'E_ABORTED' });
    await sleep(80);
    mock.setLatency('WF12', 0);
    const after = (await server.listSessions({ details: ['lock'] })) as readonly DetailedSession[];
    const locked = after.find((s) => s.id === 2)?.details.locked;
    const filtered = await server.listSessions({ locked: true });
    await server.close();
    expect({ locked, filtered: filtered.map((s) => s.id) }).toEqual({ locked: true, filtered: [2] });
  });

  test('a client query that fails while its sibling is in flight: the listing settles after both (the handle is never closed under a query)', async () => {
    const mock = createMockApi(exampleFarm());
    let inFlight = 0;
    let closedWhileInFlight = 0;
    const api = overriding(mock, {
      querySessionInformation: ((server: never, sessionId: number, infoClass: WtsInfoClass) => {
        if (infoClass === 'WTSClientInfo') return Promise.reject(new Win32Error({ win32Code: 50, api: 'WTSQuerySessionInformationW' }));
        if (infoClass === 'WTSClientName') return Promise.reject(new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW' }));
        if (infoClass === 'WTSClientAddress') {
          inFlight++;
          return sleep(40)
            .then(() => mock.querySessionInformation(server, sessionId, infoClass))
            .finally(() => inFlight--);
        }
        return mock.querySessionInformation(server, sessionId, infoClass);
      }) as never,
      closeServer: ((h: never) => {
        if (inFlight > 0) closedWhileInFlight++;
        return mock.closeServer(h);
      }) as never,
    });
    const wts = createWts({ api });
    await expect(wts.listSessions({ server: 'WF12', details: ['clientName', 'clientAddress'] })).rejects.toMatchObject({ win32Code: 5 });
    const atReject = inFlight;
    await sleep(80);
    expect({ atReject, closedWhileInFlight }).toEqual({ atReject: 0, closedWhileInFlight: 0 });
  });

  test('a long user name cut inside a surrogate pair by WTSINFOEX is the same user: lock alone keeps the session\'s details', async () => {
    const long = 'a'.repeat(19) + '\u{1F600}'; // 21 UTF-16 units
    const farm: Farm = {
      localServer: 'TS01',
      servers: [{ name: 'TS01', sessions: [{ id: 3, name: 'RDP-Tcp#0', state: 'Active', user: long, domain: 'CORP', locked: true, logonTime: '2026-01-01T00:00:00Z', lastInputTime: '2026-01-01T00:00:00Z' }] }],
    };
    const wts = createWts({ api: createMockApi(farm) });
    const lock = (await wts.listSessions({ details: ['lock'] })) as readonly DetailedSession[];
    const times = (await wts.listSessions({ details: ['times'] })) as readonly DetailedSession[];
    const filtered = await wts.listSessions({ locked: true });
    const dry = await wts.logoffAll({ locked: true, dryRun: true });
    expect({
      lock: lock[0]?.details,
      timesGone: times[0]?.details.gone,
      filtered: filtered.length,
      dry: dry.map((o) => o.status + ':' + ((o as { reason?: string }).reason ?? '')),
    }).toEqual({ lock: { locked: true }, timesGone: undefined, filtered: 1, dry: ['wouldLogOff:'] });
  });

  test('a long domain cut inside a surrogate pair by WTSINFOEX is the same domain', async () => {
    const dom = 'D'.repeat(16) + '\u{1F600}'; // 18 units
    const farm: Farm = {
      localServer: 'TS01',
      servers: [{ name: 'TS01', sessions: [{ id: 3, name: 'RDP-Tcp#0', state: 'Active', user: 'bob', domain: dom, locked: false }] }],
    };
    const wts = createWts({ api: createMockApi(farm) });
    const lock = (await wts.listSessions({ details: ['lock'] })) as readonly DetailedSession[];
    expect(lock[0]?.details).toEqual({ locked: false });
  });
});

test('an aborted one-server bulk call on a server object leaves later calls on it unaffected', async () => {
  const farm = exampleFarm();
  const wf = farm.servers.find((s) => s.name === 'WF12')!;
  (wf.sessions!.find((s) => s.id === 2) as { locked?: boolean }).locked = true;
  const mock = createMockApi(farm);
  const server = createWts({ api: mock }).openServer('WF12');
  await server.listSessions(); // opened
  mock.setLatency('WF12', 30);
  const ac = new AbortController();
  const p = server.logoffAll({ locked: true, wait: false, signal: ac.signal });
  setTimeout(() => ac.abort(), 45); // after the listing, during the identity read before the lock query
  const first = await p.then((r) => r.map((o) => o.status), (e: Error) => e.message);
  await sleep(100);
  mock.setLatency('WF12', 0);
  const dry = await server.logoffAll({ locked: true, dryRun: true });
  await server.close();
  expect({ first, dry: dry.map((o) => `${o.session.id}:${o.status}:${(o as { message?: string }).message ?? ''}`).filter((s) => s.startsWith('2:')) }).toEqual({ first: expect.anything(), dry: ['2:wouldLogOff:'] });
});

/** A user's own backend, as a frozen object of functions (here forwarding to the mock). */
function frozenBackend(): WtsApi {
  const mock = createMockApi(exampleFarm());
  const names = [
    'openServer', 'closeServer', 'enumerateSessions', 'enumerateProcesses', 'querySessionInformation', 'logoffSession',
    'disconnectSession', 'sendMessage', 'getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName',
  ] as const;
  const o: Record<string, unknown> = {};
  for (const n of names) o[n] = (mock[n] as (...a: unknown[]) => unknown).bind(mock);
  return Object.freeze(o) as unknown as WtsApi;
}

async function res(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    return 'ok ' + (Array.isArray(r) ? r.length : typeof r);
  } catch (e) {
    return 'rejected ' + (e as Error).name + ': ' + (e as Error).message.slice(0, 90);
  }
}

test('a frozen backend: a signal that never fires must change nothing', async () => {
  const wts = createWts({ api: frozenBackend() });
  const never = new AbortController().signal;
  const got = {
    list: await res(wts.listSessions({ server: 'WF12' })),
    listSignal: await res(wts.listSessions({ server: 'WF12', signal: never })),
    procs: await res(wts.listProcesses({ server: 'WF12' })),
    procsSignal: await res(wts.listProcesses({ server: 'WF12', signal: never })),
    dryRun: await res(wts.logoffAll({ server: 'WF12', dryRun: true })),
    // logoff's wait reads through its own wrapped api (abandonable reads)
    logoff: await res(wts.logoff(2, { server: 'WF12', signal: never })),
  };
  expect(got).toEqual({ list: 'ok 5', listSignal: 'ok 5', procs: got.procs, procsSignal: got.procs, dryRun: 'ok 5', logoff: 'ok object' });
  expect(got.procs).toMatch(/^ok \d+$/);
});

test('a frozen backend: a details watch', async () => {
  const wts = createWts({ api: frozenBackend() });
  const watch = wts.watchSessions({ details: ['times'], initial: true, retryMinMs: 5 });
  const it = watch[Symbol.asyncIterator]();
  const first = await it.next();
  await it.return!();
  expect(first.value?.type).toBe('snapshot');
});
