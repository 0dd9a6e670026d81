/**
 * A WtsApi that records every call the library makes — method, server, session, and (for the
 * reads the invariants need) what came back — BEFORE delegating it to the backend under test. It
 * works the same over the mock and over koffi + the native double. Hooks let the scenario change
 * the farm, inject faults or abort at the N-th call of an operation.
 */
import {
  WTS_CURRENT_SERVER_HANDLE,
  type ServerHandle,
  type WtsApi,
  type WtsInfoClass,
  type WtsInfoClassValues,
  type WtsMessage,
  type WtsProcessInfo,
  type WtsSessionInfo1,
} from '../../src/index';
import type { FarmModel, ServerKey } from './model';

export type ApiMethod =
  | 'openServer'
  | 'closeServer'
  | 'enumerateSessions'
  | 'enumerateProcesses'
  | 'querySessionInformation'
  | 'logoffSession'
  | 'disconnectSession'
  | 'sendMessage'
  | 'getActiveConsoleSessionId'
  | 'getCurrentSessionId'
  | 'getComputerName'
  | 'getLocalServerNames';

/** The calls that act on a session, by the Win32 name an outcome's `requests` uses. */
export const ACTION_REQUEST = {
  logoffSession: 'WTSLogoffSession',
  disconnectSession: 'WTSDisconnectSession',
  sendMessage: 'WTSSendMessageW',
} as const;
export type ActionMethod = keyof typeof ACTION_REQUEST;

export function isAction(method: ApiMethod): method is ActionMethod {
  return method in ACTION_REQUEST;
}

/** The calls that read who is in a session (the re-check reads). */
const IDENTITY_CLASSES: ReadonlySet<WtsInfoClass> = new Set(['WTSSessionInfo', 'WTSUserName', 'WTSDomainName']);

export interface CallError {
  readonly code: string | undefined;
  readonly win32Code: number | undefined;
  readonly message: string;
}

export interface CallRecord {
  /** Position in the log. */
  readonly index: number;
  /** The shared clock when the call was made. */
  readonly seq: number;
  /** The operation (step) it belongs to; -1 between operations. */
  readonly op: number;
  /** Its position among the operation's calls (0-based). */
  readonly opCall: number;
  readonly method: ApiMethod;
  /** The model's key of the server the call went to ('?name' for a server the farm lacks). */
  readonly server: ServerKey;
  readonly handle: bigint | undefined;
  readonly sessionId: number | undefined;
  readonly infoClass: WtsInfoClass | undefined;
  /** Actions: made in the same turn of the event loop as an identity read of that session answered. */
  readonly fresh: boolean | undefined;
  /** Made after the operation's promise had settled. */
  readonly afterResult: boolean;
  /** The handle had been closed (WTSCloseServer) before this call used it. */
  readonly onClosedHandle: boolean;
  /** closeServer: how many calls on the same handle were still in flight when it was made. */
  readonly inFlightOnHandle: number;
  doneSeq?: number;
  result?: unknown;
  error?: CallError;
}

/** Runs at each asynchronous call of the operation; `n` counts those calls (0-based). */
export type CallHook = (record: CallRecord, n: number) => void | Promise<void>;

function errorOf(error: unknown): CallError {
  const e = error as { code?: unknown; win32Code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : undefined,
    win32Code: typeof e?.win32Code === 'number' ? e.win32Code : undefined,
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}

export class RecordingApi implements WtsApi {
  readonly name: string;
  readonly log: CallRecord[] = [];
  readonly #target: WtsApi;
  readonly #model: FarmModel;
  readonly #handles = new Map<bigint, ServerKey>();
  readonly #closed = new Set<bigint>();
  readonly #inFlightByHandle = new Map<bigint, number>();
  /** `${server}:${id}` -> token of the identity read that answered last in this turn. */
  readonly #fresh = new Map<string, object>();
  #op = -1;
  #opCalls = 0;
  #hookCalls = 0;
  #settled = false;
  #inFlight = 0;
  #hook: CallHook | undefined;

  constructor(target: WtsApi, model: FarmModel) {
    this.#target = target;
    this.#model = model;
    this.name = `recording(${target.name})`;
  }

  /** Starts attributing calls to operation `op`; `hook` runs at each of its calls. */
  beginOp(op: number, hook?: CallHook): void {
    this.#op = op;
    this.#opCalls = 0;
    this.#hookCalls = 0;
    this.#settled = false;
    this.#hook = hook;
  }

  /** The operation's promise settled: later calls are flagged `afterResult`. */
  settleOp(): void {
    this.#settled = true;
  }

  /** No more hooks (quiescing). */
  endHooks(): void {
    this.#hook = undefined;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  callsOf(op: number): CallRecord[] {
    return this.log.filter((c) => c.op === op);
  }

  #serverOf(handle: ServerHandle): ServerKey {
    if (handle === WTS_CURRENT_SERVER_HANDLE) return this.#model.localKey;
    return this.#handles.get(handle) ?? '?invalid-handle';
  }

  #record(method: ApiMethod, server: ServerKey, extra: { handle?: bigint; sessionId?: number; infoClass?: WtsInfoClass } = {}): CallRecord {
    const key = `${server}:${extra.sessionId}`;
    const record: CallRecord = {
      index: this.log.length,
      seq: this.#model.tick(),
      op: this.#op,
      opCall: this.#opCalls++,
      method,
      server,
      handle: extra.handle,
      sessionId: extra.sessionId,
      infoClass: extra.infoClass,
      fresh: isAction(method) ? this.#fresh.has(key) : undefined,
      afterResult: this.#settled,
      onClosedHandle: extra.handle !== undefined && extra.handle !== WTS_CURRENT_SERVER_HANDLE && this.#closed.has(extra.handle),
      inFlightOnHandle: method === 'closeServer' && extra.handle !== undefined ? (this.#inFlightByHandle.get(extra.handle) ?? 0) : 0,
    };
    this.log.push(record);
    return record;
  }

  /** Records, runs the hook, delegates, and records the answer. */
  async #async<T>(record: CallRecord, call: () => Promise<T>, keep: boolean): Promise<T> {
    this.#inFlight++;
    const handle = record.method === 'closeServer' ? undefined : record.handle;
    if (handle !== undefined) this.#inFlightByHandle.set(handle, (this.#inFlightByHandle.get(handle) ?? 0) + 1);
    try {
      const hook = this.#hook;
      const n = this.#hookCalls++;
      if (hook) await hook(record, n);
      let value: T;
      try {
        value = await call();
      } catch (error) {
        record.doneSeq = this.#model.tick();
        record.error = errorOf(error);
        throw error;
      }
      record.doneSeq = this.#model.tick();
      if (keep) record.result = value;
      if (record.method === 'querySessionInformation' && record.infoClass && IDENTITY_CLASSES.has(record.infoClass)) {
        const key = `${record.server}:${record.sessionId}`;
        const token = {};
        this.#fresh.set(key, token);
        // Cleared at the next turn of the event loop: an action made after that did not re-read first.
        setImmediate(() => {
          if (this.#fresh.get(key) === token) this.#fresh.delete(key);
        });
      }
      return value;
    } finally {
      this.#inFlight--;
      if (handle !== undefined) this.#inFlightByHandle.set(handle, (this.#inFlightByHandle.get(handle) ?? 1) - 1);
    }
  }

  async openServer(serverName: string): Promise<ServerHandle> {
    const server = this.#model.resolve(serverName) ?? `?${serverName.toLowerCase()}`;
    const record = this.#record('openServer', server);
    const handle = await this.#async(record, () => this.#target.openServer(serverName), true);
    this.#handles.set(handle, server);
    this.#closed.delete(handle);
    return handle;
  }

  async closeServer(server: ServerHandle): Promise<void> {
    const record = this.#record('closeServer', this.#serverOf(server), { handle: server });
    if (server !== WTS_CURRENT_SERVER_HANDLE) this.#closed.add(server);
    return this.#async(record, () => this.#target.closeServer(server), false);
  }

  enumerateSessions(server: ServerHandle): Promise<readonly WtsSessionInfo1[]> {
    const record = this.#record('enumerateSessions', this.#serverOf(server), { handle: server });
    return this.#async(record, () => this.#target.enumerateSessions(server), true);
  }

  enumerateProcesses(server: ServerHandle): Promise<readonly WtsProcessInfo[]> {
    const record = this.#record('enumerateProcesses', this.#serverOf(server), { handle: server });
    return this.#async(record, () => this.#target.enumerateProcesses(server), false);
  }

  querySessionInformation<C extends WtsInfoClass>(server: ServerHandle, sessionId: number, infoClass: C): Promise<WtsInfoClassValues[C]> {
    const record = this.#record('querySessionInformation', this.#serverOf(server), { handle: server, sessionId, infoClass });
    return this.#async(record, () => this.#target.querySessionInformation(server, sessionId, infoClass), IDENTITY_CLASSES.has(infoClass));
  }

  logoffSession(server: ServerHandle, sessionId: number): Promise<void> {
    const key = this.#serverOf(server);
    const record = this.#record('logoffSession', key, { handle: server, sessionId });
    return this.#async(record, () => this.#target.logoffSession(server, sessionId), false).then(
      () => this.#model.markEnding(key, sessionId),
      (error: unknown) => {
        if (record.error?.win32Code === 7007) this.#model.markEnding(key, sessionId);
        throw error;
      },
    );
  }

  disconnectSession(server: ServerHandle, sessionId: number): Promise<void> {
    const key = this.#serverOf(server);
    const record = this.#record('disconnectSession', key, { handle: server, sessionId });
    return this.#async(record, () => this.#target.disconnectSession(server, sessionId), false).then(() => {
      // Windows drops a disconnected session's WinStation name (the backends do too): keep the
      // model's names right, so that a console disconnected on purpose is no longer "the console".
      const now = this.#model.sessionAt(key, sessionId, this.#model.now);
      if (now && now.state !== 'Disconnected') this.#model.put(key, { ...now, state: 'Disconnected', name: '' });
    });
  }

  sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage): Promise<number> {
    const record = this.#record('sendMessage', this.#serverOf(server), { handle: server, sessionId });
    return this.#async(record, () => this.#target.sendMessage(server, sessionId, message), false);
  }

  getActiveConsoleSessionId(): number {
    this.#record('getActiveConsoleSessionId', this.#model.localKey);
    return this.#target.getActiveConsoleSessionId();
  }

  getCurrentSessionId(): number {
    this.#record('getCurrentSessionId', this.#model.localKey);
    return this.#target.getCurrentSessionId();
  }

  getComputerName(): string {
    this.#record('getComputerName', this.#model.localKey);
    return this.#target.getComputerName();
  }

  getLocalServerNames(): readonly string[] {
    this.#record('getLocalServerNames', this.#model.localKey);
    return this.#target.getLocalServerNames?.() ?? [];
  }
}
