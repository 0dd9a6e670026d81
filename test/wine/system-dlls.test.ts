/**
 * Smoke tests against the system's own wtsapi32.dll and kernel32.dll, run under Wine by
 * `npm run test:wine` (and on Windows). Wine's wtsapi32 is mostly stubs: enumeration finds no
 * session and logoff, open server and send message fail with 120 (not implemented); its
 * WTSQuerySessionInformationW(WTSUserName / WTSDomainName) on the current session is real.
 * Elsewhere the suite is skipped, with the reason printed.
 */
import { createKoffiApi, createWts, Win32Error, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION } from '../../src/index';
import { WtsEvent } from '../../src/wtsapi';
import { rejection } from '../helpers';

const isWindows = process.platform === 'win32';
const underWine = isWindows && process.env['WTS_UNDER_WINE'] === '1';
const reason = isWindows ? '' : `not Windows (${process.platform}): run npm run test:wine`;
if (!isWindows) console.log(`test/wine skipped: ${reason}`);

(isWindows ? describe : describe.skip)(`system wtsapi32.dll / kernel32.dll${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const api = isWindows ? createKoffiApi() : (undefined as never);

  test('the real DLLs load, and kernel32 answers', () => {
    expect(api.getComputerName().toLowerCase()).toBe((process.env['COMPUTERNAME'] ?? '').toLowerCase());
    expect(Number.isInteger(api.getCurrentSessionId())).toBe(true);
    expect(Number.isInteger(api.getActiveConsoleSessionId())).toBe(true);
  });

  test("the current session's user name comes back right (UTF-16 decoding, buffer freed)", async () => {
    const user = await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, 'WTSUserName');
    expect(user.toLowerCase()).toBe((process.env['USERNAME'] ?? '').toLowerCase());
    const domain = await api.querySessionInformation(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, 'WTSDomainName');
    expect(typeof domain).toBe('string');
  });

  test('enumeration returns a list (no crash, no garbage) and the typed API works over it', async () => {
    // Wine: WTSEnumerateSessionsExW fails without an error code; the level-0 call answers.
    const sessions = await api.enumerateSessions(WTS_CURRENT_SERVER_HANDLE);
    expect(Array.isArray(sessions)).toBe(true);
    for (const s of sessions) expect(typeof s.userName).toBe('string');
    const listed = await createWts({ api }).listSessions();
    expect(listed.length).toBe(sessions.length);
  });

  (underWine ? test : test.skip)("Wine's stubs: 120 surfaces as a typed error that says the server does not implement it", async () => {
    const logoff = await rejection(api.logoffSession(WTS_CURRENT_SERVER_HANDLE, 7));
    expect(logoff).toBeInstanceOf(Win32Error);
    expect(logoff).toMatchObject({ code: 'E_WIN32', win32Code: 120, api: 'WTSLogoffSession' });
    expect(logoff.message).toMatch(/not implemented by this server/);
    const open = await rejection(api.openServer('WF12'));
    expect(open).toMatchObject({ win32Code: 120, api: 'WTSOpenServerExW', server: 'WF12' });
    // Wine's WTSSendMessageW fails without setting an error code: reported as such, not as a
    // stale code from an earlier call.
    const message = await rejection(api.sendMessage(WTS_CURRENT_SERVER_HANDLE, 1, { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: false }));
    expect(message).toBeInstanceOf(Win32Error);
    expect(message).toMatchObject({ win32Code: 0, api: 'WTSSendMessageW' });
    expect(message.message).toMatch(/without setting an error code/);
    // Through the API: a remote logoff reports the same typed error, with the server named.
    const viaApi = await rejection(createWts({ api }).logoff(3, { server: 'WF12' }));
    expect(viaApi).toMatchObject({ code: 'E_WIN32', win32Code: 120, server: 'WF12' });
  });

  (underWine ? test : test.skip)("Wine's WTSWaitSystemEvent stub fails at once without an error code: no hang, wait and flush alike", async () => {
    // dlls/wtsapi32/wtsapi32.c: FIXME("Stub …"); return FALSE; — no SetLastError.
    const started = Date.now();
    const wait = await rejection(api.waitSystemEvent!(WTS_CURRENT_SERVER_HANDLE, WtsEvent.All));
    expect(wait).toBeInstanceOf(Win32Error);
    expect(wait).toMatchObject({ win32Code: 0, api: 'WTSWaitSystemEvent' });
    const flush = await rejection(api.flushSystemEvents!(WTS_CURRENT_SERVER_HANDLE));
    expect(flush).toMatchObject({ win32Code: 0, api: 'WTSWaitSystemEvent' });
    expect(Date.now() - started).toBeLessThan(5000);
  }, 10_000);
});
