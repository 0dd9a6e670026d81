/**
 * Many servers at once: bounded concurrency, a timeout per server, one server's failure reported
 * beside the others' results, and events as results arrive.
 */
import { InvalidArgumentError, ServerTimeoutError, type WtsError as WtsErrorType } from '../errors';
import { asWtsError } from './bulk';

export { ServerTimeoutError };
import type { WtsApi } from '../wtsapi';
import { withServer, type ServerContext } from './context';
import { mapLimit } from './limit';
import { checkPositiveInteger, checkTimeout, normalizeServerName } from './validate';

export interface FarmOptions<T> {
  /** The servers: NetBIOS, DNS names or IP addresses. */
  servers: readonly string[];
  /** How many servers are worked on at once. Default 8. */
  serverConcurrency?: number;
  /**
   * How long one server may take, in ms, before it is reported as failed (ServerTimeoutError) and
   * no further call is started on it. Default 60000 (plus any warning grace period).
   */
  serverTimeoutMs?: number;
  /** Called as results arrive: a UI can show progress. */
  onEvent?: (event: FarmEvent<T>) => void;
}

export const FARM_KEYS = ['servers', 'serverConcurrency', 'serverTimeoutMs', 'onEvent'] as const;

export interface ServerFailure {
  readonly server: string;
  readonly error: WtsErrorType;
}

/** What a call over many servers returns: every result, and every server that failed. */
export interface FarmResult<T> {
  /** Every server's results, in the order the servers were given, each in the server's order. */
  readonly results: readonly T[];
  readonly failures: readonly ServerFailure[];
  /** The results of each server that answered, by the name it was given as. */
  readonly byServer: ReadonlyMap<string, readonly T[]>;
}

export type FarmEvent<T> =
  | { readonly type: 'serverStarted'; readonly server: string }
  | { readonly type: 'result'; readonly server: string; readonly result: T }
  | { readonly type: 'serverDone'; readonly server: string; readonly count: number }
  | { readonly type: 'serverFailed'; readonly server: string; readonly error: WtsErrorType };

export interface CheckedFarm<T> {
  readonly servers: readonly string[];
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly onEvent: ((event: FarmEvent<T>) => void) | undefined;
}

export function checkFarm<T>(o: Record<string, unknown>): CheckedFarm<T> {
  const list = o['servers'];
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError('options.servers', 'Invalid options.servers: a non-empty array of server names.');
  }
  const servers = list.map((s: unknown, i) => normalizeServerName(s, `options.servers[${i}]`));
  const onEvent = o['onEvent'];
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new InvalidArgumentError('options.onEvent', 'Invalid options.onEvent: expected a function.');
  }
  return {
    servers: [...new Map(servers.map((s) => [s.toLowerCase(), s])).values()],
    concurrency: o['serverConcurrency'] === undefined ? 8 : checkPositiveInteger(o['serverConcurrency'], 'options.serverConcurrency'),
    timeoutMs: o['serverTimeoutMs'] === undefined ? 60_000 : checkTimeout(o['serverTimeoutMs'], 'options.serverTimeoutMs'),
    onEvent: onEvent as ((event: FarmEvent<T>) => void) | undefined,
  };
}

/** An AbortSignal that fires when any of these does. */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Runs `work` on every server (at most `concurrency` at once). `work` gets a signal that fires
 * on the caller's abort or the server's timeout, and `emit` for each result as it is settled;
 * it returns the server's results in the server's order.
 */
export async function overServers<T>(
  api: WtsApi,
  farm: CheckedFarm<T>,
  signal: AbortSignal | undefined,
  extraTimeoutMs: number,
  work: (ctx: ServerContext, signal: AbortSignal, emit: (result: T) => void) => Promise<readonly T[]>,
): Promise<FarmResult<T>> {
  const perServer = new Map<string, readonly T[]>();
  const failures: ServerFailure[] = [];
  const timeoutMs = farm.timeoutMs + extraTimeoutMs;
  await mapLimit(farm.servers, farm.concurrency, async (server) => {
    let open = true;
    const timeout = new AbortController();
    const serverSignal = anySignal([signal, timeout.signal]);
    farm.onEvent?.({ type: 'serverStarted', server });
    // Events stream in the order results arrive; the returned list keeps the server's order.
    const emit = (result: T) => {
      if (open) farm.onEvent?.({ type: 'result', server, result });
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([withServer(api, server, (ctx) => work(ctx, serverSignal, emit)), timedOut]);
      if (outcome === 'timeout') {
        open = false;
        timeout.abort(new ServerTimeoutError(server, timeoutMs));
        throw new ServerTimeoutError(server, timeoutMs);
      }
      open = false;
      perServer.set(server, outcome);
      farm.onEvent?.({ type: 'serverDone', server, count: outcome.length });
    } catch (error) {
      open = false;
      const failure = { server, error: asWtsError(error) };
      failures.push(failure);
      farm.onEvent?.({ type: 'serverFailed', server, error: failure.error });
    } finally {
      clearTimeout(timer);
    }
  });
  const results = farm.servers.flatMap((s) => perServer.get(s) ?? []);
  const order = new Map(farm.servers.map((s, i) => [s, i] as const));
  failures.sort((a, b) => (order.get(a.server) ?? 0) - (order.get(b.server) ?? 0));
  const byServer = new Map(farm.servers.filter((s) => perServer.has(s)).map((s) => [s, perServer.get(s) as readonly T[]] as const));
  return Object.freeze({ results: Object.freeze(results), failures: Object.freeze(failures), byServer });
}
