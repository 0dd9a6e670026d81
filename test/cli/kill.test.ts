/**
 * wts-kill, the built command on a simulated farm: tskill's grammar (PID or name, /id, /a,
 * /server), the question for more than one process, --dry-run, --yes, --json, and the exit codes.
 */
import type { Farm } from '../../src/mock';
import { exampleFarm } from '../helpers';
import { simulate, type Run } from './run';

/** The processes WTSTerminateProcess was called for, from the call log. */
const ended = (r: Run) => r.log.map((l) => JSON.parse(l) as { api: string; processId?: number }).filter((c) => c.api === 'terminate').map((c) => c.processId);
const pids = (r: Run) => r.farm.servers[0]!.sessions!.flatMap((s) => (s.processes ?? []).map((p) => p.pid));

function farm(): Farm {
  const f = exampleFarm();
  f.servers[0]!.sessions!.find((s) => s.id === 0)!.processes = [{ pid: 880, name: 'svchost.exe' }];
  f.servers[0]!.sessions!.find((s) => s.id === 3)!.processes!.push({ pid: 6200, name: 'explorer.exe' });
  return f;
}

describe('wts-kill', () => {
  test('a PID: ended, said on stdout, exit 0; the farm file no longer has it', () => {
    const r = simulate(farm()).run('wts-kill', ['6100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Ended process 6100 \(excel\.exe\) in session 3\.\n1 ended, 0 skipped, 0 failed\.\n$/);
    expect(ended(r)).toEqual([6100]);
    expect(pids(r)).not.toContain(6100);
  });

  test('a name: your own session only; the others are left alone and counted', () => {
    const r = simulate(farm()).run('wts-kill', ['explorer']);
    expect(r.code).toBe(0);
    expect(ended(r)).toEqual([5004]);
    expect(r.stdout).toMatch(/1 ended, 2 skipped, 0 failed \(2 in other sessions, left alone: \/v lists them, \/a ends them too\)\./);
    const v = simulate(farm()).run('wts-kill', ['explorer', '/v']);
    expect(v.stdout).toMatch(/Skipped process 3120 \(explorer\.exe\) in session 1: it runs in session 1, not session 2/);
  });

  test('/id:N: that session; /a: every session but Services, after --yes (more than one, no terminal)', () => {
    expect(ended(simulate(farm()).run('wts-kill', ['explorer.exe', '/id:3']))).toEqual([6200]);
    const refused = simulate(farm()).run('wts-kill', ['explorer', '/a']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/would end 3 processes and asks first.*--yes.*Nothing was ended\./);
    expect(ended(refused)).toEqual([]);
    const r = simulate(farm()).run('wts-kill', ['*', '/a', '--yes']);
    expect(r.code).toBe(0);
    expect(ended(r).sort()).toEqual([3120, 4410, 5004, 5120, 6100, 6200, 7200]);
    expect(r.stdout).toMatch(/Skipped process 880 \(svchost\.exe\) in session 0: it runs in the Services session/);
    expect(pids(r)).toEqual([880]);
  });

  test('--allow-services ends a process of session 0', () => {
    const r = simulate(farm()).run('wts-kill', ['880', '--allow-services']);
    expect([r.code, ended(r)]).toEqual([0, [880]]);
    expect(simulate(farm()).run('wts-kill', ['880']).code).toBe(1);
  });

  test('--dry-run ends nothing and lists what would be ended', () => {
    const r = simulate(farm()).run('wts-kill', ['explorer', '/a', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Would end process 3120 \(explorer\.exe\) in session 1\.\nWould end process 5004/);
    expect(r.stdout).toMatch(/3 would be ended, 0 skipped\./);
    expect(ended(r)).toEqual([]);
  });

  test('--json: an outcome document per process, then the summary', () => {
    const r = simulate(farm()).run('wts-kill', ['explorer', '/a', '--yes', '--json']);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs.map((d) => [d['type'], d['status']])).toEqual([
      ['outcome', 'terminated'],
      ['outcome', 'terminated'],
      ['outcome', 'terminated'],
      ['summary', undefined],
    ]);
    expect(docs[0]).toMatchObject({ schema: 1, server: '', process: { processId: 3120, processName: 'explorer.exe', sessionId: 1 }, requests: ['WTSTerminateProcess'] });
    expect(docs[3]).toMatchObject({ schema: 1, dryRun: false, counts: { terminated: 3, wouldTerminate: 0, skipped: 0, failed: 0 }, interrupted: false, exitCode: 0 });
  });

  test('a failure (access denied) is reported with its code; exit 1; the others are ended', () => {
    const f = farm();
    f.servers[0]!.faults = { terminate: { '3120': 5 } };
    const r = simulate(f).run('wts-kill', ['explorer', '/a', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Could not end process 3120 \(explorer\.exe\) in session 1: .*5/);
    expect(ended(r).sort()).toEqual([3120, 5004, 6200]);
    expect(r.stdout).toMatch(/2 ended, 0 skipped, 1 failed\./);
  });

  test('nothing by that PID or name: exit 1, one line, nothing ended', () => {
    const r = simulate(farm()).run('wts-kill', ['99999']);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe('wts-kill: No process has ID 99999 on the local server.\n');
  });

  test.each([
    [[]],
    [['1', '2']],
    [['excel', '/id:2', '/a']],
    [['6100', '/a']],
    [['excel', '/id:x']],
    [['excel', '/server:WF12']],
    [['a\\b.exe']],
    [['excel', '/bogus']],
    [['explorer', '/server:WF12', '/id:0']],
    [['880', '/id:0']],
  ])('bad usage %j: exit 2, nothing called', (args) => {
    const r = simulate(farm()).run('wts-kill', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Type 'wts-kill \/\?' for usage\./);
    expect(r.log).toEqual([]);
  });

  test('/server with /id: the remote server', () => {
    const f = farm();
    f.servers[1]!.sessions!.find((s) => s.id === 2)!.processes = [{ pid: 300, name: 'calc.exe' }];
    const r = simulate(f).run('wts-kill', ['calc', '/server:WF12', '/id:2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Ended process 300 \(calc\.exe\) in session 2 on WF12\./);
  });
});
