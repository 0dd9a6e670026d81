/**
 * Switches and behaviour the commands share: servers (/server, /servers, a file of names),
 * filters (--state, --user, --domain, --client, --idle, --disconnected), progress on a terminal.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '../api/filter';
import type { FarmEvent, ServerFailure } from '../api/farm';
import { normalizeServerName } from '../api/validate';
import { flag, UsageError, value, values, type ParsedArgs, type SwitchSpec } from './argv';
import { parseTarget } from '../api/validate';
import { errorJson, errorText } from './format';

export const SERVER_SWITCHES: readonly SwitchSpec[] = [
  { name: 'server', aliases: ['server'], value: true },
  { name: 'servers', aliases: ['servers'], value: true, repeat: true },
  { name: 'serversFile', aliases: ['servers-file', 'serversfile'], value: true },
  { name: 'simulate', aliases: ['simulate'], value: true },
  // Every command takes these (they all take SERVER_SWITCHES): stacks for errors (also WTS_SESSION_DEBUG=1).
  { name: 'debug', aliases: ['debug'] },
];

export const FILTER_SWITCHES: readonly SwitchSpec[] = [
  { name: 'state', aliases: ['state'], value: true, repeat: true },
  { name: 'user', aliases: ['user'], value: true },
  { name: 'domain', aliases: ['domain'], value: true },
  { name: 'client', aliases: ['client'], value: true },
  { name: 'idle', aliases: ['idle'], value: true },
  { name: 'disconnected', aliases: ['disconnected'], value: true },
];

export const FILTER_SWITCH_NAMES = FILTER_SWITCHES.map((s) => s.name);

/** Where a command works: the local server, one server, or many. */
export type Target = { readonly kind: 'one'; readonly server: string | undefined } | { readonly kind: 'many'; readonly servers: readonly string[] };

const EMPTY_LIST_HELP = 'give at least one server name, as in /servers:WF12,WF13 or a file with one name a line';

/**
 * `/servers:a,b,c`, `/servers:@names.txt`, `--servers-file names.txt` (one name a line, # comments).
 * Every list given must name at least one server — `/servers:`, `/servers:,,`, an empty or
 * comment-only file are usage errors (exit 2), never "no list" (which would mean this server).
 */
export function serversOf(args: ParsedArgs): Target {
  const one = value(args, 'server');
  const listGiven = args.switches['servers'] !== undefined;
  const listed = values(args, 'servers') ?? [];
  const file = value(args, 'serversFile');
  if (one !== undefined && (listGiven || file !== undefined)) throw new UsageError('Give /server or /servers, not both.');
  if (!listGiven && file === undefined) {
    return { kind: 'one', server: one === undefined ? undefined : normalizeServerName(one, '/server') };
  }
  if (listGiven && listed.length === 0) throw new UsageError(`The server list /servers is empty: ${EMPTY_LIST_HELP}.`);
  const names: string[] = [];
  const fromFile = (path: string) => {
    const read = readServerFile(path);
    if (read.length === 0) throw new UsageError(`The server list file '${path}' is empty (no names; only blank lines or # comments): ${EMPTY_LIST_HELP}.`);
    names.push(...read);
  };
  for (const item of listed) {
    if (item.startsWith('@')) fromFile(item.slice(1));
    else names.push(item);
  }
  if (file !== undefined) fromFile(file);
  return { kind: 'many', servers: names.map((n, i) => normalizeServerName(n, `/servers (item ${i + 1})`)) };
}

function readServerFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the server list '${path}': ${(error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
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
  return out;
}

export function failureLine(failure: ServerFailure): string {
  // An abort (the output closed) stops a server's work; the server itself did not fail.
  if (isStopped(failure)) return `Stopped on server ${failure.server} before it finished: ${errorText(failure.error)}`;
  return `Failed server ${failure.server}: ${errorText(failure.error)}`;
}

/** A server whose work was cut short by the caller's abort. */
export function isStopped(failure: ServerFailure): boolean {
  return failure.error.code === 'E_ABORTED';
}

export function failureJson(failure: ServerFailure): Record<string, unknown> {
  return { status: 'serverFailed', server: failure.server, error: errorJson(failure.error) };
}

/** A one-line progress display on stderr, for a person at a terminal. */
export class Progress {
  #servers = 0;
  #serversDone = 0;
  #results = 0;
  #failed = 0;
  #shown = false;
  readonly #write: (text: string) => void;
  readonly #enabled: boolean;
  readonly #noun: string;

  constructor(write: (text: string) => void, enabled: boolean, servers: number, noun: string) {
    this.#write = write;
    this.#enabled = enabled;
    this.#servers = servers;
    this.#noun = noun;
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
    this.#shown = true;
    this.#write(`\r\x1b[K${this.#serversDone}/${this.#servers} servers, ${this.#results} ${this.#noun}${this.#failed ? `, ${this.#failed} failed` : ''}`);
  }

  /** Clears the line before the report is printed. */
  done(): void {
    if (this.#shown) this.#write('\r\x1b[K');
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
