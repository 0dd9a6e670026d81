/**
 * The typed API over any WtsApi backend: `createWts({ api })`, its methods, and `openServer`.
 */
import { InvalidArgumentError } from '../errors';
import type { WtsApi } from '../wtsapi';
import { ServerConnection, withServer, type ServerContext } from './context';
import {
  checkFilter,
  checkLogoffAllOptions,
  checkLogoffOptions,
  logoffAllOn,
  logoffOne,
  type LogoffAllFilter,
  type LogoffAllOptions,
  type LogoffOptions,
} from './logoff';
import { enumerate, resolveTarget } from './sessions';
import type { LogoffOutcome, Session } from './types';
import {
  checkKnownKeys,
  checkOptionsObject,
  normalizeServerName,
  parseTarget,
  type ParsedTarget,
  type SessionTarget,
} from './validate';

export interface ServerOption {
  /** The server: `WF12`, `\\WF12`, a DNS name or an IP address. Default: the local server. */
  server?: string;
}

export interface ListSessionsOptions extends ServerOption, LogoffAllFilter {}
export type FindSessionOptions = ServerOption;
export interface ServerLogoffOptions extends ServerOption, LogoffOptions {}
export interface ServerLogoffAllOptions extends ServerOption, LogoffAllOptions {}

/** The result of a successful logoff(). */
export type LoggedOff = Extract<LogoffOutcome, { status: 'loggedOff' }>;

export const API_METHODS = [
  'openServer',
  'closeServer',
  'enumerateSessions',
  'enumerateProcesses',
  'querySessionInformation',
  'logoffSession',
  'disconnectSession',
  'sendMessage',
  'getActiveConsoleSessionId',
  'getCurrentSessionId',
  'getComputerName',
] as const;

export function checkApi(api: unknown): WtsApi {
  const missing = API_METHODS.filter((m) => typeof (api as Record<string, unknown> | null)?.[m] !== 'function');
  if (missing.length > 0) {
    throw new InvalidArgumentError('options.api', `Invalid options.api: not a WtsApi (missing ${missing.join(', ')}).`);
  }
  return api as WtsApi;
}

/** The operations shared by Wts (server per call) and WtsServer (one server, many calls). */
abstract class Operations {
  protected abstract run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T>;
  protected abstract readonly serverKeys: readonly string[];

  /** Reads `options.server` where allowed; a WtsServer has its own. */
  protected serverOf(options: Record<string, unknown>): string | undefined {
    return options['server'] === undefined ? undefined : normalizeServerName(options['server'], 'options.server');
  }

  /** Every session on the server, as one WTSEnumerateSessionsExW call. */
  async listSessions(options?: ListSessionsOptions): Promise<readonly Session[]> {
    const o = checkOptionsObject(options);
    checkKnownKeys(o, [...this.serverKeys, 'state', 'user']);
    const server = this.serverOf(o);
    const filter = checkFilter(o);
    const sessions = await this.run(server, enumerate);
    return Object.freeze(
      sessions.filter((s) => (!filter.states || filter.states.has(s.state)) && (!filter.user || filter.user(s))),
    );
  }

  /** The session with this ID or WinStation name (without case); no target = your own. */
  async findSession(target?: SessionTarget, options?: FindSessionOptions): Promise<Session> {
    const parsed = parseTarget(target);
    const o = checkOptionsObject(options);
    checkKnownKeys(o, this.serverKeys);
    const server = this.serverOf(o);
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, async (ctx) => resolveTarget(await enumerate(ctx), parsed, ctx, false));
  }

  /**
   * Logs off one session: by ID, by name (which must be Active), or — with no target — your own.
   * Refuses the console, services and listeners before any logoff call; re-checks the session's
   * identity before acting; by default waits until the session is gone.
   */
  async logoff(target?: SessionTarget, options?: ServerLogoffOptions): Promise<LoggedOff> {
    const parsed = parseTarget(target);
    const checked = checkLogoffOptions(options, this.serverKeys);
    const server = this.serverOf(checkOptionsObject(options));
    this.checkCurrentIsLocal(parsed, server);
    return this.run(server, (ctx) => logoffOne(ctx, parsed, checked));
  }

  /**
   * KB 259436 done safely: logs off every session on the server except the console, services,
   * listeners and your own, narrowed by `state` and `user`. One outcome per session, in the
   * server's order; rejects only when the server cannot be enumerated.
   */
  async logoffAll(options?: ServerLogoffAllOptions): Promise<readonly LogoffOutcome[]> {
    const checked = checkLogoffAllOptions(options, this.serverKeys);
    const server = this.serverOf(checkOptionsObject(options));
    return Object.freeze(await this.run(server, (ctx) => logoffAllOn(ctx, checked)));
  }

  protected checkCurrentIsLocal(target: ParsedTarget, server: string | undefined): void {
    if (target.kind === 'current' && server !== undefined) {
      throw new InvalidArgumentError(
        'target',
        'No session given together with a server: name the session to act on. (No target means your own ' +
          'session, which is only defined on the local server.)',
      );
    }
  }
}

/** The API bound to one backend. Each call opens the server it needs and closes it. */
export class Wts extends Operations {
  readonly api: WtsApi;
  protected readonly serverKeys = ['server'] as const;

  constructor(api: WtsApi) {
    super();
    this.api = api;
  }

  protected run<T>(server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T> {
    return withServer(this.api, server, fn);
  }

  /** One handle to a server for several calls. Close it (or `await using` it) when done. */
  openServer(name: string): WtsServer {
    return new WtsServer(this.api, normalizeServerName(name, 'name'));
  }
}

/** A server opened once (lazily, on first use) for several calls. AsyncDisposable. */
export class WtsServer extends Operations implements AsyncDisposable {
  /** The server's name, normalised (`\\WF12` -> `WF12`). */
  readonly name: string;
  readonly #connection: ServerConnection;
  protected readonly serverKeys = [] as const;

  constructor(api: WtsApi, name: string) {
    super();
    this.name = name;
    this.#connection = new ServerConnection(api, name);
  }

  protected override serverOf(): string {
    return this.name;
  }

  protected override checkCurrentIsLocal(target: ParsedTarget): void {
    super.checkCurrentIsLocal(target, this.name);
  }

  protected async run<T>(_server: string | undefined, fn: (ctx: ServerContext) => Promise<T>): Promise<T> {
    if (this.#connection.closed) {
      throw new InvalidArgumentError('server', `The server object for ${this.name} is closed.`);
    }
    return fn(await this.#connection.context());
  }

  /** WTSCloseServer on the handle, if it was opened. Idempotent. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
