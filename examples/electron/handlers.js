'use strict';
/**
 * The main process's side of the example's IPC: two handlers, and nothing else.
 *
 *   wts:list-sessions ()    -> { ok: true, value: Row[] }        | { ok: false, error }
 *   wts:logoff        (id)  -> { ok: true, value: LoggedOff }    | { ok: false, error }
 *
 *   Row = { session, canLogOff: true } | { session, canLogOff: false, reason, error }
 *
 * A listing is a dry run of logoffAll: one outcome per session, in the server's order. The page
 * gets each session and whether it can be logged off (if not, `reason` — the dry run's skip reason
 * ('console', 'services', 'listener', 'current': the session this app runs in; 'changed', 'gone'
 * when it changed while being listed) or 'failed' — and `error`: what wts:logoff(id) answers for
 * it). The dry run itself stays here: the logon (user, domain, logon time) listed for each session
 * ID is never sent to the page nor taken from it.
 *
 * wts:logoff(id) logs off only the logon that the last listing showed under that ID: it applies
 * that session's planned outcome, `logoffAll({ plan: [outcome] })`, which acts only while the ID
 * still holds that logon. Session IDs are reused: if the session has ended and another logon has
 * taken its ID since the listing, nothing is done and the answer is E_SESSION_CHANGED (or
 * E_NOT_FOUND when the ID is free). An ID the last listing did not show is refused with
 * E_NOT_LISTED, and one it showed but would not act on with that row's `error`; neither makes a
 * library call. A new listing replaces the last one as soon as it is asked for.
 *
 * What the renderer sends is untrusted: a session ID must be a number, whole, from 0 to
 * 4294967293, and is checked here before anything else happens. Anything else ("3", 3.5, 2 ** 53,
 * an object, no argument at all) is answered with an E_INVALID_ARGUMENT error and makes no
 * library call.
 *
 * Errors cross the process boundary as `error.toJSON()` (Electron's structured clone keeps only
 * `name` and `message` of an Error, so `code`, `win32Code`, `sessionId`, ... would be lost);
 * the renderer reads `error.code` (and `error.win32Code`), and can `reviveWtsError(error)` where
 * the library can be imported. Three codes are this app's, in the same plain form: E_NOT_LISTED,
 * E_OWN_SESSION (the session this app runs in, which logoffAll never acts on) and E_UNEXPECTED.
 *
 * This module does not require electron or wts-session: main.js passes both in, and the tests
 * pass a fake ipcMain and a Wts over createMockApi (test/examples/electron-handlers.test.ts).
 */

/** The channels, also written in preload.js (a sandboxed preload can require only 'electron'). */
const CHANNELS = Object.freeze({ listSessions: 'wts:list-sessions', logoff: 'wts:logoff' });

/** The highest session ID (0xFFFFFFFE is WTS_ANY_SESSION, 0xFFFFFFFF WTS_CURRENT_SESSION). */
const MAX_SESSION_ID = 0xfffffffd;

/** The library's classes the handlers make errors with. */
const LIBRARY_CLASSES = ['InvalidArgumentError', 'WtsError', 'ConsoleSessionError', 'ServicesSessionError', 'ListenerSessionError', 'SessionNotFoundError'];

/**
 * Registers the two handlers on `ipcMain` (anything with `handle` and `removeHandler`).
 *
 * @param ipcMain - Electron's ipcMain, or a fake with the same two methods.
 * @param options.library - the wts-session module (for isWtsError and its error classes).
 * @param options.wts - what runs the calls: a Wts (createWts({ api })) or the module itself
 *   (its top-level functions, on the default backend). Default: `library`.
 * @param options.isTrustedSender - whether an IPC event comes from the app's own page; events
 *   from any other frame are refused. Default: every sender is trusted (main.js passes a check).
 * @param options.log - where unexpected (non-library) errors are reported. Default console.error.
 * @returns a function that removes the handlers.
 */
function registerHandlers(ipcMain, options) {
  const { library, wts = library, isTrustedSender = () => true, log = console.error } = options || {};
  if (!library || typeof library.isWtsError !== 'function' || !LIBRARY_CLASSES.every((name) => typeof library[name] === 'function')) {
    throw new TypeError("registerHandlers(ipcMain, { library }): library must be the wts-session module (require('wts-session')).");
  }
  if (!wts || typeof wts.logoffAll !== 'function') {
    throw new TypeError('registerHandlers(ipcMain, { wts }): wts must have logoffAll (a Wts, or the module).');
  }

  const refuse = (argument, message) => ({ ok: false, error: new library.InvalidArgumentError(argument, message).toJSON() });
  const UNEXPECTED = Object.freeze({ name: 'Error', code: 'E_UNEXPECTED', message: 'Unexpected error in the main process (see its log).' });

  /** An error of this app's own, in the plain form of a WtsError. */
  const ownError = (code, sessionId, message) => ({ name: 'Error', code, message, server: '', sessionId, requests: [] });

  /**
   * The last listing: session ID -> { outcome } (its dry run's wouldLogOff outcome: the plan
   * wts:logoff applies) or { error } (why it is not logged off). Listings are numbered so that
   * only the one asked for last is kept, whatever order they finish in.
   */
  let listed = new Map();
  let listings = 0;

  /** The dry run's `wouldLogOff` outcomes can be logged off; for every other outcome, why not. */
  function refusal(outcome) {
    const { id, server } = outcome.session;
    if (outcome.status === 'failed' && library.isWtsError(outcome.error)) return { reason: 'failed', error: outcome.error.toJSON() };
    if (outcome.status === 'skipped') {
      switch (outcome.reason) {
        case 'console':
          return { reason: 'console', error: new library.ConsoleSessionError(id, server).toJSON() };
        case 'services':
          return { reason: 'services', error: new library.ServicesSessionError(id, server).toJSON() };
        case 'listener':
          return { reason: 'listener', error: new library.ListenerSessionError(id, server).toJSON() };
        case 'current':
          return {
            reason: 'current',
            error: ownError('E_OWN_SESSION', id, `Session ID ${id} is the session this app runs in; it is not logged off from here.`),
          };
        case 'changed':
          return {
            reason: 'changed',
            error: new library.WtsError('E_SESSION_CHANGED', outcome.message, { server, sessionId: id, requests: outcome.requests }).toJSON(),
          };
        case 'gone':
          return {
            reason: 'gone',
            error: new library.SessionNotFoundError(id, server, undefined, `Session ID ${id} has ended since it was listed; nothing was done to it.`).toJSON(),
          };
        default:
          break;
      }
    }
    // 'requested' (a call cut short) and the other skips ('filtered', 'notInPlan', 'aborted',
    // 'timeout') come only from options these handlers never pass.
    log('wts-session example: an outcome the handlers do not expect:', outcome);
    return { reason: 'failed', error: UNEXPECTED };
  }

  /** The reply for a call that threw: a library error in its plain form, anything else logged. */
  function failure(error) {
    if (library.isWtsError(error)) return { ok: false, error: error.toJSON() };
    log('wts-session example: unexpected error in the main process:', error);
    return { ok: false, error: UNEXPECTED };
  }

  async function list() {
    const mine = ++listings;
    listed = new Map(); // until this listing is done, there is nothing to log off
    let outcomes;
    try {
      outcomes = await wts.logoffAll({ dryRun: true });
    } catch (error) {
      return failure(error);
    }
    const rows = [];
    const next = new Map();
    for (const outcome of outcomes) {
      const session = outcome.session;
      if (outcome.status === 'wouldLogOff') {
        next.set(session.id, { outcome });
        rows.push({ session, canLogOff: true });
      } else {
        const why = refusal(outcome);
        next.set(session.id, { error: why.error });
        rows.push({ session, canLogOff: false, reason: why.reason, error: why.error });
      }
    }
    if (mine === listings) listed = next;
    return { ok: true, value: rows };
  }

  async function logoffListed(id, planned) {
    let outcomes;
    try {
      outcomes = await wts.logoffAll({ plan: [planned] });
    } catch (error) {
      return failure(error);
    }
    // One outcome per session of the server: the others are 'notInPlan'.
    const outcome = outcomes.find((o) => o.session.id === id);
    if (outcome && outcome.status === 'loggedOff') return { ok: true, value: outcome };
    if (!outcome) {
      log(`wts-session example: logoffAll reported nothing for session ${id}:`, outcomes);
      return { ok: false, error: UNEXPECTED };
    }
    return { ok: false, error: refusal(outcome).error };
  }

  ipcMain.handle(CHANNELS.listSessions, (event, ...args) => {
    if (!isTrustedSender(event)) return refuse('sender', 'This page may not use the session API.');
    if (args.length !== 0) return refuse('arguments', 'listSessions takes no arguments.');
    return list();
  });

  ipcMain.handle(CHANNELS.logoff, (event, ...args) => {
    if (!isTrustedSender(event)) return refuse('sender', 'This page may not use the session API.');
    if (args.length !== 1) return refuse('id', `logoff takes exactly one argument, a session ID (got ${args.length}).`);
    const id = sessionId(args[0]);
    if (id === undefined) {
      return refuse('id', `Invalid session ID ${describe(args[0])}: a session ID is a whole number from 0 to ${MAX_SESSION_ID}.`);
    }
    const entry = listed.get(id); // now: a listing asked for after this request does not count
    if (!entry) {
      return {
        ok: false,
        error: ownError('E_NOT_LISTED', id, `Session ID ${id} is not in the last list of sessions; list them again, then choose.`),
      };
    }
    if (entry.error) return { ok: false, error: entry.error };
    return logoffListed(id, entry.outcome);
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
