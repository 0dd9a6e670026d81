/**
 * Simulated mode: a MockApi loaded from a farm file and written back, atomically, after every
 * change, so a sequence of commands behaves like one server.
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../errors';
import type { Farm } from './farm';
import { MockApi, type MockApiOptions } from './mock-api';

/** The environment variable that turns simulated mode on. */
export const SIMULATE_ENV = 'WTS_SESSION_SIMULATE';
/** Optional: a file that simulated mode appends every WTS call to, one JSON line each. */
export const CALL_LOG_ENV = 'WTS_SESSION_CALL_LOG';

/** Reads and checks a farm file. Errors name the file and the JSON path. */
export function readFarmFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(
      'simulate',
      `Cannot read the simulated farm '${path}': ${(error as Error).message}. ` +
        'Point WTS_SESSION_SIMULATE (or --simulate) at a farm JSON file such as examples/farm.json.',
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidArgumentError('simulate', `The simulated farm '${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Writes the farm to `path` so that a reader sees the old file or the new one, never a torn one:
 * a temporary file in the same folder, flushed to disk, then renamed over the target.
 */
export function writeFarmFile(path: string, farm: Farm): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(farm, null, 2)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * A MockApi over a farm file, written back after every change. With `callLog` (default: the
 * WTS_SESSION_CALL_LOG environment variable), every call is appended to that file as a JSON line.
 */
export function openSimulatedFarm(
  path: string,
  options: Omit<MockApiOptions, 'onChange' | 'onCall'> & { callLog?: string } = {},
): MockApi {
  const farm = readFarmFile(path);
  const { callLog = process.env[CALL_LOG_ENV] || undefined, ...mockOptions } = options;
  try {
    return new MockApi(farm, {
      ...mockOptions,
      onChange: (next) => writeFarmFile(path, next),
      ...(callLog ? { onCall: (call) => appendFileSync(callLog, `${JSON.stringify(call)}\n`) } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      throw new InvalidArgumentError('simulate', `In '${path}': ${error.message}`);
    }
    throw error;
  }
}
