/**
 * Promise (docs/mock.md "Saving", commit 4e8029d): "The call's change is undone in the process's own
 * copy of the farm too, so nothing it does next ... acts on ... what never happened" — a failed call
 * leaves no trace in the process's own view.
 * Observed: removeSession's undo puts the session back at the END of the server's Map
 * (state.sessions.set after delete), so a failed removeSession reorders the listing, and
 * findSession by a shared name (not Active: "the first") then resolves to another session.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWts } from '../../src/index';
import { openSimulatedFarm, type Farm } from '../../src/mock';
import { WTS_CURRENT_SERVER_HANDLE as LOCAL } from '../../src/wtsapi';

test('a removeSession whose save fails (file half edited) changes the listing order and what findSession resolves', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-r3-')), 'farm.json');
  const farm: Farm = { localServer: 'TS01', servers: [{ name: 'TS01', sessions: [
    { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' },
    { id: 8, name: 'ICA-tcp#1', state: 'Idle', user: 'ann', domain: 'CORP' },
    { id: 9, name: 'ICA-tcp#1', state: 'Idle', user: 'ben', domain: 'CORP' },
  ] }] };
  writeFileSync(path, JSON.stringify(farm, null, 2));
  const api = openSimulatedFarm(path);
  const wts = createWts({ api });
  const before = { order: (await api.enumerateSessions(LOCAL)).map((s) => s.sessionId), found: (await wts.findSession('ica-tcp#1')).id };

  // A hand edit half saved (docs/mock.md's own example): the save fails, the call fails, and the
  // process keeps its own view until the file parses again.
  writeFileSync(path, readFileSync(path, 'utf8').slice(0, 40));
  expect(() => api.removeSession('TS01', 8)).toThrow(/Cannot save the simulated farm/);

  const after = { order: (await api.enumerateSessions(LOCAL)).map((s) => s.sessionId), found: (await wts.findSession('ica-tcp#1')).id };
  expect(after).toEqual(before); // observed: { order: [1, 9, 8], found: 9 } vs { order: [1, 8, 9], found: 8 }
});
