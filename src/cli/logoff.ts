/**
 * wts-logoff: logoff.exe's grammar and behaviour, plus /all (KB 259436 in one safe command).
 */
import type { LogoffOutcome } from '../api/types';
import { serverLabel } from '../errors';
import { flag, parseArgs, UsageError, value, type ParsedArgs, type SwitchSpec } from './argv';
import { runBulk } from './bulk';
import { DEBUG_HELP, EXIT_CODES_HELP, EXIT_OK, interruptible, JSON_CONTRACT_HELP, lazyWts, reportedOrLost, runCommand, type CliDeps, type CliIo } from './common';
import { formatOutcome } from './format';
import { jsonLine, outcomeDocument } from './json';
import { printable } from './text';
import { checkOwnIsLocal, FILTER_SWITCHES, filtersOf, helpOrVersion, SERVER_SWITCHES, serversOf, sessionOrAll, type Target } from './shared';
import { VERSION_HELP } from './version';

const COMMAND = 'wts-logoff';

export const LOGOFF_SWITCHES: readonly SwitchSpec[] = [
  ...SERVER_SWITCHES,
  ...FILTER_SWITCHES,
  { name: 'verbose', aliases: ['v', 'verbose'] },
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'all', aliases: ['all'] },
  { name: 'dryRun', aliases: ['dry-run', 'dryrun', 'whatif'] },
  { name: 'yes', aliases: ['yes', 'y'] },
  { name: 'json', aliases: ['json'] },
  { name: 'noWait', aliases: ['no-wait', 'nowait'] },
  { name: 'timeout', aliases: ['timeout'], value: true },
  { name: 'warn', aliases: ['warn'], value: true },
  { name: 'grace', aliases: ['grace'], value: true },
];

export const LOGOFF_HELP = `Logs off a user from a Remote Desktop session and deletes the session.

wts-logoff [SessionID | SessionName] [/server:ServerName] [/v] [--json]
wts-logoff /all [/server:ServerName | /servers:A,B,C | /servers:@FILE | /servers:-] [filters]
                [--warn TEXT [--grace SECONDS]] [--dry-run] [--yes] [--json] [--no-progress]

  SessionID          The ID of the session to log off.
  SessionName        The name of the session (it must be active), e.g. RDP-Tcp#3.
                     No session: log off your own session.
  /server:ServerName The server (default: this one). Also --server NAME.
  /v                 Say what is being done.
  /all               Log off every user on the server except the console,
                     services, listeners and your own session. On a terminal it
                     shows the plan, asks, and then acts only on the sessions shown.
  /servers:A,B,C     With /all: these servers (8 at a time); /servers:@FILE or
                     --servers-file FILE reads names from a file (one a line, or
                     comma or space separated; # comments); /servers:- or
                     --servers-file - from standard input (then --yes or --dry-run:
                     the question cannot be answered there).
  --state STATE      With /all: only sessions in this state (Active, Disc, ...;
                     a comma list or repeated).
  --user PATTERN     With /all: only users matching the wildcard (temp*, CORP\\*).
  --domain PATTERN   With /all: only users of matching domains.
  --client PATTERN   With /all: only sessions from matching client computers.
  --idle '>2h'       With /all: only sessions idle longer than that (90m, 1.5h,
                     1h30m, 1d12h, 500ms, or milliseconds: 7200000).
  --disconnected '>1d'  With /all: only sessions disconnected longer than that.
  --locked           With /all: only locked sessions; --unlocked: only sessions
                     not locked. A session whose lock state cannot be read for
                     certain (an unknown flag, or the server's Windows version
                     unknown) matches neither.
  --disconnected-or-locked  With /all: only sessions nobody is at — disconnected,
                     or locked — and the other filters too: --disconnected-or-locked
                     --idle '>2h' is "disconnected or locked, idle over 2 h".
  --warn TEXT        With /all: send TEXT to each user first, wait --grace
                     seconds (default 60), then log off those still there.
  --dry-run          With /all: show who would be logged off, log off nobody.
  --yes              With /all: do not ask for confirmation (required when no
                     one is at a terminal to answer).
  --no-wait          Do not wait until the session is gone.
  --timeout SECONDS  How long to wait for each logoff (default 60).
  --json             JSON lines: an outcome per session, then (with /all) a summary.
  --no-progress      With /all: no progress line on stderr (none either with
                     TERM=dumb or CI set).
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}
${VERSION_HELP}
  /?                 This help.

The console session is never logged off, except your own. Logging off other users
needs Full Control permission. Logging off without warning loses their unsaved work.
${JSON_CONTRACT_HELP}
${EXIT_CODES_HELP}
`;

interface LogoffCommand {
  readonly target: string | undefined;
  readonly where: Target;
  readonly verbose: boolean;
  readonly json: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number | undefined;
}

/** Checks the command line completely before anything is called (a server list on standard input is read). */
export function checkLogoffArgs(args: ParsedArgs, readStdin?: () => string): LogoffCommand {
  const { target, all } = sessionOrAll(args, 'logs off', ['warn', 'grace']);
  const asks = all && !flag(args, 'yes') && !flag(args, 'dryRun');
  const where = serversOf(args, { asks, ...(readStdin ? { readStdin } : {}) });
  const timeoutText = value(args, 'timeout');
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText) || !(seconds <= 2_000_000)) {
      throw new UsageError(`--timeout takes seconds (a number from 0 to 2000000), got '${timeoutText}'.`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  if (value(args, 'grace') !== undefined && value(args, 'warn') === undefined) throw new UsageError('--grace goes with --warn.');
  return {
    target,
    where,
    verbose: flag(args, 'verbose'),
    json: flag(args, 'json'),
    wait: !flag(args, 'noWait'),
    timeoutMs,
  };
}

export async function logoffMain(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, argv, io, () => verbose, async () => {
    const args = parseArgs(argv, LOGOFF_SWITCHES);
    const early = helpOrVersion(args, io, LOGOFF_HELP);
    if (early !== undefined) return early;
    const cmd = checkLogoffArgs(args, io.readStdin);
    verbose = cmd.verbose;
    const waitOptions = { wait: cmd.wait, ...(cmd.timeoutMs === undefined ? {} : { timeoutMs: cmd.timeoutMs }) };
    const server = cmd.where.kind === 'one' ? cmd.where.server : undefined;
    const serverOption = server === undefined ? {} : { server };
    if (flag(args, 'all')) {
      const filters = filtersOf(args);
      const warn = warnOf(args);
      const wts = lazyWts(value(args, 'simulate'), deps);
      return runBulk<LogoffOutcome>(io, {
        command: COMMAND,
        target: cmd.where,
        json: cmd.json,
        verbose: cmd.verbose,
        dryRun: flag(args, 'dryRun'),
        yes: flag(args, 'yes'),
        confirm: true,
        noProgress: flag(args, 'noProgress'),
        verb: 'Log off',
        consequence: warn
          ? `Each user is warned first and logged off ${warn.graceSeconds} s later; unsaved work is then lost.`
          : 'Their programs will be closed and unsaved work lost.',
        // With --warn, the plan is also who gets the warning: nobody outside it is warned or logged off.
        call: (servers, { dryRun, onEvent, signal, plan }) =>
          wts().logoffAll({ ...filters, ...waitOptions, ...(warn ? { warn } : {}), servers, dryRun, onEvent, signal, ...(plan ? { plan } : {}) } as never),
      });
    }
    const wts = lazyWts(value(args, 'simulate'), deps)();
    const target = cmd.target === undefined ? undefined : cmd.target;
    checkOwnIsLocal(target, server);
    const outcome = await interruptible(COMMAND, io, (signal) => {
      // Said once Ctrl+C is handled: from here on, an interrupt is reported, never silent.
      if (cmd.verbose && !cmd.json) {
        io.err(`Logging off ${target === undefined ? 'your own session' : `session ${printable(target)}`} on ${printable(serverLabel(server ?? ''))}...\n`);
      }
      return wts.logoff(target, { ...serverOption, ...waitOptions, signal });
    }, cmd.json);
    if (typeof outcome === 'number') return outcome;
    if (cmd.json) io.out(jsonLine(outcomeDocument(outcome)));
    else if (cmd.verbose) io.err(`${formatOutcome(outcome)}\n`);
    return reportedOrLost(io, COMMAND, EXIT_OK, () => formatOutcome(outcome));
  });
}

function warnOf(args: ParsedArgs): { text: string; graceSeconds: number } | undefined {
  const text = value(args, 'warn');
  if (text === undefined) return undefined;
  const graceText = value(args, 'grace') ?? '60';
  const grace = Number(graceText);
  if (!/^\d+(\.\d+)?$/.test(graceText) || grace > 86_400) throw new UsageError(`--grace takes seconds (0 to 86400), got '${graceText}'.`);
  return { text, graceSeconds: grace };
}
