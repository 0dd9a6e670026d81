/**
 * The progress line: only for a person at a real terminal (not TERM=dumb, not under CI, not with
 * --no-progress, never under --json), only on stderr, redrawn at most every 100 ms with the
 * latest state always drawn.
 */
import { Writable } from 'node:stream';
import { Wts } from '../../src/api/wts';
import { ciFromEnv, processIo, progressFromEnv, type CliIo } from '../../src/cli/common';
import { logoffMain } from '../../src/cli/logoff';
import { PROGRESS_INTERVAL_MS, Progress, type ProgressClock } from '../../src/cli/shared';
import { createMockApi } from '../../src/mock';
import { exampleFarm } from '../helpers';

/** A clock the test moves, and the timers it would fire. */
function fakeClock(): ProgressClock & { advance(ms: number): void; pending(): number } {
  let now = 1_000_000;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers = timers.filter((x) => x !== t);
        t.fn();
      }
    },
    pending: () => timers.length,
  };
}

const result = (status = 'loggedOff') => ({ type: 'result' as const, server: 'A', result: { status } });

describe('Progress: throttled, the latest state always drawn', () => {
  test('the first event draws at once; events within the interval wait for one redraw', () => {
    const clock = fakeClock();
    const written: string[] = [];
    const p = new Progress((t) => written.push(t), true, 2, 'sessions done', clock);
    p.onEvent(result());
    expect(written).toEqual(['\r\x1b[K0/2 servers, 1 sessions done']);
    for (let i = 0; i < 50; i++) {
      clock.advance(1);
      p.onEvent(result());
    }
    expect(written).toHaveLength(1); // 50 events in 50 ms: nothing drawn yet
    clock.advance(PROGRESS_INTERVAL_MS - 50);
    expect(written).toEqual(['\r\x1b[K0/2 servers, 1 sessions done', '\r\x1b[K0/2 servers, 51 sessions done']); // the timer drew the latest
    expect(clock.pending()).toBe(0);
  });

  test('at most one drawing per interval, whatever the rate of events', () => {
    const clock = fakeClock();
    const times: number[] = [];
    const p = new Progress(() => times.push(clock.now()), true, 1, 'sessions done', clock);
    for (let i = 0; i < 2000; i++) {
      p.onEvent(result(i % 7 === 0 ? 'failed' : 'loggedOff'));
      clock.advance(1);
    }
    expect(times.length).toBeGreaterThanOrEqual(19);
    expect(times.length).toBeLessThanOrEqual(21);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_MS);
  });

  test('done(): the final state is drawn (even inside the interval), then the line is cleared; no timer is left', () => {
    const clock = fakeClock();
    const written: string[] = [];
    const p = new Progress((t) => written.push(t), true, 1, 'sessions done', clock);
    p.onEvent(result());
    clock.advance(10);
    p.onEvent(result('failed'));
    p.onEvent({ type: 'serverDone', server: 'A', count: 2 });
    p.done();
    expect(written).toEqual(['\r\x1b[K0/1 servers, 1 sessions done', '\r\x1b[K1/1 servers, 2 sessions done, 1 failed', '\r\x1b[K']);
    expect(clock.pending()).toBe(0);
    // Nothing pending: done() only clears.
    const q: string[] = [];
    const quiet = new Progress((t) => q.push(t), true, 1, 'x', fakeClock());
    quiet.onEvent(result());
    quiet.done();
    expect(q).toEqual(['\r\x1b[K0/1 servers, 1 x', '\r\x1b[K']);
  });

  test('disabled: nothing is ever written and no timer set', () => {
    const clock = fakeClock();
    const written: string[] = [];
    const p = new Progress((t) => written.push(t), false, 1, 'x', clock);
    for (let i = 0; i < 10; i++) p.onEvent(result());
    p.done();
    expect([written, clock.pending()]).toEqual([[], 0]);
  });
});

describe('when a progress line may be drawn', () => {
  test.each([
    [{}, true],
    [{ TERM: 'xterm-256color' }, true],
    [{ TERM: 'dumb' }, false],
    [{ TERM: 'DUMB ' }, false],
    [{ CI: 'true' }, false],
    [{ CI: '1' }, false],
    [{ CI: 'woodpecker' }, false],
    [{ CI: '' }, true],
    [{ CI: 'false' }, true],
    [{ CI: 'FALSE' }, true],
    [{ CI: '0' }, true],
  ] as Array<[NodeJS.ProcessEnv, boolean]>)('env %j: %s', (env, allowed) => {
    expect(progressFromEnv(env)).toBe(allowed);
    const tty = () => Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: true });
    expect(processIo({ stdout: tty(), stderr: tty() }, env).progress).toBe(allowed);
    // Never without a terminal on stderr, whatever the environment says.
    expect(processIo({ stdout: tty(), stderr: new Writable({ write: (_c, _e, cb) => cb() }) }, env).progress).toBe(false);
  });

  test('CI detection: set and not empty, false or 0', () => {
    expect([ciFromEnv({}), ciFromEnv({ CI: 'true' }), ciFromEnv({ CI: ' 0 ' }), ciFromEnv({ CI: 'no' })]).toEqual([false, true, false, true]);
  });

  test('TERM=dumb: no live redraw for --watch either (it prints JSON lines there)', () => {
    const tty = () => Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: true, columns: 80 });
    expect(processIo({ stdout: tty(), stderr: tty() }, { TERM: 'dumb' }).outputIsTerminal).toBe(false);
    expect(processIo({ stdout: tty(), stderr: tty() }, { TERM: 'xterm' }).outputIsTerminal).toBe(true);
  });
});

describe('a bulk run draws its progress on stderr only, and not when told not to', () => {
  const run = async (args: string[], progress = true) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, progress, confirm: async () => false };
    const farm = exampleFarm();
    const code = await logoffMain(['/all', '--yes', ...args], io, { wts: () => new Wts(createMockApi(farm)) });
    return { code, out: out.join(''), err: err.join('') };
  };
  const PROGRESS = /servers, \d+ sessions done/;

  test('on a terminal: on stderr, never on stdout', async () => {
    const r = await run([]);
    expect(r.err).toMatch(PROGRESS);
    expect(r.err).toMatch(/\r\x1b\[K$/m); // cleared before the report
    expect(r.out).not.toMatch(PROGRESS);
    expect(r.out).not.toMatch(/\r|\x1b/);
  });

  test.each([[['--no-progress']], [['--json']], [['--no-progress', '--json']]])('%j: none', async (args) => {
    const r = await run(args);
    expect(r.err).not.toMatch(PROGRESS);
    expect(r.err).not.toMatch(/\x1b/);
    expect(r.out).not.toMatch(PROGRESS);
  });

  test('not allowed by the I/O (TERM=dumb, CI, no terminal): none', async () => {
    const r = await run([], false);
    expect(r.err).not.toMatch(PROGRESS);
  });
});
