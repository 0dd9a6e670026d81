/**
 * Adversarial tests (round 2) of `wts-query session --watch` (src/cli/watch.ts): the live table,
 * driven in-process through queryMain with a fake terminal (its size readable and changeable, as
 * Node's stdout.columns / rows are), so that every drawing can be inspected. Each test outside the
 * GUARD block failed on the code before its fix; each quotes the promise it checks. Every wait is bounded.
 * One test runs a real command on a simulated farm whose lock cannot be read (killed after 13 s).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createWts } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { queryMain } from '../../src/cli/query';
import { exampleFarm } from '../helpers';
import { binPath, simulate } from './run';

const ESC = '\x1b[';

/** A live watch on a fake terminal of `size` (mutable: a resize). `drawings` are the writes to stdout. */
function live(args: string[], size: { columns: number; rows: number }, color = false, farm = exampleFarm()) {
  const mock = createMockApi(farm);
  const drawings: string[] = [];
  const err: string[] = [];
  let interrupt: (() => void) | undefined;
  let drawn: () => void = () => {};
  const io = {
    out: (t: string) => {
      drawings.push(t);
      drawn();
    },
    err: (t: string) => void err.push(t),
    interactive: false,
    progress: false,
    outputIsTerminal: true,
    get columns() {
      return size.columns;
    },
    get rows() {
      return size.rows;
    },
    color,
    confirm: async () => false,
    onInterrupt: (h: () => void) => {
      interrupt = h;
      return () => {};
    },
  };
  const done = queryMain(args, io, { wts: () => createWts({ api: mock }) });
  /** Resolves at the next drawing (or fails after 3 s). */
  const nextDrawing = () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no drawing within 3 s; stderr: ${err.join('')}`)), 3000);
      drawn = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const waitReady = async () => {
    const deadline = Date.now() + 3000;
    while (mock.pendingWaitCount === 0 || drawings.length === 0) {
      if (Date.now() > deadline) throw new Error('the watch never waited');
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return {
    mock,
    drawings,
    err,
    nextDrawing,
    waitReady,
    async stop(): Promise<number> {
      interrupt?.();
      return done;
    },
  };
}

/** The lines a drawing puts on the screen (the cursor movement before it left out). */
function screenLines(drawing: string): string[] {
  return drawing.replace(/^(\x1b\[\d+A\r|\x1b\[H\x1b\[2J)?\x1b\[J/, '').replace(/\n$/, '').split('\n');
}

describe('the drawing fits the terminal', () => {
  // docs/wts-query.md (watch): "redrawn in place (the cursor moves back up; nothing scrolls) ...
  // The drawing fits the terminal: lines are cut to its width, and when the tables are taller than
  // it, their last lines give way to `... N more lines (a taller terminal shows them)`."
  // Brief: "a drawing taller than the terminal is cut to fit".
  // Observed: only the tables give way; the "Last changes" list under them (up to 8 lines + 2) is
  // never cut, so on a 10-row terminal (a tmux split) a drawing is 11 lines: each redraw scrolls
  // (src/cli/watch.ts #draw: room = max(0, height - 1 - tail.length - 1), then the tail is appended whole).
  test('a 10-row terminal, 8 changes (the 8 last changes listed): every drawing is at most 9 lines (the cursor row below it)', async () => {
    const w = live(['session', '--watch'], { columns: 100, rows: 10 });
    try {
      await w.waitReady();
      for (const id of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const drawn = w.nextDrawing();
        w.mock.putSession('TS01', { id: 100 + id, name: `RDP-Tcp#${100 + id}`, state: 'Active', user: `u${id}`, domain: 'CORP' });
        await drawn;
      }
      const heights = w.drawings.map((d) => screenLines(d).length);
      expect(heights.filter((h) => h > 9)).toEqual([]);
    } finally {
      expect(await w.stop()).toBe(130);
    }
  });
});

describe('a resize clears the screen once', () => {
  // docs/wts-query.md (watch): "After the window is resized, the next drawing clears the screen
  // and starts at its top (the old drawing has reflowed)." Brief: "after a window resize the next
  // drawing clears the screen once".
  // Observed: only a change of WIDTH is noticed (src/cli/watch.ts: resized = width !== #drawnWidth);
  // after the window is made shorter (same width) the next drawing moves the cursor up by the old
  // drawing's height instead (ESC[nA), past the top of the now shorter screen.
  test('a window made shorter (same width): the next drawing starts with ESC[H ESC[2J', async () => {
    const size = { columns: 100, rows: 40 };
    const w = live(['session', '--watch'], size);
    try {
      await w.waitReady();
      size.rows = 8; // the window is resized
      const drawn = w.nextDrawing();
      w.mock.putSession('TS01', { id: 101, name: 'RDP-Tcp#101', state: 'Active', user: 'u1', domain: 'CORP' });
      await drawn;
      const last = w.drawings[w.drawings.length - 1]!;
      expect(last.startsWith(`${ESC}H${ESC}2J`)).toBe(true);
    } finally {
      expect(await w.stop()).toBe(130);
    }
  });
});

describe('the farm\'s lock cannot be read', () => {
  // Project rules (brief): "a command never ends in a stack trace; bad input gets a clear error".
  // docs/mock.md / src/backends/mock/file.ts lockFarm: a writer waits "up to waitMs (LOCK_WAIT_MS,
  // 10 s) for another writer" and then gives up with ELOCKED; the command says E_SIMULATED_FARM.
  // Observed: when `<farm>.lock` exists but cannot be read (here a directory; for an ordinary user,
  // another user's 0600 lock file: EACCES), lockFarm's `if (held === undefined) continue;
  // // released meanwhile` skips the deadline check: the command spins at 100% CPU for ever, its
  // event loop blocked (Ctrl+C cannot end it). Killed after 13 s here.
  test('wts-logoff 4 --no-wait --json with an unreadable <farm>.lock: ends within 13 s, exit 1, an E_SIMULATED_FARM document', async () => {
    const sim = simulate();
    mkdirSync(`${sim.path}.lock`);
    const child = spawn(process.execPath, [binPath('wts-logoff'), '4', '--no-wait', '--json'], {
      env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 13_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 1, signal: null }); // observed: { code: null, signal: 'SIGKILL' }
    const last = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', exitCode: 1, error: { code: 'E_SIMULATED_FARM' } });
  }, 20_000);
});

describe('GUARD (passes today): the NO_COLOR mark', () => {
  // Brief: "with NO_COLOR the changed row ends with `  *` even when cut to the terminal's width".
  test('NO_COLOR: the changed row ends with `  *` at any width', async () => {
    const bad: string[] = [];
    for (const columns of [5, 6, 8, 10, 15, 20, 30, 40, 60, 80]) {
      const w = live(['session', '--watch'], { columns, rows: 60 });
      try {
        await w.waitReady();
        const drawn = w.nextDrawing();
        w.mock.putSession('TS01', { id: 101, name: 'RDP-Tcp#101', state: 'Active', user: '山田太郎山田太郎', domain: 'CORP' });
        await drawn;
        const last = screenLines(w.drawings[w.drawings.length - 1]!);
        const marked = last.filter((l) => l.endsWith('  *'));
        if (marked.length !== 1) bad.push(`${columns}: ${JSON.stringify(last)}`);
      } finally {
        await w.stop();
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('the live table over several servers', () => {
  // Noticed in review: the servers were drawn in the order their first listing arrived, so a slow
  // server first in /servers: was drawn last, and the order could change from run to run.
  test('the servers are drawn in the order given in /servers:, whatever order their listings arrive in', async () => {
    const farm = exampleFarm();
    farm.servers.find((s) => s.name === 'WF13')!.latencyMs = 60;
    farm.servers.find((s) => s.name === 'WF12')!.latencyMs = 30;
    const w = live(['session', '--watch', '/servers:WF13,WF12,TS01'], { columns: 120, rows: 80 }, false, farm);
    try {
      const deadline = Date.now() + 3000;
      const headers = () => screenLines(w.drawings[w.drawings.length - 1] ?? '').filter((l) => /^(TS01|WF12|WF13):$/.test(l));
      while (headers().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(headers()).toEqual(['WF13:', 'WF12:', 'TS01:']);
    } finally {
      await w.stop();
    }
  });
});
