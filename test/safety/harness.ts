/**
 * Runs a generated scenario against a backend (the mock, or koffi + the native double): loads the
 * farm, runs each operation through the recording wrapper with its changes, faults and aborts at
 * the chosen calls, waits until the library has stopped calling, and checks every invariant.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createWts, type WtsApi } from '../../src/index';
import type { Farm, FarmSession, MockApiName, MockCall } from '../../src/mock';
import {
  DOMAINS,
  LOCAL,
  localNames,
  UNKNOWN_SERVER,
  USERS,
  type AbortSpec,
  type BulkStep,
  type Change,
  type Scenario,
  type ServerSpec,
  type SingleStep,
  type TargetSpec,
  type TimedChange,
} from './generators';
import { OPERATION_INVARIANTS, planIdentity, keyOf, outcomesOf, type CheckContext, type OpRecord } from './invariants';
import { FarmModel, type Identity, type ServerKey } from './model';
import { isAction, RecordingApi, type CallHook, type CallRecord } from './recorder';

/** A backend loaded with a farm, and the controls the scenario uses to change it. */
export interface LoadedBackend {
  readonly api: WtsApi;
  putSession(server: string, session: FarmSession): void;
  setFault(server: string, api: MockApiName, key: number | '*', code: number | undefined): void;
  /** The session's user logs off by themself (not through the library). */
  endSession(server: string, id: number): void | Promise<void>;
  /** The mock's own call log, to cross-check the recording. */
  readonly mockCalls?: () => readonly MockCall[];
  /** Leaked handles or buffers after the run, described ([] = none). */
  leaks(): string[];
}

export interface SafetyBackend {
  readonly name: string;
  load(farm: Farm, closingPolls?: number): LoadedBackend | Promise<LoadedBackend>;
}

export interface RunReport {
  readonly violations: string[];
  readonly races: number;
  readonly statuses: Record<string, number>;
}

const MOCK_NAMES: Readonly<Record<string, string>> = {
  open: 'openServer',
  close: 'closeServer',
  enumerate: 'enumerateSessions',
  processes: 'enumerateProcesses',
  query: 'querySessionInformation',
  logoff: 'logoffSession',
  disconnect: 'disconnectSession',
  message: 'sendMessage',
  consoleId: 'getActiveConsoleSessionId',
  currentId: 'getCurrentSessionId',
  computerName: 'getComputerName',
  localNames: 'getLocalServerNames',
};

/** Waits until the library has no call in flight and makes no new one for a while. */
async function quiesce(rec: RecordingApi, limitMs = 5000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let last = rec.log.length;
  let stable = 0;
  while (Date.now() < deadline) {
    await sleep(2);
    if (rec.inFlight === 0 && rec.log.length === last) {
      if (++stable >= 3) return true;
    } else {
      stable = 0;
      last = rec.log.length;
    }
  }
  return false;
}

class ScenarioRun {
  readonly model: FarmModel;
  readonly backend: LoadedBackend;
  readonly rec: RecordingApi;
  readonly wts: ReturnType<typeof createWts>;
  readonly ops: OpRecord[] = [];
  readonly problems: string[] = [];
  /** The running operation's `serverFailed` events: the clock when each server was given up. */
  #givenUpAt = new Map<string, number>();
  readonly #faults = new Set<string>();
  readonly #serverKeys: ServerKey[];
  /** The plan being applied (from the dry run on), for changes that prefer planned sessions. */
  plan: ReadonlyMap<string, Identity> | undefined;

  constructor(model: FarmModel, backend: LoadedBackend) {
    this.model = model;
    this.backend = backend;
    this.rec = new RecordingApi(backend.api, model);
    this.wts = createWts({ api: this.rec });
    this.#serverKeys = [...model.servers.keys()];
  }

  #name(key: ServerKey): string {
    return this.model.info(key)?.name ?? key;
  }

  #remotes(): string[] {
    return [...this.model.servers.values()].filter((s) => !s.isLocal).map((s) => s.name);
  }

  /** Sessions a change may pick on a server (never Services or a listener). */
  #eligible(key: ServerKey, filter: (s: FarmSession) => boolean): FarmSession[] {
    return this.model
      .sessionsNow(key)
      .filter((s) => s.id !== 0 && s.id < 0x10000 && s.state !== 'Listen' && filter(s))
      .sort((a, b) => a.id - b.id);
  }

  #put(key: ServerKey, session: FarmSession): void {
    this.backend.putSession(this.#name(key), session);
    this.model.put(key, session);
  }

  /**
   * Applies a change. `midCall`: it lands while an operation is making calls (not between two
   * operations, nor between a dry run and its apply).
   */
  async applyChange(change: Change, midCall = false): Promise<void> {
    const key = this.#serverKeys[change.server % this.#serverKeys.length] as ServerKey;
    const own = (s: FarmSession) => this.model.isOwn(key, s.id);
    const isConsole = (s: FarmSession) => this.model.isConsoleAt(key, s.id, this.model.now);
    const pick = (list: FarmSession[], n: number) => (list.length === 0 ? undefined : list[n % list.length]);
    switch (change.kind) {
      case 'reuse': {
        // The old logon ended and a new one took its ID (never the caller's own: the caller runs in it).
        // 'planned' and 'long' look on every server: the plan's sessions, or the names that fill WTSINFOW.
        const across = (filter: (k: ServerKey, s: FarmSession) => boolean) =>
          this.#serverKeys.flatMap((k) => this.#eligible(k, (s) => !this.model.isOwn(k, s.id) && filter(k, s)).map((s) => [k, s] as const));
        const planned = (k: ServerKey, s: FarmSession) => this.plan?.has(keyOf(k, s.id)) === true;
        const long = (s: FarmSession) => (s.user ?? '').length >= 20 || (s.domain ?? '').length >= 16;
        const choices = (...lists: (readonly (readonly [ServerKey, FarmSession])[])[]) => lists.find((l) => l.length > 0) ?? [];
        const preferred =
          change.prefer === 'planned'
            ? across(planned)
            : change.prefer === 'long'
              ? across((_k, s) => long(s))
              : change.prefer === 'plannedLong'
                ? choices(across((k, s) => planned(k, s) && long(s)), across(planned), across((_k, s) => long(s)))
                : [];
        const [where, old] = preferred.length > 0 ? (preferred[change.pick % preferred.length] as readonly [ServerKey, FarmSession]) : [key, pick(this.#eligible(key, (s) => !own(s)), change.pick)];
        if (!old) return;
        const isConsoleThere = this.model.isConsoleAt(where, old.id, this.model.now);
        const oldUser = old.user ?? '';
        let user = oldUser === '' ? (USERS[change.otherUser % USERS.length] as string) : oldUser;
        let domain = old.domain ?? 'CORP';
        let logonTime = this.model.freshLogonTime();
        if (change.user === 'other') {
          user = USERS[change.otherUser % USERS.length] as string;
          if (user.toLowerCase() === oldUser.toLowerCase()) user = USERS[(change.otherUser + 1) % USERS.length] as string;
        } else if (change.user === 'prefixTwin' && old.logonTime) {
          // Same logon time: only the full (long) name or domain tells the two logons apart. Only
          // between operations: while an operation runs, a new logon on a reused ID has a later
          // LogonTime than the one before it (docs/decisions.md: a logon's own time, 100-ns ticks;
          // an ID is reused only once its session has ended), and the library reads the full names
          // before WTSSessionInfo so that the logon time it compares is the last thing it read.
          if (!midCall) logonTime = old.logonTime;
          if (change.otherUser % 2 === 1 && domain.length >= 16) domain = `${domain.slice(0, 16)}${domain.endsWith('Q') ? 'R' : 'Q'}`;
          else if (oldUser.length >= 20) user = `${oldUser.slice(0, 20)}${oldUser.endsWith('Q') ? 'R' : 'Q'}`;
          else user = oldUser === 'alice' ? 'bob' : 'alice';
        }
        const named = old.state === 'Active' || old.state === 'Connected' || old.state === 'Idle';
        this.#put(where, {
          id: old.id,
          name: isConsoleThere ? 'Console' : named ? `RDP-Tcp#${old.id}` : '',
          state: old.user ? old.state : 'Active',
          user,
          domain,
          logonTime,
        });
        return;
      }
      case 'newSession': {
        const id = this.model.freshId();
        this.#put(key, {
          id,
          name: change.state === 'Active' ? `RDP-Tcp#${id}` : '',
          state: change.state,
          user: USERS[change.user % USERS.length] as string,
          domain: DOMAINS[change.domain % DOMAINS.length] as string,
          logonTime: this.model.freshLogonTime(),
        });
        return;
      }
      case 'disconnect': {
        const s = pick(this.#eligible(key, (x) => x.state !== 'Disconnected' && !isConsole(x) && !this.model.isEnding(key, x.id)), change.pick);
        if (s) this.#put(key, { ...s, state: 'Disconnected', name: '' });
        return;
      }
      case 'reconnect': {
        const s = pick(this.#eligible(key, (x) => x.state === 'Disconnected' && (x.user ?? '') !== '' && !this.model.isEnding(key, x.id)), change.pick);
        if (s) this.#put(key, { ...s, state: 'Active', name: `RDP-Tcp#${s.id}` });
        return;
      }
      case 'end': {
        const s = pick(this.#eligible(key, (x) => !own(x) && !isConsole(x) && !this.model.isEnding(key, x.id)), change.pick);
        if (!s) return;
        this.model.markEnding(key, s.id);
        await this.backend.endSession(this.#name(key), s.id);
        return;
      }
      case 'fault': {
        const all = this.#eligible(key, () => true);
        const perSession = change.api !== 'enumerate' && change.api !== 'open' && change.pick !== '*' && all.length > 0;
        const target: number | '*' = perSession ? (pick(all, change.pick as number) as FarmSession).id : '*';
        this.backend.setFault(this.#name(key), change.api, target, change.code);
        this.#faults.add(JSON.stringify([this.#name(key), change.api, target]));
        return;
      }
      case 'clearFaults': {
        for (const f of [...this.#faults]) {
          const [server, api, target] = JSON.parse(f) as [string, MockApiName, number | '*'];
          if (server !== this.#name(key)) continue;
          this.backend.setFault(server, api, target, undefined);
          this.#faults.delete(f);
        }
        return;
      }
    }
  }

  clearFaults(): void {
    for (const f of this.#faults) {
      const [server, api, target] = JSON.parse(f) as [string, MockApiName, number | '*'];
      this.backend.setFault(server, api, target, undefined);
    }
    this.#faults.clear();
  }

  #localName(pick: number): string {
    const local = this.model.farm.servers.find((s) => s.name.toLowerCase() === this.model.localKey) as Farm['servers'][number];
    const names = localNames(local.name, local.aliases ?? []);
    return names[pick % names.length] as string;
  }

  #serverName(spec: ServerSpec): string | undefined {
    if (spec.kind === 'default') return undefined;
    if (spec.kind === 'local') return this.#localName(spec.pick);
    const remotes = this.#remotes();
    return remotes.length === 0 ? UNKNOWN_SERVER : (remotes[spec.pick % remotes.length] as string);
  }

  #keyOfName(name: string | undefined): ServerKey {
    return name === undefined ? this.model.localKey : (this.model.resolve(name) ?? `?${name.toLowerCase()}`);
  }

  #target(spec: TargetSpec, key: ServerKey): number | string | undefined {
    const info = this.model.info(key);
    switch (spec.kind) {
      case 'none':
        return undefined;
      case 'own':
        return info?.currentSessionId ?? 2;
      case 'console':
        return info?.isLocal ? (info.consoleSessionId ?? 1) : 1;
      case 'services':
        return 0;
      case 'listener':
        return 65536;
      case 'missing':
        return 9999;
      case 'session': {
        const list = this.#eligible(key, () => true);
        const s = list[spec.pick % Math.max(1, list.length)];
        if (!s) return 9999;
        return spec.byName && (s.name ?? '') !== '' ? (s.name as string) : s.id;
      }
    }
  }

  /** Runs one operation: hooks for its changes and abort, then waits for the library to go quiet. */
  async #operation(
    label: string,
    meta: Omit<OpRecord, 'id' | 'label' | 'startSeq' | 'endSeq' | 'calls' | 'settled'>,
    during: readonly TimedChange[],
    abort: AbortSpec,
    controller: AbortController | undefined,
    call: () => Promise<unknown>,
  ): Promise<OpRecord> {
    const id = this.ops.length;
    const byCall = new Map<number, Change[]>();
    const byAction = new Map<number, Change[]>();
    for (const t of during) {
      const table = t.onAction ? byAction : byCall;
      table.set(t.atCall, [...(table.get(t.atCall) ?? []), t.change]);
    }
    let actionsSeen = 0;
    const hook: CallHook = async (record, n) => {
      const onAction = isAction(record.method) ? (byAction.get(actionsSeen++) ?? []) : [];
      for (const change of [...(byCall.get(n) ?? []), ...onAction]) await this.applyChange(change, true);
      if (abort.kind === 'atCall' && abort.n === n && controller) setImmediate(() => controller.abort(new Error('aborted by the test')));
    };
    if (abort.kind === 'before') controller?.abort(new Error('aborted by the test'));
    const timer = abort.kind === 'afterMs' && controller ? setTimeout(() => controller.abort(new Error('aborted by the test')), abort.ms) : undefined;
    this.#givenUpAt = new Map();
    const givenUpAt = this.#givenUpAt;
    const startSeq = this.model.tick();
    this.rec.beginOp(id, hook);
    let settled: OpRecord['settled'];
    try {
      settled = { ok: true, value: await call() };
    } catch (error) {
      settled = { ok: false, error };
    }
    this.rec.settleOp();
    clearTimeout(timer);
    const quiet = await quiesce(this.rec);
    this.rec.endHooks();
    const endSeq = this.model.tick();
    const op: OpRecord = { id, label, ...meta, startSeq, endSeq, calls: this.rec.callsOf(id), settled, givenUpAt };
    if (!quiet) this.problems.push(`[libraryStopsCalling] op #${id} ${label}: still calling the backend 5 s after its result`);
    this.ops.push(op);
    this.rec.beginOp(-1);
    return op;
  }

  async single(step: SingleStep): Promise<void> {
    const server = this.#serverName(step.server);
    const key = this.#keyOfName(server);
    const target = this.#target(step.target, key);
    const controller = step.abort.kind === 'none' ? undefined : new AbortController();
    const options: Record<string, unknown> = {};
    if (server !== undefined) options['server'] = server;
    if (controller) options['signal'] = controller.signal;
    if (step.op === 'sendMessage') Object.assign(options, { text: 'hello', wait: step.wait });
    else Object.assign(options, { wait: step.wait, timeoutMs: step.timeoutMs, pollIntervalMs: 1 });
    const shown = JSON.stringify({ ...options, signal: controller ? step.abort : undefined });
    const label = step.viaObject ? `openServer(${JSON.stringify(server)}).${step.op}(${JSON.stringify(target)}, ${shown})` : `${step.op}(${JSON.stringify(target)}, ${shown})`;
    await this.#operation(
      label,
      { kind: step.op, single: true, dryRun: false, warn: false, many: false, plan: undefined, servers: [key] },
      step.during,
      step.abort,
      controller,
      () => this.#viaObject(step.viaObject ? server : undefined, step.op, (o) => [target, o], options),
    );
  }

  /**
   * Calls `op` on the Wts, or — with `objectName` — on `wts.openServer(objectName)` (its `server`
   * option dropped: a WtsServer has its own), closing the object right after, as `await using` does.
   */
  async #viaObject(objectName: string | undefined, op: string, args: (o: Record<string, unknown>) => unknown[], options: Record<string, unknown>): Promise<unknown> {
    if (objectName === undefined) return (this.wts as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op]?.(...args(options));
    const { server: _server, ...rest } = options;
    const object = this.wts.openServer(objectName);
    try {
      return await (object as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op]?.(...args(rest));
    } finally {
      await object.close();
    }
  }

  async bulk(step: BulkStep): Promise<void> {
    const options: Record<string, unknown> = { ...step.filter, concurrency: step.concurrency };
    let servers: ServerKey[];
    if (step.where.kind === 'one') {
      const server = this.#serverName(step.where.server);
      if (server !== undefined) options['server'] = server;
      servers = [this.#keyOfName(server)];
    } else {
      const remotes = this.#remotes();
      const names = step.where.servers.map((s) =>
        s.kind === 'local' ? this.#localName(s.pick) : s.kind === 'unknown' || remotes.length === 0 ? UNKNOWN_SERVER : (remotes[s.pick % remotes.length] as string),
      );
      options['servers'] = names;
      if (step.where.serverConcurrency !== undefined) options['serverConcurrency'] = step.where.serverConcurrency;
      servers = [...new Set(names.map((n) => this.#keyOfName(n)))];
      if (step.serverTimeoutMs !== undefined) options['serverTimeoutMs'] = step.serverTimeoutMs;
      // When each server was given up: the invariants do not expect what it listed later.
      options['onEvent'] = (e: { type: string; server?: string }) => {
        if (e.type === 'serverFailed' && e.server !== undefined && !this.#givenUpAt.has(e.server)) this.#givenUpAt.set(e.server, this.model.tick());
      };
    }
    if (step.op === 'sendMessageAll') options['text'] = 'hello';
    else Object.assign(options, { wait: step.wait, timeoutMs: step.timeoutMs, pollIntervalMs: 1 });
    if (step.warnGrace !== undefined) options['warn'] = { text: 'You will be logged off.', graceSeconds: step.warnGrace };
    const many = step.where.kind === 'many';
    const meta = { kind: step.op, single: false, warn: step.warnGrace !== undefined, many, servers };
    const objectName = step.where.kind === 'one' && step.where.viaObject ? (options['server'] as string | undefined) : undefined;
    const call = (o: Record<string, unknown>) => () => this.#viaObject(objectName, step.op, (x) => [x], o);

    let plan: Map<string, Identity> | undefined;
    let planValue: unknown;
    if (step.plan) {
      const dryOptions = { ...options, dryRun: true };
      const dry = await this.#operation(
        `${objectName === undefined ? '' : `openServer(${JSON.stringify(objectName)}).`}${step.op}(${JSON.stringify(dryOptions)})`,
        { ...meta, dryRun: true, plan: undefined },
        step.plan.dryRunDuring,
        { kind: 'none' },
        undefined,
        call(dryOptions),
      );
      if (!dry.settled.ok) return;
      plan = new Map();
      for (const o of outcomesOf(dry)) {
        const identity = planIdentity(o);
        if (o.status.startsWith('would') && identity) plan.set(keyOf(this.model.keyOfSessionServer(o.session.server), o.session.id), identity);
      }
      this.plan = plan;
      const value = dry.settled.value as unknown[] | { results: unknown[] };
      const outcomes = Array.isArray(value) ? value : value.results;
      planValue = step.plan.form === 'result' ? value : step.plan.form === 'outcomes' ? outcomes : JSON.parse(JSON.stringify(outcomes));
      for (const change of step.plan.between) await this.applyChange(change);
    }
    const controller = step.abort.kind === 'none' ? undefined : new AbortController();
    const applied: Record<string, unknown> = { ...options };
    if (controller) applied['signal'] = controller.signal;
    if (step.plan) applied['plan'] = planValue;
    const shown = { ...applied, ...(controller ? { signal: step.abort } : {}), ...(step.plan ? { plan: `<${step.plan.form} of op #${this.ops.length - 1}>` } : {}) };
    const via = objectName === undefined ? '' : `openServer(${JSON.stringify(objectName)}).`;
    await this.#operation(`${via}${step.op}(${JSON.stringify(shown)})`, { ...meta, dryRun: false, plan }, step.during, step.abort, controller, call(applied));
    this.plan = undefined;
  }

  /**
   * Cross-check: the mock logged exactly the calls the wrapper recorded (as multisets: the wrapper
   * may yield to a hook before delegating, so two concurrent calls can reach the mock in another order).
   */
  crossCheckMock(): string[] {
    const mockCalls = this.backend.mockCalls?.();
    if (!mockCalls) return [];
    // A call on a closed handle reaches the mock as a call on no server ('' in its log); that call is
    // noCallOnClosedHandle's to report.
    const ours = this.rec.log.map((c) => `${c.method}:${c.onClosedHandle ? '?' : c.server}:${c.sessionId ?? ''}`).sort();
    const theirs = mockCalls.map((c) => `${MOCK_NAMES[c.api] ?? c.api}:${c.server === '' ? '?' : (this.model.resolve(c.server) ?? `?${c.server.toLowerCase()}`)}:${c.sessionId ?? ''}`).sort();
    if (JSON.stringify(ours) === JSON.stringify(theirs)) return [];
    const missing = ours.filter((x) => !theirs.includes(x));
    const extra = theirs.filter((x) => !ours.includes(x));
    return [`[mockLogMatchesRecording] the wrapper recorded ${ours.length} calls, the mock ${theirs.length}; only recorded: ${missing.join(', ') || '-'}; only in the mock: ${extra.join(', ') || '-'}`];
  }
}

/**
 * One run at a time: fast-check's time limit abandons a run that is still going, and loading the
 * next farm into the (process-wide) native double under it would corrupt both.
 */
let previous: Promise<unknown> = Promise.resolve();

function serialized<T>(run: () => Promise<T>): Promise<T> {
  const next = previous.then(run, run);
  previous = next.catch(() => undefined);
  return next;
}

export function runScenario(backend: SafetyBackend, scenario: Scenario): Promise<RunReport> {
  return serialized(() => runScenarioNow(backend, scenario));
}

async function runScenarioNow(backend: SafetyBackend, scenario: Scenario): Promise<RunReport> {
  const model = new FarmModel(scenario.farm);
  const loaded = await backend.load(structuredClone(scenario.farm), scenario.closingPolls);
  const run = new ScenarioRun(model, loaded);
  try {
    for (const step of scenario.steps) {
      if (step.kind === 'changes') for (const change of step.changes) await run.applyChange(change);
      else if (step.kind === 'single') await run.single(step);
      else await run.bulk(step);
      run.clearFaults();
    }
  } finally {
    await quiesce(run.rec);
  }
  const ctx: CheckContext = { model, races: 0 };
  const violations = [...run.problems];
  for (const op of run.ops) for (const check of OPERATION_INVARIANTS) violations.push(...check(op, ctx));
  violations.push(...run.crossCheckMock());
  violations.push(...loaded.leaks().map((l) => `[resourcesReleased] ${l}`));
  const statuses: Record<string, number> = {};
  for (const op of run.ops) {
    const key = `${op.kind}${op.dryRun ? '(dry)' : ''}:${op.settled.ok ? 'ok' : String((op.settled.error as { code?: unknown })?.code)}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    for (const o of outcomesOf(op)) {
      const k = o.status === 'skipped' ? `skipped:${String(o.reason)}` : o.status;
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    for (const c of op.calls) if (c.method === 'logoffSession' || c.method === 'disconnectSession' || c.method === 'sendMessage') statuses[`call:${c.method}`] = (statuses[`call:${c.method}`] ?? 0) + 1;
  }
  if (violations.length > 0 && process.env['WTS_SAFETY_TRACE']) violations.push(trace(run));
  return { violations, races: ctx.races, statuses };
}

/** The whole run, call by call (WTS_SAFETY_TRACE=1): what a failing property's message ends with. */
function trace(run: ScenarioRun): string {
  const lines = ['--- trace ---'];
  for (const op of run.ops) {
    lines.push(`op #${op.id} ${op.label} [seq ${op.startSeq}..${op.endSeq}] -> ${op.settled.ok ? 'resolved' : `rejected ${String((op.settled.error as { code?: unknown })?.code)}: ${String((op.settled.error as Error)?.message)}`}`);
    for (const c of op.calls) {
      const err = c.error ? ` ! ${c.error.code}${c.error.win32Code !== undefined ? ` ${c.error.win32Code}` : ''}` : '';
      const res = c.method === 'enumerateSessions' && Array.isArray(c.result) ? ` -> [${(c.result as { sessionId: number; userName: string }[]).map((x) => `${x.sessionId}${x.userName ? `:${x.userName}` : ''}`).join(' ')}]` : '';
      const info = c.infoClass === 'WTSSessionInfo' && c.result ? ` -> ${(c.result as { userName: string }).userName}@${String((c.result as { logonTime: Date | null }).logonTime?.toISOString())}` : '';
      lines.push(
        `  #${c.index} seq ${c.seq}..${c.doneSeq ?? '?'} ${c.method}(${c.server}${c.sessionId === undefined ? '' : `, ${c.sessionId}`}${c.infoClass ? `, ${c.infoClass}` : ''})` +
          `${c.fresh === undefined ? '' : c.fresh ? ' fresh' : ' stale'}${c.afterResult ? ' AFTER-RESULT' : ''}${c.onClosedHandle ? ' CLOSED-HANDLE' : ''}${err}${res}${info}`,
      );
    }
  }
  if (run.ops.length > 0 && process.env['WTS_SAFETY_TRACE'] === '2') lines.push(JSON.stringify(run.ops.map((o) => o.settled.ok ? o.settled.value : null), null, 1));
  return lines.join('\n');
}

// ---- bad input ------------------------------------------------------------------------------------

/** A small farm for the bad-input property (its content does not matter: nothing may be called). */
export const BAD_INPUT_FARM: Farm = {
  localServer: LOCAL,
  servers: [
    {
      name: LOCAL,
      consoleSessionId: 1,
      currentSessionId: 2,
      aliases: ['ts01.corp.example'],
      sessions: [
        { id: 0, name: 'Services', state: 'Disconnected' },
        { id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP', logonTime: '2026-11-20T07:00:00Z' },
        { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me', domain: 'CORP', logonTime: '2026-11-21T07:00:00Z' },
        { id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' },
        { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
      ],
    },
    { name: 'WF12', sessions: [{ id: 3, name: '', state: 'Disconnected', user: 'bob', domain: 'CORP', logonTime: '2026-11-21T08:00:00Z' }] },
    { name: 'WF13', sessions: [] },
  ],
};

/** Calls `fn(...args)` on a fresh recorded backend; returns how it ended and what it called. */
type BadCallResult = { outcome: { threwSync: boolean; settled: { ok: true; value: unknown } | { ok: false; error: unknown } }; calls: CallRecord[]; leaks: string[] };

export function runBadCall(backend: SafetyBackend, fn: string, args: readonly unknown[]): Promise<BadCallResult> {
  return serialized(() => runBadCallNow(backend, fn, args));
}

async function runBadCallNow(backend: SafetyBackend, fn: string, args: readonly unknown[]): Promise<BadCallResult> {
  const model = new FarmModel(BAD_INPUT_FARM);
  const loaded = await backend.load(structuredClone(BAD_INPUT_FARM));
  const rec = new RecordingApi(loaded.api, model);
  const wts = createWts({ api: rec }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  rec.beginOp(0);
  let threwSync = false;
  let promise: Promise<unknown>;
  try {
    promise = (wts[fn] as (...a: unknown[]) => Promise<unknown>).apply(wts, [...args]);
  } catch (error) {
    threwSync = true;
    promise = Promise.reject(error);
  }
  let settled: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    settled = { ok: true, value: await promise };
  } catch (error) {
    settled = { ok: false, error };
  }
  // A rejected call made no call, or its calls would be in the log already; let a stray one show.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (rec.log.length > 0 || rec.inFlight > 0) await quiesce(rec, 2000);
  return { outcome: { threwSync, settled }, calls: [...rec.log], leaks: loaded.leaks() };
}

