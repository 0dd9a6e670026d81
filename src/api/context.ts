/**
 * A server as one operation sees it: the handle to call with, how to name it, and what is known
 * about the caller on it. Opening and closing live here so that every path closes what it opened.
 */
import { NO_CONSOLE_SESSION, WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, type ServerHandle, type WtsApi } from '../wtsapi';
import { localServerNames, type LocalServerNames } from './validate';

export interface ServerContext {
  readonly api: WtsApi;
  readonly handle: ServerHandle;
  /** '' for the local server, else the normalised name. */
  readonly server: string;
  readonly isLocal: boolean;
  /** The caller's session on this server (local only; undefined when the caller is in none). */
  readonly currentSessionId: number | undefined;
  /** The console's session per WTSGetActiveConsoleSessionId (local only). */
  readonly consoleSessionId: number | undefined;
  /**
   * In a call over many servers: the server has been listed and its work on sessions (queries,
   * warnings, actions) is next. Waits for the server's turn (a `serverConcurrency` slot) and
   * resolves to true when it had to wait, false when the turn was free: after a wait the work
   * lists the server again, so that it never acts on a list older than its turn. Rejects when
   * the server's work is cut short meanwhile. Undefined outside a call over many servers.
   */
  readonly ready?: () => Promise<boolean>;
}

/**
 * The names the local machine answers to, asked of the backend once: its NetBIOS name, its other
 * names where the backend knows them (WtsApi.getLocalServerNames), and the fixed aliases.
 */
export function localNamesOf(api: WtsApi): LocalServerNames {
  const netbios = api.getComputerName();
  const others = typeof api.getLocalServerNames === 'function' ? api.getLocalServerNames() : [];
  return localServerNames(netbios, Array.isArray(others) ? others : []);
}

/** Whether a (normalised) server name is the local server: none, or one of its names (asked only then). */
export function isLocalServer(name: string | undefined, localNames: () => LocalServerNames): boolean {
  return name === undefined || localNames().has(name);
}

/**
 * How events and errors name a server: '' for the local machine, whatever name it was given by
 * (docs/errors.md), else the name. When the machine's names cannot be read, the name as given.
 */
export function serverLabel(name: string | undefined, localNames: () => LocalServerNames): string {
  if (name === undefined) return '';
  try {
    return isLocalServer(name, localNames) ? '' : name;
  } catch {
    return name;
  }
}

/** Opens a server lazily and closes it once; used by one call or by a `WtsServer` object. */
export class ServerConnection {
  readonly #api: WtsApi;
  /** Normalised server name, or undefined for the local server. */
  readonly #name: string | undefined;
  #context: Promise<ServerContext> | undefined;
  #closed = false;
  readonly #localNames: () => LocalServerNames;

  /**
   * @param localNames - the local machine's names, when the caller already has them (a call over
   *   many servers asks the backend once, not once per server); else asked of `api` when opening.
   */
  constructor(api: WtsApi, name: string | undefined, localNames: () => LocalServerNames = () => localNamesOf(api)) {
    this.#api = api;
    this.#name = name;
    this.#localNames = localNames;
  }

  get closed(): boolean {
    return this.#closed;
  }

  context(): Promise<ServerContext> {
    if (this.#closed) return Promise.reject(new Error('This server object was closed.'));
    this.#context ??= this.#open();
    return this.#context;
  }

  async #open(): Promise<ServerContext> {
    const api = this.#api;
    // Under any of its names the local machine is the local server: WTS_CURRENT_SERVER_HANDLE,
    // with the caller's session and the console known (and so protected).
    const isLocal = isLocalServer(this.#name, this.#localNames);
    if (isLocal) {
      const console = api.getActiveConsoleSessionId();
      const current = api.getCurrentSessionId();
      return {
        api,
        handle: WTS_CURRENT_SERVER_HANDLE,
        server: '',
        isLocal: true,
        // WTS_CURRENT_SESSION: the caller is in no session of this server (WtsApi.getCurrentSessionId).
        currentSessionId: current === WTS_CURRENT_SESSION ? undefined : current,
        consoleSessionId: console === NO_CONSOLE_SESSION ? undefined : console,
      };
    }
    const handle = await api.openServer(this.#name as string);
    return {
      api,
      handle,
      server: this.#name as string,
      isLocal: false,
      currentSessionId: undefined,
      consoleSessionId: undefined,
    };
  }

  /** Closes the handle if one was opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#context;
    this.#context = undefined;
    if (!pending) return;
    let ctx: ServerContext;
    try {
      ctx = await pending;
    } catch {
      return; // never opened
    }
    if (ctx.handle !== WTS_CURRENT_SERVER_HANDLE) await this.#api.closeServer(ctx.handle);
  }
}

/** Runs `fn` with a connection opened for it alone, and always closes it. */
export async function withServer<T>(
  api: WtsApi,
  name: string | undefined,
  fn: (ctx: ServerContext) => Promise<T>,
  localNames?: () => LocalServerNames,
): Promise<T> {
  const connection = new ServerConnection(api, name, localNames);
  try {
    return await fn(await connection.context());
  } finally {
    await connection.close();
  }
}

/** Contexts made by withApi, and the connection each stands for. */
const ORIGIN = new WeakMap<object, ServerContext>();

/**
 * `ctx` with another api (the same calls, made another way: abandonable reads): the same
 * connection, so what is remembered per connection (connectionOf) is shared with it.
 */
export function withApi(ctx: ServerContext, api: WtsApi, extra?: Pick<ServerContext, 'ready'>): ServerContext {
  const derived: ServerContext = { ...ctx, ...extra, api };
  ORIGIN.set(derived, connectionOf(ctx));
  return derived;
}

/** The connection a context stands for: the key of what is remembered per connection. */
export function connectionOf(ctx: ServerContext): ServerContext {
  return ORIGIN.get(ctx) ?? ctx;
}

/**
 * `api` as a server's work sees it: once `signal` fired (the server timed out, or the call was
 * aborted), every call throws the signal's reason instead of being made, so that no request starts
 * on a server after its work was cut short — whatever the work (a listing's detail queries and
 * account look-ups have no signal of their own). Closing the server goes through the real backend.
 */
export function stopping(api: WtsApi, signal: AbortSignal): WtsApi {
  const cut = around(api, (key, value) => {
    const synchronous = SYNCHRONOUS_CALLS.has(key);
    return (...args: unknown[]) => {
      // A call that returns a promise refuses with a rejected one, never a throw: work that
      // started other calls just before (a session's detail queries) then still handles their
      // outcomes, instead of leaving a rejection nobody waits for.
      if (signal.aborted) {
        if (synchronous) throw signal.reason;
        return Promise.reject(signal.reason as Error);
      }
      return value.apply(api, args);
    };
  });
  CUTS.set(cut, signal);
  return cut;
}

/** `ctx` whose calls are refused once `signal` fires (`stopping`), on the same connection; `extra`: its turn over many servers. */
export function cutBy(ctx: ServerContext, signal: AbortSignal, extra?: Pick<ServerContext, 'ready'>): ServerContext {
  return withApi(ctx, stopping(ctx.api, signal), extra);
}

/** The signals of the apis `stopping` made. */
const CUTS = new WeakMap<WtsApi, AbortSignal>();

/** Whether `api` is one `stopping` made whose signal has fired: its calls are refused, not made. */
export function isCut(api: WtsApi): boolean {
  return CUTS.get(api)?.aborted === true;
}

/**
 * `api` with each function read from it made by `wrap` (given the name and the function): other
 * values as they are. The proxy's target is an empty object inheriting from `api`, not `api`
 * itself, so a frozen backend (its methods non-configurable, read-only) can be wrapped too — a
 * proxy must return such a property of its own target unchanged.
 */
export function around(api: WtsApi, wrap: (key: PropertyKey, value: (...a: unknown[]) => unknown) => unknown): WtsApi {
  return new Proxy(Object.create(api) as WtsApi, {
    get(_target, key) {
      const value: unknown = Reflect.get(api, key, api);
      return typeof value === 'function' ? wrap(key, value as (...a: unknown[]) => unknown) : value;
    },
  });
}

/** The WtsApi calls that answer at once, without a promise (they make no request to a server). */
const SYNCHRONOUS_CALLS: ReadonlySet<PropertyKey> = new Set<keyof WtsApi>(['getActiveConsoleSessionId', 'getCurrentSessionId', 'getComputerName', 'getLocalServerNames']);
