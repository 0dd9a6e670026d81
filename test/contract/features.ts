/**
 * The administrator's toolkit, end to end through the typed API, on every backend: details,
 * filters, disconnect, messages, warn-first bulk logoff, many servers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createWts,
  InvalidArgumentError,
  ListenerSessionError,
  ServicesSessionError,
  type FarmEvent,
  type LogoffOutcome,
  type Wts,
} from '../../src/index';
import type { Farm } from '../../src/mock';
import { rejection } from '../helpers';
import type { BackendFactory, ContractBackend } from './contract';

const MIN = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** A farm whose times are relative to now. */
export function toolkitFarm(): Farm {
  return {
    localServer: 'TS01',
    servers: [
      {
        name: 'TS01',
        consoleSessionId: 1,
        currentSessionId: 2,
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP', logonTime: ago(600 * MIN), lastInputTime: ago(1 * MIN) },
          {
            id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', clientName: 'LAPTOP-7', clientAddress: '10.1.2.7',
            logonTime: ago(120 * MIN), connectTime: ago(119 * MIN), lastInputTime: ago(0),
          },
          {
            id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', clientName: 'DESK-3',
            logonTime: ago(3000 * MIN), disconnectTime: ago(2 * 1440 * MIN), lastInputTime: ago(2 * 1440 * MIN),
            processes: [{ pid: 4100, name: 'excel.exe' }], locked: true,
          },
          {
            id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'LAB', clientName: 'THIN-04', clientAddress: '10.9.0.4',
            logonTime: ago(300 * MIN), lastInputTime: ago(180 * MIN), locked: true,
          },
          {
            id: 5, name: 'RDP-Tcp#2', state: 'Active', user: 'dave', domain: 'CORP', clientName: 'THIN-05', clientAddress: '10.9.0.5',
            logonTime: ago(60 * MIN), lastInputTime: ago(10 * MIN), messageResponse: 6,
          },
          { id: 6, name: '', state: 'Disconnected', user: 'erin', domain: 'CORP', disconnectTime: ago(30 * MIN), lastInputTime: ago(30 * MIN), locked: null },
          { id: 7, name: 'RDP-Tcp#3', state: 'Connected' },
          { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
        ],
      },
      {
        name: 'WF12',
        // Windows Server 2008 R2: its lock flags come swapped, and are read back right.
        osVersion: '6.1',
        sessions: [
          { id: 1, name: 'Console', state: 'Connected' },
          { id: 2, name: 'TERM04', state: 'Active', user: 'frank', domain: 'CORP', clientName: 'WYSE-4', lastInputTime: ago(5 * MIN), locked: true },
          { id: 3, name: '', state: 'Disconnected', user: 'grace', domain: 'CORP', disconnectTime: ago(1440 * MIN) },
        ],
      },
      { name: 'WF13', unreachable: true },
    ],
  };
}

const ids = (list: ReadonlyArray<{ id: number } | { session: { id: number } }>) =>
  list.map((x) => ('session' in x ? x.session.id : x.id));

export function describeFeatures(name: string, factory: BackendFactory): void {
  describe(`toolkit features: ${name}`, () => {
    let backend: ContractBackend;
    let wts: Wts;

    beforeEach(async () => {
      backend = await factory(toolkitFarm(), { closingPolls: 1 });
      wts = createWts({ api: backend.api });
    });
    afterEach(async () => {
      await backend.checkClean();
      await backend.dispose();
    });

    test('listing stays one enumerate call; details cost 3 queries per session (4 for an IPv6 client) and one version call', async () => {
      await wts.listSessions();
      expect([backend.callCount('enumerate'), backend.callCount('query'), backend.callCount('version')]).toEqual([1, 0, 0]);
      const detailed = await wts.listSessions({ details: true });
      // WTSSessionInfoEx (the lock state and the times), WTSClientInfo (name and IPv4 address
      // together), WTSClientProtocolType; an IPv6 client's address from WTSClientAddress as well.
      // The server's version (for the lock state) once for the whole listing.
      const ipv6 = detailed.filter((s) => s.details.clientAddress?.includes(':')).length;
      expect(backend.callCount('query')).toBe(detailed.length * 3 + ipv6);
      expect(backend.callCount('version')).toBe(1);
      const bob = detailed.find((s) => s.id === 3)!;
      expect(bob.details).toMatchObject({ clientName: 'DESK-3', isRemote: true, clientAddress: '' });
      expect(bob.details.disconnectedMs).toBeGreaterThan(47 * 60 * MIN);
      const alice = detailed.find((s) => s.id === 2)!;
      expect(alice.details).toMatchObject({ clientName: 'LAPTOP-7', clientAddress: '10.1.2.7', isRemote: true, disconnectedMs: null });
      expect(alice.details.logonTime!.getTime()).toBeLessThan(Date.now() - 119 * MIN);
      expect(alice.details.idleMs).toBeLessThan(MIN);
      expect(detailed.find((s) => s.id === 1)!.details.isRemote).toBe(false);
      const before = backend.callCount('query');
      const some = await wts.listSessions({ details: ['clientName'] });
      expect(backend.callCount('query') - before).toBe(some.length);
      expect(some[0]!.details).toEqual({ clientName: '' });
    });

    test('times and lock together: one WTSSessionInfoEx query per session, the same times WTSSessionInfo gives', async () => {
      const alone = await wts.listSessions({ details: ['times'] });
      const before = backend.callCount('query');
      const both = await wts.listSessions({ details: ['times', 'lock'] });
      expect(backend.callCount('query') - before).toBe(both.length);
      const times = (d: (typeof both)[number]) => {
        const { logonTime, connectTime, disconnectTime, lastInputTime, disconnectedMs } = d.details;
        return { logonTime, connectTime, disconnectTime, lastInputTime, disconnected: disconnectedMs === null ? null : 'some' };
      };
      expect(both.map((s) => [s.id, times(s)])).toEqual(alone.map((s) => [s.id, times(s)]));
      expect(both.every((s) => 'locked' in s.details)).toBe(true);
    });

    test('filters: idle longer than, disconnected longer than, domain, client name, user', async () => {
      expect(ids(await wts.listSessions({ idleLongerThan: '2h' }))).toEqual([3, 4]);
      expect(ids(await wts.listSessions({ idleLongerThan: 20 * MIN }))).toEqual([3, 4, 6]);
      expect(ids(await wts.listSessions({ disconnectedLongerThan: '1d' }))).toEqual([3]);
      expect(ids(await wts.listSessions({ domain: 'lab' }))).toEqual([4]);
      expect(ids(await wts.listSessions({ clientName: 'THIN-*' }))).toEqual([4, 5]);
      expect(ids(await wts.listSessions({ user: 'CORP\\?ave' }))).toEqual([5]);
      const before = backend.callCount('query');
      await wts.listSessions({ domain: 'CORP', state: 'Active', idleLongerThan: '5m' });
      // times are queried only for sessions the cheap filters let through (1, 2, 5)
      expect(backend.callCount('query') - before).toBe(3);
    });

    test('lock detail: locked, unlocked, unknown; one WTSSessionInfoEx per session, the version once per server', async () => {
      const listed = await wts.listSessions({ details: ['lock'] });
      expect(listed.map((s) => [s.id, s.details.locked])).toEqual([
        [0, false], [1, false], [2, false], [3, true], [4, true], [5, false], [6, null], [7, false], [65536, false],
      ]);
      expect(listed.every((s) => Object.keys(s.details).join() === 'locked')).toBe(true);
      expect([backend.callCount('query'), backend.callCount('version')]).toEqual([listed.length, 1]);
      // A server object keeps its connection: the version is asked once for all its calls.
      const server = wts.openServer('WF12');
      try {
        await server.listSessions({ details: ['lock'] });
        await server.listSessions({ locked: true });
        expect(backend.callCount('version')).toBe(2);
      } finally {
        await server.close();
      }
    });

    test('a 6.1 server (Windows 7 / Server 2008 R2) reports the flags swapped: they are read back right', async () => {
      // The raw flag, as the backend gives it: frank is locked, and WF12 says WTS_SESSIONSTATE_UNLOCK (1).
      const h = await backend.api.openServer('WF12');
      try {
        const raw = await backend.api.querySessionInformation(h, 2, 'WTSSessionInfoEx');
        expect(raw.level1?.sessionFlags).toBe(1);
        expect(await backend.api.getServerVersion?.('WF12')).toEqual({ major: 6, minor: 1 });
      } finally {
        await backend.api.closeServer(h);
      }
      const wf12 = await wts.listSessions({ server: 'WF12', details: ['lock'] });
      expect(wf12.map((s) => [s.id, s.details.locked])).toEqual([[1, false], [2, true], [3, false]]);
      expect(ids(await wts.listSessions({ server: 'WF12', locked: true }))).toEqual([2]);
      expect(ids(await wts.listSessions({ server: 'WF12', locked: false }))).toEqual([1, 3]);
    });

    test('an unknown version (NetServerGetInfo fails) makes every lock state unknown: the locked filter acts on nobody', async () => {
      await backend.setFault('TS01', 'version', '*', 5);
      const listed = await wts.listSessions({ details: ['lock'] });
      expect(listed.every((s) => s.details.locked === null)).toBe(true);
      expect(await wts.listSessions({ locked: true })).toEqual([]);
      expect(await wts.listSessions({ locked: false })).toEqual([]);
      const outcomes = await wts.logoffAll({ locked: true, pollIntervalMs: 1 });
      expect(outcomes.filter((o) => o.status !== 'skipped')).toEqual([]);
      expect(outcomes.find((o) => o.session.id === 4)).toMatchObject({ status: 'skipped', reason: 'filtered', message: 'lock state unknown' });
      expect(backend.callCount('logoff')).toBe(0);
    });

    test('the locked filter on every bulk call and on many servers: one call for "locked and idle over 2 h"', async () => {
      const plan = await wts.logoffAll({ servers: ['TS01', 'WF12', 'WF13'], locked: true, idleLongerThan: '2h', dryRun: true });
      expect(plan.results.filter((o) => o.status === 'wouldLogOff').map((o) => `${o.session.server || 'local'}:${o.session.id}`)).toEqual(['local:3', 'local:4']);
      expect(plan.results.find((o) => o.session.id === 6 && o.session.server === '')).toMatchObject({ status: 'skipped', reason: 'filtered' });
      expect(plan.failures.map((f) => f.server)).toEqual(['WF13']);
      const done = await wts.logoffAll({ locked: true, idleLongerThan: '2h', pollIntervalMs: 1 });
      expect(done.filter((o) => o.status === 'loggedOff').map((o) => o.session.id)).toEqual([3, 4]);
      expect(done.find((o) => o.session.id === 5)).toMatchObject({ status: 'skipped', reason: 'filtered', message: 'idle 10m, not over 2h' });
      expect((await wts.logoffAll({ locked: true, dryRun: true })).find((o) => o.session.id === 5)).toMatchObject({ reason: 'filtered', message: 'not locked' });
      const disconnected = await wts.disconnectAll({ server: 'WF12', locked: true, pollIntervalMs: 1 });
      expect(disconnected.filter((o) => o.status === 'disconnected').map((o) => o.session.id)).toEqual([2]);
      const sent = await wts.sendMessageAll({ locked: false, text: 'Maintenance at 18:00' });
      expect(sent.filter((o) => o.status === 'sent').map((o) => o.session.id)).toEqual([1, 2, 5]);
      expect(sent.find((o) => o.session.id === 6)).toMatchObject({ status: 'skipped', reason: 'filtered', message: 'lock state unknown' });
    });

    test('bad filters and details are invalid arguments with no call', async () => {
      for (const options of [
        { idleLongerThan: 'soon' }, { idleLongerThan: -1 }, { details: ['colour'] }, { domain: 7 },
        { locked: 'yes' }, { locked: 1 }, { locked: null }, { locked: [true] },
      ]) {
        expect(await rejection(wts.listSessions(options as never))).toBeInstanceOf(InvalidArgumentError);
      }
      for (const call of [
        () => wts.logoffAll({ locked: 'true' } as never),
        () => wts.disconnectAll({ locked: 0 } as never),
        () => wts.sendMessageAll({ text: 'x', locked: {} } as never),
        () => wts.logoffAll({ servers: ['TS01'], locked: 'no' } as never),
      ]) {
        expect(await rejection(call())).toBeInstanceOf(InvalidArgumentError);
      }
      expect([backend.callCount('enumerate'), backend.callCount('query'), backend.callCount('version'), backend.callCount('open')]).toEqual([0, 0, 0, 0]);
    });

    test('logoffAll with idle and client filters logs off exactly the matching sessions', async () => {
      const outcomes = await wts.logoffAll({ clientName: 'THIN-*', idleLongerThan: '1h', pollIntervalMs: 1 });
      expect(outcomes.filter((o) => o.status === 'loggedOff').map((o) => o.session.id)).toEqual([4]);
      expect(outcomes.find((o) => o.session.id === 5)).toMatchObject({ status: 'skipped', reason: 'filtered' });
      expect(backend.callCount('logoff')).toBe(1);
    });

    test('disconnect: by ID and by name; services and listeners refused', async () => {
      const result = await wts.disconnect(4, { pollIntervalMs: 1 });
      expect(result).toMatchObject({ status: 'disconnected', confirmed: true, session: { id: 4 } });
      expect((await wts.findSession(4)).state).toBe('Disconnected');
      await wts.disconnect('rdp-tcp#2', { pollIntervalMs: 1 });
      expect((await wts.findSession(5)).state).toBe('Disconnected');
      expect(await rejection(wts.disconnect(0))).toBeInstanceOf(ServicesSessionError);
      expect(await rejection(wts.disconnect(65536))).toBeInstanceOf(ListenerSessionError);
      expect(backend.callCount('disconnect')).toBe(2);
    });

    test('disconnectAll: connected sessions only, never console, services, listeners or yours', async () => {
      const outcomes = await wts.disconnectAll({ pollIntervalMs: 1 });
      expect(outcomes.filter((o) => o.status === 'disconnected').map((o) => o.session.id)).toEqual([4, 5, 7]);
      expect(outcomes.find((o) => o.session.id === 3)).toMatchObject({ status: 'skipped', reason: 'filtered' });
      expect(outcomes.find((o) => o.session.id === 1)).toMatchObject({ status: 'skipped', reason: 'console' });
    });

    test('sendMessage returns the user\'s answer; sendMessageAll skips sessions nobody reads', async () => {
      expect(await wts.sendMessage(5, { text: 'Save your work?', buttons: 'YesNo', wait: true })).toMatchObject({ status: 'sent', response: 'Yes' });
      expect(await wts.sendMessage(2, { text: 'hi', wait: true })).toMatchObject({ response: 'OK' });
      expect(await wts.sendMessage('TERM04', { server: 'WF12', text: 'hi' })).toMatchObject({ response: 'Async' });
      expect(await rejection(wts.sendMessage(0, { text: 'x' }))).toBeInstanceOf(ServicesSessionError);
      expect(await rejection(wts.sendMessage('services', { text: 'x' }))).toBeInstanceOf(ServicesSessionError);
      expect(await rejection(wts.sendMessage('RDP-Tcp', { text: 'x' }))).toBeInstanceOf(ListenerSessionError);
      expect(await rejection(wts.sendMessage(4, { text: '' }))).toBeInstanceOf(InvalidArgumentError);
      const all = await wts.sendMessageAll({ text: 'Maintenance at 18:00' });
      expect(all.filter((o) => o.status === 'sent').map((o) => o.session.id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all.find((o) => o.session.id === 7)).toMatchObject({ status: 'skipped', reason: 'noUser' });
    });

    test('warn-first logoffAll: warn, wait the grace period, re-check, log off', async () => {
      const started = Date.now();
      const outcomes = await wts.logoffAll({ user: 'carol', warn: { text: 'Logging off in a moment', graceSeconds: 0.3 }, pollIntervalMs: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(outcomes.find((o) => o.session.id === 4)).toMatchObject({ status: 'loggedOff' });
      expect([backend.callCount('message'), backend.callCount('logoff')]).toEqual([1, 1]);
    });

    test('warn-first dry run shows the plan and sends nothing', async () => {
      const plan = await wts.logoffAll({ state: 'Disconnected', warn: { text: 'bye', graceSeconds: 60 }, dryRun: true });
      expect(plan.filter((o) => o.status === 'wouldLogOff')).toEqual([
        expect.objectContaining({ session: expect.objectContaining({ id: 3 }), warn: { text: 'bye', graceSeconds: 60 } }),
        expect.objectContaining({ session: expect.objectContaining({ id: 6 }), warn: { text: 'bye', graceSeconds: 60 } }),
      ]);
      expect([backend.callCount('message'), backend.callCount('logoff')]).toEqual([0, 0]);
    });

    test('a session that cannot be warned is not logged off', async () => {
      await backend.setFault('TS01', 'message', 6, 5);
      const outcomes = await wts.logoffAll({ state: 'Disconnected', warn: { text: 'bye', graceSeconds: 0 }, pollIntervalMs: 1 });
      expect(outcomes.find((o) => o.session.id === 6)).toMatchObject({ status: 'failed', error: { win32Code: 5 } });
      expect(outcomes.find((o) => o.session.id === 3)).toMatchObject({ status: 'loggedOff' });
      expect(backend.callCount('logoff')).toBe(1);
    });

    test('aborting during the grace period logs nobody off', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const outcomes = await wts.logoffAll({ state: 'Disconnected', warn: { text: 'bye', graceSeconds: 30 }, signal: controller.signal });
      expect(outcomes.filter((o) => o.status === 'skipped' && o.reason === 'aborted').map((o) => o.session.id)).toEqual([3, 6]);
      expect(backend.callCount('logoff')).toBe(0);
    });

    test('many servers: each server\'s outcomes, the unreachable one reported, events as they come', async () => {
      const events: Array<FarmEvent<LogoffOutcome>> = [];
      const run = await wts.logoffAll({
        servers: ['TS01', 'WF12', 'WF13'],
        state: 'Disconnected',
        pollIntervalMs: 1,
        onEvent: (e) => events.push(e),
      });
      // TS01 is the local machine: its sessions report server ''.
      expect(run.results.map((o) => `${o.session.server || 'local'}:${o.session.id}:${o.status}`)).toEqual([
        'local:0:skipped', 'local:1:skipped', 'local:2:skipped', 'local:3:loggedOff', 'local:4:skipped',
        'local:5:skipped', 'local:6:loggedOff', 'local:7:skipped', 'local:65536:skipped',
        'WF12:1:skipped', 'WF12:2:skipped', 'WF12:3:loggedOff',
      ]);
      expect(run.failures).toHaveLength(1);
      expect(run.failures[0]).toMatchObject({ server: 'WF13', error: { code: 'E_WIN32', win32Code: 1722 } });
      expect(events.filter((e) => e.type === 'result')).toHaveLength(run.results.length);
      expect(events.filter((e) => e.type === 'serverFailed').map((e) => e.server)).toEqual(['WF13']);
      expect(events.filter((e) => e.type === 'serverDone').map((e) => e.server).sort()).toEqual(['TS01', 'WF12']);
    });

    test('a slow server times out, is reported, and gets no further call; the others finish', async () => {
      // WF12's every call takes 1.5 s: it cannot even be opened within its 600 ms. TS01 has room to
      // finish (under Wine, each of its calls is far slower than on Linux).
      await backend.setLatency('WF12', 1500);
      const run = await wts.logoffAll({ servers: ['TS01', 'WF12'], state: 'Disconnected', serverTimeoutMs: 600, pollIntervalMs: 1 });
      expect(run.failures.map((f) => [f.server, f.error.code])).toEqual([['WF12', 'E_SERVER_TIMEOUT']]);
      expect(run.results.filter((o) => o.status === 'loggedOff').map((o) => o.session.id)).toEqual([3, 6]);
      await sleep(1700); // the calls already made on WF12 finish (and its handle is closed) in the background
      expect(run.results.some((o) => o.session.server === 'WF12')).toBe(false);
      await backend.setLatency('WF12', 0);
      const wf12 = await wts.listSessions({ server: 'WF12' });
      expect(ids(wf12)).toContain(3); // nobody on WF12 was logged off after the timeout
    });

    test('listSessions and listProcesses over many servers', async () => {
      const sessions = await wts.listSessions({ servers: ['TS01', 'WF12', 'WF13'], user: 'g*' });
      expect(sessions.results.map((s) => [s.server, s.userName])).toEqual([['WF12', 'grace']]);
      expect(sessions.failures.map((f) => f.server)).toEqual(['WF13']);
      const processes = await wts.listProcesses({ servers: ['TS01', 'WF12'] });
      expect(processes.results).toEqual([
        expect.objectContaining({ server: '', sessionId: 0, sessionName: 'Services', userName: '', processId: 0, processName: 'System Idle Process', owner: 'NT AUTHORITY\\SYSTEM', ownerSid: 'S-1-5-18' }),
        expect.objectContaining({ server: '', sessionId: 3, sessionName: '', userName: 'bob', processId: 4100, processName: 'excel.exe', owner: 'CORP\\bob' }),
      ]);
    });

    test('terminateProcess: a reviewed plan ends its process; a reused PID is left alone (the re-check)', async () => {
      const plan = await wts.terminateProcess({ name: 'excel', session: 3 }, { dryRun: true });
      expect(plan.map((o) => [o.status, o.process.processId])).toEqual([['wouldTerminate', 4100]]);
      // excel.exe ends, and its PID goes to another program in session 4.
      await backend.putSession('TS01', { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', processes: [] });
      await backend.putSession('TS01', { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'LAB', processes: [{ pid: 4100, name: 'notepad.exe' }] });
      const out = await wts.terminateProcess({ name: 'excel', session: 3 }, { plan });
      expect(out.map((o) => [o.status, o.status === 'skipped' ? o.reason : '', o.process.processId])).toEqual([['skipped', 'changed', 4100]]);
      expect((await wts.listProcesses()).map((p) => p.processId)).toContain(4100);
      // By PID, in its new session: ended, and gone from the list.
      expect((await wts.terminateProcess({ pid: 4100, session: 4 })).map((o) => o.status)).toEqual(['terminated']);
      expect((await wts.listProcesses()).map((p) => p.processId)).not.toContain(4100);
    });

    test('server and servers together, or servers on a server object, are invalid', async () => {
      expect(await rejection(wts.logoffAll({ server: 'WF12', servers: ['TS01'] } as never))).toBeInstanceOf(InvalidArgumentError);
      expect(await rejection(wts.listSessions({ servers: [] } as never))).toBeInstanceOf(InvalidArgumentError);
      expect(await rejection(wts.openServer('WF12').logoffAll({ servers: ['TS01'] } as never))).toBeInstanceOf(InvalidArgumentError);
      expect(backend.callCount('enumerate')).toBe(0);
    });
  });
}
