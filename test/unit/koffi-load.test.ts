/**
 * What the library says when koffi cannot be loaded, and where it loads its own DLL from inside an
 * Electron asar archive: pure functions, on every OS. The same errors, end to end from a bundle,
 * are in test/package/bundle.test.ts.
 */
import { koffiLoadError } from '../../src/backends/koffi/bindings';
import { createKoffiApi, outsideAsar } from '../../src/backends/koffi/koffi-api';
import { isWtsError, UnsupportedPlatformError } from '../../src';

function notFound(module: string, from: string): Error {
  return Object.assign(new Error(`Cannot find module '${module}'\nRequire stack:\n- ${from}`), { code: 'MODULE_NOT_FOUND' });
}

describe('koffiLoadError', () => {
  test('koffi not found: says so, where from, and that a bundle must keep it external', () => {
    const cause = notFound('koffi', 'C:\\app\\tool.js');
    const error = koffiLoadError(cause, 'C:\\app\\tool.js', 'win32', 'x64');
    expect(error).toBeInstanceOf(UnsupportedPlatformError);
    expect(isWtsError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED_PLATFORM', platform: 'win32', cause });
    expect(error.message).toBe(
      "koffi could not be loaded (Cannot find module 'koffi' from C:\\app\\tool.js). wts-session needs the koffi package installed " +
        'next to it (npm installs it with wts-session, as its dependency); if you bundle your tool, keep koffi external and ship ' +
        'its node_modules folder with the bundle: see https://github.com/wts-session/wts-session/blob/main/docs/bundling.md.',
    );
    expect(error.message).not.toMatch(/optional dependencies|Require stack/);
  });

  test('koffi there, its binary package not: names the package, and is not "koffi not found"', () => {
    const error = koffiLoadError(new Error('Cannot find the native Koffi module; did you bundle it correctly?'), '/app/tool.js', 'win32', 'arm64');
    expect(error.message).toMatch(/^koffi is installed, but its native binary for win32-arm64 is missing \(Cannot find the native Koffi module; did you bundle it correctly\?\)\./);
    expect(error.message).toContain('@koromix/koffi-win32-arm64, an optional dependency of koffi');
    expect(error.message).toContain('without --omit=optional');
    expect(error.message).toContain('node_modules/@koromix/koffi-win32-arm64 next to node_modules/koffi');
  });

  test('its binary package there but empty or cut short (a partial copy): also the binary-missing message', () => {
    const error = koffiLoadError(notFound('/app/node_modules/@koromix/koffi-linux-x64', '/app/node_modules/koffi/index.cjs'), '/app/tool.js', 'linux', 'x64');
    expect(error.message).toMatch(/^koffi is installed, but its native binary for linux-x64 is missing \(Cannot find module '\/app\/node_modules\/@koromix\/koffi-linux-x64'\)\./);
    const windows = koffiLoadError(notFound('C:\\app\\node_modules\\@koromix\\koffi-win32-x64', 'C:\\app\\node_modules\\koffi\\index.cjs'), 'C:\\app\\tool.js', 'win32', 'x64');
    expect(windows.message).toMatch(/^koffi is installed, but its native binary for win32-x64 is missing/);
  });

  test('a module koffi itself needs is missing (a broken install): not mistaken for koffi missing', () => {
    const error = koffiLoadError(notFound('./src/koffi/index.cjs', '/app/node_modules/koffi/index.cjs'), '/app/tool.js', 'linux', 'x64');
    expect(error.message).toBe(
      "koffi could not be loaded (Cannot find module './src/koffi/index.cjs'). wts-session calls wtsapi32 through koffi; " +
        'see https://github.com/wts-session/wts-session/blob/main/docs/bundling.md for how it must be installed and shipped.',
    );
  });

  test('koffi and its binary of different versions; an engine koffi refuses; anything thrown', () => {
    expect(koffiLoadError(new Error('Mismatched native Koffi modules'), '/a.js', 'win32', 'x64').message).toMatch(
      /^koffi is installed, but its native binary \(@koromix\/koffi-win32-x64\) is of another version than koffi itself/,
    );
    const engine = 'This engine is based on Node 16.0.0, but koffi does not support the Node 16.x branch (Node-API < 8)';
    expect(koffiLoadError(new Error(engine), '/a.js').message).toBe(`koffi could not be loaded (${engine}). wts-session calls wtsapi32 through koffi; see https://github.com/wts-session/wts-session/blob/main/docs/bundling.md for how it must be installed and shipped.`);
    expect(koffiLoadError('a string', '/a.js').message).toMatch(/^koffi could not be loaded \(a string\)\./);
    expect(koffiLoadError(null, '/a.js').message).toMatch(/^koffi could not be loaded \(null\)\./);
  });
});

describe('outsideAsar', () => {
  const dll = ['node_modules', 'wts-session', 'prebuilds', 'win32-x64', 'wts_lanes.dll'];

  test('a path outside any archive is returned as it is, without looking', () => {
    const exists = jest.fn(() => false);
    expect(outsideAsar('/repo/prebuilds/win32-x64/wts_lanes.dll', exists)).toBe('/repo/prebuilds/win32-x64/wts_lanes.dll');
    expect(outsideAsar('C:\\apps\\my.asar-tools\\wts_lanes.dll', exists)).toBe('C:\\apps\\my.asar-tools\\wts_lanes.dll');
    expect(exists).not.toHaveBeenCalled();
  });

  test('inside app.asar: the same file under app.asar.unpacked (Windows and POSIX separators)', () => {
    const win = ['C:\\Program Files\\Admin\\resources\\app.asar', ...dll].join('\\');
    const unpackedWin = ['C:\\Program Files\\Admin\\resources\\app.asar.unpacked', ...dll].join('\\');
    expect(outsideAsar(win, (p) => p === unpackedWin)).toBe(unpackedWin);
    const posix = ['/opt/Admin/resources/app.asar', ...dll].join('/');
    expect(outsideAsar(posix, (p) => p === ['/opt/Admin/resources/app.asar.unpacked', ...dll].join('/'))).toBe(['/opt/Admin/resources/app.asar.unpacked', ...dll].join('/'));
  });

  test('inside the archive and not unpacked: a plain error naming both fixes', () => {
    const path = ['C:\\Admin\\resources\\app.asar', ...dll].join('\\');
    let error: unknown;
    try {
      outsideAsar(path, () => false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedPlatformError);
    expect((error as Error).message).toMatch(/^C:\\Admin\\resources\\app\.asar\\.*wts_lanes\.dll is inside an asar archive, where Windows cannot load it\./);
    expect((error as Error).message).toContain('asarUnpack');
    expect((error as Error).message).toContain('createKoffiApi({ lanes: false })');
  });
});

describe('createKoffiApi: its options are checked before anything is loaded', () => {
  test.each([
    [{ maxThread: 4 }, 'options.maxThread', /Unknown option 'maxThread'/],
    [{ wtsapi32: 5 }, 'options.wtsapi32', /expected the path or name of the library, got 5/],
    [{ kernel32: '' }, 'options.kernel32', /expected the path or name/],
    [{ lanes: true }, 'options.lanes', /or false, got true/],
    [{ wtsapi32: '   ' }, 'options.wtsapi32', /expected the path or name/],
    [{ netapi32: 'a\0b' }, 'options.netapi32', /expected the path or name/],
    [{ maxThreads: 0 }, 'options.maxThreads', /integer from 1/],
  ])('%j: InvalidArgumentError naming %s', (options, argument, message) => {
    let error: unknown;
    try {
      createKoffiApi(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument });
    expect((error as Error).message).toMatch(message);
  });
});

test('createKoffiApi reads each option once: a getter cannot pass the check and then hand the loader something else', () => {
  let reads = 0;
  const options = {
    get wtsapi32() {
      reads++;
      return reads <= 1 ? '/nonexistent/wtsapi32.so' : 42;
    },
    lanes: false as const,
  };
  let error: unknown;
  try {
    createKoffiApi(options as never);
  } catch (e) {
    error = e;
  }
  expect(reads).toBe(1);
  expect(String((error as Error).message)).not.toMatch(/42|Number value/);
});
