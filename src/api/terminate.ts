/**
 * terminateProcess: tskill over WTSTerminateProcess, with logoff's discipline. Every argument is
 * checked before the first call; the processes are listed once (WTSEnumerateProcessesExW level 1,
 * or WTSEnumerateProcessesW where level 1 is not there); Services (session 0) and processes of
 * other sessions than the one named are refused unless allowed; right before each termination
 * the process is looked up again and must still be the same one — PID, name, session, owner SID,
 * and CPU time not lower than when it was listed — since Windows reuses PIDs.
 */
import { InvalidArgumentError, ProcessNotFoundError, UnsupportedPlatformError, type WtsError } from '../errors';
import { Win32, WTS_ANY_SESSION, type WtsApi, type WtsProcessInfoEx } from '../wtsapi';
import { processesOf } from './processes';
import { asWtsError, isWin32, serverKey, throwIfAborted } from './bulk';
import type { ServerContext } from './context';
import type { DistributiveOmit } from './types';
import { checkBoolean, checkKnownKeys, checkPositiveInteger, checkSessionId, readSignal, compileWildcard, describeValue, readArray, readOptions } from './validate';

/**
 * Which processes to end: one by its ID, or every process of that name in one session (by default
 * your own on the local server), or in all sessions (`all`).
 */
export type ProcessTarget =
  | {
      /** The process ID. */
      readonly pid: number;
      /** The session it must be in: a process in another session is refused (not ended). */
      readonly session?: number;
    }
  | {
      /**
       * The executable's name, without case; `.exe` may be left out (`notepad`); `*` and `?` are
       * wildcards (tskill's ProcessName).
       */
      readonly name: string;
      /**
       * The session whose processes of that name end.
       * @defaultValue your own session on the local server; required (or `all`) with `server`
       */
      readonly session?: number;
      /** Every session (tskill's `/a`); Services (session 0) still needs `allowServices`. */
      readonly all?: boolean;
    };

/** The options of terminateProcess. */
export interface TerminateProcessOptions {
  /**
   * Report what would be ended (`wouldTerminate`) and end nothing.
   * @defaultValue false
   */
  readonly dryRun?: boolean;
  /**
   * A reviewed dry run of the same target: only its `wouldTerminate` processes are ended, each only
   * while it is still the same process; any other match is reported `notInPlan`.
   */
  readonly plan?: readonly TerminateOutcome[];
  /**
   * Allow processes of the Services session (session 0: services and the system itself).
   * @defaultValue false
   */
  readonly allowServices?: boolean;
  /**
   * The exit code the processes end with (0 to 4294967295).
   * @defaultValue 1 (as Task Manager's End task)
   */
  readonly exitCode?: number;
  /**
   * How many processes are re-checked and ended at once (1 to 64): they are ended in rounds of
   * this many, each round re-checked on one listing of each of its sessions, made when it starts.
   * @defaultValue 4
   */
  readonly concurrency?: number;
  /** Stops starting new terminations: the processes not yet ended are reported `aborted`. */
  readonly signal?: AbortSignal;
}

/** A process as terminateProcess listed it: what it is re-checked against before it is ended. Frozen. */
export interface TargetProcess {
  /** `''` for the local server, else the server's name. */
  readonly server: string;
  /** The session it runs in. */
  readonly sessionId: number;
  /** Its ID. */
  readonly processId: number;
  /** Its executable's name. */
  readonly processName: string;
  /** Its owner's SID (`S-1-5-21-...`), or null when Windows gave none. */
  readonly userSid: string | null;
  /**
   * Its user + kernel CPU time when listed, in milliseconds (WTS_PROCESS_INFO_EXW's unit, per
   * Learn), or null (level 0). A process that now shows less is another process under the same PID.
   */
  readonly cpuTime: number | null;
}

/** Why a process was not ended. */
export type ProcessSkipReason =
  /** Session 0 without `allowServices`. */
  | 'services'
  /** In another session than the one named (add `all`). */
  | 'otherSession'
  /** This very process (the caller). */
  | 'self'
  /** Its PID now holds another process (name, session, owner or CPU time differ). */
  | 'changed'
  /** It had ended before it was ended (gone from the list, or WTSTerminateProcess answered 87). */
  | 'gone'
  /** The signal fired before its turn. */
  | 'aborted'
  /** A match that was not in the reviewed `plan`. */
  | 'notInPlan';

/** What happened to one process. Every outcome lists the requests sent for it (`WTSTerminateProcess` or none). */
export type TerminateOutcome =
  | { readonly status: 'terminated'; readonly process: TargetProcess; readonly requests: readonly 'WTSTerminateProcess'[] }
  | { readonly status: 'wouldTerminate'; readonly process: TargetProcess; readonly requests: readonly 'WTSTerminateProcess'[] }
  | {
      readonly status: 'skipped';
      readonly process: TargetProcess;
      readonly reason: ProcessSkipReason;
      readonly message: string;
      readonly requests: readonly 'WTSTerminateProcess'[];
    }
  | { readonly status: 'failed'; readonly process: TargetProcess; readonly error: WtsError; readonly requests: readonly 'WTSTerminateProcess'[] };

/** The target, checked. */
export type CheckedProcessTarget =
  | { readonly kind: 'pid'; readonly pid: number; readonly session: number | undefined }
  | { readonly kind: 'name'; readonly name: string; readonly matches: (name: string) => boolean; readonly session: number | undefined; readonly all: boolean };

/** The options, checked. */
export interface CheckedTerminate {
  readonly dryRun: boolean;
  readonly plan: readonly TargetProcess[] | undefined;
  readonly allowServices: boolean;
  readonly exitCode: number;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
}

const TERMINATE_KEYS = ['dryRun', 'plan', 'allowServices', 'exitCode', 'concurrency', 'signal'] as const;
const DEFAULT_EXIT_CODE = 1;

/** A DWORD (a process ID, a session ID in a plan, an exit code): a whole number from 0 to 4294967295. */
function checkDword(value: unknown, argument: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: expected ${what} from 0 to 4294967295, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks a process target: a PID, or a name with a session or `all`. No call is made. */
export function checkProcessTarget(value: unknown, serverGiven: boolean): CheckedProcessTarget {
  const t = readOptions(value, 'target', true);
  const has = (key: string) => t[key] !== undefined;
  if (has('pid') === has('name')) {
    throw new InvalidArgumentError('target', 'Invalid target: give either { pid } or { name } (with session or all).');
  }
  const session = has('session') ? checkSessionId(t['session'] as number, 'target.session') : undefined;
  if (has('pid')) {
    checkKnownKeys(t, ['pid', 'session'], 'target');
    return { kind: 'pid', pid: checkDword(t['pid'], 'target.pid', 'a process ID'), session };
  }
  checkKnownKeys(t, ['name', 'session', 'all'], 'target');
  const name = t['name'];
  if (typeof name !== 'string' || name.trim() === '' || /[\\/:\u0000-\u001f]/.test(name)) {
    throw new InvalidArgumentError('target.name', `Invalid target.name: expected an executable's name such as 'notepad.exe' (wildcards * and ? allowed), got ${describeValue(name)}.`);
  }
  const all = has('all') ? checkBoolean(t['all'], 'target.all') : false;
  if (all && session !== undefined) throw new InvalidArgumentError('target', 'Invalid target: give session or all, not both.');
  if (!all && session === undefined && serverGiven) {
    throw new InvalidArgumentError(
      'target.session',
      'A process name on a named server needs its session (session: N) or all sessions (all: true): there is no "your own session" there.',
    );
  }
  const exact = compileWildcard(name, 'target.name');
  const withExe = /\.exe$/i.test(name.trim()) ? undefined : compileWildcard(`${name.trim()}.exe`, 'target.name');
  return { kind: 'name', name: name.trim(), matches: (n) => exact(n) || (withExe?.(n) ?? false), session, all };
}

/** Checks the options. No call is made. */
export function checkTerminateOptions(o: Record<string, unknown>, extraKeys: readonly string[]): CheckedTerminate {
  checkKnownKeys(o, [...extraKeys, ...TERMINATE_KEYS]);
  const exitCode = o['exitCode'] === undefined ? DEFAULT_EXIT_CODE : checkDword(o['exitCode'], 'options.exitCode', 'a whole number');
  const dryRun = o['dryRun'] === undefined ? false : checkBoolean(o['dryRun'], 'options.dryRun');
  const plan = o['plan'] === undefined ? undefined : checkProcessPlan(o['plan']);
  if (dryRun && plan) throw new InvalidArgumentError('options.plan', 'A dry run makes a plan; it does not take one.');
  return {
    dryRun,
    plan,
    allowServices: o['allowServices'] === undefined ? false : checkBoolean(o['allowServices'], 'options.allowServices'),
    exitCode,
    concurrency: o['concurrency'] === undefined ? 4 : checkPositiveInteger(o['concurrency'], 'options.concurrency', 64),
    signal: readSignal(o),
  };
}

/** A plan: the `wouldTerminate` processes of a dry run's outcomes, each checked and copied. */
function checkProcessPlan(value: unknown): readonly TargetProcess[] {
  const list = readArray(value, 'options.plan');
  if (!list) throw new InvalidArgumentError('options.plan', 'Invalid options.plan: expected the outcomes of a dry run (an array).');
  const out: TargetProcess[] = [];
  list.forEach((item, i) => {
    const where = `options.plan[${i}]`;
    const o = readOptions(item, where, true);
    if (typeof o['status'] !== 'string') throw new InvalidArgumentError(where, `Invalid ${where}: not an outcome of terminateProcess.`);
    if (o['status'] !== 'wouldTerminate') {
      // Another call's dry run (wouldLogOff, wouldDisconnect, wouldSend) is not a plan of processes.
      if (/^would/i.test(o['status'])) {
        throw new InvalidArgumentError('options.plan', `Invalid ${where}.status: it is '${o['status']}', not what terminateProcess plans ('wouldTerminate'): a plan of another operation. Pass the result of a dry run of the same call, unchanged.`);
      }
      return;
    }
    const p = readOptions(o['process'], `${where}.process`, true);
    const int = (key: string) => checkDword(p[key], `${where}.process.${key}`, 'a whole number');
    const server = p['server'];
    const name = p['processName'];
    const sid = p['userSid'];
    const cpu = p['cpuTime'];
    if (typeof server !== 'string' || typeof name !== 'string' || (sid !== null && typeof sid !== 'string') || (cpu !== null && (typeof cpu !== 'number' || !(cpu >= 0)))) {
      throw new InvalidArgumentError(`${where}.process`, `Invalid ${where}.process: not a process terminateProcess listed.`);
    }
    const processId = int('processId');
    if (out.some((q) => q.processId === processId && serverKey(q.server) === serverKey(server))) {
      throw new InvalidArgumentError('options.plan', `Invalid ${where}: it plans process ${processId}${server ? ` on ${server}` : ''} twice. Pass the result of a dry run of the same call, unchanged.`);
    }
    out.push(Object.freeze({ server, sessionId: int('sessionId'), processId, processName: name, userSid: sid, cpuTime: cpu }));
  });
  return Object.freeze(out);
}

/** Every process of the server (or of one session), as terminateProcess compares them. */
async function listProcesses(ctx: ServerContext, sessionId: number, signal: AbortSignal | undefined): Promise<readonly TargetProcess[]> {
  return (await processesOf(ctx, sessionId, signal)).map((p) => {
    const ex = p as Partial<WtsProcessInfoEx>;
    return Object.freeze({
      server: ctx.server,
      sessionId: p.sessionId,
      processId: p.processId,
      processName: p.processName,
      userSid: p.userSid ?? null,
      cpuTime: ex.userTime !== undefined && ex.kernelTime !== undefined ? Number(ex.userTime + ex.kernelTime) : null,
    });
  });
}

/** Same process: the same PID, name, session and owner, and CPU time that did not go back. */
function sameProcess(planned: TargetProcess, now: TargetProcess): string | undefined {
  if (now.processName.toLowerCase() !== planned.processName.toLowerCase()) return `PID ${now.processId} is now ${now.processName}`;
  if (now.sessionId !== planned.sessionId) return `PID ${now.processId} is now in session ${now.sessionId}`;
  if (planned.userSid !== null && now.userSid !== null && now.userSid !== planned.userSid) return `PID ${now.processId} now belongs to ${now.userSid}`;
  // What was known of it must be readable again, or a new process under its PID cannot be told
  // from it (a listing that fell back to WTSEnumerateProcessesW has no CPU time).
  if (planned.userSid !== null && now.userSid === null) return `PID ${now.processId}'s owner could not be read again, so it cannot be told from a new process`;
  if (planned.cpuTime !== null && now.cpuTime === null) return `PID ${now.processId}'s CPU time could not be read again (the listing had no CPU times), so it cannot be told from a new process`;
  if (planned.cpuTime !== null && now.cpuTime !== null && now.cpuTime < planned.cpuTime) return `PID ${now.processId} has used less CPU time than when it was listed: a new process`;
  return undefined;
}

type Pending = { readonly process: TargetProcess; readonly identity: TargetProcess };

/**
 * One server: list, choose, and (unless a dry run) end each chosen process after its re-check.
 * Throws ProcessNotFoundError when nothing matches anywhere on the server.
 */
/**
 * What can be refused from the target, the options and the backend alone: checked before the
 * server is opened, so that a refusal makes no call at all.
 */
export function checkTerminateCall(api: WtsApi, target: CheckedProcessTarget, opts: CheckedTerminate, server: string | undefined = undefined): void {
  // The local server ('') can also be named: which one `server` is shows only once it is opened.
  checkPlanOn(opts.plan, ['', serverKey(server ?? '')]);
  if (target.session === 0 && !opts.allowServices) {
    throw new InvalidArgumentError('target.session', 'Session 0 is the Services session: its processes are ended only with allowServices: true.');
  }
  if (!opts.dryRun && typeof api.terminateProcess !== 'function') {
    throw new UnsupportedPlatformError(process.platform, `The ${api.name} backend cannot end processes (it has no WTSTerminateProcess).`);
  }
}

/**
 * A plan's processes are on the call's server (server keys in `servers`): a plan of another server
 * is refused, as logoffAll refuses one — before any call where the name tells, else once the server
 * is open and before anything is listed. The target may name fewer processes than the plan holds
 * (one PID out of a listing's plan): only those it names are acted on, each only while it is the
 * process planned.
 */
function checkPlanOn(plan: readonly TargetProcess[] | undefined, servers: readonly string[]): void {
  plan?.forEach((q, i) => {
    if (!servers.includes(serverKey(q.server))) {
      const where = q.server === '' ? 'the local server' : q.server;
      throw new InvalidArgumentError('options.plan', `Invalid options.plan[${i}]: it plans a process on ${where}, which this call does not work on. Pass the result of a dry run of the same call, unchanged.`);
    }
  });
}

export async function terminateOn(ctx: ServerContext, target: CheckedProcessTarget, opts: CheckedTerminate): Promise<readonly TerminateOutcome[]> {
  throwIfAborted(opts.signal, 'terminateProcess', ctx);
  // The session whose processes a name ends: the one named, else your own (local only).
  let scope: number | 'all' | 'own' = 'own';
  if (target.kind === 'name') {
    if (target.all) scope = 'all';
    else if (target.session !== undefined) scope = target.session;
    else if (ctx.currentSessionId !== undefined) scope = ctx.currentSessionId;
    else {
      throw new InvalidArgumentError(
        'target.session',
        `You are in no session of ${ctx.server || 'the local server'}: name the session (session: N) or all sessions (all: true).`,
      );
    }
  } else if (target.session !== undefined) scope = target.session;

  // A plan of another server than this one turned out to be (the local machine named, say).
  checkPlanOn(opts.plan, [serverKey(ctx.server)]);
  const planned = opts.plan;
  const listed = await listProcesses(ctx, WTS_ANY_SESSION, opts.signal);
  // Aborted while listing: a dry run is no plan then (a command would act on it), and nothing is ended.
  throwIfAborted(opts.signal, 'terminateProcess', ctx);
  const matches = listed.filter((p) => (target.kind === 'pid' ? p.processId === target.pid : target.matches(p.processName)));
  if (matches.length === 0 && !planned?.length) throw new ProcessNotFoundError(target.kind === 'pid' ? target.pid : target.name, ctx.server);

  const outcomes: TerminateOutcome[] = [];
  type Settled = DistributiveOmit<TerminateOutcome, 'requests'> & { requests?: readonly 'WTSTerminateProcess'[] };
  const settle = (o: Settled): void => {
    outcomes.push(Object.freeze({ ...o, requests: Object.freeze([...(o.requests ?? [])]) }) as TerminateOutcome);
  };
  const skip = (process: TargetProcess, reason: ProcessSkipReason, message: string, sent = false): void =>
    settle({ status: 'skipped', process, reason, message, requests: sent ? ['WTSTerminateProcess'] : [] });
  const skipAborted = (process: TargetProcess): void => skip(process, 'aborted', 'stopped before its turn (the signal fired); not ended');

  const toEnd: Pending[] = [];
  const handled = new Set<TargetProcess>();
  for (const p of matches) {
    const inScope = scope === 'all' || (scope === 'own' ? target.kind === 'pid' : p.sessionId === scope);
    if (p.sessionId === 0 && !opts.allowServices) {
      skip(p, 'services', 'it runs in the Services session (session 0); allowServices: true to end it');
    } else if (!inScope) {
      skip(p, 'otherSession', `it runs in session ${p.sessionId}, not session ${String(scope === 'own' ? ctx.currentSessionId : scope)}; all: true (/a) ends it in every session`);
    } else if (ctx.isLocal && p.processId === process.pid) {
      skip(p, 'self', 'it is this process');
    } else if (planned) {
      const plan = planned.find((q) => q.processId === p.processId);
      const changed = plan && sameProcess(plan, p);
      if (plan) handled.add(plan);
      if (!plan) skip(p, 'notInPlan', 'it was not in the plan that was confirmed');
      else if (changed) skip(p, 'changed', `${changed}; not ended`);
      else toEnd.push({ process: p, identity: plan });
    } else if (opts.dryRun) {
      settle({ status: 'wouldTerminate', process: p });
    } else {
      toEnd.push({ process: p, identity: p });
    }
  }
  // Planned processes that no longer match anything: gone (or their PID holds another program).
  const targets = (p: TargetProcess) => (target.kind === 'pid' ? p.processId === target.pid : target.matches(p.processName));
  for (const q of planned ?? []) {
    // A planned process this target does not name (a plan of a wider listing) is left out.
    if (targets(q) && !handled.has(q) && !outcomes.some((o) => o.process.processId === q.processId)) {
      const now = listed.find((p) => p.processId === q.processId);
      if (!now) skip(q, 'gone', 'it had ended before its turn');
      else if (!matches.includes(now)) skip(q, 'changed', sameProcess(q, now) ?? `PID ${q.processId} is no longer a match`);
    }
  }

  // Ended in rounds of `concurrency`: each round's processes are re-checked on one listing of each
  // of their sessions, made when the round starts (right before: PIDs are reused as soon as a
  // process ends), then ended at once. One listing per round, not one per process: ending N
  // processes of one session made N listings of N processes.
  for (let start = 0; start < toEnd.length; start += opts.concurrency) {
    const round = toEnd.slice(start, start + opts.concurrency);
    if (opts.signal?.aborted) {
      for (const { process: p } of round) skipAborted(p);
      continue;
    }
    const listings = new Map<number, Promise<readonly TargetProcess[]>>();
    const listingOf = (sessionId: number) => {
      let listing = listings.get(sessionId);
      if (!listing) {
        listing = listProcesses(ctx, sessionId, opts.signal);
        listing.catch(() => undefined); // each process of the round reports it
        listings.set(sessionId, listing);
      }
      return listing;
    };
    for (const { process: p } of round) listingOf(p.sessionId);
    await Promise.all(
      round.map(async ({ process: p, identity }): Promise<void> => {
        let now: TargetProcess | undefined;
        let failure: { error: unknown } | undefined;
        try {
          now = (await listingOf(p.sessionId)).find((q) => q.processId === p.processId);
          // Not in its session any more: gone, or its PID now runs in another session (changed).
          // Not asked once the call was aborted: the process is skipped below anyway.
          if (!now && !opts.signal?.aborted) now = (await listingOf(WTS_ANY_SESSION)).find((q) => q.processId === p.processId);
        } catch (error) {
          failure = { error };
        }
        // The last check of the signal: nothing below waits before the call.
        if (opts.signal?.aborted) return skipAborted(p);
        if (failure) return settle({ status: 'failed', process: p, error: asWtsError(failure.error) });
        if (!now) return skip(p, 'gone', 'it had ended before its turn');
        const changed = sameProcess(identity, now);
        if (changed) return skip(p, 'changed', `${changed}; not ended`);
        try {
          await ctx.api.terminateProcess!(ctx.handle, p.processId, opts.exitCode);
          settle({ status: 'terminated', process: p, requests: ['WTSTerminateProcess'] });
        } catch (error) {
          // 87: the PID is no longer running (assumed, docs/windows-facts.md row terminate-gone).
          if (isWin32(error, Win32.ERROR_INVALID_PARAMETER)) return skip(p, 'gone', 'it had already ended (WTSTerminateProcess: 87)', true);
          settle({ status: 'failed', process: p, error: asWtsError(error), requests: ['WTSTerminateProcess'] });
        }
      }),
    );
  }
  // One outcome per process, in the server's order.
  const order = new Map(listed.map((p, i) => [p.processId, i] as const));
  return Object.freeze(outcomes.sort((a, b) => (order.get(a.process.processId) ?? Infinity) - (order.get(b.process.processId) ?? Infinity)));
}
