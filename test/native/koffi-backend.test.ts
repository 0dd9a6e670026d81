import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createKoffiApi, createWts, Win32Error, WTS_CURRENT_SERVER_HANDLE } from '../../src/index';
import type { Farm, FarmSession } from '../../src/mock';
import { exampleFarm, rejection } from '../helpers';
import { describeWithDouble } from './setup';

const local = WTS_CURRENT_SERVER_HANDLE;

describeWithDouble('koffi backend on the native double', (get) => {
  test('the event loop keeps turning while slow remote calls are in flight', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setLatency('WF12', '*', 300);
    const h = await api.openServer('WF12'); // 300 ms itself
    let worst = 0;
    let ticks = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
      ticks++;
    }, 10);
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    try {
      const started = performance.now();
      const [sessions] = await Promise.all([api.enumerateSessions(h), api.logoffSession(h, 3)]);
      const elapsed = performance.now() - started;
      expect(sessions.length).toBe(5);
      expect(elapsed).toBeGreaterThanOrEqual(290); // the calls really took the injected latency
      expect(ticks).toBeGreaterThanOrEqual(15); // ~30 expected; a blocked loop gives ~1
      expect(worst).toBeLessThan(50);
    } finally {
      clearInterval(timer);
      histogram.disable();
      await api.closeServer(h);
    }
  });

  test('thousands of sessions, non-ASCII names included, round-trip every field', async () => {
    const { double, api } = get();
    const names = ['Jürgen', '😀', 'Zoë-Ångström', '山田', 'o\'brien', 'x'.repeat(20)];
    const sessions: FarmSession[] = [];
    for (let i = 1; i <= 5000; i++) {
      sessions.push({
        id: i,
        name: i % 7 === 0 ? '' : `RDP-Tcp#${i}`,
        state: (['Active', 'Disconnected', 'Idle', 'Connected'] as const)[i % 4]!,
        user: i % 11 === 0 ? '' : `${names[i % names.length]}${i}`,
        domain: i % 3 === 0 ? 'ÉQUIPE' : 'CORP',
        clientName: `PC-${i}-😀`,
      });
    }
    const farm: Farm = { localServer: 'BIG', servers: [{ name: 'BIG', currentSessionId: 1, sessions }] };
    double.loadFarm(farm);
    const listed = await api.enumerateSessions(local);
    expect(listed.length).toBe(5000);
    listed.forEach((s, i) => {
      const want = sessions[i]!;
      expect([s.sessionId, s.state, s.sessionName, s.userName, s.domainName, s.hostName]).toEqual([
        want.id,
        ['Active', 'Connected', 'ConnectQuery', 'Shadow', 'Disconnected', 'Idle'].indexOf(want.state),
        want.name,
        want.user,
        want.domain,
        '', // Learn: pHostName is NULL for a session running directly on an RD Session Host
      ]);
    });
    for (const id of [1, 42, 4999]) {
      expect(await api.querySessionInformation(local, id, 'WTSUserName')).toBe(sessions[id - 1]!.user);
      expect(await api.querySessionInformation(local, id, 'WTSClientName')).toBe(sessions[id - 1]!.clientName);
    }
  });

  test('falls back to WTSEnumerateSessionsW + queries when the level-1 call is not implemented (120)', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    double.setFault('TS01', 'enumerateEx', '*', 120);
    // A fresh backend object: the fallback decision is remembered per object.
    const fresh = createKoffiApi({ wtsapi32: double.path, kernel32: double.path });
    const sessions = await fresh.enumerateSessions(local);
    expect(sessions.map((s) => [s.sessionId, s.sessionName, s.userName, s.domainName])).toEqual([
      [0, 'Services', '', ''],
      [1, 'Console', 'admin', 'CORP'],
      [2, 'RDP-Tcp#0', 'alice', 'CORP'],
      [3, '', 'bob', 'CORP'],
      [4, 'RDP-Tcp#1', 'carol', 'CORP'],
      [5, 'RDP-Tcp#2', 'dave', 'CORP'],
      [6, '', 'temp01', 'CORP'],
      [7, 'RDP-Tcp#3', 'erin', 'CORP'],
      [65536, 'RDP-Tcp', '', ''],
    ]);
    const before = double.calls('enumerate');
    await fresh.enumerateSessions(local);
    expect(double.calls('enumerate') - before).toBe(1); // straight to the fallback the second time
  });

  test('each concurrent async call reads its own last error (per-thread GetLastError)', async () => {
    const { double, api } = get();
    const farm = exampleFarm();
    farm.servers[0]!.faults = {};
    double.loadFarm(farm);
    const codes = [5, 87, 1726, 7045, 1460, 50, 6, 120];
    codes.forEach((code, i) => double.setFault('TS01', 'query', i + 1, code));
    double.setLatency('TS01', 'query', 20); // keep them in flight together on the worker threads
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, n) => {
        const id = (n % codes.length) + 1;
        return api.querySessionInformation(local, id, 'WTSUserName').then(
          () => 0,
          (e: Win32Error) => e.win32Code,
        );
      }),
    );
    expect(results).toEqual(Array.from({ length: 64 }, (_, n) => codes[n % codes.length]));
  });

  test('WTSSessionInfo-level data: client address and times decode by their real layout', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    expect(await api.querySessionInformation(local, 7, 'WTSClientAddress')).toEqual({ family: 2, address: '192.0.2.44' });
    expect(await api.querySessionInformation(local, 3, 'WTSClientAddress')).toEqual({ family: 0, address: '' });
  });

  test('Win32 errors carry the code, the API, the server and the system text', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const h = await api.openServer('WF13');
    try {
      const error = await rejection(api.enumerateSessions(h));
      expect(error).toBeInstanceOf(Win32Error);
      expect(error).toMatchObject({ win32Code: 1722, api: 'WTSEnumerateSessionsExW', server: 'WF13' });
      // FormatMessageW's text where the system has one (Windows, Wine), else the built-in table.
      expect(error.systemMessage).toBe(api.systemMessage(1722));
      expect(String(error.systemMessage)).toMatch(/RPC server/i);
    } finally {
      await api.closeServer(h);
    }
  });

  test('the typed API end to end: logoffAll over koffi, every buffer freed, every handle closed', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const wts = createWts({ api });
    const outcomes = await wts.logoffAll({ pollIntervalMs: 1 });
    expect(Object.fromEntries(outcomes.map((o) => [o.session.id, o.status]))).toEqual({
      0: 'skipped', 1: 'skipped', 2: 'skipped', 3: 'loggedOff', 4: 'loggedOff', 5: 'failed', 6: 'loggedOff', 7: 'loggedOff', 65536: 'skipped',
    });
    const failed = outcomes.find((o) => o.session.id === 5);
    expect(failed?.status === 'failed' && failed.error.message).toBe(
      `Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5\nError [5]: ${api.systemMessage(5)}`,
    );
    await wts.logoff('TERM04', { server: 'WF12', pollIntervalMs: 1 });
    expect(await rejection(wts.logoff(1))).toMatchObject({ code: 'E_CONSOLE' });
    expect(await rejection(wts.logoff('TERM04', { server: 'WF13' }))).toMatchObject({ win32Code: 1722 });
    expect(double.calls('logoff')).toBe(6);
  });
});
