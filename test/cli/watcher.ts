/**
 * `wts-query ... --watch` as a child process on a simulated farm file (its stdout a pipe: JSON
 * lines), for the watch tests: its output as it comes, a wait for a line, its exit, and a wait
 * for the moment it has a WTSWaitSystemEvent in place (from its call log).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { binPath, type Sim } from './run';

export interface Watcher {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout matches; rejects after `ms`. */
  until(re: RegExp, ms?: number): Promise<void>;
  exit: Promise<number | null>;
}

/** The watchers still running: killWatchers() ends them (an afterEach's clean-up). */
const running = new Set<ChildProcessWithoutNullStreams>();

export function watch(sim: Sim, args: string[]): Watcher {
  const child = spawn(process.execPath, [binPath('wts-query'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log },
  });
  running.add(child);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    until: (re, ms = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the watcher never printed ${re} within ${ms} ms; it printed:\n${out}\n${err}`));
        }, ms);
        function check() {
          if (!re.test(out)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        }
        listeners.add(check);
        check();
      }),
    exit,
  };
}

/** How long a listing logged by the mock takes at most to read the farm (zero latency; a loaded CI machine). */
const LISTING_READ_MS = 1000;

/** Kills every watcher still running. */
export function killWatchers(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/**
 * Resolves once the watcher's call log shows its wait and its first enumeration, and that listing
 * has had time to read the farm. The watcher arms its wait, then lists; the mock logs a call when
 * it is made, before it reads the farm file, so a change made the moment the log shows the
 * enumeration can still be in the first listing: then it is the watcher's starting point, and
 * rightly no event (a change test once missed in CI for this reason, about 1 run in 5 locally).
 */
export async function waiting(sim: Sim, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const apis = existsSync(sim.log) ? readFileSync(sim.log, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { api: string }).api) : [];
    if (apis.includes('enumerate') && apis.includes('wait')) return new Promise((r) => setTimeout(r, LISTING_READ_MS));
    if (Date.now() > deadline) throw new Error(`the watcher never waited; its calls: ${apis.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
