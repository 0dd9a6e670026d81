import { InvalidArgumentError, type SessionIdentity, type WtsError } from '../errors';

/** WTS_CONNECTSTATE_CLASS as names (WTSActive -> 'Active', ...). */
export type SessionState =
  | 'Active'
  | 'Connected'
  | 'ConnectQuery'
  | 'Shadow'
  | 'Disconnected'
  | 'Idle'
  | 'Listen'
  | 'Reset'
  | 'Down'
  | 'Init';

/** In WTS_CONNECTSTATE_CLASS order: index = numeric value. */
export const SESSION_STATES: readonly SessionState[] = [
  'Active',
  'Connected',
  'ConnectQuery',
  'Shadow',
  'Disconnected',
  'Idle',
  'Listen',
  'Reset',
  'Down',
  'Init',
];

/** A session as the API reports it. Read-only: a snapshot, not a live object. */
export interface Session {
  /** SessionId. */
  readonly id: number;
  /** WinStation name: 'Console', 'RDP-Tcp#3', 'Services'; '' for a disconnected session. */
  readonly name: string;
  readonly state: SessionState;
  /** '' when no user is logged on. */
  readonly userName: string;
  readonly domain: string;
  /** '' for the local server, else the server's name as it was opened. */
  readonly server: string;
  readonly isConsole: boolean;
  /** The caller's own session (only ever true on the local server). */
  readonly isCurrent: boolean;
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${String(value)}`);
}

/** Numeric WTS_CONNECTSTATE_CLASS -> name. An unknown value (a newer Windows) maps to 'Down'. */
export function stateFromWin32(value: number): SessionState {
  return SESSION_STATES[value] ?? 'Down';
}

export function stateToWin32(state: SessionState): number {
  return SESSION_STATES.indexOf(state);
}

/** `query session`'s short labels. */
export function shortStateLabel(state: SessionState): string {
  switch (state) {
    case 'Active':
      return 'Active';
    case 'Connected':
      return 'Conn';
    case 'ConnectQuery':
      return 'ConnQ';
    case 'Shadow':
      return 'Shadow';
    case 'Disconnected':
      return 'Disc';
    case 'Idle':
      return 'Idle';
    case 'Listen':
      return 'Listen';
    case 'Reset':
      return 'Reset';
    case 'Down':
      return 'Down';
    case 'Init':
      return 'Init';
    default:
      return assertNever(state, 'session state');
  }
}

const STATE_ALIASES: ReadonlyMap<string, SessionState> = new Map(
  SESSION_STATES.flatMap((s) => [
    [s.toLowerCase(), s] as const,
    [shortStateLabel(s).toLowerCase(), s] as const,
    [`wts${s.toLowerCase()}`, s] as const,
  ]),
);

/** Accepts 'Disconnected', 'disc', 'WTSDisconnected' (any case). */
export function parseState(text: string, argument = 'state'): SessionState {
  const state = STATE_ALIASES.get(text.trim().toLowerCase());
  if (!state) {
    throw new InvalidArgumentError(
      argument,
      `Unknown session state '${text}'. Use one of: ${SESSION_STATES.join(', ')} (or query session's short labels: Disc, Conn, ...).`,
    );
  }
  return state;
}

/** Why a bulk operation left a session alone. */
export type SkipReason =
  | 'console'
  | 'services'
  | 'listener'
  | 'current'
  | 'filtered'
  | 'changed'
  | 'gone'
  | 'aborted'
  | 'timeout'
  | 'notInPlan'
  | 'noUser';

/** The requests a bulk call sends to a session, by their Win32 names. */
export type RequestName = 'WTSLogoffSession' | 'WTSDisconnectSession' | 'WTSSendMessageW';

/** What every bulk outcome reports: each request sent to the session, in order ([] for none). */
export interface Reported {
  readonly requests: readonly RequestName[];
}

/** `Omit` over each member of a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A request was sent, but the call was cut short — the server's `serverTimeoutMs` ran out or the
 * signal aborted — before its result was known. `accepted`: true when the call returned success
 * (the session may still be closing), undefined when the call itself had not returned.
 */
export interface RequestedOutcome extends Reported {
  readonly status: 'requested';
  readonly session: Session;
  readonly request: RequestName;
  readonly accepted: boolean | undefined;
  readonly message: string;
}

/** The outcomes every bulk call can report for a session it did not (or not knowingly) act on. */
export type NotActed =
  | ({ readonly status: 'skipped'; readonly session: Session; readonly reason: SkipReason; readonly message: string } & Reported)
  | ({ readonly status: 'failed'; readonly session: Session; readonly error: WtsError } & Reported)
  | RequestedOutcome;

/** What happened to one session in logoff() or logoffAll(). */
export type LogoffOutcome =
  | ({
      readonly status: 'loggedOff';
      readonly session: Session;
      /** true when `wait` confirmed the session is gone; false when not waited for. */
      readonly confirmed: boolean;
      /** true when a close was already pending (7007) and that counted as the logoff. */
      readonly alreadyClosing: boolean;
    } & Reported)
  | ({
      readonly status: 'wouldLogOff';
      readonly session: Session;
      /** The logon this plan is for: applying the plan acts only while it is still this one. */
      readonly identity: SessionIdentity;
      /** With `warn`: the warning it would get first, and the grace period. */
      readonly warn?: { readonly text: string; readonly graceSeconds: number };
    } & Reported)
  | NotActed;

export type LogoffStatus = LogoffOutcome['status'];
