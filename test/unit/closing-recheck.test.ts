/**
 * A session whose identity read, right before the request, answers 7007 (ERROR_CTX_CLOSE_PENDING):
 * it is already logging off (another admin's logoff, or an earlier run's still closing). Windows
 * answers a query on a closing session so (docs/windows-facts.md, logoff-closing: Cassia #36).
 * logoffAll counts it as logged off with no request of its own; disconnectAll and sendMessageAll
 * skip it as gone. Before, each reported it failed (a Win32Error 7007), and the command exited 1.
 */
import { createWts } from '../../src/index';
import { formatOutcome } from '../../src/cli/format';
import { logoffCalls } from '../helpers';
import { closingOnWf12 } from './closing-fixtures';

const outcomeOf = <T extends { session: { id: number } }>(outcomes: readonly T[], id: number): T | undefined => outcomes.find((o) => o.session.id === id);

describe('a session already logging off when its turn comes (7007 on the identity read)', () => {
  test('logoffAll with wait: loggedOff, alreadyClosing, confirmed once gone, no request of its own; the others as usual', async () => {
    const { mock, api } = await closingOnWf12(4);
    const outcomes = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 1, timeoutMs: 5000 });
    expect(outcomeOf(outcomes, 3)).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: true, requests: [] });
    expect(outcomeOf(outcomes, 2)).toMatchObject({ status: 'loggedOff', alreadyClosing: false, confirmed: true, requests: ['WTSLogoffSession'] });
    expect(logoffCalls(mock)).toEqual([3, 2]); // the other admin's, then ours for 2 only
    expect(mock.getSession('WF12', 3)).toBeUndefined();
  });

  test('logoffAll without wait: loggedOff, alreadyClosing, not confirmed, no request', async () => {
    const { mock, api } = await closingOnWf12(50);
    const outcomes = await createWts({ api }).logoffAll({ server: 'WF12', wait: false });
    expect(outcomeOf(outcomes, 3)).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: false, requests: [] });
    expect(logoffCalls(mock)).toEqual([3, 2]);
  });

  test('logoffAll, still there at the timeout: failed (LogoffTimeoutError), no request listed', async () => {
    const { api } = await closingOnWf12(1_000_000);
    const outcomes = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 5, timeoutMs: 150 });
    expect(outcomeOf(outcomes, 3)).toMatchObject({ status: 'failed', error: { code: 'E_TIMEOUT' }, requests: [] });
  });

  test('logoffAll aborted while it waits: logged off, not confirmed (no request to report as requested)', async () => {
    const { api } = await closingOnWf12(1_000_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const outcomes = await createWts({ api }).logoffAll({ server: 'WF12', pollIntervalMs: 5, timeoutMs: 60_000, signal: controller.signal });
    expect(outcomeOf(outcomes, 3)).toMatchObject({ status: 'loggedOff', alreadyClosing: true, confirmed: false, requests: [] });
    expect(outcomeOf(outcomes, 2)).toMatchObject({ status: 'requested', requests: ['WTSLogoffSession'] });
  });

  test('disconnectAll and sendMessageAll skip it as gone (it is logging off), not failed', async () => {
    const { mock, api } = await closingOnWf12(50, 2); // frank, Active
    const wts = createWts({ api });
    const disconnected = await wts.disconnectAll({ server: 'WF12', wait: false });
    expect(outcomeOf(disconnected, 2)).toMatchObject({ status: 'skipped', reason: 'gone', message: expect.stringMatching(/already logging off/), requests: [] });
    const sent = await wts.sendMessageAll({ server: 'WF12', text: 'hi' });
    expect(outcomeOf(sent, 2)).toMatchObject({ status: 'skipped', reason: 'gone', requests: [] });
    expect(mock.calls.filter((c) => (c.api === 'disconnect' || c.api === 'message') && c.sessionId === 2)).toEqual([]);
  });
});

describe("the commands' report line", () => {
  test('says it was already closing, and not that anything was requested', async () => {
    const { api } = await closingOnWf12(50);
    const [waited] = (await createWts({ api }).logoffAll({ server: 'WF12', wait: false })).filter((o) => o.session.id === 3);
    expect(formatOutcome(waited!)).toBe('Logged off session 3 (CORP\\grace, Disconnected) on WF12 (it was already closing; not seen to close).');
  });
});
