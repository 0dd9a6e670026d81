/**
 * wts-logoff: logoff.exe's grammar and behaviour, plus /all (KB 259436 in one safe command).
 */
import type { LogoffOutcome } from '../api/types';
import type { Wts } from '../api/wts';
import { normalizeServerName, parseTarget } from '../api/validate';
import { serverLabel } from '../errors';
import { flag, parseArgs, UsageError, value, values, type ParsedArgs, type SwitchSpec } from './argv';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCommand, wtsFor, type CliIo } from './common';
import { formatOutcome, outcomeJson, planLine, summarize, who } from './format';

const COMMAND = 'wts-logoff';

export const LOGOFF_SWITCHES: readonly SwitchSpec[] = [
  { name: 'server', aliases: ['server'], value: true },
  { name: 'verbose', aliases: ['v', 'verbose'] },
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'all', aliases: ['all'] },
  { name: 'state', aliases: ['state'], value: true, repeat: true },
  { name: 'user', aliases: ['user'], value: true },
  { name: 'dryRun', aliases: ['dry-run', 'dryrun', 'whatif'] },
  { name: 'yes', aliases: ['yes', 'y'] },
  { name: 'json', aliases: ['json'] },
  { name: 'noWait', aliases: ['no-wait', 'nowait'] },
  { name: 'timeout', aliases: ['timeout'], value: true },
  { name: 'simulate', aliases: ['simulate'], value: true },
];

export const LOGOFF_HELP = `Logs off a user from a Remote Desktop session and deletes the session.

wts-logoff [SessionID | SessionName] [/server:ServerName] [/v]
wts-logoff /all [/server:ServerName] [--state STATE] [--user PATTERN] [--dry-run] [--yes]

  SessionID          The ID of the session to log off.
  SessionName        The name of the session (it must be active), e.g. RDP-Tcp#3.
                     No session: log off your own session.
  /server:ServerName The server (default: this one). Also --server NAME.
  /v                 Say what is being done.
  /all               Log off every user on the server except the console,
                     services, listeners and your own session.
  --state STATE      With /all: only sessions in this state (Active, Disc, ...;
                     a comma list or repeated).
  --user PATTERN     With /all: only users matching the wildcard (temp*, CORP\\*).
  --dry-run          With /all: show who would be logged off, log off nobody.
  --yes              With /all: do not ask for confirmation (required when no
                     one is at a terminal to answer).
  --no-wait          Do not wait until the session is gone.
  --timeout SECONDS  How long to wait for each logoff (default 60).
  --json             Machine-readable output (JSON; one line per session with /all).
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
  /?                 This help.

The console session is never logged off, except your own. Logging off other users
needs Full Control permission. Logging off without warning loses their unsaved work.
Exit codes: 0 success, 1 an operation failed, 2 bad usage.
`;

interface LogoffCommand {
  readonly target: string | undefined;
  readonly server: string | undefined;
  readonly verbose: boolean;
  readonly json: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number | undefined;
}

/** Checks the command line completely before anything is called. */
export function checkLogoffArgs(args: ParsedArgs): LogoffCommand {
  if (args.positionals.length > 1) {
    throw new UsageError(`Only one session may be given; got ${args.positionals.map((p) => `'${p}'`).join(' and ')}.`);
  }
  const target = args.positionals[0];
  if (flag(args, 'all') && target !== undefined) {
    throw new UsageError(`/all logs off every session; it cannot be combined with a session ('${target}').`);
  }
  if (!flag(args, 'all')) {
    for (const name of ['state', 'user', 'dryRun', 'yes'] as const) {
      if (args.switches[name] !== undefined) throw new UsageError(`--${name === 'dryRun' ? 'dry-run' : name} goes with /all.`);
    }
  }
  if (target !== undefined) parseTarget(target);
  const serverText = value(args, 'server');
  const server = serverText === undefined ? undefined : normalizeServerName(serverText, '/server');
  const timeoutText = value(args, 'timeout');
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText) || !(seconds <= 2_000_000)) {
      throw new UsageError(`--timeout takes seconds (a number from 0 to 2000000), got '${timeoutText}'.`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  return {
    target,
    server,
    verbose: flag(args, 'verbose'),
    json: flag(args, 'json'),
    wait: !flag(args, 'noWait'),
    timeoutMs,
  };
}

export async function logoffMain(argv: readonly string[], io: CliIo): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, io, () => verbose, async () => {
    const args = parseArgs(argv, LOGOFF_SWITCHES);
    if (flag(args, 'help')) {
      io.out(LOGOFF_HELP);
      return EXIT_OK;
    }
    const cmd = checkLogoffArgs(args);
    verbose = cmd.verbose;
    const waitOptions = { wait: cmd.wait, ...(cmd.timeoutMs === undefined ? {} : { timeoutMs: cmd.timeoutMs }) };
    const serverOption = cmd.server === undefined ? {} : { server: cmd.server };
    if (flag(args, 'all')) {
      const states = values(args, 'state');
      const user = value(args, 'user');
      const filter = { ...(states ? { state: states as never } : {}), ...(user === undefined ? {} : { user }) };
      const wts = wtsFor(value(args, 'simulate'));
      return logoffAllCommand(wts, io, cmd, { ...serverOption, ...filter, ...waitOptions }, flag(args, 'dryRun'), flag(args, 'yes'));
    }
    const wts = wtsFor(value(args, 'simulate'));
    const target = cmd.target === undefined ? undefined : cmd.target;
    if (cmd.verbose && !cmd.json) {
      io.err(`Logging off ${target === undefined ? 'your own session' : `session ${target}`} on ${serverLabel(cmd.server ?? '')}...\n`);
    }
    const outcome = await wts.logoff(target, { ...serverOption, ...waitOptions });
    if (cmd.json) io.out(`${JSON.stringify(outcomeJson(outcome))}\n`);
    else if (cmd.verbose) io.err(`${formatOutcome(outcome)}\n`);
    return EXIT_OK;
  });
}

async function logoffAllCommand(
  wts: Wts,
  io: CliIo,
  cmd: LogoffCommand,
  options: Parameters<Wts['logoffAll']>[0] & object,
  dryRun: boolean,
  yes: boolean,
): Promise<number> {
  const print = (outcomes: readonly LogoffOutcome[]) => {
    for (const o of outcomes) io.out(cmd.json ? `${JSON.stringify(outcomeJson(o))}\n` : `${formatOutcome(o)}\n`);
    if (!cmd.json) io.out(`${summarize(outcomes)}\n`);
  };
  const plan = await wts.logoffAll({ ...options, dryRun: true });
  const count = plan.filter((o) => o.status === 'wouldLogOff').length;
  if (dryRun || count === 0) {
    print(plan);
    return EXIT_OK;
  }
  if (!yes) {
    const question = `${planLine(plan, cmd.server ?? '')}\nTheir programs will be closed and unsaved work lost.`;
    if (!io.interactive) {
      io.err(
        `${COMMAND}: ${count} session${count === 1 ? '' : 's'} would be logged off; nobody is at a terminal to confirm. ` +
          'Add --yes to go ahead, or --dry-run to see the plan.\n',
      );
      return EXIT_USAGE;
    }
    if (!(await io.confirm(question))) {
      io.err('Nothing was logged off.\n');
      return EXIT_FAILED;
    }
  }
  if (cmd.verbose && !cmd.json) {
    for (const o of plan) if (o.status === 'wouldLogOff') io.err(`Logging off session ${o.session.id} (${who(o.session)})...\n`);
  }
  const outcomes = await wts.logoffAll(options);
  print(outcomes);
  return outcomes.some((o) => o.status === 'failed') ? EXIT_FAILED : EXIT_OK;
}
