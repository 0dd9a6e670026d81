/**
 * Simulated mode, several processes on one farm file: reproductions from an adversarial review of
 * the lock and merge rewrite (each failed on the code before its fix; R4 control passed). The
 * promises are docs/mock.md's ("Saving", "Several processes at once").
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimulatedFarm, parseFarm, type Farm } from '../../src/mock';
import { createWts } from '../../src/index';
import { WTS_CURRENT_SERVER_HANDLE as LOCAL } from '../../src/wtsapi';
import { bobFarm, farmFile as writeFarmFile } from '../helpers';
const farmFile = (): string => writeFarmFile(bobFarm(), 2);

const fileFarm = (path: string): Farm => JSON.parse(readFileSync(path, 'utf8')) as Farm;
const session = (farm: Farm, id: number) => farm.servers[0]!.sessions!.find((s) => s.id === id);

test('R1: a poll whose merged view the mock refuses makes the next save skip the PID check: an unreadable farm is written', async () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  a.putSession('TS01', { id: 20, name: 'RDP-Tcp#20', state: 'Active', user: 'x', domain: 'CORP' }); // saved at once
  // Within 100 ms: left for A's timer.
  a.putSession('TS01', { id: 10, name: 'RDP-Tcp#10', state: 'Active', user: 'dan', domain: 'CORP', processes: [{ pid: 500, name: 'app.exe' }] });
  b.putSession('TS01', { id: 11, name: 'RDP-Tcp#11', state: 'Active', user: 'eve', domain: 'CORP', processes: [{ pid: 500, name: 'other.exe' }] }); // saved at once
  // A's next call polls: file + A's pending = PID 500 twice, the mock refuses that view.
  await a.enumerateSessions(LOCAL);
  let error: unknown;
  try {
    a.flush();
  } catch (e) {
    error = e;
  }
  // Promised: the save fails with EEXIST and the file stays a farm.
  expect(() => parseFarm(fileFarm(path))).not.toThrow();
  expect(error).toMatchObject({ code: 'EEXIST' });
});

test('R2: a logoff whose save failed (file half edited) is kept by the mock and later saved as the farm\'s own progress', async () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  await a.enumerateSessions(LOCAL);
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.slice(0, 40)); // a hand edit half saved: not JSON
  await expect(a.logoffSession(LOCAL, 5)).rejects.toMatchObject({ name: 'SimulatedFarmError' });
  // The call failed; the file keeps what it had. A listing in the same process meanwhile:
  await a.enumerateSessions(LOCAL);
  writeFileSync(path, good); // the edit finished (same content as before)
  try {
    a.flush();
  } catch {
    // whatever
  }
  await new Promise((r) => setTimeout(r, 300));
  a.flush();
  // Promised: a call whose change cannot be saved fails and the file keeps what it had: bob is not logged off.
  const s5 = session(fileFarm(path), 5);
  expect(s5 === undefined ? 'gone' : s5.closing === undefined ? 'open' : `closing ${s5.closing}`).toBe('open');
});

test('R3: EEXIST from the timer\'s save, then the process\'s next call writes the duplicate PID anyway', async () => {
  const path = farmFile();
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  b.putSession('TS01', { id: 20, name: 'RDP-Tcp#20', state: 'Active', user: 'x', domain: 'CORP' }); // saved at once
  b.putSession('TS01', { id: 11, name: 'RDP-Tcp#11', state: 'Active', user: 'eve', domain: 'CORP', processes: [{ pid: 500, name: 'other.exe' }] }); // left for the timer
  a.putSession('TS01', { id: 10, name: 'RDP-Tcp#10', state: 'Active', user: 'dan', domain: 'CORP', processes: [{ pid: 500, name: 'app.exe' }] });
  a.flush();
  await new Promise((r) => setTimeout(r, 300)); // B's timer save: EEXIST (kept pending, as promised)
  expect(() => parseFarm(fileFarm(path))).not.toThrow(); // holds so far
  const log: unknown[] = [];
  const state = () => fileFarm(path).servers[0]!.sessions!.map((s) => `${s.id}${s.closing === undefined ? '' : 'c'}${s.processes ? 'p' : ''}`).join(',');
  log.push(await b.logoffSession(LOCAL, 5).then(() => 'ok', (e: Error) => e.message), state());
  await new Promise((r) => setTimeout(r, 300));
  log.push(state());
  log.push(await b.disconnectSession(LOCAL, 1).then(() => 'ok', (e: Error) => e.message), state());
  expect(() => parseFarm(fileFarm(path))).not.toThrow();
});

// R4 failed on the code before its fix; with "sessions": [] (the control) it passed.
test.each([
  ['without a sessions array', {}],
  ['with "sessions": [] (the control)', { sessions: [] }],
])('R4: a new logon left for the timer on a server %s stands whole against another process\'s (a poll wrote it into the file\'s copy, where it became its own base)', async (_what, ts02) => {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-merge3-')), 'farm.json');
  writeFileSync(path, JSON.stringify({ localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }, { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'bob', domain: 'CORP' }] }, { name: 'TS02', ...ts02 }] }));
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  await a.disconnectSession(LOCAL, 5); // saved at once
  a.putSession('TS02', { id: 7, name: 'RDP-Tcp#7', state: 'Active', user: 'ann', domain: 'CORP', logonTime: '2026-12-07T09:00:01Z' }); // left for the timer
  await b.logoffSession(LOCAL, 1); // another process writes the file
  await a.enumerateSessions(LOCAL); // A polls it
  b.putSession('TS02', { id: 7, name: 'RDP-Tcp#7', state: 'Active', user: 'max', domain: 'CORP', logonTime: '2026-12-07T09:00:02Z' });
  b.flush();
  a.flush(); // A's new logon on ID 7: promised to stand whole
  const farm = fileFarm(path) as Farm;
  expect(farm.servers[1]!.sessions).toEqual([expect.objectContaining({ id: 7, user: 'ann' })]);
});

test('R5: two processes each end a different process of one session: one kill is undone (the killed process is back in the file)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-merge3-')), 'farm.json');
  writeFileSync(path, JSON.stringify({ localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }, { id: 5, name: 'RDP-Tcp#5', state: 'Active', user: 'bob', domain: 'CORP', processes: [{ pid: 100, name: 'a.exe' }, { pid: 101, name: 'b.exe' }] }] }] }));
  const a = openSimulatedFarm(path);
  const b = openSimulatedFarm(path);
  await a.enumerateSessions(LOCAL);
  await b.enumerateSessions(LOCAL);
  await b.disconnectSession(LOCAL, 1); // B saves at once
  await b.terminateProcess(LOCAL, 101, 0); // within 100 ms: left for B's timer
  await a.terminateProcess(LOCAL, 100, 0); // A saves at once
  b.flush(); // merged with A's
  expect(session(fileFarm(path), 5)!.processes).toEqual([]);
});

test('R2b: a logoff whose save failed (file half edited), retried: "not found", and the session ends in the file', async () => {
  const path = farmFile();
  const api = openSimulatedFarm(path);
  const wts = createWts({ api });
  await wts.listSessions();
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.slice(0, 40)); // a hand edit half saved
  const first = await wts.logoff(5, { wait: false }).then((o) => o, (e: Error) => e.name);
  const second = await wts.logoff(5, { wait: false }).then((o) => ({ status: o.status, alreadyClosing: o.alreadyClosing }), (e: Error) => e.name);
  writeFileSync(path, good);
  api.flush();
  const s5 = session(fileFarm(path), 5);
  // Promised: the call fails and the file keeps what it had; a retry must not claim success for nothing.
  const s5state = s5 === undefined ? 'gone' : s5.closing === undefined ? 'open' : `closing ${s5.closing}`;
  expect({ first, second, s5state }).toEqual({ first: 'WtsError', second: 'WtsError', s5state: 'open' });
});
