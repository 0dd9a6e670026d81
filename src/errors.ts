/**
 * Every error the library throws is a {@link WtsError} with a stable string `code`.
 * Match on `code` (or `instanceof`), never on the message: messages may be improved.
 */

/** Every `code` a {@link WtsError} can have, in the order of docs/errors.md. */
export const WTS_ERROR_CODES = [
  'E_INVALID_ARGUMENT',
  'E_UNSUPPORTED_PLATFORM',
  'E_NOT_FOUND',
  'E_NOT_ACTIVE',
  'E_PROCESS_NOT_FOUND',
  'E_CONSOLE',
  'E_SERVICES',
  'E_LISTENER',
  'E_SESSION_CHANGED',
  'E_TIMEOUT',
  'E_SERVER_TIMEOUT',
  'E_ABORTED',
  'E_THREADS_EXHAUSTED',
  'E_WIN32',
] as const;

/** The stable string code of a {@link WtsError}; match on it, never on the message. */
export type WtsErrorCode = (typeof WTS_ERROR_CODES)[number];

/** At most this many items of an array are read from or written to a plain form. */
const MAX_ITEMS = 64;

/**
 * Marks the prototype of every WtsError. A registered symbol is the same in every copy of the
 * package (the ESM and the CommonJS build, a nested install), where `instanceof` is not.
 */
const BRAND = Symbol.for('wts-session.WtsError');

/**
 * The plain-object form of a {@link WtsError}: what `JSON.stringify(error)` and
 * {@link WtsError.toJSON} give, and what {@link reviveWtsError} turns back into an error. It has
 * `name`, `code`, `message`, `server`, `sessionId` and `requests`, plus the fields of the error's
 * class (`win32Code`, `api`, `argument`, `timeoutMs`, ...). Dates are ISO strings; a `cause` is
 * kept when it is an error (as its own plain form, or `{ name, message }`). No stack.
 */
export interface WtsErrorJSON {
  /** The error class's name (`'Win32Error'`; `'AbortError'` for an OperationAbortedError). */
  readonly name: string;
  /** The error's code. */
  readonly code: WtsErrorCode;
  /** The error's message. */
  readonly message: string;
  /** The server (`''` = local), when the error is about one. */
  readonly server?: string;
  /** The session, when the error is about one. */
  readonly sessionId?: number;
  /** The requests already sent (and accepted) when the error came. */
  readonly requests: readonly string[];
  /** The error's cause, when it is an error: its own plain form, or its name and message. */
  readonly cause?: WtsErrorJSON | { readonly name: string; readonly message: string };
  /** The fields of the error's class (`win32Code`, `api`, `argument`, `timeoutMs`, ...). */
  readonly [field: string]: unknown;
}

/**
 * Where an error happened: the server ('' = local) and the session, when known, its cause, and
 * the requests already sent. What a {@link WtsError}'s constructor takes besides its code and
 * message.
 */
export interface ErrorContext {
  /** The server (`''` = local). */
  readonly server?: string;
  /** The session. */
  readonly sessionId?: number;
  /** What caused the error (becomes the error's standard `cause`). */
  readonly cause?: unknown;
  /** Requests already sent (and accepted) when the error came: they may still take effect. */
  readonly requests?: readonly string[];
}

/**
 * The base of every error the library throws: a stable string `code` ({@link WtsErrorCode}) to
 * match on, and where it happened. Match on `code` (or use {@link isWtsError}, which works across
 * builds), never on the message. See docs/errors.md for every class and code.
 *
 * @example
 * ```ts
 * try {
 *   await logoff('Console');
 * } catch (error) {
 *   if (isWtsError(error) && error.code === 'E_CONSOLE') console.log('refused:', error.message);
 *   else throw error;
 * }
 * ```
 */
export class WtsError extends Error {
  /** The stable code: what kind of error this is. */
  readonly code: WtsErrorCode;
  /** '' for the local server; undefined when the error is not about a server. */
  readonly server: string | undefined;
  /** The session the error is about; undefined when it is not about one. */
  readonly sessionId: number | undefined;
  /**
   * The requests this call had already sent, and that were accepted, when it failed (e.g.
   * ['WTSLogoffSession'] when only the wait for the session to close failed): they may still
   * take effect. [] when nothing was sent.
   */
  readonly requests: readonly string[];

  /**
   * An error with this code. (The library throws the subclass of each code; a backend of your own
   * reports Win32 failures as {@link Win32Error}.)
   *
   * @param code - the error's code.
   * @param message - what happened and what to do.
   * @param context - the server, session, cause and requests sent, where known.
   */
  constructor(code: WtsErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.server = context.server;
    this.sessionId = context.sessionId;
    this.requests = Object.freeze([...(context.requests ?? [])]);
  }

  /**
   * The error as a plain object that survives JSON, `postMessage` and Electron IPC (which keep
   * only `name` and `message` of an Error): `name`, `code`, `message` and every field of its
   * class. Revive it with {@link reviveWtsError}.
   *
   * @returns the plain object; `JSON.stringify(error)` gives its JSON.
   * @example
   * ```ts
   * ipcMain.handle('logoff', async (_e, id) => {
   *   try { return { ok: true, value: await logoff(id) }; }
   *   catch (error) { return { ok: false, error: isWtsError(error) ? error.toJSON() : String(error) }; }
   * });
   * ```
   */
  toJSON(): WtsErrorJSON {
    return errorToJson(this, 0);
  }
}
Object.defineProperty(WtsError.prototype, BRAND, { value: true });

/** How deep a cause chain or a field's value is followed (a cycle ends there). */
const MAX_DEPTH = 8;

function errorToJson(error: WtsError, depth: number): WtsErrorJSON {
  const out: Record<string, unknown> = { name: error.name, code: error.code, message: error.message };
  for (const key of Object.keys(error)) {
    if (key === 'name' || key === 'code' || key === 'message' || key === 'stack') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = plain(value, 0);
  }
  const cause = (error as { cause?: unknown }).cause;
  if (depth < MAX_DEPTH && (cause instanceof Error || isWtsError(cause))) {
    out['cause'] = isWtsError(cause) ? errorToJson(cause, depth + 1) : { name: String(cause.name), message: String(cause.message) };
  }
  return out as unknown as WtsErrorJSON;
}

function plain(value: unknown, depth: number): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => plain(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, depth + 1)]));
}

/**
 * Whether `value` is an error thrown by this library, from either of its builds (ESM or
 * CommonJS) or another copy of the package, where `instanceof WtsError` would say no: a real
 * `Error` object whose prototype chain has the library's registered brand and whose `code` is a
 * string. Another library's error with a code like `'E_TIMEOUT'`, a plain object (such as the
 * plain form from {@link WtsError.toJSON}: revive it with {@link reviveWtsError}), a proxy or a
 * prototype is not one. Never throws.
 *
 * @param value - anything caught.
 * @returns true when `value` is a {@link WtsError}; narrows its type.
 */
export function isWtsError(value: unknown): value is WtsError {
  try {
    if (value === null || typeof value !== 'object') return false;
    if (Object.prototype.toString.call(value) !== '[object Error]') return false;
    return (value as Record<symbol, unknown>)[BRAND] === true && typeof (value as { code?: unknown }).code === 'string';
  } catch {
    return false; // a revoked proxy, a throwing trap
  }
}

/**
 * A copy of a library error (same class, same fields) with some fields replaced: for adding what
 * the caller knows (`requests`, a longer `message`) without writing on the error it was given,
 * which a backend may share among several calls or have frozen. The copy has the error's own
 * properties (a backend's error class that keeps a field in a `#private` slot loses it: docs/createWts.md)
 * and its stack, whose first line then carries the new message. Not exported from the package.
 */
export function copyWtsError<E extends WtsError>(error: E, fields: { readonly [K in 'message' | 'requests' | 'server' | 'sessionId']?: E[K] }): E {
  const descriptors = Object.getOwnPropertyDescriptors(error) as PropertyDescriptorMap;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const enumerable = key !== 'message';
    descriptors[key] = { value: key === 'requests' ? Object.freeze([...(value as readonly string[])]) : value, enumerable, writable: true, configurable: true };
  }
  // The stack's first line is "Name: message": it says the new message (as console.error shows it).
  const stack = descriptors['stack']?.value as unknown;
  if (fields.message !== undefined && typeof stack === 'string') {
    const head = `${String(error.name)}: ${String(error.message)}`;
    if (stack.startsWith(head)) descriptors['stack'] = { ...descriptors['stack'], value: `${String(error.name)}: ${fields.message}${stack.slice(head.length)}` };
  }
  // A real Error (Object.create would lack its internal slot, and isWtsError would say no).
  const copy = new Error();
  Object.setPrototypeOf(copy, Object.getPrototypeOf(error) as object);
  return Object.defineProperties(copy, descriptors) as E;
}

/** `E_INVALID_ARGUMENT`: a bad argument or option, found before any system call was made. */
export class InvalidArgumentError extends WtsError {
  /** The argument's name as the caller wrote it: 'target', 'server', 'options.timeoutMs'. */
  readonly argument: string;
  /**
   * The error for a bad argument.
   *
   * @param argument - the argument's name.
   * @param message - what is wrong with it and what is accepted.
   */
  constructor(argument: string, message: string) {
    super('E_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/**
 * `E_UNSUPPORTED_PLATFORM`: no usable backend — not Windows and not simulated, and none was
 * given — or Koffi or a library could not be loaded. The message says how to simulate instead.
 */
export class UnsupportedPlatformError extends WtsError {
  /** `process.platform` where it happened. */
  readonly platform: string;
  /**
   * The error for a platform without a backend.
   *
   * @param platform - the platform.
   * @param message - why, and what to do.
   * @param context - the cause (a loading error), where known.
   */
  constructor(platform: string, message: string, context: ErrorContext = {}) {
    super('E_UNSUPPORTED_PLATFORM', message, context);
    this.platform = platform;
  }
}

/** `E_NOT_FOUND`: no session with that ID or name on the server (or the caller is in none). */
export class SessionNotFoundError extends WtsError {
  /** What was looked for: the ID or the name as given. */
  readonly target: number | string;
  /**
   * The error for a session that is not there.
   *
   * @param target - the ID or name looked for.
   * @param server - the server (`''` = local).
   * @param cause - the error that said so (7022), if any.
   * @param message - a message of its own, instead of `Session ... not found on ...`.
   */
  constructor(target: number | string, server: string, cause?: unknown, message?: string) {
    const what = typeof target === 'number' ? `Session ID ${target}` : `Session '${target}'`;
    super('E_NOT_FOUND', message ?? `${what} not found on ${serverLabel(server)}.`, {
      server,
      ...(typeof target === 'number' ? { sessionId: target } : {}),
      ...(cause === undefined ? {} : { cause }),
    });
    this.target = target;
  }
}

/** `E_PROCESS_NOT_FOUND`: no process has that ID, or none that name, anywhere on the server (terminateProcess). */
export class ProcessNotFoundError extends WtsError {
  /** What was looked for: the process ID or the name as given. */
  readonly target: number | string;
  /**
   * The error for a process that is not there.
   *
   * @param target - the process ID or name looked for.
   * @param server - the server (`''` = local).
   */
  constructor(target: number | string, server: string) {
    const what = typeof target === 'number' ? `No process has ID ${target}` : `No process is named '${target}'`;
    super('E_PROCESS_NOT_FOUND', `${what} on ${serverLabel(server)}.`, { server });
    this.target = target;
  }
}

/** `E_NOT_ACTIVE`: a session named by its WinStation name (for logoff or disconnect) is not Active. */
export class SessionNotActiveError extends WtsError {
  /** The WinStation name it was named by. */
  readonly sessionName: string;
  /** Its state. */
  readonly state: string;
  /**
   * The error for a named session that is not Active.
   *
   * @param sessionName - the name.
   * @param sessionId - the session's ID.
   * @param state - its state.
   * @param server - the server (`''` = local).
   */
  constructor(sessionName: string, sessionId: number, state: string, server: string) {
    super(
      'E_NOT_ACTIVE',
      `Session '${sessionName}' (ID ${sessionId}) on ${serverLabel(server)} is ${state}, not Active: ` +
        'a session named by its name must be active. Use its session ID instead.',
      { server, sessionId },
    );
    this.sessionName = sessionName;
    this.state = state;
  }
}

/** Which protected session a {@link ProtectedSessionError} is about. */
export type ProtectedKind = 'console' | 'services' | 'listener';

/**
 * A session the library never acts on (the protected-sessions rule): the console (unless it is
 * your own), Services (session 0), a listener. The base of {@link ConsoleSessionError},
 * {@link ServicesSessionError} and {@link ListenerSessionError}.
 */
export class ProtectedSessionError extends WtsError {
  /** Which one. */
  readonly kind: ProtectedKind;
  /**
   * For the three subclasses; you catch these, you do not make them.
   *
   * @param code - `E_CONSOLE`, `E_SERVICES` or `E_LISTENER`.
   * @param kind - which kind of protected session.
   * @param message - the whole message.
   * @param context - the server and session.
   */
  protected constructor(code: WtsErrorCode, kind: ProtectedKind, message: string, context: ErrorContext) {
    super(code, message, context);
    this.kind = kind;
  }
}

/**
 * `E_CONSOLE`: the console session — named `Console`, or the local `WTSGetActiveConsoleSessionId()`
 * — which is never logged off or disconnected unless it is your own session.
 */
export class ConsoleSessionError extends ProtectedSessionError {
  /**
   * The refusal of the console session.
   *
   * @param sessionId - the console's session ID, when known.
   * @param server - the server (`''` = local).
   */
  constructor(sessionId: number | undefined, server: string) {
    super(
      'E_CONSOLE',
      'console',
      `${sessionId === undefined ? 'The console session' : `Session ID ${sessionId}`} on ${serverLabel(server)} ` +
        `${sessionId === undefined ? 'is' : 'is the console session; it is'} never logged off or disconnected ` +
        '(only your own session may be, by giving no target).',
      { server, ...(sessionId === undefined ? {} : { sessionId }) },
    );
  }
}

/** `E_SERVICES`: session 0 (Services), never logged off, disconnected or messaged, whoever asks. */
export class ServicesSessionError extends ProtectedSessionError {
  /**
   * The refusal of session 0.
   *
   * @param sessionId - 0.
   * @param server - the server (`''` = local).
   */
  constructor(sessionId: number, server: string) {
    super(
      'E_SERVICES',
      'services',
      `Session ID ${sessionId} on ${serverLabel(server)} is the Services session (session 0); it is never logged off, disconnected or messaged.`,
      { server, sessionId },
    );
  }
}

/** `E_LISTENER`: a listener (ID 65536 and above, or state Listen), which has no user to act on. */
export class ListenerSessionError extends ProtectedSessionError {
  /**
   * The refusal of a listener.
   *
   * @param sessionId - the listener's ID.
   * @param server - the server (`''` = local).
   */
  constructor(sessionId: number, server: string) {
    super(
      'E_LISTENER',
      'listener',
      `Session ID ${sessionId} on ${serverLabel(server)} is a listener (it accepts new connections); it has no user to act on.`,
      { server, sessionId },
    );
  }
}

/**
 * `E_SESSION_CHANGED`: the session ID now belongs to another logon (user, domain or logon time
 * differ) than the one listed, planned or warned: nothing was done to it.
 */
export class SessionChangedError extends WtsError {
  /** The logon that was to be acted on. */
  readonly expected: SessionIdentity;
  /** The logon the ID holds now; undefined when it is gone. */
  readonly actual: SessionIdentity | undefined;
  /**
   * The error for a session ID that holds another logon now.
   *
   * @param sessionId - the session ID.
   * @param server - the server (`''` = local).
   * @param expected - the logon that was to be acted on.
   * @param actual - the logon there now, if any.
   */
  constructor(sessionId: number, server: string, expected: SessionIdentity, actual: SessionIdentity | undefined) {
    super(
      'E_SESSION_CHANGED',
      `Session ID ${sessionId} on ${serverLabel(server)} changed before it was acted on ` +
        `(was ${describeIdentity(expected)}, now ${actual ? describeIdentity(actual) : 'gone'}); nothing was done to it.`,
      { server, sessionId },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Who a session is: the logon behind a session ID. Session IDs are reused, so a session is the
 * same only while its user, domain and logon time (WTSINFOW's LogonTime) are. The WinStation name
 * is compared only for a session nobody is logged on to (it changes when a user disconnects or
 * reconnects). A dry run's `wouldLogOff` outcomes carry it as `identity`.
 */
export interface SessionIdentity {
  /** The session ID. */
  readonly sessionId: number;
  /** The WinStation name when the identity was read (compared only for a session without a user). */
  readonly name: string;
  /** The user (`''` for none). */
  readonly userName: string;
  /** The user's domain. */
  readonly domain: string;
  /** WTSINFOW's LogonTime; null when the server reports none (no user logged on). */
  readonly logonTime: Date | null;
}

export function describeIdentity(id: SessionIdentity): string {
  const user = id.userName ? (id.domain ? `${id.domain}\\${id.userName}` : id.userName) : 'no user';
  const logon = id.logonTime ? `, logged on ${id.logonTime.toISOString()}` : '';
  return `${id.name ? `'${id.name}' ` : ''}${user}${logon}`;
}

/**
 * `E_TIMEOUT`: the logoff was requested (and accepted) but the session had not gone when
 * `timeoutMs` ran out. It may still close. (disconnect's timeout is a {@link WtsError} with this
 * code too.)
 */
export class LogoffTimeoutError extends WtsError {
  /** How long was waited, in ms. */
  readonly timeoutMs: number;
  /**
   * The error for a logoff that did not finish in time.
   *
   * @param sessionId - the session.
   * @param server - the server (`''` = local).
   * @param timeoutMs - how long was waited.
   */
  constructor(sessionId: number, server: string, timeoutMs: number) {
    super(
      'E_TIMEOUT',
      `Session ID ${sessionId} on ${serverLabel(server)} was asked to log off but had not closed after ${timeoutMs} ms ` +
        '(programs may be blocking the logoff). It may still close; check again with listSessions.',
      { server, sessionId },
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `E_SERVER_TIMEOUT`: a server did not finish within `serverTimeoutMs` in a call over many
 * servers; it is reported in `failures`, and no request is started on it after that.
 */
export class ServerTimeoutError extends WtsError {
  /** The server's time limit, in ms. */
  readonly timeoutMs: number;
  /**
   * The error for a server that did not finish in time.
   *
   * @param server - the server, as given.
   * @param timeoutMs - its time limit.
   */
  constructor(server: string, timeoutMs: number) {
    super(
      'E_SERVER_TIMEOUT',
      `Server ${server} did not finish within ${timeoutMs} ms; no session on it is acted on after that ` +
        '(calls already made may still complete).',
      { server },
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `E_ABORTED`: the caller's AbortSignal fired. `name` is `'AbortError'`, as for Node's own
 * aborted calls; `cause` is the signal's reason; `requests` lists what had already been sent.
 */
export class OperationAbortedError extends WtsError {
  /**
   * The error for an abort.
   *
   * @param what - what was aborted ('logoff', 'Waiting for session 5').
   * @param reason - the signal's reason.
   * @param context - the server, session and requests already sent.
   */
  constructor(what: string, reason: unknown, context: Omit<ErrorContext, 'cause'> = {}) {
    const requests = context.requests ?? [];
    super(
      'E_ABORTED',
      `${what} was aborted.${requests.length > 0 ? ` ${requests.join(' and ')} had already been sent and accepted; it may still take effect.` : ''}`,
      { ...context, cause: reason },
    );
    this.name = 'AbortError';
  }
}

/**
 * `E_THREADS_EXHAUSTED`: every thread the library may start for blocking calls is held by a call
 * that has not returned for a long time (a dead server's RPC timeout) or that its caller
 * abandoned, so new work is refused — no call is made — instead of queueing behind them. The
 * threads come back as those calls return.
 */
export class ThreadsExhaustedError extends WtsError {
  /** The limit that was reached (createKoffiApi's `maxThreads`). */
  readonly maxThreads: number;
  /** How many of those threads are held by calls that were abandoned (timed out or aborted). */
  readonly abandoned: number;
  /**
   * The refusal of a call when every thread is stuck.
   *
   * @param maxThreads - the limit.
   * @param abandoned - how many of the threads hold abandoned calls.
   * @param stuckAfterMs - when a call counts as stuck.
   * @param server - the server the refused call was for, if any.
   */
  constructor(maxThreads: number, abandoned: number, stuckAfterMs: number, server?: string) {
    super(
      'E_THREADS_EXHAUSTED',
      `All ${maxThreads} of wts-session's threads are held by calls that have not returned for ${stuckAfterMs} ms or more ` +
        `(${abandoned} of them abandoned by their caller), typically calls to servers that do not answer; the call was not made. ` +
        'Each thread is freed when its call returns (the server answers or its RPC times out). ' +
        'Raise createKoffiApi({ maxThreads }) if you talk to many dead servers at once.',
      server === undefined ? {} : { server },
    );
    this.maxThreads = maxThreads;
    this.abandoned = abandoned;
  }
}

/**
 * `E_WIN32`: a Win32 call failed. `win32Code` is GetLastError() read right after the call; `api`
 * the function; the message says what to do for the codes administrators meet (5, 1722, ...).
 * Also what a {@link WtsApi} backend rejects with.
 */
export class Win32Error extends WtsError {
  /** The Win32 error code (GetLastError): 5 access denied, 1722 RPC server unavailable, 7022 session not found, ... */
  readonly win32Code: number;
  /** The Win32 function: 'WTSLogoffSession', 'WTSEnumerateSessionsExW', ... */
  readonly api: string;
  /** The system's text for the code (FormatMessageW or the built-in table). */
  readonly systemMessage: string;
  /** What to do about this code ('' when there is nothing specific to say). */
  readonly hint: string;

  /**
   * The error for a failed Win32 call, with its message built from the code unless one is given.
   *
   * @param init - `win32Code`, `api`, and optionally the `systemMessage` (default: the built-in
   *   English text), a `message` of its own, and the {@link ErrorContext}.
   */
  constructor(
    init: { win32Code: number; api: string; systemMessage?: string; message?: string } & ErrorContext,
  ) {
    const systemMessage = init.systemMessage ?? win32Message(init.win32Code);
    const message =
      init.message ??
      `${init.api} failed${init.server !== undefined ? ` on ${serverLabel(init.server)}` : ''}` +
        `${init.sessionId !== undefined ? ` for session ID ${init.sessionId}` : ''}. ` +
        `Error [${init.win32Code}]: ${systemMessage}${win32Hint(init.win32Code, init.api)}`;
    super('E_WIN32', message, init);
    this.win32Code = init.win32Code;
    this.api = init.api;
    this.systemMessage = systemMessage;
    this.hint = win32Hint(init.win32Code, init.api).trim();
  }
}

/**
 * The text of anything thrown, whatever it is: an Error's message, else its string form — and a
 * value that cannot be turned into a string (a null-prototype object, a throwing toString) still
 * gives one. For messages about a user's callback or option getter that threw.
 */
export function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/**
 * Where messages send people for more: the docs on the repository (package.json's `repository`),
 * since docs/ is not in the published package. test/docs/links.test.ts keeps the two in step.
 */
export const DOCS_URL = 'https://github.com/wts-session/wts-session/blob/main/docs/';

/** How the error message names a server. */
export function serverLabel(server: string | undefined): string {
  return server ? `server ${server}` : 'the local server';
}

const WIN32_MESSAGES: Readonly<Record<number, string>> = {
  0: 'The call failed without setting an error code (the server\'s implementation of it is a stub).',
  2: 'The system cannot find the file specified.',
  5: 'Access is denied.',
  6: 'The handle is invalid.',
  8: 'Not enough memory resources are available to process this command.',
  50: 'The request is not supported.',
  53: 'The network path was not found.',
  87: 'The parameter is incorrect.',
  120: 'This function is not supported on this system.',
  122: 'The data area passed to a system call is too small.',
  1332: 'No mapping between account names and security IDs was done.',
  1460: 'This operation returned because the timeout period expired.',
  1722: 'The RPC server is unavailable.',
  1726: 'The remote procedure call failed.',
  1745: 'The procedure number is out of range.',
  7007: 'A close operation is pending on the session.',
  7022: 'The specified session cannot be found.',
  7045: 'The requested session access is denied.',
};

/** The system text of a Win32 error code, from the built-in table (English). */
export function win32Message(code: number): string {
  return WIN32_MESSAGES[code] ?? `Unknown error (0x${(code >>> 0).toString(16).toUpperCase()}).`;
}

/** A sentence on what to do, for the codes administrators meet. */
export function win32Hint(code: number, api?: string): string {
  if (api === 'WTSTerminateProcess' && code === 5) {
    return " Only an administrator of that server can end another user's processes (tskill's rule); PID 0 and protected processes cannot be ended at all.";
  }
  switch (code) {
    case 5:
    case 7045:
      return ' Logging off or disconnecting another user needs Full Control (or Reset) permission on the session: run elevated, as an administrator of that server.';
    case 50:
    case 120:
      return ' The call is not implemented by this server (an older Windows, Wine, or a server without Remote Desktop Services).';
    case 1722:
    case 1726:
      return ' Check the server name, that it is up, that the firewall allows RPC, and that remote RPC to Terminal Services is allowed (AllowRemoteRPC).';
    default:
      return '';
  }
}

type ErrorClass = abstract new (...args: never[]) => WtsError;
const CLASS_OF_CODE: Readonly<Record<WtsErrorCode, ErrorClass>> = {
  E_INVALID_ARGUMENT: InvalidArgumentError,
  E_UNSUPPORTED_PLATFORM: UnsupportedPlatformError,
  E_NOT_FOUND: SessionNotFoundError,
  E_NOT_ACTIVE: SessionNotActiveError,
  E_PROCESS_NOT_FOUND: ProcessNotFoundError,
  E_CONSOLE: ConsoleSessionError,
  E_SERVICES: ServicesSessionError,
  E_LISTENER: ListenerSessionError,
  E_SESSION_CHANGED: SessionChangedError,
  E_TIMEOUT: LogoffTimeoutError,
  E_SERVER_TIMEOUT: ServerTimeoutError,
  E_ABORTED: OperationAbortedError,
  E_THREADS_EXHAUSTED: ThreadsExhaustedError,
  E_WIN32: Win32Error,
};

/**
 * Turns the plain form of an error ({@link WtsError.toJSON}, or that object after JSON or
 * structured clone) back into an instance of the right class: `reviveWtsError(json) instanceof
 * Win32Error`, a real `Error` with `code`, `message` and every field of its class restored and
 * checked (identities' `logonTime`s become Dates again). An error that already is a WtsError is
 * returned as it is.
 *
 * The input is read once and checked like any untrusted input (it may come from another process):
 * each known field must have its type (`win32Code` a whole number, `sessionId` a session ID, ...),
 * `requests` at most 64 strings, a `cause` chain at most 8 deep. A code this version does not know
 * (from a newer version) gives a plain WtsError with that code, keeping its extra fields that are
 * strings, numbers, booleans or null; extra fields that would shadow a method (`toJSON`,
 * `toString`, ...) are dropped.
 *
 * @param value - the serialized error.
 * @returns the error, whose `stack` is only this call's.
 * @throws {@link InvalidArgumentError} when `value` is not such an object (not an object, an
 *   array, a `code` that is not `E_...`, a `message` that is not a string, a field of the wrong
 *   type, too long or too deep), or reading it throws.
 */
export function reviveWtsError(value: unknown): WtsError {
  if (isWtsError(value)) return value;
  try {
    return revive(value, 0);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError('value', `reviveWtsError could not read the value: ${describeThrown(error)}`);
  }
}

type FieldCheck = (value: unknown) => unknown;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 100_000;
const text: FieldCheck = (v) => (isText(v) ? v : BAD);
const count: FieldCheck = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : BAD);
const dword: FieldCheck = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : BAD);
const BAD = Symbol('bad');

function identity(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return BAD;
  const id = { ...(v as Record<string, unknown>) };
  const t = id['logonTime'];
  const logonTime = t === null || t === undefined ? null : typeof t === 'string' || typeof t === 'number' ? new Date(t) : t instanceof Date ? new Date(t.getTime()) : BAD;
  if (logonTime === BAD || (logonTime instanceof Date && Number.isNaN(logonTime.getTime()))) return BAD;
  if (dword(id['sessionId']) === BAD || !isText(id['name']) || !isText(id['userName']) || !isText(id['domain'])) return BAD;
  return { sessionId: id['sessionId'], name: id['name'], userName: id['userName'], domain: id['domain'], logonTime };
}

/** The fields of each class beyond the common ones, with their checks. */
const FIELDS: Readonly<Record<string, Readonly<Record<string, FieldCheck>>>> = {
  E_INVALID_ARGUMENT: { argument: text },
  E_UNSUPPORTED_PLATFORM: { platform: text },
  E_NOT_FOUND: { target: (v) => (isText(v) ? v : dword(v)) },
  E_NOT_ACTIVE: { sessionName: text, state: text },
  E_PROCESS_NOT_FOUND: { target: (v) => (isText(v) ? v : dword(v)) },
  E_CONSOLE: { kind: text },
  E_SERVICES: { kind: text },
  E_LISTENER: { kind: text },
  E_SESSION_CHANGED: { expected: identity, actual: identity },
  E_TIMEOUT: { timeoutMs: count },
  E_SERVER_TIMEOUT: { timeoutMs: count },
  E_ABORTED: {},
  E_THREADS_EXHAUSTED: { maxThreads: count, abandoned: count },
  E_WIN32: { win32Code: dword, api: text, systemMessage: text, hint: text },
};

const COMMON = new Set(['name', 'code', 'message', 'server', 'sessionId', 'requests', 'cause', 'stack']);

function revive(value: unknown, depth: number): WtsError {
  const refuse = (problem: string): never => {
    throw new InvalidArgumentError('value', `reviveWtsError needs the plain form of a WtsError (what toJSON gives): ${problem}.`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) refuse('not an object');
  // One read of every own property (getters run once, a proxy's traps once each).
  const v: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const code = v['code'];
  if (typeof code !== 'string' || !/^E_[A-Z0-9_]{1,60}$/.test(code)) refuse('its code is not a string E_...');
  if (!isText(v['message'])) refuse('its message is not a string');
  // The class of its code — but E_TIMEOUT is a LogoffTimeoutError for a logoff and a plain
  // WtsError for a disconnect: there the plain form's name decides.
  const shared = code === 'E_TIMEOUT' && v['name'] === 'WtsError';
  const known = shared ? undefined : (CLASS_OF_CODE as Record<string, ErrorClass | undefined>)[code as string];
  const Class = known ?? WtsError;
  const name = v['name'] === undefined ? Class.name : isText(v['name']) && (v['name'] as string).length <= 200 ? v['name'] : refuse('its name is not a string');
  const server = v['server'] === undefined || isText(v['server']) ? v['server'] : refuse('its server is not a string');
  const sessionId = v['sessionId'] === undefined || dword(v['sessionId']) !== BAD ? v['sessionId'] : refuse('its sessionId is not a session ID');
  const rawRequests = v['requests'] ?? [];
  if (!Array.isArray(rawRequests) || rawRequests.length > MAX_ITEMS) refuse(`its requests are not an array of at most ${MAX_ITEMS} strings`);
  const requests = Array.from(rawRequests as unknown[], (r) => (isText(r) ? r : refuse('its requests are not strings')));

  const error = Reflect.construct(Error, [v['message']], Class) as WtsError;
  const define = (key: string, val: unknown, enumerable = true): void => {
    Object.defineProperty(error, key, { value: val, enumerable, writable: true, configurable: true });
  };
  define('name', name);
  define('code', code);
  define('server', server);
  define('sessionId', sessionId);
  define('requests', Object.freeze(requests));
  if (typeof error.stack === 'string') define('stack', error.stack.replace(/^Error/, String(name)), false);
  const fields = known ? FIELDS[code as string] ?? {} : {};
  for (const [key, check] of Object.entries(fields)) {
    if (v[key] === undefined) continue;
    const checked = check(v[key]);
    if (checked === BAD) refuse(`its ${key} is not what ${Class.name} has`);
    define(key, checked);
  }
  for (const [key, val] of Object.entries(v)) {
    if (COMMON.has(key) || key in fields || key in error) continue; // `in`: never shadow a method
    if (val === null || typeof val === 'boolean' || (typeof val === 'number' && Number.isFinite(val)) || isText(val)) define(key, val);
  }
  const cause = v['cause'];
  if (cause !== undefined && cause !== null) {
    if (typeof cause !== 'object' || depth >= MAX_DEPTH) refuse(`its cause is not an object, or the chain is deeper than ${MAX_DEPTH}`);
    const c = { ...(cause as Record<string, unknown>) };
    let revived: Error;
    if (typeof c['code'] === 'string' && /^E_/.test(c['code'])) revived = revive(cause, depth + 1);
    else {
      revived = new Error(isText(c['message']) ? c['message'] : '');
      if (isText(c['name'])) revived.name = c['name'];
    }
    define('cause', revived, false);
  }
  return error;
}
