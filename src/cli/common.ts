/**
 * What every command shares: its I/O, the backend choice (--simulate), and turning errors into
 * one line on stderr and an exit code. The exit codes are documented once, in README.md#exit-codes.
 */
import { fstatSync, readSync, writeSync } from 'node:fs';
import type * as Readline from 'node:readline';
import type * as Tty from 'node:tty';
import { builtin } from '../builtin';
import { Wts } from '../api/wts';
import { createWts } from '../create';
import { openSimulatedFarm, saveSimulatedFarms } from '../backends/mock/file';
import { InvalidArgumentError, isWtsError, Win32Error } from '../errors';
import { UsageError } from './argv';
import { causeOf, oneLine } from './format';
import { anyErrorObject, cliErrorObject, errorDocument, errorObject, farmErrorObject, jsonLine, simulatedFarmCause, type ErrorObject } from './json';
import { printableLines } from './text';

/** Success: everything asked was done (or, with --dry-run, shown). */
export const EXIT_OK = 0;
/**
 * An operation failed or was refused; a question was answered no or ended with Ctrl+D; a bulk
 * run's output was closed; the simulated farm file could not be saved.
 */
export const EXIT_FAILED = 1;
/** Bad usage: nothing was called (no WTS call, the simulated farm file untouched). */
export const EXIT_USAGE = 2;
/** An unexpected error (a bug, or a system failure the command does not know): one line; --debug shows the stack. */
export const EXIT_UNEXPECTED = 3;
/** Ctrl+C at a [y/N] question (128 + SIGINT): nothing was done. */
export const EXIT_INTERRUPTED = 130;

/** The exit codes as every command's help lists them (README.md#exit-codes says the same, in full). */
export const EXIT_CODES_HELP =
  'Exit codes: 0 done; 1 something failed or was refused, the question was answered\n' +
  'no or with Ctrl+D, or the output was closed during /all; 2 bad usage (nothing was\n' +
  'called); 3 an unexpected error (--debug shows where); 130 Ctrl+C (at the question: nothing done; while acting: what was done is reported).';

/** The --debug line of every command's help. */
export const DEBUG_HELP = '  --debug            On an error, also print its stack (or WTS_SESSION_DEBUG=1).';

/** The --json line of every command's help: the contract is docs/json.md. */
export const JSON_CONTRACT_HELP =
  'With --json, stdout has JSON only: one document a line, each with "schema": 1 and\n' +
  'a "type"; a failure ends with an "error" document (docs/json.md).';

/** The answer to a [y/N] question. */
export type Answer = 'yes' | 'no' | 'interrupted' | 'eof';

export interface CliIo {
  /** Writes to standard output; never throws, and drops the text once the output is closed. */
  readonly out: (text: string) => void;
  /** Writes to standard error; never throws. */
  readonly err: (text: string) => void;
  /** Whether a person can answer a question (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /**
   * Whether a progress line may be drawn on stderr: it is a terminal, TERM is not 'dumb' and no CI
   * is said to run (CI set, and not '', 'false' or '0'). --no-progress turns it off too.
   */
  readonly progress: boolean;
  /** Whether stdout is a terminal (a live display may be redrawn there). Default false. */
  readonly outputIsTerminal?: boolean;
  /** The terminal's width when stdout is one, as it is now (a live display cuts its lines to it). */
  readonly columns?: number | undefined;
  /** The terminal's height when stdout is one, as it is now (a live display fits its lines in it). */
  readonly rows?: number | undefined;
  /** Whether colours may be used on stdout: a terminal, and NO_COLOR unset or empty (https://no-color.org). */
  readonly color?: boolean;
  /**
   * Asks a yes/no question: 'yes' only for an explicit y or yes; 'interrupted' for Ctrl+C,
   * 'eof' for Ctrl+D or the end of the input. (A test double may answer true / false.)
   */
  readonly confirm: (question: string) => Promise<Answer | boolean>;
  /**
   * Aborts when standard output can no longer be written (EPIPE: the reader, such as `head -1`,
   * went away). A bulk run passes it as the operation's `signal`: no new action is started.
   */
  readonly outputClosed?: AbortSignal;
  /** Print stacks (WTS_SESSION_DEBUG=1); `--debug` on the command line turns it on too. */
  readonly debug?: boolean;
  /**
   * Calls `handler` on each Ctrl+C (SIGINT) until the returned function is called: a bulk action
   * then starts no new request and reports what it did, instead of dying with work unreported.
   */
  readonly onInterrupt?: (handler: () => void) => () => void;
  /**
   * All of standard input as text, read once (`/servers:-`). Default: read from file descriptor 0.
   */
  readonly readStdin?: () => string;
}

/** A CI service runs this: CI set to anything but '', 'false' or '0' (GitHub Actions, GitLab, ... set CI=true). */
export function ciFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env['CI'] ?? '').trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0';
}

/** A terminal that cannot move the cursor or clear a line (TERM=dumb: Emacs shell buffers, some CI logs). */
export function dumbTerminal(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['TERM'] ?? '').trim().toLowerCase() === 'dumb';
}

/** Whether the environment lets a progress line be drawn on a terminal: not TERM=dumb, not under CI. */
export function progressFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return !dumbTerminal(env) && !ciFromEnv(env);
}

/** WTS_SESSION_DEBUG: any value but '', '0', 'false', 'no' turns stacks on. */
export const DEBUG_ENV = 'WTS_SESSION_DEBUG';

export function debugFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[DEBUG_ENV] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** `--debug` or `/debug` anywhere before `--`: known before the command line is parsed, so that a parse error can show its stack too. */
export function debugFromArgv(argv: readonly string[]): boolean {
  return switchInArgv(argv, 'debug');
}

/** `--json` or `/json` anywhere before `--`: known before parsing, so that bad usage still ends with a JSON error document. */
export function jsonFromArgv(argv: readonly string[]): boolean {
  return switchInArgv(argv, 'json');
}

function switchInArgv(argv: readonly string[], name: string): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a.replace(/^(--|-|\/)/, '').toLowerCase() === name && a !== name) return true;
  }
  return false;
}

/**
 * Standard input read to its end, synchronously (the command line is checked before anything is
 * called, and the server list is part of it). A pipe or a file; on a terminal, until Ctrl+D.
 */
export function readStdinSync(fd = 0): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A non-blocking pipe with nothing in it yet: wait a little and read again.
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (code === 'EOF') break; // Windows: the end of a pipe
      throw error;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What processIo writes to: a stream (process.stdout, a test's) or {@link plainOutput}'s writer. */
type Out = {
  write(text: string): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  errored?: Error | null;
  writableErrored?: Error | null;
  destroyed?: boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
};

/**
 * Whether file descriptor `fd` is a regular file, a pipe or a socket (what a script or another
 * program gives a command), asked with fstat: such a descriptor is never a terminal. False on
 * Windows, where the process's own streams are always used, and when fstat fails.
 */
function plainDescriptor(fd: number): boolean {
  if (process.platform === 'win32') return false;
  try {
    const stat = fstatSync(fd);
    return stat.isFile() || stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** Whether `fd` is a terminal; node:tty (which loads node:net) only for a descriptor that may be one. */
function isTerminal(fd: number): boolean {
  return !plainDescriptor(fd) && builtin<typeof Tty>('node:tty').isatty(fd);
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Standard output or error written straight to its descriptor with fs.writeSync, when it is a
 * file, a pipe or a socket (not on Windows): the command then never makes process.stdout or
 * process.stderr, whose pipe stream loads Node's net and stream modules (about 7 ms of every
 * start). Every write is made whole before it returns: a partial write is continued, and a
 * descriptor left non-blocking that is full (EAGAIN) is waited for, 1 ms at a time. So a reader
 * that stops reading pauses the command once the pipe is full, as it pauses a C program (Node's
 * own stream on a pipe would queue the rest in memory and go on; a report then died with the
 * process). A one-shot command writes at its end, so only a streaming one (--json outcomes as
 * they settle, --watch) waits mid-run; it never acts earlier than it would have: a --grace
 * timer that came due meanwhile fires after. The first error (EPIPE when the reader went away)
 * is thrown, and every later write throws it again. Undefined for anything else (a terminal,
 * /dev/null): the process's own stream is used.
 */
export function plainOutput(fd: 1 | 2): Out | undefined {
  if (!plainDescriptor(fd)) return undefined;
  let errored: Error | null = null;
  return {
    isTTY: false,
    get errored() {
      return errored;
    },
    // Its errors are thrown by write(): there is no 'error' event.
    on() {
      return undefined;
    },
    write(text: string) {
      if (errored) throw errored;
      const data = Buffer.from(text, 'utf8');
      for (let at = 0; at < data.length; ) {
        try {
          at += writeSync(fd, data, at, data.length - at);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
            Atomics.wait(PAUSE, 0, 0, 1);
            continue;
          }
          errored = error instanceof Error ? error : new Error(String(error));
          throw errored;
        }
      }
      return true;
    },
  };
}

/**
 * The process's I/O. Errors on stdout (EPIPE when a reader closes the pipe, EIO, ENOSPC) and on
 * stderr never crash the command: stdout's first error fires `outputClosed`; later writes are
 * dropped.
 */
export function processIo(
  streams: { stdin?: NodeJS.ReadStream; stdout?: Out; stderr?: Out & { isTTY?: boolean } } = {},
  env: NodeJS.ProcessEnv = process.env,
): CliIo {
  // process.stdin is made on first use only (about 4 ms of start-up: fs streams loaded, a
  // ReadStream built), and only a question needs it; whether it is a terminal is asked of fd 0.
  const stdin = () => streams.stdin ?? process.stdin;
  // A file, a pipe or a socket is written directly (plainOutput); a terminal through Node's stream.
  const stdout: Out = streams.stdout ?? plainOutput(1) ?? process.stdout;
  const stderr: Out = streams.stderr ?? plainOutput(2) ?? process.stderr;
  const closed = new AbortController();
  let errClosed = false;
  const closeOut = (error: unknown) => {
    if (!closed.signal.aborted) closed.abort(error);
  };
  // Without a listener, an 'error' event on stdout is an uncaught exception with a stack.
  stdout.on('error', closeOut);
  stderr.on('error', () => {
    errClosed = true;
  });
  const write = (stream: Out, text: string): unknown => {
    try {
      stream.write(text);
    } catch (error) {
      return error;
    }
    // A write on a pipe whose reader is gone fails at once (EPIPE) and marks the stream errored
    // (`errored`: a net.Socket has no `writableErrored`); the 'error' event only follows on the
    // next tick, too late to stop the next action.
    return stream.errored ?? stream.writableErrored ?? (stream.destroyed ? Object.assign(new Error('The stream was closed.'), { code: 'ERR_STREAM_DESTROYED' }) : undefined);
  };
  // stderr first: when it is no terminal, fd 0 is not asked (node:tty is not loaded for it).
  const interactive = Boolean(stderr.isTTY && (streams.stdin ? streams.stdin.isTTY : isTerminal(0)));
  return {
    out: (text) => {
      if (closed.signal.aborted) return;
      const error = write(stdout, text);
      if (error) closeOut(error);
    },
    err: (text) => {
      if (errClosed) return;
      if (write(stderr, text)) errClosed = true;
    },
    interactive,
    progress: Boolean(stderr.isTTY) && progressFromEnv(env),
    // A dumb terminal cannot have a table redrawn in place: --watch prints JSON lines there.
    outputIsTerminal: Boolean(stdout.isTTY) && !dumbTerminal(env),
    // Read when asked: a terminal's size changes when its window is resized (Node updates both).
    get columns() {
      return stdout.isTTY ? stdout.columns : undefined;
    },
    get rows() {
      return stdout.isTTY ? stdout.rows : undefined;
    },
    color: Boolean(stdout.isTTY) && (env['NO_COLOR'] ?? '') === '',
    confirm: (question) => ask(stdin(), stderr, question),
    outputClosed: closed.signal,
    debug: debugFromEnv(env),
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGINT', handler);
      };
    },
    // A stream handed in (a test's) is for the question only: /servers:- then reads nothing.
    readStdin: () => (streams.stdin ? '' : readStdinSync()),
  };
}

/**
 * Asks on the terminal. In raw mode (a terminal) readline sees Ctrl+C as a key and emits 'SIGINT'
 * on the interface; a SIGINT sent to the process is caught too. Ctrl+D on an empty line, or the
 * end of the input, closes the interface.
 */
function ask(stdin: NodeJS.ReadStream, stderr: Out, question: string): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    const rl = builtin<typeof Readline>('node:readline').createInterface({ input: stdin, output: stderr as NodeJS.WritableStream });
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      // ^C and ^D leave the cursor after the question.
      if (answer === 'interrupted' || answer === 'eof') stderr.write('\n');
      rl.close();
      resolve(answer);
    };
    const onSignal = () => finish('interrupted');
    rl.on('SIGINT', onSignal);
    process.on('SIGINT', onSignal);
    rl.on('close', () => finish('eof'));
    rl.question(`${question} [y/N] `, (line) => finish(/^(y|yes)$/i.test(line.trim()) ? 'yes' : 'no'));
  });
}

/** What a command needs besides its I/O; tests hand in their own backend. */
export interface CliDeps {
  /** The backend for `--simulate FILE` (undefined: auto-detected). Default: {@link wtsFor}. */
  readonly wts?: (simulate: string | undefined) => Wts;
}

/** The backend: --simulate FILE, else auto-detected (WTS_SESSION_SIMULATE, Windows). */
export function wtsFor(simulate: string | undefined): Wts {
  return simulate === undefined ? createWts() : new Wts(openSimulatedFarm(simulate));
}

/** The backend, made on first use: a command that refuses early reads no farm file and loads no DLL. */
export function lazyWts(simulate: string | undefined, deps: CliDeps = {}): () => Wts {
  let wts: Wts | undefined;
  return () => (wts ??= (deps.wts ?? wtsFor)(simulate));
}

export interface ReportOptions {
  readonly verbose?: boolean;
  readonly debug?: boolean;
  /** Also print the error as a JSON error document on stdout (--json). */
  readonly json?: boolean;
  /** The code the process exits with when it is not the error's own (the document carries it). */
  readonly exitCode?: number;
}

/** A failed system call (it has an errno code and a syscall), as opposed to a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const e = error as NodeJS.ErrnoException | undefined;
  return e instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

function stackOf(error: unknown): string {
  const lines: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    lines.push(depth === 0 ? '' : 'Caused by:');
    lines.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return lines.filter((l) => l !== '').join('\n');
}

const HOW_TO_DEBUG = "run the command again with --debug (or WTS_SESSION_DEBUG=1) to see where it happened";

/**
 * Prints an error as one line on stderr (the stack only with --debug / WTS_SESSION_DEBUG), with
 * --json also as an error document on stdout, and returns the exit code: 2 bad usage, 1 a failure
 * the library reports, 3 anything unexpected. Every name in the text is printable.
 */
export function reportError(command: string, error: unknown, io: CliIo, options: ReportOptions = {}): number {
  const described = describeError(command, error, io, options);
  const code = options.exitCode ?? described.code;
  if (options.json) io.out(jsonLine(errorDocument(described.json, code)));
  return code;
}

function describeError(command: string, error: unknown, io: CliIo, options: ReportOptions): { code: number; json: ErrorObject } {
  const debug = options.debug ?? io.debug ?? false;
  const stack = () => {
    if (debug) io.err(`${printableLines(stackOf(error))}\n`);
  };
  if (error instanceof UsageError || error instanceof InvalidArgumentError || (isWtsError(error) && error.code === 'E_INVALID_ARGUMENT')) {
    io.err(`${command}: ${oneLine((error as Error).message)}\nType '${command} /?' for usage.\n`);
    stack();
    return { code: EXIT_USAGE, json: anyErrorObject(error, 'E_USAGE') };
  }
  const cause = causeOf(error);
  const farm = simulatedFarmCause(error);
  if (farm) {
    io.err(`${command}: ${oneLine(farm.message)}\n`);
    stack();
    return { code: EXIT_FAILED, json: farmErrorObject(farm) };
  }
  if (error instanceof Win32Error) {
    io.err(`${printableLines(error.message)}\n`);
    if (options.verbose && error.hint && !error.message.includes(error.hint)) io.err(`${printableLines(error.hint)}\n`);
    stack();
    return { code: EXIT_FAILED, json: errorObject(error) };
  }
  if (isWtsError(error) && cause === error) {
    io.err(`${command}: ${oneLine(error.message)}\n`);
    stack();
    return { code: EXIT_FAILED, json: errorObject(error) };
  }
  let line: string;
  if (isSystemError(cause)) {
    line = `unexpected error: ${oneLine(cause.message)} (a system call failed; check the path and its permissions, or ${HOW_TO_DEBUG}).`;
  } else {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    line = `unexpected error: ${oneLine(what)}. This is a bug in wts-session: ${HOW_TO_DEBUG}, and report it.`;
  }
  io.err(`${command}: ${line}\n`);
  stack();
  const causeJson = cause instanceof Error ? { name: cause.name, message: cause.message } : { name: typeof cause, message: String(cause) };
  return { code: EXIT_UNEXPECTED, json: cliErrorObject('UnexpectedError', 'E_UNEXPECTED', line, { cause: causeJson }) };
}

/** What the commands say when a question was not answered yes (Ctrl+C, Ctrl+D) or before it. */
export const CANCELLED = 'Cancelled; nothing was done.\n';

/**
 * Asks before acting. Undefined when the answer is yes; otherwise the exit code — 130 for Ctrl+C,
 * 1 for no, Ctrl+D or the end of the input — once the command has said that nothing was done
 * (on stderr, and with --json as an E_CANCELLED error document).
 */
export async function askFirst(io: CliIo, json: boolean, question: string): Promise<number | undefined> {
  const reply = await io.confirm(question);
  const answer = reply === true ? 'yes' : reply === false ? 'no' : reply;
  if (answer === 'yes') return undefined;
  const cancelled = (exit: number, message: string) => {
    jsonFailure(io, json, exit, cliErrorObject('CancelledError', 'E_CANCELLED', message));
    return exit;
  };
  if (answer === 'interrupted' || answer === 'eof') {
    io.err(CANCELLED);
    const how = answer === 'interrupted' ? 'Ctrl+C' : 'Ctrl+D or the end of the input';
    return cancelled(answer === 'interrupted' ? EXIT_INTERRUPTED : EXIT_FAILED, `Cancelled at the question (${how}); nothing was done.`);
  }
  io.err('Nothing was done.\n');
  return cancelled(EXIT_FAILED, 'The question was answered no; nothing was done.');
}

/** With --json, a failure that is no thrown error (a question answered no, a refusal): its error document. */
export function jsonFailure(io: CliIo, json: boolean, exitCode: number, error: ErrorObject): void {
  if (json) io.out(jsonLine(errorDocument(error, exitCode)));
}

/**
 * Runs one action with Ctrl+C turned into its abort signal: the wait stops, and the command says
 * what had been sent (OperationAbortedError.requests) and exits 130 instead of dying silently.
 * A Ctrl+C the call finished despite (its request was already made) is not swallowed: `lookup`
 * (a read before anything is done, such as a dry run) then ends the command with 130 and nothing
 * done; an action says it came too late, and its result stands.
 */
export async function interruptible<T>(command: string, io: CliIo, act: (signal: AbortSignal) => Promise<T>, json = false, lookup = false): Promise<T | number> {
  const interrupt = new AbortController();
  const stop = io.onInterrupt?.(() => interrupt.abort(new Error('interrupted')));
  try {
    const result = await act(interrupt.signal);
    if (interrupt.signal.aborted) {
      if (lookup) {
        io.err(CANCELLED);
        jsonFailure(io, json, EXIT_INTERRUPTED, cliErrorObject('CancelledError', 'E_CANCELLED', 'Interrupted (Ctrl+C) while looking; nothing was done.'));
        return EXIT_INTERRUPTED;
      }
      io.err(`${command}: Ctrl+C came too late to stop it: its request had been made, and it was done.\n`);
    }
    return result;
  } catch (error) {
    if (!interrupt.signal.aborted || !isWtsError(error) || error.code !== 'E_ABORTED') throw error;
    io.err(`${command}: interrupted (Ctrl+C). ${oneLine(error.message)}\n`);
    jsonFailure(io, json, EXIT_INTERRUPTED, errorObject(error));
    return EXIT_INTERRUPTED;
  } finally {
    stop?.();
  }
}

/** Runs a command's body, mapping any error to its exit code. */
export async function runCommand(
  command: string,
  argv: readonly string[],
  io: CliIo,
  verbose: () => boolean,
  body: () => Promise<number>,
): Promise<number> {
  const options = () => ({ verbose: verbose(), debug: Boolean(io.debug) || debugFromArgv(argv), json: jsonFromArgv(argv) });
  let code: number;
  try {
    code = await body();
  } catch (error) {
    code = reportError(command, error, io, options());
  }
  // Simulated mode saves its changes a few times per command: the last ones now, before the
  // command's result stands (a failure to save is the command's failure).
  try {
    saveSimulatedFarms();
  } catch (error) {
    // Said once, and the error document carries the code the process exits with: the failure's
    // own (1) after a success, else the command's (130 after Ctrl+C, 1 after a failure).
    code = reportError(command, error, io, { ...options(), ...(code === EXIT_OK ? {} : { exitCode: code }) });
  }
  // Standard output that failed for another reason than its reader going away (a full disk, an I/O
  // error): the output is not what it should be, whatever the command did. `> report.json` must not
  // read as success. (A reader that left, `| head -1`, is a choice: a query ends quietly then.)
  const failed: unknown = io.outputClosed?.aborted ? io.outputClosed.reason : undefined;
  if (failed !== undefined && !readerGone(failed)) {
    if (!LOSS_SAID.has(io)) io.err(`${command}: could not write its output (${writeError(failed)}).\n`);
    if (code === EXIT_OK) code = EXIT_FAILED;
  }
  return code;
}

/**
 * Whether the output ended because its reader went away (a closed pipe), not because writing
 * failed (ENOSPC, EIO: a system error with another code). An end with no system code counts as
 * the reader's.
 */
function readerGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED' || code === 'EOF';
}

/**
 * An action's report was written to a closed output (its reader went away: `| head -0`, a closed
 * pipe): what was done is said on stderr instead, and the run ends with exit 1 rather than 0 — a
 * script must not read success from a report it never got. Returns the exit code to end with.
 */
export function reportedOrLost(io: CliIo, command: string, code: number, said: () => string): number {
  if (!io.outputClosed?.aborted) return code;
  io.err(`${command}: ${outputLoss(io)}, so this was not reported there: ${said()}\n`);
  return code === EXIT_OK ? EXIT_FAILED : code;
}

/** Whose output has been said lost (outputLoss): runCommand does not say it a second time. */
const LOSS_SAID = new WeakSet<CliIo>();

/**
 * Why standard output is gone, as a command says it — "the output was closed" when its reader
 * left (`| head -1`), else "the output could not be written (ENOSPC: ...)" — and marks it said.
 */
export function outputLoss(io: CliIo): string {
  LOSS_SAID.add(io);
  const reason: unknown = io.outputClosed?.reason;
  if (reason === undefined || readerGone(reason)) return 'the output was closed';
  return `the output could not be written (${writeError(reason)})`;
}

/** A write error as one line: `ENOSPC: no space left on device, write`. */
function writeError(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}

/**
 * A command's process: its I/O, its exit code, and a last line of defence — an error that escapes
 * everything else is still one line and exit 3, not a stack.
 */
export function startCommand(command: string, main: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  const argv = process.argv.slice(2);
  const io = processIo();
  const fatal = (error: unknown) => {
    process.exitCode = reportError(command, error, io, { debug: Boolean(io.debug) || debugFromArgv(argv), json: jsonFromArgv(argv) });
    // Whatever was running is in an unknown state: stop now.
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  let settled = false;
  // Nothing left to wait for while the command has not finished: it never will (a promise nothing
  // settles — a bug, or a backend's call that was dropped). Exiting 0 with nothing said would read
  // as success; it is exit 3, one line.
  process.once('beforeExit', () => {
    if (!settled) fatal(new Error('the command stopped before it finished: nothing was left running to finish it (a bug; what it had sent may have been done, so check before running it again)'));
  });
  main(argv, io).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (error: unknown) => {
      settled = true;
      fatal(error);
    },
  );
}
