/**
 * The mock FFI layer: an in-memory WtsApi that behaves like wtsapi32, error codes included.
 * Published as `wts-session/mock` so users can test their own code against a farm.
 */
import { InvalidArgumentError, OperationAbortedError, Win32Error } from '../../errors';
import { abandonable, callOnReturn } from '../abandon';
import { stateToWin32 } from '../../api/types';
import { ipKind, isAlwaysLocalName, serverNameKey } from '../../api/validate';
import {
  NO_CONSOLE_SESSION,
  Win32,
  WTS_ANY_SESSION,
  WTS_CURRENT_SERVER_HANDLE,
  WTS_CURRENT_SESSION,
  WTSINFO_LENGTHS,
  WtsEvent,
  wholeCharacters,
  type AbandonOptions,
  type CallOptions,
  type ServerHandle,
  type WtsAccount,
  type WtsApi,
  type WtsClientAddress,
  type WtsInfoClass,
  type WtsInfoClassValues,
  type WtsMessage,
  type WtsProcessInfo,
  type WtsServerVersion,
  type WtsProcessInfoEx,
  type WtsSessionInfo1,
  WTSINFOEX_LENGTHS,
  WtsSessionStateFlags,
} from '../../wtsapi';
import { sidFromString } from '../../sid';
import { FarmAccounts, parseFarm, parseOsVersion, parseSession, type Farm, type FarmProcess, type FarmServer, type FarmSession, type MockApiName, type MockFaultTarget } from './farm';

/** One entry of the mock's call log ({@link MockApi.calls}, `onCall`). */
export interface MockCall {
  /**
   * The call: a {@link MockFaultTarget} (`wait` is WTSWaitSystemEvent with an event mask, `version`
   * NetServerGetInfo), `flush`
   * (the same call with WTS_EVENT_FLUSH), `close` (WTSCloseServer), or the kernel32 look-ups
   * `consoleId`, `currentId`, `computerName`, `localNames`.
   */
  readonly api: MockFaultTarget | 'flush' | 'close' | 'consoleId' | 'currentId' | 'computerName' | 'localNames';
  /** The server's name as the farm spells it; '' when a handle was not valid. */
  readonly server: string;
  /** The session the call was about, if any. */
  readonly sessionId?: number;
  /** For `query`: the information class asked for. */
  readonly infoClass?: WtsInfoClass;
  /** For `terminate`: the process ID. */
  readonly processId?: number;
  /** For `terminate`: the exit code asked for. */
  readonly exitCode?: number;
}

/** The options of {@link createMockApi}. */
export interface MockApiOptions {
  /**
   * How many polls (queries of the session, enumerations of its server) still see a session
   * after it was logged off, before it is gone (7022).
   * @defaultValue 1
   */
  closingPolls?: number;
  /**
   * Called with the farm's whole new state after every change. It costs a copy of the farm per
   * change: simulated mode uses {@link FarmSource.save} instead, which gets only what changed.
   * @defaultValue none
   */
  onChange?: (farm: Farm) => void;
  /**
   * Called for every call as it is made (simulated mode can append it to a log file).
   * @defaultValue none
   */
  onCall?: (call: MockCall) => void;
  /**
   * Where the farm can also change (simulated mode: the farm file, which other processes write).
   * Read before every call; watched while a WTSWaitSystemEvent is pending, so that a change made
   * elsewhere wakes the wait.
   * @defaultValue none: only this mock changes the farm
   */
  source?: FarmSource;
}

/** A farm that others can change too (simulated mode's file): see {@link MockApiOptions.source}. */
export interface FarmSource {
  /**
   * The farm as someone else left it, if it changed since it was last read or written.
   *
   * @returns the farm (unchecked: the mock checks it), or undefined when it did not change.
   */
  poll(): unknown;
  /**
   * The mock took the farm the last `poll` returned (it is a valid farm): the changes made from
   * now on are made from it. A farm it refused leaves them made from the one it still has.
   */
  accept?(): void;
  /**
   * Starts noticing changes: calls `changed` (which polls) when the farm may have changed.
   * Started only while a wait is pending, so an idle process holds no watcher and can exit.
   *
   * @param changed - to call when the farm may have changed.
   * @returns the function that stops it.
   */
  watch(changed: () => void): () => void;
  /**
   * One session changed here: `session` is its new state, undefined when it is gone. Simulated
   * mode merges it into the farm file (with the other changes of the moment, under a lock). May
   * throw: the call that made the change fails with that error — unless it is `progress`: a
   * change the farm made on its own (a closing session counting down, or completing), which no
   * call asked for, is saved later, by a timer, never throws and never waits for another process's
   * lock. `ownProgress` is that of a session this process logged off: saved the same way, but its
   * last save at the end waits for the lock and reports a failure, as a call's change.
   *
   * @param server - the server's name in the farm.
   * @param id - the session ID.
   * @param session - the session now; undefined when it is gone.
   * @param kind - a call's change (default), or the farm's progress.
   */
  save?(server: string, id: number, session: Readonly<FarmSession> | undefined, kind?: ChangeKind): void;
  /** Saves now what `save` collected and has not saved yet. May throw. */
  flush?(): void;
}

/** Who made a change to the farm: a call, or the farm's own progress (of a session this process logged off, or not). */
export type ChangeKind = 'call' | 'progress' | 'ownProgress';

/** A WTSWaitSystemEvent call waiting for an event kind on a server. */
interface Waiter {
  readonly handle: bigint;
  /** The lower-cased name of the server it waits on. */
  readonly server: string;
  readonly mask: number;
  /** Resolves the wait with these flags (WtsEvent.None for a flush) and forgets it. */
  readonly wake: (flags: number) => void;
  /** Rejects the wait and forgets it. */
  readonly fail: (error: Error) => void;
}

/** What a wait can see of a session: what the flags are computed from. */
interface Seen {
  readonly state: string;
  readonly name: string;
  readonly user: string;
  readonly domain: string;
  readonly logonTime: string;
}

/** The mock's view of a server: a farm server plus its handles. */
interface ServerState {
  readonly def: FarmServer;
  readonly sessions: Map<number, FarmSession>;
}

const WIN32_API: Readonly<Record<MockFaultTarget, string>> = {
  open: 'WTSOpenServerExW',
  enumerate: 'WTSEnumerateSessionsExW',
  query: 'WTSQuerySessionInformationW',
  logoff: 'WTSLogoffSession',
  disconnect: 'WTSDisconnectSession',
  message: 'WTSSendMessageW',
  processes: 'WTSEnumerateProcessesW',
  terminate: 'WTSTerminateProcess',
  processesEx: 'WTSEnumerateProcessesExW',
  lookup: 'LookupAccountSidW',
  wait: 'WTSWaitSystemEvent',
  version: 'NetServerGetInfo',
};

/**
 * The mock FFI layer: an in-memory {@link WtsApi} over a {@link Farm} that behaves like
 * wtsapi32 — handles, Win32 error codes (1722 for an unreachable or unknown server, 7022 for a
 * session that is gone, 7007 for a second logoff, ...), a closing phase after a logoff, event
 * waits — and logs every call. Hand it to `createWts` to test your own code on any OS
 * (docs/mock.md). Its test helpers (`calls`, `putSession`, `setFault`, ...) change the farm as
 * Windows would.
 */
export class MockApi implements WtsApi {
  /** `'mock'`. */
  readonly name = 'mock';
  readonly #localServer: string;
  readonly #servers = new Map<string, ServerState>();
  /** Pending: closing sessions on waited-on servers complete (see #completeClosingSoon). */
  #closingTimer: NodeJS.Timeout | undefined;
  /**
   * The sessions this process asked to log off (server key, ID): their countdown and end are
   * that request's consequence — the command waits for them — not the farm's own progress, so
   * they are saved as the command's own changes.
   */
  readonly #loggedOffHere = new Set<string>();
  /** serverNameKey(alias) -> the lower-cased name of the server it names. */
  readonly #aliases = new Map<string, string>();
  readonly #handles = new Map<bigint, string>();
  /** Calls still running on each handle (a wait, a message box abandoned by its caller): closeServer waits for them. */
  readonly #inFlight = new Map<bigint, number>();
  /** Handles closeServer was called for while calls ran on them: no new call; closed when the last returns. */
  readonly #closing = new Set<bigint>();
  readonly #closingPolls: number;
  readonly #onChange: ((farm: Farm) => void) | undefined;
  readonly #onCall: ((call: MockCall) => void) | undefined;
  readonly #calls: MockCall[] = [];
  #nextHandle = 1n;
  readonly #source: FarmSource | undefined;
  /** Pending WTSWaitSystemEvent calls. */
  readonly #waiters = new Set<Waiter>();
  /** Stops watching the source; set while a wait is pending. */
  #unwatch: (() => void) | undefined;
  /**
   * Per server (lower-cased), the sessions as waits last saw them: what a change is diffed against.
   * Kept up to date only while a wait is pending (a change with none pending is not remembered):
   * `#seenStale` says it must be computed again when the next wait starts.
   */
  #seen = new Map<string, Map<number, Seen>>();
  #seenStale = false;
  /** The farm's accounts (SIDs of its users), made again after a change. */
  #accounts: FarmAccounts | undefined;
  /** The farm-wide `accounts` table of the farm given (or last read from the source). */
  #accountTable: Farm['accounts'];

  /**
   * The mock over a farm: the same as {@link createMockApi}.
   *
   * @param farm - the farm; checked as {@link parseFarm} checks it, and copied.
   * @param options - `closingPolls`, `onChange`, `onCall`, `source`.
   * @throws `InvalidArgumentError` for a farm that is not valid, naming the JSON path.
   */
  constructor(farm: Farm, options: MockApiOptions = {}) {
    const parsed = parseFarm(farm);
    this.#localServer = parsed.localServer;
    this.#load(parsed);
    this.#seen = this.#seenNow();
    this.#closingPolls = options.closingPolls ?? 1;
    this.#onChange = options.onChange;
    this.#onCall = options.onCall;
    this.#source = options.source;
  }

  /** Replaces the servers and sessions with a farm's (handles stay: they name servers). */
  #load(farm: Farm): void {
    this.#servers.clear();
    this.#aliases.clear();
    this.#accountTable = farm.accounts;
    this.#accounts = undefined;
    for (const def of farm.servers) {
      const sessions = new Map((def.sessions ?? []).map((s) => [s.id, s] as const));
      this.#servers.set(def.name.toLowerCase(), { def, sessions });
      for (const alias of def.aliases ?? []) this.#aliases.set(serverNameKey(alias), def.name.toLowerCase());
    }
  }

  /**
   * Takes in a change made elsewhere (simulated mode: another process wrote the farm file), and
   * wakes the waits it concerns. A farm that no longer parses is ignored (the last good one stays).
   */
  #refresh(): void {
    if (!this.#source) return;
    let next: Farm;
    try {
      const raw = this.#source.poll();
      if (raw === undefined) return;
      next = parseFarm(raw);
    } catch {
      return;
    }
    if (next.localServer.toLowerCase() !== this.#localServer.toLowerCase()) return;
    this.#source.accept?.();
    this.#load(next);
    if (this.#waiters.size > 0) {
      this.#notify();
      this.#failUnreachableWaits();
      this.#completeClosingSoon();
    } else this.#seenStale = true;
  }

  /**
   * A wait pending on a server that is now unreachable (or no longer in the farm) fails with 1722,
   * as an RPC call in flight to a server that went away does (assumed: no source says which code a
   * pending WTSWaitSystemEvent returns then).
   */
  #failUnreachableWaits(): void {
    for (const w of [...this.#waiters]) {
      const state = this.#servers.get(w.server);
      if (!state || state.def.unreachable) {
        w.fail(serverUnavailable('wait', state?.def.name ?? w.server));
      }
    }
  }

  /**
   * A logoff under way completes on its own on Windows, and its end wakes the waits
   * (WTS_EVENT_LOGOFF, WTS_EVENT_DELETE). The mock counts a closing session down by polls instead,
   * as the double does (the contract's `logoff` case). In simulated mode the farm file is shared
   * by processes, and a watcher's wait may be the only thing looking (`wts-logoff 4 --no-wait` in
   * another terminal): there, a closing session on a server with a wait pending completes a moment
   * later (a timer that keeps nothing alive), and the watcher sees it end.
   */
  #completeClosingSoon(): void {
    if (!this.#source || this.#closingTimer || this.#waiters.size === 0) return;
    const waited = new Set([...this.#waiters].map((w) => w.server));
    const closing = [...this.#servers].some(([key, state]) => waited.has(key) && [...state.sessions.values()].some((x) => x.closing !== undefined));
    if (!closing) return;
    this.#closingTimer = setTimeout(() => {
      this.#closingTimer = undefined;
      // A timer has no caller to fail: nothing it does may throw (the file is saved later, and
      // what cannot be read now is read again by the next call).
      try {
        // The farm as it is now (another process may have changed it since), as every call reads it.
        this.#refresh();
        const now = new Set([...this.#waiters].map((w) => w.server));
        for (const [key, state] of this.#servers) {
          if (!now.has(key)) continue;
          for (const x of [...state.sessions.values()]) {
            if (x.closing === undefined) continue;
            state.sessions.delete(x.id);
            this.#changed(state, x.id, this.#progress(state, x.id));
          }
        }
      } catch {
        // the next call reads the farm again, and reports what it finds
      }
    }, CLOSING_COMPLETES_MS);
    this.#closingTimer.unref();
  }

  /** Whether a closing session's countdown or end is the farm's own progress (not asked for here). */
  #progress(state: ServerState, id: number): ChangeKind {
    const key = `${state.def.name.toLowerCase()}:${id}`;
    const own = this.#loggedOffHere.has(key);
    // Ended: a later logon on the ID is not this process's logoff.
    if (own && !state.sessions.has(id)) this.#loggedOffHere.delete(key);
    return own ? 'ownProgress' : 'progress';
  }

  // ---- test helpers -------------------------------------------------------------------------

  /** Every call made so far, in order. */
  get calls(): readonly MockCall[] {
    return this.#calls;
  }

  /** Forgets the call log. */
  resetCalls(): void {
    this.#calls.length = 0;
  }

  /** Handles opened and not yet closed. */
  get openHandleCount(): number {
    return this.#handles.size;
  }

  /** WTSWaitSystemEvent calls still waiting (not woken, flushed, failed or aborted). */
  get pendingWaitCount(): number {
    return this.#waiters.size;
  }

  /**
   * WTSWaitSystemEvent calls still waiting on one server.
   *
   * @param server - the server's name in the farm (without case).
   * @returns how many.
   */
  pendingWaitsOn(server: string): number {
    const key = server.toLowerCase();
    return [...this.#waiters].filter((w) => w.server === key).length;
  }

  /**
   * Simulated mode: writes the changes not saved yet to the farm file now (they are saved at
   * most every 100 ms, and when the process exits). Throws SimulatedFarmError when the file cannot
   * be written. Without a file, does nothing.
   */
  flush(): void {
    this.#source?.flush?.();
  }

  /**
   * The farm as it is now.
   *
   * @returns a copy, in the shape of the input (closing sessions carry `closing`).
   */
  toFarm(): Farm {
    return structuredClone({
      localServer: this.#localServer,
      servers: [...this.#servers.values()].map((s) => ({ ...s.def, sessions: [...s.sessions.values()] })),
      ...(this.#accountTable ? { accounts: this.#accountTable } : {}),
    });
  }

  /** The accounts of the farm as it is now (made again after a change). */
  #farmAccounts(): FarmAccounts {
    this.#accounts ??= new FarmAccounts(this.toFarm());
    return this.#accounts;
  }

  /**
   * A session as the mock holds it now.
   *
   * @param server - the server's name in the farm (without case).
   * @param id - the session ID.
   * @returns a copy of the session, or undefined when it is gone.
   * @throws Error for a server the farm does not have.
   */
  getSession(server: string, id: number): Readonly<FarmSession> | undefined {
    const s = this.#server(server).sessions.get(id);
    return s && structuredClone(s);
  }

  /**
   * Adds a session, or replaces the one with that ID: the way Windows reuses a session ID. Wakes
   * the event waits it concerns.
   *
   * @param server - the server's name in the farm (without case).
   * @param session - the session; checked as a farm's sessions are.
   * @throws `InvalidArgumentError` for a session that is not valid; an Error for a server
   *   the farm does not have.
   */
  putSession(server: string, session: FarmSession): void {
    const state = this.#server(server);
    const parsed = parseSession(session, 'session');
    // A PID runs one process at a time on a server: reusing one means ending its process first.
    for (const p of parsed.processes ?? []) {
      for (const other of state.sessions.values()) {
        if (other.id !== parsed.id && (other.processes ?? []).some((q) => q.pid === p.pid)) {
          throw new InvalidArgumentError('session.processes', `Process ID ${p.pid} already runs in session ${other.id} on ${state.def.name}: put that session without it first (PID reuse).`);
        }
      }
    }
    const before = state.sessions.get(parsed.id);
    state.sessions.set(parsed.id, parsed);
    this.#changed(state, parsed.id, 'call', () => (before ? state.sessions.set(parsed.id, before) : state.sessions.delete(parsed.id)));
  }

  /**
   * Ends a session at once (no closing phase): the user logged off from inside it, or the
   * session manager deleted it.
   *
   * @param server - the server's name in the farm (without case).
   * @param id - the session ID.
   * @returns whether there was such a session.
   * @throws Error for a server the farm does not have.
   */
  removeSession(server: string, id: number): boolean {
    const state = this.#server(server);
    // Undone in place, should the change not be saved: the listing keeps its order.
    const order = [...state.sessions];
    const removed = state.sessions.delete(id);
    if (removed) {
      this.#changed(state, id, 'call', () => {
        state.sessions.clear();
        for (const [k, v] of order) state.sessions.set(k, v);
      });
    }
    return removed;
  }

  /**
   * Makes the next calls of `api` on `server` fail with a Win32 error code, or clears that fault.
   *
   * @param server - the server's name in the farm (without case).
   * @param api - the call to fail.
   * @param key - the session ID the fault is for, or `'*'` for any session.
   * @param code - the Win32 error code; undefined clears the fault.
   * @throws Error for a server the farm does not have.
   */
  setFault(server: string, api: MockFaultTarget, key: number | '*', code: number | undefined): void {
    const def = this.#server(server).def;
    const faults = (def.faults ??= {});
    const table = (faults[api] ??= {});
    if (code === undefined) delete table[String(key)];
    else table[String(key)] = code;
  }

  /**
   * Sets the latency of every call on `server`.
   *
   * @param server - the server's name in the farm (without case).
   * @param latencyMs - the delay, in ms (0: none).
   * @throws Error for a server the farm does not have.
   */
  setLatency(server: string, latencyMs: number): void {
    this.#server(server).def.latencyMs = latencyMs;
  }

  // ---- WtsApi ---------------------------------------------------------------------------------

  async openServer(serverName: string): Promise<ServerHandle> {
    const state = this.#named(serverName);
    const name = state?.def.name ?? serverName;
    this.#log({ api: 'open', server: name });
    if (state) {
      await this.#latency(state);
      this.#fault(state, 'open', undefined);
    }
    // Like WTSOpenServerExW: an unknown or unreachable server still gets a handle; the first
    // call that uses it fails with RPC_S_SERVER_UNAVAILABLE.
    const handle = this.#nextHandle++;
    this.#handles.set(handle, name);
    return handle as ServerHandle;
  }

  async closeServer(server: ServerHandle): Promise<void> {
    // Not an open handle of this mock (closed already, closing, never opened): no call.
    if (server === WTS_CURRENT_SERVER_HANDLE || this.#closing.has(server) || !this.#handles.has(server)) return;
    this.#log({ api: 'close', server: this.#handles.get(server) ?? '' });
    // As the koffi backend: never under a call still running on the handle (a pending wait, a
    // message box whose caller gave up): it takes no new call, and is closed when the last returns.
    if (this.#inFlight.has(server)) this.#closing.add(server);
    else this.#handles.delete(server);
  }

  /** A call that may outlive its caller starts on `handle` (see closeServer). */
  #begin(handle: ServerHandle): void {
    if (handle === WTS_CURRENT_SERVER_HANDLE) return;
    this.#inFlight.set(handle, (this.#inFlight.get(handle) ?? 0) + 1);
  }

  /** That call has returned: a close waiting for it is made now. */
  #end(handle: ServerHandle): void {
    if (handle === WTS_CURRENT_SERVER_HANDLE) return;
    const left = (this.#inFlight.get(handle) ?? 1) - 1;
    if (left > 0) {
      this.#inFlight.set(handle, left);
      return;
    }
    this.#inFlight.delete(handle);
    if (this.#closing.delete(handle)) this.#handles.delete(handle);
  }

  /** The handle's server name; undefined for a closed handle, or one closeServer was called for. */
  #nameOf(handle: ServerHandle): string | undefined {
    if (handle === WTS_CURRENT_SERVER_HANDLE) return this.#localServer;
    return this.#closing.has(handle) ? undefined : this.#handles.get(handle);
  }

  /**
   * WTSWaitSystemEvent: resolves when a change on the server matches `eventMask`, to the flags
   * that happened (masked), or to WtsEvent.None when a flush releases it. A change is any change
   * of the server's sessions, made here (logoff, disconnect, putSession, removeSession) or, in
   * simulated mode, by another process to the farm file. Changes made while no wait is pending
   * are not remembered (as assumed of Windows). An aborted signal rejects with an AbortError.
   * With WTS_EVENT_FLUSH in the mask it is {@link MockApi.flushSystemEvents}.
   *
   * @param server - the handle.
   * @param eventMask - the {@link WtsEvent} kinds to wait for.
   * @param options - a signal to abandon the wait with.
   * @returns the flags that happened, masked; WtsEvent.None for a flush.
   */
  async waitSystemEvent(server: ServerHandle, eventMask: number, options: CallOptions = {}): Promise<number> {
    const { signal } = options;
    if (signal?.aborted) {
      returnOf(options);
      throw waitAborted(signal.reason);
    }
    if ((eventMask & WtsEvent.Flush) !== 0) {
      try {
        await this.flushSystemEvents(server);
      } finally {
        returnOf(options);
      }
      return WtsEvent.None;
    }
    // The wait looks from the moment it is called: the farm file is read first (another process's
    // change made before the call is not this wait's), then the wait is counted at once, so every
    // change made while the call is on its way in raises its own flags (never their net
    // difference), and an abort reaches it; it can wake only once it is registered. (A close does
    // not: closeServer waits for it.)
    this.#refresh();
    const name = this.#nameOf(server);
    if (this.#waiters.size === 0 && this.#seenStale) {
      this.#seen = this.#seenNow();
      this.#seenStale = false;
    }
    return new Promise<number>((resolve, reject) => {
      let registered = false;
      let early: number = WtsEvent.None;
      let settled = false;
      const onAbort = () => waiter.fail(waitAborted(signal?.reason));
      // The mock's wait ends with its promise (an abort included): it has returned then.
      this.#begin(server);
      const done = () => {
        settled = true;
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        this.#watchWhileWaiting();
        this.#end(server);
        returnOf(options);
      };
      const waiter: Waiter = {
        handle: BigInt(server),
        server: name?.toLowerCase() ?? '',
        mask: eventMask,
        wake: (flags) => {
          if (settled) return;
          // On its way in: a flush does not release it (it is not pending yet); a change is kept.
          if (!registered) {
            early |= flags;
            return;
          }
          done();
          resolve(flags);
        },
        fail: (error) => {
          if (settled) return;
          done();
          reject(error);
        },
      };
      if (name !== undefined) this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#watchWhileWaiting();
      this.#enter(server, 'wait', undefined).then(
        (state) => {
          if (settled) return;
          try {
            this.#fault(state, 'wait', undefined);
          } catch (error) {
            waiter.fail(error as Error);
            return;
          }
          registered = true;
          if ((early & eventMask) !== 0) waiter.wake(early & eventMask);
          else this.#completeClosingSoon();
        },
        (error: Error) => waiter.fail(error),
      );
    });
  }

  /**
   * WTSWaitSystemEvent(WTS_EVENT_FLUSH): every wait pending on this handle returns WtsEvent.None.
   *
   * @param server - the handle.
   */
  async flushSystemEvents(server: ServerHandle): Promise<void> {
    // Even on a handle closeServer was called for: it releases the waits that hold the close back.
    const name = server === WTS_CURRENT_SERVER_HANDLE ? this.#localServer : this.#handles.get(server);
    this.#log({ api: 'flush', server: name ?? '' });
    if (name === undefined) throw new Win32Error({ win32Code: Win32.ERROR_INVALID_HANDLE, api: WIN32_API.wait });
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const w of [...this.#waiters]) if (w.handle === BigInt(server)) w.wake(WtsEvent.None);
  }

  async enumerateSessions(server: ServerHandle, options: AbandonOptions = {}): Promise<readonly WtsSessionInfo1[]> {
    const state = await this.#enter(server, 'enumerate', undefined, undefined, undefined, options.signal);
    this.#fault(state, 'enumerate', undefined);
    const result: WtsSessionInfo1[] = [];
    const changed: number[] = [];
    for (const s of [...state.sessions.values()]) {
      if (s.closing !== undefined) {
        changed.push(s.id);
        if (s.closing <= 0) {
          state.sessions.delete(s.id);
          continue;
        }
        s.closing--;
      }
      result.push({
        execEnvId: s.id,
        state: stateToWin32(s.state),
        sessionId: s.id,
        sessionName: s.name ?? '',
        hostName: '', // Learn: NULL for a session running directly on an RD Session Host
        userName: s.user ?? '',
        domainName: s.domain ?? '',
        farmName: '',
      });
    }
    for (const id of changed) this.#changed(state, id, this.#progress(state, id));
    return result;
  }

  async enumerateProcesses(server: ServerHandle): Promise<readonly WtsProcessInfo[]> {
    const state = await this.#enter(server, 'processes', undefined);
    this.#fault(state, 'processes', undefined);
    return this.#processes(state, WTS_ANY_SESSION).map(({ session, process }) => ({
      sessionId: session.id,
      processId: process?.pid ?? 0,
      processName: process?.name ?? IDLE_PROCESS_NAME,
      userSid: this.#farmAccounts().ownerSid(session, process),
    }));
  }

  /**
   * WTSEnumerateProcessesExW level 1: the processes of a session (or of all, WTS_ANY_SESSION),
   * with the counters the farm gives them (0 when it gives none). A fault on `processes` fails it as
   * it fails WTSEnumerateProcessesW; one on `processesEx` fails this call only (`{ '*': 120 }`: a
   * server without level 1).
   *
   * @param server - the handle.
   * @param sessionId - a session ID, or WTS_ANY_SESSION.
   * @param options - a signal: an aborted one makes no call.
   * @returns the processes, PID 0 first where the server has a session 0.
   * @throws InvalidArgumentError for a session ID that is not a DWORD.
   */
  async enumerateProcessesEx(server: ServerHandle, sessionId: number, options: CallOptions = {}): Promise<readonly WtsProcessInfoEx[]> {
    if (typeof sessionId !== 'number' || !Number.isInteger(sessionId) || sessionId < 0 || sessionId > 0xffffffff) {
      returnOf(options); // never made
      throw new InvalidArgumentError('sessionId', `Invalid sessionId: expected a session ID (0 to 4294967295) or WTS_ANY_SESSION, got ${String(sessionId)}.`);
    }
    if (options.signal?.aborted) {
      returnOf(options);
      throw new OperationAbortedError('WTSEnumerateProcessesExW', options.signal.reason);
    }
    return this.#outliving(server, options, this.#enumerateProcessesEx(server, sessionId, options.signal), (reason) => new OperationAbortedError('WTSEnumerateProcessesExW', reason));
  }

  /**
   * A call its caller may abandon (CallOptions.signal), as the koffi backend runs one: a signal that
   * fires while it runs rejects at once; the call runs on — its handle is not closed under it — and
   * onReturn comes when it ends.
   */
  #outliving<T>(server: ServerHandle, options: CallOptions, run: Promise<T>, abort: (reason: unknown) => Error): Promise<T> {
    this.#begin(server);
    const call = run.finally(() => {
      this.#end(server);
      returnOf(options);
    });
    return abandonable(call, options.signal, abort);
  }

  async #enumerateProcessesEx(server: ServerHandle, sessionId: number, signal: AbortSignal | undefined): Promise<readonly WtsProcessInfoEx[]> {
    const about = sessionId === WTS_ANY_SESSION ? undefined : sessionId;
    const state = await this.#enter(server, 'processesEx', about, undefined, undefined, signal);
    this.#fault(state, 'processes', about);
    this.#fault(state, 'processesEx', about);
    const accounts = this.#farmAccounts();
    return this.#processes(state, sessionId).map(({ session, process }) => ({
      sessionId: session.id,
      processId: process?.pid ?? 0,
      processName: process?.name ?? IDLE_PROCESS_NAME,
      userSid: accounts.ownerSid(session, process),
      numberOfThreads: process?.threads ?? 0,
      handleCount: process?.handleCount ?? 0,
      pagefileUsage: process?.pagefileUsage ?? 0,
      peakPagefileUsage: process?.peakPagefileUsage ?? 0,
      workingSetSize: process?.workingSetSize ?? 0,
      peakWorkingSetSize: process?.peakWorkingSetSize ?? 0,
      userTime: BigInt(process?.userTime ?? 0),
      kernelTime: BigInt(process?.kernelTime ?? 0),
    }));
  }

  /**
   * The processes of a session (or of all): first, on a server with a session 0, PID 0 (the
   * System Idle Process, `process` undefined: Windows lists it first, Cassia NativeMethodsHelper.cs
   * 194-197), then every session's, in the server's order.
   */
  #processes(state: ServerState, sessionId: number): Array<{ session: FarmSession; process: FarmProcess | undefined }> {
    const all = sessionId === WTS_ANY_SESSION;
    const result: Array<{ session: FarmSession; process: FarmProcess | undefined }> = [];
    const zero = state.sessions.get(0);
    if (zero && (all || sessionId === 0)) result.push({ session: zero, process: undefined });
    for (const s of state.sessions.values()) {
      if (!all && s.id !== sessionId) continue;
      for (const p of s.processes ?? []) result.push({ session: s, process: p });
    }
    return result;
  }

  /**
   * WTSTerminateProcess: the process leaves its session's list. A fault for `terminate` is keyed by
   * the process ID (not the session). PID 0, the System Idle Process, cannot be ended: 5 (assumed,
   * docs/windows-facts.md); a PID that is not running: 87 (assumed, same page).
   *
   * @param server - the handle.
   * @param processId - the process.
   * @param exitCode - recorded in the call log.
   */
  async terminateProcess(server: ServerHandle, processId: number, exitCode: number): Promise<void> {
    const state = await this.#enter(server, 'terminate', undefined, undefined, { processId, exitCode });
    this.#fault(state, 'terminate', processId);
    if (processId === 0 && state.sessions.has(0)) throw this.#error('terminate', Win32.ERROR_ACCESS_DENIED, state, undefined);
    for (const s of state.sessions.values()) {
      const i = s.processes?.findIndex((p) => p.pid === processId) ?? -1;
      if (i < 0) continue;
      const [ended] = s.processes!.splice(i, 1);
      this.#changed(state, s.id, 'call', () => s.processes!.splice(i, 0, ended!));
      return;
    }
    throw this.#error('terminate', Win32.ERROR_INVALID_PARAMETER, state, undefined);
  }

  /**
   * advapi32 LookupAccountSidW on a server of the farm: the account of a SID — a user the farm
   * names, an entry of its `accounts`, or SYSTEM, LOCAL SERVICE, NETWORK SERVICE. An unknown or
   * unreachable server fails with 1722; a fault on `lookup` (key `'*'`) with its code.
   *
   * @param serverName - the server (a name or alias); `''` for the local one.
   * @param sid - the SID in text form.
   * @returns the account; null when none has the SID (ERROR_NONE_MAPPED).
   * @throws InvalidArgumentError for a SID that is not one, before the call.
   */
  async lookupAccountSid(serverName: string, sid: string): Promise<WtsAccount | null> {
    if (typeof serverName !== 'string') throw new InvalidArgumentError('serverName', `Invalid serverName: expected a string ('' for the local machine), got ${String(serverName)}.`);
    sidFromString(sid, 'sid');
    await this.#enterNamed(serverName, 'lookup');
    return this.#farmAccounts().accountOf(sid) ?? null;
  }

  async querySessionInformation<C extends WtsInfoClass>(
    server: ServerHandle,
    sessionId: number,
    infoClass: C,
    options: AbandonOptions = {},
  ): Promise<WtsInfoClassValues[C]> {
    const state = await this.#enter(server, 'query', sessionId, infoClass, undefined, options.signal);
    const id = this.#resolveId(state, sessionId);
    this.#fault(state, 'query', id);
    const s = this.#live(state, id, 'query');
    const value = mockInfo(s, infoClass, state.def);
    // Learn (WTS_INFO_CLASS): WTSIdleTime ... WTSOutgoingFrames "return FALSE ... GetLastError
    // returns ERROR_NOT_SUPPORTED"; a class the mock does not model answers the same.
    if (value === undefined) throw this.#error('query', Win32.ERROR_NOT_SUPPORTED, state, id);
    return value;
  }

  async logoffSession(server: ServerHandle, sessionId: number): Promise<void> {
    const state = await this.#enter(server, 'logoff', sessionId);
    const id = this.#resolveId(state, sessionId);
    this.#fault(state, 'logoff', id);
    const s = this.#existing(state, id, 'logoff');
    if (s.closing !== undefined) throw this.#error('logoff', Win32.ERROR_CTX_CLOSE_PENDING, state, id);
    if (s.state === 'Listen') throw this.#error('logoff', Win32.ERROR_INVALID_PARAMETER, state, id);
    s.closing = this.#closingPolls;
    const key = `${state.def.name.toLowerCase()}:${id}`;
    this.#loggedOffHere.add(key);
    try {
      this.#changed(state, id, 'call', () => delete s.closing);
    } catch (error) {
      this.#loggedOffHere.delete(key); // not saved: the call fails, and the logoff is not this process's
      throw error;
    }
    this.#completeClosingSoon();
  }

  async disconnectSession(server: ServerHandle, sessionId: number): Promise<void> {
    const state = await this.#enter(server, 'disconnect', sessionId);
    const id = this.#resolveId(state, sessionId);
    this.#fault(state, 'disconnect', id);
    const s = this.#live(state, id, 'disconnect');
    if (s.state === 'Listen' || id === 0) throw this.#error('disconnect', Win32.ERROR_INVALID_PARAMETER, state, id);
    if (s.state !== 'Disconnected') {
      // Windows drops the WinStation name of a disconnected session.
      const before = { state: s.state, name: s.name, disconnectTime: s.disconnectTime };
      s.state = 'Disconnected';
      s.name = '';
      s.disconnectTime = new Date().toISOString();
      this.#changed(state, id, 'call', () => {
        s.state = before.state;
        if (before.name === undefined) delete s.name;
        else s.name = before.name;
        if (before.disconnectTime === undefined) delete s.disconnectTime;
        else s.disconnectTime = before.disconnectTime;
      });
    }
  }

  async sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage, options: CallOptions = {}): Promise<number> {
    const { signal } = options;
    // As the koffi backend: an aborted signal makes no call; one that fires while the call runs
    // (waiting for the answer) rejects at once, the message having been sent.
    if (signal?.aborted) {
      returnOf(options);
      throw waitAborted(signal.reason, 'WTSSendMessageW');
    }
    // The box stays up after its caller gives up: the call runs on until the user answers.
    return this.#outliving(server, options, this.#sendMessage(server, sessionId, message, options.signal), (reason) => waitAborted(reason, 'WTSSendMessageW'));
  }

  async #sendMessage(server: ServerHandle, sessionId: number, message: WtsMessage, signal: AbortSignal | undefined): Promise<number> {
    const state = await this.#enter(server, 'message', sessionId, undefined, undefined, signal);
    const id = this.#resolveId(state, sessionId);
    this.#fault(state, 'message', id);
    const s = this.#live(state, id, 'message');
    const IDOK = 1;
    const IDASYNC = 32001;
    return message.wait ? (s.messageResponse ?? IDOK) : IDASYNC;
  }

  /**
   * NetServerGetInfo level 101's version: the server's `osVersion` (default '10.0'). `''` is the
   * local server; another name resolves as openServer resolves it. An unknown or unreachable server,
   * like a `version` fault, fails (1722 RPC_S_SERVER_UNAVAILABLE for the first two: the mock's
   * choice, as for its other calls; the library does not look at the code).
   *
   * @param serverName - the server; `''` for the local one.
   * @returns the version.
   */
  async getServerVersion(serverName: string): Promise<WtsServerVersion | null> {
    const state = await this.#enterNamed(serverName, 'version');
    return parseOsVersion(state.def.osVersion ?? DEFAULT_OS_VERSION, 'osVersion');
  }

  /**
   * #enter for the calls that take a server's name, not a handle (LookupAccountSidW,
   * NetServerGetInfo): `''` is the local server. Logs the call, applies latency and
   * unreachability (1722; LookupAccountSidW's error names no server for the local one, whose
   * lpSystemName is NULL), and the call's `'*'` fault.
   */
  async #enterNamed(serverName: string, api: 'lookup' | 'version'): Promise<ServerState> {
    const named = serverName === '' ? this.#servers.get(this.#localServer.toLowerCase()) : this.#named(serverName);
    const name = named?.def.name ?? serverName;
    this.#log({ api, server: name });
    await this.#latency(named);
    this.#refresh();
    const state = named && this.#servers.get(named.def.name.toLowerCase());
    if (!state || state.def.unreachable) {
      throw serverUnavailable(api, api === 'lookup' && serverName === '' ? undefined : name);
    }
    this.#fault(state, api, undefined);
    return state;
  }

  getActiveConsoleSessionId(): number {
    const local = this.#server(this.#localServer);
    this.#log({ api: 'consoleId', server: local.def.name });
    if (local.def.consoleSessionId !== undefined) return local.def.consoleSessionId;
    const console = [...local.sessions.values()].find((s) => (s.name ?? '').toLowerCase() === 'console');
    return console?.id ?? NO_CONSOLE_SESSION;
  }

  getCurrentSessionId(): number {
    const local = this.#server(this.#localServer);
    this.#log({ api: 'currentId', server: local.def.name });
    // A farm without currentSessionId: the caller is in no session of this server.
    return local.def.currentSessionId ?? WTS_CURRENT_SESSION;
  }

  getComputerName(): string {
    this.#log({ api: 'computerName', server: this.#localServer });
    return this.#localServer;
  }

  /**
   * The local server's aliases from the farm: its DNS host name, FQDN and IP addresses.
   *
   * @returns the local server's `aliases`.
   */
  getLocalServerNames(): readonly string[] {
    const local = this.#server(this.#localServer);
    this.#log({ api: 'localNames', server: local.def.name });
    return [...(local.def.aliases ?? [])];
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * The server a name opens, as WTSOpenServerExW resolves it: a server's name or one of its
   * aliases; `localhost`, `.` and loopback addresses are the local server.
   */
  #named(serverName: string): ServerState | undefined {
    const state = this.#servers.get(serverName.toLowerCase());
    if (state) return state;
    const owner = this.#aliases.get(serverNameKey(serverName));
    if (owner !== undefined) return this.#servers.get(owner);
    return isAlwaysLocalName(serverName) ? this.#servers.get(this.#localServer.toLowerCase()) : undefined;
  }

  #server(name: string): ServerState {
    const state = this.#servers.get(name.toLowerCase());
    if (!state) throw new Error(`The mock farm has no server '${name}'.`);
    return state;
  }

  /** Logs the call, validates the handle, applies latency and unreachability. */
  async #enter(
    handle: ServerHandle,
    api: MockFaultTarget,
    sessionId: number | undefined,
    infoClass?: WtsInfoClass,
    process?: { processId: number; exitCode: number },
    signal?: AbortSignal,
  ): Promise<ServerState> {
    const name = this.#nameOf(handle);
    // A closed handle (or one closeServer was called for) is refused before any call: nothing logged.
    if (name === undefined) throw new Win32Error({ win32Code: Win32.ERROR_INVALID_HANDLE, api: WIN32_API[api] });
    this.#log({
      api,
      server: name ?? '',
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(infoClass === undefined ? {} : { infoClass }),
      ...process,
    });
    if (name === undefined) {
      throw new Win32Error({ win32Code: Win32.ERROR_INVALID_HANDLE, api: WIN32_API[api] });
    }
    // Running until its latency ends (what follows is synchronous): a close waits for it, as the
    // koffi backend's closeServer never closes under a call still running, abandoned or not.
    this.#begin(handle);
    try {
      await this.#latency(this.#servers.get(name.toLowerCase()), signal);
    } finally {
      this.#end(handle);
    }
    // Read after the wait: the caller acts on what it gets without awaiting again, so a change
    // it makes lands on the farm as it is now.
    this.#refresh();
    const state = this.#servers.get(name.toLowerCase());
    if (!state || state.def.unreachable) {
      throw serverUnavailable(api, name);
    }
    return state;
  }

  /**
   * Every call waits at least one turn of the event loop (setImmediate), as a real call answered
   * on another thread does: timers (a server's timeout, a user's abort) can fire during a long run.
   * Once `signal` fires (the caller abandoned the call), the latency keeps nothing alive, as an
   * abandoned call of the koffi backend does not: a process with nothing else to do exits.
   */
  async #latency(state: ServerState | undefined, signal?: AbortSignal): Promise<void> {
    const ms = state?.def.latencyMs ?? 0;
    if (ms <= 0) return new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', unref);
        resolve();
      }, ms);
      const unref = () => timer.unref();
      if (signal?.aborted) unref();
      else signal?.addEventListener('abort', unref, { once: true });
    });
  }

  #resolveId(state: ServerState, sessionId: number): number {
    if (sessionId !== WTS_CURRENT_SESSION) return sessionId;
    // WTS_CURRENT_SESSION only means something on the caller's own server.
    return state.def.name.toLowerCase() === this.#localServer.toLowerCase()
      ? (state.def.currentSessionId ?? WTS_CURRENT_SESSION) // none: no session has that ID (7022)
      : sessionId;
  }

  #fault(state: ServerState, api: MockFaultTarget, sessionId: number | undefined): void {
    const table = state.def.faults?.[api];
    if (!table) return;
    const code = (sessionId !== undefined ? table[String(sessionId)] : undefined) ?? table['*'];
    if (code !== undefined) throw this.#error(api, code, state, sessionId);
  }

  /** The session, if it exists (closing or not); else 7022. */
  #existing(state: ServerState, id: number, api: MockApiName): FarmSession {
    const s = state.sessions.get(id);
    if (!s) throw this.#error(api, Win32.ERROR_CTX_WINSTATION_NOT_FOUND, state, id);
    return s;
  }

  /** The session as a poll sees it: a closing session counts down and then disappears. */
  #live(state: ServerState, id: number, api: MockApiName): FarmSession {
    const s = this.#existing(state, id, api);
    if (s.closing !== undefined) {
      if (s.closing <= 0) {
        state.sessions.delete(id);
        this.#changed(state, id, this.#progress(state, id));
        throw this.#error(api, Win32.ERROR_CTX_WINSTATION_NOT_FOUND, state, id);
      }
      s.closing--;
      this.#changed(state, id, this.#progress(state, id));
    }
    return s;
  }

  #error(api: MockFaultTarget, code: number, state: ServerState, sessionId: number | undefined): Win32Error {
    return new Win32Error({
      win32Code: code,
      api: WIN32_API[api],
      server: state.def.name,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
  }

  #log(call: MockCall): void {
    this.#calls.push(call);
    this.#onCall?.(call);
  }

  /**
   * Session `id` of `state` changed (or is gone). O(1) per change unless `onChange` is set: the
   * source saves just this session, and only the waits on this server look at it.
   */
  #changed(state: ServerState, id: number, kind: ChangeKind = 'call', undo?: () => void): void {
    this.#accounts = undefined;
    const key = state.def.name.toLowerCase();
    const session = state.sessions.get(id);
    // `state` may be an older copy than the one in #servers (a refresh read the file again while
    // the call waited): the change goes to the current one too.
    const current = this.#servers.get(key);
    const other = current && current !== state ? current : undefined;
    const otherBefore = other?.sessions.get(id);
    if (other) {
      if (session) other.sessions.set(id, session);
      else other.sessions.delete(id);
    }
    try {
      this.#source?.save?.(state.def.name, id, session, kind);
    } catch (error) {
      // Not saved: the call fails, and the change is undone here too, so that nothing this
      // process does next (a listing's countdown, a retry) acts on, or saves, what never happened.
      undo?.();
      if (other) {
        if (otherBefore) other.sessions.set(id, otherBefore);
        else other.sessions.delete(id);
      }
      throw error;
    }
    if (this.#onChange) this.#onChange(this.toFarm());
    this.#notifyOne(key, id, session);
  }

  /** Wakes the waits on server `key` that one session's change concerns (see {@link eventFlags}). */
  #notifyOne(key: string, id: number, session: FarmSession | undefined): void {
    if (this.#waiters.size === 0) {
      this.#seenStale = true;
      return;
    }
    let seen = this.#seen.get(key);
    if (!seen) this.#seen.set(key, (seen = new Map()));
    const old = seen.get(id);
    const now = session && seenOf(session);
    const flags = eventFlags(old ? new Map([[id, old]]) : new Map(), now ? new Map([[id, now]]) : new Map());
    if (now) seen.set(id, now);
    else seen.delete(id);
    if (flags === WtsEvent.None) return;
    for (const w of [...this.#waiters]) {
      if (w.server === key && (w.mask & flags) !== 0) w.wake(w.mask & flags);
    }
  }

  /**
   * Wakes the waits a change concerns: per server, the flags of what changed since waits last
   * looked (see {@link eventFlags}), masked by each wait's mask. A change no session shows (a
   * closing session counting down) wakes nothing.
   */
  #notify(): void {
    const next = this.#seenNow();
    for (const [key, now] of next) {
      const flags = eventFlags(this.#seen.get(key) ?? new Map(), now);
      if (flags === WtsEvent.None) continue;
      for (const w of [...this.#waiters]) {
        if (w.server === key && (w.mask & flags) !== 0) w.wake(w.mask & flags);
      }
    }
    this.#seen = next;
  }

  #seenNow(): Map<string, Map<number, Seen>> {
    return new Map([...this.#servers].map(([key, state]) => [key, new Map([...state.sessions.values()].map((s) => [s.id, seenOf(s)] as const))] as const));
  }

  /** Watches the source while a wait is pending, and only then (an idle process can exit). */
  #watchWhileWaiting(): void {
    if (!this.#source) return;
    if (this.#waiters.size > 0 && !this.#unwatch) {
      this.#unwatch = this.#source.watch(() => this.#refresh());
    } else if (this.#waiters.size === 0 && this.#unwatch) {
      this.#unwatch();
      this.#unwatch = undefined;
    }
  }
}

/** How soon a closing session on a waited-on server completes (see #completeClosingSoon). */
const CLOSING_COMPLETES_MS = 20;

/** 1722 (RPC_S_SERVER_UNAVAILABLE): an unknown or unreachable server, as its call reports it. */
function serverUnavailable(api: keyof typeof WIN32_API, server: string | undefined): Win32Error {
  return new Win32Error({ win32Code: Win32.RPC_S_SERVER_UNAVAILABLE, api: WIN32_API[api], ...(server === undefined ? {} : { server }) });
}

function waitAborted(reason: unknown, api = 'WTSWaitSystemEvent'): OperationAbortedError {
  return new OperationAbortedError(api, reason);
}

/** A logon time as the instant it names (one time written two ways is the same logon), or the text. */
/** Runs a call's onReturn (CallOptions); what it throws is ignored. */
function returnOf(options: CallOptions): void {
  callOnReturn(options.onReturn);
}

function instantOf(text: string | undefined): string {
  if (text === undefined) return '';
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : String(ms);
}

function seenOf(s: FarmSession): Seen {
  return { state: s.state, name: s.name ?? '', user: s.user ?? '', domain: s.domain ?? '', logonTime: instantOf(s.logonTime) };
}

/** A state a client is attached in (WTS_EVENT_CONNECT when a session enters one from another). */
const CONNECTED_STATES: ReadonlySet<string> = new Set(['Active', 'Connected', 'ConnectQuery', 'Shadow']);

/**
 * The WTSWaitSystemEvent flags a change of a server's sessions raises, as the mock assumes Windows
 * raises them (Learn lists the kinds, not which transitions raise which; docs/mock.md):
 * - a session appears: CREATE, and LOGON when it has a user;
 * - a session is gone: DELETE, and LOGOFF when it had a user;
 * - another logon on the same ID (user, domain or logon time differ): LOGOFF for the old user,
 *   LOGON for the new one;
 * - the state changes: STATECHANGE, with DISCONNECT on entering Disconnected and CONNECT on
 *   entering a connected state (Active, Connected, ConnectQuery, Shadow) from another;
 * - the WinStation name changes (same logon, same state): RENAME.
 */
export function eventFlags(before: ReadonlyMap<number, Seen>, after: ReadonlyMap<number, Seen>): number {
  let flags: number = WtsEvent.None;
  for (const [id, old] of before) {
    if (!after.has(id)) flags |= WtsEvent.Delete | (old.user ? WtsEvent.Logoff : 0);
  }
  for (const [id, now] of after) {
    const old = before.get(id);
    if (!old) {
      flags |= WtsEvent.Create | (now.user ? WtsEvent.Logon : 0);
      continue;
    }
    const sameLogon =
      old.user.toLowerCase() === now.user.toLowerCase() && old.domain.toLowerCase() === now.domain.toLowerCase() && old.logonTime === now.logonTime;
    if (!sameLogon) flags |= (old.user ? WtsEvent.Logoff : 0) | (now.user ? WtsEvent.Logon : 0);
    if (old.state !== now.state) {
      flags |= WtsEvent.StateChange;
      if (now.state === 'Disconnected') flags |= WtsEvent.Disconnect;
      if (CONNECTED_STATES.has(now.state) && !CONNECTED_STATES.has(old.state)) flags |= WtsEvent.Connect;
    } else if (sameLogon && old.name !== now.name) {
      flags |= WtsEvent.Rename;
    }
  }
  return flags;
}

/** The name the mock and the native double give PID 0 (assumed: see docs/windows-facts.md). */
export const IDLE_PROCESS_NAME = 'System Idle Process';

/** A farm server's version when it says none: a current Windows (10 / 11, Server 2016 and later). */
export const DEFAULT_OS_VERSION = '10.0';

/**
 * WTSINFOEX_LEVEL1_W's SessionFlags for a farm session on a server: LOCK (0), UNLOCK (1) or
 * UNKNOWN (0xFFFFFFFF) — the first two swapped on a 6.1 server (Windows 7 / Server 2008 R2), as
 * Learn says those versions report them.
 */
export function mockSessionFlags(locked: boolean | null | undefined, osVersion: string | undefined): number {
  if (locked === null) return WtsSessionStateFlags.Unknown;
  const { major, minor } = parseOsVersion(osVersion ?? DEFAULT_OS_VERSION, 'osVersion');
  const swapped = major === 6 && minor === 1;
  return (locked === true) !== swapped ? WtsSessionStateFlags.Lock : WtsSessionStateFlags.Unlock;
}

/** The mock keeps no traffic counters: WTSINFOW's and WTSINFOEX_LEVEL1_W's are zero. */
const NO_TRAFFIC = {
  incomingBytes: 0,
  outgoingBytes: 0,
  incomingFrames: 0,
  outgoingFrames: 0,
  incomingCompressedBytes: 0,
  outgoingCompressedBytes: 0,
} as const;

/** A farm's ISO time as WTS times are given: a Date, or null when the farm has none. */
function timeOf(iso: string | undefined): Date | null {
  return iso ? new Date(iso) : null;
}

/** One information class of a session, as wtsapi32 would report it. */
function mockInfo<C extends WtsInfoClass>(s: FarmSession, infoClass: C, server: FarmServer): WtsInfoClassValues[C] | undefined {
  const value = (): WtsInfoClassValues[WtsInfoClass] | undefined => {
    switch (infoClass as WtsInfoClass) {
      case 'WTSSessionId':
        return s.id;
      case 'WTSUserName':
        return s.user ?? '';
      case 'WTSWinStationName':
        return s.name ?? '';
      case 'WTSDomainName':
        return s.domain ?? '';
      case 'WTSConnectState':
        return stateToWin32(s.state);
      case 'WTSClientName':
        return s.clientName ?? '';
      case 'WTSClientProtocolType':
        // A USHORT: 0 the console (no client), 2 RDP (Learn, WTS_INFO_CLASS).
        return (s.clientName ?? '') !== '' ? 2 : 0;
      case 'WTSClientAddress':
        return clientAddress(s.clientAddress ?? '');
      case 'WTSClientInfo': {
        // WTSCLIENTW: ClientName is 21 characters with its NUL; an IPv4 address as text, IPv6 in a
        // binary form Learn does not give (so undefined, as the koffi backend reads it).
        const { family, address } = clientAddress(s.clientAddress ?? '');
        return { clientName: wholeCharacters((s.clientName ?? '').slice(0, 20)), family, address: family === 23 ? undefined : address };
      }
      case 'WTSIsRemoteSession':
        return (s.clientName ?? '') !== '';
      case 'WTSSessionInfo': {
        // WTSINFOW's names are fixed-size arrays: longer names are cut, as Windows cuts them.
        const cut = (text: string | undefined, size: number) => (text ?? '').slice(0, size - 1);
        return {
          state: stateToWin32(s.state),
          sessionId: s.id,
          ...NO_TRAFFIC,
          winStationName: cut(s.name, WTSINFO_LENGTHS.winStationName),
          domain: cut(s.domain, WTSINFO_LENGTHS.domain),
          userName: cut(s.user, WTSINFO_LENGTHS.userName),
          connectTime: timeOf(s.connectTime),
          disconnectTime: timeOf(s.disconnectTime),
          lastInputTime: timeOf(s.lastInputTime),
          logonTime: timeOf(s.logonTime),
          currentTime: new Date(),
        };
      }
      case 'WTSSessionInfoEx': {
        const cut = (text: string | undefined, size: number) => wholeCharacters((text ?? '').slice(0, size - 1));
        return {
          level: 1,
          level1: {
            sessionId: s.id,
            sessionState: stateToWin32(s.state),
            sessionFlags: mockSessionFlags(s.locked, server.osVersion),
            winStationName: cut(s.name, WTSINFOEX_LENGTHS.winStationName),
            userName: cut(s.user, WTSINFOEX_LENGTHS.userName),
            domainName: cut(s.domain, WTSINFOEX_LENGTHS.domainName),
            logonTime: timeOf(s.logonTime),
            connectTime: timeOf(s.connectTime),
            disconnectTime: timeOf(s.disconnectTime),
            lastInputTime: timeOf(s.lastInputTime),
            currentTime: new Date(),
            ...NO_TRAFFIC,
          },
        };
      }
      default:
        return undefined;
    }
  };
  return value() as WtsInfoClassValues[C] | undefined;
}

function clientAddress(text: string): WtsClientAddress {
  const AF_INET = 2;
  const AF_INET6 = 23;
  const kind = ipKind(text);
  return { family: kind === 4 ? AF_INET : kind === 6 ? AF_INET6 : 0, address: kind === 0 ? '' : text };
}

/**
 * The mock FFI layer over a farm description ({@link Farm}, docs/mock.md): an in-memory
 * {@link WtsApi} to hand to `createWts` in your own tests, on any OS.
 *
 * The farm is checked at run time too, as {@link parseFarm} checks it. Its type catches a typo
 * at compile time; for parsed JSON (`unknown`), call `createMockApi(parseFarm(json))`.
 *
 * @param farm - the servers, their sessions and faults, and which server the caller runs on.
 * @param options - `closingPolls` (default 1), `onChange`, `onCall`, `source`.
 * @returns the mock, with its test helpers (`calls`, `putSession`, `setFault`, ...).
 * @throws `InvalidArgumentError` for a farm that is not valid, naming the JSON path
 *   (`Invalid farm description at farm.servers[0].sessions[2].state: ...`).
 *
 * @example
 * ```ts
 * import { createWts } from 'wts-session';
 * import { createMockApi } from 'wts-session/mock';
 *
 * const mock = createMockApi({
 *   localServer: 'TS01',
 *   servers: [{ name: 'TS01', sessions: [{ id: 3, state: 'Disconnected', user: 'bob' }], faults: { logoff: { '3': 5 } } }],
 * });
 * const [outcome] = await createWts({ api: mock }).logoffAll();
 * console.log(outcome?.status); // 'failed': error 5
 * ```
 */
export function createMockApi(farm: Farm, options: MockApiOptions = {}): MockApi {
  return new MockApi(farm, options);
}
