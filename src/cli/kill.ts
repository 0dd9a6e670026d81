/**
 * wts-kill: tskill over terminateProcess. A PID or a process name, in your own session, the one
 * given with /id, or all (/a). The processes are listed first (a dry run); more than one is ended
 * only after a question on a terminal (or --yes); then exactly that plan is carried out, each
 * process re-checked right before it is ended.
 */
import type { TerminateOutcome } from '../api/terminate';
import { isWtsError, serverLabel } from '../errors';
import { flag, parseArgs, UsageError, value, type SwitchSpec } from './argv';
import {
  askFirst,
  DEBUG_HELP,
  EXIT_CODES_HELP,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  interruptible,
  JSON_CONTRACT_HELP,
  jsonFailure,
  lazyWts,
  reportedOrLost,
  runCommand,
  type CliDeps,
  type CliIo,
} from './common';
import { errorText, oneLine } from './format';
import { cliErrorObject, errorObject, jsonLine, JSON_SCHEMA } from './json';
import { printable } from './text';
import { helpOrVersion, SERVER_SWITCHES } from './shared';
import { VERSION_HELP } from './version';

const COMMAND = 'wts-kill';

/** Every command's server switches but those for many servers (tskill works on one) and progress. */
const ONE_SERVER = new Set(['server', 'simulate', 'debug', 'version']);

export const KILL_SWITCHES: readonly SwitchSpec[] = [
  ...SERVER_SWITCHES.filter((s) => ONE_SERVER.has(s.name)),
  { name: 'id', aliases: ['id'], value: true },
  { name: 'all', aliases: ['a', 'all'] },
  { name: 'allowServices', aliases: ['allow-services', 'allowservices'] },
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'verbose', aliases: ['v', 'verbose'] },
  { name: 'dryRun', aliases: ['dry-run', 'dryrun'] },
  { name: 'yes', aliases: ['yes', 'y'] },
  { name: 'json', aliases: ['json'] },
];

export const KILL_HELP = `Ends a process (tskill), by its ID or by its name.

wts-kill {ProcessID | ProcessName} [/server:ServerName] [/id:SessionID | /a] [/v]
         [--dry-run] [--yes] [--json] [--allow-services]

  ProcessID          The process to end (in any session but Services; with /id,
                     it must be in that session).
  ProcessName        Every process of that name in the session: your own, the one
                     given with /id, or all (/a). Without case; .exe may be left
                     out; * and ? are wildcards.
  /server:ServerName The server (default: this one). With a name, give /id or /a.
  /id:SessionID      The session whose processes end.
  /a                 Every session (not Services, session 0).
  --allow-services   Also processes of the Services session (session 0).
  /v                 Say what is being done, and list the matches left alone.
  --dry-run          List what would be ended; end nothing.
  --yes              End more than one process without asking.
  --json             JSON lines: an outcome per process, then a summary.
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}
${VERSION_HELP}
  /?                 This help.

Each process is looked up again right before it is ended, and left alone if its
ID now belongs to another program (Windows reuses process IDs). Unsaved work in
an ended program is lost.

${JSON_CONTRACT_HELP}
${EXIT_CODES_HELP}
`;

/** What the text report says of one process. */
export function formatProcessOutcome(o: TerminateOutcome): string {
  const p = o.process;
  const head = `process ${p.processId} (${printable(p.processName)}) in session ${p.sessionId}${p.server ? ` on ${printable(p.server)}` : ''}`;
  switch (o.status) {
    case 'terminated':
      return `Ended ${head}.`;
    case 'wouldTerminate':
      return `Would end ${head}.`;
    case 'skipped':
      return `Skipped ${head}: ${oneLine(o.message)}.`;
    case 'failed':
      return `Could not end ${head}: ${errorText(o.error)}`;
  }
}

/** The counts by status (every status, 0 included). */
function counts(outcomes: readonly TerminateOutcome[]): Record<TerminateOutcome['status'], number> {
  const c = { terminated: 0, wouldTerminate: 0, skipped: 0, failed: 0 };
  for (const o of outcomes) c[o.status]++;
  return c;
}

export function summarizeProcesses(outcomes: readonly TerminateOutcome[], dryRun: boolean): string {
  const c = counts(outcomes);
  return dryRun ? `${c.wouldTerminate} would be ended, ${c.skipped} skipped.` : `${c.terminated} ended, ${c.skipped} skipped, ${c.failed} failed.`;
}

/** One outcome as a JSON document (docs/json.md): the process, and the error as an error object. */
export function processOutcomeDocument(o: TerminateOutcome): Record<string, unknown> {
  const { status, process, ...rest } = o;
  return { schema: JSON_SCHEMA, type: 'outcome', status, server: process.server, process, ...rest, ...(o.status === 'failed' ? { error: errorObject(o.error) } : {}) };
}

function target(args: ReturnType<typeof parseArgs>): { pid: number; session?: number } | { name: string; session?: number; all?: boolean } {
  if (args.positionals.length !== 1) {
    throw new UsageError(args.positionals.length === 0 ? 'Give the process: its ID or its name.' : `Only one process may be given; got ${args.positionals.map((p) => `'${p}'`).join(' and ')}.`);
  }
  const what = args.positionals[0]!;
  const id = value(args, 'id');
  const all = flag(args, 'all');
  if (id !== undefined && all) throw new UsageError('Give /id or /a, not both.');
  let session: number | undefined;
  if (id !== undefined) {
    if (!/^\d+$/.test(id.trim())) throw new UsageError(`/id takes a session ID (a number), not '${id}'.`);
    session = Number(id.trim());
  }
  if (!/^\d+$/.test(what.trim()) && value(args, 'server') !== undefined && session === undefined && !all) {
    throw new UsageError('With /server, a process name needs /id:SessionID or /a: there is no "your own session" on another server.');
  }
  if (/^\d+$/.test(what.trim())) {
    if (all) throw new UsageError('/a goes with a process name; a process ID names one process.');
    return { pid: Number(what.trim()), ...(session === undefined ? {} : { session }) };
  }
  return { name: what, ...(session === undefined ? {} : { session }), ...(all ? { all } : {}) };
}

export async function killMain(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, argv, io, () => verbose, async () => {
    const args = parseArgs(argv, KILL_SWITCHES);
    const early = helpOrVersion(args, io, KILL_HELP);
    if (early !== undefined) return early;
    verbose = flag(args, 'verbose');
    const json = flag(args, 'json');
    const dryRun = flag(args, 'dryRun');
    const t = target(args);
    const server = value(args, 'server');
    const base = { ...(server === undefined ? {} : { server }), ...(flag(args, 'allowServices') ? { allowServices: true } : {}) };
    const wts = lazyWts(value(args, 'simulate'), deps);
    const where = printable(serverLabel(server ?? ''));

    if (verbose && !json) io.err(`Looking for ${'pid' in t ? `process ${t.pid}` : `'${printable(t.name)}'`} on ${where}...\n`);
    const plan = await interruptible(COMMAND, io, (signal) => wts().terminateProcess(t, { ...base, dryRun: true, signal }), json, true);
    if (typeof plan === 'number') return plan;
    const chosen = plan.filter((o) => o.status === 'wouldTerminate');

    const report = (outcomes: readonly TerminateOutcome[], asPlan: boolean, interrupted: boolean): number => {
      const c = counts(outcomes);
      const code = interrupted ? EXIT_INTERRUPTED : asPlan ? (c.failed > 0 ? EXIT_FAILED : EXIT_OK) : c.failed > 0 || c.terminated === 0 ? EXIT_FAILED : EXIT_OK;
      if (json) {
        for (const o of outcomes) io.out(jsonLine(processOutcomeDocument(o)));
        io.out(jsonLine({ schema: JSON_SCHEMA, type: 'summary', dryRun: asPlan, counts: c, serversFailed: 0, serversStopped: 0, interrupted, exitCode: code }));
      } else {
        for (const o of outcomes) {
          // Matches in other sessions are left alone as tskill leaves them: listed with /v.
          if (!verbose && o.status === 'skipped' && o.reason === 'otherSession') continue;
          io.out(`${formatProcessOutcome(o)}\n`);
        }
        const hidden = verbose ? 0 : outcomes.filter((o) => o.status === 'skipped' && o.reason === 'otherSession').length;
        const note = hidden > 0 ? ` (${hidden} in other sessions, left alone: /v lists them, /a ends them too)` : '';
        io.out(`${summarizeProcesses(outcomes, asPlan).replace(/\.$/, `${note}.`)}\n`);
      }
      if (interrupted) io.err(`${COMMAND}: interrupted (Ctrl+C): no process was ended after that. ${summarizeProcesses(outcomes, false)}\n`);
      return interrupted ? code : reportedOrLost(io, COMMAND, code, () => summarizeProcesses(outcomes, asPlan));
    };

    if (dryRun) return report(plan, true, false);
    // Nothing may be ended (every match refused): the refusals are the report, and it failed.
    if (chosen.length === 0) return report(plan, false, false);
    if (chosen.length > 1 && !flag(args, 'yes')) {
      if (!io.interactive) {
        const message = `this would end ${chosen.length} processes and asks first, and nobody is at a terminal to answer. Add --yes, or --dry-run to see them. Nothing was ended.`;
        io.err(`${COMMAND}: ${message}\n`);
        jsonFailure(io, json, EXIT_FAILED, cliErrorObject('CancelledError', 'E_CANCELLED', message));
        return EXIT_FAILED;
      }
      const list = chosen.map((o) => `${o.process.processId} ${printable(o.process.processName)} (session ${o.process.sessionId})`).join(', ');
      const refused = await askFirst(io, json, `End ${chosen.length} processes on ${where}: ${list}?\nUnsaved work in these programs is lost.`);
      if (refused !== undefined) return refused;
    }
    // Exactly the plan: a process whose ID now holds another program is left alone.
    const interrupt = new AbortController();
    const stop = io.onInterrupt?.(() => {
      if (interrupt.signal.aborted) return;
      interrupt.abort(new Error('interrupted'));
      io.err(`${COMMAND}: interrupted; no new process is ended. What was done so far follows.\n`);
    });
    try {
      if (verbose && !json) io.err(`Ending ${chosen.length} process${chosen.length === 1 ? '' : 'es'} on ${where}...\n`);
      let done: readonly TerminateOutcome[];
      try {
        done = await wts().terminateProcess(t, { ...base, plan, signal: interrupt.signal });
      } catch (error) {
        // Stopped before the processes were listed again: nothing was ended.
        if (!interrupt.signal.aborted || !isWtsError(error) || error.code !== 'E_ABORTED') throw error;
        // "What was done so far follows": nothing.
        if (!json) io.err(`${COMMAND}: stopped before any process was ended; nothing was done.\n`);
        jsonFailure(io, json, EXIT_INTERRUPTED, errorObject(error));
        return EXIT_INTERRUPTED;
      }
      return report(done, false, interrupt.signal.aborted);
    } finally {
      stop?.();
    }
  });
}
