/**
 * wts-disconnect: tsdiscon over WTSDisconnectSession; /all disconnects everyone matching the
 * filters. Disconnected users keep their programs and can reconnect.
 */
import type { DisconnectOutcome } from '../api/disconnect';
import { serverLabel } from '../errors';
import { flag, parseArgs, value, type SwitchSpec } from './argv';
import { runBulk } from './bulk';
import { DEBUG_HELP, EXIT_CODES_HELP, EXIT_OK, interruptible, JSON_CONTRACT_HELP, lazyWts, reportedOrLost, runCommand, type CliDeps, type CliIo } from './common';
import { formatOutcome } from './format';
import { jsonLine, outcomeDocument } from './json';
import { printable } from './text';
import { checkOwnIsLocal, FILTER_SWITCHES, filtersOf, helpOrVersion, SERVER_SWITCHES, serversOf, sessionOrAll } from './shared';
import { VERSION_HELP } from './version';

const COMMAND = 'wts-disconnect';

export const DISCONNECT_SWITCHES: readonly SwitchSpec[] = [
  ...SERVER_SWITCHES,
  ...FILTER_SWITCHES,
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'verbose', aliases: ['v', 'verbose'] },
  { name: 'all', aliases: ['all'] },
  { name: 'dryRun', aliases: ['dry-run', 'dryrun'] },
  { name: 'yes', aliases: ['yes', 'y'] },
  { name: 'json', aliases: ['json'] },
  { name: 'noWait', aliases: ['no-wait', 'nowait'] },
];

export const DISCONNECT_HELP = `Disconnects a Remote Desktop session; its programs keep running.

wts-disconnect [SessionID | SessionName] [/server:ServerName] [/v] [--json]
wts-disconnect /all [/server:ServerName | /servers:A,B,C | /servers:@FILE | /servers:-] [filters]
                    [--dry-run] [--yes] [--json] [--no-progress]

  SessionID | SessionName   The session (a name must be active); none: your own.
  /server:ServerName The server (default: this one).
  /all               Every connected session but the console, services, listeners
                     and yours; filters: --state, --user, --domain, --client,
                     --idle '>2h' (90m, 1.5h, 1h30m, 1d12h, or milliseconds),
                     --locked / --unlocked (a session whose lock state is not
                     known for certain matches neither), --disconnected-or-locked.
                     Asks first on a terminal; --yes otherwise.
  /servers:A,B,C     With /all: these servers; @FILE or --servers-file FILE: names
                     from a file; /servers:- or --servers-file -: from standard
                     input (then --yes or --dry-run: no question can be answered).
  /v                 Say what is being done.
  --no-wait          Do not wait until the session shows as disconnected.
  --json             JSON lines: an outcome per session, then (with /all) a summary.
  --no-progress      With /all: no progress line on stderr (none either with
                     TERM=dumb or CI set).
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}
${VERSION_HELP}
  /?                 This help.

${JSON_CONTRACT_HELP}
${EXIT_CODES_HELP}
`;

export async function disconnectMain(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, argv, io, () => verbose, async () => {
    const args = parseArgs(argv, DISCONNECT_SWITCHES);
    const early = helpOrVersion(args, io, DISCONNECT_HELP);
    if (early !== undefined) return early;
    verbose = flag(args, 'verbose');
    const { target, all } = sessionOrAll(args, 'disconnects', []);
    const asks = all && !flag(args, 'yes') && !flag(args, 'dryRun');
    const where = serversOf(args, { asks, ...(io.readStdin ? { readStdin: io.readStdin } : {}) });
    const wait = !flag(args, 'noWait');
    const json = flag(args, 'json');
    const wts = lazyWts(value(args, 'simulate'), deps);
    if (all) {
      const filters = filtersOf(args);
      return runBulk<DisconnectOutcome>(io, {
        command: COMMAND,
        target: where,
        json,
        verbose,
        dryRun: flag(args, 'dryRun'),
        yes: flag(args, 'yes'),
        confirm: true,
        noProgress: flag(args, 'noProgress'),
        verb: 'Disconnect',
        consequence: 'Their programs keep running; they can reconnect.',
        call: (servers, { dryRun, onEvent, signal, plan }) =>
          wts().disconnectAll({ ...filters, wait, servers, dryRun, onEvent, signal, ...(plan ? { plan } : {}) } as never),
      });
    }
    const server = where.kind === 'one' ? where.server : undefined;
    checkOwnIsLocal(target, server);
    if (verbose && !json) io.err(`Disconnecting ${target === undefined ? 'your own session' : `session ${printable(target)}`} on ${printable(serverLabel(server ?? ''))}...\n`);
    const result = await interruptible(COMMAND, io, (signal) => wts().disconnect(target, { wait, signal, ...(server === undefined ? {} : { server }) }), json);
    if (typeof result === 'number') return result;
    if (json) io.out(jsonLine(outcomeDocument(result)));
    else if (verbose) io.err(`${formatOutcome(result)}\n`);
    return reportedOrLost(io, COMMAND, EXIT_OK, () => formatOutcome(result));
  });
}
