/**
 * The bulk commands' common run: plan (a dry run), confirm, act on exactly that plan, report —
 * over one server or many, with a progress line on a terminal and JSON lines for scripts (an
 * outcome document per session as it is settled, a serverFailed document per failed server, and
 * a summary document last; docs/json.md).
 */
import { anySignal, type FarmEvent, type FarmResult } from '../api/farm';
import { askFirst, CANCELLED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, jsonFailure, outputLoss, type CliIo } from './common';
import { formatOutcome, planLine, summarize, type AnyOutcome } from './format';
import { cliErrorObject, jsonLine, outcomeDocument, serverFailedDocument, summaryDocument } from './json';
import { failureLine, isStopped, Progress, type Target } from './shared';

/** What runBulk asks of the operation. */
export interface BulkCall<O> {
  readonly dryRun: boolean;
  readonly onEvent: (e: FarmEvent<O>) => void;
  /** Fires when the output is closed: start no new action. */
  readonly signal: AbortSignal | undefined;
  /** The confirmed dry run: act only on its sessions, each only while it is the same logon. */
  readonly plan: FarmResult<O> | undefined;
}

export interface BulkRun<O extends AnyOutcome> {
  readonly command: string;
  readonly target: Target;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly dryRun: boolean;
  /** Skip the confirmation (it is always skipped for a dry run). */
  readonly yes: boolean;
  /** Whether acting needs a confirmation at all (messages do not). */
  readonly confirm: boolean;
  /** 'Log off', 'Disconnect': the question's verb. */
  readonly verb: string;
  /** A sentence added to the question: what the users lose. */
  readonly consequence: string;
  /** Leave sessions the filters left out of the text report, unless verbose (msg.exe is quiet). */
  readonly quietFiltered?: boolean;
  /**
   * Said on stderr, with exit 1, when no session was chosen at all (every outcome a skip for being
   * filtered out or having no user: Services, listeners) and no server failed: `wts-msg NAME` where NAME is no session and no user.
   */
  readonly nothingMatched?: string;
  /**
   * Said on stderr, with exit 1, when sessions were chosen but every one was skipped (it ended, is
   * logging off, or its ID now holds another logon) and no server failed: `wts-msg USER` where
   * nobody got the message although the user had sessions when they were listed.
   */
  readonly nobodyReached?: string;
  /** --no-progress: no progress line, even on a terminal. */
  readonly noProgress?: boolean;
  /**
   * The operation over these servers ('localhost' = this one), as a dry run or for real; pass
   * `signal` and `plan` on as the API's options of the same names.
   */
  readonly call: (servers: readonly string[], options: BulkCall<O>) => Promise<FarmResult<O>>;
}


export async function runBulk<O extends AnyOutcome>(io: CliIo, run: BulkRun<O>): Promise<number> {
  const servers = run.target.kind === 'many' ? run.target.servers : [run.target.server ?? 'localhost'];
  const names = run.target.kind === 'many' ? run.target.servers : [run.target.server ?? ''];
  const asks = run.confirm && !run.dryRun && !run.yes;

  const action = run.verb === 'Log off' ? 'loggedOff' : run.verb === 'Disconnect' ? 'disconnected' : 'sent';
  const cancelled = (exitCode: number, message: string) =>
    jsonFailure(io, run.json, exitCode, cliErrorObject('CancelledError', 'E_CANCELLED', message));

  // Exit 2 means nothing was called: refuse before the dry run, not after it. A server list read
  // from standard input leaves nothing there to answer with (serversOf refuses it first).
  if (asks && (!io.interactive || (run.target.kind === 'many' && run.target.fromStdin))) {
    const why = io.interactive ? 'the server list came from standard input, so the answer cannot' : 'nobody is at a terminal to answer';
    const message = `this asks for confirmation before it acts, and ${why}. Add --yes to go ahead, or --dry-run to see the plan. Nothing was done.`;
    io.err(`${run.command}: ${message}\n`);
    jsonFailure(io, run.json, EXIT_USAGE, cliErrorObject('UsageError', 'E_USAGE', message));
    return EXIT_USAGE;
  }

  const closed = io.outputClosed;
  // Ctrl+C while acting: no new request is started, the requests in flight are reported, exit 130.
  const interrupt = new AbortController();
  const execute = async (dryRun: boolean, plan?: FarmResult<O>): Promise<FarmResult<O>> => {
    const progress = new Progress(io.err, io.progress && !run.json && !run.noProgress, servers.length, dryRun ? 'sessions checked' : 'sessions done');
    const onEvent = (e: FarmEvent<O>) => {
      progress.onEvent(e);
      // Scripts get a JSON line per result as it arrives (not for the plan behind a question).
      if (run.json && dryRun === run.dryRun) {
        if (e.type === 'result') io.out(jsonLine(outcomeDocument(e.result)));
        if (e.type === 'serverFailed') io.out(jsonLine(serverFailedDocument({ server: e.server, error: e.error })));
      }
    };
    const stopOnInterrupt = io.onInterrupt?.(() => {
      if (interrupt.signal.aborted) return;
      interrupt.abort(new Error('interrupted'));
      progress.done();
      io.err(`${run.command}: interrupted; no new action is started. What was done so far follows.\n`);
    });
    const stop = anySignal([closed, interrupt.signal]);
    try {
      return await run.call(servers, { dryRun, onEvent, signal: stop.signal, plan });
    } finally {
      stop.dispose();
      stopOnInterrupt?.();
      progress.done();
    }
  };

  const report = (result: FarmResult<O>, dryRun: boolean, printed: boolean): number => {
    // Closed while the run went on (a JSON line failed): no new action was started after that. Closed
    // only now, as the report is written (text mode writes it at the end): the run was not stopped.
    const closedDuringRun = closed?.aborted === true;
    const stopped = result.failures.filter(isStopped).length;
    const summary = summarize(result.results, result.failures.length - stopped, stopped, action);
    const ok = result.failures.length === 0 && result.results.every((o) => o.status !== 'failed' && o.status !== 'requested');
    const unmatched = run.nothingMatched !== undefined && result.failures.length === 0 && result.results.every(notChosen);
    const unreached = run.nobodyReached !== undefined && !unmatched && result.failures.length === 0 && result.results.every((o) => o.status === 'skipped');
    const code = interrupt.signal.aborted ? EXIT_INTERRUPTED : closed?.aborted || !ok || unmatched || unreached ? EXIT_FAILED : EXIT_OK;
    if (!run.json) {
      for (const o of result.results) {
        if (run.quietFiltered && !run.verbose && isQuietSkip(o)) continue;
        io.out(`${formatOutcome(o)}\n`);
      }
      io.out(`${summary}\n`);
    } else {
      // The plan behind a question that was never asked (nothing to do) was not streamed: its lines now.
      if (!printed) {
        for (const o of result.results) io.out(jsonLine(outcomeDocument(o)));
        for (const f of result.failures) io.out(jsonLine(serverFailedDocument(f)));
      }
      // The last line says the run is over and how it ended: a script that does not see it got a cut output.
      io.out(
        jsonLine(
          summaryDocument({
            action,
            dryRun,
            outcomes: result.results,
            serversFailed: result.failures.length - stopped,
            serversStopped: stopped,
            interrupted: interrupt.signal.aborted,
            exitCode: code,
          }),
        ),
      );
    }
    for (const f of result.failures) io.err(`${failureLine(f)}\n`);
    if (unmatched && !interrupt.signal.aborted && !closed?.aborted) io.err(`${run.command}: ${run.nothingMatched}\n`);
    if (unreached && !interrupt.signal.aborted && !closed?.aborted) io.err(`${run.command}: ${run.nobodyReached}\n`);
    if (interrupt.signal.aborted) {
      io.err(`${run.command}: interrupted (Ctrl+C): no new action was started after that. ${summary}\n`);
    } else if (closed?.aborted) {
      // Nobody reads stdout any more: what was done still has to be said somewhere.
      io.err(
        closedDuringRun
          ? `${run.command}: ${outputLoss(io)}, so no new action was started after that. ${summary}\n`
          : `${run.command}: ${outputLoss(io)}, so the report was not written there. ${summary}\n`,
      );
    }
    // The report itself may be what found the output closed (text mode writes it when the run is
    // over): the run then did not end well either — its report was lost.
    return code === EXIT_OK && closed?.aborted ? EXIT_FAILED : code;
  };

  if (!asks) return report(await execute(run.dryRun), run.dryRun, true);

  const plan = await execute(true);
  if (interrupt.signal.aborted) {
    io.err(CANCELLED);
    cancelled(EXIT_INTERRUPTED, 'Interrupted (Ctrl+C) before the question; nothing was done.');
    return EXIT_INTERRUPTED;
  }
  if (closed?.aborted) {
    io.err(`${run.command}: ${outputLoss(io)} before the question; nothing was done.\n`);
    return EXIT_FAILED;
  }
  const count = plan.results.filter((o) => o.status.startsWith('would')).length;
  // Nothing to ask about: the plan is the report (nothing was done).
  if (count === 0) return report(plan, run.dryRun, false);
  for (const f of plan.failures) io.err(`${failureLine(f)}\n`);
  const refused = await askFirst(io, run.json, `${planLine(plan.results, run.verb, names)}\n${run.consequence}`);
  if (refused !== undefined) return refused;
  if (closed?.aborted) {
    io.err(`${run.command}: ${outputLoss(io)} during the question; nothing was done.\n`);
    return EXIT_FAILED;
  }
  // Exactly what was shown: sessions that appeared since are reported as not in the plan, and a
  // planned session whose ID now belongs to another logon is left alone.
  return report(await execute(false, plan), false, true);
}

/** A skip the commands with `quietFiltered` leave out of the report: not chosen (filtered), or no user. */
function isQuietSkip(o: { readonly status: string; readonly reason?: string }): boolean {
  return o.status === 'skipped' && (o.reason === 'filtered' || o.reason === 'noUser');
}

/** A session the call did not choose at all: filtered out, or one with no user (Services, a listener). */
function notChosen(o: { readonly status: string; readonly reason?: string }): boolean {
  return isQuietSkip(o) || (o.status === 'skipped' && (o.reason === 'services' || o.reason === 'listener'));
}
