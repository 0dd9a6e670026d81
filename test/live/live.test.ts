/**
 * Read-only tests against the real wtsapi32 on Windows. Elsewhere they are skipped, with the
 * reason printed. Tests that would log a real session off run only with WTS_SESSION_LIVE_LOGOFF=1
 * (and then only on a session the test itself cannot be: they need WTS_SESSION_LIVE_TARGET=<id>).
 */
import { createKoffiApi, createWts, WTS_CURRENT_SERVER_HANDLE } from '../../src/index';

const onWindows = process.platform === 'win32';
const reason = onWindows ? '' : `not Windows (${process.platform}): the live suite needs the real wtsapi32.dll`;
const live = onWindows ? describe : describe.skip;
if (!onWindows) console.log(`test/live skipped: ${reason}`);

live(`live wtsapi32 (read-only)${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const api = onWindows ? createKoffiApi() : (undefined as never);

  test('lists the sessions of this machine, with the caller\'s own among them', async () => {
    const sessions = await createWts({ api }).listSessions();
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.filter((s) => s.isCurrent)).toHaveLength(1);
    expect(sessions.find((s) => s.id === 0)?.name.toLowerCase()).toBe('services');
  });

  test('own session ID agrees with WTS_CURRENT_SESSION queries', async () => {
    const id = api.getCurrentSessionId();
    expect(await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, 0xffffffff, 'WTSSessionId')).toBe(id);
    expect(typeof (await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, id, 'WTSUserName'))).toBe('string');
  });

  test('console session ID is 0xFFFFFFFF or a listed session (not 0 since Vista)', async () => {
    const consoleId = api.getActiveConsoleSessionId();
    if (consoleId !== 0xffffffff) {
      const sessions = await api.enumerateSessions(WTS_CURRENT_SERVER_HANDLE);
      expect(sessions.map((s) => s.sessionId)).toContain(consoleId);
      expect(consoleId).not.toBe(0);
    }
  });

  test('the computer name is this machine\'s', () => {
    expect(api.getComputerName().toLowerCase()).toBe((process.env['COMPUTERNAME'] ?? '').toLowerCase());
  });
});

const logoffTarget = process.env['WTS_SESSION_LIVE_TARGET'];
const logoffAllowed = onWindows && process.env['WTS_SESSION_LIVE_LOGOFF'] === '1' && logoffTarget !== undefined;
if (!logoffAllowed) {
  console.log('test/live logoff skipped: set WTS_SESSION_LIVE_LOGOFF=1 and WTS_SESSION_LIVE_TARGET=<session ID> on Windows to run it');
}
(logoffAllowed ? describe : describe.skip)('live logoff (destructive, opt-in)', () => {
  test('logs off the named test session and sees it go', async () => {
    const outcome = await createWts({ api: createKoffiApi() }).logoff(Number(logoffTarget), { timeoutMs: 120_000 });
    expect(outcome).toMatchObject({ status: 'loggedOff', confirmed: true });
  });
});
