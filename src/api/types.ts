import { InvalidArgumentError, type SessionIdentity, type WtsError } from '../errors';

/**
 * A session's connection state: WTS_CONNECTSTATE_CLASS as names (`WTSActive` -> `'Active'`, ...).
 * `query session` prints some of them shorter: see {@link SessionStateLabel}.
 */
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

/**
 * Every {@link SessionState}, in WTS_CONNECTSTATE_CLASS order: a state's index is its numeric
 * value (`SESSION_STATES[4] === 'Disconnected'`).
 */
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

/**
 * A session as the API reports it (one element of `WTSEnumerateSessionsExW`'s list). Frozen: a
 * snapshot, not a live object.
 */
export interface Session {
  /** The SessionId. Windows reuses IDs: a session is the same only while its logon is. */
  readonly id: number;
  /** The WinStation name: `'Console'`, `'RDP-Tcp#3'`, `'Services'`; `''` for a disconnected session. */
  readonly name: string;
  /** The connection state. */
  readonly state: SessionState;
  /** The user logged on to it; `''` when nobody is. */
  readonly userName: string;
  /** The user's domain; `''` when nobody is logged on. */
  readonly domain: string;
  /** `''` for the local server, else the server's name as it was given (normalised: `\\WF12` -> `WF12`). */
  readonly server: string;
  /**
   * The console session: named `Console`, or on the local server the session
   * `WTSGetActiveConsoleSessionId()` names.
   */
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

/**
 * `query session`'s short label for a state: `'Conn'`, `'ConnQ'` and `'Disc'` for Connected,
 * ConnectQuery and Disconnected; the name itself for the others.
 *
 * @param state - the state.
 * @returns its label, as `query session` prints it in English.
 * @example
 * ```ts
 * shortStateLabel('Disconnected'); // 'Disc'
 * ```
 */
export function shortStateLabel(state: SessionState): SessionStateLabel {
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

/**
 * `query session`'s short labels of the states ({@link shortStateLabel}): the state's name,
 * except `'Conn'`, `'ConnQ'` and `'Disc'`.
 */
export type SessionStateLabel = 'Active' | 'Conn' | 'ConnQ' | 'Shadow' | 'Disc' | 'Idle' | 'Listen' | 'Reset' | 'Down' | 'Init';

/**
 * A state as the `state` filter accepts it: its name (`'Disconnected'`), `query session`'s label
 * (`'Disc'`) or the WTS name (`'WTSDisconnected'`), as written, in lower case (`'disc'`) or in
 * upper case (`'DISC'`, `'WTSDISCONNECTED'`). (At run time any case is accepted, mixed case too.)
 */
export type SessionStateInput =
  | SessionState
  | SessionStateLabel
  | `WTS${SessionState}`
  | Lowercase<SessionState | SessionStateLabel | `WTS${SessionState}`>
  | Uppercase<SessionState | SessionStateLabel | `WTS${SessionState}`>;

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

/**
 * Why a bulk call left a session alone (`status: 'skipped'`): `console`, `services`, `listener`
 * (protected sessions); `current` (your own session, never acted on by logoffAll or
 * disconnectAll); `filtered` (outside the filters, or already disconnected for disconnectAll);
 * `changed` (its ID now holds another logon); `gone` (it ended); `aborted` / `timeout` (the
 * `signal` fired, or the server's `serverTimeoutMs` ran out, before anything was sent to it);
 * `notInPlan` (a `plan` was applied and did not name it); `noUser` (sendMessageAll: nobody is
 * logged on to read it).
 */
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

/** The requests the library sends to a session, by their Win32 names (see {@link Reported}). */
export type RequestName = 'WTSLogoffSession' | 'WTSDisconnectSession' | 'WTSSendMessageW';

/** What every outcome reports: each request sent to the session. */
export interface Reported {
  /** Each request sent to the session, in order (`[]` for none): a warning, then the action. */
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
  /** Sent, outcome unknown. */
  readonly status: 'requested';
  /** The session as it was listed. */
  readonly session: Session;
  /** The request that was sent. */
  readonly request: RequestName;
  /** true: the call returned success; undefined: it had not returned when the call was cut short. */
  readonly accepted: boolean | undefined;
  /** What happened, in words. */
  readonly message: string;
}

/**
 * The outcomes every bulk call can report for a session it did not (or not knowingly) act on:
 * `skipped` (with a {@link SkipReason} and a message), `failed` (with the error: a
 * {@link Win32Error}, {@link LogoffTimeoutError}, ...), or `requested` ({@link RequestedOutcome}).
 */
export type NotActed =
  | ({ readonly status: 'skipped'; readonly session: Session; readonly reason: SkipReason; readonly message: string } & Reported)
  | ({ readonly status: 'failed'; readonly session: Session; readonly error: WtsError } & Reported)
  | RequestedOutcome;

/**
 * What happened to one session in logoffAll(): `loggedOff`, `wouldLogOff` (a dry run: the plan
 * for it), or one of {@link NotActed}. (`logoff()` resolves to the `loggedOff` member,
 * {@link LoggedOff}.)
 */
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

/** The `status` of a {@link LogoffOutcome}. */
export type LogoffStatus = LogoffOutcome['status'];
