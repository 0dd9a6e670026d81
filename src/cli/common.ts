/**
 * What every command shares: its I/O, the backend choice (--simulate), and turning errors into
 * stderr text and exit codes (0 success, 1 an operation failed, 2 bad usage).
 */
import { createInterface } from 'node:readline/promises';
import { Wts } from '../api/wts';
import { createWts } from '../create';
import { openSimulatedFarm } from '../backends/mock/file';
import { InvalidArgumentError, Win32Error, WtsError } from '../errors';
import { UsageError } from './argv';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Whether a person can answer a question (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Whether stderr is a terminal (a progress line may be drawn there). */
  readonly progress: boolean;
  /** Asks a yes/no question; resolves true only for an explicit yes. */
  readonly confirm: (question: string) => Promise<boolean>;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    progress: Boolean(process.stderr.isTTY),
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^(y|yes)$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** The backend: --simulate FILE, else auto-detected (WTS_SESSION_SIMULATE, Windows). */
export function wtsFor(simulate: string | undefined): Wts {
  return simulate === undefined ? createWts() : new Wts(openSimulatedFarm(simulate));
}

/** Prints an error the way the command's users expect and returns the exit code. */
export function reportError(command: string, error: unknown, io: CliIo, verbose: boolean): number {
  if (error instanceof UsageError || error instanceof InvalidArgumentError) {
    io.err(`${command}: ${error.message}\nType '${command} /?' for usage.\n`);
    return EXIT_USAGE;
  }
  if (error instanceof Win32Error) {
    io.err(`${error.message}\n`);
    if (verbose && error.hint && !error.message.includes(error.hint)) io.err(`${error.hint}\n`);
    return EXIT_FAILED;
  }
  if (error instanceof WtsError) {
    io.err(`${command}: ${error.message}\n`);
    return EXIT_FAILED;
  }
  io.err(`${command}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILED;
}

/** Runs a command's body, mapping any error to its exit code. */
export async function runCommand(
  command: string,
  io: CliIo,
  verbose: () => boolean,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    return reportError(command, error, io, verbose());
  }
}
