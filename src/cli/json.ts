/**
 * The commands' JSON output, one contract for all four (docs/json.md): JSON Lines on stdout,
 * every line one document with `"schema": 1` and a `type`; sessions as the library gives them;
 * errors as `WtsError.toJSON()` gives them, and the commands' own failures in the same shape.
 * Pure.
 */
import type { ServerFailure } from '../api/farm';
import type { SessionEvent } from '../api/watch';
import { isWtsError, type WtsError } from '../errors';
import { causeOf, wasWarned, type AnyOutcome } from './format';

/** The version of the documents' shapes: raised when a field is removed or changes meaning (adding one does not). */
export const JSON_SCHEMA = 1;

/** The error object of every document: `WtsError.toJSON()`, or the same fields for the commands' own failures. */
export interface ErrorObject {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly requests: readonly string[];
  readonly [field: string]: unknown;
}

/**
 * Characters JSON.stringify leaves raw that a terminal would act on (DEL, C1 controls, the
 * bidirectional formatting characters, the line and paragraph separators): written as \uXXXX
 * escapes, which parse back to the same string. C0 controls and lone surrogates JSON.stringify
 * escapes itself.
 */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One document as one line of JSON Lines, newline included. */
export function jsonLine(document: object): string {
  const text = JSON.stringify(document).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${text}\n`;
}

/**
 * An error the library threw, as its own toJSON() gives it (a copy from another build too); one
 * that only wraps a simulated farm's failure to save (the library sees no Win32 code in it) is
 * that failure: `E_SIMULATED_FARM`, with its `path` and `errno`, as the command's own end says it.
 */
export function errorObject(error: WtsError): ErrorObject {
  const farm = simulatedFarmCause(error);
  return farm ? farmErrorObject(farm) : (error.toJSON() as unknown as ErrorObject);
}

/** The simulated farm's failure to save that `error` is or wraps (causeOf), if it is one. */
export function simulatedFarmCause(error: unknown): (Error & { path?: string; code?: string }) | undefined {
  const cause = causeOf(error);
  return cause instanceof Error && cause.name === 'SimulatedFarmError' ? cause : undefined;
}

/** A simulated farm that could not be saved: `E_SIMULATED_FARM`, with its `path` and `errno`. */
export function farmErrorObject(farm: Error & { path?: string; code?: string }): ErrorObject {
  return cliErrorObject('SimulatedFarmError', 'E_SIMULATED_FARM', farm.message, { path: farm.path, errno: farm.code });
}

/** A failure of the command itself (bad usage, a question answered no, a bug), in the same shape. */
export function cliErrorObject(name: string, code: string, message: string, fields: Record<string, unknown> = {}): ErrorObject {
  return { name, code, message, requests: [], ...fields };
}

/** Any error caught: the library's own form, else { name, code, message } with `code` given. */
export function anyErrorObject(error: unknown, code: string): ErrorObject {
  if (isWtsError(error)) return errorObject(error);
  if (error instanceof Error) return cliErrorObject(error.name, code, error.message);
  return cliErrorObject('Error', code, String(error));
}

/** The command's end when it failed: `{ schema, type: 'error', exitCode, error }`. */
export function errorDocument(error: ErrorObject, exitCode: number): Record<string, unknown> {
  return { schema: JSON_SCHEMA, type: 'error', exitCode, error };
}

/** What was done to one session (or would be, in a dry run). */
export function outcomeDocument(outcome: AnyOutcome): Record<string, unknown> {
  const { session, status, ...rest } = outcome;
  const json: Record<string, unknown> = { schema: JSON_SCHEMA, type: 'outcome', status, server: session.server, session, ...rest };
  if (outcome.status === 'failed') json['error'] = errorObject(outcome.error);
  return json;
}

/** A server of a bulk run that failed as a whole (or was stopped: error.code E_ABORTED). */
export function serverFailedDocument(failure: ServerFailure): Record<string, unknown> {
  return { schema: JSON_SCHEMA, type: 'serverFailed', server: failure.server, error: errorObject(failure.error) };
}

/** A server's failure inside a result document: `{ server, error }`. */
export function failureObject(failure: ServerFailure): Record<string, unknown> {
  return { server: failure.server, error: errorObject(failure.error) };
}

/** wts-query's answer: every row found, and every server that failed. */
export function resultDocument(
  type: 'sessions' | 'processes',
  query: string,
  results: readonly unknown[],
  failures: readonly ServerFailure[],
): Record<string, unknown> {
  return { schema: JSON_SCHEMA, type, query, results, failures: failures.map(failureObject) };
}

/** The statuses a bulk command counts: what it does, what it would do, and what every bulk call can report. */
export const SUMMARY_STATUSES: Readonly<Record<string, readonly string[]>> = {
  loggedOff: ['loggedOff', 'wouldLogOff', 'skipped', 'failed', 'requested'],
  disconnected: ['disconnected', 'wouldDisconnect', 'skipped', 'failed', 'requested'],
  sent: ['sent', 'wouldSend', 'skipped', 'failed', 'requested'],
};

export interface SummaryFacts {
  readonly action: 'loggedOff' | 'disconnected' | 'sent';
  readonly dryRun: boolean;
  readonly outcomes: readonly AnyOutcome[];
  readonly serversFailed: number;
  readonly serversStopped: number;
  readonly interrupted: boolean;
  readonly exitCode: number;
}

/** A bulk run's last line: the counts by status (every status of the command, 0 included) and the exit code. */
export function summaryDocument(facts: SummaryFacts): Record<string, unknown> {
  const counts: Record<string, number> = {};
  for (const status of SUMMARY_STATUSES[facts.action] ?? []) counts[status] = 0;
  for (const o of facts.outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  const warned = facts.action === 'loggedOff' ? facts.outcomes.filter((o) => o.status !== 'wouldLogOff' && wasWarned(o)).length : undefined;
  return {
    schema: JSON_SCHEMA,
    type: 'summary',
    dryRun: facts.dryRun,
    counts,
    ...(warned === undefined ? {} : { warned }),
    serversFailed: facts.serversFailed,
    serversStopped: facts.serversStopped,
    interrupted: facts.interrupted,
    exitCode: facts.exitCode,
  };
}

/** One --watch event: the event's own fields (its `type` is the event's), the error as an error object. */
export function eventDocument(event: SessionEvent): Record<string, unknown> {
  if (event.type === 'serverError') {
    return { schema: JSON_SCHEMA, type: event.type, server: event.server, error: errorObject(event.error), attempt: event.attempt, retryInMs: event.retryInMs, at: event.at };
  }
  return { schema: JSON_SCHEMA, ...event };
}
