/**
 * wts-query session | user | process: `query session` (qwinsta), `query user` (quser) and
 * `query process` (qprocess) without parsing their output, on one server or many.
 */
import type { DetailedSession } from '../api/details';
import type { FarmResult } from '../api/farm';
import type { Session } from '../api/types';
import type { SessionProcess, Wts } from '../api/wts';
import { flag, parseArgs, UsageError, value, type SwitchSpec } from './argv';
import { DEBUG_HELP, EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, jsonFailure, JSON_CONTRACT_HELP, lazyWts, runCommand, type CliDeps, type CliIo } from './common';
import { errorText, formatProcessTable, formatSessionTable, formatUserTable, ownerName } from './format';
import { cliErrorObject, errorObject, jsonLine, resultDocument } from './json';
import { failureLine, helpOrVersion, SERVER_SWITCHES, serversOf, type Target } from './shared';
import { printable } from './text';
import { VERSION_HELP } from './version';
import { watchMain } from './watch';

const COMMAND = 'wts-query';

export const QUERY_SWITCHES: readonly SwitchSpec[] = [
  ...SERVER_SWITCHES,
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'json', aliases: ['json'] },
  { name: 'watch', aliases: ['watch'] },
  { name: 'long', aliases: ['long'] },
];

export const QUERY_HELP = `Shows Remote Desktop sessions, their users, and their processes.

wts-query session [SessionName | UserName | SessionID] [/server:ServerName] [--json]
wts-query user    [UserName | SessionName | SessionID] [/server:ServerName] [--long] [--json]
wts-query process [UserName | SessionName | SessionID | Program] [/server:ServerName] [--long] [--json]
wts-query session|user [filter] --watch [/server:ServerName | /servers:A,B] [--long] [--json]

  session            query session: SESSIONNAME USERNAME ID STATE TYPE DEVICE.
  user               quser: USERNAME SESSIONNAME ID STATE IDLE TIME LOGON TIME.
  --long             With user: a LOCKED column too (Locked, Unlocked, or ? when the
                     lock state cannot be read for certain; JSON: details.locked true,
                     false or null). One more query per session, and the server's
                     Windows version once (Windows 7 / 2008 R2 report it swapped).
                     With --watch: lock and unlock events too; Windows raises no
                     event for locking, so a lock shows at the server's next
                     listing (after any session change there, at least every 30 s).
  process            query process: USERNAME (the process's owner) SESSIONNAME ID PID
                     IMAGE.
  --long             With process: also THREADS, HANDLES, WORKING SET and CPU TIME
                     (blank where the server gives no counters).
  /server:ServerName The server (default: this one). Also --server NAME.
  /servers:A,B,C     Several servers (or /servers:@FILE, --servers-file FILE, and
                     /servers:- or --servers-file - for standard input; names one a
                     line or comma or space separated, # comments): one table per
                     server; an unreachable one is reported and the others shown.
  --json             One JSON document: { "type": "sessions" or "processes",
                     "results": [...], "failures": [...] }; a failed query (one
                     server) or no match: an "error" document instead.
  --watch            Keep watching (session, user): on a terminal, the table redrawn
                     as sessions change, the last change highlighted; otherwise,
                     with TERM=dumb or with --json, one JSON line per change. Ctrl+C
                     stops it (exit 130); a closed output stops it (exit 0).
  --no-progress      Accepted (wts-query draws no progress line).
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}
${VERSION_HELP}
  /?                 This help.

'>' marks your own session. States: Active, Conn, ConnQ, Shadow, Disc, Idle, Listen,
Reset, Down, Init. A reader that stops early (| head -1) is no error: exit 0.
${JSON_CONTRACT_HELP}
${EXIT_CODES_HELP}
`;

/** query session's filter: a session ID, a session name or a user name (without case). */
export function matchesQuery(session: Session, filter: string): boolean {
  const f = filter.toLowerCase();
  return String(session.id) === filter || session.name.toLowerCase() === f || session.userName.toLowerCase() === f;
}

type Kind = 'session' | 'user' | 'process';

const KINDS: Readonly<Record<string, Kind>> = {
  session: 'session',
  sessions: 'session',
  qwinsta: 'session',
  user: 'user',
  users: 'user',
  quser: 'user',
  process: 'process',
  processes: 'process',
  qprocess: 'process',
};

const NOT_FOUND: Readonly<Record<Kind, string>> = {
  session: 'No session exists for',
  user: 'No User exists for',
  process: 'No Process exists for',
};

export async function queryMain(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  return runCommand(COMMAND, argv, io, () => false, async () => {
    const args = parseArgs(argv, QUERY_SWITCHES);
    const early = helpOrVersion(args, io, QUERY_HELP);
    if (early !== undefined) return early;
    const [subcommand, ...rest] = args.positionals;
    if (subcommand === undefined) throw new UsageError(`Say what to query: '${COMMAND} session', 'user' or 'process'.`);
    const kind = KINDS[subcommand.toLowerCase()];
    if (!kind) throw new UsageError(`Unknown query '${subcommand}'. Known: session, user, process.`);
    if (rest.length > 1) throw new UsageError(`Only one filter may be given; got ${rest.map((r) => `'${r}'`).join(' and ')}.`);
    const filter = rest[0];
    if (filter !== undefined && filter.trim() === '') throw new UsageError('The filter is empty.');
    const target = serversOf(args, io.readStdin ? { readStdin: io.readStdin } : {});
    const long = flag(args, 'long');
    if (long && kind === 'session') throw new UsageError("--long goes with 'user' (the LOCKED column) or 'process' (threads, handles, memory, CPU time).");
    if (flag(args, 'watch')) {
      if (kind === 'process') throw new UsageError("--watch goes with 'session' or 'user': processes are not watched.");
      const matches = filter === undefined || filter === '*' ? undefined : (s: Session) => matchesQuery(s, filter);
      return watchMain(lazyWts(value(args, 'simulate'), deps)(), { kind, target, matches, json: flag(args, 'json'), long }, io);
    }
    const wts = lazyWts(value(args, 'simulate'), deps)();
    const result = await fetch(wts, kind, target, long);
    const keep = filter === undefined || filter === '*' ? result.results : result.results.filter((r) => matches(kind, r, filter));
    const failed = result.failures.length > 0;
    // One server that failed has no result: no table header, no empty list, only the error.
    const oneFailed = target.kind === 'one' && failed;
    const notFound = filter !== undefined && keep.length === 0 && !failed;
    const json = flag(args, 'json');
    if (json) {
      const first = result.failures[0];
      if (oneFailed && first) jsonFailure(io, true, EXIT_FAILED, errorObject(first.error));
      else if (notFound) jsonFailure(io, true, EXIT_FAILED, cliErrorObject('NoMatchError', 'E_NOT_FOUND', `${NOT_FOUND[kind]} ${filter}`, { filter }));
      else io.out(jsonLine(resultDocument(kind === 'process' ? 'processes' : 'sessions', kind, keep, result.failures)));
    } else if (!oneFailed) {
      const keepSet = new Set(keep);
      const groups =
        target.kind === 'one'
          ? [{ name: undefined, rows: keep }]
          : [...result.byServer].map(([name, rows]) => ({ name, rows: rows.filter((r) => keepSet.has(r)) }));
      for (const g of groups) {
        if (g.name !== undefined) io.out(`${printable(g.name)}:\n`);
        if (g.rows.length > 0 || filter === undefined) io.out(table(kind, g.rows, long));
      }
    }
    for (const f of result.failures) io.err(`${target.kind === 'one' ? errorText(f.error) : failureLine(f)}\n`);
    if (notFound) {
      io.err(`${NOT_FOUND[kind]} ${printable(filter)}\n`);
      return EXIT_FAILED;
    }
    return failed ? EXIT_FAILED : EXIT_OK;
  });
}

type Row = Session | DetailedSession | SessionProcess;

async function fetch(wts: Wts, kind: Kind, target: Target, long: boolean): Promise<FarmResult<Row>> {
  const one = async (fn: () => Promise<readonly Row[]>): Promise<FarmResult<Row>> => {
    try {
      return { results: await fn(), failures: [], byServer: new Map() };
    } catch (error) {
      const e = error as { code?: string; server?: string };
      if (typeof e.code === 'string' && e.code === 'E_WIN32') {
        return { results: [], failures: [{ server: e.server ?? '', error: error as never }], byServer: new Map() };
      }
      throw error;
    }
  };
  const server = target.kind === 'one' && target.server !== undefined ? { server: target.server } : {};
  const servers = target.kind === 'many' ? { servers: target.servers } : undefined;
  switch (kind) {
    case 'session':
      return servers ? wts.listSessions(servers) : one(() => wts.listSessions(server));
    case 'user': {
      // quser: sessions with a user, with their times (one WTSSessionInfo query each); --long: and
      // their lock state (one WTSSessionInfoEx query each, the server's version once).
      const details = long ? (['times', 'lock'] as const) : (['times'] as const);
      return servers
        ? wts.listSessions({ user: '*', details, ...servers })
        : one(() => wts.listSessions({ user: '*', details, ...server }));
    }
    case 'process':
      return servers ? wts.listProcesses(servers) : one(() => wts.listProcesses(server));
  }
}

function matches(kind: Kind, row: Row, filter: string): boolean {
  if (kind !== 'process') return matchesQuery(row as Session, filter);
  const p = row as SessionProcess;
  const f = filter.toLowerCase();
  return (
    String(p.sessionId) === filter ||
    p.sessionName.toLowerCase() === f ||
    // The owner (`alice`, `CORP\alice`, its SID), or the session's user.
    ownerName(p).toLowerCase() === f ||
    (p.owner ?? '').toLowerCase() === f ||
    p.userName.toLowerCase() === f ||
    p.processName.toLowerCase() === f ||
    p.processName.toLowerCase() === `${f}.exe`
  );
}

function table(kind: Kind, rows: readonly Row[], long: boolean): string {
  switch (kind) {
    case 'session':
      return formatSessionTable(rows as Session[]);
    case 'user':
      return formatUserTable(rows as DetailedSession[], { long });
    case 'process':
      return formatProcessTable(rows as SessionProcess[], undefined, long);
  }
}
