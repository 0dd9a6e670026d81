/**
 * The top-level functions (`logoff`, `listSessions`, ...) run on a default Wts: the auto-detected
 * backend, created on first use. In simulated mode the farm file is read afresh on every call,
 * so a long-lived process sees what other processes (the CLI) did to it.
 *
 * Each is the method of the same name of {@link Wts}, documented here in full too (an editor
 * shows these comments, not the method's). The promise-returning ones are `async`: whatever goes
 * wrong, including having no backend, is a rejection, never a synchronous throw.
 */
import { simulatedFarmPath } from './backends/detect';
import { createWts } from './create';
import type {
  FindSessionOptions,
  ListProcessesOptions,
  ListSessionsOptions,
  LoggedOff,
  OnServers,
  ServerDisconnectAllOptions,
  ServerDisconnectOptions,
  ServerLogoffAllOptions,
  ServerLogoffOptions,
  ServerMessageOptions,
  ServerSendMessageAllOptions,
  ServerTerminateProcessOptions,
  SessionProcess,
  Wts,
  WtsServer,
} from './api/wts';
import type { ProcessTarget, TerminateOutcome } from './api/terminate';
import type { SessionWatch, WatchOptions } from './api/watch';
import type { DetailedSession, DetailGroup } from './api/details';
import type { DisconnectOutcome, Disconnected } from './api/disconnect';
import type { FarmResult } from './api/farm';
import type { MessageOutcome, MessageSent } from './api/message';
import type { LogoffOutcome, Session } from './api/types';
import type { SessionTarget } from './api/validate';

let shared: Wts | undefined;

function defaultWts(): Wts {
  if (simulatedFarmPath() !== undefined) return createWts();
  shared ??= createWts();
  return shared;
}

/**
 * `query session` on several servers at once (`servers`), with each session's details.
 *
 * @param options - `servers` and the {@link FarmOptions}, `details`, the {@link SessionFilter}
 *   filters, `concurrency`.
 * @returns every server's sessions in `results`, every server that failed (1722, 5, its
 *   `serverTimeoutMs`) in `failures`, and `byServer`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend: not Windows, and
 *   not simulated.
 */
export function listSessions(
  options: OnServers<ListSessionsOptions, DetailedSession> & { details: true | readonly DetailGroup[] },
): Promise<FarmResult<DetailedSession>>;
/**
 * `query session` on several servers at once (`servers`): one server's failure is reported in
 * `failures` beside the others' results, never thrown.
 *
 * @param options - `servers` and the {@link FarmOptions}, the {@link SessionFilter} filters.
 * @returns every server's sessions in `results` (in the order the servers were given), every
 *   server that failed in `failures`, and `byServer`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * const farm = await listSessions({ servers: ['TS01', 'WF12'], state: 'Active' });
 * for (const f of farm.failures) console.log(`${f.server}: ${f.error.code}`);
 * ```
 */
export function listSessions(options: OnServers<ListSessionsOptions, Session>): Promise<FarmResult<Session>>;
/**
 * `query session` with details: every session on the server, each with `details` (one query per
 * session and {@link DetailGroup}, `concurrency` sessions at a time).
 *
 * @param options - `details`, the server, the {@link SessionFilter} filters, `concurrency`.
 * @returns the sessions with their details, in the server's order (frozen).
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link Win32Error} when the server cannot be enumerated or a detail query fails.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function listSessions(options: ListSessionsOptions & { details: true | readonly DetailGroup[] }): Promise<readonly DetailedSession[]>;
/**
 * `query session`: every session on the server, from one `WTSEnumerateSessionsExW` call — no
 * text parsed, whatever the Windows language. Filters that need details (`clientName`,
 * `idleLongerThan`, `disconnectedLongerThan`, `locked`) add one query per session and field group.
 *
 * @param options - the server (default: the local one), the {@link SessionFilter} filters,
 *   `details`, `concurrency`.
 * @returns the sessions, in the server's order (frozen).
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link Win32Error} when the server cannot be enumerated (1722 unreachable, 5 denied, ...).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend: not Windows,
 *   and not simulated (`WTS_SESSION_SIMULATE`).
 * @throws {@link ThreadsExhaustedError} when every thread of the koffi backend is stuck on
 *   servers that do not answer.
 *
 * @example
 * ```ts
 * import { listSessions } from 'wts-session';
 *
 * for (const s of await listSessions({ state: 'Disc' })) console.log(s.id, s.userName);
 * ```
 */
export function listSessions(options?: ListSessionsOptions): Promise<readonly Session[]>;
export async function listSessions(options?: ListSessionsOptions): Promise<readonly Session[] | FarmResult<Session>> {
  return defaultWts().listSessions(options);
}

/**
 * The session with this ID, or with this WinStation name (without case; if several share it, the
 * Active one; it need not be Active). No target: your own session. One enumeration.
 *
 * @param target - a session ID or WinStation name; none for your own session (local server only).
 * @param options - the server (default: the local one).
 * @returns the session.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option, or no target
 *   together with a server; before any call.
 * @throws {@link SessionNotFoundError} when no session matches (or you are in no session).
 * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * const s = await findSession('RDP-Tcp#3', { server: 'WF12' });
 * console.log(s.id, s.userName, s.state);
 * ```
 */
export async function findSession(target?: SessionTarget, options?: FindSessionOptions): Promise<Session> {
  return defaultWts().findSession(target, options);
}

/**
 * `query process` on several servers at once (`servers`).
 *
 * @param options - `servers` and the {@link FarmOptions}.
 * @returns every server's processes in `results`, and every server that failed in `failures`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function listProcesses(options: OnServers<ListProcessesOptions, SessionProcess>): Promise<FarmResult<SessionProcess>>;
/**
 * `query process`: every process on the server, PID 0 included, with its session, its owner
 * (`LookupAccountSidW` on the server, once per SID: `'CORP\\alice'`, the SID when it maps to no
 * account) and, where the server has `WTSEnumerateProcessesExW` level 1, its threads, handles,
 * memory and CPU times (else `WTSEnumerateProcessesW`, without them). See docs/listProcesses.md.
 *
 * @param options - the server (default: the local one).
 * @returns the processes (frozen).
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option, before any call.
 * @throws {@link Win32Error} when the server cannot be asked (1722, 5, ...).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function listProcesses(options?: ListProcessesOptions): Promise<readonly SessionProcess[]>;
export async function listProcesses(options?: unknown): Promise<readonly SessionProcess[] | FarmResult<SessionProcess>> {
  // Checked by the method, whichever overload the caller used.
  return defaultWts().listProcesses(options as ListProcessesOptions);
}

/**
 * `tskill`: ends processes through `WTSTerminateProcess` — one by its ID, or every process of a
 * name (wildcards `*` `?`, `.exe` optional) in one session (by default your own; with `server`,
 * name the session or `all`) or in all sessions (`all`). Services (session 0) is refused unless
 * `allowServices`, processes of other sessions than the one named are refused, and right before
 * each termination the process is listed again and must be the same one (PID, name, session,
 * owner SID, CPU time not lower): PIDs are reused. `dryRun` reports the plan; `plan` ends exactly
 * a reviewed dry run's processes. It never rejects because of one process.
 *
 * @param target - `{ pid, session? }` or `{ name, session?, all? }`.
 * @param options - the server, `dryRun`, `plan`, `allowServices`, `exitCode`, `concurrency`, `signal`.
 * @returns one {@link TerminateOutcome} per matching process, in the server's order, frozen.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option; no call is made.
 * @throws {@link ProcessNotFoundError} when no process matches on the server (nothing is ended).
 * @throws {@link Win32Error} when the processes cannot be listed (1722, 5, ...).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * import { terminateProcess } from 'wts-session';
 *
 * const plan = await terminateProcess({ name: 'excel.exe', session: 3 }, { server: 'WF12', dryRun: true });
 * for (const o of await terminateProcess({ name: 'excel.exe', session: 3 }, { server: 'WF12', plan })) {
 *   console.log(o.process.processId, o.status);
 * }
 * ```
 */
export async function terminateProcess(target: ProcessTarget, options?: ServerTerminateProcessOptions): Promise<readonly TerminateOutcome[]> {
  return defaultWts().terminateProcess(target, options);
}

/**
 * `logoff.exe`: logs off one session — by ID, by name (which must be Active), or with no target
 * your own — and by default waits until it is gone.
 *
 * Services (session 0) and listeners are always refused, the console unless it is your own
 * session: by ID or name before any WTS call, else after the one enumeration and before the
 * logoff. Right before acting, the session's identity is read (user, domain, logon time: a
 * `WTSSessionInfo` query, plus the full names where WTSINFOW cut them) and compared with the
 * listing, so a reused session ID never logs off the wrong person. `WTSLogoffSession` is called
 * with `bWait = FALSE` (with `TRUE` it can hang for ever); then the session is polled — after
 * 50 ms, doubling up to `pollIntervalMs` — until it is gone (7022) or its ID holds another logon.
 * A close already pending (7007) counts as the logoff (`alreadyClosing: true`).
 *
 * @param target - a session ID (0 to 4294967293, a number or a string of digits) or an Active
 *   session's WinStation name (`'RDP-Tcp#3'`, `'TERM04'`); none for your own session (not
 *   together with `server`).
 * @param options - `server` (default: the local one), `wait` (default true), `timeoutMs` (default
 *   60000), `pollIntervalMs` (default 500), `signal`.
 * @returns `{ status: 'loggedOff', session, confirmed, alreadyClosing, requests: ['WTSLogoffSession'] }`,
 *   frozen; `confirmed` is true when `wait` saw the session go.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option, or no target
 *   together with a server; no call is made.
 * @throws {@link ServicesSessionError}, {@link ListenerSessionError} or
 *   {@link ConsoleSessionError} for a protected session: nothing is logged off.
 * @throws {@link SessionNotFoundError} when there is no such session (or you are in none).
 * @throws {@link SessionNotActiveError} when a session named by its name is not Active.
 * @throws {@link SessionChangedError} when the ID now holds another user than the one listed.
 * @throws {@link Win32Error} when a call fails; a failed logoff reads like `logoff.exe`
 *   (`Could not logoff session ID 5 from session RDP-Tcp#0, Error code 5` /
 *   `Error [5]: Access is denied.`), and `hint` says what to do.
 * @throws {@link LogoffTimeoutError} when the session had not gone after `timeoutMs` (the logoff
 *   was requested and may still happen: `requests: ['WTSLogoffSession']`).
 * @throws {@link OperationAbortedError} when `signal` aborts (`requests` says whether the logoff
 *   had been sent).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend: not Windows,
 *   and not simulated (`WTS_SESSION_SIMULATE`).
 *
 * @example
 * ```ts
 * import { logoff } from 'wts-session';
 *
 * await logoff(3);                             // logoff 3
 * await logoff('TERM04', { server: 'WF12' });  // logoff TERM04 /server:WF12
 * ```
 */
export async function logoff(target?: SessionTarget, options?: ServerLogoffOptions): Promise<LoggedOff> {
  return defaultWts().logoff(target, options);
}

/**
 * KB 259436 on several servers at once (`servers`): each server as in the one-server form, at
 * most `serverConcurrency` at once. A server that fails or exceeds `serverTimeoutMs` is reported
 * in `failures` (its outcomes so far stay in `results`); it never stalls the others.
 *
 * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
 * @returns every server's outcomes in `results`, and every server that failed in `failures`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * const run = await logoffAll({
 *   servers: ['TS01', 'WF12'],
 *   idleLongerThan: '2h',
 *   warn: { text: 'You will be logged off in 5 minutes. Save your work.', graceSeconds: 300 },
 * });
 * for (const f of run.failures) console.log(`${f.server}: ${f.error.message}`);
 * ```
 */
export function logoffAll(options: OnServers<ServerLogoffAllOptions, LogoffOutcome>): Promise<FarmResult<LogoffOutcome>>;
/**
 * KB 259436 ("log off all users") done safely: logs off every session on the server except the
 * console, Services, listeners and your own, narrowed by the filters, optionally warned first
 * (`warn`: a message, a grace period, a re-check). `dryRun` reports the plan and does nothing;
 * `plan` applies exactly a reviewed dry run. Each session's identity is re-checked right before
 * its logoff. It never rejects because of one session.
 *
 * @param options - the server, the {@link SessionFilter} filters, `dryRun` (default false),
 *   `plan`, `warn`, `concurrency` (default 8), and the {@link WaitOptions}.
 * @returns one {@link LogoffOutcome} per session on the server, in the server's order (and one per
 *   planned session that has ended), each with the `requests` sent to it.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
 * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed
 *   (nothing was sent); after that an abort resolves with the outcomes so far.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * import { logoffAll } from 'wts-session';
 *
 * const plan = await logoffAll({ state: 'Disconnected', dryRun: true });
 * // ... show the plan to a person, who confirms ...
 * const outcomes = await logoffAll({ plan, state: 'Disconnected' });
 * for (const o of outcomes) if (o.status === 'failed') console.error(o.session.id, o.error.message);
 * ```
 */
export function logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[]>;
export async function logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[] | FarmResult<LogoffOutcome>> {
  return defaultWts().logoffAll(options);
}

/**
 * `tsdiscon`: disconnects one session — by ID, by name (which must be Active), or with no target
 * your own — and by default waits until it reads Disconnected. Its programs keep running and the
 * user can reconnect: nothing is lost. Refusals, identity re-check and waiting as for
 * {@link logoff}: `WTSDisconnectSession` with `bWait = FALSE`, then polled.
 *
 * @param target - a session ID or an Active session's WinStation name; none for your own session
 *   (not together with `server`).
 * @param options - `server`, `wait` (default true), `timeoutMs` (default 60000),
 *   `pollIntervalMs` (default 500), `signal`.
 * @returns `{ status: 'disconnected', session, confirmed, requests: ['WTSDisconnectSession'] }`, frozen.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option; no call is made.
 * @throws {@link ServicesSessionError}, {@link ListenerSessionError} or
 *   {@link ConsoleSessionError} for a protected session.
 * @throws {@link SessionNotFoundError}, {@link SessionNotActiveError} or
 *   {@link SessionChangedError}, as for logoff.
 * @throws {@link Win32Error} when a call fails.
 * @throws {@link WtsError} with code `E_TIMEOUT` when the session was not Disconnected after
 *   `timeoutMs` (the request was accepted).
 * @throws {@link OperationAbortedError} when `signal` aborts.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * const { confirmed } = await disconnect(5, { server: 'WF12' });
 * ```
 */
export async function disconnect(target?: SessionTarget, options?: ServerDisconnectOptions): Promise<Disconnected> {
  return defaultWts().disconnect(target, options);
}

/**
 * disconnectAll on several servers at once (`servers`), as {@link logoffAll} over many servers.
 *
 * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
 * @returns every server's outcomes in `results`, and every server that failed in `failures`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function disconnectAll(options: OnServers<ServerDisconnectAllOptions, DisconnectOutcome>): Promise<FarmResult<DisconnectOutcome>>;
/**
 * Disconnects every session on the server except the console, Services, listeners, your own and
 * those already disconnected, narrowed by the filters; `dryRun` and `plan` as in
 * {@link logoffAll}. It never rejects because of one session.
 *
 * @param options - the server, the {@link SessionFilter} filters, `dryRun`, `plan`,
 *   `concurrency`, and the {@link WaitOptions}.
 * @returns one {@link DisconnectOutcome} per session on the server, in the server's order.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
 * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function disconnectAll(options?: ServerDisconnectAllOptions): Promise<readonly DisconnectOutcome[]>;
export async function disconnectAll(options?: ServerDisconnectAllOptions): Promise<readonly DisconnectOutcome[] | FarmResult<DisconnectOutcome>> {
  return defaultWts().disconnectAll(options);
}

/**
 * `msg`: shows a message box in one session (any state: a disconnected user sees it on
 * reconnecting), through `WTSSendMessageW`; with `wait`, resolves to the user's answer. Services
 * and listeners are refused; the console may be messaged (a message loses nobody's work).
 *
 * @param target - a session ID or WinStation name (any state); undefined for your own session
 *   (not together with `server`).
 * @param options - `text` (required), `title` (default 'Message from your administrator'),
 *   `buttons` (default 'OK'), `timeoutSeconds` (default 0: never), `wait` (default false),
 *   `signal`, `server`.
 * @returns `{ status: 'sent', session, response, responseCode, requests: ['WTSSendMessageW'] }`,
 *   frozen; `response` is `'Async'` when not waited for.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad target or option; no call is made.
 * @throws {@link ServicesSessionError} or {@link ListenerSessionError} for a session nobody is
 *   logged on to.
 * @throws {@link SessionNotFoundError} or {@link SessionChangedError}, as for logoff.
 * @throws {@link Win32Error} when a call fails.
 * @throws {@link OperationAbortedError} when `signal` aborts (while waiting for the answer:
 *   `requests: ['WTSSendMessageW']`, the box is on the screen).
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 *
 * @example
 * ```ts
 * const { response } = await sendMessage(5, { text: 'Restart now?', buttons: 'YesNo', wait: true, timeoutSeconds: 60 });
 * if (response === 'Yes') await logoff(5);
 * ```
 */
export async function sendMessage(target: SessionTarget | undefined, options: ServerMessageOptions): Promise<MessageSent> {
  return defaultWts().sendMessage(target, options);
}

/**
 * `msg *` on several servers at once (`servers`).
 *
 * @param options - `servers` and the {@link FarmOptions}, and the one-server options.
 * @returns every server's outcomes in `results`, and every server that failed in `failures`.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function sendMessageAll(options: OnServers<ServerSendMessageAllOptions, MessageOutcome>): Promise<FarmResult<MessageOutcome>>;
/**
 * `msg *`: a message to every session with a user on the server (your own and the console
 * included; Services, listeners and sessions without a user skipped), narrowed by the filters;
 * `dryRun` and `plan` as in {@link logoffAll}. It never rejects because of one session.
 *
 * @param options - `text` and the other message options, the server, the {@link SessionFilter}
 *   filters, `dryRun`, `plan`, `concurrency`.
 * @returns one {@link MessageOutcome} per session on the server, in the server's order.
 * @throws {@link InvalidArgumentError} (a rejection) for a bad option or `plan`, before any call.
 * @throws {@link Win32Error} when the server cannot be enumerated (1722, 5, ...).
 * @throws {@link OperationAbortedError} when `signal` aborted before the sessions were listed.
 * @throws {@link UnsupportedPlatformError} (a rejection) when there is no backend.
 */
export function sendMessageAll(options: ServerSendMessageAllOptions): Promise<readonly MessageOutcome[]>;
export async function sendMessageAll(options: ServerSendMessageAllOptions): Promise<readonly MessageOutcome[] | FarmResult<MessageOutcome>> {
  return defaultWts().sendMessageAll(options);
}

/**
 * One server for several calls, on the default backend: its handle (`WTSOpenServerExW`) is opened
 * on the first call and closed by `close()` or `await using`. Not async.
 *
 * @param name - the server: `WF12`, `\\WF12`, a DNS name or an IP address.
 * @returns the server object, whose methods are the top-level functions' without `server`.
 * @throws {@link InvalidArgumentError} at once (not a rejection) for a name that is not a NetBIOS
 *   name, DNS name or IP address.
 * @throws {@link UnsupportedPlatformError} at once when there is no backend.
 *
 * @example
 * ```ts
 * import { openServer } from 'wts-session';
 *
 * await using wf12 = openServer('WF12');
 * const term04 = await wf12.findSession('TERM04');
 * await wf12.logoff(term04.id);
 * ```
 */
export function openServer(name: string): WtsServer {
  return defaultWts().openServer(name);
}

/**
 * Live session events with each session's details, on the default backend (see the other
 * overload).
 *
 * @param options - `details`, and the other {@link WatchOptions}.
 * @returns the watch: an AsyncIterable of events whose sessions carry their details.
 * @throws {@link InvalidArgumentError} at once for a bad option; nothing is called.
 * @throws {@link UnsupportedPlatformError} at once when there is no backend.
 */
export function watchSessions(options: WatchOptions & { details: true | readonly DetailGroup[] }): SessionWatch<DetailedSession>;
/**
 * Live session events — logon, logoff, connect, disconnect, ... — on one server or many, on the
 * default backend. Not async: it checks every option and returns the AsyncIterable at once;
 * watching starts with the first `next()`. Each wake of `WTSWaitSystemEvent` (which says only
 * that something happened) is followed by one enumeration diffed against the last, plus a
 * reconcile every `reconcileMs`. A failing server yields `serverError` and is retried; it never
 * ends the watch. `break` / `return()` ends it; the `signal` ends it with an
 * {@link OperationAbortedError} (`name: 'AbortError'`).
 *
 * @param options - `server` or `servers`, `signal`, `details`, `events`, `initial`, and the
 *   timings of {@link WatchOptions}.
 * @returns the watch: an AsyncIterable of {@link SessionEvent}s, and AsyncDisposable.
 * @throws {@link InvalidArgumentError} at once for a bad option; nothing is called.
 * @throws {@link UnsupportedPlatformError} at once when there is no backend.
 *
 * @example
 * ```ts
 * import { watchSessions } from 'wts-session';
 *
 * const controller = new AbortController();
 * for await (const event of watchSessions({ servers: ['TS01', 'WF12'], signal: controller.signal })) {
 *   if (event.type === 'logoff') console.log(`${event.session.userName} left ${event.server || 'this server'}`);
 * }
 * ```
 */
export function watchSessions(options?: WatchOptions): SessionWatch<Session>;
export function watchSessions(options?: WatchOptions): SessionWatch<Session> | SessionWatch<DetailedSession> {
  // In simulated mode the backend re-reads the farm file when another process changed it.
  return defaultWts().watchSessions(options);
}
