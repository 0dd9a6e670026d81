/**
 * `wts-query session --watch` / `wts-query user --watch`: the sessions as they change. On a
 * terminal, a live table redrawn in place with the last changes highlighted; otherwise (or with
 * --json) one JSON line per event. Ctrl+C ends it (exit 130); a closed output ends it (exit 0).
 */
import { localNamesOf } from '../api/context';
import type { DetailedSession } from '../api/details';
import type { Session } from '../api/types';
import type { SessionEvent, WatchOptions } from '../api/watch';
import type { Wts } from '../api/wts';
import { WtsError } from '../errors';
import { EXIT_INTERRUPTED, EXIT_OK, type CliIo } from './common';
import { errorText, formatSessionTable, formatUserTable, who } from './format';
import { eventDocument, jsonLine } from './json';
import type { Target } from './shared';
import { displayWidth, fitWidth, printable } from './text';

export type WatchKind = 'session' | 'user';

export interface WatchRun {
  readonly kind: WatchKind;
  readonly target: Target;
  /** query session's filter (ID, session name or user name), or undefined for every session. */
  readonly matches: ((session: Session) => boolean) | undefined;
  readonly json: boolean;
  /** user --long: the LOCKED column, and lock / unlock events (seen at the next listing). */
  readonly long?: boolean;
}

/** How many changes the live display lists under the table. */
const RECENT = 8;

/** Runs the watch until Ctrl+C (130) or a closed output (0). Errors of servers are events, not exits. */
export async function watchMain(wts: Wts, run: WatchRun, io: CliIo): Promise<number> {
  const stop = new AbortController();
  let interrupted = false;
  const unhook = io.onInterrupt?.(() => {
    interrupted = true;
    stop.abort(new Error('interrupted'));
  });
  const onClosed = () => stop.abort(new Error('output closed'));
  if (io.outputClosed?.aborted) onClosed();
  else io.outputClosed?.addEventListener('abort', onClosed, { once: true });
  const live = !run.json && Boolean(io.outputIsTerminal);
  const options: WatchOptions = {
    ...(run.target.kind === 'one' ? (run.target.server === undefined ? {} : { server: run.target.server }) : { servers: run.target.servers }),
    signal: stop.signal,
    // quser's columns: idle and logon time (one WTSSessionInfo query per session and listing);
    // the logon time also tells a new logon of the same user on the same ID. --long: and the lock
    // state (one WTSSessionInfoEx query more), which no WTSWaitSystemEvent kind reports: a lock is
    // seen at the next listing, after any change on the server or at the reconcile.
    ...(run.kind === 'user' ? { details: run.long === true ? (['times', 'lock'] as const) : (['times'] as const) } : {}),
    initial: live,
  };
  // Asked at the first drawing, once the watch has checked its options (bad input calls nothing).
  const display = live ? new LiveTable(run, io, () => localLabel(wts, run.target)) : undefined;
  try {
    for await (const event of wts.watchSessions(options)) {
      if (display) display.onEvent(event);
      else if (shown(run, event)) io.out(jsonLine(eventDocument(event)));
    }
  } catch (error) {
    if (!(error instanceof WtsError && error.code === 'E_ABORTED' && stop.signal.aborted)) throw error;
  } finally {
    unhook?.();
    io.outputClosed?.removeEventListener('abort', onClosed);
    display?.end();
  }
  return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}

/**
 * How the live table names the local machine: events call it '' (watchSessions), and the table
 * of several servers is headed by the name given for it, as without --watch; else `localhost`.
 */
function localLabel(wts: Wts, target: Target): string {
  if (target.kind !== 'many') return 'localhost';
  try {
    const local = localNamesOf(wts.api);
    return target.servers.find((name) => local.has(name)) ?? 'localhost';
  } catch {
    return 'localhost'; // the backend cannot say: the watch itself will report it
  }
}

/** Whether a change concerns the sessions this query shows (its filter; for `user`, sessions with a user). */
function relevant(run: WatchRun, session: Session): boolean {
  if (run.kind === 'user' && session.userName === '') return false;
  return run.matches === undefined || run.matches(session);
}

function shown(run: WatchRun, event: SessionEvent): boolean {
  if (event.type === 'serverError' || event.type === 'serverBack') return true;
  if (event.type === 'snapshot') return true;
  return relevant(run, event.session) || (event.before !== undefined && relevant(run, event.before));
}

/** One change in words: `logoff  3  bob (was Disc)`; names printable. */
export function eventLine(event: SessionEvent): string {
  const time = event.at.toISOString().slice(11, 19);
  const where = event.server ? ` on ${printable(event.server)}` : '';
  const server = printable(event.server || 'localhost');
  switch (event.type) {
    case 'serverError':
      return `${time}  server ${server} failed (retry in ${Math.round(event.retryInMs / 1000)} s): ${errorText(event.error)}`;
    case 'serverBack':
      return `${time}  server ${server} answers again`;
    case 'snapshot':
      return `${time}  ${event.sessions.length} sessions${where}`;
    default: {
      const s = event.session;
      const was = event.before && !event.gone ? ` (was ${who(event.before)}, ${event.before.state})` : '';
      return `${time}  ${event.type.padEnd(11)} session ${s.id}${where}: ${who(s)}, ${s.state}${was}`;
    }
  }
}

const ESC = '\x1b[';
/** What follows the row of the last change under NO_COLOR. */
const MARK = '  *';

/**
 * The live display: the table of each server as the watch last saw it, the sessions of the last
 * change highlighted (inverse video; `*` before the row under NO_COLOR), and the last changes.
 * Redrawn in place: the cursor goes back up over what was drawn before, which is then cleared.
 */
class LiveTable {
  readonly #run: WatchRun;
  readonly #io: CliIo;
  readonly #servers = new Map<string, Map<number, Session>>();
  readonly #recent: string[] = [];
  readonly #failed = new Map<string, string>();
  /** Per server, the IDs changed by the last change. */
  #highlight = new Set<string>();
  #drawnLines = 0;
  /** The terminal's size at the last drawing: after a resize the old drawing has reflowed. */
  #drawnWidth: number | undefined;
  #drawnHeight: number | undefined;

  readonly #localLabelOf: () => string;
  #localLabel: string | undefined;

  constructor(run: WatchRun, io: CliIo, localLabel: () => string) {
    this.#run = run;
    this.#io = io;
    this.#localLabelOf = localLabel;
  }

  onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'snapshot':
        this.#servers.set(event.server, new Map(event.sessions.map((s) => [s.id, s] as const)));
        this.#failed.delete(event.server);
        break;
      case 'serverError':
        this.#failed.set(event.server, errorText(event.error));
        this.#note(event);
        break;
      case 'serverBack':
        this.#failed.delete(event.server);
        this.#note(event);
        break;
      default: {
        const sessions = this.#servers.get(event.server) ?? new Map<number, Session>();
        this.#servers.set(event.server, sessions);
        if (event.gone) sessions.delete(event.session.id);
        else sessions.set(event.session.id, event.session);
        if (!relevant(this.#run, event.session) && !(event.before && relevant(this.#run, event.before))) return;
        this.#highlight = new Set([`${event.server}\u0000${event.session.id}`]);
        this.#note(event);
      }
    }
    this.#draw();
  }

  /** `keys` in the order of the command's server list (a stable sort: the rest keep their order). */
  #ordered(keys: string[]): string[] {
    const target = this.#run.target;
    if (target.kind !== 'many') return keys;
    const given = target.servers.map((s) => s.toLowerCase());
    const rank = (key: string) => {
      const name = key === '' ? (this.#localLabel ??= this.#localLabelOf()) : key;
      return given.indexOf(name.toLowerCase());
    };
    return keys.map((key, i) => ({ key, i, r: rank(key) })).sort((a, b) => a.r - b.r || a.i - b.i).map((k) => k.key);
  }

  #note(event: SessionEvent): void {
    this.#recent.push(eventLine(event));
    if (this.#recent.length > RECENT) this.#recent.shift();
  }

  #draw(): void {
    const lines: string[] = [];
    const many = this.#run.target.kind === 'many';
    // Servers in the order given (events name the local server ''; a server not in the list, the
    // local one unless named there, in the order first heard of, before).
    const keys = this.#ordered([...new Set([...this.#servers.keys(), ...this.#failed.keys()])]);
    for (const key of keys) {
      const name = printable(key || (this.#localLabel ??= this.#localLabelOf()));
      if (many) lines.push(`${name}:`);
      const failed = this.#failed.get(key);
      if (failed !== undefined) lines.push(`  (${many ? '' : `${name} `}not answering: ${failed})`);
      if (!this.#servers.has(key)) continue;
      const rows = [...(this.#servers.get(key)?.values() ?? [])].filter((s) => relevant(this.#run, s)).sort((a, b) => a.id - b.id);
      const table = (this.#run.kind === 'user' ? formatUserTable(rows as DetailedSession[], { long: this.#run.long === true }) : formatSessionTable(rows)).trimEnd().split('\n');
      lines.push(table[0] as string);
      rows.forEach((s, i) => lines.push(this.#mark(table[i + 1] as string, this.#highlight.has(`${key}\u0000${s.id}`))));
    }
    let tail = ['', 'Last changes (Ctrl+C to stop):', ...(this.#recent.length > 0 ? this.#recent.map((l) => `  ${l}`) : ['  none yet'])];
    // The drawing fits the terminal: the cursor cannot go back up past its top row, so a taller
    // drawing would scroll a copy away at every redraw. The tables give way first (to one line
    // that says so), then the oldest of the last changes.
    const height = this.#io.rows;
    const allowed = height && height > 1 ? height - 1 : Infinity;
    if (lines.length + tail.length > allowed) {
      const maxTail = Math.max(0, allowed - 1);
      // The heading lines stay; of the changes, the newest that fit.
      const keep = Math.max(0, maxTail - 2);
      if (tail.length > maxTail) tail = [...tail.slice(0, 2), ...(keep > 0 ? tail.slice(-keep) : [])].slice(0, maxTail);
      const room = Math.max(0, allowed - tail.length - 1);
      const hidden = lines.length - room;
      if (hidden > 0) lines.splice(room, hidden, `  ... ${hidden} more line${hidden === 1 ? '' : 's'} (a taller terminal shows them)`);
    }
    lines.push(...tail);
    // A line wider than the terminal would wrap, and the cursor would not go back up far enough.
    const width = this.#io.columns;
    const fitted = width && width > 1 ? lines.map((l) => this.#fit(l, width - 1)) : lines;
    // After a resize the last drawing has reflowed: its height is unknown, so the screen is
    // cleared and the drawing starts at its top. Otherwise the cursor goes back up over it.
    const resized = this.#drawnLines > 0 && (width !== this.#drawnWidth || height !== this.#drawnHeight);
    const up = resized ? `${ESC}H${ESC}2J` : this.#drawnLines > 0 ? `${ESC}${this.#drawnLines}A\r` : '';
    this.#io.out(`${up}${ESC}J${fitted.join('\n')}\n`);
    this.#drawnLines = fitted.length;
    this.#drawnWidth = width;
    this.#drawnHeight = height;
  }

  /** The row of the last change: inverse video, or under NO_COLOR a `*` after it (MARK). */
  #mark(line: string, on: boolean): string {
    if (!on) return line;
    return this.#io.color ? `${ESC}7m${line}${ESC}0m` : `${line}${MARK}`;
  }

  /** A line cut to `width` columns; a marked row keeps its mark (the row gives way). */
  #fit(line: string, width: number): string {
    if (!this.#io.color && line.endsWith(MARK) && displayWidth(line) > width) return `${cut(line.slice(0, -MARK.length), Math.max(0, width - MARK.length))}${MARK}`;
    return cut(line, width);
  }

  end(): void {
    // The cursor stays below the last drawing: the shell prompt comes after it.
  }
}

/**
 * A line cut to `width` terminal columns (the escape sequences of a highlight kept whole). The
 * names in it are already printable: the only escape sequences are the highlight's own.
 */
export function cut(line: string, width: number): string {
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
  if (displayWidth(plain) <= width) return line;
  return line.startsWith(ESC) ? `${ESC}7m${fitWidth(plain, width)}${ESC}0m` : fitWidth(plain, width);
}
