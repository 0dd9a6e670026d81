import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm } from '../../src/mock';
import { exampleFarm, ROOT } from '../helpers';

export type Bin = 'wts-logoff' | 'wts-query' | 'wts-msg' | 'wts-disconnect' | 'wts-kill';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The WTS calls the command made, from the simulated farm's call log. */
  calls: Array<{ api: string; server: string; sessionId?: number }>;
  /** Every line of the call log, kernel32 look-ups included: [] means nothing at all was called. */
  log: string[];
  farm: Farm;
  /** The farm file's bytes after the run. */
  farmText: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
}

export interface Sim {
  path: string;
  log: string;
  /** The farm file's bytes before any run. */
  initial: string;
  run(bin: Bin, args: string[], options?: RunOptions): Run;
  /**
   * Runs the command with its standard output a pipe whose reader is already gone, as after
   * `| head -1` has exited: the first write fails with EPIPE.
   */
  runClosedStdout(bin: Bin, args: string[], options?: Omit<RunOptions, 'input'>): Promise<Run>;
}

const WTS = new Set(['open', 'enumerate', 'query', 'logoff', 'disconnect', 'message', 'processes', 'processesEx', 'lookup']);

export function binPath(bin: Bin): string {
  return join(ROOT, 'dist', 'bin', `${bin}.js`);
}

/** A fresh copy of a farm in a temp folder, and a way to run a built command on it. */
export function simulate(farm: Farm = exampleFarm()): Sim {
  const dir = mkdtempSync(join(tmpdir(), 'wts-cli-'));
  const path = join(dir, 'farm.json');
  const log = join(dir, 'calls.jsonl');
  const initial = JSON.stringify(farm, null, 2);
  writeFileSync(path, initial);
  const env = (options: RunOptions) => ({ PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: path, WTS_SESSION_CALL_LOG: log, ...options.env });
  const collect = (code: number | null, stdout: string, stderr: string): Run => {
    const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    const calls = lines.map((l) => JSON.parse(l) as Run['calls'][number]).filter((c) => WTS.has(c.api));
    const farmText = readFileSync(path, 'utf8');
    return { code, stdout, stderr, calls, log: lines, farm: JSON.parse(farmText) as Farm, farmText };
  };
  return {
    path,
    log,
    initial,
    run(bin, args, options = {}) {
      writeFileSync(log, '');
      const result = spawnSync(process.execPath, [binPath(bin), ...args], {
        env: env(options),
        input: options.input ?? '',
        encoding: 'utf8',
        timeout: 20_000,
      });
      return collect(result.status, result.stdout, result.stderr);
    },
    runClosedStdout(bin, args, options = {}) {
      writeFileSync(log, '');
      return new Promise<Run>((resolve, reject) => {
        const child = spawn(process.execPath, [binPath(bin), ...args], { env: env(options), stdio: ['ignore', 'pipe', 'pipe'] });
        // Close our end of the pipe at once: long before the command writes (Node takes tens of
        // milliseconds to start), nobody reads its standard output any more.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve(collect(code, '', stderr));
        });
      });
    },
  };
}

/**
 * An in-process console for a command's main function: what it wrote, and a Ctrl+C to press
 * (`interrupt()`: every handler registered at that moment, as a terminal's SIGINT reaches them).
 */
export function fakeConsole(o: { outputClosed?: AbortSignal; out?: (text: string) => void } = {}): {
  io: import('../../src/cli/common').CliIo;
  out: string[];
  err: string[];
  interrupt: () => void;
} {
  const out: string[] = [];
  const err: string[] = [];
  const handlers = new Set<() => void>();
  return {
    out,
    err,
    interrupt: () => {
      for (const h of [...handlers]) h();
    },
    io: {
      out: o.out ?? ((t) => out.push(t)),
      err: (t) => err.push(t),
      interactive: false,
      progress: false,
      confirm: async () => 'no',
      onInterrupt: (handler) => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      ...(o.outputClosed ? { outputClosed: o.outputClosed } : {}),
    },
  };
}
