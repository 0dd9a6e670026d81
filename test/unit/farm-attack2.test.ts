/**
 * Adversarial tests (second round) of the calls over many servers: src/api/farm.ts (overServers,
 * runCut, Countdown, stopping), limit.ts (Slots), bulk.ts (selectSessions, relisted, Ledger),
 * processes.ts. Each test names the promise it tries to break (docs/many-servers.md, FarmOptions).
 */
import fc from 'fast-check';
import { getEventListeners, getMaxListeners } from 'node:events';
import { createMockApi, type FarmServer, type MockApi, type MockCall } from '../../src/mock';
import { createWts, type FarmEvent, type FarmResult, type LogoffOutcome, type MessageOutcome, type SessionProcess } from '../../src/index';
import { overriding } from '../helpers';
import { farmOf, named, perServerInFlight, tick, users } from './farm-fixtures';

const KERNEL = new Set<MockCall['api']>(['close', 'computerName', 'localNames', 'consoleId', 'currentId']);

describe('adv2: the caller\'s signal (promise 6)', () => {
  test('a call whose local-name look-up fails leaves no listener on the caller\'s signal', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 1) }, { name: 'B', sessions: users(1, 1) }]));
    const api = overriding(mock, {
      getComputerName: () => {
        throw new Error('GetComputerNameW failed');
      },
    });
    const app = new AbortController();
    const wts = createWts({ api });
    for (let k = 0; k < 3; k++) {
      // Whatever the call does with the failure (reject or report), it must not keep a listener.
      await wts.logoffAll({ servers: ['A', 'B'], dryRun: true, signal: app.signal }).catch(() => undefined);
    }
    expect(getEventListeners(app.signal, 'abort')).toHaveLength(0);
  });

  test('1,000 servers, tiny latencies, one signal reused: no listener left, every server once, no handle left', async () => {
    const servers = Array.from({ length: 1000 }, (_, i): FarmServer => (i % 97 === 3 ? { name: `S${i}`, latencyMs: i % 2, unreachable: true } : { name: `S${i}`, latencyMs: i % 2, sessions: users(i, i % 2) }));
    const mock = createMockApi(farmOf(servers));
    const wts = createWts({ api: mock });
    const app = new AbortController();
    {
      for (const [serverConcurrency, listConcurrency] of [[2, 1], [16, 3], [1024, 1024]] as const) {
        const result = (await wts.logoffAll({ servers: servers.map((s) => s.name), serverConcurrency, listConcurrency, dryRun: true, signal: app.signal })) as FarmResult<LogoffOutcome>;
        expect(result.failures.map((f) => f.server).sort()).toEqual(servers.filter((s) => s.unreachable).map((s) => s.name).sort());
        expect(getEventListeners(app.signal, 'abort')).toHaveLength(0);
      }
      await tick(5);
    }
    expect(mock.openHandleCount).toBe(0);
  }, 60_000);
});

describe('adv2: a plan with a server that was never started', () => {
  test('abort before the second server started: it is reported once (E_ABORTED), not also as a plan "this call did not work on"', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', latencyMs: 5, sessions: users(0, 1) }, { name: 'B', latencyMs: 5, sessions: users(1, 2) }]));
    const plan = await createWts({ api: mock }).logoffAll({ servers: ['A', 'B'], dryRun: true });
    mock.resetCalls();
    const controller = new AbortController();
    const api = overriding(mock, {
      enumerateSessions: async (h) => {
        const listed = mock.enumerateSessions(h);
        controller.abort(); // during A's listing; B waits for the one listing slot
        return listed;
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], listConcurrency: 1, plan, signal: controller.signal, wait: false })) as FarmResult<LogoffOutcome>;
    // Premise: B was never opened.
    expect(mock.calls.filter((c) => c.server === 'B' && c.api === 'open')).toHaveLength(0);
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['A', 'E_ABORTED'], ['B', 'E_ABORTED']]);
  });

  test('timeout while the server is being opened: reported once (E_SERVER_TIMEOUT), not also as a plan "this call did not work on"', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 1) }, { name: 'B', sessions: users(1, 2) }]));
    const plan = await createWts({ api: mock }).logoffAll({ servers: ['A', 'B'], dryRun: true });
    const api = overriding(mock, {
      openServer: async (n) => {
        if (n.toUpperCase() === 'B') await tick(150);
        return mock.openServer(n);
      },
    });
    const result = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverTimeoutMs: 40, plan, wait: false })) as FarmResult<LogoffOutcome>;
    await tick(200);
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([['B', 'E_SERVER_TIMEOUT']]);
  });
});

describe('adv2: the second listing, one outcome per session ID (promise 2)', () => {
  test('a backend that lists one ID twice in the second listing: one outcome and at most one logoff for that ID', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', sessions: users(0, 1) }, { name: 'B', sessions: users(1, 2) }]));
    let enumB = 0;
    const api = named(mock, (name) => ({
      enumerateSessions: async (h) => {
        const listed = await mock.enumerateSessions(h);
        // B's second listing (at its turn) shows session 2 twice (a torn snapshot of a buggy backend).
        if (name(h) === 'B' && ++enumB === 2) return [...listed, ...listed.filter((s) => s.sessionId === 2)];
        return listed;
      },
    }));
    const result = (await createWts({ api }).logoffAll({ servers: ['A', 'B'], serverConcurrency: 1, wait: false })) as FarmResult<LogoffOutcome>;
    expect(enumB).toBe(2);
    const onB = (result.byServer.get('B') ?? []).map((o) => `${o.session.id}:${o.status}`).sort();
    const logoffs = mock.calls.filter((c) => c.api === 'logoff' && c.server === 'B' && c.sessionId === 2).length;
    expect({ onB, logoffsOfSession2: logoffs }).toEqual({ onB: ['0:skipped', '2:loggedOff', '3:loggedOff', '65536:skipped'], logoffsOfSession2: 1 });
  });
});

describe('adv2: property: abort after N backend calls, farm changes between the listings', () => {
  const LOCAL: FarmServer = {
    name: 'ADMIN',
    consoleSessionId: 1,
    currentSessionId: 1,
    sessions: [
      { id: 0, name: 'Services', state: 'Disconnected' },
      { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
      { id: 4, name: 'RDP-Tcp#7', state: 'Active', user: 'localu', domain: 'CORP' },
      { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
    ],
  };
  function remote(i: number, count: number, latencyMs: number, withConsole: boolean): FarmServer {
    const base = users(i, count);
    return { name: `S${i}`, latencyMs, sessions: withConsole ? [...base, { id: 1, name: 'Console', state: 'Active', user: `con${i}`, domain: 'CORP' }] : base };
  }
  type Op = 'logoff' | 'logoffWait' | 'warn' | 'disconnect' | 'message' | 'messageWait' | 'plan';
  type Mutation = 'swap' | 'remove' | 'add' | 'comeBack' | 'becomeListener';

  test('one outcome per session ID per server, nothing started after the abort, every action reported once, protected sessions untouched, no handle or listener left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ users: fc.integer({ min: 0, max: 3 }), latencyMs: fc.integer({ min: 0, max: 3 }), console: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        fc.boolean(), // the local server too
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        fc.constantFrom<Op>('logoff', 'logoffWait', 'warn', 'disconnect', 'message', 'messageWait', 'plan'),
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 40 }), server: fc.nat(), kind: fc.constantFrom<Mutation>('swap', 'remove', 'add', 'comeBack', 'becomeListener') }), { maxLength: 3 }),
        async (defs, withLocal, serverConcurrency, listConcurrency, abortAfter, op, mutations) => {
          const servers = defs.map((d, i) => remote(i, d.users, d.latencyMs, d.console));
          const names = [...servers.map((s) => s.name), ...(withLocal ? ['localhost'] : [])];
          const farm = farmOf(servers, LOCAL);
          const controller = new AbortController();
          let count = 0;
          let armed = false;
          const afterAbort: string[] = [];
          /** Per action call: the user of the session at the moment it was sent. */
          const sent: Array<{ api: string; key: string; user: string | undefined; state: string | undefined }> = [];
          let mock!: MockApi;
          const onCall = (c: MockCall) => {
            if (!armed) return;
            if (controller.signal.aborted && !KERNEL.has(c.api)) afterAbort.push(`${c.api}:${c.server}:${c.sessionId ?? ''}`);
            if (c.api === 'logoff' || c.api === 'disconnect' || c.api === 'message') {
              const now = mock.getSession(c.server, c.sessionId as number);
              sent.push({ api: c.api, key: `${c.server}:${c.sessionId}`, user: now?.user, state: now?.state });
            }
            if (KERNEL.has(c.api)) return;
            count++;
            for (const m of mutations) {
              if (m.at !== count) continue;
              const target = servers[m.server % servers.length] as FarmServer;
              queueMicrotask(() => {
                const s2 = mock.getSession(target.name, 2);
                const s3 = mock.getSession(target.name, 3);
                if (m.kind === 'swap' && s2 && s3) {
                  mock.putSession(target.name, { ...s2, user: s3.user, logonTime: '2031-01-01T00:00:00Z' } as never);
                  mock.putSession(target.name, { ...s3, user: s2.user, logonTime: '2031-01-01T00:00:00Z' } as never);
                } else if (m.kind === 'remove') mock.removeSession(target.name, 2);
                else if (m.kind === 'add') mock.putSession(target.name, { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'late', domain: 'CORP' });
                else if (m.kind === 'comeBack' && s2) {
                  mock.removeSession(target.name, 2);
                  setTimeout(() => mock.putSession(target.name, { ...s2, logonTime: '2032-01-01T00:00:00Z' } as never), 1);
                } else if (m.kind === 'becomeListener' && s2) mock.putSession(target.name, { id: 2, name: 'RDP-Tcp', state: 'Listen' });
              });
            }
            if (abortAfter !== undefined && count === abortAfter) controller.abort();
          };
          mock = createMockApi(farm, { onCall });
          const wts = createWts({ api: mock });
          const plan = op === 'plan' ? await wts.logoffAll({ servers: names, dryRun: true }) : undefined;
          const planned = new Map<string, string>();
          for (const o of (plan as FarmResult<LogoffOutcome> | undefined)?.results ?? []) {
            if (o.status === 'wouldLogOff') planned.set(`${o.session.server === '' ? 'ADMIN' : o.session.server}:${o.session.id}`, o.session.userName);
          }
          mock.resetCalls();
          armed = true;
          const common = { servers: names, serverConcurrency, listConcurrency, serverTimeoutMs: 5000, signal: controller.signal };
          const result = (await (op === 'disconnect'
            ? wts.disconnectAll(common)
            : op === 'message' || op === 'messageWait'
              ? wts.sendMessageAll({ ...common, text: 'hi', wait: op === 'messageWait' })
              : wts.logoffAll({
                  ...common,
                  wait: op === 'logoffWait',
                  pollIntervalMs: 5,
                  ...(op === 'warn' ? { warn: { text: 'bye', graceSeconds: 0.005 } } : {}),
                  ...(op === 'plan' && plan ? { plan } : {}),
                }))) as FarmResult<LogoffOutcome | MessageOutcome>;
          await tick(30); // calls in flight finish; handles close
          const serverOf = (o: { session: { server: string } }) => (o.session.server === '' ? 'ADMIN' : o.session.server);
          // One outcome per session ID per server.
          const keys = result.results.map((o) => `${serverOf(o)}:${o.session.id}`);
          expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
          // Nothing started after the abort.
          expect(afterAbort).toEqual([]);
          // Every action sent is in exactly one outcome's requests, as many times as it was sent.
          const kindName: Record<string, string> = { logoff: 'WTSLogoffSession', disconnect: 'WTSDisconnectSession', message: 'WTSSendMessageW' };
          const sentCount = new Map<string, number>();
          for (const s of sent) sentCount.set(`${kindName[s.api]}@${s.key}`, (sentCount.get(`${kindName[s.api]}@${s.key}`) ?? 0) + 1);
          const reported = new Map<string, number>();
          for (const o of result.results) for (const r of o.requests) reported.set(`${r}@${serverOf(o)}:${o.session.id}`, (reported.get(`${r}@${serverOf(o)}:${o.session.id}`) ?? 0) + 1);
          expect(Object.fromEntries(reported)).toEqual(Object.fromEntries(sentCount));
          // Safety: never session 0, a listener, the console, the caller's own session.
          const acted = sent.filter((s) => s.api !== 'message');
          for (const s of acted) {
            const [server, id] = s.key.split(':');
            expect({ s, protectedId: id === '0' || Number(id) >= 65536 || id === '1' || (server === 'ADMIN' && id === '1') }).toEqual({ s, protectedId: false });
            expect({ s, listener: s.state === 'Listen' }).toEqual({ s, listener: false });
          }
          // A plan acts only on its own logons.
          if (op === 'plan') for (const s of acted) expect({ key: s.key, user: s.user }).toEqual({ key: s.key, user: planned.get(s.key) });
          // warn warns exactly the sessions it then logs off (same user).
          if (op === 'warn') {
            const warned = new Map(sent.filter((s) => s.api === 'message').map((s) => [s.key, s.user] as const));
            for (const s of acted) expect({ key: s.key, user: s.user }).toEqual({ key: s.key, user: warned.get(s.key) });
          }
          expect(mock.openHandleCount).toBe(0);
          expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
        },
      ),
      { numRuns: Number(process.env.ADV2_RUNS ?? 150) },
    );
  }, 180_000);
});

describe('adv2: listProcesses over many servers (promise 8)', () => {
  test('a backend without lookupAccountSid and without level 1: every server answers completely, one request at a time while listed', async () => {
    const servers = Array.from({ length: 4 }, (_, i): FarmServer => ({
      name: `P${i}`,
      latencyMs: 2,
      faults: { processesEx: { '*': 120 } },
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected', processes: [{ pid: 4, name: 'System' }] },
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: `p${i}`, domain: 'CORP', processes: [{ pid: 100, name: 'explorer.exe' }, { pid: 101, name: 'cmd.exe' }] },
      ],
    }));
    const mock = createMockApi(farmOf(servers));
    const { track, peak: peakOf } = perServerInFlight();
    const api = named(mock, (name) => ({
      lookupAccountSid: undefined,
      enumerateSessions: (h) => track(name(h), () => mock.enumerateSessions(h)),
      enumerateProcesses: (h) => track(name(h), () => mock.enumerateProcesses(h)),
      enumerateProcessesEx: (h, id, o) => track(name(h), () => mock.enumerateProcessesEx(h, id, o)),
    }));
    const result = (await createWts({ api }).listProcesses({ servers: servers.map((s) => s.name), serverConcurrency: 1, listConcurrency: 2, serverTimeoutMs: 2000 })) as FarmResult<SessionProcess>;
    expect(result.failures).toEqual([]);
    expect(peakOf()).toBe(1);
    for (const s of servers) {
      const rows = result.byServer.get(s.name) ?? [];
      expect({ s: s.name, pids: rows.map((r) => r.processId).sort((a, b) => a - b), owners: rows.every((r) => r.owner === r.ownerSid) }).toEqual({ s: s.name, pids: [0, 4, 100, 101], owners: true });
    }
  });
});

describe('adv2: events and warnings', () => {
  test('a server not started before an abort gets no serverStarted (docs: "serverStarted is sent when a server\'s listing starts")', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', latencyMs: 5, sessions: users(0, 1) }, { name: 'B', latencyMs: 5, sessions: users(1, 1) }]));
    const controller = new AbortController();
    const api = overriding(mock, {
      enumerateSessions: async (h) => {
        const listed = mock.enumerateSessions(h);
        controller.abort();
        return listed;
      },
    });
    const events: string[] = [];
    await createWts({ api }).logoffAll({ servers: ['A', 'B'], listConcurrency: 1, signal: controller.signal, wait: false, onEvent: (e: FarmEvent<LogoffOutcome>) => { if (e.type !== 'result') events.push(`${e.type}:${e.server}`); } });
    expect(mock.calls.filter((c) => c.api === 'open').map((c) => c.server)).toEqual(['A']);
    expect(events).toEqual(['serverStarted:A', 'serverFailed:A', 'serverFailed:B']);
  });

  test('sendMessageAll over many servers, wait: true, concurrency 16: no more abort listeners on a signal than its limit (else Node prints MaxListenersExceededWarning)', async () => {
    const mock = createMockApi(farmOf([{ name: 'A', latencyMs: 20, sessions: users(0, 16) }, { name: 'B', latencyMs: 20, sessions: users(1, 16) }]));
    // (A process.on('warning') listener sees nothing under Jest's sandboxed process: the signals
    // the backend is given are inspected instead.)
    let worst = { listeners: 0, max: Infinity };
    const api = overriding(mock, {
      sendMessage: (h, id, m, o) => {
        const p = mock.sendMessage(h, id, m, o);
        if (o?.signal) {
          const listeners = getEventListeners(o.signal, 'abort').length;
          if (listeners - getMaxListeners(o.signal) > worst.listeners - worst.max) worst = { listeners, max: getMaxListeners(o.signal) };
        }
        return p;
      },
    });
    const app = new AbortController();
    const result = (await createWts({ api }).sendMessageAll({ servers: ['A', 'B'], text: 'hi', wait: true, concurrency: 16, signal: app.signal })) as FarmResult<MessageOutcome>;
    expect(result.results.filter((o) => o.status === 'sent')).toHaveLength(32);
    expect(worst.listeners).toBeLessThanOrEqual(worst.max);
  });
});
