/**
 * A bulk command in text mode writes its report when the run is over. When that report is what
 * finds the output closed (`| head -1` left after the first line), the summary goes to stderr and
 * the exit code is 1: the report was lost. The exit code used to be decided before the report was
 * written, so such a run exited 0.
 */
import { logoffMain } from '../../src/cli/logoff';
import { msgMain } from '../../src/cli/msg';
import { disconnectMain } from '../../src/cli/disconnect';
import { killMain } from '../../src/cli/kill';
import type { CliIo } from '../../src/cli/common';
import { Wts } from '../../src/api/wts';
import { createMockApi } from '../../src/mock';
import { exampleFarm } from '../helpers';
import { fakeConsole } from './run';

/** Standard output that accepts `lines` writes, then is closed (EPIPE), as processIo reports it. */
function closingAfter(lines: number): ReturnType<typeof fakeConsole> {
  const closed = new AbortController();
  const written: string[] = [];
  const c = fakeConsole({
    outputClosed: closed.signal,
    out: (t) => {
      if (closed.signal.aborted) return;
      if (written.length >= lines) closed.abort(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      else written.push(t);
    },
  });
  return { ...c, out: written };
}

/** The example farm without its injected faults: every run would end well (exit 0) if its report were read. */
function cleanFarm() {
  const farm = exampleFarm();
  for (const s of farm.servers) delete s.faults;
  return farm;
}

describe('the text report finds the output closed', () => {
  test.each([0, 1, 3])('wts-logoff /all --yes, output closed after %i lines: summary on stderr, exit 1', async (lines) => {
    const mock = createMockApi(cleanFarm());
    const c = closingAfter(lines);
    const code = await logoffMain(['/all', '--yes', '--no-wait'], c.io, { wts: () => new Wts(mock) });
    expect(code).toBe(1);
    expect(c.out).toHaveLength(lines);
    // Text mode writes its report at the end: the run was not stopped, only its report lost.
    expect(c.err.join('')).toMatch(/the output was closed, so the report was not written there\. \d+ logged off/);
  });

  test('the whole report written: exit as before (0)', async () => {
    const c = closingAfter(1000);
    const code = await logoffMain(['/all', '--yes', '--no-wait'], c.io, { wts: () => new Wts(createMockApi(cleanFarm())) });
    expect([code, c.err.join('')]).toEqual([0, '']);
  });

  test("wts-msg '*' hello, output closed after 1 line: exit 1, summary on stderr", async () => {
    const c = closingAfter(1);
    const code = await msgMain(['*', 'hello'], c.io, undefined, { wts: () => new Wts(createMockApi(cleanFarm())) });
    expect(code).toBe(1);
    expect(c.err.join('')).toMatch(/the output was closed/);
  });

  test.each([
    ['wts-logoff 4 --json', (io: CliIo, wts: () => Wts) => logoffMain(['4', '--json', '--no-wait'], io, { wts })],
    ['wts-disconnect 3 --json', (io: CliIo, wts: () => Wts) => disconnectMain(['3', '--json'], io, { wts })],
    ['wts-msg 3 hi --json', (io: CliIo, wts: () => Wts) => msgMain(['3', 'hi', '--json'], io, undefined, { wts })],
    ['wts-kill 6100 (text)', (io: CliIo, wts: () => Wts) => killMain(['6100'], io, { wts })],
    ['wts-kill 6100 --json', (io: CliIo, wts: () => Wts) => killMain(['6100', '--json'], io, { wts })],
  ] as const)('%s with its output closed: done, said on stderr, exit 1 (not 0)', async (_what, run) => {
    const farm = cleanFarm();
    farm.servers[0]!.sessions!.find((s) => s.id === 3)!.processes = [{ pid: 6100, name: 'excel.exe' }];
    const mock = createMockApi(farm);
    const c = closingAfter(0);
    const code = await run(c.io, () => new Wts(mock));
    expect(code).toBe(1);
    expect(c.err.join('')).toMatch(/the output was closed, so this was not reported there: \S/);
    expect(mock.calls.filter((x) => ['logoff', 'disconnect', 'message', 'terminate'].includes(x.api)).length).toBe(1);
  });
});
