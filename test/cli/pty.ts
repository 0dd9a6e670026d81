/**
 * Runs a built command in a pseudo-terminal, the way a person at a terminal runs it, and types
 * into it: `script` from util-linux (`script -qfec CMD /dev/null`), else tmux. Neither present:
 * `ptyKinds()` is empty and the tests say why they skip.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type PtyKind = 'script' | 'tmux';

export interface PtyRun {
  /** Everything the terminal showed (escape sequences included). */
  screen: string;
  code: number | null;
}

export interface PtyStep {
  /** Wait until the screen matches this... */
  readonly waitFor: RegExp;
  /** ...then (optionally) run this, and type these keys ('\x03' Ctrl+C, '\x04' Ctrl+D, 'y\r'). */
  readonly then?: () => void;
  readonly keys: string;
}

function works(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * The pseudo-terminal tools available here. WTS_TEST_PTY=script|tmux picks one (a test run can
 * prove both work); util-linux `script` is preferred.
 */
export function ptyKinds(): PtyKind[] {
  const kinds: PtyKind[] = [];
  const wanted = process.env['WTS_TEST_PTY'];
  if ((!wanted || wanted === 'script') && works('script', ['--version'])) kinds.push('script');
  if ((!wanted || wanted === 'tmux') && works('tmux', ['-V'])) kinds.push('tmux');
  return kinds;
}

export const NO_PTY_REASON =
  'skipped: neither util-linux `script` nor tmux is installed, so no pseudo-terminal can be made ' +
  '(apt-get install -y bsdutils or tmux to run these tests)';

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `env -i A=1 B=2 node file args`, quoted for sh: the command sees exactly `env` (tmux would pass on its own environment, CI included). */
function commandLine(argv: readonly string[], env: Record<string, string>): string {
  return ['env', '-i', ...Object.entries(env).map(([k, v]) => quote(`${k}=${v}`)), ...argv.map(quote)].join(' ');
}

/** Runs `argv` in a pseudo-terminal, following the steps; resolves when the command exits. */
export function runInPty(kind: PtyKind, argv: readonly string[], env: Record<string, string>, steps: readonly PtyStep[], timeoutMs = 20_000): Promise<PtyRun> {
  const fullEnv = { PATH: process.env['PATH'] ?? '', TERM: 'xterm', TZ: 'UTC', ...env };
  return kind === 'script' ? viaScript(argv, fullEnv, steps, timeoutMs) : viaTmux(argv, fullEnv, steps, timeoutMs);
}

function viaScript(argv: readonly string[], env: Record<string, string>, steps: readonly PtyStep[], timeoutMs: number): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    // -q quiet, -f flush at once, -e exit with the command's code, -c the command.
    // Ctrl+C outside raw mode signals the whole foreground group: the shell that script starts
    // must outlive the command, or the command's last words are lost (see viaTmux).
    const child = spawn('script', ['-qfec', `trap : INT; ${commandLine(argv, env)}`, '/dev/null'], {
      env: { ...env, SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    const advance = () => {
      const step = steps[next];
      if (!step || !step.waitFor.test(screen)) return;
      next++;
      step.then?.();
      child.stdin.write(step.keys);
      advance();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      advance();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out in the pseudo-terminal; the screen was:\n${screen}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ screen, code });
    });
  });
}

const TMUX_KEYS: Readonly<Record<string, string>> = { '\x03': 'C-c', '\x04': 'C-d', '\r': 'Enter' };

async function viaTmux(argv: readonly string[], env: Record<string, string>, steps: readonly PtyStep[], timeoutMs: number): Promise<PtyRun> {
  const dir = mkdtempSync(join(tmpdir(), 'wts-tmux-'));
  const exitFile = join(dir, 'exit');
  const socket = `wts-test-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  // The pane stays until we read it: the command's exit code goes to a file.
  // Ctrl+C outside raw mode signals the whole foreground group, this shell included: it must
  // outlive the command to write its exit code (a trap, unlike an ignore, is not inherited).
  const script = `trap : INT; ${commandLine(argv, env)}; echo $? > ${quote(exitFile)}; sleep 60`;
  const started = tmux('new-session', '-d', '-s', 'wts', '-x', '220', '-y', '60', `sh -c ${quote(script)}`);
  if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`);
  const capture = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'wts').stdout;
  const deadline = Date.now() + timeoutMs;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    for (const step of steps) {
      while (!step.waitFor.test(capture())) {
        if (existsSync(exitFile) || Date.now() > deadline) throw new Error(`the prompt never came; the screen was:\n${capture()}`);
        await sleep(50);
      }
      step.then?.();
      for (const part of step.keys.split(/([\x03\x04\r])/).filter(Boolean)) {
        const key = TMUX_KEYS[part];
        tmux('send-keys', '-t', 'wts', ...(key ? [key] : ['-l', part]));
      }
    }
    while (!existsSync(exitFile) || readFileSync(exitFile, 'utf8').trim() === '') {
      if (Date.now() > deadline) throw new Error(`timed out in tmux; the screen was:\n${capture()}`);
      await sleep(50);
    }
    return { screen: capture(), code: Number(readFileSync(exitFile, 'utf8').trim()) };
  } finally {
    tmux('kill-server');
  }
}
