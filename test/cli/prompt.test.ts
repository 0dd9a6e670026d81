/**
 * The [y/N] question, for real: the built command in a pseudo-terminal (util-linux `script`, or
 * tmux), keys typed at the prompt. Ctrl+C: "Cancelled; nothing was done.", exit 130; Ctrl+D:
 * the same words, exit 1; neither with a stack, neither with a logoff call.
 */
import { readFileSync } from 'node:fs';
import { simulate, binPath, type Bin } from './run';
import { exampleFarm } from '../helpers';
import { NO_PTY_REASON, ptyKinds, runInPty, type PtyKind } from './pty';

const kinds = ptyKinds();
if (kinds.length === 0) {
  console.log(`test/cli/prompt.test.ts ${NO_PTY_REASON}`);
}

const QUESTION = /\[y\/N\] /;

function calls(log: string): Array<{ api: string; sessionId?: number; processId?: number }> {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { api: string; sessionId?: number; processId?: number });
}

async function atPrompt(kind: PtyKind, bin: Bin, args: string[], keys: string) {
  const sim = simulate();
  const run = await runInPty(kind, [process.execPath, binPath(bin), ...args], { WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log }, [
    { waitFor: QUESTION, keys },
  ]);
  const ids = (JSON.parse(readFileSync(sim.path, 'utf8')) as { servers: Array<{ sessions: Array<{ id: number }> }> }).servers[0]!.sessions.map((s) => s.id);
  return { ...run, calls: calls(sim.log), ids };
}

(kinds.length === 0 ? describe.skip : describe).each(kinds.length === 0 ? ['none' as PtyKind] : kinds)('at the [y/N] question, in a pseudo-terminal (%s)', (kind) => {
  test('Ctrl+C: "Cancelled; nothing was done.", exit 130, no stack, no logoff call', async () => {
    const r = await atPrompt(kind, 'wts-logoff', ['/all'], '\x03');
    expect(r.screen).toMatch(/Log off 5 sessions on the local server: 3 \(CORP\\bob\)/);
    expect(r.screen).toMatch(/Cancelled; nothing was done\./);
    expect(r.screen).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(130);
    // The plan was made (enumerate, queries) but nothing was acted on.
    expect(r.calls.some((c) => c.api === 'enumerate')).toBe(true);
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    expect(r.ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 65536]);
  });

  test('Ctrl+D: the same words, exit 1, no logoff call', async () => {
    const r = await atPrompt(kind, 'wts-logoff', ['/all'], '\x04');
    expect(r.screen).toMatch(/Cancelled; nothing was done\./);
    expect(r.screen).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(1);
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });

  test('wts-disconnect /all: Ctrl+C is exit 130 and disconnects nobody', async () => {
    const r = await atPrompt(kind, 'wts-disconnect', ['/all'], '\x03');
    expect(r.screen).toMatch(/Cancelled; nothing was done\./);
    expect(r.code).toBe(130);
    expect(r.calls.filter((c) => c.api === 'disconnect')).toEqual([]);
  });

  test('n: "Nothing was done.", exit 1; y: the plan is carried out (the harness can tell them apart)', async () => {
    const no = await atPrompt(kind, 'wts-logoff', ['/all'], 'n\r');
    expect(no.screen).toMatch(/Nothing was done\./);
    expect(no.screen).not.toMatch(/Cancelled/);
    expect(no.code).toBe(1);
    expect(no.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    const yes = await atPrompt(kind, 'wts-logoff', ['/all'], 'y\r');
    expect(yes.screen).toMatch(/4 logged off, 4 skipped, 1 failed\./);
    expect(yes.code).toBe(1); // session 5: access denied
    expect(yes.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId).sort()).toEqual([3, 4, 5, 6, 7]);
    expect(yes.ids).toEqual([0, 1, 2, 5, 65536]);
  });
});

(kinds.length === 0 ? describe.skip : describe).each(kinds.length === 0 ? ['none' as PtyKind] : kinds)('wts-kill asks before ending more than one process (%s)', (kind) => {
  test('n: nothing ended, exit 1; y: the processes listed are ended; Ctrl+C: exit 130, nothing ended', async () => {
    const no = await atPrompt(kind, 'wts-kill', ['explorer', '/a'], 'n\r');
    expect(no.screen).toMatch(/End 2 processes on the local server: 3120 explorer\.exe \(session 1\), 5004 explorer\.exe \(session 2\)\?/);
    expect(no.screen).toMatch(/Unsaved work in these programs is lost\./);
    expect(no.code).toBe(1);
    expect(no.calls.filter((c) => c.api === 'terminate')).toEqual([]);
    const yes = await atPrompt(kind, 'wts-kill', ['explorer', '/a'], 'y\r');
    expect(yes.code).toBe(0);
    expect(yes.calls.filter((c) => c.api === 'terminate').map((c) => c.processId).sort()).toEqual([3120, 5004]);
    expect(yes.screen).toMatch(/2 ended, 0 skipped, 0 failed\./);
    const interrupted = await atPrompt(kind, 'wts-kill', ['explorer', '/a'], '\x03');
    expect(interrupted.code).toBe(130);
    expect(interrupted.screen).not.toMatch(/^\s+at /m);
    expect(interrupted.calls.filter((c) => c.api === 'terminate')).toEqual([]);
  });
});

(kinds.length === 0 ? describe.skip : describe).each(kinds.length === 0 ? ['none' as PtyKind] : kinds)('Ctrl+C while a bulk action runs, in a pseudo-terminal (%s)', (kind) => {
  test('no new request is started, what was done is reported, exit 130, no stack', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.latencyMs = 300; // every call takes 300 ms: time to press Ctrl+C mid-run
    const sim = simulate(farm);
    const r = await runInPty(kind, [process.execPath, binPath('wts-logoff'), '/all', '--yes'], { WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log }, [
      // The protected sessions are settled right after the enumeration: the run is under way.
      { waitFor: /sessions done/, keys: '\x03' },
    ]);
    const log = calls(sim.log);
    const sent = log.filter((c) => c.api === 'logoff').map((c) => c.sessionId);
    expect(r.screen).toMatch(/interrupted; no new action is started/);
    expect(r.screen).toMatch(/interrupted \(Ctrl\+C\): no new action was started after that\. \d+ logged off/);
    expect(r.screen).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(130);
    // Fewer logoffs than the 5 a full run sends, and each one sent is reported on the screen.
    expect(sent.length).toBeLessThan(5);
    for (const id of sent) expect(r.screen).toMatch(new RegExp(`(Logged off|Requested) session ${id} `));
  });
});

(kinds.length === 0 ? describe.skip : describe).each(kinds.length === 0 ? ['none' as PtyKind] : kinds)('Ctrl+C during a single logoff, in a pseudo-terminal (%s)', (kind) => {
  test('exit 130, no stack, and a logoff already sent is said to have been sent', async () => {
    const farm = exampleFarm();
    farm.servers[0]!.latencyMs = 300;
    const sim = simulate(farm);
    const r = await runInPty(kind, [process.execPath, binPath('wts-logoff'), '3', '/v'], { WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log }, [
      { waitFor: /Logging off session 3/, keys: '\x03' },
    ]);
    expect(r.code).toBe(130);
    expect(r.screen).toMatch(/interrupted \(Ctrl\+C\)/);
    expect(r.screen).not.toMatch(/^\s+at /m);
    const sent = calls(sim.log).some((c) => c.api === 'logoff');
    if (sent) expect(r.screen).toMatch(/WTSLogoffSession had already been sent/);
    else expect(r.screen).not.toMatch(/WTSLogoffSession had already been sent/);
  });
});
