/**
 * Text and JSON output of the commands. Pure.
 */
import { shortStateLabel, type LogoffOutcome, type Session } from '../api/types';
import { serverLabel, Win32Error, type WtsError } from '../errors';

/** `query session`'s table: SESSIONNAME USERNAME ID STATE TYPE DEVICE, '>' before your own. */
export function formatSessionTable(sessions: readonly Session[]): string {
  const lines = [row(' ', 'SESSIONNAME', 'USERNAME', 'ID', 'STATE', 'TYPE', 'DEVICE')];
  for (const s of sessions) {
    lines.push(row(s.isCurrent ? '>' : ' ', s.name.toLowerCase(), s.userName, String(s.id), shortStateLabel(s.state), '', ''));
  }
  return `${lines.join('\n')}\n`;
}

function row(mark: string, name: string, user: string, id: string, state: string, type: string, device: string): string {
  return `${mark}${fit(name, 17).padEnd(18)}${fit(user, 20).padEnd(22)}${id.padStart(5)}  ${state.padEnd(8)}${type.padEnd(12)}${device}`.trimEnd();
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width);
}

export function who(session: Session): string {
  const user = session.userName ? (session.domain ? `${session.domain}\\${session.userName}` : session.userName) : 'no user';
  return session.name ? `${session.name}, ${user}` : user;
}

function where(session: Session): string {
  return session.server ? ` on ${session.server}` : '';
}

/** One line per outcome of logoffAll. */
export function formatOutcome(outcome: LogoffOutcome): string {
  const s = outcome.session;
  const head = `session ${s.id} (${who(s)}, ${s.state})${where(s)}`;
  switch (outcome.status) {
    case 'loggedOff':
      return `Logged off ${head}${outcome.confirmed ? '' : ' (requested; not waited for)'}${outcome.alreadyClosing ? ' (it was already closing)' : ''}.`;
    case 'wouldLogOff':
      return `Would log off ${head}.`;
    case 'skipped':
      return `Skipped ${head}: ${outcome.message}.`;
    case 'failed':
      return `Failed ${head}: ${oneLine(outcome.error.message)}`;
  }
}

export function summarize(outcomes: readonly LogoffOutcome[]): string {
  const count = (status: LogoffOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const dry = count('wouldLogOff');
  if (dry > 0 || outcomes.every((o) => o.status === 'skipped' || o.status === 'wouldLogOff')) {
    return `${dry} would be logged off, ${count('skipped')} skipped.`;
  }
  return `${count('loggedOff')} logged off, ${count('skipped')} skipped, ${count('failed')} failed.`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' / ');
}

/** A JSON-ready view of an error. */
export function errorJson(error: WtsError): Record<string, unknown> {
  return {
    code: error.code,
    name: error.name,
    message: error.message,
    ...(error.server !== undefined ? { server: error.server } : {}),
    ...(error.sessionId !== undefined ? { sessionId: error.sessionId } : {}),
    ...(error instanceof Win32Error ? { win32Code: error.win32Code, api: error.api } : {}),
  };
}

/** A JSON-ready view of an outcome. */
export function outcomeJson(outcome: LogoffOutcome): Record<string, unknown> {
  const base = { status: outcome.status, server: outcome.session.server, session: outcome.session };
  switch (outcome.status) {
    case 'loggedOff':
      return { ...base, confirmed: outcome.confirmed, alreadyClosing: outcome.alreadyClosing };
    case 'wouldLogOff':
      return base;
    case 'skipped':
      return { ...base, reason: outcome.reason, message: outcome.message };
    case 'failed':
      return { ...base, error: errorJson(outcome.error) };
  }
}

export function planLine(outcomes: readonly LogoffOutcome[], server: string): string {
  const chosen = outcomes.filter((o) => o.status === 'wouldLogOff').map((o) => `${o.session.id} (${who(o.session)})`);
  return `Log off ${chosen.length} session${chosen.length === 1 ? '' : 's'} on ${serverLabel(server)}: ${chosen.join(', ')}?`;
}
