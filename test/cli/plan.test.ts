/**
 * The commands act on exactly the plan that was confirmed: the command's main function, in this
 * process, with the mock handed in (as any user of the library would) and a person who answers
 * `y` while the farm changes under the question — a new logon, and a session ID reused by a new
 * logon of the same user.
 */
import { disconnectMain } from '../../src/cli/disconnect';
import { logoffMain } from '../../src/cli/logoff';
import type { Answer, CliIo } from '../../src/cli/common';
import { Wts } from '../../src/api/wts';
import { createMockApi, type MockApi } from '../../src/mock';
import { exampleFarm } from '../helpers';

interface Console {
  io: CliIo;
  out: string[];
  err: string[];
  questions: string[];
}

/** A terminal whose person gives `answer` after `meanwhile` has changed the farm. */
function terminal(answer: Answer, meanwhile: () => void = () => {}): Console {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  return {
    out,
    err,
    questions,
    io: {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      interactive: true,
      progress: false,
      confirm: async (q) => {
        questions.push(q);
        meanwhile();
        return answer;
      },
    },
  };
}

/** While the question is on screen: carol (4) logs off and logs on again, reusing ID 4; mallory logs on as 8. */
function changeUnderTheQuestion(mock: MockApi): () => void {
  return () => {
    mock.putSession('TS01', { id: 4, name: 'RDP-Tcp#1', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T10:00:00Z' });
    mock.putSession('TS01', { id: 8, name: 'RDP-Tcp#4', state: 'Active', user: 'mallory', domain: 'CORP', logonTime: '2026-11-21T10:01:00Z' });
  };
}

const acted = (mock: MockApi, api: string) => mock.calls.filter((c) => c.api === api).map((c) => c.sessionId).sort();
const lines = (c: Console) => c.out.join('').trimEnd().split('\n');

describe('the confirmed plan, and nothing else', () => {
  test('wts-logoff /all: a session that appeared during the question is left alone and reported; a reused ID is not logged off', async () => {
    const mock = createMockApi(exampleFarm());
    const c = terminal('yes', changeUnderTheQuestion(mock));
    const code = await logoffMain(['/all'], c.io, { wts: () => new Wts(mock) });
    expect(c.questions[0]).toMatch(/^Log off 5 sessions on the local server: 3 \(CORP\\bob\), 4 \(RDP-Tcp#1, CORP\\carol\), 5 .*, 6 .*, 7 .*\?/);
    expect(c.questions[0]).not.toMatch(/mallory/);
    // 3, 6, 7 logged off; 5 refused by the server; 4 and 8 never asked for.
    expect(acted(mock, 'logoff')).toEqual([3, 5, 6, 7]);
    expect(mock.getSession('TS01', 4)).toBeDefined();
    expect(mock.getSession('TS01', 8)).toBeDefined();
    const report = lines(c);
    expect(report).toContain('Skipped session 8 (RDP-Tcp#4, CORP\\mallory, Active): not in the confirmed plan.');
    expect(report.find((l) => l.startsWith('Skipped session 4 '))).toMatch(/changed/);
    // The summary counts both as skipped: Services, console, yours, listener, 4 and 8.
    expect(report[report.length - 1]).toBe('3 logged off, 6 skipped, 1 failed.');
    expect(code).toBe(1);
  });

  test('wts-logoff /all --warn: only the planned sessions are warned, and only they are logged off', async () => {
    const mock = createMockApi(exampleFarm());
    const c = terminal('yes', changeUnderTheQuestion(mock));
    const code = await logoffMain(['/all', '--state', 'Active', '--warn', 'Save your work', '--grace', '0'], c.io, { wts: () => new Wts(mock) });
    expect(c.questions[0]).toMatch(/^Log off 3 sessions .*: 4 .*, 5 .*, 7 .*\?\nEach user is warned first/);
    expect(acted(mock, 'message')).toEqual([5, 7]);
    expect(acted(mock, 'logoff')).toEqual([5, 7]);
    expect(lines(c)).toContain('Skipped session 8 (RDP-Tcp#4, CORP\\mallory, Active): not in the confirmed plan.');
    expect(code).toBe(1); // 5: access denied
  });

  test('wts-disconnect /all: the same for disconnecting', async () => {
    const mock = createMockApi(exampleFarm());
    const c = terminal('yes', changeUnderTheQuestion(mock));
    const code = await disconnectMain(['/all', '--state', 'Active'], c.io, { wts: () => new Wts(mock) });
    expect(acted(mock, 'disconnect')).toEqual([5, 7]);
    expect(mock.getSession('TS01', 8)).toMatchObject({ state: 'Active' });
    expect(mock.getSession('TS01', 4)).toMatchObject({ state: 'Active' });
    expect(lines(c)).toContain('Skipped session 8 (RDP-Tcp#4, CORP\\mallory, Active): not in the confirmed plan.');
    expect(code).toBe(0);
  });

  test('--yes (nothing shown, nothing confirmed) acts on its one enumeration: the new session is included', async () => {
    const mock = createMockApi(exampleFarm());
    changeUnderTheQuestion(mock)();
    const c = terminal('no');
    await logoffMain(['/all', '--yes'], c.io, { wts: () => new Wts(mock) });
    expect(c.questions).toEqual([]);
    expect(acted(mock, 'logoff')).toEqual([3, 4, 5, 6, 7, 8]);
  });

  test.each([
    ['interrupted', 130],
    ['eof', 1],
    ['no', 1],
  ] as Array<[Answer, number]>)('answer %s: exit %d, nothing acted on', async (answer, exit) => {
    const mock = createMockApi(exampleFarm());
    const c = terminal(answer);
    const code = await logoffMain(['/all'], c.io, { wts: () => new Wts(mock) });
    expect(code).toBe(exit);
    expect(c.err.join('')).toBe(answer === 'no' ? 'Nothing was done.\n' : 'Cancelled; nothing was done.\n');
    expect(acted(mock, 'logoff')).toEqual([]);
  });
});
