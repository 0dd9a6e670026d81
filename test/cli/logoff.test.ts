import { exampleFarm } from '../helpers';
import { simulate } from './run';

const ids = (farm: ReturnType<typeof exampleFarm>, server = 0) => farm.servers[server]!.sessions!.map((s) => s.id);

describe('wts-logoff (built command, simulated farm)', () => {
  test('logs off by ID silently, like logoff.exe', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['3']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(ids(r.farm)).not.toContain(3);
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([{ api: 'logoff', server: 'TS01', sessionId: 3 }]);
  });

  test('by name on another server, verbose', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['TERM04', '/SERVER:WF12', '/V']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Logging off session TERM04 on server WF12/);
    expect(r.stderr).toMatch(/Logged off session 2 \(TERM04, CORP\\frank, Active\) on WF12\./);
    expect(ids(r.farm, 1)).not.toContain(2);
  });

  test('access denied reads like logoff.exe, exit 1', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5\nError [5]: Access is denied.\n');
  });

  test.each([
    [['1'], /console session/],
    [['console'], /console session/],
    [['0'], /Services session/],
    [['65536'], /listener/],
    [['RDP-Tcp#9'], /not found/],
    [['42'], /not found/],
  ])('runtime refusals exit 1 with a clear message: %p', (args, message) => {
    const sim = simulate();
    const r = sim.run('wts-logoff', args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });

  test('a named session that is not active exits 1', () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Connected', user: 'zoe' });
    const r = simulate(farm).run('wts-logoff', ['rdp-tcp#9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is Connected, not Active/);
  });

  test.each([
    [['-1'], /Invalid session ID -1/],
    [['4294967296'], /Invalid session ID 4294967296/],
    [['12abc'], /neither a session ID/],
    [[''], /empty/],
    [['/server:'], /needs a value/],
    [['3', '/server:WF 12'], /Invalid \/server/],
    [['3', '/server:WF/12'], /Invalid \/server/],
    [['3', '/server:CORP\\WF12'], /Invalid \/server/],
    [['/frobnicate'], /Unknown switch/],
    [['3', '4'], /Only one session/],
    [['/all', '3'], /cannot be combined/],
    [['/server:WF12'], /No session given together with a server/],
  ])('bad input exits 2 with no WTS call: %p', (args, message) => {
    const sim = simulate();
    const r = sim.run('wts-logoff', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(r.calls).toEqual([]);
  });

  test('/? prints the help', () => {
    const r = simulate().run('wts-logoff', ['/?']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wts-logoff \[SessionID \| SessionName\] \[\/server:ServerName\] \[\/v\]/);
  });

  test('--json for one session', () => {
    const r = simulate().run('wts-logoff', ['4', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'loggedOff', confirmed: true, session: { id: 4, userName: 'carol' } });
  });

  test('--simulate works without the environment variable', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['3', '--simulate', sim.path], { env: { WTS_SESSION_SIMULATE: '' } });
    expect(r.code).toBe(0);
    expect(ids(r.farm)).not.toContain(3);
  });

  test('off Windows with no simulation: a typed error that says how to simulate', () => {
    const r = simulate().run('wts-logoff', ['3'], { env: { WTS_SESSION_SIMULATE: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/WTS_SESSION_SIMULATE/);
  });
});

describe('wts-logoff /all (KB 259436 in one command)', () => {
  test('--dry-run shows the plan and logs off nobody', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['/all', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Would log off session 3 \(CORP\\bob, Disconnected\)\./);
    expect(r.stdout).toMatch(/Skipped session 1 \(Console, CORP\\admin, Active\): the console session is never logged off\./);
    expect(r.stdout).toMatch(/^5 would be logged off, 4 skipped\.$/m);
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });

  test('without a terminal and without --yes it refuses (exit 2) before it calls anything', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['/all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(r.log).toEqual([]);
    expect(r.farmText).toBe(sim.initial);
  });

  test('--yes: one line per session, failures reported, exit 1 when any failed', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['/all', '--yes']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(10); // nine sessions and the summary
    expect(lines).toContain('Failed session 5 (RDP-Tcp#2, CORP\\dave, Active): Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5 / Error [5]: Access is denied.');
    expect(lines[lines.length - 1]).toBe('4 logged off, 4 skipped, 1 failed.');
    expect(ids(r.farm)).toEqual([0, 1, 2, 5, 65536]);
  });

  test('filters: --state and --user', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['/all', '--state', 'disc', '--user', 'temp*', '--yes']);
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId)).toEqual([6]);
  });

  test('--json: one JSON line per session, then the summary', () => {
    const r = simulate().run('wts-logoff', ['/all', '--json', '--dry-run', '/server:WF12']);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status: string; session: { id: number } });
    const rows = docs.filter((d) => d.type === 'outcome');
    // Lines stream as outcomes are settled (skips first); every session appears once.
    expect(rows.map((x) => [x.session.id, x.status]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [0, 'skipped'], [1, 'skipped'], [2, 'wouldLogOff'], [3, 'wouldLogOff'], [65536, 'skipped'],
    ]);
    expect(docs.length).toBe(rows.length + 1);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'summary', dryRun: true, counts: { wouldLogOff: 2, skipped: 3 }, exitCode: 0 });
  });

  test('an unreachable server: exit 1 with the Win32 code', () => {
    const r = simulate().run('wts-logoff', ['/all', '/server:WF13', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error \[1722\]: The RPC server is unavailable/);
  });

  test('bad state: exit 2, no call', () => {
    const r = simulate().run('wts-logoff', ['/all', '--state', 'asleep']);
    expect(r.code).toBe(2);
    expect(r.calls).toEqual([]);
  });
});
