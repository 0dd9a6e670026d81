'use strict';
/**
 * The main process's side of the example's IPC: two handlers, and nothing else.
 *
 *   wts:list-sessions ()    -> { ok: true, value: Session[] }   | { ok: false, error }
 *   wts:logoff        (id)  -> { ok: true, value: LoggedOff }   | { ok: false, error }
 *
 * What the renderer sends is untrusted: a session ID must be a number, whole, from 0 to
 * 4294967293, and is checked here before anything else happens. Anything else ("3", 3.5, 2 ** 53,
 * an object, no argument at all, which the library would read as "my own session") is answered
 * with an E_INVALID_ARGUMENT error and makes no library call.
 *
 * Errors cross the process boundary as `error.toJSON()` (Electron's structured clone keeps only
 * `name` and `message` of an Error, so `code`, `win32Code`, `sessionId`, ... would be lost);
 * the renderer reads `error.code` (and `error.win32Code`), and can `reviveWtsError(error)` where
 * the library can be imported.
 *
 * This module does not require electron or wts-session: main.js passes both in, and the tests
 * pass a fake ipcMain and a Wts over createMockApi (test/examples/electron-handlers.test.ts).
 */

/** The channels, also written in preload.js (a sandboxed preload can require only 'electron'). */
const CHANNELS = Object.freeze({ listSessions: 'wts:list-sessions', logoff: 'wts:logoff' });

/** The highest session ID (0xFFFFFFFE is WTS_ANY_SESSION, 0xFFFFFFFF WTS_CURRENT_SESSION). */
const MAX_SESSION_ID = 0xfffffffd;

/**
 * Registers the two handlers on `ipcMain` (anything with `handle` and `removeHandler`).
 *
 * @param ipcMain - Electron's ipcMain, or a fake with the same two methods.
 * @param options.library - the wts-session module (for isWtsError and InvalidArgumentError).
 * @param options.wts - what runs the calls: a Wts (createWts({ api })) or the module itself
 *   (its top-level functions, on the default backend). Default: `library`.
 * @param options.isTrustedSender - whether an IPC event comes from the app's own page; events
 *   from any other frame are refused. Default: every sender is trusted (main.js passes a check).
 * @param options.log - where unexpected (non-library) errors are reported. Default console.error.
 * @returns a function that removes the handlers.
 */
function registerHandlers(ipcMain, options) {
  const { library, wts = library, isTrustedSender = () => true, log = console.error } = options || {};
  if (!library || typeof library.isWtsError !== 'function' || typeof library.InvalidArgumentError !== 'function') {
    throw new TypeError("registerHandlers(ipcMain, { library }): library must be the wts-session module (require('wts-session')).");
  }
  if (!wts || typeof wts.listSessions !== 'function' || typeof wts.logoff !== 'function') {
    throw new TypeError('registerHandlers(ipcMain, { wts }): wts must have listSessions and logoff (a Wts, or the module).');
  }

  const refuse = (argument, message) => ({ ok: false, error: new library.InvalidArgumentError(argument, message).toJSON() });

  async function answer(call) {
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      if (library.isWtsError(error)) return { ok: false, error: error.toJSON() };
      log('wts-session example: unexpected error in the main process:', error);
      return { ok: false, error: { name: 'Error', code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' } };
    }
  }

  ipcMain.handle(CHANNELS.listSessions, (event, ...args) => {
    if (!isTrustedSender(event)) return refuse('sender', 'This page may not use the session API.');
    if (args.length !== 0) return refuse('arguments', 'listSessions takes no arguments.');
    return answer(() => wts.listSessions());
  });

  ipcMain.handle(CHANNELS.logoff, (event, ...args) => {
    if (!isTrustedSender(event)) return refuse('sender', 'This page may not use the session API.');
    if (args.length !== 1) return refuse('id', `logoff takes exactly one argument, a session ID (got ${args.length}).`);
    const id = sessionId(args[0]);
    if (id === undefined) {
      return refuse('id', `Invalid session ID ${describe(args[0])}: a session ID is a whole number from 0 to ${MAX_SESSION_ID}.`);
    }
    return answer(() => wts.logoff(id));
  });

  return () => {
    ipcMain.removeHandler(CHANNELS.listSessions);
    ipcMain.removeHandler(CHANNELS.logoff);
  };
}

/**
 * The session ID `value` is, or undefined. Only a primitive number passes: no string ("3" is
 * not 3 here), no object (its valueOf or getters are never called), no BigInt.
 */
function sessionId(value) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_SESSION_ID) return undefined;
  return value === 0 ? 0 : value; // -0 is 0
}

/** What was sent, for the message, without running anything the sender made (no String(object)). */
function describe(value) {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    default:
      return value === null ? 'null' : `(${typeof value})`;
  }
}

module.exports = { registerHandlers, CHANNELS, MAX_SESSION_ID };
