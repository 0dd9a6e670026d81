/**
 * The filters every bulk call takes, checked before any call, and applied cheapest first: what
 * the enumeration gives (state, user, domain), then one query per session and field group only
 * for what the filter needs (client name, times).
 */
import { InvalidArgumentError } from '../errors';
import type { ServerContext } from './context';
import { fetchDetails, type DetailGroup, type SessionDetails } from './details';
import { parseState, type Session, type SessionState, type SessionStateInput } from './types';
import { compileWildcard, readArray } from './validate';

/**
 * The filters of listSessions and of every bulk call (logoffAll, disconnectAll, sendMessageAll),
 * applied cheapest first: what the enumeration gives (state, user, domain), then one query per
 * session and field group only for what a filter needs (client name, times). Every filter given
 * must match. A filter that is not valid is an {@link InvalidArgumentError} before any call.
 */
export interface SessionFilter {
  /**
   * Only sessions in this state, or in one of these states: names (`'Disconnected'`), `query
   * session`'s labels (`'Disc'`) or WTS names (`'WTSDisconnected'`), any case.
   * @defaultValue every state
   */
  state?: SessionStateInput | readonly SessionStateInput[];
  /**
   * Only users matching this wildcard (`*`, `?`; without case); `CORP\\*` matches the domain too.
   * A session without a user never matches.
   * @defaultValue every session
   */
  user?: string;
  /**
   * Only users of a domain matching this wildcard.
   * @defaultValue every session
   */
  domain?: string;
  /**
   * Only sessions whose client computer's name matches this wildcard (one `WTSClientInfo` query
   * per session).
   * @defaultValue every session
   */
  clientName?: string;
  /**
   * Only sessions idle (no input) for longer than this: milliseconds, or `'90m'`, `'2h'`,
   * `'1d12h'` (one `WTSSessionInfo` query per session).
   * @defaultValue every session
   */
  idleLongerThan?: number | string;
  /**
   * Only Disconnected sessions, disconnected for longer than this (the same forms as
   * `idleLongerThan`).
   * @defaultValue every session
   */
  disconnectedLongerThan?: number | string;
}

export const FILTER_KEYS = ['state', 'user', 'domain', 'clientName', 'idleLongerThan', 'disconnectedLongerThan'] as const;

export interface CompiledFilter {
  /** The field groups the filter needs queried. */
  readonly groups: ReadonlySet<DetailGroup>;
  /** No condition on what the enumeration gives: `cheap` lets every session through. */
  readonly passesAll: boolean;
  /** Why a session is left out on what the enumeration gives; undefined when it may pass. */
  cheap(session: Session): string | undefined;
  /** Why a session is left out on its details; undefined when it passes. */
  detailed(session: Session, details: SessionDetails): string | undefined;
}

/** '90m', '2h', '1d12h', '45s', '1500ms' or a number of milliseconds. */
export function parseDuration(value: unknown, argument: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const m = /^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+)s)?\s*(?:(\d+)ms)?\s*$/i.exec(value);
    if (m && m.slice(1).some((g) => g !== undefined)) {
      const [d, h, min, s, ms] = m.slice(1).map((g) => Number(g ?? 0)) as [number, number, number, number, number];
      return (((d * 24 + h) * 60 + min) * 60 + s) * 1000 + ms;
    }
  }
  throw new InvalidArgumentError(argument, `Invalid ${argument}: a duration such as '90m', '2h', '1d12h', or milliseconds.`);
}

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''].join('');
}

function wildcard(o: Record<string, unknown>, key: string): ((text: string) => boolean) | undefined {
  const value = o[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`options.${key}`, `Invalid options.${key}: expected a wildcard pattern.`);
  return compileWildcard(value, `options.${key}`);
}

export function compileFilter(o: Record<string, unknown>): CompiledFilter {
  let states: Set<SessionState> | undefined;
  const rawState = o['state'];
  if (rawState !== undefined) {
    const list = readArray(rawState, 'options.state') ?? [rawState];
    if (list.length === 0) throw new InvalidArgumentError('options.state', 'Invalid options.state: empty list.');
    states = new Set(
      list.map((s: unknown, i) => {
        if (typeof s !== 'string') throw new InvalidArgumentError('options.state', `Invalid options.state[${i}]: expected a state name.`);
        return parseState(s, 'options.state');
      }),
    );
  }
  const user = wildcard(o, 'user');
  const domain = wildcard(o, 'domain');
  const clientName = wildcard(o, 'clientName');
  const idle = o['idleLongerThan'] === undefined ? undefined : parseDuration(o['idleLongerThan'], 'options.idleLongerThan');
  const disconnected =
    o['disconnectedLongerThan'] === undefined ? undefined : parseDuration(o['disconnectedLongerThan'], 'options.disconnectedLongerThan');
  const groups = new Set<DetailGroup>();
  if (clientName) groups.add('clientName');
  if (idle !== undefined || disconnected !== undefined) groups.add('times');

  return {
    groups,
    passesAll: !states && disconnected === undefined && !user && !domain,
    cheap(s) {
      if (states && !states.has(s.state)) return `state ${s.state} not selected`;
      if (disconnected !== undefined && s.state !== 'Disconnected') return 'not disconnected';
      if (user && !(s.userName !== '' && (user(s.userName) || user(`${s.domain}\\${s.userName}`)))) {
        return s.userName ? `user ${s.userName} not selected` : 'no user';
      }
      if (domain && !domain(s.domain)) return `domain ${s.domain || '(none)'} not selected`;
      return undefined;
    },
    detailed(_s, d) {
      if (clientName && !clientName(d.clientName ?? '')) return `client ${d.clientName || '(none)'} not selected`;
      if (idle !== undefined && !(d.idleMs != null && d.idleMs > idle)) {
        return d.idleMs == null ? 'no input recorded' : `idle ${formatDuration(d.idleMs)}, not over ${formatDuration(idle)}`;
      }
      if (disconnected !== undefined && !(d.disconnectedMs != null && d.disconnectedMs > disconnected)) {
        return d.disconnectedMs == null ? 'no disconnect time' : `disconnected ${formatDuration(d.disconnectedMs)}, not over ${formatDuration(disconnected)}`;
      }
      return undefined;
    },
  };
}

/**
 * Applies a filter to one session: the reason it is left out, or undefined. A session the cheap
 * filters let through gets the groups the filter needs, plus `extra`, in one query per group.
 */
export async function applyFilter(
  ctx: ServerContext,
  filter: CompiledFilter,
  session: Session,
  extra: ReadonlySet<DetailGroup> = new Set(),
): Promise<{ reason: string | undefined; details: SessionDetails | undefined }> {
  const cheap = filter.cheap(session);
  const groups = extra.size === 0 ? filter.groups : new Set([...filter.groups, ...extra]);
  if (cheap !== undefined || groups.size === 0) return { reason: cheap, details: undefined };
  const details = await fetchDetails(ctx, session, groups);
  return { reason: filter.detailed(session, details), details };
}
