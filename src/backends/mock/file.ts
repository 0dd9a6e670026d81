/**
 * Simulated mode: a MockApi loaded from a farm file, whose changes are merged back into the file
 * (atomically, under a lock file, a few times per command rather than once per change), so a
 * sequence of commands, or several at once, behaves like one server; read again when another
 * process changed it, and watched while a WTSWaitSystemEvent is pending, so a long-running watch
 * sees what the commands do.
 */
import {
  appendFileSync,
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
  writeSync,
  constants as fsConstants,
  type BigIntStats,
  type FSWatcher,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError } from '../../errors';
import { duplicateProcessId, type Farm, type FarmSession } from './farm';
import { MockApi, type ChangeKind, type FarmSource, type MockApiOptions } from './mock-api';

/**
 * The environment variable that turns simulated mode on: `WTS_SESSION_SIMULATE=farm.json` makes
 * the CLI, `createWts` and the top-level functions use {@link openSimulatedFarm} on that file.
 */
export const SIMULATE_ENV = 'WTS_SESSION_SIMULATE';
/**
 * The environment variable that names a file simulated mode appends every WTS call to, one JSON
 * line ({@link MockCall}) each. Optional.
 */
export const CALL_LOG_ENV = 'WTS_SESSION_CALL_LOG';

/**
 * Reads a farm file and parses its JSON. It does not check the farm: pass the result to
 * {@link parseFarm} (or {@link createMockApi}, through parseFarm).
 *
 * @param path - the farm file.
 * @returns the parsed JSON, unchecked.
 * @throws `InvalidArgumentError` (argument `simulate`) when the file cannot be read or is
 *   not valid JSON; the message names the file.
 */
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
 * a temporary file in the same folder, flushed to disk, then renamed over the target. Holds the
 * farm's lock (`<file>.lock`) meanwhile, keeps the file's mode, and writes through a symbolic link
 * to its target.
 *
 * @param path - the farm file.
 * @param farm - the farm (written as it is, not checked).
 * @throws the file system's error (an `Error` with its errno `code`) when the file cannot be
 *   written, or when another process holds the lock for more than 10 s (`code: 'ELOCKED'`).
 */
export function writeFarmFile(path: string, farm: Farm): void {
  const real = realPath(path);
  const unlock = lockFarm(real);
  try {
    writeFarm(real, farmText(farm));
  } finally {
    unlock();
  }
}

/** The file a path names, symbolic links followed (the path itself when it does not exist yet). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

let unique = 0;
/** A name no other writer uses: this process's ID, its PID namespace, a counter and the time. */
function uniqueSuffix(): string {
  return `${process.pid}.${PID_SPACE ? `${PID_SPACE}-` : ''}${(unique++).toString(36)}${Date.now().toString(36)}`;
}

/**
 * This process's PID namespace (Linux: the inode of /proc/self/ns/pid, base 36), or '' where there
 * is none to read. Two containers on one host (one host name, shared volume) number their
 * processes apart: a PID is checked for life only in its own namespace.
 */
const PID_SPACE = (() => {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'));
    return m ? Number(m[1]).toString(36) : '';
  } catch {
    return '';
  }
})();

/**
 * writeFarmFile's write, under the lock the caller holds; returns the written file's signature
 * (its inode survives the rename). The new file gets the old one's mode (0644 for a new file).
 */
function writeFarm(real: string, text: string): string {
  let mode = 0o644;
  try {
    mode = statSync(real).mode & 0o7777;
  } catch {
    // a new file
  }
  const temp = `${real}.${uniqueSuffix()}.tmp`;
  const fd = openSync(temp, 'wx', mode);
  let written: string;
  try {
    fchmodSync(fd, mode); // openSync's mode is masked by the umask
    writeSync(fd, text);
    fsyncSync(fd);
    written = signature(fstatSync(fd, { bigint: true }));
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, real);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return written;
}

/** A farm as the file holds it: indented JSON, a newline at the end. */
function farmText(farm: unknown): string {
  return `${JSON.stringify(farm, null, 2)}\n`;
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

// ---- the farm's lock ---------------------------------------------------------------------------

/** How long a writer waits for another's lock before it gives up with ELOCKED. */
const LOCK_WAIT_MS = 10_000;
/** How long the last save of only the farm's own progress waits for the lock (then it is left to others). */
const OWN_PROGRESS_LOCK_WAIT_MS = 1_000;
/** A lock another machine took longer ago than this is stale: a save takes milliseconds (a second at 50,000 sessions). */
const LOCK_STALE_MS = 30_000;

/** Who holds a farm's lock: the content of `<farm>.lock`. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The owner's PID namespace ({@link PID_SPACE}); absent in older locks (taken as this one's). */
  readonly ns?: string;
  /** Date.now() when taken. */
  readonly at: number;
  readonly token: string;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether a process of this machine is running (EPERM: it is, and belongs to someone else). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the farm's lock, `<farm>.lock`, created exclusively (O_EXCL) with its owner written in it,
 * waiting up to `waitMs` ({@link LOCK_WAIT_MS}) for another writer (the thread sleeps meanwhile);
 * returns the function that releases it.
 * A lock whose owner is a process of this machine that is no longer running, or another machine's
 * taken longer ago than {@link LOCK_STALE_MS}, is stale and broken (renamed aside, then checked to
 * be the stale one).
 * `notAgain`: the {@link LockedError.lockKey} of a lock this process already waited for in full
 * and gave up on: while that same lock is held, it is not waited for again (fails at once).
 * Never spins: a lock that keeps vanishing or cannot be broken is slept on like a held one, and
 * the deadline holds whatever the lock is (a folder, a symbolic link, a FIFO).
 */
export function lockFarm(real: string, waitMs = LOCK_WAIT_MS, notAgain?: string): () => void {
  const lockPath = `${real}.lock`;
  const deadline = Date.now() + waitMs;
  let delay = 1;
  // Tries made at once in a row, because the lock went or a stale one was broken: a few, then sleep.
  let quick = 0;
  for (;;) {
    const text = ownerText();
    try {
      createWhole(lockPath, text);
      return () => releaseLock(lockPath, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = readLock(lockPath);
    // A lock that cannot be read (a folder, another user's file) is never broken: it is waited for
    // like any other, and the wait ends at the deadline.
    const stale = held !== undefined && held.unreadable === undefined && staleLock(held);
    const broken = stale ? breakLock(lockPath, held.text) : undefined;
    const moved = held === undefined /* released meanwhile */ || broken === true;
    if (moved && quick < 3) {
      quick++;
      continue;
    }
    quick = 0;
    const key = held === undefined ? undefined : lockKey(held);
    if (Date.now() >= deadline || (key !== undefined && key === notAgain)) throw lockedError(lockPath, held, typeof broken === 'string' ? broken : undefined, key);
    sleepSync(delay);
    delay = Math.min(delay * 2, 20);
  }
}

/** What a lock (or break lock) this process takes now holds: a {@link LockOwner}, as JSON. */
function ownerText(): string {
  const owner: LockOwner = { pid: process.pid, host: hostname(), ...(PID_SPACE ? { ns: PID_SPACE } : {}), at: Date.now(), token: uniqueSuffix() };
  return JSON.stringify(owner);
}

/** The ELOCKED error for the lock as last seen; `unremovable`: why a stale one could not be removed. */
function lockedError(lockPath: string, held: HeldLock | undefined, unremovable: string | undefined, key: string | undefined): LockedError {
  const who = held?.owner ? `process ${held.owner.pid} on ${held.owner.host}` : 'another process';
  let what: string;
  if (held?.unreadable !== undefined) what = `its lock ${lockPath} cannot be read (${held.unreadable})`;
  else if (unremovable !== undefined) what = `its lock ${lockPath} is stale (left by ${who}, which no longer holds it) but cannot be removed (${unremovable})`;
  else what = `it is locked by ${who} (${lockPath})`;
  return new LockedError(`${what}; if no wts-session command is running, delete the lock`, key);
}

/** Another's lock was held for the whole wait (`code: 'ELOCKED'`). */
class LockedError extends Error {
  readonly code = 'ELOCKED';
  /** Names the lock that was held (its text, or what it is and its identity); undefined: it kept vanishing. */
  readonly lockKey: string | undefined;
  constructor(message: string, lockKey: string | undefined) {
    super(message);
    this.lockKey = lockKey;
  }
}

function lockKey(held: HeldLock): string {
  return held.unreadable === undefined ? `text:${held.text}` : `unreadable:${held.unreadable}:${held.identity}`;
}

/**
 * Creates `path` holding `text`, whole, or throws EEXIST when it is there: the text is written to
 * a file of its own, which is then hard-linked into place, so the lock is never seen empty or half
 * written (a writer stopped between creating and filling it would look like no one's). A file
 * system without hard links gets the lock created exclusively (O_EXCL), then written.
 */
function createWhole(path: string, text: string): void {
  const temp = `${path}.${uniqueSuffix()}.new`;
  try {
    // Inside the try: a write that fails half way (a full disk) leaves no file behind.
    writeFileSync(temp, text, { flag: 'wx', mode: 0o644 });
    linkSync(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EMLINK') throw error;
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, text);
    } catch (failed) {
      closeSync(fd);
      rmSync(path, { force: true }); // created here, never written: no one else's
      throw failed;
    }
    closeSync(fd);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** A lock as read: `unreadable` (why) when it is there but is no plain file or cannot be read. */
interface HeldLock {
  readonly text: string;
  readonly owner: LockOwner | undefined;
  readonly mtimeMs: number;
  readonly unreadable?: string;
  /** Which file it is (device, inode, modification time): tells one unreadable lock from the next. */
  readonly identity: string;
}

/** Which file `stat` is of (device, inode, modification time). */
function identityOf(stat: { dev: number; ino: number; mtimeMs: number }): string {
  return `${stat.dev}:${stat.ino}:${stat.mtimeMs}`;
}

/**
 * The lock as it is: undefined once it is gone. Opened without following a symbolic link and
 * without waiting (a FIFO put there, even between a check and the read, never blocks), and read
 * only if the opened file is a plain one.
 */
function readLock(lockPath: string): HeldLock | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT') return undefined;
    let identity = '';
    try {
      const stat = lstatSync(lockPath);
      identity = identityOf(stat);
    } catch {
      identity = '';
    }
    return { text: '', owner: undefined, mtimeMs: 0, unreadable: code === 'ELOOP' ? 'a symbolic link' : code, identity };
  }
  try {
    const stat = fstatSync(fd);
    const identity = identityOf(stat);
    if (!stat.isFile()) return { text: '', owner: undefined, mtimeMs: stat.mtimeMs, unreadable: stat.isDirectory() ? 'a folder' : 'not a plain file', identity };
    const text = readFileSync(fd, 'utf8');
    let owner: LockOwner | undefined;
    try {
      const o = JSON.parse(text) as Partial<LockOwner>;
      if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.at === 'number') owner = o as LockOwner;
    } catch {
      owner = undefined; // not ours (ours are written whole), or an older version's being written
    }
    return { text, owner, mtimeMs: stat.mtimeMs, identity };
  } catch (error) {
    return { text: '', owner: undefined, mtimeMs: 0, unreadable: (error as NodeJS.ErrnoException).code ?? 'EIO', identity: '' };
  } finally {
    closeSync(fd);
  }
}

function staleLock(held: { owner: LockOwner | undefined; mtimeMs: number }): boolean {
  const { owner } = held;
  // No readable owner: an older version's writer between creating and filling it, for a moment at most.
  if (!owner) return Date.now() - held.mtimeMs > 1000;
  // A process of this machine holds it for as long as it runs, however long (stopped with Ctrl+Z,
  // in a debugger): breaking it would let two writers in. Another machine's, or another PID
  // namespace's, cannot be checked; nor can one naming this process's own PID (a predecessor that
  // died in a container numbers its processes the same way): their age decides.
  if (checkable(owner) && owner.pid !== process.pid) return !running(owner.pid);
  return Date.now() - owner.at > LOCK_STALE_MS;
}

/** Whether the owner's PID can be checked for life here: this host, this PID namespace. */
function checkable(owner: LockOwner): boolean {
  return owner.host === hostname() && (owner.ns ?? PID_SPACE) === PID_SPACE;
}

/** Another PID namespace's leftovers older than this are removed (a save takes seconds at most). */
const FOREIGN_LEFTOVER_MS = 3_600_000;

/** A break lock older than this is stale: a break holds it for microseconds. */
const BREAK_STALE_MS = 5_000;

/**
 * Removes a stale lock, under `<farm>.lock.break` (taken the way the lock is): there, the lock is
 * read again and removed only if it is still the stale one. No one else removes it meanwhile
 * (its owner is gone, other breakers wait for the break lock), and no one can take the lock while
 * it is there, so a live lock is never removed. (Setting it aside by renaming could set aside a
 * live lock that replaced it, and putting that back could bring back a lock no one held.)
 * Returns true when the lock may have moved (removed here, gone, or another breaker at work: try
 * again), or why it cannot be removed (its folder's error code).
 */
function breakLock(lockPath: string, staleText: string): true | string {
  const breakPath = `${lockPath}.break`;
  const mine = ownerText();
  try {
    createWhole(breakPath, mine);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'EEXIST') return code;
    // Another process is breaking it (a moment), or died doing so: its break lock is stale then.
    const held = readLock(breakPath);
    if (held !== undefined && held.unreadable === undefined && staleBreak(held)) {
      const again = readLock(breakPath);
      if (again?.text === held.text) rmSync(breakPath, { force: true });
    }
    return true;
  }
  try {
    const now = readLock(lockPath);
    if (now !== undefined && now.unreadable === undefined && now.text === staleText) unlinkSync(lockPath);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  } finally {
    releaseLock(breakPath, mine);
  }
}

function staleBreak(held: HeldLock): boolean {
  const { owner } = held;
  if (owner && checkable(owner) && owner.pid !== process.pid && !running(owner.pid)) return true;
  return Date.now() - (owner?.at ?? held.mtimeMs) > BREAK_STALE_MS;
}

function releaseLock(lockPath: string, text: string): void {
  try {
    if (readFileSync(lockPath, 'utf8') === text) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

/**
 * Removes what crashed writers left next to the farm: temporary files (`<farm>.<pid>.<n>.tmp`,
 * written only under the lock, which the caller holds) and broken locks set aside
 * (`<farm>.lock.<pid>.<n>.stale`), each once the process named in it is no longer running.
 */
function cleanUpAfterCrashes(real: string): void {
  const dir = dirname(real);
  const base = basename(real);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const rest = name.slice(base.length + 1);
    const temp = /^(\d+)\.(?:([0-9a-z]+)-)?[0-9a-z]+\.tmp$/.exec(rest);
    // Broken locks set aside by older versions, and a lock's or break lock's text before its link.
    const grave = /^lock\.(?:break\.)?(\d+)\.(?:([0-9a-z]+)-)?[0-9a-z]+\.(?:stale|new)$/.exec(rest);
    const match = grave ?? temp;
    if (!match) continue;
    const file = join(dir, name);
    try {
      // A temporary file only when its process is gone (a live writer may be stopped mid-save).
      // A lock set aside keeps the old lock's mtime: it goes only once the process that set it
      // aside (its name says which) is no longer checking it. A process of another PID namespace
      // (another container) cannot be checked: its leftovers go once an hour old.
      const owner = Number(match[1]);
      const here = (match[2] ?? PID_SPACE) === PID_SPACE;
      const gone = here ? owner !== process.pid && !running(owner) : Date.now() - statSync(file).mtimeMs > FOREIGN_LEFTOVER_MS;
      if (gone) rmSync(file, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

// ---- the farm file as the mock's source ----------------------------------------------------------

/** The shortest time between two saves of one farm; longer when a save is slow (10x its time). */
export const SAVE_MIN_MS = 100;

/**
 * One session's unsaved change: its new state (undefined: gone), and the session as the file had
 * it when this process changed it (undefined: not in the file). When the file no longer has the
 * session as `base` (another process changed it since), the two are merged (see mergeChange).
 */
interface SessionChange {
  session: FarmSession | undefined;
  readonly base: unknown;
}
/** One server's unsaved session changes, by session ID. */
type ServerChanges = Map<number, SessionChange>;
/** The call's change a `now` save is made for: its session, and what was pending for it before. */
interface NowChange {
  readonly key: string;
  readonly id: number;
  readonly before: SessionChange | undefined;
  /** Whether a call's change was pending before this one. */
  readonly wasForeground: boolean;
}
/** An unsaved change (server key, ID) as a poll merged it into the file's farm: `value`. */
interface OfferedMerge {
  readonly key: string;
  readonly id: number;
  readonly change: SessionChange;
  readonly value: FarmSession | undefined;
}

/** Farm files with unsaved changes, saved when the process exits. */
const unsavedFarms = new Set<FarmFile>();
let exitHooked = false;

/**
 * Saves now every simulated farm of this process that has unsaved changes; throws the first
 * {@link SimulatedFarmError} after trying them all. The commands call it before they exit, so
 * what they print and the file agree, and a failure is reported by the command. A farm whose save
 * fails here is not tried again at the process's exit: the failure has been reported once (a
 * second try would wait for the same lock again, and say it twice).
 */
export function saveSimulatedFarms(): void {
  let first: unknown;
  flushEach((error, farm) => {
    first ??= error;
    unsavedFarms.delete(farm);
  });
  if (first !== undefined) throw first;
}

function saveAtExit(): void {
  flushEach((error) => {
    // Nobody is left to throw to: say it, and fail the process.
    process.stderr.write(`wts-session: ${(error as Error).message}\n`);
    if (!process.exitCode) process.exitCode = 1;
  });
}

/** Saves every farm with unsaved changes, each failure handed to `failed` (one never stops the others). */
function flushEach(failed: (error: unknown, farm: FarmFile) => void): void {
  for (const farm of [...unsavedFarms]) {
    try {
      farm.flush();
    } catch (error) {
      failed(error, farm);
    }
  }
}

/**
 * The farm file as a {@link FarmSource}.
 * - `poll` reads it again only when its signature changed since this process last read or wrote it.
 * - `save` collects session changes; they are merged into the file as it is then (read again
 *   under the lock), so concurrent commands never undo each other's changes. The first change
 *   after a quiet period is saved at once (an error fails the call that made it); the next ones at
 *   most every {@link SAVE_MIN_MS} (or ten times the last save's time), and at process exit.
 * - `watch` uses fs.watch on the file's folder (the file is replaced by a rename, so the folder is
 *   what sees it) plus a stat every {@link FARM_POLL_MS}.
 */
class FarmFile implements FarmSource {
  readonly #path: string;
  /** The file itself, symbolic links followed: what is locked, written and renamed over. */
  readonly #real: string;
  #known: string | undefined;
  /** The file's content as last read or written (unknown fields kept; never this process's unsaved changes). */
  #raw: Record<string, unknown> | undefined;
  /** A save read the file again (another process had changed it): the next poll hands it on. */
  #reread = false;
  /**
   * What the mock's view of the farm was read from (the file's content then), with the sessions
   * this process has saved since (`#written`, by server and ID; undefined: removed): what a change
   * is made from, its `base`. Indexed by server and ID when first needed.
   */
  #viewRaw: Record<string, unknown> | undefined;
  /** The text #raw was read from or written as (undefined: not known). */
  #rawText: string | undefined;
  #viewIndex: Map<string, Map<number, unknown>> | undefined;
  /** The file content the last poll returned a farm from, until the mock accepts it. */
  #offered: Record<string, unknown> | undefined;
  /** Each unsaved change as that farm has it, merged with the file's version. */
  #offeredMerge: OfferedMerge[] = [];
  #written = new Map<string, Map<number, FarmSession | undefined>>();
  /** Per server (lower-cased): its name as the mock spells it, and its unsaved changes. */
  #pending = new Map<string, { server: string; sessions: ServerChanges }>();
  #timer: NodeJS.Timeout | undefined;
  #savedAt = Number.NEGATIVE_INFINITY;
  #interval = SAVE_MIN_MS;
  /** Pending changes include one a call made (not only the farm's own progress). */
  #foreground = false;
  /** A call's change waits for the timer (the saves of calls' changes are at most every #interval). */
  #foregroundWaiting = false;
  /** When a save that held a call's change last ended. */
  #foregroundSavedAt = Number.NEGATIVE_INFINITY;
  #cleaned = false;
  /** The lock (its {@link LockedError.lockKey}) a save waited for in full and gave up on: not waited for again while held. */
  #gaveUpOn: string | undefined;

  constructor(path: string) {
    this.#path = path;
    this.#real = realPath(path);
  }

  /** The first read: the farm as the file has it. */
  read(): unknown {
    // Another process may replace the file between the stat and the read: then the first call
    // reads it again, which is harmless.
    this.#known = signatureOf(this.#real);
    const raw = readFarmFile(this.#path);
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) this.#viewFrom((this.#raw = raw as Record<string, unknown>));
    return raw;
  }

  poll(): unknown {
    const now = signatureOf(this.#real);
    if (now !== undefined && now !== this.#known) {
      this.#known = now;
      try {
        const text = readFileSync(this.#real, 'utf8');
        this.#raw = JSON.parse(text) as Record<string, unknown>;
        this.#rawText = text;
      } catch {
        return undefined; // a hand edit in progress: the next change is read again
      }
    } else if (!this.#reread) {
      return undefined;
    }
    this.#reread = false;
    // What this process changed and has not saved yet stays changed, merged with what another
    // process did to the same session since. #raw stays the file's content: the changes go on a copy.
    try {
      const view = shallowCopy(this.#raw);
      const merged: OfferedMerge[] = [];
      for (const [key, changes] of this.#pending) {
        const { results } = applyChanges(view, changes.server, changes.sessions);
        for (const [id, value] of results) merged.push({ key, id, change: changes.sessions.get(id)!, value });
      }
      // The mock's view moves to it only once the mock has taken it (accept): a farm it refuses
      // (a hand edit that is JSON but no farm) must not be the base of this process's next change,
      // or the merge would take this process's older copy of a session over another's newer change.
      this.#offered = this.#raw;
      this.#offeredMerge = merged;
      return view;
    } catch {
      return undefined; // not a farm any more: the save will say so
    }
  }

  accept(): void {
    if (this.#offered) {
      this.#viewFrom(this.#offered);
      // The mock now holds each unsaved change merged with the file: the change is rebased on the
      // file's version, as the mock holds it. Kept on its old base (another logon's, say), a later
      // change to the session would look older than the file's and be written over it whole.
      for (const { key, id, change, value } of this.#offeredMerge) {
        const sessions = this.#pending.get(key)?.sessions;
        if (sessions?.get(id) === change) sessions.set(id, { session: value && copySession(value), base: this.#fileSession(key, id) });
      }
    }
    this.#offered = undefined;
    this.#offeredMerge = [];
  }

  save(server: string, id: number, session: Readonly<FarmSession> | undefined, kind: ChangeKind = 'call'): void {
    const key = server.toLowerCase();
    let entry = this.#pending.get(key);
    if (!entry) this.#pending.set(key, (entry = { server, sessions: new Map() }));
    const copy = session && copySession(session);
    const change = entry.sessions.get(id);
    // What was pending for this session before this change: what a failed save of it keeps.
    const before = change && { session: change.session, base: change.base };
    if (change) change.session = copy;
    else entry.sessions.set(id, { session: copy, base: this.#fileSession(key, id) });
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', saveAtExit);
    }
    unsavedFarms.add(this);
    if (kind !== 'call') {
      // The farm's own progress is saved by the timer (no lock wait, a failure tried again); that
      // of a session this process logged off is, at the end, saved as a call's change would be.
      if (kind === 'ownProgress') this.#foreground = true;
      this.#later(Math.max(0, this.#savedAt + this.#interval - Date.now()));
      return;
    }
    const wasForeground = this.#foreground;
    this.#foreground = true;
    // Another call's change already waits for the timer: this one goes with it.
    if (this.#foregroundWaiting) return;
    // The first call's change after a quiet moment is saved at once, whatever the farm's own
    // progress pending beside it (so a file that cannot be written fails the call that changed it).
    const wait = this.#foregroundSavedAt + this.#interval - Date.now();
    if (wait <= 0) {
      this.#save('now', { key, id, before, wasForeground });
      return;
    }
    this.#foregroundWaiting = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#later(wait);
  }

  /** Saves what is pending after `ms` (an unref'd timer: the exit saves what is left). */
  #later(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#save('later');
      } catch {
        // kept for the next try: the command's last save, or the exit, reports it
      }
    }, ms);
    this.#timer.unref();
  }

  /** Puts back changes a failed save took, under the ones made since (which keep the older base). */
  #restore(taken: Map<string, { server: string; sessions: ServerChanges }>): void {
    for (const [key, old] of taken) {
      const entry = this.#pending.get(key);
      if (!entry) {
        this.#pending.set(key, old);
        continue;
      }
      for (const [id, change] of old.sessions) {
        const newer = entry.sessions.get(id);
        entry.sessions.set(id, newer ? { session: newer.session, base: change.base } : change);
      }
    }
  }

  /** The mock's view is read from `raw` now. */
  #viewFrom(raw: Record<string, unknown>): void {
    this.#viewRaw = raw;
    this.#viewIndex = undefined;
    this.#written.clear();
  }

  /** The session as the mock's view had it from the file (undefined: not there). */
  #fileSession(server: string, id: number): unknown {
    const written = this.#written.get(server);
    if (written?.has(id)) return written.get(id);
    if (!this.#viewIndex) {
      this.#viewIndex = new Map();
      const servers = this.#viewRaw?.['servers'];
      for (const def of Array.isArray(servers) ? servers : []) {
        const name = (def as { name?: unknown } | null)?.name;
        const list = (def as { sessions?: unknown } | null)?.sessions;
        if (typeof name !== 'string' || !Array.isArray(list)) continue;
        const byId = new Map<number, unknown>();
        for (const [sid, i] of positionsById(list)) byId.set(sid, list[i]);
        this.#viewIndex.set(name.toLowerCase(), byId);
      }
    }
    return this.#viewIndex.get(server)?.get(id);
  }

  /**
   * Saves every unsaved change now (under the lock). Throws {@link SimulatedFarmError}; the
   * changes stay pending, for a later try.
   */
  flush(): void {
    this.#save('final');
  }

  /**
   * One save of everything pending. `now`: the first change after a quiet moment, saved from the
   * call that made it: on failure its changes are dropped and the call fails (the file keeps what
   * it had). `later` (the timer) and `final` (flush: a command's end, the exit): on failure the
   * changes stay pending and are tried again; `later` tries again after the interval, and the
   * failure is thrown by the next `final` save if that one fails too. When what is pending is only
   * the farm's own progress (no call's change), a `final` save waits at most a second for
   * another's lock, and one that fails drops it quietly: it is no command's failure.
   */
  #save(mode: 'now' | 'later' | 'final', call?: NowChange): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const foreground = this.#foreground;
    this.#foreground = false;
    this.#foregroundWaiting = false;
    if (this.#pending.size === 0) {
      unsavedFarms.delete(this);
      return;
    }
    const pending = this.#pending;
    this.#pending = new Map();
    // When the save's own work began: the time spent waiting for another's lock is not its cost.
    let started: number | undefined;
    // Only the farm's own progress (a reader's countdown): saved if it can be — no long wait for
    // another's lock, and no failure of the command (another process counts it too).
    const ownProgressOnly = !foreground;
    try {
      // The timer's save never blocks the event loop waiting for another's lock: it tries again later.
      // At the end, the farm's own progress waits a moment for a lock other commands hold briefly.
      const waitMs = mode === 'later' ? 0 : ownProgressOnly ? OWN_PROGRESS_LOCK_WAIT_MS : LOCK_WAIT_MS;
      let unlock: () => void;
      try {
        unlock = lockFarm(this.#real, waitMs, this.#gaveUpOn);
      } catch (error) {
        // A lock held through a full wait is not waited for again by every later call (a bulk
        // logoff would wait 10 s per session): while that same lock is held, saves fail at once.
        if (error instanceof LockedError && waitMs === LOCK_WAIT_MS) this.#gaveUpOn = error.lockKey;
        throw error;
      }
      this.#gaveUpOn = undefined;
      started = Date.now();
      try {
        if (!this.#cleaned) cleanUpAfterCrashes(this.#real);
        this.#cleaned = true;
        // Read under the lock every time: a signature (inode, size, mtime) can repeat across
        // versions (an inode reused within one clock tick, with the same size).
        const text = readFileSync(this.#real, 'utf8');
        // Another process (or a hand edit) wrote the file since this process last read or wrote it.
        const foreign = this.#raw === undefined || text !== this.#rawText;
        if (foreign) {
          this.#raw = JSON.parse(text) as Record<string, unknown>;
          this.#rawText = text;
          this.#reread = true;
        }
        for (const changes of pending.values()) {
          const applied = applyChanges(this.#raw, changes.server, changes.sessions, foreign);
          if (applied.diverged) this.#reread = true; // merged with another's change: the mock takes the result
        }
        const written = farmText(this.#raw);
        this.#known = writeFarm(this.#real, written);
        this.#rawText = written;
        // The base of this process's next change to each session is its own copy, as the mock
        // holds it, not the merged one just written: the mock takes the merge only when it next
        // reads the file (and may refuse it). With the merged copy as the base, a second change
        // made before that read looked like no one else's change and wrote over it.
        for (const [key, changes] of pending) {
          let written = this.#written.get(key);
          if (!written) this.#written.set(key, (written = new Map()));
          for (const [id, change] of changes.sessions) written.set(id, change.session);
        }
      } finally {
        unlock();
      }
      unsavedFarms.delete(this);
      if (foreground) this.#foregroundSavedAt = Date.now();
    } catch (error) {
      // The file keeps what it had (the merge went into #raw, which is read again next time).
      this.#raw = undefined;
      this.#rawText = undefined;
      this.#known = undefined;
      let count = 0;
      for (const changes of pending.values()) count += changes.sessions.size;
      const changes = `${count} session change${count === 1 ? '' : 's'}`;
      // A call's save: the file keeps what it had. A later one: earlier saves stand; say which
      // sessions' changes are not in the file.
      const what = mode === 'now' ? `Cannot save the simulated farm (${changes})` : `Cannot save the simulated farm: ${changes} not saved (${changedSessions(pending)})`;
      const failed = new SimulatedFarmError(what, this.#path, error);
      if (mode === 'now') {
        // The call's own change is dropped: the call fails. What was pending before it (the farm's
        // own progress, changes a failed flush kept) stays pending, for a later try.
        const sessions = call && pending.get(call.key)?.sessions;
        if (sessions && call) {
          if (call.before) sessions.set(call.id, call.before);
          else sessions.delete(call.id);
        }
        for (const [key, changes] of pending) if (changes.sessions.size === 0) pending.delete(key);
        if (pending.size > 0) {
          this.#restore(pending);
          this.#foreground ||= call?.wasForeground === true;
          this.#later(this.#interval);
        }
        if (this.#pending.size === 0) unsavedFarms.delete(this);
        throw failed;
      }
      if (mode === 'final' && ownProgressOnly) {
        // The farm's own progress that cannot be saved at the end is left to the file's other users.
        if (this.#pending.size === 0) unsavedFarms.delete(this);
        return;
      }
      this.#restore(pending);
      this.#foreground ||= foreground;
      // A call's change waits for the retry timer only when there is one (`later`): after a failed
      // `final` save, the next call's change is saved at once again.
      if (mode === 'later') this.#foregroundWaiting ||= foreground;
      unsavedFarms.add(this);
      if (mode === 'later') this.#later(this.#interval);
      throw failed;
    } finally {
      this.#savedAt = Date.now();
      // Ten times the save's own work (a big farm): never the time another's lock was waited for.
      if (started !== undefined) this.#interval = Math.max(SAVE_MIN_MS, 10 * (this.#savedAt - started));
    }
  }

  watch(changed: () => void): () => void {
    const name = basename(this.#real);
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dirname(this.#real), { persistent: true }, (_event, file) => {
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
  }
}

/** The sessions pending changes are for, by server: `TS01: 4, 6, 7; WF12: 2` (at most 12 IDs). */
function changedSessions(pending: ReadonlyMap<string, { server: string; sessions: ServerChanges }>): string {
  const parts: string[] = [];
  let shown = 0;
  let more = 0;
  for (const { server, sessions } of pending.values()) {
    const ids: number[] = [];
    for (const id of sessions.keys()) {
      if (shown < 12) {
        ids.push(id);
        shown++;
      } else more++;
    }
    if (ids.length > 0) parts.push(`${server || 'the local server'}: ${ids.join(', ')}`);
  }
  return parts.join('; ') + (more > 0 ? ` and ${more} more` : '');
}

function copySession(s: Readonly<FarmSession>): FarmSession {
  const copy: FarmSession = { ...s };
  if (s.processes) copy.processes = s.processes.map((p) => ({ ...p }));
  return copy;
}

/**
 * Puts one server's session changes into a farm as read from its file (unknown fields kept), each
 * merged with what another process may have done to the same session since this process read it
 * (see {@link mergeChange}). `results`: each session as it now is in `raw` (undefined: gone);
 * `diverged`: some result is not this process's own version. A server the file no longer has is
 * left out. The server's process IDs are checked (two processes may each have put the same PID
 * on it) when `foreign` (the file was written by another process since this one last read it) or
 * a change carries processes (the mock may hold a view it refused).
 * Throws when the file is not a farm any more, or the merge would make one it cannot be read as.
 */
function applyChanges(
  raw: Record<string, unknown> | undefined,
  server: string,
  changes: ServerChanges,
  foreign = false,
): { results: Map<number, FarmSession | undefined>; diverged: boolean } {
  const servers = raw?.['servers'];
  if (!Array.isArray(servers)) throw new Error("the farm file no longer has a 'servers' array");
  const key = server.toLowerCase();
  const def = servers.find((s) => s !== null && typeof s === 'object' && typeof s.name === 'string' && s.name.toLowerCase() === key) as
    | { sessions?: unknown }
    | undefined;
  const results = new Map<number, FarmSession | undefined>();
  if (!def) return { results, diverged: changes.size > 0 };
  const list: unknown[] = Array.isArray(def.sessions) ? def.sessions : (def.sessions = []);
  const at = positionsById(list);
  let removed = false;
  let diverged = false;
  for (const [id, change] of changes) {
    const i = at.get(id);
    const current = i === undefined ? undefined : (list[i] as FarmSession);
    const value = mergeChange(current, change);
    results.set(id, value);
    if (value !== change.session) diverged = true;
    if (value === current) continue;
    if (value) {
      if (i === undefined) at.set(id, list.push(value) - 1);
      else list[i] = value;
    } else if (i !== undefined) {
      list[i] = undefined;
      at.delete(id);
      removed = true;
    }
  }
  if (removed) def.sessions = list.filter((s) => s !== undefined);
  if (foreign || [...changes.values()].some((c) => (c.session?.processes?.length ?? 0) > 0)) checkProcessIds(def.sessions as unknown[], server);
  return { results, diverged };
}

/**
 * A merge must not write what no process could read back: two processes that each put a process
 * with the same ID on one server (a PID runs one process at a time; parseFarm refuses it). Throws
 * (the save fails, the file keeps what it had) rather than write it.
 */
function checkProcessIds(sessions: readonly unknown[], server: string): void {
  const twice = duplicateProcessId(sessions);
  if (twice) {
    throw Object.assign(new Error(`another process has put process ID ${twice.pid} on server ${server} meanwhile, and a PID runs one process at a time`), { code: 'EEXIST' });
  }
}

/** Where each session of a file's `sessions` array is, by its ID (entries without a numeric ID left out). */
function positionsById(list: readonly unknown[]): Map<number, number> {
  const at = new Map<number, number>();
  list.forEach((s, i) => {
    const id = (s as { id?: unknown } | null)?.id;
    if (typeof id === 'number') at.set(id, i);
  });
  return at;
}

/** The same logon: user, domain and logon time (what tells a reused session ID's sessions apart). */
function sameLogon(a: FarmSession, b: FarmSession): boolean {
  return (a.user ?? '') === (b.user ?? '') && (a.domain ?? '') === (b.domain ?? '') && (a.logonTime ?? '') === (b.logonTime ?? '');
}

/**
 * One session as this process's change leaves it, given the file's version `current` (undefined:
 * not there). When the file still has the version the change was made from, the change as it is.
 * Otherwise another process changed the session meanwhile, and the two are merged:
 * - it ended elsewhere: it stays gone, unless this change puts a new logon on the ID;
 * - this change ends it: it goes, unless another logon has taken the ID meanwhile;
 * - another logon took the ID meanwhile: it stays, unless this change also puts a new logon;
 * - this change puts a new logon on the ID: it stands as this change made it;
 * - otherwise, field by field: the fields this change changed, over the other's version; a
 *   `closing` count both changed is the smaller (every poll counts a closing session down).
 * So a logoff and a disconnect made at once both stand, and no ended session comes back.
 */
function mergeChange(current: FarmSession | undefined, change: SessionChange): FarmSession | undefined {
  const mine = change.session;
  const base = change.base as FarmSession | undefined;
  if (sameJson(current, base)) return mine;
  if (!current) return mine && (!base || !sameLogon(mine, base)) ? mine : undefined;
  if (!mine) return base && sameLogon(current, base) ? undefined : current;
  if (!base || !sameLogon(current, base)) return !base || !sameLogon(mine, base) ? mine : current;
  // This change puts a new logon on the ID: it stands whole (nothing of the old logon's, such as
  // another process's unfinished logoff of it, carries over).
  if (!sameLogon(mine, base)) return mine;
  const merged: Record<string, unknown> = { ...current };
  const m = mine as unknown as Record<string, unknown>;
  const b = base as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(m), ...Object.keys(b)])) {
    if (sameJson(m[k], b[k])) continue;
    // Processes one by one (PID and name): this change's ended and started ones, over the
    // other's (two processes ending two processes of one session both stand).
    const value = k === 'processes' ? mergeProcesses(b[k], m[k], merged[k]) : m[k];
    if (value === undefined) delete merged[k];
    else merged[k] = value;
  }
  if (typeof mine.closing === 'number' && typeof current.closing === 'number') merged['closing'] = Math.min(mine.closing, current.closing);
  return merged as unknown as FarmSession;
}

/**
 * A session's processes merged process by process — a process is its PID and its name (Windows
 * reuses a PID for another program): `current` (the file's) less those this change ended (in
 * `base`, not in `mine`), plus those it started (in `mine`, not in `base`), each process this
 * change altered (its counters) in its version. A PID both sides started is left twice, for the
 * PID check to refuse. Undefined when none is left and neither side had a list.
 */
function mergeProcesses(base: unknown, mine: unknown, current: unknown): unknown {
  type Proc = { pid: number; name?: unknown };
  const list = (v: unknown): Proc[] => (Array.isArray(v) ? (v as Proc[]) : []);
  const key = (p: Proc) => `${p.pid}\u0000${String(p.name)}`;
  const before = new Map(list(base).map((p) => [key(p), p] as const));
  const after = new Map(list(mine).map((p) => [key(p), p] as const));
  const out: Proc[] = [];
  for (const p of list(current)) {
    const k = key(p);
    if (before.has(k) && !after.has(k)) continue; // ended by this change
    const mineP = after.get(k);
    out.push(mineP && !sameJson(mineP, before.get(k)) ? mineP : p);
  }
  const kept = new Set(out.map(key));
  for (const [k, p] of after) if (!before.has(k) && !kept.has(k)) out.push(p); // started by this change
  return out.length === 0 && !Array.isArray(current) && !Array.isArray(mine) ? undefined : out;
}

/** A farm's top object, servers array and each server's sessions array copied (the sessions themselves shared). */
function shallowCopy(raw: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const servers = raw?.['servers'];
  if (!raw || !Array.isArray(servers)) return raw;
  return {
    ...raw,
    // Every server copied, not only those with a sessions array: applyChanges gives one to a
    // server without, which must not land in the original.
    servers: servers.map((def: unknown) => {
      if (def === null || typeof def !== 'object') return def;
      const sessions = (def as { sessions?: unknown }).sessions;
      return Array.isArray(sessions) ? { ...def, sessions: [...(sessions as unknown[])] } : { ...def };
    }),
  };
}

/** Whether two JSON values are equal (objects whatever their key order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  return keys.length === Object.keys(y).filter((k) => y[k] !== undefined).length && keys.every((k) => sameJson(x[k], y[k]));
}

/**
 * The simulated farm file (or its call log) could not be written: the file system's error (its
 * errno `code`: EROFS, EACCES, ENOSPC, ...) in one sentence with what to do. The call that changed
 * the farm fails with it; the file keeps the state before that change.
 */
export class SimulatedFarmError extends Error {
  /** The file system's code: 'EROFS', 'EACCES', 'ENOSPC', ..., or 'ELOCKED' for another process's lock. */
  readonly code: string;
  /** The farm file (or call log) that could not be written. */
  readonly path: string;
  /**
   * Made by simulated mode when a save fails; you catch it, you do not make it.
   *
   * @param what - what could not be done, as the message begins: 'Cannot save the simulated farm'.
   * @param path - the file.
   * @param error - the file system's error (its `code` is kept); also the `cause`.
   */
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
  const advice = fsAction(code, what);
  // A save after earlier ones: those stand, and the message has said what is not in the file.
  return what.includes(' not saved (') ? `${advice}.` : `${advice}; nothing was changed.`;
}

function fsAction(code: string, what: string): string {
  const log = what.includes('call log');
  const variable = log ? `${CALL_LOG_ENV}` : `${SIMULATE_ENV} (or --simulate)`;
  switch (code) {
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return `Copy the ${log ? 'log' : 'farm'} to a folder you can write to and point ${variable} at the copy`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some space and run the command again';
    case 'ENOENT':
    case 'ENOTDIR':
      return `Point ${variable} at a file in an existing folder`;
    case 'ELOCKED':
      return 'Run the command again once the other one has finished';
    case 'EEXIST':
      return 'Read the farm again and choose another process ID';
    default:
      return 'Check the file and its folder, then run the command again';
  }
}

/**
 * Simulated mode: a {@link MockApi} over a farm file, as `WTS_SESSION_SIMULATE` gives it. The
 * file is read again before every call when another process changed it, and this process's
 * changes are merged into it under its lock (`<file>.lock`): at once for the first, then at most
 * every 100 ms, at process exit, and when `api.flush()` is called (docs/mock.md). A file that
 * cannot be written fails the call that changed the farm with a `SimulatedFarmError` (an Error
 * with the errno `code` and the `path`) that says what to do.
 *
 * @param path - the farm file (JSON; `$schema` and `comment` fields are kept when it is saved).
 * @param options - `closingPolls`, and `callLog`: a file every call is appended to as a JSON line
 *   (default: the {@link CALL_LOG_ENV} variable).
 * @returns the mock.
 * @throws `InvalidArgumentError` (argument `simulate`) when the file cannot be read, is not
 *   valid JSON, or is not a valid farm (the message names the file and the JSON path).
 *
 * @example
 * ```ts
 * import { createWts } from 'wts-session';
 * import { openSimulatedFarm } from 'wts-session/mock';
 *
 * const wts = createWts({ api: openSimulatedFarm('farm.json') });
 * await wts.logoff(3); // and the change is saved to farm.json
 * ```
 */
export function openSimulatedFarm(
  path: string,
  options: Omit<MockApiOptions, 'onChange' | 'onCall' | 'source'> & { callLog?: string } = {},
): MockApi {
  const source = new FarmFile(path);
  const farm = source.read();
  const { callLog = process.env[CALL_LOG_ENV] || undefined, ...mockOptions } = options;
  try {
    // Checked by the constructor (parseFarm), whose errors are given the file's name below.
    return new MockApi(farm as Farm, {
      ...mockOptions,
      source,
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
