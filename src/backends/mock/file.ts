/**
 * Simulated mode: a MockApi loaded from a farm file and written back, atomically, after every
 * change, so a sequence of commands behaves like one server; read again when another process
 * changed it, and watched while a WTSWaitSystemEvent is pending, so a long-running watch sees
 * what the commands do.
 */
import {
  appendFileSync,
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeSync,
  type BigIntStats,
  type FSWatcher,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../errors';
import type { Farm } from './farm';
import { MockApi, type FarmSource, type MockApiOptions } from './mock-api';

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
  writeFarm(path, farm);
}

/** writeFarmFile, returning the written file's signature (its inode survives the rename). */
function writeFarm(path: string, farm: Farm): string {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o644);
  let written: string;
  try {
    writeSync(fd, `${JSON.stringify(farm, null, 2)}\n`);
    fsyncSync(fd);
    written = signature(fstatSync(fd, { bigint: true }));
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
  return written;
}

/** What tells one version of the farm file from the next: inode (a rename makes a new one), size, mtime. */
function signature(stats: BigIntStats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

function signatureOf(path: string): string | undefined {
  try {
    return signature(statSync(path, { bigint: true }));
  } catch {
    return undefined; // gone or unreadable for a moment: keep what we have
  }
}

/**
 * How often a pending wait also stats the farm file, in case fs.watch misses a change (network
 * file systems, some containers): one stat, no read, unless the file changed.
 */
export const FARM_POLL_MS = 1000;

/**
 * The farm file as a {@link FarmSource}: `poll` reads it again only when its signature changed
 * since this process last read or wrote it; `watch` uses fs.watch on its folder (the file is
 * replaced by a rename, so the folder is what sees it) plus a stat every {@link FARM_POLL_MS}.
 */
function fileSource(path: string, initial: string | undefined): FarmSource & { wrote(signature: string): void } {
  let known = initial;
  return {
    poll() {
      const now = signatureOf(path);
      if (now === undefined || now === known) return undefined;
      known = now;
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as unknown;
      } catch {
        return undefined; // a hand edit in progress: the next change is read again
      }
    },
    wrote(signature) {
      known = signature;
    },
    watch(changed) {
      const name = basename(path);
      let watcher: FSWatcher | undefined;
      try {
        watcher = watch(dirname(path), { persistent: true }, (_event, file) => {
          if (file === null || file === name) changed();
        });
        watcher.on('error', () => undefined); // the stat below still notices changes
      } catch {
        watcher = undefined;
      }
      const timer = setInterval(changed, FARM_POLL_MS);
      return () => {
        clearInterval(timer);
        watcher?.close();
      };
    },
  };
}

/**
 * The simulated farm file (or its call log) could not be written: the file system's error (its
 * errno `code`: EROFS, EACCES, ENOSPC, ...) in one sentence with what to do. The call that changed
 * the farm fails with it; the file keeps the state before that change.
 */
export class SimulatedFarmError extends Error {
  /** The file system's code: 'EROFS', 'EACCES', 'ENOSPC', ... */
  readonly code: string;
  readonly path: string;
  constructor(what: string, path: string, error: unknown) {
    const e = error as NodeJS.ErrnoException;
    const code = typeof e?.code === 'string' ? e.code : 'EIO';
    super(`${what} '${path}': ${fsProblem(code, e)} (${code}). ${fsAdvice(code, what)}`, { cause: error });
    this.name = 'SimulatedFarmError';
    this.code = code;
    this.path = path;
  }
}

function fsProblem(code: string, error: NodeJS.ErrnoException): string {
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'its folder no longer exists';
    default:
      return error?.message ?? String(error);
  }
}

function fsAdvice(code: string, what: string): string {
  const log = what.includes('call log');
  const variable = log ? `${CALL_LOG_ENV}` : `${SIMULATE_ENV} (or --simulate)`;
  switch (code) {
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return `Copy the ${log ? 'log' : 'farm'} to a folder you can write to and point ${variable} at the copy; nothing was changed.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some space and run the command again; nothing was changed.';
    case 'ENOENT':
    case 'ENOTDIR':
      return `Point ${variable} at a file in an existing folder; nothing was changed.`;
    default:
      return 'Check the file and its folder, then run the command again; nothing was changed.';
  }
}

/**
 * A MockApi over a farm file, written back after every change. With `callLog` (default: the
 * WTS_SESSION_CALL_LOG environment variable), every call is appended to that file as a JSON line.
 * A file that cannot be written fails the call with a {@link SimulatedFarmError}.
 */
export function openSimulatedFarm(
  path: string,
  options: Omit<MockApiOptions, 'onChange' | 'onCall'> & { callLog?: string } = {},
): MockApi {
  const before = signatureOf(path);
  const farm = readFarmFile(path);
  // Another process may have replaced the file between the stat and the read: then the first
  // call reads it again, which is harmless.
  const source = fileSource(path, before);
  const { callLog = process.env[CALL_LOG_ENV] || undefined, ...mockOptions } = options;
  try {
    return new MockApi(farm, {
      ...mockOptions,
      source,
      onChange: (next) => {
        try {
          source.wrote(writeFarm(path, next));
        } catch (error) {
          throw new SimulatedFarmError('Cannot save the simulated farm', path, error);
        }
      },
      ...(callLog
        ? {
            onCall: (call) => {
              try {
                appendFileSync(callLog, `${JSON.stringify(call)}\n`);
              } catch (error) {
                throw new SimulatedFarmError(`Cannot append to the call log (${CALL_LOG_ENV})`, callLog, error);
              }
            },
          }
        : {}),
    });
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      throw new InvalidArgumentError('simulate', `In '${path}': ${error.message}`);
    }
    throw error;
  }
}
