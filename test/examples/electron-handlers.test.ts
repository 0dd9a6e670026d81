/**
 * examples/electron: the IPC handlers (handlers.js) as the page reaches them, without Electron: a
 * fake ipcMain whose invoke() does what Electron's IPC does — structured-clones the arguments and
 * the answer — over a Wts on the mock, whose call log shows what reached "Windows".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import * as library from '../../src';
import { ConsoleSessionError, isWtsError, reviveWtsError, SessionChangedError, Win32Error, type Session, type Wts, type WtsErrorJSON } from '../../src';
import type { FarmSession, MockApi } from '../../src/mock';
import { logoffCalls, ROOT, setup } from '../helpers';

const EXAMPLE = join(ROOT, 'examples', 'electron');

interface Reply {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: WtsErrorJSON;
}
/** A row of a listing: the session, and whether (or why not) it can be logged off. */
interface Row {
  readonly session: Session;
  readonly canLogOff: boolean;
  readonly reason?: string;
  readonly error?: WtsErrorJSON;
}
type Handler = (event: unknown, ...args: unknown[]) => unknown;
interface HandlersModule {
  registerHandlers(ipcMain: FakeIpcMain, options: Record<string, unknown>): () => void;
  readonly CHANNELS: { readonly listSessions: string; readonly logoff: string };
  readonly MAX_SESSION_ID: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registerHandlers, CHANNELS, MAX_SESSION_ID } = require(join(EXAMPLE, 'handlers.js')) as HandlersModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { describeWtsError } = require(join(EXAMPLE, 'describe-error.js')) as { describeWtsError(error: unknown): string };

const PAGE = 'file:///app/index.html';

class FakeIpcMain {
  readonly #handlers = new Map<string, Handler>();
  handle(channel: string, handler: Handler): void {
    if (this.#handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.#handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.#handlers.delete(channel);
  }
  get channels(): string[] {
    return [...this.#handlers.keys()];
  }
  /** ipcRenderer.invoke: the arguments are cloned on the way in, the answer on the way out. */
  async invoke(channel: string, ...args: unknown[]): Promise<Reply> {
    return structuredClone(await this.raw({ senderFrame: { url: PAGE } }, channel, ...structuredClone(args)));
  }
  /** Straight to the handler, nothing cloned: values no IPC would carry (getters, proxies, functions). */
  async raw(event: unknown, channel: string, ...args: unknown[]): Promise<Reply> {
    const handler = this.#handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return (await handler(event, ...args)) as Reply;
  }
}

let mock: MockApi;
let wts: Wts;
let ipc: FakeIpcMain;
let log: jest.Mock;

beforeEach(() => {
  ({ mock, wts } = setup(undefined, { closingPolls: 1 }));
  ipc = new FakeIpcMain();
  log = jest.fn();
  registerHandlers(ipc, {
    library,
    wts,
    log,
    isTrustedSender: (event: { senderFrame?: { url?: string } }) => event.senderFrame?.url === PAGE,
  });
  mock.resetCalls();
});

function failed(reply: Reply): WtsErrorJSON {
  expect(reply.ok).toBe(false);
  expect(reply.error).toBeDefined();
  return reply.error as WtsErrorJSON;
}

/** Lists the sessions as the page does (the listing logoff then acts on); the call log is reset. */
async function list(on: FakeIpcMain = ipc): Promise<Row[]> {
  const reply = await on.invoke(CHANNELS.listSessions);
  expect(reply.ok).toBe(true);
  mock.resetCalls();
  return reply.value as Row[];
}

/** Who holds the session ID now: the logon (user, domain, logon time), or undefined. */
function logonAt(m: MockApi, id: number): string | undefined {
  const s = m.getSession('TS01', id);
  return s && s.closing === undefined ? `${s.domain ?? ''}\\${s.user ?? ''}@${s.logonTime ?? ''}` : undefined;
}

describe('the example is wired as documented', () => {
  test('the preload exposes exactly listSessions and logoff, on the handlers\' channels, one argument at most', () => {
    const preload = readFileSync(join(EXAMPLE, 'preload.js'), 'utf8');
    const invoked = [...preload.matchAll(/ipcRenderer\.invoke\('([^']+)'(, id)?\)/g)].map((m) => m[1]);
    expect(invoked.sort()).toEqual(Object.values(CHANNELS).sort());
    expect([...preload.matchAll(/^\s{4}(\w+): \(/gm)].map((m) => m[1])).toEqual(['listSessions', 'logoff']);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/);
    expect(ipc.channels.sort()).toEqual(Object.values(CHANNELS).sort());
  });

  test('the window is isolated: contextIsolation on, nodeIntegration off, sandboxed; senders are checked', () => {
    const main = readFileSync(join(EXAMPLE, 'main.js'), 'utf8');
    expect(main).toMatch(/contextIsolation: true/);
    expect(main).toMatch(/nodeIntegration: false/);
    expect(main).toMatch(/sandbox: true/);
    expect(main).toMatch(/isTrustedSender: isAppPage/);
  });

  test('the example depends on electron only as a devDependency, and on wts-session', () => {
    const pkg = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(pkg['dependencies'] ?? {})).toEqual(['wts-session']);
    expect(pkg['devDependencies']).toHaveProperty('electron');
    expect(pkg['devDependencies']).toHaveProperty('electron-builder');
    expect(pkg['build']).toHaveProperty('asar', true);
  });
});

describe('what the page asks for', () => {
  test('listing: every session, each with whether it can be logged off and why not, as plain data after the clone', async () => {
    const reply = await ipc.invoke(CHANNELS.listSessions);
    expect(reply.ok).toBe(true);
    const rows = reply.value as Row[];
    expect(rows.map((r) => r.session.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 65536]);
    expect(rows[2]?.session).toMatchObject({ id: 2, name: 'RDP-Tcp#0', state: 'Active', userName: 'alice', domain: 'CORP', isCurrent: true });
    expect(rows.map((r) => [r.session.id, r.canLogOff ? 'yes' : r.reason, r.error?.code])).toEqual([
      [0, 'services', 'E_SERVICES'],
      [1, 'console', 'E_CONSOLE'],
      [2, 'current', 'E_OWN_SESSION'],
      [3, 'yes', undefined],
      [4, 'yes', undefined],
      [5, 'yes', undefined],
      [6, 'yes', undefined],
      [7, 'yes', undefined],
      [65536, 'listener', 'E_LISTENER'],
    ]);
    // The logon behind each ID (its logon time) stays in the main process.
    expect(JSON.stringify(rows)).not.toMatch(/identity|logonTime|2026-/);
    expect(mock.calls.some((c) => c.api === 'enumerate')).toBe(true);
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('logging off a listed session: that session, and only it', async () => {
    await list();
    const reply = await ipc.invoke(CHANNELS.logoff, 3);
    expect(reply.ok).toBe(true);
    expect(reply.value).toMatchObject({ status: 'loggedOff', confirmed: true, session: { id: 3, userName: 'bob' }, requests: ['WTSLogoffSession'] });
    expect(logoffCalls(mock)).toEqual([3]);
    expect((await list()).map((r) => r.session.id)).not.toContain(3);
  });

  test('an ID the last listing did not show is refused, without a library call: E_NOT_LISTED', async () => {
    expect(failed(await ipc.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_NOT_LISTED', sessionId: 3, requests: [] });
    await list();
    expect(failed(await ipc.invoke(CHANNELS.logoff, 42))).toMatchObject({ code: 'E_NOT_LISTED', sessionId: 42 });
    expect(mock.calls).toEqual([]);
    expect(describeWtsError(failed(await ipc.invoke(CHANNELS.logoff, 42)))).toBe(
      'Session 42 is not in the last list of sessions; nothing was done to it. Refresh the list.',
    );
  });

  test('the session this app runs in is not logged off (logoffAll never acts on it): E_OWN_SESSION, no call', async () => {
    await list();
    const error = failed(await ipc.invoke(CHANNELS.logoff, 2));
    expect(error).toMatchObject({ code: 'E_OWN_SESSION', sessionId: 2, requests: [] });
    expect(mock.calls).toEqual([]);
    expect(describeWtsError(error)).toBe('Session 2 is the session this app runs in: it is not logged off from here.');
  });

  test('the console is refused: E_CONSOLE and its fields survive the clone, no library call', async () => {
    await list();
    const error = failed(await ipc.invoke(CHANNELS.logoff, 1));
    expect(error).toMatchObject({ name: 'ConsoleSessionError', code: 'E_CONSOLE', kind: 'console', server: '', sessionId: 1, requests: [] });
    expect(error.message).toMatch(/console session/);
    expect(mock.calls).toEqual([]);
    const revived = reviveWtsError(error);
    expect(revived).toBeInstanceOf(ConsoleSessionError);
    expect(isWtsError(revived)).toBe(true);
    expect(describeWtsError(error)).toBe('Session 1 is the console session: wts-session never logs it off from here.');
  });

  test('without toJSON the clone would keep only name and message (why the handlers send the plain form)', () => {
    const cloned = structuredClone(new ConsoleSessionError(1, '')) as unknown as Record<string, unknown>;
    expect(cloned['code']).toBeUndefined();
    expect(cloned['sessionId']).toBeUndefined();
  });

  test('access denied (a mock fault): E_WIN32 with win32Code 5 after the clone, and "run elevated"', async () => {
    await list();
    mock.setFault('TS01', 'logoff', 4, 5);
    const error = failed(await ipc.invoke(CHANNELS.logoff, 4));
    expect(error).toMatchObject({ name: 'Win32Error', code: 'E_WIN32', win32Code: 5, api: 'WTSLogoffSession', sessionId: 4, server: '' });
    expect(error['hint']).toMatch(/run elevated/);
    expect(logoffCalls(mock)).toEqual([4]);
    const revived = reviveWtsError(error);
    expect(revived).toBeInstanceOf(Win32Error);
    expect((revived as Win32Error).win32Code).toBe(5);
    expect(describeWtsError(error)).toMatch(/^Access denied \(error 5\).*Run this app elevated/);
    expect(mock.getSession('TS01', 4)).toBeDefined();
  });

  test('other refusals keep their codes too: Services (0), a listener (65536); no library call', async () => {
    await list();
    expect(failed(await ipc.invoke(CHANNELS.logoff, 0))).toMatchObject({ code: 'E_SERVICES', sessionId: 0, kind: 'services' });
    expect(failed(await ipc.invoke(CHANNELS.logoff, 65536))).toMatchObject({ code: 'E_LISTENER', sessionId: 65536, kind: 'listener' });
    expect(mock.calls).toEqual([]);
  });
});

describe('session IDs are reused: only the logon that was listed is logged off', () => {
  const mallory: FarmSession = { id: 3, name: 'RDP-Tcp#9', state: 'Active', user: 'mallory', domain: 'CORP', logonTime: '2026-11-21T10:00:00Z' };

  test('bob is listed in session 3, ends, mallory logs on as session 3: the confirmed logoff leaves mallory alone', async () => {
    const rows = await list();
    expect(rows.find((r) => r.session.id === 3)).toMatchObject({ canLogOff: true, session: { userName: 'bob' } });
    mock.removeSession('TS01', 3);
    mock.putSession('TS01', mallory);

    const error = failed(await ipc.invoke(CHANNELS.logoff, 3));
    expect(error).toMatchObject({ code: 'E_SESSION_CHANGED', sessionId: 3, server: '', requests: [] });
    expect(error.message).toMatch(/bob.*mallory/s);
    expect(reviveWtsError(error)).toBeInstanceOf(SessionChangedError);
    expect(describeWtsError(error)).toBe('Session 3 now belongs to another logon; nothing was done to it. Refresh the list.');
    expect(logoffCalls(mock)).toEqual([]);
    expect(mock.getSession('TS01', 3)).toMatchObject({ user: 'mallory', state: 'Active' });
    expect(mock.getSession('TS01', 3)?.closing).toBeUndefined();
  });

  test('the same user logged on again (a new logon time) is another logon too', async () => {
    await list();
    mock.putSession('TS01', { id: 3, name: 'RDP-Tcp#9', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T10:00:00Z' });
    expect(failed(await ipc.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_SESSION_CHANGED', sessionId: 3 });
    expect(logoffCalls(mock)).toEqual([]);
    expect(logonAt(mock, 3)).toBe('CORP\\bob@2026-11-21T10:00:00Z');
  });

  test('the session ended and its ID is free: E_NOT_FOUND, no logoff call', async () => {
    await list();
    mock.removeSession('TS01', 3);
    const error = failed(await ipc.invoke(CHANNELS.logoff, 3));
    expect(error).toMatchObject({ code: 'E_NOT_FOUND', sessionId: 3 });
    expect(describeWtsError(error)).toBe('Session 3 no longer exists. Refresh the list.');
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('after a new listing, the new logon is the one listed: it can be logged off', async () => {
    await list();
    mock.putSession('TS01', mallory);
    expect(failed(await ipc.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_SESSION_CHANGED' });
    const rows = await list();
    expect(rows.find((r) => r.session.id === 3)).toMatchObject({ canLogOff: true, session: { userName: 'mallory' } });
    const reply = await ipc.invoke(CHANNELS.logoff, 3);
    expect(reply.value).toMatchObject({ status: 'loggedOff', session: { id: 3, userName: 'mallory' } });
    expect(logoffCalls(mock)).toEqual([3]);
  });

  test('a failed listing leaves nothing to log off', async () => {
    await list();
    mock.setFault('TS01', 'enumerate', '*', 1722);
    expect(failed(await ipc.invoke(CHANNELS.listSessions))).toMatchObject({ code: 'E_WIN32', win32Code: 1722 });
    mock.setFault('TS01', 'enumerate', '*', undefined);
    mock.resetCalls();
    expect(failed(await ipc.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_NOT_LISTED' });
    expect(mock.calls).toEqual([]);
  });

  test('listings that finish out of order: the one asked for last is kept; none is used while one is running', async () => {
    const dryRuns: Array<(outcomes: unknown[]) => void> = [];
    const applied: unknown[] = [];
    const fake = {
      logoffAll: (options: { dryRun?: boolean; plan?: unknown[] }) => {
        if (options.dryRun) return new Promise((resolve) => dryRuns.push(resolve));
        applied.push(options.plan);
        return Promise.resolve([{ status: 'skipped', reason: 'gone', message: 'x', session: { id: 3, server: '' }, requests: [] }]);
      },
    };
    const other = new FakeIpcMain();
    registerHandlers(other, { library, wts: fake, log });
    const planned = (user: string) => ({ status: 'wouldLogOff', session: { id: 3, server: '', userName: user }, identity: { userName: user }, requests: [] });
    const first = other.invoke(CHANNELS.listSessions);
    const second = other.invoke(CHANNELS.listSessions);
    await Promise.resolve();
    expect(dryRuns).toHaveLength(2);
    expect(failed(await other.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_NOT_LISTED' });
    dryRuns[1]?.([planned('mallory')]);
    await second;
    dryRuns[0]?.([planned('bob')]);
    await first;
    expect(failed(await other.invoke(CHANNELS.logoff, 3))).toMatchObject({ code: 'E_NOT_FOUND' });
    expect(applied).toEqual([[expect.objectContaining({ session: expect.objectContaining({ userName: 'mallory' }) })]]);
  });
});

describe('what the page cannot make the main process do', () => {
  // Each of these, cloned as Electron would, is refused before any library call. "3" would be
  // session 3 to the library; undefined would be the caller's own session; 0xFFFFFFFF is
  // WTS_CURRENT_SESSION and 0xFFFFFFFE WTS_ANY_SESSION.
  const refused: Array<[string, unknown]> = [
    ['the string "3"', '3'],
    ['the string "0"', '0'],
    ['a name', 'RDP-Tcp#0'],
    ['a float', 3.5],
    ['a tiny float', 1e-9],
    ['a negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2 ** 53', 2 ** 53],
    ['1e21', 1e21],
    ['WTS_CURRENT_SESSION', 0xffffffff],
    ['WTS_ANY_SESSION', 0xfffffffe],
    ['2 ** 32', 2 ** 32],
    ['a BigInt', 3n],
    ['a Number object', Object(3)],
    ['an object', { id: 3 }],
    ['an array', [3]],
    ['a Date', new Date(3)],
    ['null', null],
    ['undefined (the library: "my own session")', undefined],
    ['true', true],
  ];

  test.each(refused)('%s: E_INVALID_ARGUMENT, no library call', async (_what, id) => {
    const error = failed(await ipc.invoke(CHANNELS.logoff, id));
    expect(error).toMatchObject({ name: 'InvalidArgumentError', code: 'E_INVALID_ARGUMENT', argument: 'id' });
    expect(error.message).toMatch(/^Invalid session ID .*: a session ID is a whole number from 0 to 4294967293\.$/);
    expect(mock.calls).toEqual([]);
  });

  test('the highest session ID passes the check and is looked up in the last listing (not there: E_NOT_LISTED)', async () => {
    expect(MAX_SESSION_ID).toBe(0xfffffffd);
    await list();
    expect(failed(await ipc.invoke(CHANNELS.logoff, MAX_SESSION_ID))).toMatchObject({ code: 'E_NOT_LISTED', sessionId: MAX_SESSION_ID });
    expect(mock.calls).toEqual([]);
  });

  test('-0 is session 0, not a way around the check', async () => {
    await list();
    const error = failed(await ipc.invoke(CHANNELS.logoff, -0));
    expect(error).toMatchObject({ code: 'E_SERVICES' });
    expect(Object.is(error.sessionId, 0)).toBe(true);
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('no argument, or more than one: refused, no library call', async () => {
    expect(failed(await ipc.invoke(CHANNELS.logoff))).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'id' });
    expect(failed(await ipc.invoke(CHANNELS.logoff, 3, 4))).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'id' });
    expect(failed(await ipc.invoke(CHANNELS.listSessions, { server: 'WF12' }))).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'arguments' });
    expect(mock.calls).toEqual([]);
  });

  test('an object whose valueOf, getters or traps say 3 is refused without running any of them', async () => {
    const touched: string[] = [];
    const valueOf = { valueOf: () => (touched.push('valueOf'), 3), toString: () => (touched.push('toString'), '3') };
    const getter = Object.defineProperty({}, 'id', { get: () => (touched.push('get id'), 3), enumerable: true });
    const trap = (name: string) => (...args: unknown[]) => (touched.push(name), Reflect[name as 'get'](...(args as [object, PropertyKey])));
    const proxy = new Proxy({}, Object.fromEntries(['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf'].map((t) => [t, trap(t)])));
    const event = { senderFrame: { url: PAGE } };
    for (const id of [valueOf, getter, proxy, () => 3, Symbol('3')]) {
      const error = failed(await ipc.raw(event, CHANNELS.logoff, id));
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'id' });
    }
    expect(touched).toEqual([]);
    expect(mock.calls).toEqual([]);
  });

  test('a frame other than the app\'s page is refused, whatever it asks', async () => {
    const event = { senderFrame: { url: 'https://evil.example/' } };
    expect(failed(await ipc.raw(event, CHANNELS.logoff, 3))).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'sender' });
    expect(failed(await ipc.raw(event, CHANNELS.listSessions))).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'sender' });
    expect(failed(await ipc.raw({ senderFrame: null }, CHANNELS.logoff, 3))).toMatchObject({ argument: 'sender' });
    expect(mock.calls).toEqual([]);
  });

  test('an error that is not the library\'s is answered plainly and logged, its text not sent', async () => {
    const other = new FakeIpcMain();
    const boom = new TypeError('secret internals');
    registerHandlers(other, { library, wts: { logoffAll: () => Promise.reject(boom) }, log });
    const error = failed(await other.invoke(CHANNELS.listSessions));
    expect(error).toEqual({ name: 'Error', code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' });
    expect(log).toHaveBeenCalledWith(expect.any(String), boom);
  });

  test('registerHandlers refuses what is not the library, and its disposer removes both handlers', () => {
    expect(() => registerHandlers(new FakeIpcMain(), {})).toThrow(/library must be the wts-session module/);
    expect(() => registerHandlers(new FakeIpcMain(), { library, wts: {} })).toThrow(/wts must have logoffAll/);
    const other = new FakeIpcMain();
    const remove = registerHandlers(other, { library, wts });
    remove();
    expect(other.channels).toEqual([]);
  });
});

describe('what the page tells the person, by code', () => {
  test.each([
    [{ code: 'E_WIN32', win32Code: 7045, message: 'x' }, /^Access denied \(error 7045\).*Run this app elevated/],
    [{ code: 'E_WIN32', win32Code: 1722, message: 'x' }, /could not be reached \(error 1722\)/],
    [{ code: 'E_WIN32', win32Code: 87, message: 'The parameter is incorrect.' }, /^Windows error 87: The parameter is incorrect\.$/],
    [{ code: 'E_SERVICES', sessionId: 0, message: 'x' }, /^Session 0 is the Services session/],
    [{ code: 'E_LISTENER', sessionId: 65536, message: 'x' }, /^Session 65536 is a listener/],
    [{ code: 'E_NOT_FOUND', sessionId: 9, message: 'x' }, /^Session 9 no longer exists/],
    [{ code: 'E_SESSION_CHANGED', sessionId: 9, message: 'x' }, /another logon; nothing was done/],
    [{ code: 'E_NOT_LISTED', sessionId: 9, message: 'x' }, /^Session 9 is not in the last list of sessions; nothing was done/],
    [{ code: 'E_OWN_SESSION', sessionId: 2, message: 'x' }, /^Session 2 is the session this app runs in/],
    [{ code: 'E_TIMEOUT', sessionId: 9, message: 'x' }, /has not closed yet/],
    [{ code: 'E_UNSUPPORTED_PLATFORM', message: 'Set WTS_SESSION_SIMULATE.' }, /^Not available here\. Set WTS_SESSION_SIMULATE\.$/],
    [{ code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' }, /^Unexpected error/],
    [null, /^Unknown error\.$/],
  ])('%j', (error, text) => {
    expect(describeWtsError(error)).toMatch(text);
  });
});

describe('property: over any interleaving of listings, ended sessions, reused IDs and logoffs', () => {
  type Op =
    | { readonly op: 'list' }
    | { readonly op: 'end'; readonly id: number }
    | { readonly op: 'reuse'; readonly id: number; readonly user: string; readonly active: boolean }
    | { readonly op: 'logoff'; readonly id: number };
  // Sessions that end and IDs that are taken again (8 is new); logoffs also ask for the protected
  // sessions (0 Services, 1 console, 2 this app's, 65536 a listener), 5 (access denied) and 9 (never there).
  const changing = fc.constantFrom(3, 4, 5, 6, 7, 8);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ op: 'list' } as const),
    changing.map((id) => ({ op: 'end', id }) as const),
    fc.record({ op: fc.constant('reuse' as const), id: changing, user: fc.constantFrom('bob', 'carol', 'mallory'), active: fc.boolean() }),
    fc.record({ op: fc.constant('logoff' as const), id: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 65536) }),
  );

  test('a logoff acts only on the logon listed for that ID at the last listing, and does when it is still there', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const { mock: m, wts: w } = setup(undefined, { closingPolls: 0 });
        const page = new FakeIpcMain();
        registerHandlers(page, { library, wts: w, log });
        /** The last listing: ID -> the logon it showed, and whether it offered a logoff. */
        let listed = new Map<number, { logon: string | undefined; canLogOff: boolean }>();
        let logons = 0;
        for (const step of ops) {
          if (step.op === 'list') {
            const reply = await page.invoke(CHANNELS.listSessions);
            expect(reply.ok).toBe(true);
            listed = new Map((reply.value as Row[]).map((r) => [r.session.id, { logon: logonAt(m, r.session.id), canLogOff: r.canLogOff }]));
          } else if (step.op === 'end') {
            m.removeSession('TS01', step.id);
          } else if (step.op === 'reuse') {
            logons += 1;
            m.putSession('TS01', {
              id: step.id,
              name: step.active ? `RDP-Tcp#${10 + logons}` : '',
              state: step.active ? 'Active' : 'Disconnected',
              user: step.user,
              domain: 'CORP',
              logonTime: new Date(Date.UTC(2026, 10, 22, 0, logons)).toISOString(),
            });
          } else {
            const before = new Map([0, 1, 2, 3, 4, 5, 6, 7, 8, 65536].map((id) => [id, logonAt(m, id)] as const));
            m.resetCalls();
            const reply = await page.invoke(CHANNELS.logoff, step.id);
            const shown = listed.get(step.id);
            // Never a logon other than the one listed for that ID.
            for (const id of logoffCalls(m)) {
              expect(id).toBe(step.id);
              expect(before.get(id)).toBeDefined();
              expect(before.get(id)).toBe(shown?.logon);
            }
            // Every other session is as it was, and a refused one too.
            for (const [id, logon] of before) {
              if (id !== step.id || !reply.ok) expect(logonAt(m, id)).toBe(logon);
            }
            // And the listed logon, still there and offered, is logged off (5 answers access denied).
            const stillThere = shown !== undefined && shown.canLogOff && shown.logon !== undefined && before.get(step.id) === shown.logon;
            if (stillThere && step.id !== 5) {
              expect(reply).toMatchObject({ ok: true, value: { status: 'loggedOff', session: { id: step.id } } });
              expect(logonAt(m, step.id)).toBeUndefined();
            } else {
              expect(reply.ok).toBe(false);
              if (stillThere) expect(reply.error).toMatchObject({ code: 'E_WIN32', win32Code: 5 });
              else expect(logoffCalls(m)).toEqual([]);
            }
            if (!reply.ok && !stillThere && shown?.canLogOff) {
              expect(['E_SESSION_CHANGED', 'E_NOT_FOUND']).toContain(reply.error?.code);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
