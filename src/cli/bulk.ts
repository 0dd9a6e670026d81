/**
 * The bulk commands' common run: plan (a dry run), confirm, act, report — over one server or
 * many, with a progress line on a terminal and JSON lines for scripts.
 */
import type { FarmEvent, FarmResult } from '../api/farm';
import { serverLabel } from '../errors';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './common';
import { formatOutcome, outcomeJson, planLine, summarize, type AnyOutcome } from './format';
import { failureJson, failureLine, Progress, type Target } from './shared';

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
  /** The operation over these servers ('localhost' = this one), as a dry run or for real. */
  readonly call: (servers: readonly string[], dryRun: boolean, onEvent: (e: FarmEvent<O>) => void) => Promise<FarmResult<O>>;
}

export async function runBulk<O extends AnyOutcome>(io: CliIo, run: BulkRun<O>): Promise<number> {
  const servers = run.target.kind === 'many' ? run.target.servers : [run.target.server ?? 'localhost'];
  const names = run.target.kind === 'many' ? run.target.servers : [run.target.server ?? ''];

  const execute = async (dryRun: boolean): Promise<FarmResult<O>> => {
    const progress = new Progress(io.err, io.progress && !run.json, servers.length, dryRun ? 'sessions checked' : 'sessions done');
    const onEvent = (e: FarmEvent<O>) => {
      progress.onEvent(e);
      // Scripts get a JSON line per result as it arrives (not for the plan behind a question).
      if (run.json && dryRun === run.dryRun) {
        if (e.type === 'result') io.out(`${JSON.stringify(outcomeJson(e.result))}\n`);
        if (e.type === 'serverFailed') io.out(`${JSON.stringify(failureJson({ server: e.server, error: e.error }))}\n`);
      }
    };
    try {
      return await run.call(servers, dryRun, onEvent);
    } finally {
      progress.done();
    }
  };

  const report = (result: FarmResult<O>): number => {
    if (!run.json) {
      for (const o of result.results) {
        if (run.quietFiltered && !run.verbose && o.status === 'skipped' && (o.reason === 'filtered' || o.reason === 'noUser')) continue;
        io.out(`${formatOutcome(o)}\n`);
      }
      io.out(`${summarize(result.results, result.failures.length)}\n`);
    }
    for (const f of result.failures) io.err(`${failureLine(f)}\n`);
    return result.failures.length > 0 || result.results.some((o) => o.status === 'failed') ? EXIT_FAILED : EXIT_OK;
  };

  if (run.dryRun || !run.confirm || run.yes) return report(await execute(run.dryRun));

  const plan = await execute(true);
  const count = plan.results.filter((o) => o.status.startsWith('would')).length;
  if (count === 0) return report(plan);
  const question = `${planLine(plan.results, run.verb, names)}\n${run.consequence}`;
  if (!io.interactive) {
    io.err(
      `${run.command}: ${count} session${count === 1 ? '' : 's'} would be affected on ${
        names.length === 1 ? serverLabel(names[0]) : `${names.length} servers`
      }; nobody is at a terminal to confirm. Add --yes to go ahead, or --dry-run to see the plan.\n`,
    );
    for (const f of plan.failures) io.err(`${failureLine(f)}\n`);
    return EXIT_USAGE;
  }
  for (const f of plan.failures) io.err(`${failureLine(f)}\n`);
  if (!(await io.confirm(question))) {
    io.err('Nothing was done.\n');
    return EXIT_FAILED;
  }
  return report(await execute(false));
}
