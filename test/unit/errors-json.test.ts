import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConsoleSessionError,
  InvalidArgumentError,
  isWtsError,
  ListenerSessionError,
  LogoffTimeoutError,
  OperationAbortedError,
  reviveWtsError,
  ServerTimeoutError,
  ServicesSessionError,
  SessionChangedError,
  SessionNotActiveError,
  SessionNotFoundError,
  ThreadsExhaustedError,
  UnsupportedPlatformError,
  Win32Error,
  WtsError,
  WTS_ERROR_CODES,
  type WtsErrorCode,
} from '../../src';

const identity = (userName: string, t: number | null) => ({ sessionId: 4, name: 'RDP-Tcp#1', userName, domain: 'CORP', logonTime: t === null ? null : new Date(t) });

/** One error of every class, with server and session drawn by fast-check. */
const anyError = fc
  .record({
    server: fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 12 })),
    id: fc.integer({ min: 0, max: 0xfffffffe }),
    win32: fc.integer({ min: 0, max: 0xffffffff }),
    text: fc.string({ maxLength: 40 }),
    t: fc.option(fc.integer({ min: 0, max: 4e12 })),
    pick: fc.integer({ min: 0, max: 13 }),
  })
  .map(({ server, id, win32, text, t, pick }): WtsError => {
    switch (pick) {
      case 0: return new InvalidArgumentError('options.timeoutMs', text);
      case 1: return new UnsupportedPlatformError('linux', text, { server });
      case 2: return new SessionNotFoundError(text || id, server);
      case 3: return new SessionNotActiveError(text, id, 'Disconnected', server);
      case 4: return new ConsoleSessionError(id, server);
      case 5: return new ServicesSessionError(id, server);
      case 6: return new ListenerSessionError(id, server);
      case 7: return new SessionChangedError(id, server, identity('bob', t), text.length % 2 ? undefined : identity('eve', t));
      case 8: return new LogoffTimeoutError(id, server, 1000 + id);
      case 9: return new ServerTimeoutError(server, 5000);
      case 10: return new OperationAbortedError('logoff', new Error(text), { server, sessionId: id, requests: ['WTSLogoffSession'] });
      case 11: return new ThreadsExhaustedError(64, 3, 10000, server);
      case 12: return new Win32Error({ win32Code: win32, api: 'WTSLogoffSession', server, sessionId: id, requests: ['WTSSendMessageW'] });
      default: return new WtsError('E_WIN32', text, { server, sessionId: id, cause: new Win32Error({ win32Code: 5, api: 'WTSQuerySessionInformationW' }) });
    }
  });

/** Own enumerable fields with Dates as ISO text: what must survive a trip. */
function fields(error: WtsError): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...error, message: error.message }));
}

describe('WtsError across process boundaries', () => {
  it('toJSON keeps name, code, message and every field of its class', () => {
    const e = new Win32Error({ win32Code: 5, api: 'WTSLogoffSession', server: 'WF12', sessionId: 3 });
    expect(e.toJSON()).toEqual({
      name: 'Win32Error',
      code: 'E_WIN32',
      message: e.message,
      server: 'WF12',
      sessionId: 3,
      requests: [],
      win32Code: 5,
      api: 'WTSLogoffSession',
      systemMessage: 'Access is denied.',
      hint: e.hint,
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e.toJSON());
  });

  it('every class survives JSON and structured clone and revives into its own class (property)', () => {
    fc.assert(
      fc.property(anyError, fc.boolean(), (error, viaJson) => {
        const sent = viaJson ? JSON.parse(JSON.stringify(error)) : structuredClone(error.toJSON());
        const back = reviveWtsError(sent);
        expect(back).toBeInstanceOf(error.constructor);
        expect(back).toBeInstanceOf(WtsError);
        expect(back).toBeInstanceOf(Error);
        expect(isWtsError(back)).toBe(true);
        expect(back.name).toBe(error.name);
        expect(back.message).toBe(error.message);
        expect(fields(back)).toEqual(fields(error));
        expect(back.toJSON()).toEqual(error.toJSON());
        if (error instanceof SessionChangedError) {
          const b = back as SessionChangedError;
          expect(b.expected.logonTime === null || b.expected.logonTime instanceof Date).toBe(true);
          expect(b.expected.logonTime?.getTime()).toBe(error.expected.logonTime?.getTime());
        }
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof Error) expect((back as { cause?: Error }).cause?.message).toBe(cause.message);
      }),
      { numRuns: 300 },
    );
  });

  it('every code has its class, and an unknown code from a newer version still revives', () => {
    for (const code of WTS_ERROR_CODES) {
      const back = reviveWtsError({ name: 'X', code, message: 'm', requests: [] });
      expect(back.code).toBe(code);
      expect(back.constructor).not.toBe(Object);
    }
    const newer = reviveWtsError({ name: 'FutureError', code: 'E_FUTURE' as WtsErrorCode, message: 'later', requests: [], extra: 1 });
    expect(newer).toBeInstanceOf(WtsError);
    expect(newer.code).toBe('E_FUTURE');
    expect((newer as unknown as { extra: number }).extra).toBe(1);
  });

  it('refuses what is not a serialized WtsError with a typed error', () => {
    for (const bad of [null, undefined, 42, 'E_WIN32', {}, { code: 'E_WIN32' }, { code: 'EACCES', message: 'x' }, { code: 5, message: 'x' }]) {
      expect(() => reviveWtsError(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('isWtsError recognises errors of both builds and nothing else', () => {
    // The ESM and CommonJS builds each have their own classes; jest cannot import ESM, so a
    // child node loads both and reports what it saw.
    const root = path.resolve(__dirname, '../..');
    const script = `
      const cjs = require(${JSON.stringify(path.join(root, 'dist/index.js'))});
      import(${JSON.stringify(pathToFileURL(path.join(root, 'dist/index.mjs')).href)}).then((esm) => {
        const fromEsm = new esm.Win32Error({ win32Code: 5, api: 'WTSLogoffSession' });
        const fromCjs = new cjs.ConsoleSessionError(1, '');
        const others = [Object.assign(new Error('x'), { code: 'EACCES' }), new Error('x'), { code: 'E_WIN32', message: 'plain' }, null];
        console.log(JSON.stringify({
          distinct: cjs.WtsError !== esm.WtsError,
          instanceofAcross: fromEsm instanceof cjs.WtsError,
          recognised: [cjs.isWtsError, esm.isWtsError].flatMap((f) => [f(fromEsm), f(fromCjs)]),
          others: [cjs.isWtsError, esm.isWtsError].flatMap((f) => others.map(f)),
          revived: cjs.reviveWtsError(fromEsm.toJSON()) instanceof cjs.Win32Error,
        }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      distinct: true,
      instanceofAcross: false, // why isWtsError exists
      recognised: [true, true, true, true],
      others: Array(8).fill(false),
      revived: true,
    });
  });
});

describe('reviveWtsError and isWtsError against hostile input', () => {
  const refuses = (value: unknown) => expect(() => reviveWtsError(value)).toThrow(InvalidArgumentError);

  it('revives into a real Error (it survives another structured clone)', () => {
    const back = reviveWtsError(new Win32Error({ win32Code: 5, api: 'WTSLogoffSession' }).toJSON());
    expect(Object.prototype.toString.call(back)).toBe('[object Error]');
    expect(require('node:util').types.isNativeError(back)).toBe(true);
    expect(structuredClone(back).message).toBe(back.message);
    expect(reviveWtsError(structuredClone(back.toJSON()))).toBeInstanceOf(Win32Error);
  });

  it('isWtsError is false for look-alikes and never throws', () => {
    const foreign = Object.assign(new Error('other library'), { code: 'E_TIMEOUT' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const v of [
      foreign,
      new Proxy({}, { get: () => true }),
      new Proxy(new Win32Error({ win32Code: 5, api: 'x' }), {}),
      Object.create(WtsError.prototype),
      WtsError.prototype,
      { [Symbol.for('wts-session.WtsError')]: true, code: 'E_WIN32', message: 'm' },
      proxy,
    ]) {
      expect(isWtsError(v)).toBe(false);
    }
    expect(() => reviveWtsError(foreign)).toThrow(InvalidArgumentError); // no E_ code of ours is enough
  });

  it('refuses fields of the wrong type, arrays, long or sparse arrays and deep or cyclic causes, quickly', () => {
    const base = { name: 'Win32Error', code: 'E_WIN32', message: 'm', requests: [] as unknown[] };
    refuses({ ...base, win32Code: '5' });
    refuses({ ...base, sessionId: -1.5 });
    refuses({ ...base, server: 5 });
    refuses(Object.assign(['x'], { code: 'E_WIN32', message: 'm' }));
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    refuses({ ...base, requests: sparse }); // refused by its length: reading it would take minutes
    refuses({ ...base, requests: [1] });
    const cyclic: Record<string, unknown> = { ...base };
    cyclic['cause'] = cyclic;
    refuses(cyclic);
    refuses({ ...base, code: 'E_SESSION_CHANGED', expected: { sessionId: 1, name: '', userName: 'u', domain: 'd', logonTime: 'not a date' } });
  });

  it('reads a getter once, drops fields that would shadow methods, and turns throwing input into InvalidArgumentError', () => {
    let reads = 0;
    const tricky = {
      get code() {
        reads++;
        return reads === 1 ? 'E_TIMEOUT' : 42;
      },
      message: 'm',
      toJSON: 'not a function',
      toString: 'x',
      constructor: 'y',
      extra: 'kept',
    };
    const back = reviveWtsError(tricky);
    expect(back.code).toBe('E_TIMEOUT');
    expect(back.code).toBe('E_TIMEOUT');
    expect(typeof back.toJSON).toBe('function');
    expect(String(back)).toBe('LogoffTimeoutError: m');
    expect((back as unknown as Record<string, unknown>)['extra']).toBe('kept');
    refuses(new Proxy({}, { ownKeys: () => { throw new Error('trap'); } }));
    refuses({ get code(): string { throw new RangeError('getter'); }, message: 'm' });
  });
});
