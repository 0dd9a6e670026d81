/**
 * wts-msg: msg.exe over WTSSendMessageW — to a session, a user's sessions, or everyone (*).
 */
import type { MessageButtons, MessageOutcome } from '../api/message';
import { parseTarget } from '../api/validate';
import { flag, parseArgs, UsageError, value, type SwitchSpec } from './argv';
import { runBulk } from './bulk';
import { DEBUG_HELP, EXIT_CODES_HELP, EXIT_OK, interruptible, JSON_CONTRACT_HELP, lazyWts, reportedOrLost, runCommand, type CliDeps, type CliIo } from './common';
import { who } from './format';
import { printable } from './text';
import { jsonLine, outcomeDocument } from './json';
import { FILTER_SWITCHES, filtersOf, helpOrVersion, SERVER_SWITCHES, serversOf } from './shared';
import { VERSION_HELP } from './version';

const COMMAND = 'wts-msg';

export const MSG_SWITCHES: readonly SwitchSpec[] = [
  ...SERVER_SWITCHES,
  ...FILTER_SWITCHES,
  { name: 'help', aliases: ['?', 'h', 'help'] },
  { name: 'verbose', aliases: ['v', 'verbose'] },
  { name: 'wait', aliases: ['w', 'wait'] },
  { name: 'time', aliases: ['time'], value: true },
  { name: 'title', aliases: ['title'], value: true },
  { name: 'buttons', aliases: ['buttons'], value: true },
  { name: 'json', aliases: ['json'] },
  { name: 'dryRun', aliases: ['dry-run', 'dryrun'] },
];

export const MSG_HELP = `Sends a message to Remote Desktop users.

wts-msg {SessionName | SessionID | UserName | *} [/server:ServerName | /servers:A,B,C]
        [/time:Seconds] [/v] [/w] [--title TEXT] [--buttons OKCancel|YesNo|...] [--json] [message]

  SessionName | SessionID   One session.
  UserName           Every session of that user.
  *                  Every session with a user (filters: --state, --user, --domain,
                     --client, --idle, --disconnected, --locked, --unlocked,
                     --disconnected-or-locked;
                     --dry-run shows who).
  /server:ServerName The server (default: this one); /servers:A,B,C several,
                     /servers:@FILE from a file, /servers:- from standard input
                     (the message must then be on the command line).
  /time:Seconds      Close the message after that long (answer: Timeout).
  /w                 Wait for the answer and print it.
  /v                 Say what is being done.
  --title TEXT       The box's title. --buttons: OK (default), OKCancel,
                     AbortRetryIgnore, YesNoCancel, YesNo, RetryCancel, CancelTryContinue.
  message            The text; without it, read from standard input.
  --json             JSON lines: an outcome per session, then (UserName, *) a summary.
  --no-progress      No progress line on stderr (none either with TERM=dumb or CI set).
  --simulate FILE    Run on a simulated farm file (or set WTS_SESSION_SIMULATE).
${DEBUG_HELP}
${VERSION_HELP}
  /?                 This help.

${JSON_CONTRACT_HELP}
${EXIT_CODES_HELP}
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export async function msgMain(
  argv: readonly string[],
  io: CliIo,
  stdin: () => Promise<string> = readStdin,
  deps: CliDeps = {},
): Promise<number> {
  let verbose = false;
  return runCommand(COMMAND, argv, io, () => verbose, async () => {
    const args = parseArgs(argv, MSG_SWITCHES);
    const early = helpOrVersion(args, io, MSG_HELP);
    if (early !== undefined) return early;
    verbose = flag(args, 'verbose');
    const [who_, ...words] = args.positionals;
    if (who_ === undefined) throw new UsageError('Say who gets the message: a session name or ID, a user name, or *.');
    const where = serversOf(args, io.readStdin ? { readStdin: io.readStdin } : {});
    const serversFromStdin = where.kind === 'many' && where.fromStdin === true;
    const timeText = value(args, 'time');
    if (timeText !== undefined && !/^\d+$/.test(timeText)) throw new UsageError(`/time takes whole seconds, got '${timeText}'.`);
    const buttons = value(args, 'buttons') as MessageButtons | undefined;
    const filters = filtersOf(args);
    const everyone = who_ === '*';
    if (!everyone && Object.keys(filters).length > 0) throw new UsageError('Filters go with * (everyone).');
    if (!everyone && flag(args, 'dryRun')) throw new UsageError('--dry-run goes with * (everyone).');
    // msg.exe takes one user name; Windows user names cannot hold * or ? (they would be taken as a
    // wildcard here, reaching every matching user with no question asked).
    if (!everyone && /[*?]/.test(who_)) {
      throw new UsageError(`'${printable(who_)}' is not a session or a user name (a user name has no * or ?). For every user matching a pattern: ${COMMAND} * --user PATTERN TEXT (--dry-run shows who).`);
    }
    const isSession = !everyone && /^\d+$/.test(who_);
    // A bad session ID (12abc, a sign, too large) is a usage error, before anything else.
    if (!everyone && /^[\d+-]/.test(who_)) parseTarget(who_);
    // A name that cannot be a session's (o'brien, j.doe@corp, svc$) can still be a user's: msg.exe
    // takes any user name.
    const maybeSessionName = !everyone && !isSession && isTarget(who_);
    let text = words.join(' ');
    if (text === '' && serversFromStdin) {
      throw new UsageError('No message: standard input gave the server list (/servers:-), so the message must follow the target on the command line.');
    }
    if (text === '') text = io.interactive ? '' : await stdin();
    if (text.trim() === '') throw new UsageError('No message: give it after the target, or on standard input.');
    const message = {
      text,
      ...(value(args, 'title') === undefined ? {} : { title: value(args, 'title') as string }),
      ...(buttons === undefined ? {} : { buttons }),
      ...(timeText === undefined ? {} : { timeoutSeconds: Number(timeText) }),
      wait: flag(args, 'wait'),
    };
    const wts = lazyWts(value(args, 'simulate'), deps);
    const json = flag(args, 'json');

    // One session, by ID or by name, on one server.
    if (where.kind === 'one' && (isSession || maybeSessionName)) {
      const server = where.server === undefined ? {} : { server: where.server };
      try {
        // Ctrl+C while /w waits for the answer: said (the box was sent, or not), exit 130.
        const sent = await interruptible(COMMAND, io, (signal) => wts().sendMessage(who_, { ...message, ...server, signal }), json);
        if (typeof sent === 'number') return sent;
        const line = `Response from session ${sent.session.id} (${who(sent.session)}): ${sent.response}`;
        if (json) io.out(jsonLine(outcomeDocument(sent)));
        else if (message.wait || verbose) io.out(`${line}\n`);
        return reportedOrLost(io, COMMAND, EXIT_OK, () => line);
      } catch (error) {
        // msg.exe: a name that is no session's is a user name: every session of that user.
        if (isSession || (error as { code?: string }).code !== 'E_NOT_FOUND') throw error;
      }
    } else if (!everyone && isSession) {
      throw new UsageError('A session ID means one server: use /server, or a user name or * with /servers.');
    }
    return runBulk<MessageOutcome>(io, {
      command: COMMAND,
      target: where,
      json,
      verbose,
      dryRun: flag(args, 'dryRun'),
      yes: true,
      confirm: false,
      quietFiltered: true,
      ...(everyone
        ? {}
        : {
            nothingMatched:
              where.kind === 'one'
                ? `no ${maybeSessionName ? 'session or ' : ''}user named '${printable(who_)}': nobody got the message.`
                : `no user named '${printable(who_)}' on any of the servers: nobody got the message. (A session's name or ID names one server's session: give it with /server.)`,
            nobodyReached: `every session of '${printable(who_)}' was skipped (ended, logging off, or another logon by now): nobody got the message.`,
          }),
      noProgress: flag(args, 'noProgress'),
      verb: 'Send a message to',
      consequence: '',
      // No question, so no plan: one enumeration, acted on at once.
      call: (servers, { dryRun, onEvent, signal }) =>
        wts().sendMessageAll({ ...message, ...filters, ...(everyone ? {} : { user: who_ }), servers, dryRun, onEvent, signal } as never),
    });
  });
}

/** Whether `text` can name a session (an ID or a WinStation name), as the library parses targets. */
function isTarget(text: string): boolean {
  try {
    parseTarget(text);
    return true;
  } catch {
    return false;
  }
}
