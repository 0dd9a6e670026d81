/**
 * wts-query session: `query session` (qwinsta) without parsing its output.
 */
import type { Session } from '../api/types';
import { normalizeServerName } from '../api/validate';
import { flag, parseArgs, UsageError, value, type SwitchSpec } from './argv';
import { EXIT_FAILED, EXIT_OK, runCommand, wtsFor, type CliIo } from './common';
import { formatSessionTable } from './format';

const COMMAND = 'wts-query';

export const QUERY_SWITCHES: readonly SwitchSpec[] = [
  { name: 'server', aliases: ['server'], value: true },
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'json', aliases: ['json'] },
  { name: 'simulate', aliases: ['simulate'], value: true },
];

export const QUERY_HELP = `Shows Remote Desktop sessions.

wts-query session [SessionName | UserName | SessionID] [/server:ServerName] [--json]

  SessionName        Only the session with this name (e.g. rdp-tcp#3).
  UserName           Only the sessions of this user.
  SessionID          Only the session with this ID.
  /server:ServerName The server (default: this one). Also --server NAME.
  --json             The sessions as a JSON array.
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
  /?                 This help.

'>' marks your own session. States: Active, Conn, ConnQ, Shadow, Disc, Idle, Listen,
Reset, Down, Init. Exit codes: 0 success, 1 an operation failed, 2 bad usage.
`;

/** query session's filter: a session ID, a session name or a user name (without case). */
export function matchesQuery(session: Session, filter: string): boolean {
  const f = filter.toLowerCase();
  return String(session.id) === filter || session.name.toLowerCase() === f || session.userName.toLowerCase() === f;
}

export async function queryMain(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand(COMMAND, io, () => false, async () => {
    const args = parseArgs(argv, QUERY_SWITCHES);
    if (flag(args, 'help')) {
      io.out(QUERY_HELP);
      return EXIT_OK;
    }
    const [subcommand, ...rest] = args.positionals;
    if (subcommand === undefined) throw new UsageError(`Say what to query: '${COMMAND} session'.`);
    if (!['session', 'sessions', 'qwinsta'].includes(subcommand.toLowerCase())) {
      throw new UsageError(`Unknown query '${subcommand}'. Known: session.`);
    }
    if (rest.length > 1) throw new UsageError(`Only one filter may be given; got ${rest.map((r) => `'${r}'`).join(' and ')}.`);
    const filter = rest[0];
    if (filter !== undefined && filter.trim() === '') throw new UsageError('The filter is empty.');
    const serverText = value(args, 'server');
    const server = serverText === undefined ? undefined : normalizeServerName(serverText, '/server');
    const wts = wtsFor(value(args, 'simulate'));
    const all = await wts.listSessions(server === undefined ? {} : { server });
    const sessions = filter === undefined ? all : all.filter((s) => matchesQuery(s, filter));
    if (flag(args, 'json')) {
      io.out(`${JSON.stringify(sessions, null, 2)}\n`);
      return filter !== undefined && sessions.length === 0 ? EXIT_FAILED : EXIT_OK;
    }
    if (filter !== undefined && sessions.length === 0) {
      io.err(`No session exists for ${filter}\n`);
      return EXIT_FAILED;
    }
    io.out(formatSessionTable(sessions));
    return EXIT_OK;
  });
}
