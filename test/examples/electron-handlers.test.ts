/**
 * examples/electron: the IPC handlers (handlers.js) as the page reaches them, without Electron: a
 * fake ipcMain whose invoke() does what Electron's IPC does — structured-clones the arguments and
 * the answer — over a Wts on the mock, whose call log shows what reached "Windows".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as library from '../../src';
import { ConsoleSessionError, isWtsError, reviveWtsError, Win32Error, type Wts, type WtsErrorJSON } from '../../src';
import type { MockApi } from '../../src/mock';
import { logoffCalls, ROOT, setup } from '../helpers';

const EXAMPLE = join(ROOT, 'examples', 'electron');

interface Reply {
  readonly ok: boolean;
  readonly value?: unknown;
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
  test('listing: every session, as plain data after the clone', async () => {
    const reply = await ipc.invoke(CHANNELS.listSessions);
    expect(reply.ok).toBe(true);
    const sessions = reply.value as Array<Record<string, unknown>>;
    expect(sessions.map((s) => s['id'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 65536]);
    expect(sessions[2]).toMatchObject({ id: 2, name: 'RDP-Tcp#0', state: 'Active', userName: 'alice', domain: 'CORP', isCurrent: true });
    expect(mock.calls.some((c) => c.api === 'enumerate')).toBe(true);
  });

  test('logging off by ID: that session, and only it', async () => {
    const reply = await ipc.invoke(CHANNELS.logoff, 3);
    expect(reply.ok).toBe(true);
    expect(reply.value).toMatchObject({ status: 'loggedOff', confirmed: true, session: { id: 3, userName: 'bob' }, requests: ['WTSLogoffSession'] });
    expect(logoffCalls(mock)).toEqual([3]);
    const after = await ipc.invoke(CHANNELS.listSessions);
    expect((after.value as Array<{ id: number }>).map((s) => s.id)).not.toContain(3);
  });

  test('the console is refused: E_CONSOLE and its fields survive the clone, no logoff call', async () => {
    const error = failed(await ipc.invoke(CHANNELS.logoff, 1));
    expect(error).toMatchObject({ name: 'ConsoleSessionError', code: 'E_CONSOLE', kind: 'console', server: '', sessionId: 1, requests: [] });
    expect(error.message).toMatch(/console session/);
    expect(logoffCalls(mock)).toEqual([]);
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

  test('other refusals keep their codes too: Services (0), a session that is not there', async () => {
    expect(failed(await ipc.invoke(CHANNELS.logoff, 0))).toMatchObject({ code: 'E_SERVICES', sessionId: 0, kind: 'services' });
    expect(failed(await ipc.invoke(CHANNELS.logoff, 42))).toMatchObject({ code: 'E_NOT_FOUND', sessionId: 42, target: 42 });
    expect(logoffCalls(mock)).toEqual([]);
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

  test('the highest session ID passes the check and reaches the library (which refuses IDs >= 65536 as listeners)', async () => {
    expect(MAX_SESSION_ID).toBe(0xfffffffd);
    expect(failed(await ipc.invoke(CHANNELS.logoff, MAX_SESSION_ID))).toMatchObject({ code: 'E_LISTENER', sessionId: MAX_SESSION_ID });
    expect(logoffCalls(mock)).toEqual([]);
  });

  test('-0 is session 0, not a way around the check', async () => {
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
    registerHandlers(other, { library, wts: { listSessions: () => Promise.reject(boom), logoff: () => Promise.reject(boom) }, log });
    const error = failed(await other.invoke(CHANNELS.listSessions));
    expect(error).toEqual({ name: 'Error', code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' });
    expect(log).toHaveBeenCalledWith(expect.any(String), boom);
  });

  test('registerHandlers refuses what is not the library, and its disposer removes both handlers', () => {
    expect(() => registerHandlers(new FakeIpcMain(), {})).toThrow(/library must be the wts-session module/);
    expect(() => registerHandlers(new FakeIpcMain(), { library, wts: {} })).toThrow(/wts must have listSessions and logoff/);
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
    [{ code: 'E_TIMEOUT', sessionId: 9, message: 'x' }, /has not closed yet/],
    [{ code: 'E_UNSUPPORTED_PLATFORM', message: 'Set WTS_SESSION_SIMULATE.' }, /^Not available here\. Set WTS_SESSION_SIMULATE\.$/],
    [{ code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' }, /^Unexpected error/],
    [null, /^Unknown error\.$/],
  ])('%j', (error, text) => {
    expect(describeWtsError(error)).toMatch(text);
  });
});
