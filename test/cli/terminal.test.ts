/**
 * The built commands in a pseudo-terminal: the progress line is drawn on a terminal, and none
 * with TERM=dumb, under CI, or with --no-progress; Ctrl+C during a --json bulk run still ends the
 * output with its summary document.
 */
import { exampleFarm } from '../helpers';
import { binPath, simulate } from './run';
import { NO_PTY_REASON, ptyKinds, runInPty } from './pty';

const kinds = ptyKinds();
const inPty = kinds.length > 0 ? test : test.skip;
// The progress line is drawn and then erased: only `script` shows the bytes written; tmux shows
// the screen as it ends up, where an erased line is gone.
const raw = kinds.includes('script');
const inRawPty = raw ? test : test.skip;
const NO_RAW_REASON = kinds.length > 0 ? 'skipped: only tmux is here, and it shows the final screen, not the erased progress line (install bsdutils for `script`)' : NO_PTY_REASON;
const PROGRESS = /\d+\/1 servers, \d+ sessions checked/;

describe(raw ? 'the progress line in a pseudo-terminal' : `the progress line in a pseudo-terminal (${NO_RAW_REASON})`, () => {
  const run = async (env: Record<string, string>, args: string[] = []) => {
    const sim = simulate();
    return runInPty('script', [process.execPath, binPath('wts-logoff'), '/all', '--dry-run', ...args], { WTS_SESSION_SIMULATE: sim.path, ...env }, []);
  };

  inRawPty('drawn on a terminal (TERM=xterm), then cleared before the report', async () => {
    const r = await run({ TERM: 'xterm' });
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(PROGRESS);
    expect(r.screen).toMatch(/\r\x1b\[K/);
    expect(r.screen).toMatch(/5 would be logged off, 4 skipped\./);
  });

  inRawPty.each([
    ['TERM=dumb', { TERM: 'dumb' }, []],
    ['CI=true', { CI: 'true' }, []],
    ['CI=1', { CI: '1' }, []],
    ['--no-progress', {}, ['--no-progress']],
  ] as Array<[string, Record<string, string>, string[]]>)('none with %s; the report is the same', async (_what, env, args) => {
    const r = await run(env, args);
    expect(r.code).toBe(0);
    expect(r.screen).not.toMatch(PROGRESS);
    expect(r.screen).not.toMatch(/\x1b\[K/);
    expect(r.screen).toMatch(/5 would be logged off, 4 skipped\./);
  });

  inRawPty('CI=false is no CI: drawn', async () => {
    expect((await run({ CI: 'false' })).screen).toMatch(PROGRESS);
  });
});

describe(kinds.length > 0 ? 'Ctrl+C during a --json bulk run' : `Ctrl+C during a --json bulk run (${NO_PTY_REASON})`, () => {
  inPty('the JSON lines end with a summary: interrupted, exit 130 — as the process exits', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.latencyMs = 300;
    const sim = simulate(farm);
    const r = await runInPty(kinds[0]!, [process.execPath, binPath('wts-logoff'), '/all', '--yes', '--json'], { WTS_SESSION_SIMULATE: sim.path }, [
      { waitFor: /"type":"outcome"/, keys: '\x03' },
    ]);
    expect(r.code).toBe(130);
    const docs = r.screen.split(/\r?\n/).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; interrupted?: boolean; exitCode?: number });
    expect(docs.length).toBeGreaterThan(1);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'summary', interrupted: true, exitCode: 130 });
    expect(docs.slice(0, -1).every((d) => d.type === 'outcome' || d.type === 'serverFailed')).toBe(true);
    expect(r.screen).toMatch(/interrupted \(Ctrl\+C\)/); // and the words on stderr
  });
});
