/**
 * Text output of the commands, pure: every name is shown printable (control characters escaped,
 * src/cli/text.ts) and tables are laid out in terminal columns. JSON output is src/cli/json.ts.
 */
import type { DetailedSession } from '../api/details';
import type { DisconnectOutcome } from '../api/disconnect';
import type { SessionProcess } from '../api/wts';
import type { MessageOutcome } from '../api/message';
import { shortStateLabel, type LogoffOutcome, type Session } from '../api/types';
import { serverLabel } from '../errors';
import { cell, printable } from './text';

/** `query session`'s table: SESSIONNAME USERNAME ID STATE TYPE DEVICE, '>' before your own. */
export function formatSessionTable(sessions: readonly Session[]): string {
  const lines = [row(' ', 'SESSIONNAME', 'USERNAME', 'ID', 'STATE', 'TYPE', 'DEVICE')];
  for (const s of sessions) {
    lines.push(row(s.isCurrent ? '>' : ' ', s.name.toLowerCase(), s.userName, String(s.id), shortStateLabel(s.state), '', ''));
  }
  return `${lines.join('\n')}\n`;
}

function row(mark: string, name: string, user: string, id: string, state: string, type: string, device: string): string {
  return `${mark}${cell(name, 17, 18)}${cell(user, 20, 22)}${id.padStart(5)}  ${state.padEnd(8)}${cell(type, 12, 12)}${printable(device)}`.trimEnd();
}

/** `RDP-Tcp#1, CORP\\carol`: printable (a name's control characters escaped). */
export function who(session: Session): string {
  const user = session.userName ? (session.domain ? `${session.domain}\\${session.userName}` : session.userName) : 'no user';
  return printable(session.name ? `${session.name}, ${user}` : user);
}

function where(session: Session): string {
  return session.server ? ` on ${printable(session.server)}` : '';
}

/** Any bulk outcome: logoff, disconnect or message. */
export type AnyOutcome = LogoffOutcome | DisconnectOutcome | MessageOutcome;

/** One line per outcome. */
export function formatOutcome(outcome: AnyOutcome): string {
  const line = outcomeLine(outcome);
  // A warning that went out must show in the text report too, whatever happened next.
  const warned = outcome.status !== 'sent' && outcome.status !== 'requested' && wasWarned(outcome);
  return warned ? `${line} (The warning had been sent.)` : line;
}

/**
 * Whether the session was sent the warning (`wts-logoff --warn`), not counting a warning whose
 * refusal is the outcome's failure, nor one still unanswered when the run was cut short: a request
 * after it means it was accepted, and a failed outcome's error lists what was accepted before it
 * (docs/logoffAll.md).
 */
export function wasWarned(outcome: AnyOutcome): boolean {
  const requests = outcome.requests ?? [];
  if (!requests.includes('WTSSendMessageW')) return false;
  if (requests[requests.length - 1] !== 'WTSSendMessageW') return true;
  // Cut short while the warning was on its way: counted once it had returned success.
  if (outcome.status === 'requested') return (outcome as { accepted?: boolean }).accepted === true;
  if (outcome.status !== 'failed') return true;
  const accepted = (outcome.error as { requests?: unknown }).requests;
  return Array.isArray(accepted) && accepted.includes('WTSSendMessageW');
}

function outcomeLine(outcome: AnyOutcome): string {
  const s = outcome.session;
  const head = `session ${s.id} (${who(s)}, ${s.state})${where(s)}`;
  switch (outcome.status) {
    case 'loggedOff':
      // Already closing with no request of its own (its identity read answered 7007): nothing was requested.
      if (outcome.alreadyClosing && !outcome.requests.includes('WTSLogoffSession')) {
        return `Logged off ${head} (it was already closing${outcome.confirmed ? '' : '; not seen to close'}).`;
      }
      return `Logged off ${head}${outcome.confirmed ? '' : ' (requested; not waited for)'}${outcome.alreadyClosing ? ' (it was already closing)' : ''}.`;
    case 'wouldLogOff':
      return outcome.warn
        ? `Would warn ${head}, wait ${outcome.warn.graceSeconds} s, then log it off.`
        : `Would log off ${head}.`;
    case 'disconnected':
      return `Disconnected ${head}.`;
    case 'wouldDisconnect':
      return `Would disconnect ${head}.`;
    case 'sent':
      return `Sent to ${head}: ${outcome.response}.`;
    case 'wouldSend':
      return `Would send to ${head}.`;
    case 'skipped':
      return `Skipped ${head}: ${oneLine(outcome.message)}.`;
    case 'failed':
      return `Failed ${head}: ${errorText(outcome.error)}`;
    case 'requested':
      // The request went out (it may well have been done) but its result is not known.
      return `Requested ${REQUEST_WORDS[outcome.request] ?? outcome.request} of ${head}; not confirmed: ${oneLine(outcome.message)}.`;
  }
}

const REQUEST_WORDS: Readonly<Record<string, string>> = {
  WTSLogoffSession: 'the logoff',
  WTSDisconnectSession: 'the disconnect',
  WTSSendMessageW: 'the message',
};

const DONE_WORDS: Readonly<Record<string, string>> = {
  loggedOff: 'logged off',
  wouldLogOff: 'would be logged off',
  disconnected: 'disconnected',
  wouldDisconnect: 'would be disconnected',
  sent: 'sent',
  wouldSend: 'would be sent',
};

/**
 * The summary line. `action` is what the command does ('loggedOff', 'disconnected', 'sent'): it
 * names the count even when nothing was done.
 */
export function summarize(outcomes: readonly AnyOutcome[], serverFailures = 0, serversStopped = 0, action = 'loggedOff'): string {
  const count = (status: string) => outcomes.filter((o) => o.status === status).length;
  const dry = ['wouldLogOff', 'wouldDisconnect', 'wouldSend'].find((st) => count(st) > 0);
  const done = ['loggedOff', 'disconnected', 'sent'].find((st) => count(st) > 0) ?? action;
  const parts: string[] = [];
  if (dry) parts.push(`${count(dry)} ${DONE_WORDS[dry]}`);
  else parts.push(`${count(done)} ${DONE_WORDS[done]}`);
  // Warnings sent (logoff --warn): each user who got one is counted, whatever happened next.
  const warned = done === 'loggedOff' ? outcomes.filter(wasWarned).length : 0;
  if (warned > 0) parts.push(`${warned} warned`);
  // Sent but not confirmed (a server timed out or the run was stopped): never left out of the count.
  if (count('requested') > 0) parts.push(`${count('requested')} requested but not confirmed`);
  parts.push(`${count('skipped')} skipped`);
  if (!dry || count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (serverFailures > 0) parts.push(`${serverFailures} server${serverFailures === 1 ? '' : 's'} failed`);
  if (serversStopped > 0) parts.push(`${serversStopped} server${serversStopped === 1 ? '' : 's'} stopped before finishing`);
  return `${parts.join(', ')}.`;
}

/** A message on one line (its line breaks as ' / '), printable. */
export function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' / '));
}

/**
 * The error that says what went wrong: the library reports a failure that is not a WTS error (a
 * simulated farm file that cannot be saved, a bug) as E_WIN32 without a Win32 code, wrapping it.
 */
export function causeOf(error: unknown): unknown {
  let e = error;
  for (let depth = 0; depth < 5; depth++) {
    if (e instanceof Error && e.name === 'SimulatedFarmError') return e;
    const wrapped =
      e instanceof Error &&
      (e as { code?: unknown }).code === 'E_WIN32' &&
      typeof (e as { win32Code?: unknown }).win32Code !== 'number' &&
      (e as { cause?: unknown }).cause !== undefined;
    if (!wrapped) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return e;
}

/** An error's message on one line; a simulated farm's file error as itself (it says what to do). */
export function errorText(error: unknown): string {
  const cause = causeOf(error);
  const shown = cause instanceof Error && cause.name === 'SimulatedFarmError' ? cause : error;
  return oneLine(shown instanceof Error ? shown.message : String(shown));
}

export function planLine(outcomes: readonly AnyOutcome[], verb: string, servers: readonly string[]): string {
  const chosen = outcomes
    .filter((o) => o.status.startsWith('would'))
    .map((o) => `${o.session.id}${o.session.server ? `@${o.session.server}` : ''} (${who(o.session)})`);
  const where = servers.length === 1 ? printable(serverLabel(servers[0])) : `${servers.length} servers`;
  return `${verb} ${chosen.length} session${chosen.length === 1 ? '' : 's'} on ${where}: ${chosen.join(', ')}?`;
}

/** quser's IDLE TIME: '.' under a minute, minutes, h:mm, d+hh:mm; 'none' without input. */
export function formatIdle(ms: number | null | undefined): string {
  if (ms == null) return 'none';
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return '.';
  if (minutes < 60) return String(minutes);
  const days = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = String(minutes % 60).padStart(2, '0');
  return days > 0 ? `${days}+${String(h).padStart(2, '0')}:${m}` : `${h}:${m}`;
}

/** quser's LOGON TIME, en-US style in local time: 11/21/2026 8:05 AM. */
export function formatLogonTime(date: Date | null | undefined): string {
  if (!date) return '';
  const h = date.getHours();
  const hour = h % 12 === 0 ? 12 : h % 12;
  return `${date.getMonth() + 1}/${date.getDate()}/${date.getFullYear()} ${hour}:${String(date.getMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

/**
 * The LOCKED column of `wts-query user --long`: `Locked`, `Unlocked`, or `?` when the lock state is
 * not known for certain (null); empty when it was not read (the session ended first).
 */
export function formatLocked(locked: boolean | null | undefined): string {
  if (locked === undefined) return '';
  return locked === null ? '?' : locked ? 'Locked' : 'Unlocked';
}

/**
 * quser's table: USERNAME SESSIONNAME ID STATE IDLE TIME LOGON TIME, '>' before your own. `long`
 * (`--long`) adds a LOCKED column at the end ({@link formatLocked}), leaving quser's columns where
 * they are.
 */
export function formatUserTable(sessions: readonly DetailedSession[], options: { readonly long?: boolean } = {}): string {
  const line = (mark: string, user: string, name: string, id: string, state: string, idle: string, logon: string, locked: string) =>
    `${mark}${cell(user, 20, 22)}${cell(name, 16, 17)}${id.padStart(4)}  ${state.padEnd(6)}${idle.padStart(11)}  ${options.long ? `${logon.padEnd(21)}${locked}` : logon}`.trimEnd();
  const lines = [line(' ', 'USERNAME', 'SESSIONNAME', 'ID', 'STATE', 'IDLE TIME', 'LOGON TIME', 'LOCKED')];
  for (const s of sessions) {
    lines.push(
      line(
        s.isCurrent ? '>' : ' ',
        s.userName.toLowerCase(),
        s.name.toLowerCase(),
        String(s.id),
        shortStateLabel(s.state),
        formatIdle(s.details.idleMs),
        formatLogonTime(s.details.logonTime),
        formatLocked(s.details.locked),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The USERNAME of `query process`: the owner's account name (without its domain), the SID when it
 * resolved to no account, `''` when Windows gave no SID.
 */
export function ownerName(p: SessionProcess): string {
  if (p.owner === null) return '';
  if (p.owner === p.ownerSid) return p.owner;
  return p.owner.slice(p.owner.lastIndexOf('\\') + 1);
}

/** Bytes as tasklist shows memory: kilobytes with thousands separators (`81,920 K`). */
export function formatKilobytes(bytes: number | undefined): string {
  return bytes === undefined ? '' : `${Math.round(bytes / 1024).toLocaleString('en-US')} K`;
}

/** CPU time as tasklist /v shows it: h:mm:ss (milliseconds in). */
export function formatCpuTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 3600)}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * query process's table: USERNAME SESSIONNAME ID PID IMAGE, USERNAME being each process's owner.
 * `long`: THREADS, HANDLES, WORKING SET and CPU TIME (user + kernel) before IMAGE, blank where the
 * server gave no counters (WTSEnumerateProcessesW).
 */
export function formatProcessTable(processes: readonly SessionProcess[], currentSessionId?: number, long = false): string {
  const line = (mark: string, user: string, name: string, id: string, pid: string, extra: readonly string[], image: string) =>
    `${mark}${cell(user, 20, 22)}${cell(name, 17, 18)}${id.padStart(4)}${pid.padStart(7)}${long ? extra.map((e, i) => e.padStart(i === 2 ? 13 : 9)).join('') : ''}  ${printable(image)}`.trimEnd();
  const lines = [line(' ', 'USERNAME', 'SESSIONNAME', 'ID', 'PID', ['THREADS', 'HANDLES', 'WORKING SET', 'CPU TIME'], 'IMAGE')];
  for (const p of processes) {
    const cpu = p.userTime === undefined || p.kernelTime === undefined ? undefined : p.userTime + p.kernelTime;
    lines.push(
      line(
        p.sessionId === currentSessionId && !p.server ? '>' : ' ',
        // Names lower-cased as query process shows them; a SID as it is.
        p.owner !== null && p.owner === p.ownerSid ? p.owner : ownerName(p).toLowerCase(),
        p.sessionName.toLowerCase(),
        String(p.sessionId),
        String(p.processId),
        [p.threads === undefined ? '' : String(p.threads), p.handleCount === undefined ? '' : String(p.handleCount), formatKilobytes(p.workingSetSize), formatCpuTime(cpu)],
        p.processName.toLowerCase(),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
