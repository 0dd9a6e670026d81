/**
 * What every command shares: its I/O, the backend choice (--simulate), and turning errors into
 * one line on stderr and an exit code. The exit codes are documented once, in README.md#exit-codes.
 */
import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';
import { Wts } from '../api/wts';
import { createWts } from '../create';
import { openSimulatedFarm, saveSimulatedFarms, SimulatedFarmError } from '../backends/mock/file';
import { InvalidArgumentError, isWtsError, Win32Error, WtsError } from '../errors';
import { UsageError } from './argv';
import { causeOf, oneLine } from './format';

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

/** The answer to a [y/N] question. */
export type Answer = 'yes' | 'no' | 'interrupted' | 'eof';

export interface CliIo {
  /** Writes to standard output; never throws, and drops the text once the output is closed. */
  readonly out: (text: string) => void;
  /** Writes to standard error; never throws. */
  readonly err: (text: string) => void;
  /** Whether a person can answer a question (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Whether stderr is a terminal (a progress line may be drawn there). */
  readonly progress: boolean;
  /** Whether stdout is a terminal (a live display may be redrawn there). Default false. */
  readonly outputIsTerminal?: boolean;
  /** The terminal's width when stdout is one (a live display cuts its lines to it). */
  readonly columns?: number | undefined;
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
}

/** WTS_SESSION_DEBUG: any value but '', '0', 'false', 'no' turns stacks on. */
export const DEBUG_ENV = 'WTS_SESSION_DEBUG';

export function debugFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[DEBUG_ENV] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** `--debug` or `/debug` anywhere before `--`: known before the command line is parsed, so that a parse error can show its stack too. */
export function debugFromArgv(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (/^(--|-|\/)debug$/i.test(a)) return true;
  }
  return false;
}

type Out = NodeJS.WritableStream & { errored?: Error | null; writableErrored?: Error | null; destroyed?: boolean; isTTY?: boolean; columns?: number };

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
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
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
    return stream.errored ?? stream.writableErrored ?? (stream.destroyed ? new Error('The stream was closed.') : undefined);
  };
  const interactive = Boolean((streams.stdin ? streams.stdin.isTTY : isatty(0)) && stderr.isTTY);
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
    progress: Boolean(stderr.isTTY),
    outputIsTerminal: Boolean(stdout.isTTY),
    columns: stdout.isTTY ? stdout.columns : undefined,
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
  };
}

/**
 * Asks on the terminal. In raw mode (a terminal) readline sees Ctrl+C as a key and emits 'SIGINT'
 * on the interface; a SIGINT sent to the process is caught too. Ctrl+D on an empty line, or the
 * end of the input, closes the interface.
 */
function ask(stdin: NodeJS.ReadStream, stderr: NodeJS.WritableStream, question: string): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    const rl = createInterface({ input: stdin, output: stderr });
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
 * Prints an error as one line on stderr (the stack only with --debug / WTS_SESSION_DEBUG) and
 * returns the exit code: 2 bad usage, 1 a failure the library reports, 3 anything unexpected.
 */
export function reportError(command: string, error: unknown, io: CliIo, options: ReportOptions = {}): number {
  const debug = options.debug ?? io.debug ?? false;
  const stack = () => {
    if (debug) io.err(`${stackOf(error)}\n`);
  };
  if (error instanceof UsageError || error instanceof InvalidArgumentError || (isWtsError(error) && error.code === 'E_INVALID_ARGUMENT')) {
    io.err(`${command}: ${oneLine((error as Error).message)}\nType '${command} /?' for usage.\n`);
    stack();
    return EXIT_USAGE;
  }
  const cause = causeOf(error);
  if (cause instanceof SimulatedFarmError || (cause instanceof Error && cause.name === 'SimulatedFarmError')) {
    io.err(`${command}: ${oneLine(cause.message)}\n`);
    stack();
    return EXIT_FAILED;
  }
  if (error instanceof Win32Error) {
    io.err(`${error.message}\n`);
    if (options.verbose && error.hint && !error.message.includes(error.hint)) io.err(`${error.hint}\n`);
    stack();
    return EXIT_FAILED;
  }
  if (isWtsError(error) && cause === error) {
    io.err(`${command}: ${oneLine(error.message)}\n`);
    stack();
    return EXIT_FAILED;
  }
  if (isSystemError(cause)) {
    io.err(`${command}: unexpected error: ${oneLine(cause.message)} (a system call failed; check the path and its permissions, or ${HOW_TO_DEBUG}).\n`);
  } else {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    io.err(`${command}: unexpected error: ${oneLine(what)}. This is a bug in wts-session: ${HOW_TO_DEBUG}, and report it.\n`);
  }
  stack();
  return EXIT_UNEXPECTED;
}

/**
 * Runs one action with Ctrl+C turned into its abort signal: the wait stops, and the command says
 * what had been sent (OperationAbortedError.requests) and exits 130 instead of dying silently.
 */
export async function interruptible<T>(command: string, io: CliIo, act: (signal: AbortSignal) => Promise<T>): Promise<T | number> {
  const interrupt = new AbortController();
  const stop = io.onInterrupt?.(() => interrupt.abort(new Error('interrupted')));
  try {
    return await act(interrupt.signal);
  } catch (error) {
    if (!interrupt.signal.aborted || !(error instanceof WtsError) || error.code !== 'E_ABORTED') throw error;
    io.err(`${command}: interrupted (Ctrl+C). ${error.message}\n`);
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
  const options = () => ({ verbose: verbose(), debug: Boolean(io.debug) || debugFromArgv(argv) });
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
    const failed = reportError(command, error, io, options());
    if (code === EXIT_OK) code = failed;
  }
  return code;
}

/**
 * A command's process: its I/O, its exit code, and a last line of defence — an error that escapes
 * everything else is still one line and exit 3, not a stack.
 */
export function startCommand(command: string, main: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  const argv = process.argv.slice(2);
  const io = processIo();
  const fatal = (error: unknown) => {
    process.exitCode = reportError(command, error, io, { debug: Boolean(io.debug) || debugFromArgv(argv) });
    // Whatever was running is in an unknown state: stop now.
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  main(argv, io).then((code) => {
    process.exitCode = code;
  }, fatal);
}
