/**
 * A third review: processes are merged as processes (PID and name), not by PID alone.
 * docs/mock.md "Several processes at once": "`processes` by PID (the processes this change ended or
 * started, over the other's list)" and "A merge that would leave the file unreadable — two processes
 * that each put a process with the same PID on one server — is not written: the save fails with
 * code: 'EEXIST', and the file keeps what it had."
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimulatedFarm, type Farm } from '../../src/mock';
import { WTS_CURRENT_SERVER_HANDLE as LOCAL } from '../../src/wtsapi';

function farmFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-r3-')), 'farm.json');
  const farm: Farm = { localServer: 'TS01', servers: [{ name: 'TS01', sessions: [
    { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
    { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'bob', domain: 'CORP', processes: [{ pid: 100, name: 'a.exe' }] },
    { id: 6, name: 'RDP-Tcp#6', state: 'Active', user: 'eve', domain: 'CORP', processes: [] },
  ] }] };
  writeFileSync(path, JSON.stringify(farm, null, 2));
  return path;
}
const procs = (path: string, id: number) => (JSON.parse(readFileSync(path, 'utf8')) as Farm).servers[0]!.sessions!.find((s) => s.id === id)!.processes;

test('control: two processes put PID 500 in two different sessions: the second save fails with EEXIST (holds)', () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  a.putSession('TS01', { ...a.getSession('TS01', 5)!, processes: [{ pid: 100, name: 'a.exe' }, { pid: 500, name: 'a-app.exe' }] });
  expect(() => b.putSession('TS01', { ...b.getSession('TS01', 6)!, processes: [{ pid: 500, name: 'b-app.exe' }] })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  expect(procs(path, 5)).toContainEqual({ pid: 500, name: 'a-app.exe' });
});

test('two processes put PID 500 in the same session: the second save fails with EEXIST, the first one\'s process stays (it used to vanish)', () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  a.putSession('TS01', { ...a.getSession('TS01', 5)!, processes: [{ pid: 100, name: 'a.exe' }, { pid: 500, name: 'a-app.exe' }] }); // saved
  let error: unknown;
  try {
    b.putSession('TS01', { ...b.getSession('TS01', 5)!, processes: [{ pid: 100, name: 'a.exe' }, { pid: 500, name: 'b-app.exe' }] });
  } catch (e) {
    error = e;
  }
  // Expected (as across sessions): B's save fails with EEXIST and A's a-app.exe stays.
  // Observed: B's save succeeds and the file has b-app.exe only: A's successful, saved change is lost.
  expect({ error: (error as { code?: string } | undefined)?.code, processes: procs(path, 5) }).toEqual({
    error: 'EEXIST',
    processes: [{ pid: 100, name: 'a.exe' }, { pid: 500, name: 'a-app.exe' }],
  });
});

test('a process started under a reused PID stands when another process ended the old one meanwhile (it used to be dropped)', async () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  await b.terminateProcess(LOCAL, 100, 0); // B ends a.exe: saved at once
  // A (its view still has a.exe as PID 100) puts the session with a new process z.exe under PID 100.
  a.putSession('TS01', { ...a.getSession('TS01', 5)!, processes: [{ pid: 100, name: 'z.exe' }] }); // resolves: saved
  // "the processes this change ... started, over the other's list": z.exe should be there.
  expect(procs(path, 5)).toEqual([{ pid: 100, name: 'z.exe' }]); // observed: []
});
