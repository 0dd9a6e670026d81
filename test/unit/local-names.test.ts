/**
 * The local server under every name it has (issue 10 §2): NetBIOS (cut to 15 characters), DNS
 * host name, FQDN, its IP addresses, localhost, loopback, '.'. Under any of them the caller's own
 * session and the console (by WTSGetActiveConsoleSessionId, not only by name) stay protected, and
 * in `servers: [...]` they are one server: each session is acted on once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logoffMain } from '../../src/cli/logoff';
import { createWts, InvalidArgumentError, type LogoffOutcome, type WtsApi } from '../../src/index';
import { createMockApi, type Farm, type MockApi } from '../../src/mock';
import { logoffCalls, overriding, rejection } from '../helpers';

/**
 * A host named RDSH-PRODUCTION-01: GetComputerNameW gives RDSH-PRODUCTIO. The caller is in
 * session 3; the console is session 5 by WTSGetActiveConsoleSessionId (its WinStation is not
 * named 'Console', so only the console ID, known on the local server alone, protects it).
 */
function farm(): Farm {
  return {
    localServer: 'RDSH-PRODUCTIO',
    servers: [
      {
        name: 'RDSH-PRODUCTIO',
        aliases: ['RDSH-PRODUCTION-01', 'rdsh-production-01.corp.example', '10.0.0.5'],
        consoleSessionId: 5,
        currentSessionId: 3,
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP' },
          { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'me', domain: 'CORP' },
          { id: 4, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP' },
          { id: 5, name: 'RDP-Tcp#2', state: 'Active', user: 'kiosk', domain: 'CORP' },
          { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
        ],
      },
      {
        name: 'WF12',
        aliases: ['wf12.corp.example', '10.0.0.12'],
        sessions: [
          { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
          { id: 3, name: 'RDP-Tcp#0', state: 'Active', user: 'frank', domain: 'CORP' },
        ],
      },
    ],
  };
}

/** The mock as a backend that lacks the optional getLocalServerNames (a third party's, say). */
function withoutLocalNames(mock: MockApi): WtsApi {
  return overriding(mock, { getLocalServerNames: undefined });
}

function setup(api?: (mock: MockApi) => WtsApi) {
  const mock = createMockApi(farm());
  return { mock, wts: createWts({ api: api ? api(mock) : mock }) };
}

const byId = (outcomes: readonly LogoffOutcome[]) =>
  Object.fromEntries(outcomes.map((o) => [o.session.id, o.status === 'skipped' ? `skipped:${o.reason}` : o.status]));

/** Every name the local machine has, as a user may give it. */
const LOCAL_NAMES = [
  'RDSH-PRODUCTIO', 'rdsh-productio', '\\\\RDSH-PRODUCTIO', 'RDSH-PRODUCTION-01', 'rdsh-production-01.corp.example',
  '10.0.0.5', '::ffff:10.0.0.5', 'localhost', '.', '127.0.0.1', '127.0.0.2', '127.1', '::1', '::ffff:127.0.0.1',
];

describe('the local server under every name it has', () => {
  test.each(LOCAL_NAMES)('logoffAll({ server: %p }) never logs off your own session or the console', async (server) => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ server, pollIntervalMs: 1 });
    expect(byId(outcomes)).toEqual({
      0: 'skipped:services',
      2: 'loggedOff',
      3: 'skipped:current',
      4: 'loggedOff',
      5: 'skipped:console',
      65536: 'skipped:listener',
    });
    // It did act on this machine (so the protection is not an accident of a failed open) ...
    expect(logoffCalls(mock).sort()).toEqual([2, 4]);
    // ... through WTS_CURRENT_SERVER_HANDLE: the server was never opened by name.
    expect(mock.calls.filter((c) => c.api === 'open')).toEqual([]);
    expect(mock.openHandleCount).toBe(0);
  });

  test.each(LOCAL_NAMES)('logoff() and logoff(console ID) with server %p: refused / your own session', async (server) => {
    const { mock, wts } = setup();
    expect(await rejection(wts.logoff(5, { server }))).toMatchObject({ code: 'E_CONSOLE' });
    expect(logoffCalls(mock)).toEqual([]);
    const own = await wts.findSession(3, { server });
    expect(own).toMatchObject({ isCurrent: true, server: '' });
    const consoleSession = await wts.findSession(5, { server });
    expect(consoleSession).toMatchObject({ isConsole: true, server: '' });
  });

  test('the same calls on a backend without getLocalServerNames: only the NetBIOS name and the fixed aliases are local', async () => {
    // What the assertions above guard against: a DNS name taken for a remote server opens the
    // machine over RPC, where neither your session nor the console ID is known.
    const { mock, wts } = setup(withoutLocalNames);
    await wts.logoffAll({ server: 'localhost', pollIntervalMs: 1 });
    expect(logoffCalls(mock).sort()).toEqual([2, 4]);

    const second = setup(withoutLocalNames);
    const outcomes = await second.wts.logoffAll({ server: 'rdsh-production-01.corp.example', pollIntervalMs: 1 });
    expect(byId(outcomes)).toMatchObject({ 3: 'loggedOff', 5: 'loggedOff' });
    expect(second.mock.calls.filter((c) => c.api === 'open').map((c) => c.server)).toEqual(['RDSH-PRODUCTIO']);
  });

  test('a remote server stays remote under its aliases; a DNS name is not local by its first label', async () => {
    const { mock, wts } = setup();
    for (const server of ['WF12', 'wf12.corp.example', '10.0.0.12', 'rdsh-productio.other.example']) {
      mock.resetCalls();
      const sessions = await wts.listSessions({ server }).catch((e: Error) => e);
      const opened = mock.calls.filter((c) => c.api === 'open').map((c) => c.server);
      if (server === 'rdsh-productio.other.example') {
        // Another domain's host of the same name: opened by name (unknown to the mock: 1722).
        expect(opened).toEqual(['rdsh-productio.other.example']);
        expect(sessions).toMatchObject({ win32Code: 1722 });
      } else {
        expect(opened).toEqual(['WF12']);
        expect(Array.isArray(sessions) && sessions.map((s) => [s.id, s.isCurrent, s.server])).toEqual([
          [1, false, server],
          [3, false, server], // session 3 is the caller's ID locally, not on WF12
        ]);
      }
    }
  });

  test('the local names are asked once per operation, not per session', async () => {
    const { mock, wts } = setup();
    await wts.logoffAll({ server: '10.0.0.5', pollIntervalMs: 1 });
    expect(mock.calls.filter((c) => c.api === 'computerName' || c.api === 'localNames').map((c) => c.api)).toEqual(['computerName', 'localNames']);
    mock.resetCalls();
    await wts.logoffAll({ pollIntervalMs: 1 }); // no server: local, nothing to compare
    expect(mock.calls.filter((c) => c.api === 'computerName' || c.api === 'localNames')).toEqual([]);
  });
});

describe('two names of one server in servers: [...] are one server', () => {
  test("servers: ['RDSH-PRODUCTIO', '10.0.0.5', 'localhost'] acts on each session once, and protects yours", async () => {
    const { mock, wts } = setup();
    const result = await wts.logoffAll({ servers: ['RDSH-PRODUCTIO', '10.0.0.5', 'localhost'], pollIntervalMs: 1 });
    expect(result.failures).toEqual([]);
    expect([...result.byServer.keys()]).toEqual(['RDSH-PRODUCTIO']);
    expect(result.results.map((o) => o.session.id)).toEqual([0, 2, 3, 4, 5, 65536]);
    expect(byId(result.results)).toMatchObject({ 2: 'loggedOff', 3: 'skipped:current', 4: 'loggedOff', 5: 'skipped:console' });
    expect(logoffCalls(mock).sort()).toEqual([2, 4]);
    expect(mock.calls.filter((c) => c.api === 'enumerate').length).toBeGreaterThanOrEqual(1);
    expect(mock.calls.filter((c) => c.api === 'open')).toEqual([]);
  });

  test('the first name as given is kept; remote names merge without case and by address form', async () => {
    const { mock, wts } = setup();
    const result = await wts.listSessions({
      servers: ['127.0.0.2', 'WF12', 'rdsh-production-01.corp.example', 'wf12', '10.0.0.5', '::1', '.', 'RDSH-PRODUCTIO'],
    });
    expect([...result.byServer.keys()]).toEqual(['127.0.0.2', 'WF12']);
    expect(result.results.map((s) => `${s.server || 'local'}:${s.id}`)).toEqual([
      'local:0', 'local:2', 'local:3', 'local:4', 'local:5', 'local:65536', 'WF12:1', 'WF12:3',
    ]);
    expect(mock.calls.filter((c) => c.api === 'open').map((c) => c.server)).toEqual(['WF12']);

    const byAddress = await wts.listSessions({ servers: ['10.0.0.12', '::ffff:10.0.0.12'] });
    expect([...byAddress.byServer.keys()]).toEqual(['10.0.0.12']);
  });

  test('two different DNS names of one remote server are not merged (that needs DNS): documented', async () => {
    const { wts } = setup();
    const result = await wts.listSessions({ servers: ['WF12', 'wf12.corp.example'] });
    expect([...result.byServer.keys()]).toEqual(['WF12', 'wf12.corp.example']);
  });

  test('disconnectAll and sendMessageAll over two local names: each session once', async () => {
    const { mock, wts } = setup();
    const disconnected = await wts.disconnectAll({ servers: ['RDSH-PRODUCTION-01', 'localhost'] });
    expect(disconnected.results.map((o) => o.session.id)).toEqual([0, 2, 3, 4, 5, 65536]);
    expect(mock.calls.filter((c) => c.api === 'disconnect').map((c) => c.sessionId)).toEqual([2]);
    mock.resetCalls();
    await wts.sendMessageAll({ servers: ['::1', 'rdsh-productio'], text: 'Maintenance at 18:00' });
    const messaged = mock.calls.filter((c) => c.api === 'message').map((c) => c.sessionId);
    expect(messaged).toEqual([...new Set(messaged)]);
    expect(messaged).not.toContain(0);
  });

  test('bad input makes no call, not even a name look-up', async () => {
    const { mock, wts } = setup();
    for (const options of [
      { servers: ['RDSH-PRODUCTIO', 'localhost'], pollIntervalMs: -1 },
      { servers: ['RDSH-PRODUCTIO', 'localhost'], state: 'Asleep' },
      { servers: ['RDSH-PRODUCTIO', 'bad name'] },
      { servers: ['', ' '] },
    ]) {
      expect(await rejection(wts.logoffAll(options as never))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(mock.calls).toEqual([]);
  });

  test('wts-logoff /all /servers:RDSH-PRODUCTIO,10.0.0.5,localhost acts on each session once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-local-names-'));
    const path = join(dir, 'farm.json');
    const log = join(dir, 'calls.jsonl');
    writeFileSync(path, JSON.stringify(farm(), null, 2));
    writeFileSync(log, '');
    const out: string[] = [];
    const err: string[] = [];
    const before = process.env['WTS_SESSION_CALL_LOG'];
    process.env['WTS_SESSION_CALL_LOG'] = log;
    let code: number;
    try {
      code = await logoffMain(['/all', '/servers:RDSH-PRODUCTIO,10.0.0.5,localhost', '--yes', '--json', '--simulate', path], {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        interactive: false,
        progress: false,
        confirm: async () => false,
      });
    } finally {
      if (before === undefined) delete process.env['WTS_SESSION_CALL_LOG'];
      else process.env['WTS_SESSION_CALL_LOG'] = before;
    }
    expect([code, err.join('')]).toEqual([0, '']);
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { api: string; sessionId?: number });
    expect(calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId).sort()).toEqual([2, 4]);
    expect(calls.filter((c) => c.api === 'open')).toEqual([]);
    const left = (JSON.parse(readFileSync(path, 'utf8')) as Farm).servers[0]!.sessions!.map((s) => s.id);
    expect(left).toEqual([0, 3, 5, 65536]);
  });
});

describe('the caller in no session of the server', () => {
  test('a farm without currentSessionId: getCurrentSessionId is 0xFFFFFFFF and WTS_CURRENT_SESSION finds no session (7022)', async () => {
    const f = farm();
    delete f.servers[0]!.currentSessionId;
    const mock = createMockApi(f);
    expect(mock.getCurrentSessionId()).toBe(0xffffffff);
    expect(await rejection(mock.logoffSession(0n as never, 0xffffffff))).toMatchObject({ win32Code: 7022 });
    expect(await rejection(mock.querySessionInformation(0n as never, 0xffffffff, 'WTSUserName'))).toMatchObject({ win32Code: 7022 });
  });

  test('no session is "yours": logoff() is refused before any logoff call; logoffAll spares no user session', async () => {
    const f = farm();
    delete f.servers[0]!.currentSessionId;
    const mock = createMockApi(f);
    const wts = createWts({ api: mock });
    // Not "session 4294967295 not found": the caller is told they are in no session here.
    expect(await rejection(wts.logoff())).toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/not in a session on the local server/) });
    expect(await rejection(wts.logoff(undefined, { server: '10.0.0.5' }))).toMatchObject({ code: expect.stringMatching(/^E_/) });
    expect(logoffCalls(mock)).toEqual([]);
    const sessions = await wts.listSessions();
    expect(sessions.filter((s) => s.isCurrent)).toEqual([]);
    const outcomes = await wts.logoffAll({ pollIntervalMs: 1 });
    expect(byId(outcomes)).toMatchObject({ 0: 'skipped:services', 2: 'loggedOff', 3: 'loggedOff', 4: 'loggedOff', 5: 'skipped:console' });
  });
});

describe('farm descriptions: aliases', () => {
  test.each([
    [{ aliases: 'x' }, /aliases: expected an array/],
    [{ aliases: [''] }, /aliases\[0\]: expected a non-empty string/],
    [{ aliases: ['bad name'] }, /aliases\[0\]: 'bad name' is not a server name/],
    [{ aliases: ['WF12'] }, /is already a name of server 'WF12'/],
    [{ aliases: ['wf12.CORP.example'] }, /is already a name of server/],
    [{ aliases: ['::ffff:10.0.0.12'] }, /is already a name of server/],
  ])('the local server with %p is refused', (extra, message) => {
    const f = farm();
    Object.assign(f.servers[0]!, extra);
    expect(() => createMockApi(f)).toThrow(message);
  });

  test('localhost or a loopback address can only be an alias of the local server', () => {
    const f = farm();
    f.servers[1]!.aliases = ['127.0.0.2'];
    expect(() => createMockApi(f)).toThrow(/always names the local server/);
    const g = farm();
    g.servers[0]!.aliases = ['localhost', '\\\\10.0.0.5'];
    expect(createMockApi(g).getLocalServerNames()).toEqual(['localhost', '10.0.0.5']);
  });

  test('openServer accepts an alias as the server (the handle names the farm server)', async () => {
    const mock = createMockApi(farm());
    const h = await mock.openServer('WF12.CORP.EXAMPLE');
    expect((await mock.enumerateSessions(h)).map((s) => s.sessionId)).toEqual([1, 3]); // WF12's (hostName is '' on an RD Session Host)
    await mock.closeServer(h);
    expect(mock.calls.map((c) => `${c.api}:${c.server}`)).toEqual(['open:WF12', 'enumerate:WF12', 'close:WF12']);
  });
});
