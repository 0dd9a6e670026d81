/**
 * wts-disconnect: tsdiscon over WTSDisconnectSession; /all disconnects everyone matching the
 * filters. Disconnected users keep their programs and can reconnect.
 */
import type { DisconnectOutcome } from '../api/disconnect';
import { serverLabel } from '../errors';
import { flag, parseArgs, value, type SwitchSpec } from './argv';
import { runBulk } from './bulk';
import { DEBUG_HELP, EXIT_CODES_HELP, EXIT_OK, interruptible, lazyWts, runCommand, type CliDeps, type CliIo } from './common';
import { formatOutcome, outcomeJson } from './format';
import { FILTER_SWITCHES, filtersOf, SERVER_SWITCHES, serversOf, sessionOrAll } from './shared';

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

wts-disconnect [SessionID | SessionName] [/server:ServerName] [/v]
wts-disconnect /all [/server:ServerName | /servers:A,B,C] [filters] [--dry-run] [--yes] [--json]

  SessionID | SessionName   The session (a name must be active); none: your own.
  /server:ServerName The server (default: this one).
  /all               Every connected session but the console, services, listeners
                     and yours; filters: --state, --user, --domain, --client,
                     --idle '>2h'. Asks first on a terminal; --yes otherwise.
  /v                 Say what is being done.
  --no-wait          Do not wait until the session shows as disconnected.
  --json             Machine-readable output.
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}

${EXIT_CODES_HELP}
`;

export async function disconnectMain(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, argv, io, () => verbose, async () => {
    const args = parseArgs(argv, DISCONNECT_SWITCHES);
    if (flag(args, 'help')) {
      io.out(DISCONNECT_HELP);
      return EXIT_OK;
    }
    verbose = flag(args, 'verbose');
    const { target, all } = sessionOrAll(args, 'disconnects', []);
    const where = serversOf(args);
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
        verb: 'Disconnect',
        consequence: 'Their programs keep running; they can reconnect.',
        call: (servers, { dryRun, onEvent, signal, plan }) =>
          wts().disconnectAll({ ...filters, wait, servers, dryRun, onEvent, signal, ...(plan ? { plan } : {}) } as never),
      });
    }
    const server = where.kind === 'one' ? where.server : undefined;
    if (verbose && !json) io.err(`Disconnecting ${target === undefined ? 'your own session' : `session ${target}`} on ${serverLabel(server ?? '')}...\n`);
    const result = await interruptible(COMMAND, io, (signal) => wts().disconnect(target, { wait, signal, ...(server === undefined ? {} : { server }) }));
    if (typeof result === 'number') return result;
    if (json) io.out(`${JSON.stringify(outcomeJson(result))}\n`);
    else if (verbose) io.err(`${formatOutcome(result)}\n`);
    return EXIT_OK;
  });
}
