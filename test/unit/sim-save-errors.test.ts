/**
 * Simulated mode: a call whose change cannot be saved fails (docs/mock.md, "Saving"), and, as
 * every error of the library's API, with a WtsError (docs/errors.md) whose `cause` is the
 * SimulatedFarmError (terminateProcess: in the process's outcome). `disconnect` used to reject
 * with the SimulatedFarmError itself, unlike `logoff`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWts, isWtsError } from '../../src/index';
import { openSimulatedFarm } from '../../src/mock';
import { exampleFarm } from '../helpers';

const calls = {
  logoff: (w: ReturnType<typeof createWts>) => w.logoff(4, { wait: false }),
  disconnect: (w: ReturnType<typeof createWts>) => w.disconnect(5, { wait: false }),
  // Its outcomes carry each process's failure.
  terminateProcess: async (w: ReturnType<typeof createWts>) => {
    const [outcome] = await w.terminateProcess({ pid: 7200 });
    if (outcome?.status === 'failed') throw outcome.error;
    return outcome;
  },
} as const;

test.each(Object.keys(calls) as Array<keyof typeof calls>)('%s: a change that cannot be saved rejects with a WtsError caused by the SimulatedFarmError', async (name) => {
  const path = join(mkdtempSync(join(tmpdir(), 'wts-save-')), 'farm.json');
  writeFileSync(path, JSON.stringify(exampleFarm(), null, 2));
  const api = openSimulatedFarm(path);
  const wts = createWts({ api });
  await wts.listSessions();
  writeFileSync(path, '{ "localServer": "TS01", "servers": [ '); // a hand edit half saved
  const error = await calls[name](wts).then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: Error },
  );
  writeFileSync(path, JSON.stringify(exampleFarm(), null, 2));
  expect({ isWtsError: isWtsError(error), cause: error?.cause?.name }).toEqual({ isWtsError: true, cause: 'SimulatedFarmError' });
  expect(error?.message).toContain('Cannot save the simulated farm');
});
