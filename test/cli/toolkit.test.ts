/**
 * The toolkit's commands as real processes on a simulated farm of three servers, one of them
 * unreachable (WF13).
 */
import { writeFileSync } from 'node:fs';
import { toolkitFarm } from '../contract/features';
import { simulate } from './run';

const calls = (r: { calls: Array<{ api: string; server: string; sessionId?: number }> }, api: string) =>
  r.calls.filter((c) => c.api === api).map((c) => `${c.server}:${c.sessionId ?? ''}`);

describe('wts-query user | process', () => {
  test('user: quser\'s columns with IDLE TIME and LOGON TIME, users only, > for yours', () => {
    const r = simulate(toolkitFarm()).run('wts-query', ['user']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME');
    expect(lines.map((l) => l.slice(1, 10).trim())).toEqual(['USERNAME', 'admin', 'alice', 'bob', 'carol', 'dave', 'erin']);
    expect(lines[2]).toMatch(/^>alice\s+rdp-tcp#0\s+2\s+Active\s+\.\s+\d+\/\d+\/\d{4} \d+:\d\d [AP]M$/);
    expect(lines[3]).toMatch(/^ bob\s+3\s+Disc\s+2\+00:0\d /);
    expect(lines[4]).toMatch(/^ carol\s+rdp-tcp#1\s+4\s+Active\s+3:0\d /);
    expect(lines[5]).toMatch(/^ dave\s+rdp-tcp#2\s+5\s+Active\s+1[01] /);
    // one enumerate, one WTSSessionInfo query per session with a user (no more)
    expect(r.calls.filter((c) => c.api === 'enumerate')).toHaveLength(1);
  });

  test('process: query process\'s columns; filter by program', () => {
    const sim = simulate(toolkitFarm());
    const r = sim.run('wts-query', ['process']);
    expect(r.stdout.split('\n')[0]).toBe(' USERNAME              SESSIONNAME         ID    PID  IMAGE');
    expect(r.stdout).toMatch(/ bob\s+3\s+4100\s+excel\.exe/);
    expect(sim.run('wts-query', ['process', 'excel']).code).toBe(0);
    const none = sim.run('wts-query', ['process', 'notepad']);
    expect([none.code, none.stderr]).toEqual([1, 'No Process exists for notepad\n']);
  });

  test('process: USERNAME is each process\'s owner (LookupAccountSidW, once per SID); --long adds threads, handles, working set, CPU time', () => {
    const farm = toolkitFarm();
    const bob = farm.servers[0]!.sessions!.find((s) => s.id === 3)!;
    bob.processes = [
      { pid: 4100, name: 'excel.exe', threads: 12, handleCount: 340, workingSetSize: 52_428_800, userTime: 61_000, kernelTime: 4_000 },
      { pid: 4200, name: 'backup.exe', user: 'SYSTEM' },
      { pid: 4300, name: 'orphan.exe', user: 'S-1-5-21-9-9-9-500' },
    ];
    const sim = simulate(farm);
    const r = sim.run('wts-query', ['process']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(1).map((l) => l.slice(1, 23).trim())).toEqual(['system', 'bob', 'system', 'S-1-5-21-9-9-9-500']);
    // SYSTEM, bob, the orphan SID: one lookup each.
    expect(r.calls.filter((c) => c.api === 'lookup')).toHaveLength(3);
    // The owner filters too, by name or DOMAIN\name.
    expect(sim.run('wts-query', ['process', 'system']).stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(sim.run('wts-query', ['process', 'NT AUTHORITY\\SYSTEM']).stdout.trimEnd().split('\n')).toHaveLength(3);
    const long = sim.run('wts-query', ['process', '--long']);
    expect(long.stdout.split('\n')[0]).toBe(' USERNAME              SESSIONNAME         ID    PID  THREADS  HANDLES  WORKING SET CPU TIME  IMAGE');
    expect(long.stdout).toMatch(/ bob\s+3\s+4100\s+12\s+340\s+51,200 K\s+0:01:05  excel\.exe/);
    const json = JSON.parse(sim.run('wts-query', ['process', 'excel', '--json']).stdout) as { results: Array<Record<string, unknown>> };
    expect(json.results).toEqual([
      expect.objectContaining({ processId: 4100, owner: 'CORP\\bob', ownerSid: expect.stringMatching(/^S-1-5-21-/), threads: 12, handleCount: 340, workingSetSize: 52_428_800, userTime: 61_000, kernelTime: 4_000 }),
    ]);
    const usage = sim.run('wts-query', ['session', '--long']);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/--long goes with 'user' .* or 'process'/)]);
  });

  test('process on a server without WTSEnumerateProcessesExW level 1: the same rows and owners, the --long columns blank', () => {
    const farm = toolkitFarm();
    farm.servers[0]!.faults = { processesEx: { '*': 120 } };
    const sim = simulate(farm);
    const r = sim.run('wts-query', ['process', '--long']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ bob\s+3\s+4100\s+excel\.exe$/m);
    expect(r.calls.filter((c) => c.api === 'processes')).toHaveLength(1);
    const json = JSON.parse(sim.run('wts-query', ['process', '--json']).stdout) as { results: Array<Record<string, unknown>> };
    expect(json.results.find((p) => p['processId'] === 4100)).toEqual({
      server: '', sessionId: 3, sessionName: '', userName: 'bob', processId: 4100, processName: 'excel.exe', owner: 'CORP\\bob', ownerSid: expect.any(String),
    });
  });

  test('several servers: a table per server; the unreachable one reported, exit 1', () => {
    const r = simulate(toolkitFarm()).run('wts-query', ['user', '/servers:TS01,WF12,WF13']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^TS01:\n USERNAME/m);
    expect(r.stdout).toMatch(/^WF12:\n USERNAME[^\n]*\n frank\s+term04\s+2\s+Active/m);
    expect(r.stderr).toMatch(/^Failed server WF13: .*Error \[1722\]/m);
  });

  test('a file of server names, and JSON with results and failures', () => {
    const sim = simulate(toolkitFarm());
    const list = `${sim.path}.servers`;
    writeFileSync(list, '# the farm\nWF12\n\nWF13  # down\n');
    const r = sim.run('wts-query', ['session', `/servers:@${list}`, '--json']);
    const json = JSON.parse(r.stdout) as { results: Array<{ server: string; id: number }>; failures: Array<{ server: string; error: { code: string } }> };
    expect(json.results.map((s) => `${s.server}:${s.id}`)).toEqual(['WF12:1', 'WF12:2', 'WF12:3']);
    expect(json.failures).toEqual([expect.objectContaining({ server: 'WF13', error: expect.objectContaining({ code: 'E_WIN32' }) })]);
  });
});

describe('wts-msg', () => {
  test('to one session, waiting for the answer', () => {
    const r = simulate(toolkitFarm()).run('wts-msg', ['5', '/w', '/time:30', '--buttons', 'YesNo', 'Save', 'your', 'work?']);
    expect([r.code, r.stdout]).toEqual([0, 'Response from session 5 (RDP-Tcp#2, CORP\\dave): Yes\n']);
    expect(calls(r, 'message')).toEqual(['TS01:5']);
  });

  test('the message from standard input', () => {
    const r = simulate(toolkitFarm()).run('wts-msg', ['RDP-Tcp#1', '/v'], { input: 'Coffee is ready\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Response from session 4 .*: Async/);
  });

  test('a user name: every session of that user; * on several servers', () => {
    const sim = simulate(toolkitFarm());
    const byUser = sim.run('wts-msg', ['carol', 'hi']);
    expect(byUser.code).toBe(0);
    expect(calls(byUser, 'message')).toEqual(['TS01:4']);
    const all = sim.run('wts-msg', ['*', '/servers:TS01,WF12,WF13', 'Reboot at 18:00']);
    expect(all.code).toBe(1); // WF13 failed
    expect(calls(all, 'message').sort()).toEqual(['TS01:1', 'TS01:2', 'TS01:3', 'TS01:4', 'TS01:5', 'TS01:6', 'WF12:2', 'WF12:3']);
    expect(all.stderr).toMatch(/Failed server WF13/);
  });

  test('bad input exits 2 with no call', () => {
    const sim = simulate(toolkitFarm());
    for (const args of [[], ['5'], ['5', '/time:soon', 'x'], ['12abc', 'x'], ['5', '--buttons', 'Maybe', 'x'], ['5', '--idle', '>1h', 'x']]) {
      const r = sim.run('wts-msg', args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
    }
  });
});

describe('wts-disconnect', () => {
  test('one session by ID; the farm file shows it disconnected', () => {
    const r = simulate(toolkitFarm()).run('wts-disconnect', ['4', '/v']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Disconnected session 4/);
    expect(r.farm.servers[0]!.sessions!.find((s) => s.id === 4)).toMatchObject({ state: 'Disconnected', name: '' });
  });

  test('/all over several servers with --idle, confirmation required off a terminal', () => {
    const sim = simulate(toolkitFarm());
    const refused = sim.run('wts-disconnect', ['/all', '/servers:TS01,WF12', '--idle', '>1h']);
    expect(refused.code).toBe(2);
    expect(calls(refused, 'disconnect')).toEqual([]);
    const r = sim.run('wts-disconnect', ['/all', '/servers:TS01,WF12', '--idle', '>1h', '--yes']);
    expect(r.code).toBe(0);
    expect(calls(r, 'disconnect')).toEqual(['TS01:4']);
    expect(r.stdout).toMatch(/^1 disconnected, \d+ skipped, 0 failed\.$/m);
  });

  test('services and listeners are refused (exit 1); bad input exit 2', () => {
    const sim = simulate(toolkitFarm());
    expect(sim.run('wts-disconnect', ['0']).code).toBe(1);
    expect(sim.run('wts-disconnect', ['65536']).code).toBe(1);
    for (const args of [['3', '4'], ['/all', '3'], ['--idle', '>1h'], ['-1']]) expect(sim.run('wts-disconnect', args).code).toBe(2);
  });
});

describe('wts-logoff /all: many servers, idle, warn first', () => {
  test('/servers with one unreachable: the others are done, the failure is reported, exit 1', () => {
    const r = simulate(toolkitFarm()).run('wts-logoff', ['/all', '/servers:TS01,WF12,WF13', '--state', 'Disc', '--yes']);
    expect(r.code).toBe(1);
    expect(calls(r, 'logoff').sort()).toEqual(['TS01:3', 'TS01:6', 'WF12:3']);
    expect(r.stdout).toMatch(/^3 logged off, \d+ skipped, 0 failed, 1 server failed\.$/m);
    expect(r.stderr).toMatch(/Failed server WF13/);
  });

  test('--idle and --disconnected filters', () => {
    const sim = simulate(toolkitFarm());
    const idle = sim.run('wts-logoff', ['/all', '--idle', '>2h', '--dry-run']);
    expect(idle.stdout).toMatch(/Would log off session 3 /);
    expect(idle.stdout).toMatch(/Would log off session 4 /);
    expect(idle.stdout).not.toMatch(/Would log off session 5 /);
    const disc = sim.run('wts-logoff', ['/all', '--disconnected', '>1d', '--dry-run', '--json']);
    const rows = disc.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; session: { id: number } });
    expect(rows.filter((x) => x.status === 'wouldLogOff').map((x) => x.session.id)).toEqual([3]);
    expect(sim.run('wts-logoff', ['/all', '--idle', '<2h']).code).toBe(2);
  });

  test('--warn sends the message, waits --grace, then logs off; the dry run shows the plan', () => {
    const sim = simulate(toolkitFarm());
    const plan = sim.run('wts-logoff', ['/all', '--user', 'carol', '--warn', 'Saving is wise', '--grace', '90', '--dry-run']);
    expect(plan.stdout).toMatch(/Would warn session 4 \(RDP-Tcp#1, LAB\\carol, Active\), wait 90 s, then log it off\./);
    expect(calls(plan, 'message')).toEqual([]);
    const started = Date.now();
    const r = sim.run('wts-logoff', ['/all', '--user', 'carol', '--warn', 'Saving is wise', '--grace', '1', '--yes']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.code).toBe(0);
    expect(calls(r, 'message')).toEqual(['TS01:4']);
    expect(calls(r, 'logoff')).toEqual(['TS01:4']);
    expect(sim.run('wts-logoff', ['/all', '--grace', '5']).code).toBe(2);
  });
});
