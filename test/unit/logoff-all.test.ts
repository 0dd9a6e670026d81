import { InvalidArgumentError, LogoffTimeoutError, Win32Error, type LogoffOutcome } from '../../src/index';
import { exampleFarm, logoffCalls, rejection, setup } from '../helpers';

function byId(outcomes: readonly LogoffOutcome[]): Record<number, string> {
  return Object.fromEntries(
    outcomes.map((o) => [o.session.id, o.status === 'skipped' ? `skipped:${o.reason}` : o.status === 'failed' ? `failed:${o.error.code}` : o.status]),
  );
}

describe('logoffAll', () => {
  test('everyone but console, services, listeners and you; one outcome per session', async () => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ pollIntervalMs: 1 });
    expect(byId(outcomes)).toEqual({
      0: 'skipped:services',
      1: 'skipped:console',
      2: 'skipped:current',
      3: 'loggedOff',
      4: 'loggedOff',
      5: 'failed:E_WIN32', // the farm denies logoff of session 5 (error 5)
      6: 'loggedOff',
      7: 'loggedOff',
      65536: 'skipped:listener',
    });
    expect(logoffCalls(mock).sort()).toEqual([3, 4, 5, 6, 7]);
    const failed = outcomes.find((o) => o.session.id === 5);
    expect(failed?.status === 'failed' && failed.error).toBeInstanceOf(Win32Error);
    expect(failed?.status === 'failed' && failed.error.message).toMatch(/^Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5\nError \[5\]: Access is denied\.$/);
    for (const id of [3, 4, 6, 7]) expect(mock.getSession('TS01', id)).toBeUndefined();
    expect(mock.getSession('TS01', 5)).toBeDefined();
  });

  test('the KB 259436 failure mode: the console is skipped, not a reason to stop', async () => {
    const farm = exampleFarm();
    // Put the console in the middle of the list: the batch file's loop breaks on it.
    farm.servers[0]!.sessions!.sort((a, b) => (a.name === 'Console' ? 1 : b.name === 'Console' ? -1 : 0));
    const { mock, wts } = setup(farm);
    await wts.logoffAll({ pollIntervalMs: 1 });
    expect(logoffCalls(mock).sort()).toEqual([3, 4, 5, 6, 7]);
  });

  test('dryRun makes no logoff call and reports the plan', async () => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ dryRun: true });
    expect(outcomes.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id)).toEqual([3, 4, 5, 6, 7]);
    expect(logoffCalls(mock)).toEqual([]);
    // A dry run reads each planned session's identity (WTSSessionInfo), and does nothing else.
    expect(mock.calls.filter((c) => c.api === 'query').map((c) => `${c.sessionId}:${c.infoClass}`)).toEqual(
      [3, 4, 5, 6, 7].map((id) => `${id}:WTSSessionInfo`),
    );
    expect(mock.calls.filter((c) => ['logoff', 'disconnect', 'message'].includes(c.api))).toEqual([]);
  });

  test('filters: state', async () => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ state: 'Disconnected', pollIntervalMs: 1 });
    expect(logoffCalls(mock).sort()).toEqual([3, 6]);
    expect(outcomes.find((o) => o.session.id === 4)).toMatchObject({ status: 'skipped', reason: 'filtered' });
  });

  test('filters: several states, short labels', async () => {
    const { mock, wts } = setup();
    await wts.logoffAll({ state: ['Disc', 'active'] as never, dryRun: true });
    expect(logoffCalls(mock)).toEqual([]);
    const plan = await wts.logoffAll({ state: ['Disc'] as never, dryRun: true });
    expect(plan.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id)).toEqual([3, 6]);
  });

  test('filters: user wildcard, with or without domain, without case', async () => {
    const { wts } = setup();
    const plan = async (user: string) =>
      (await wts.logoffAll({ user, dryRun: true })).filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id);
    expect(await plan('TEMP*')).toEqual([6]);
    expect(await plan('corp\\?arol')).toEqual([4]);
    expect(await plan('*')).toEqual([3, 4, 5, 6, 7]);
    expect(await plan('nobody')).toEqual([]);
  });

  test('bad filters are invalid arguments with no call', async () => {
    const { mock, wts } = setup();
    for (const options of [{ state: 'Sleeping' }, { state: [] }, { user: '' }, { concurrency: 0 }, { dryRun: 1 }, { sever: 'x' }]) {
      expect(await rejection(wts.logoffAll(options as never))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(mock.calls).toEqual([]);
  });

  test('a remote server: its sessions, its console skipped by name, handle closed', async () => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ server: 'WF12', pollIntervalMs: 1 });
    expect(byId(outcomes)).toEqual({ 0: 'skipped:services', 1: 'skipped:console', 2: 'loggedOff', 3: 'loggedOff', 65536: 'skipped:listener' });
    expect(outcomes.every((o) => o.session.server === 'WF12')).toBe(true);
    expect(mock.openHandleCount).toBe(0);
  });

  test('naming the local server still spares your own session', async () => {
    const { mock, wts } = setup();
    const outcomes = await wts.logoffAll({ server: 'TS01', dryRun: true });
    expect(outcomes.find((o) => o.session.id === 2)).toMatchObject({ status: 'skipped', reason: 'current' });
    expect(mock.calls.filter((c) => c.api === 'open')).toEqual([]);
  });

  test('an unreachable server rejects with the Win32 code', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.logoffAll({ server: 'WF13' }));
    expect(error).toMatchObject({ code: 'E_WIN32', win32Code: 1722, server: 'WF13', api: 'WTSEnumerateSessionsExW' });
    expect(mock.openHandleCount).toBe(0);
  });

  test('one failed identity check does not hide the others', async () => {
    const { mock, wts } = setup();
    mock.setFault('TS01', 'query', 4, 1726);
    const outcomes = await wts.logoffAll({ pollIntervalMs: 1 });
    expect(byId(outcomes)[4]).toBe('failed:E_WIN32');
    expect(byId(outcomes)[3]).toBe('loggedOff');
    expect(byId(outcomes)[7]).toBe('loggedOff');
  });

  test('sessions that do not close in time are failed with LogoffTimeoutError; others confirmed', async () => {
    const { mock, wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const outcomes = await wts.logoffAll({ timeoutMs: 100, pollIntervalMs: 10, state: 'Disconnected' });
    for (const id of [3, 6]) {
      const o = outcomes.find((x) => x.session.id === id)!;
      expect(o.status).toBe('failed');
      expect(o.status === 'failed' && o.error).toBeInstanceOf(LogoffTimeoutError);
    }
    expect(logoffCalls(mock).sort()).toEqual([3, 6]);
  });

  test('wait: false reports requested, unconfirmed logoffs', async () => {
    const { wts } = setup(exampleFarm(), { closingPolls: 5 });
    const outcomes = await wts.logoffAll({ wait: false, state: 'Disconnected' });
    expect(outcomes.filter((o) => o.status === 'loggedOff').map((o) => o.status === 'loggedOff' && o.confirmed)).toEqual([false, false]);
  });

  test('abort while waiting: sessions whose logoff was accepted are reported as requested, not confirmed', async () => {
    const { wts } = setup(exampleFarm(), { closingPolls: 1_000_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 40);
    const outcomes = await wts.logoffAll({ signal: controller.signal, pollIntervalMs: 10, state: 'Disconnected' });
    for (const id of [3, 6]) {
      expect(outcomes.find((o) => o.session.id === id)).toMatchObject({
        status: 'requested',
        request: 'WTSLogoffSession',
        accepted: true,
        requests: ['WTSLogoffSession'],
      });
    }
  });

  test('concurrency bounds the requests in flight', async () => {
    const { mock, wts } = setup();
    mock.setLatency('TS01', 5);
    let inFlight = 0;
    let peak = 0;
    const original = mock.logoffSession.bind(mock);
    mock.logoffSession = async (h, id) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await original(h, id);
      } finally {
        inFlight--;
      }
    };
    await wts.logoffAll({ concurrency: 2, pollIntervalMs: 1 });
    expect(peak).toBe(2);
  });
});
