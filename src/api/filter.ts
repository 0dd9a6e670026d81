/**
 * The filters every bulk call takes, checked before any call, and applied cheapest first: what
 * the enumeration gives (state, user, domain), then one query per session and field group only
 * for what the filter needs (client name, times, lock state).
 */
import { InvalidArgumentError } from '../errors';
import type { ServerContext } from './context';
import { fetchDetails, type DetailGroup, type SessionDetails } from './details';
import { parseState, type Session, type SessionState, type SessionStateInput } from './types';
import { checkKnownKeys, compileWildcard, describeValue, readArray, readOptions } from './validate';

/**
 * The filters of listSessions and of every bulk call (logoffAll, disconnectAll, sendMessageAll),
 * applied cheapest first: what the enumeration gives (state, user, domain), then one query per
 * session and field group only for what a filter needs (client name, times, lock state). Every
 * filter given must match. A filter that is not valid is an {@link InvalidArgumentError} before any
 * call.
 */
export interface SessionFilter {
  /**
   * Only sessions in this state, or in one of these states: names (`'Disconnected'`), `query
   * session`'s labels (`'Disc'`) or WTS names (`'WTSDisconnected'`), any case.
   * @defaultValue every state
   */
  state?: SessionStateInput | readonly SessionStateInput[];
  /**
   * Only users matching this wildcard (`*`, `?`; without case), matched against the user name (`temp*`),
   * or, when the pattern has a backslash, against `DOMAIN\\user` (`CORP\\*`, `*\\temp*`).
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
  /**
   * `true`: only locked sessions; `false`: only sessions that are not locked (one
   * `WTSSessionInfoEx` query per session, and the server's Windows version once per server). A
   * session whose lock state is not known for certain (`details.locked` null: the server said
   * unknown, its version could not be read, or it is older than Windows Server 2008 R2) matches
   * neither: it is skipped as `filtered`, "lock state unknown".
   * @defaultValue every session
   */
  locked?: boolean;
  /**
   * Alternatives: a session must match at least one of these filters (each a filter of its own,
   * without `anyOf`), as well as every other filter given beside `anyOf`. "Disconnected or locked,
   * and idle over 2 h" is `{ anyOf: [{ state: 'Disconnected' }, { locked: true }], idleLongerThan: '2h' }`.
   * Each alternative is checked as a filter is (a bad one is an {@link InvalidArgumentError}
   * before any call); the queries are those any alternative needs. 1 to 16 alternatives.
   * @defaultValue no alternatives
   */
  anyOf?: readonly Omit<SessionFilter, 'anyOf'>[];
}

export const FILTER_KEYS = ['state', 'user', 'domain', 'clientName', 'idleLongerThan', 'disconnectedLongerThan', 'locked', 'anyOf'] as const;
const MAX_ALTERNATIVES = 16;

export interface CompiledFilter {
  /** The field groups the filter needs queried. */
  readonly groups: ReadonlySet<DetailGroup>;
  /** No condition on what the enumeration gives: `cheap` lets every session through. */
  readonly passesAll: boolean;
  /**
   * Whether the filter looks at what can change while the user is still the same (state, times,
   * lock, client): then it is applied again right before each action.
   */
  readonly changeable: boolean;
  /** Why a session is left out on what the enumeration gives; undefined when it may pass. */
  cheap(session: Session): string | undefined;
  /** Why a session is left out on its details; undefined when it passes. */
  detailed(session: Session, details: SessionDetails): string | undefined;
}

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'];
/** One `<number><unit>`: the number with an optional decimal part; `ms` before `m`. */
const COMPONENT = /\s*(\d+(?:\.\d+)?)(ms|d|h|m|s)/iy;
const PLAIN_MS = /^\s*(\d+(?:\.\d+)?)\s*$/;

const DURATION_FORMS =
  "milliseconds ('7200000'), or a number and a unit (d, h, m, s, ms), alone or combined from the " +
  "largest unit down: '90m', '1.5h', '1h30m', '1d12h', '500ms'";

/**
 * A duration in milliseconds, as the filters take it (`idleLongerThan`, `disconnectedLongerThan`)
 * and the commands' `--idle` / `--disconnected`:
 *
 * - a number of milliseconds: `7200000` (a number, or a string of digits);
 * - a number and a unit, `d` (days), `h`, `m`, `s` or `ms`, in any case: `90m`, `2h`, `45s`,
 *   `1500ms`; the number may have a decimal part: `1.5h`, `0.5d`;
 * - units combined from the largest down, each at most once, spaces allowed between them:
 *   `1d12h`, `1h30m`, `2m30s`, `1h 30m`.
 *
 * A number or a string alike is rounded to the nearest whole millisecond, half up (`1.5` and
 * `'1.5'` are 2 ms, `'0.4ms'` is 0): the result is a whole number of milliseconds, at most
 * `Number.MAX_SAFE_INTEGER`.
 *
 * @param value - a number of milliseconds or a duration string.
 * @param argument - the name the error message gives the value ('options.idleLongerThan').
 * @returns the duration in whole milliseconds.
 * @throws InvalidArgumentError - for anything else: negative, NaN, an unknown or repeated unit,
 *   units out of order (`30m1h`), a number without digits (`.5h`), or a duration too long; the
 *   message names the accepted forms.
 */
export function parseDuration(value: unknown, argument: string): number {
  const invalid = (why: string) => new InvalidArgumentError(argument, `Invalid ${argument}: ${why}. Give ${DURATION_FORMS}.`);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw invalid('NaN is not a duration');
    if (value < 0) throw invalid(`${value} is negative`);
    if (!(value <= Number.MAX_SAFE_INTEGER)) throw invalid(`${value} ms is too long (at most ${Number.MAX_SAFE_INTEGER} ms)`);
    // Rounded as a string is (`+ 0` makes -0 plain 0).
    return Math.round(value) + 0;
  }
  if (typeof value !== 'string') throw invalid(`expected a number or a string, got ${value === null ? 'null' : typeof value}`);
  const shown = `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  let ms: number;
  const plain = PLAIN_MS.exec(value);
  if (plain) {
    ms = Number(plain[1]);
  } else {
    ms = 0;
    let last = -1;
    let at = 0;
    const end = value.trimEnd().length;
    COMPONENT.lastIndex = 0;
    while (at < end) {
      COMPONENT.lastIndex = at;
      const m = COMPONENT.exec(value);
      if (!m) throw invalid(`${shown} is not a duration`);
      const unit = (m[2] as string).toLowerCase();
      const rank = UNIT_ORDER.indexOf(unit);
      if (rank <= last) throw invalid(`${shown} is not a duration (each unit once, the largest first)`);
      last = rank;
      ms += Number(m[1]) * (UNIT_MS[unit] as number);
      at = COMPONENT.lastIndex;
    }
    if (last < 0) throw invalid(`${shown} is not a duration`);
  }
  ms = Math.round(ms);
  if (!(ms <= Number.MAX_SAFE_INTEGER)) throw invalid(`${shown} is too long (at most ${Number.MAX_SAFE_INTEGER} ms)`);
  return ms;
}

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''].join('');
}

function wildcard(o: Record<string, unknown>, key: string, where: string): ((text: string) => boolean) | undefined {
  const value = o[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${where}.${key}`, `Invalid ${where}.${key}: expected a wildcard pattern.`);
  return compileWildcard(value, `${where}.${key}`);
}

export function compileFilter(o: Record<string, unknown>): CompiledFilter {
  const own = compileOne(o, 'options');
  if (o['anyOf'] === undefined) return own;
  const list = readArray(o['anyOf'], 'options.anyOf', MAX_ALTERNATIVES);
  if (!list || list.length === 0) {
    throw new InvalidArgumentError('options.anyOf', `Invalid options.anyOf: expected 1 to ${MAX_ALTERNATIVES} filters (objects), got ${describeValue(o['anyOf'])}.`);
  }
  const alternatives = list.map((item, i) => {
    const where = `options.anyOf[${i}]`;
    const alt = readOptions(item, where, true);
    checkKnownKeys(alt, FILTER_KEYS.filter((k) => k !== 'anyOf'), where);
    return compileOne(alt, where);
  });
  const groups = new Set<DetailGroup>([...own.groups, ...alternatives.flatMap((a) => [...a.groups])]);
  const none = (reasons: readonly string[]) => `matches no alternative of anyOf (${reasons.join("; ")})`;
  return {
    groups,
    passesAll: false,
    changeable: own.changeable || alternatives.some((a) => a.changeable),
    cheap(s) {
      const reason = own.cheap(s);
      if (reason !== undefined) return reason;
      const reasons = alternatives.map((a) => a.cheap(s));
      return reasons.some((r) => r === undefined) ? undefined : none(reasons as string[]);
    },
    detailed(s, d) {
      const reason = own.detailed(s, d);
      if (reason !== undefined) return reason;
      const reasons = alternatives.map((a) => a.cheap(s) ?? a.detailed(s, d));
      return reasons.some((r) => r === undefined) ? undefined : none(reasons as string[]);
    },
  };
}

/** One filter object (the top level, or one alternative of `anyOf`): `where` names it in errors. */
function compileOne(o: Record<string, unknown>, where: string): CompiledFilter {
  let states: Set<SessionState> | undefined;
  const rawState = o['state'];
  if (rawState !== undefined) {
    const list = readArray(rawState, `${where}.state`) ?? [rawState];
    if (list.length === 0) throw new InvalidArgumentError(`${where}.state`, `Invalid ${where}.state: empty list.`);
    states = new Set(
      list.map((s: unknown, i) => {
        if (typeof s !== 'string') throw new InvalidArgumentError(`${where}.state`, `Invalid ${where}.state[${i}]: expected a state name.`);
        return parseState(s, `${where}.state`);
      }),
    );
  }
  const user = wildcard(o, 'user', where);
  // A pattern with a backslash is matched against DOMAIN\user, any other against the user name
  // alone: `c*` must not select every user of the domain CORP.
  const userQualified = typeof o['user'] === 'string' && o['user'].includes('\\');
  const domain = wildcard(o, 'domain', where);
  const clientName = wildcard(o, 'clientName', where);
  const idle = o['idleLongerThan'] === undefined ? undefined : parseDuration(o['idleLongerThan'], `${where}.idleLongerThan`);
  const disconnected =
    o['disconnectedLongerThan'] === undefined ? undefined : parseDuration(o['disconnectedLongerThan'], `${where}.disconnectedLongerThan`);
  const rawLocked = o['locked'];
  if (rawLocked !== undefined && typeof rawLocked !== 'boolean') {
    throw new InvalidArgumentError(`${where}.locked`, `Invalid ${where}.locked: expected true (locked sessions) or false (sessions not locked), got ${describeValue(rawLocked)}.`);
  }
  const locked = rawLocked as boolean | undefined;
  const groups = new Set<DetailGroup>();
  if (clientName) groups.add('clientName');
  if (idle !== undefined || disconnected !== undefined) groups.add('times');
  if (locked !== undefined) groups.add('lock');

  return {
    groups,
    passesAll: !states && disconnected === undefined && !user && !domain,
    changeable: groups.size > 0 || states !== undefined || disconnected !== undefined,
    cheap(s) {
      if (states && !states.has(s.state)) return `state ${s.state} not selected`;
      if (disconnected !== undefined && s.state !== 'Disconnected') return 'not disconnected';
      if (user && !(s.userName !== '' && user(userQualified ? `${s.domain}\\${s.userName}` : s.userName))) {
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
      // Exactly true or false: an unknown lock state (null, or missing) never matches either.
      if (locked !== undefined && d.locked !== locked) {
        if (typeof d.locked !== 'boolean') return 'lock state unknown';
        return d.locked ? 'locked' : 'not locked';
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
