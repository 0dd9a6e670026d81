/**
 * sendMessage and sendMessageAll: msg.exe over WTSSendMessageW, with MessageBox buttons and the
 * user's answer as a name.
 */
import { InvalidArgumentError, OperationAbortedError, WtsError } from '../errors';
import {
  checkPlan,
  clearToAct,
  requestOutcome,
  resolveForAction,
  selectSessions,
  shownIdentity,
  skipFor,
  throwIfAborted,
  type CheckedPlan,
  type Ledger,
  type NotActed,
  type PlanInput,
} from './bulk';
import type { SessionIdentity } from '../errors';
import type { ServerContext } from './context';
import { FILTER_KEYS, compileFilter, type CompiledFilter, type SessionFilter } from './filter';
import { mapLimit } from './limit';
import { noUserKind } from './sessions';
import type { Reported, Session } from './types';
import { checkBoolean, checkKnownKeys, checkOptionsObject, checkPositiveInteger, readSignal, type ParsedTarget } from './validate';

/** The buttons of a message box: MessageBox's button sets, `MB_OK` (0) ... `MB_CANCELTRYCONTINUE` (6), in that order. */
export type MessageButtons = 'OK' | 'OKCancel' | 'AbortRetryIgnore' | 'YesNoCancel' | 'YesNo' | 'RetryCancel' | 'CancelTryContinue';
const BUTTONS: readonly MessageButtons[] = ['OK', 'OKCancel', 'AbortRetryIgnore', 'YesNoCancel', 'YesNo', 'RetryCancel', 'CancelTryContinue'];

/**
 * The answer to a message box: the button the user chose (IDOK ... IDCONTINUE), `'Timeout'`
 * (IDTIMEOUT 32000, or 0 from a box that had a timeout), `'Async'` (IDASYNC: not waited for), or
 * `'Unknown'` for any other code (never taken for a button nobody pressed).
 */
export type MessageResponse = 'OK' | 'Cancel' | 'Abort' | 'Retry' | 'Ignore' | 'Yes' | 'No' | 'TryAgain' | 'Continue' | 'Timeout' | 'Async' | 'Unknown';

const RESPONSES: ReadonlyMap<number, MessageResponse> = new Map([
  [1, 'OK'],
  [2, 'Cancel'],
  [3, 'Abort'],
  [4, 'Retry'],
  [5, 'Ignore'],
  [6, 'Yes'],
  [7, 'No'],
  [10, 'TryAgain'],
  [11, 'Continue'],
  [32000, 'Timeout'],
  [32001, 'Async'],
]);

export function buttonsStyle(buttons: MessageButtons): number {
  return BUTTONS.indexOf(buttons); // MB_OK 0 ... MB_CANCELTRYCONTINUE 6, in that order
}

/**
 * The user's answer by name. 0 is 'Timeout' when the box had a timeout (else 'Unknown': it could
 * not time out): Learn documents IDTIMEOUT (32000), but a box that timed out has been seen to
 * answer 0 (Cassia, TerminalServicesSession.cs, maps 0 to Timeout); an unknown code is 'Unknown',
 * never taken for a button the user did not press.
 */
export function responseName(code: number, timeoutSeconds = 1): MessageResponse {
  // A box that never closes by itself (timeoutSeconds 0) cannot time out: 0 is then not a timeout.
  if (code === 0) return timeoutSeconds > 0 ? 'Timeout' : 'Unknown';
  return RESPONSES.get(code) ?? 'Unknown';
}

/** The options of sendMessage (without `server`): see {@link ServerMessageOptions}. */
export interface MessageOptions {
  /** The message: 1 to 8000 UTF-16 code units (its `length`), not only blanks. */
  text: string;
  /**
   * The box's title (1 to 8000 UTF-16 code units).
   * @defaultValue 'Message from your administrator'
   */
  title?: string;
  /**
   * The buttons.
   * @defaultValue 'OK'
   */
  buttons?: MessageButtons;
  /**
   * Close the box by itself after this many whole seconds (0 to 86400; the answer is then
   * `'Timeout'`); 0 = never.
   * @defaultValue 0
   */
  timeoutSeconds?: number;
  /**
   * Wait for the user's answer. Without it the call resolves once the message is shown (answer
   * `'Async'`).
   * @defaultValue false
   */
  wait?: boolean;
  /**
   * Stops waiting for the answer (with `wait`): the call rejects with an
   * {@link OperationAbortedError} whose `requests` say the message was sent. An aborted signal
   * before the call sends nothing.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/** The options of sendMessageAll (without `server` / `servers`): see {@link ServerSendMessageAllOptions}. */
export interface SendMessageAllOptions extends MessageOptions, SessionFilter {
  /**
   * Report who would get the message (`wouldSend`), and send nothing.
   * @defaultValue false
   */
  dryRun?: boolean;
  /**
   * How many sessions of one server are messaged at once (1 to 1024).
   * @defaultValue 8
   */
  concurrency?: number;
  /**
   * Apply a reviewed dry run: only its `wouldSend` sessions get the message, each only while it
   * is the same logon (see logoffAll's `plan`). Not with `dryRun`.
   * @defaultValue none
   */
  plan?: PlanInput<MessageOutcome>;
}

export interface CheckedMessage {
  readonly text: string;
  readonly title: string;
  readonly style: number;
  readonly timeoutSeconds: number;
  readonly wait: boolean;
  readonly signal: AbortSignal | undefined;
}

const MESSAGE_KEYS = ['text', 'title', 'buttons', 'timeoutSeconds', 'wait', 'signal'] as const;

export function checkMessageText(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidArgumentError(argument, `Invalid ${argument}: a non-empty string.`);
  }
  if (value.length > 8000) throw new InvalidArgumentError(argument, `Invalid ${argument}: at most 8000 UTF-16 code units (its length), got ${value.length}.`);
  return value;
}

function checkMessageFields(o: Record<string, unknown>): CheckedMessage {
  const buttons = o['buttons'] ?? 'OK';
  if (!BUTTONS.includes(buttons as MessageButtons)) {
    throw new InvalidArgumentError('options.buttons', `Invalid options.buttons: one of ${BUTTONS.join(', ')}.`);
  }
  const timeout = o['timeoutSeconds'] ?? 0;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 86_400) {
    throw new InvalidArgumentError('options.timeoutSeconds', 'Invalid options.timeoutSeconds: whole seconds from 0 (never) to 86400.');
  }
  return {
    text: checkMessageText(o['text'], 'options.text'),
    title: o['title'] === undefined ? 'Message from your administrator' : checkMessageText(o['title'], 'options.title'),
    style: buttonsStyle(buttons as MessageButtons),
    timeoutSeconds: timeout,
    wait: o['wait'] === undefined ? false : checkBoolean(o['wait'], 'options.wait'),
    signal: readSignal(o),
  };
}

export function checkMessageOptions(options: unknown, extraKeys: readonly string[]): CheckedMessage {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...MESSAGE_KEYS]);
  return checkMessageFields(o);
}

export interface CheckedMessageAll extends CheckedMessage {
  readonly filter: CompiledFilter;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly plan: CheckedPlan | undefined;
}

export function checkMessageAllOptions(options: unknown, extraKeys: readonly string[]): CheckedMessageAll {
  const o = checkOptionsObject(options);
  checkKnownKeys(o, [...extraKeys, ...MESSAGE_KEYS, ...FILTER_KEYS, 'dryRun', 'concurrency', 'plan']);
  const dryRun = o['dryRun'] === undefined ? false : checkBoolean(o['dryRun'], 'options.dryRun');
  const plan = o['plan'] === undefined ? undefined : checkPlan(o['plan'], 'wouldSend');
  if (plan && dryRun) throw new InvalidArgumentError('options.plan', 'Give either dryRun or plan: a plan is applied, a dry run makes one.');
  return {
    ...checkMessageFields(o),
    filter: compileFilter(o),
    dryRun,
    concurrency: o['concurrency'] === undefined ? 8 : checkPositiveInteger(o['concurrency'], 'options.concurrency'),
    plan,
  };
}

/** The result of sendMessage(), and sendMessageAll's outcome for a session that got the message. */
export type MessageSent = {
  /** The message was shown. */
  readonly status: 'sent';
  /** The session as it was listed. */
  readonly session: Session;
  /** The user's answer (`'Async'` when not waited for). */
  readonly response: MessageResponse;
  /** The code WTSSendMessageW answered (IDOK 1 ... IDTIMEOUT 32000, IDASYNC 32001; 0 seen for a timeout). */
  readonly responseCode: number;
} & Reported;

/**
 * What happened to one session in sendMessageAll(): `sent`, `wouldSend` (a dry run: the plan for
 * it, with the logon it was planned for), or one of {@link NotActed}.
 */
export type MessageOutcome =
  | MessageSent
  | ({ readonly status: 'wouldSend'; readonly session: Session; readonly identity: SessionIdentity } & Reported)
  | NotActed;

async function send(
  ctx: ServerContext,
  session: Session,
  m: CheckedMessage,
  onQueued?: (notMade: () => boolean) => void,
): Promise<{ response: MessageResponse; responseCode: number }> {
  const code = await ctx.api.sendMessage(ctx.handle, session.id, {
    title: m.title,
    text: m.text,
    style: m.style,
    timeoutSeconds: m.timeoutSeconds,
    wait: m.wait,
  }, m.wait ? { signal: m.signal, ...(onQueued ? { onQueued } : {}) } : {});
  return { response: responseName(code, m.timeoutSeconds), responseCode: code };
}

/** One session: by ID, by name (any state) or the caller's own. Services and listeners are refused. */
export async function sendMessageOne(ctx: ServerContext, target: ParsedTarget, m: CheckedMessage): Promise<MessageSent> {
  const { session } = await resolveForAction(ctx, target, false, m.signal, 'sendMessage', false);
  throwIfAborted(m.signal, 'sendMessage', ctx, session.id);
  let answer: Awaited<ReturnType<typeof send>>;
  let notMade: (() => boolean) | undefined;
  try {
    answer = await send(ctx, session, m, (f) => (notMade = f));
  } catch (error) {
    // Abandoned while waiting for the answer (wait: true): the message was sent and is on the
    // screen — unless the backend dropped it unmade, still queued for a thread (CallOptions.onQueued).
    if (m.signal?.aborted && error instanceof WtsError && error.code === 'E_ABORTED') {
      const requests = notMade?.() === true ? [] : ['WTSSendMessageW' as const];
      throw new OperationAbortedError('sendMessage', m.signal.reason, { server: ctx.server, sessionId: session.id, requests });
    }
    throw error;
  }
  return Object.freeze({ status: 'sent', session, ...answer, requests: Object.freeze(['WTSSendMessageW'] as const) });
}

/** msg *: every session with a user, but Services and listeners, narrowed by the filters (and the plan). */
export async function sendMessageAllOn(ctx: ServerContext, m: CheckedMessageAll, ledger: Ledger<MessageOutcome>): Promise<void> {
  throwIfAborted(m.signal, 'sendMessageAll', ctx);
  const protect = (s: Session) =>
    skipFor(noUserKind(s.id, s.state)) ??
    (s.userName === '' ? ({ reason: 'noUser', message: 'nobody is logged on to read it' } as const) : undefined);
  const chosen = await selectSessions(ctx, m, protect, ledger, m.dryRun);
  await mapLimit(chosen, m.concurrency, async (c) => {
    const { index: i, session } = c;
    if (m.dryRun) return ledger.settle(i, { status: 'wouldSend', session, identity: shownIdentity(c) });
    if (!(await clearToAct(ctx, c, ledger, m.signal, 'it was sent', false, m.filter))) return;
    ledger.sending(i, 'WTSSendMessageW');
    try {
      ledger.settle(i, { status: 'sent', session, ...(await send(ctx, session, m, (notMade) => ledger.queuedOn(i, notMade, m.signal))) });
    } catch (error) {
      // Abandoned while waiting for the answer: the box is on the screen. Left pending, the abort
      // that cut the call short reports it as 'requested'.
      if (m.signal?.aborted && error instanceof WtsError && error.code === 'E_ABORTED') return;
      ledger.settle(i, requestOutcome(session, error, 'the message reached it'));
    }
  });
}
