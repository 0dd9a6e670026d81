/**
 * Switches and behaviour the commands share: servers (/server, /servers, a file of names or
 * standard input), filters (--state, --user, --domain, --client, --idle, --disconnected,
 * --locked, --unlocked), the version, progress on a terminal.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '../api/filter';
import type { FarmEvent, ServerFailure } from '../api/farm';
import { NO_TARGET_WITH_SERVER, normalizeServerName } from '../api/validate';
import { flag, UsageError, value, values, type ParsedArgs, type SwitchSpec } from './argv';
import { EXIT_OK, readStdinSync, type CliIo } from './common';
import { versionLine } from './version';
import { parseTarget } from '../api/validate';
import { errorText } from './format';
import { printable } from './text';

export const SERVER_SWITCHES: readonly SwitchSpec[] = [
  { name: 'server', aliases: ['server'], value: true },
  { name: 'servers', aliases: ['servers'], value: true, repeat: true },
  { name: 'serversFile', aliases: ['servers-file', 'serversfile'], value: true },
  { name: 'simulate', aliases: ['simulate'], value: true },
  // Every command takes these (they all take SERVER_SWITCHES): stacks for errors (also
  // WTS_SESSION_DEBUG=1), the version, and no progress line.
  { name: 'debug', aliases: ['debug'] },
  { name: 'version', aliases: ['version'], exact: ['-V'] },
  { name: 'noProgress', aliases: ['no-progress', 'noprogress'] },
];

/** `/?` prints the help, `--version` the version: the exit code then (0), with nothing else done; else undefined. */
export function helpOrVersion(args: ParsedArgs, io: CliIo, help: string): number | undefined {
  if (flag(args, 'help')) {
    io.out(help);
    return EXIT_OK;
  }
  if (flag(args, 'version')) {
    io.out(versionLine());
    return EXIT_OK;
  }
  return undefined;
}

export const FILTER_SWITCHES: readonly SwitchSpec[] = [
  { name: 'state', aliases: ['state'], value: true, repeat: true },
  { name: 'user', aliases: ['user'], value: true },
  { name: 'domain', aliases: ['domain'], value: true },
  { name: 'client', aliases: ['client'], value: true },
  { name: 'idle', aliases: ['idle'], value: true },
  { name: 'disconnected', aliases: ['disconnected'], value: true },
  { name: 'locked', aliases: ['locked'] },
  { name: 'unlocked', aliases: ['unlocked', 'not-locked', 'notlocked'] },
  { name: 'disconnectedOrLocked', aliases: ['disconnected-or-locked', 'disconnectedorlocked'] },
];

export const FILTER_SWITCH_NAMES = FILTER_SWITCHES.map((s) => s.name);

/**
 * Where a command works: the local server, one server, or many. `fromStdin`: the list (or part
 * of it) was read from standard input, which then cannot answer a question.
 */
export type Target =
  | { readonly kind: 'one'; readonly server: string | undefined }
  | { readonly kind: 'many'; readonly servers: readonly string[]; readonly fromStdin?: boolean };

const EMPTY_LIST_HELP = 'give at least one server name, as in /servers:WF12,WF13 or a file with one name a line';

export interface ServersOptions {
  /** Standard input, read once (`/servers:-`). Default: file descriptor 0. */
  readonly readStdin?: () => string;
  /**
   * The command would ask [y/N] before acting (/all without --yes or --dry-run): a list from
   * standard input is then refused before it is read, as the answer could not come from there.
   */
  readonly asks?: boolean;
}

/**
 * `/servers:a,b,c`, `/servers:@names.txt`, `--servers-file names.txt`, and `-` for standard input:
 * `/servers:-`, `/servers:@-`, `--servers-file -`. A file or standard input holds names one a
 * line, or several a line separated by commas or spaces; `#` starts a comment; blank lines are
 * skipped. Every list given must name at least one server — `/servers:`, `/servers:,,`, an empty
 * or comment-only file or input are usage errors (exit 2), never "no list" (which would mean this
 * server). Standard input can be read once: naming it twice is a usage error too.
 */
export function serversOf(args: ParsedArgs, options: ServersOptions = {}): Target {
  const one = value(args, 'server');
  const listGiven = args.switches['servers'] !== undefined;
  const listed = values(args, 'servers') ?? [];
  const file = value(args, 'serversFile');
  if (one !== undefined && (listGiven || file !== undefined)) throw new UsageError('Give /server or /servers, not both.');
  if (!listGiven && file === undefined) {
    return { kind: 'one', server: one === undefined ? undefined : normalizeServerName(one, '/server') };
  }
  if (listGiven && listed.length === 0) throw new UsageError(`The server list /servers is empty: ${EMPTY_LIST_HELP}.`);
  const sources = [...listed.map((item) => (item === '-' ? '@-' : item)), ...(file === undefined ? [] : [`@${file}`])];
  const stdinCount = sources.filter((s) => s === '@-').length;
  if (stdinCount > 1) throw new UsageError('Standard input can give the server list once: use /servers:- (or --servers-file -) only once.');
  if (stdinCount === 1 && options.asks) {
    throw new UsageError(
      'The server list comes from standard input (/servers:-), so the [y/N] question cannot be answered there. ' +
        'Add --yes to go ahead, or --dry-run to see the plan. Nothing was done.',
    );
  }
  const names: string[] = [];
  for (const item of sources) {
    if (!item.startsWith('@')) {
      names.push(item);
      continue;
    }
    const path = item.slice(1);
    const fromStdin = path === '-';
    const read = parseServerList(fromStdin ? readStdinList(options.readStdin ?? readStdinSync) : readServerFile(path));
    const what = fromStdin ? 'from standard input' : `file '${printable(path)}'`;
    if (read.length === 0) throw new UsageError(`The server list ${what} is empty (no names; only blank lines or # comments): ${EMPTY_LIST_HELP}.`);
    names.push(...read);
  }
  const servers = names.map((n, i) => normalizeServerName(n, `/servers (item ${i + 1})`));
  return stdinCount === 1 ? { kind: 'many', servers, fromStdin: true } : { kind: 'many', servers };
}

/** Names in a file or on standard input: one a line, or separated by commas or spaces; `#` comments. */
export function parseServerList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .flatMap((line) => line.replace(/#.*$/, '').split(/[\s,]+/))
    .filter((name) => name !== '');
}

function readStdinList(read: () => string): string {
  try {
    return read();
  } catch (error) {
    // Standard input closed (`<&-`: EBADF) or unreadable: bad usage of /servers:-, not a bug.
    throw new UsageError(`Cannot read the server list from standard input: ${(error as Error).message}`);
  }
}

function readServerFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the server list '${path}': ${(error as Error).message}`);
  }
}

/** '>2h' or '2h' -> '2h'; '<2h' is not a filter we offer. */
function longerThan(text: string, name: string): string {
  const t = text.trim();
  if (t.startsWith('<')) throw new UsageError(`--${name} selects sessions over a duration: '>${t.slice(1)}', not '${t}'.`);
  const d = t.startsWith('>') ? t.slice(1) : t;
  parseDuration(d, `--${name}`);
  return d;
}

/** The API filter options from the command line. */
export function filtersOf(args: ParsedArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const states = values(args, 'state');
  if (states?.length === 0) throw new UsageError('--state needs at least one state, as in --state Disc or --state Active,Idle.');
  if (states) out['state'] = states;
  for (const [flag, key] of [['user', 'user'], ['domain', 'domain'], ['client', 'clientName']] as const) {
    const v = value(args, flag);
    if (v !== undefined) out[key] = v;
  }
  const idle = value(args, 'idle');
  if (idle !== undefined) out['idleLongerThan'] = longerThan(idle, 'idle');
  const disconnected = value(args, 'disconnected');
  if (disconnected !== undefined) out['disconnectedLongerThan'] = longerThan(disconnected, 'disconnected');
  const locked = flag(args, 'locked');
  const unlocked = flag(args, 'unlocked');
  if (locked && unlocked) throw new UsageError('--locked and --unlocked select opposite sessions: give one of them.');
  // A session whose lock state is not known for certain matches neither.
  if (locked || unlocked) out['locked'] = locked;
  // Nobody at it: disconnected, or locked (known to be); the other filters still apply to both.
  if (flag(args, 'disconnectedOrLocked')) out['anyOf'] = [{ state: 'Disconnected' }, { locked: true }];
  return out;
}

export function failureLine(failure: ServerFailure): string {
  // An abort (the output closed) stops a server's work; the server itself did not fail.
  if (isStopped(failure)) return `Stopped on server ${printable(failure.server)} before it finished: ${errorText(failure.error)}`;
  return `Failed server ${printable(failure.server)}: ${errorText(failure.error)}`;
}

/** A server whose work was cut short by the caller's abort. */
export function isStopped(failure: ServerFailure): boolean {
  return failure.error.code === 'E_ABORTED';
}

/** The least time between two drawings of the progress line. */
export const PROGRESS_INTERVAL_MS = 100;

/** The clock and timer of the progress line (a test hands in its own). */
export interface ProgressClock {
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (timer: unknown) => void;
}

const REAL_CLOCK: ProgressClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/**
 * A one-line progress display on stderr, for a person at a terminal: drawn at most every
 * {@link PROGRESS_INTERVAL_MS} (a farm of fast servers settles thousands of sessions a second; a
 * terminal redrawing each would slow the run), the latest state always drawn — by a timer when
 * no new event comes, and by done() before the line is cleared.
 */
export class Progress {
  #servers = 0;
  #serversDone = 0;
  #results = 0;
  #failed = 0;
  #shown = false;
  #lastDraw = -Infinity;
  #pending = false;
  #timer: unknown;
  readonly #write: (text: string) => void;
  readonly #enabled: boolean;
  readonly #noun: string;
  readonly #clock: ProgressClock;

  constructor(write: (text: string) => void, enabled: boolean, servers: number, noun: string, clock: ProgressClock = REAL_CLOCK) {
    this.#write = write;
    this.#enabled = enabled;
    this.#servers = servers;
    this.#noun = noun;
    this.#clock = clock;
  }

  onEvent<T extends { status?: string }>(event: FarmEvent<T>): void {
    if (event.type === 'result') {
      this.#results++;
      if (event.result.status === 'failed') this.#failed++;
    } else if (event.type === 'serverDone' || event.type === 'serverFailed') {
      this.#serversDone++;
      if (event.type === 'serverFailed') this.#failed++;
    }
    if (!this.#enabled) return;
    const wait = this.#lastDraw + PROGRESS_INTERVAL_MS - this.#clock.now();
    if (wait <= 0) {
      this.#draw();
      return;
    }
    this.#pending = true;
    this.#timer ??= this.#clock.setTimer(() => {
      this.#timer = undefined;
      if (this.#pending) this.#draw();
    }, wait);
  }

  /** The text of the line: `3/20 servers, 140 sessions done, 2 failed`. */
  get text(): string {
    return `${this.#serversDone}/${this.#servers} servers, ${this.#results} ${this.#noun}${this.#failed ? `, ${this.#failed} failed` : ''}`;
  }

  #draw(): void {
    this.#pending = false;
    this.#lastDraw = this.#clock.now();
    this.#shown = true;
    this.#write(`\r\x1b[K${this.text}`);
  }

  /** Draws the latest state if it was not yet, then clears the line before the report is printed. */
  done(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (this.#pending) this.#draw();
    if (this.#shown) this.#write('\r\x1b[K');
    this.#shown = false;
  }
}

/**
 * `[session]` or `/all`: at most one session, not with /all, the bulk-only switches only with
 * /all, and a valid session — all checked before anything is called.
 */
export function sessionOrAll(args: ParsedArgs, verb: string, allOnly: readonly string[]): { target: string | undefined; all: boolean } {
  if (args.positionals.length > 1) {
    throw new UsageError(`Only one session may be given; got ${args.positionals.map((p) => `'${p}'`).join(' and ')}.`);
  }
  const target = args.positionals[0];
  const all = flag(args, 'all');
  if (all && target !== undefined) throw new UsageError(`/all ${verb} every session; it cannot be combined with a session ('${target}').`);
  if (!all) {
    for (const name of [...FILTER_SWITCH_NAMES, 'dryRun', 'yes', 'servers', 'serversFile', ...allOnly]) {
      if (args.switches[name] !== undefined) throw new UsageError(`--${name === 'dryRun' ? 'dry-run' : name} goes with /all.`);
    }
  }
  if (target !== undefined) parseTarget(target);
  return { target, all };
}

/**
 * No target (your own session) with a server is bad usage: checked once the server is, before a
 * `/v` line says what would be done.
 */
export function checkOwnIsLocal(target: string | undefined, server: string | undefined): void {
  if (target === undefined && server !== undefined) {
    throw new UsageError(NO_TARGET_WITH_SERVER);
  }
}
