import { parseArgs, UsageError } from '../../src/cli/argv';
import { checkLogoffArgs, LOGOFF_SWITCHES } from '../../src/cli/logoff';
import { formatOutcome, formatSessionTable, summarize } from '../../src/cli/format';
import { matchesQuery } from '../../src/cli/query';
import { InvalidArgumentError, type Session } from '../../src/index';

const parse = (...argv: string[]) => parseArgs(argv, LOGOFF_SWITCHES);

describe('logoff.exe grammar', () => {
  test('switches in any case and in both styles', () => {
    for (const argv of [['/SERVER:WF12'], ['/server:WF12'], ['--server', 'WF12'], ['--server=WF12'], ['-server', 'WF12']]) {
      expect(parse(...argv).switches['server']).toBe('WF12');
    }
    expect(parse('/V').switches['verbose']).toBe(true);
    expect(parse('-v').switches['verbose']).toBe(true);
    expect(parse('/?').switches['help']).toBe(true);
    expect(parse('-h').switches['help']).toBe(true);
    expect(parse('--help').switches['help']).toBe(true);
    expect(parse('/ALL').switches['all']).toBe(true);
  });

  test('the target is positional, wherever it stands', () => {
    expect(parse('/server:WF12', 'TERM04', '/v').positionals).toEqual(['TERM04']);
  });

  test('-1 is a (bad) session ID, not a switch', () => {
    const args = parse('-1');
    expect(args.positionals).toEqual(['-1']);
    expect(() => checkLogoffArgs(args)).toThrow(InvalidArgumentError);
  });

  test('repeatable, comma-separated values', () => {
    expect(parse('/all', '--state', 'Disc,Active', '--state=Idle').switches['state']).toEqual(['Disc', 'Active', 'Idle']);
  });

  test.each([
    [['/server:'], /needs a value/],
    [['--server'], /needs a value/],
    [['/bogus'], /Unknown switch '\/bogus'/],
    [['--v=1'], /takes no value/],
  ])('usage errors: %p', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
    expect(() => parse(...argv)).toThrow(UsageError);
  });

  test.each([
    [['3', '4'], /Only one session/],
    [['/all', '3'], /cannot be combined/],
    [['--dry-run'], /goes with \/all/],
    [['/server:WF 12'], /Invalid \/server/],
    [['/server:a/b'], /Invalid \/server/],
    [['12abc'], /neither a session ID/],
    [['4294967296'], /Invalid session ID/],
    [['--timeout', 'soon'], /--timeout takes seconds/],
  ])('checked command lines: %p', (argv, message) => {
    expect(() => checkLogoffArgs(parse(...argv))).toThrow(message);
  });
});

const session = (over: Partial<Session>): Session => ({
  id: 3, name: 'RDP-Tcp#1', state: 'Active', userName: 'bob', domain: 'CORP', server: '', isConsole: false, isCurrent: false, ...over,
});

describe('query session table', () => {
  test('columns, > for your own session, short states, lower-case names', () => {
    const table = formatSessionTable([
      session({ id: 0, name: 'Services', state: 'Disconnected', userName: '', domain: '' }),
      session({ id: 2, name: 'RDP-Tcp#0', userName: 'alice', isCurrent: true }),
      session({ id: 65536, name: 'RDP-Tcp', state: 'Listen', userName: '', domain: '' }),
    ]);
    expect(table).toBe(
      [
        ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
        ' services                                    0  Disc',
        '>rdp-tcp#0         alice                     2  Active',
        ' rdp-tcp                                 65536  Listen',
        '',
      ].join('\n'),
    );
  });

  test('filter matches ID, session name or user name without case', () => {
    const s = session({});
    expect(matchesQuery(s, '3')).toBe(true);
    expect(matchesQuery(s, 'rdp-tcp#1')).toBe(true);
    expect(matchesQuery(s, 'BOB')).toBe(true);
    expect(matchesQuery(s, 'carol')).toBe(false);
  });
});

describe('outcome lines', () => {
  test('one line per outcome and a summary', () => {
    const outcomes = [
      { status: 'loggedOff', session: session({}), confirmed: true, alreadyClosing: false },
      { status: 'skipped', session: session({ id: 1, name: 'Console' }), reason: 'console', message: 'the console session is never logged off' },
    ] as const;
    expect(outcomes.map(formatOutcome)).toEqual([
      'Logged off session 3 (RDP-Tcp#1, CORP\\bob, Active).',
      'Skipped session 1 (Console, CORP\\bob, Active): the console session is never logged off.',
    ]);
    expect(summarize(outcomes)).toBe('1 logged off, 1 skipped, 0 failed.');
  });
});

describe('progress line', () => {
  test('drawn on a terminal only, cleared before the report', () => {
    const { Progress } = require('../../src/cli/shared') as typeof import('../../src/cli/shared');
    const written: string[] = [];
    const p = new Progress((t) => written.push(t), true, 3, 'sessions done');
    p.onEvent({ type: 'serverStarted', server: 'A' });
    p.onEvent({ type: 'result', server: 'A', result: { status: 'loggedOff' } });
    p.onEvent({ type: 'result', server: 'A', result: { status: 'failed' } });
    p.onEvent({ type: 'serverDone', server: 'A', count: 2 });
    p.onEvent({ type: 'serverFailed', server: 'B', error: new Error('x') as never });
    p.done();
    expect(written[written.length - 2]).toBe('\r\x1b[K2/3 servers, 2 sessions done, 2 failed');
    expect(written[written.length - 1]).toBe('\r\x1b[K');
    const quiet: string[] = [];
    const q = new Progress((t) => quiet.push(t), false, 3, 'sessions done');
    q.onEvent({ type: 'serverDone', server: 'A', count: 0 });
    q.done();
    expect(quiet).toEqual([]);
  });

  test('idle and logon time as quser prints them', () => {
    const { formatIdle, formatLogonTime } = require('../../src/cli/format') as typeof import('../../src/cli/format');
    expect([null, 30_000, 5 * 60_000, 65 * 60_000, (2 * 1440 + 3 * 60 + 4) * 60_000].map(formatIdle)).toEqual(['none', '.', '5', '1:05', '2+03:04']);
    expect(formatLogonTime(new Date(2026, 10, 21, 8, 5))).toBe('11/21/2026 8:05 AM');
    expect(formatLogonTime(new Date(2026, 10, 21, 12, 0))).toBe('11/21/2026 12:00 PM');
    expect(formatLogonTime(new Date(2026, 10, 21, 0, 30))).toBe('11/21/2026 12:30 AM');
  });
});
