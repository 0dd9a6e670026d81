/**
 * The safety promises, each a named check over one operation: what the library asked the backend to
 * do (the recording wrapper's log), what the farm really was at each moment (the test's model), and
 * what the operation returned. Each returns its violations as messages ([] = it holds).
 *
 * Decisions this suite makes (see README "Development"):
 * - "The moment of a call" is when the library made it (the wrapper logs before delegating).
 * - A session's identity is user + domain (without case, as Windows compares account names) + logon
 *   time. A change that lands after the library's last read of the session and before its request
 *   reaches the server is a race no client can close (Win32 has no compare-and-logoff): it is not a
 *   violation when the library re-read the session in the same turn of the event loop as its request
 *   and what it read was the identity it acted for. Such races are counted, not failed.
 * - The console may be messaged by sendMessageAll (`msg *`, docs/sendMessage.md), and disconnected or
 *   messaged by disconnect(target)/sendMessage(target) (docs/disconnect.md); it is logged off only as
 *   the caller's own, non-zero session, and never by logoffAll/disconnectAll.
 * - Bad input: no backend call at all, not even the kernel32 look-ups (GetComputerNameW,
 *   ProcessIdToSessionId, WTSGetActiveConsoleSessionId): README — "no system call was made".
 */
import { ACTION_REQUEST, isAction, type ActionMethod, type CallRecord } from './recorder';
import { describeIdentity, sameIdentity, timeOf, type FarmModel, type Identity, type ServerKey } from './model';
import type { BulkKind, SingleKind } from './generators';

export interface OpRecord {
  readonly id: number;
  /** What was called, with its options, for messages. */
  readonly label: string;
  readonly kind: SingleKind | BulkKind;
  readonly single: boolean;
  readonly dryRun: boolean;
  readonly warn: boolean;
  /** `servers: [...]` (a FarmResult) rather than one server (an outcome list). */
  readonly many: boolean;
  /** The applied plan: `${server}:${id}` -> the identity it was planned for. */
  readonly plan: ReadonlyMap<string, Identity> | undefined;
  /** The servers the operation works on (model keys, each once). */
  readonly servers: readonly ServerKey[];
  readonly startSeq: number;
  readonly endSeq: number;
  readonly calls: readonly CallRecord[];
  readonly settled: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
  /**
   * Over many servers: the shared clock when each server that failed was given up (its
   * `serverFailed` event, by the server's name as given). A call that returns later was never seen
   * by the call's work.
   */
  readonly givenUpAt?: ReadonlyMap<string, number>;
}

export interface CheckContext {
  readonly model: FarmModel;
  /** Races the library could not have seen (counted for the report). */
  races: number;
}

type Outcome = {
  readonly status: string;
  readonly session: { readonly id: number; readonly server: string; readonly userName: string; readonly domain: string };
  readonly requests: readonly string[];
  readonly request?: string;
  readonly reason?: string;
  readonly identity?: { readonly sessionId: number; readonly userName: string; readonly domain: string; readonly logonTime: unknown };
};

type Failure = { readonly server: string; readonly error: { readonly code?: string } };

const MAIN_REQUEST: Readonly<Record<SingleKind | BulkKind, string>> = {
  logoff: 'WTSLogoffSession',
  logoffAll: 'WTSLogoffSession',
  disconnect: 'WTSDisconnectSession',
  disconnectAll: 'WTSDisconnectSession',
  sendMessage: 'WTSSendMessageW',
  sendMessageAll: 'WTSSendMessageW',
};

const DONE_STATUS_REQUEST: Readonly<Record<string, string>> = {
  loggedOff: 'WTSLogoffSession',
  disconnected: 'WTSDisconnectSession',
  sent: 'WTSSendMessageW',
};

export function keyOf(server: ServerKey, id: number): string {
  return `${server}:${id}`;
}

/** A query of the session `key` (server:id) answered 7007 (ERROR_CTX_CLOSE_PENDING) in this call. */
function readAnswered7007(op: OpRecord, key: string): boolean {
  return op.calls.some((c) => c.method === 'querySessionInformation' && keyOf(c.server, c.sessionId as number) === key && c.error?.win32Code === 7007);
}

function describeCall(c: CallRecord): string {
  return `call #${c.index} ${c.method}(${c.server}, session ${c.sessionId ?? '-'})${c.afterResult ? ' made after the result was returned' : ''}`;
}

function actions(op: OpRecord): CallRecord[] {
  return op.calls.filter((c) => isAction(c.method));
}

/** The outcomes a bulk operation returned ([] when it rejected). */
export function outcomesOf(op: OpRecord): Outcome[] {
  if (!op.settled.ok || op.single) return [];
  const value = op.settled.value as readonly Outcome[] | { results: readonly Outcome[] };
  return [...(Array.isArray(value) ? value : (value as { results: readonly Outcome[] }).results)];
}

function failuresOf(op: OpRecord): Failure[] {
  if (!op.settled.ok || !op.many) return [];
  return [...(op.settled.value as { failures: readonly Failure[] }).failures];
}

function v(name: string, op: OpRecord, message: string): string {
  return `[${name}] op #${op.id} ${op.label}: ${message}`;
}

// ---- 1. protected sessions, the plan, the warning, the identity ------------------------------------

/**
 * No logoff / disconnect / message on session 0, a listener, the console (but for the documented
 * exceptions above), or — in logoffAll / disconnectAll, warning included — the caller's own session.
 */
export function noActionOnProtectedSession(op: OpRecord, ctx: CheckContext): string[] {
  const out: string[] = [];
  for (const a of actions(op)) {
    const id = a.sessionId as number;
    const own = ctx.model.isOwn(a.server, id) && id !== 0;
    if (id === 0) out.push(v('noActionOnProtectedSession', op, `${describeCall(a)} acts on session 0 (Services)`));
    if (ctx.model.isListenerAt(a.server, id, a.seq)) out.push(v('noActionOnProtectedSession', op, `${describeCall(a)} acts on a listener`));
    if (ctx.model.isConsoleAt(a.server, id, a.seq) && id !== 0) {
      const allowed = op.kind === 'sendMessageAll' || (op.single && (op.kind !== 'logoff' || own));
      if (!allowed) out.push(v('noActionOnProtectedSession', op, `${describeCall(a)} acts on the console${own ? " (the caller's own session)" : ''}`));
    }
    if (own && (op.kind === 'logoffAll' || op.kind === 'disconnectAll')) {
      out.push(v('noActionOnProtectedSession', op, `${describeCall(a)} acts on the caller's own session in a bulk call`));
    }
  }
  return out;
}

/** With a plan applied, only planned sessions are acted on. */
export function onlyPlannedSessions(op: OpRecord): string[] {
  if (!op.plan || op.dryRun) return [];
  return actions(op)
    .filter((a) => !op.plan?.has(keyOf(a.server, a.sessionId as number)))
    .map((a) => v('onlyPlannedSessions', op, `${describeCall(a)} acts on a session that is not in the confirmed plan`));
}

/** logoffAll({ warn }): a session is logged off only after its warning was delivered. */
export function warnedBeforeLogoff(op: OpRecord): string[] {
  if (!op.warn || op.dryRun) return [];
  const out: string[] = [];
  for (const a of actions(op).filter((c) => c.method === 'logoffSession')) {
    const warned = op.calls.some(
      (c) => c.method === 'sendMessage' && c.server === a.server && c.sessionId === a.sessionId && !c.error && c.doneSeq !== undefined && c.doneSeq < a.seq,
    );
    if (!warned) out.push(v('warnedBeforeLogoff', op, `${describeCall(a)} logs off a session whose warning was not delivered first`));
  }
  return out;
}

/** The identity the library acts for: the plan's, or the one it listed (user, domain) and captured (logon time). */
function referenceIdentity(op: OpRecord, a: CallRecord): { identity: Identity } | { problem: string } {
  const id = a.sessionId as number;
  if (op.plan) {
    const planned = op.plan.get(keyOf(a.server, id));
    return planned ? { identity: planned } : { problem: 'not in the plan' };
  }
  // The last listing before the action that lists it (over many servers a server that waited for
  // its turn is listed twice, and acts on the second list).
  type Listed = readonly { sessionId: number; userName: string; domainName: string }[];
  const listing = [...op.calls].reverse().find((c) => c.method === 'enumerateSessions' && c.server === a.server && c.result !== undefined && c.seq < a.seq && (c.result as Listed).some((s) => s.sessionId === id));
  const listed = (listing?.result as Listed | undefined)?.find((s) => s.sessionId === id);
  if (!listing || !listed) return { problem: 'it acts on a session it never listed' };
  const capture = op.calls.find(
    (c) => c.method === 'querySessionInformation' && c.infoClass === 'WTSSessionInfo' && c.server === a.server && c.sessionId === id && c.result !== undefined && c.seq > (listing.doneSeq ?? listing.seq) && c.seq < a.seq,
  );
  if (!capture) return { problem: 'it acts without having read the session\'s identity (WTSSessionInfo) since listing it' };
  return { identity: { user: listed.userName, domain: listed.domainName, logonTime: timeOf((capture.result as { logonTime: Date | null }).logonTime) } };
}

/** What the library's last reads of the session before `a` said, and whether that was `r`. */
function lastReadMatches(op: OpRecord, a: CallRecord, r: Identity): { matches: boolean; said: string } {
  const reads = op.calls.filter((c) => c.method === 'querySessionInformation' && c.server === a.server && c.sessionId === a.sessionId && c.seq < a.seq);
  const q = [...reads].reverse().find((c) => c.infoClass === 'WTSSessionInfo');
  if (!q || q.result === undefined) return { matches: false, said: 'no successful WTSSessionInfo read before the request' };
  const info = q.result as { userName: string; domain: string; logonTime: Date | null };
  // The full-name reads of the same re-check: the library reads them after WTSSessionInfo when it
  // captures a listed session's identity, and before it when it re-checks against a logon time
  // (src/api/sessions.ts readIdentity): any since the previous WTSSessionInfo read counts.
  const previous = [...reads].reverse().find((c) => c.infoClass === 'WTSSessionInfo' && c.seq < q.seq);
  const after = reads.filter((c) => c.seq > (previous?.seq ?? -Infinity) && c !== q && c.result !== undefined);
  const fullUser = [...after].reverse().find((c) => c.infoClass === 'WTSUserName')?.result as string | undefined;
  const fullDomain = [...after].reverse().find((c) => c.infoClass === 'WTSDomainName')?.result as string | undefined;
  const user = fullUser ?? info.userName;
  const domain = fullDomain ?? info.domain;
  const read: Identity = { user, domain, logonTime: timeOf(info.logonTime) };
  return {
    matches: sameIdentity(read, r),
    said: `its last read (call #${q.index}${fullUser !== undefined ? ' + WTSUserName' : ''}${fullDomain !== undefined ? ' + WTSDomainName' : ''}) said ${describeIdentity(read)}`,
  };
}

/**
 * No request on a session whose identity at the moment of the call differs from the one planned,
 * listed or warned — unless the change raced the request (the library re-read the session right
 * before, in the same turn, and read the identity it acted for).
 */
export function identityUnchangedAtAction(op: OpRecord, ctx: CheckContext): string[] {
  const out: string[] = [];
  for (const a of actions(op)) {
    const id = a.sessionId as number;
    const ref = referenceIdentity(op, a);
    if ('problem' in ref) {
      if (ref.problem !== 'not in the plan') out.push(v('identityUnchangedAtAction', op, `${describeCall(a)}: ${ref.problem}`));
      continue;
    }
    const truth = ctx.model.identityAt(a.server, id, a.seq);
    if (truth && sameIdentity(truth, ref.identity)) continue;
    const last = lastReadMatches(op, a, ref.identity);
    if (a.fresh && last.matches) {
      ctx.races++;
      continue;
    }
    out.push(
      v(
        'identityUnchangedAtAction',
        op,
        `${describeCall(a)}: the session was ${describeIdentity(truth)} at the call, but the request was for ${describeIdentity(ref.identity)}; ` +
          `${last.said}${a.fresh ? '' : '; and the session was not re-read right before the request (not in the same turn)'}`,
      ),
    );
  }
  return out;
}

/** A dry run's planned identities are true: whole names, and the logon that was in the session then. */
export function dryRunIdentityIsTrue(op: OpRecord, ctx: CheckContext): string[] {
  if (!op.dryRun) return [];
  const out: string[] = [];
  for (const o of outcomesOf(op)) {
    if (!o.status.startsWith('would')) continue;
    const i = o.identity;
    const server = ctx.model.keyOfSessionServer(o.session.server);
    if (!i) {
      out.push(v('dryRunIdentityIsTrue', op, `${o.status} for ${server}:${o.session.id} has no identity`));
      continue;
    }
    const planned: Identity = { user: i.userName, domain: i.domain, logonTime: timeOf(i.logonTime) };
    const seen = ctx.model.identitiesDuring(server, o.session.id, op.startSeq, op.endSeq);
    if (i.sessionId !== o.session.id || i.userName !== o.session.userName || i.domain !== o.session.domain || !seen.some((s) => sameIdentity(s, planned))) {
      out.push(
        v(
          'dryRunIdentityIsTrue',
          op,
          `${o.status} for ${server}:${o.session.id} plans ${describeIdentity(planned)} (listed as ${JSON.stringify(o.session.userName)}), ` +
            `but during the dry run the session was ${seen.map(describeIdentity).join(' / ') || 'never there'}`,
        ),
      );
    }
  }
  return out;
}

// ---- 2. every session of every reachable server gets exactly one outcome ---------------------------

export function oneOutcomePerSession(op: OpRecord, ctx: CheckContext): string[] {
  if (op.single) return [];
  const out: string[] = [];
  const outcomes = outcomesOf(op);
  const keyOfName = (name: string): ServerKey => ctx.model.resolve(name) ?? `?${name.toLowerCase()}`;
  const failed = new Set(failuresOf(op).map((f) => keyOfName(f.server)));
  // A server given up (it failed, its time ran out, or the call was aborted) is reported with what
  // its work knew then: a listing that returned after that was never seen by it.
  const givenUp = new Map<ServerKey, number>();
  for (const [name, seq] of op.givenUpAt ?? []) {
    const key = keyOfName(name);
    givenUp.set(key, Math.min(seq, givenUp.get(key) ?? Infinity));
  }
  const byServer = new Map<ServerKey, Map<number, number>>();
  for (const o of outcomes) {
    const server = ctx.model.keyOfSessionServer(o.session.server);
    const counts = byServer.get(server) ?? new Map<number, number>();
    counts.set(o.session.id, (counts.get(o.session.id) ?? 0) + 1);
    byServer.set(server, counts);
  }
  for (const server of byServer.keys()) {
    if (!op.servers.includes(server)) out.push(v('oneOutcomePerSession', op, `outcomes for server ${server}, which the call was not given`));
  }
  for (const server of op.servers) {
    const counts = byServer.get(server) ?? new Map<number, number>();
    // The server's listings made before its work began (its first query about a session, or an
    // action): the first, and the second of a server that waited for its turn over many servers
    // (docs/many-servers.md). Later enumerations are confirmation polls.
    const firstWork = op.calls.find((c) => c.server === server && (c.method === 'querySessionInformation' || isAction(c.method)));
    const cut = givenUp.get(server) ?? Infinity;
    const listings = op.calls.filter(
      (c) => c.method === 'enumerateSessions' && c.server === server && c.result !== undefined && (!firstWork || c.seq < firstWork.seq) && (c.doneSeq ?? Infinity) < cut,
    );
    const expected = new Set<number>();
    for (const listing of listings) for (const s of listing.result as readonly { sessionId: number }[]) expected.add(s.sessionId);
    if (listings.length > 0) {
      for (const key of op.plan?.keys() ?? []) if (key.startsWith(`${server}:`)) expected.add(Number(key.slice(server.length + 1)));
    }
    const failedWhole = (!op.settled.ok || failed.has(server)) && counts.size === 0;
    if (failedWhole) continue; // the server failed as a whole (reported); everyRequestReported checks it sent nothing
    for (const id of expected) {
      const n = counts.get(id) ?? 0;
      if (n !== 1) out.push(v('oneOutcomePerSession', op, `session ${server}:${id} (listed${op.plan?.has(keyOf(server, id)) ? ' or planned' : ''}) has ${n} outcomes`));
    }
    for (const [id, n] of counts) {
      if (!expected.has(id)) out.push(v('oneOutcomePerSession', op, `session ${server}:${id} has ${n} outcome(s) but was neither listed by the call's listings before its work began nor planned`));
    }
  }
  return out;
}

// ---- 3. every request sent is reported -------------------------------------------------------------

function errorReports(error: unknown, request: string): boolean {
  const e = error as { code?: unknown; api?: unknown; requests?: unknown };
  if (e?.code === 'E_TIMEOUT') return true;
  // `requests` is how every WtsError says what had been sent (an abort, or a query failing with 5
  // or 1722 while waiting for the logoff to take effect: E_WIN32 from WTSQuerySessionInformationW).
  if (Array.isArray(e?.requests) && e.requests.includes(request)) return true;
  if (e?.code === 'E_WIN32') return e.api === request;
  return false;
}

function describeError(error: unknown): string {
  const e = error as { code?: unknown; api?: unknown; win32Code?: unknown; message?: unknown };
  return `${String(e?.code)}${e?.api ? ` from ${String(e.api)}` : ''}${e?.win32Code !== undefined ? ` (${String(e.win32Code)})` : ''}: ${String(e?.message)}`;
}

/**
 * Every logoff/disconnect/message request sent appears in exactly one outcome's `requests` for that
 * session (bulk), or in the result or the error (single calls); a dry run sends none; no request is
 * sent after the result was returned; an outcome's status agrees with its requests.
 */
export function everyRequestReported(op: OpRecord, ctx: CheckContext): string[] {
  const out: string[] = [];
  const sent = actions(op);
  const name = 'everyRequestReported';
  for (const a of sent.filter((c) => c.afterResult)) out.push(v(name, op, `${describeCall(a)}: a request sent after the result was returned cannot be in it`));
  if (op.dryRun) {
    for (const a of sent) out.push(v(name, op, `${describeCall(a)}: a dry run sent a request`));
    return out;
  }
  if (op.single) {
    const request = MAIN_REQUEST[op.kind];
    if (sent.length > 1) out.push(v(name, op, `a single-session call sent ${sent.length} requests: ${sent.map(describeCall).join('; ')}`));
    if (op.settled.ok) {
      const value = op.settled.value as { session: { id: number; server: string }; requests: readonly string[]; alreadyClosing?: unknown };
      const server = ctx.model.keyOfSessionServer(value.session.server);
      // logoff of a session already logging off (its identity read answered 7007) makes no request
      // of its own (docs/logoff.md): allowed only when such a read of it answered 7007 in this call.
      const closingAlready =
        op.kind === 'logoff' &&
        value.alreadyClosing === true &&
        value.requests.length === 0 &&
        sent.length === 0 &&
        readAnswered7007(op, keyOf(server, value.session.id));
      if (closingAlready) return out;
      if (JSON.stringify(value.requests) !== JSON.stringify([request])) out.push(v(name, op, `the result's requests are ${JSON.stringify(value.requests)}, not ["${request}"]`));
      if (!sent.some((a) => a.server === server && a.sessionId === value.session.id && ACTION_REQUEST[a.method as ActionMethod] === request)) {
        out.push(v(name, op, `the result says ${request} was sent to ${server}:${value.session.id}, but it was not`));
      }
    } else if (sent.length > 0 && !sent.every((a) => errorReports(op.settled.ok ? undefined : op.settled.error, ACTION_REQUEST[a.method as ActionMethod]))) {
      out.push(
        v(name, op, `${sent.map(describeCall).join('; ')} was sent, but the call rejected with ${describeError(op.settled.error)}, which does not say the request was sent`),
      );
    }
    return out;
  }
  const outcomes = outcomesOf(op);
  const sentBy = new Map<string, string[]>();
  for (const a of sent) {
    const key = keyOf(a.server, a.sessionId as number);
    sentBy.set(key, [...(sentBy.get(key) ?? []), ACTION_REQUEST[a.method as ActionMethod]]);
  }
  const reportedBy = new Map<string, string[]>();
  for (const o of outcomes) {
    const key = keyOf(ctx.model.keyOfSessionServer(o.session.server), o.session.id);
    reportedBy.set(key, [...(reportedBy.get(key) ?? []), ...o.requests]);
    const main = MAIN_REQUEST[op.kind];
    const done = DONE_STATUS_REQUEST[o.status];
    // A session already logging off (its identity read answered 7007) is logged off with no logoff
    // request of its own (docs/logoffAll.md) — a warning sent before that read is still its request:
    // allowed only when such a read of it answered 7007 in this call.
    const closingAlready =
      o.status === 'loggedOff' &&
      (o as { alreadyClosing?: unknown }).alreadyClosing === true &&
      !o.requests.includes('WTSLogoffSession') &&
      readAnswered7007(op, key);
    if (done && !o.requests.includes(done) && !closingAlready) out.push(v(name, op, `${key} is '${o.status}' but its requests are ${JSON.stringify(o.requests)}`));
    if (o.status === 'requested' && (o.request === undefined || !o.requests.includes(o.request))) {
      out.push(v(name, op, `${key} is 'requested' (${String(o.request)}) but its requests are ${JSON.stringify(o.requests)}`));
    }
    // The one skip after the request: 'gone', when every such request failed with 7022 (the session
    // had ended; docs/decisions.md, "A request that finds the session ended is not a failure").
    const endedFirst =
      o.status === 'skipped' &&
      o.reason === 'gone' &&
      sent.filter((a) => keyOf(a.server, a.sessionId as number) === key && ACTION_REQUEST[a.method as ActionMethod] === main).every((a) => a.error?.win32Code === 7022);
    if ((o.status === 'skipped' || o.status.startsWith('would')) && o.requests.includes(main) && !endedFirst) {
      out.push(v(name, op, `${key} is '${o.status}'${o.reason ? ` (${o.reason})` : ''} although ${main} was sent to it`));
    }
  }
  for (const key of new Set([...sentBy.keys(), ...reportedBy.keys()])) {
    const s = [...(sentBy.get(key) ?? [])].sort();
    const r = [...(reportedBy.get(key) ?? [])].sort();
    if (JSON.stringify(s) !== JSON.stringify(r)) {
      out.push(
        v(
          name,
          op,
          `session ${key}: sent ${JSON.stringify(s)}, reported ${JSON.stringify(r)}` +
            (op.settled.ok ? '' : ` (the call rejected with ${describeError(op.settled.error)})`),
        ),
      );
    }
  }
  return out;
}

// ---- resources ----------------------------------------------------------------------------------

/**
 * No call uses a server handle after closeServer was called for it. closeServer itself may come
 * while calls the api layer gave up on (a poll cut by timeoutMs or an abort) still run: the
 * WtsApi.closeServer contract has the backend make WTSCloseServer only once the last returns. That
 * the real close never comes under a call is checked by resourcesReleased (the double's
 * closedUnderCall) and, for the mock, by the contract suite.
 */
export function noCallOnClosedHandle(op: OpRecord): string[] {
  return op.calls.filter((c) => c.onClosedHandle).map((c) => v('noCallOnClosedHandle', op, `${describeCall(c)} uses a handle already closed by WTSCloseServer`));
}

export const OPERATION_INVARIANTS: ReadonlyArray<(op: OpRecord, ctx: CheckContext) => string[]> = [
  noActionOnProtectedSession,
  onlyPlannedSessions,
  warnedBeforeLogoff,
  identityUnchangedAtAction,
  dryRunIdentityIsTrue,
  oneOutcomePerSession,
  everyRequestReported,
  noCallOnClosedHandle,
];

// ---- 4. bad input makes no call ------------------------------------------------------------------

/** Bad input rejects with InvalidArgumentError (E_INVALID_ARGUMENT), never throws synchronously, and makes no backend call. */
export function badInputMakesNoCall(
  why: string,
  outcome: { threwSync: boolean; settled: { ok: true; value: unknown } | { ok: false; error: unknown } },
  calls: readonly CallRecord[],
): string[] {
  const out: string[] = [];
  const name = 'badInputMakesNoCall';
  if (outcome.threwSync) out.push(`[${name}] ${why}: threw synchronously instead of returning a rejected promise`);
  if (outcome.settled.ok) out.push(`[${name}] ${why}: resolved instead of rejecting`);
  else {
    const e = outcome.settled.error as { code?: unknown; name?: unknown };
    if (e?.code !== 'E_INVALID_ARGUMENT' || e?.name !== 'InvalidArgumentError') out.push(`[${name}] ${why}: rejected with ${describeError(e)}, not InvalidArgumentError`);
  }
  if (calls.length > 0) out.push(`[${name}] ${why}: made ${calls.length} backend call(s): ${calls.map((c) => c.method).join(', ')}`);
  return out;
}

/** The identity a plan entry was made for. */
export function planIdentity(o: Outcome): Identity | undefined {
  return o.identity && { user: o.identity.userName, domain: o.identity.domain, logonTime: timeOf(o.identity.logonTime) };
}

