/**
 * `wts-query session --watch` as real processes on one simulated farm file: the watcher prints the
 * logoff another process makes, one JSON line per event; Ctrl+C ends it (130), a closed output
 * ends it (0); never a stack. Every wait is for something the watcher did (its call log, its
 * output), never a fixed sleep.
 */
import { binPath, simulate } from './run';
import { waiting, watch } from './watcher';
import { NO_PTY_REASON, ptyKinds, runInPty } from './pty';
import { spawnSync } from 'node:child_process';

const STACK = /^\s+at .+:\d+:\d+\)?$/m;


describe('wts-query session --watch (JSON lines)', () => {
  test('prints the logoff another process makes; Ctrl+C ends it with 130 and no stack', async () => {
    const sim = simulate();
    const w = watch(sim, ['session', '--watch']);
    try {
      await waiting(sim);
      const logoff = sim.run('wts-logoff', ['4']);
      expect(logoff.code).toBe(0);
      await w.until(/"type":"logoff"/);
      const lines = w.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({
          schema: 1,
          type: 'logoff',
          server: '',
          gone: true,
          session: expect.objectContaining({ id: 4, userName: 'carol' }),
          before: expect.objectContaining({ id: 4 }),
          at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        }),
      ]);
      const disc = sim.run('wts-disconnect', ['5']);
      expect(disc.code).toBe(0);
      await w.until(/"type":"disconnect"/);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exit).toBe(130);
    expect(w.stderr()).not.toMatch(STACK);
  });

  test('user --watch --json with a filter prints only that user\'s events, with times', async () => {
    const sim = simulate();
    const w = watch(sim, ['user', 'erin', '--watch', '--json']);
    try {
      await waiting(sim);
      expect(sim.run('wts-logoff', ['4']).code).toBe(0); // carol: filtered out
      const five = sim.run('wts-logoff', ['7']);
      expect(five.stderr).toBe('');
      expect(five.code).toBe(0); // erin
      await w.until(/"type":"logoff"/);
      const lines = w.stdout().trim().split('\n').map((l) => JSON.parse(l) as { type: string; session: { id: number; details: Record<string, unknown> } });
      expect(lines.map((l) => [l.type, l.session.id])).toEqual([['logoff', 7]]);
      expect(lines[0]!.session.details).toHaveProperty('logonTime');
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exit).toBe(130);
  });

  test('a closed output ends it with 0 at the first event', async () => {
    const sim = simulate();
    const w = watch(sim, ['session', '--watch']);
    w.child.stdout.destroy();
    await waiting(sim);
    expect(sim.run('wts-logoff', ['4']).code).toBe(0);
    expect(await w.exit).toBe(0);
    expect(w.stderr()).toBe('');
  });

  test('--watch with process is a usage error, nothing called', () => {
    const r = simulate().run('wts-query', ['process', '--watch']);
    expect(r.code).toBe(2);
    expect(r.log).toEqual([]);
  });
});

const kinds = ptyKinds();
const inPty = kinds.length > 0 ? test : test.skip;

describe(kinds.length > 0 ? 'wts-query session --watch on a terminal' : `wts-query session --watch on a terminal (${NO_PTY_REASON})`, () => {
  inPty('a live table redrawn in place, the change listed; Ctrl+C exits 130', async () => {
    const sim = simulate();
    const env = { WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log, NO_COLOR: '1' };
    const run = await runInPty(kinds[0]!, [process.execPath, binPath('wts-query'), 'session', '--watch'], env, [
      {
        waitFor: /none yet/,
        then: () => {
          const r = spawnSync(process.execPath, [binPath('wts-logoff'), '4'], { env: { ...process.env, ...env }, encoding: 'utf8' });
          if (r.status !== 0) throw new Error(r.stderr);
        },
        keys: '',
      },
      { waitFor: /logoff\s+session 4/, keys: '\x03' },
    ]);
    expect(run.code).toBe(130);
    expect(run.screen).toMatch(/\x1b\[\d+A/); // the cursor went back up to redraw
    expect(run.screen).toMatch(/carol/);
    expect(run.screen).not.toMatch(/\x1b\[7m/); // NO_COLOR: no inverse video
    expect(run.screen).not.toMatch(STACK);
  });
});
