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
      { status: 'loggedOff', session: session({}), confirmed: true, alreadyClosing: false, requests: ['WTSLogoffSession'] },
      { status: 'skipped', session: session({ id: 1, name: 'Console' }), reason: 'console', message: 'the console session is never logged off', requests: [] },
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

describe('server lists', () => {
  const { serversOf } = require('../../src/cli/shared') as typeof import('../../src/cli/shared');
  const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'wts-pure-'));
  const blank = join(dir, 'blank.txt');
  const names = join(dir, 'names.txt');
  writeFileSync(blank, '# only a comment\n\n');
  writeFileSync(names, 'WF12\n# WF13 retired\n  WF14  # rack 2\n');

  test('a list given with no names in it is a usage error, whatever its form', () => {
    for (const argv of [['/servers:,,'], ['/servers:'], ['--servers', ' , '], [`/servers:@${blank}`], ['--servers-file', blank], [`/servers:WF12,@${blank}`]]) {
      expect(() => serversOf(parse('/all', ...argv))).toThrow(UsageError);
      expect(() => serversOf(parse('/all', ...argv))).toThrow(/is empty.*give at least one server name/);
    }
  });

  test('lists with names: inline, from files, blanks and comments dropped', () => {
    expect(serversOf(parse('/all', '/servers:,WF12,,WF13,'))).toEqual({ kind: 'many', servers: ['WF12', 'WF13'] });
    expect(serversOf(parse('/all', `/servers:TS01,@${names}`))).toEqual({ kind: 'many', servers: ['TS01', 'WF12', 'WF14'] });
    expect(serversOf(parse('/all', '--servers-file', names))).toEqual({ kind: 'many', servers: ['WF12', 'WF14'] });
    expect(serversOf(parse('/all'))).toEqual({ kind: 'one', server: undefined });
    expect(() => serversOf(parse('/all', '/server:A', '/servers:,'))).toThrow(/not both/);
  });

  test('a repeatable switch given with an empty value is still given', () => {
    expect(parse('/servers:').switches['servers']).toEqual([]);
    expect(parse('/servers:,,', '/servers:B').switches['servers']).toEqual(['B']);
    expect(() => parse('--servers')).toThrow(/needs a value/);
  });
});

describe('summaries and lines for requests not confirmed', () => {
  test('requested outcomes are counted and shown, never dropped', () => {
    const requested = {
      status: 'requested', session: session({ id: 7 }), request: 'WTSLogoffSession', accepted: true, message: 'the run was stopped before the logoff was confirmed', requests: ['WTSLogoffSession'],
    } as const;
    expect(formatOutcome(requested)).toBe('Requested the logoff of session 7 (RDP-Tcp#1, CORP\\bob, Active); not confirmed: the run was stopped before the logoff was confirmed.');
    const done = { status: 'loggedOff', session: session({}), confirmed: true, alreadyClosing: false, requests: ['WTSLogoffSession'] } as const;
    const notInPlan = { status: 'skipped', session: session({ id: 8 }), reason: 'notInPlan', message: 'not in the confirmed plan', requests: [] } as const;
    expect(formatOutcome(notInPlan)).toBe('Skipped session 8 (RDP-Tcp#1, CORP\\bob, Active): not in the confirmed plan.');
    expect(summarize([done, requested, notInPlan], 0, 1)).toBe('1 logged off, 1 requested but not confirmed, 1 skipped, 0 failed, 1 server stopped before finishing.');
  });
});

describe('errors: one line, a documented exit code, the stack only when asked', () => {
  const common = require('../../src/cli/common') as typeof import('../../src/cli/common');
  const { SimulatedFarmError } = require('../../src/backends/mock/file') as typeof import('../../src/backends/mock/file');
  const { WtsError } = require('../../src/errors') as typeof import('../../src/errors');
  const capture = (debug = false) => {
    const err: string[] = [];
    const io = { out: () => {}, err: (t: string) => err.push(t), interactive: false, progress: false, confirm: async () => false, debug };
    return { io, text: () => err.join('') };
  };
  const STACK = /^\s+at /m;

  test('a bug: one line naming it and what to do, exit 3; the stack with debug', () => {
    const quiet = capture();
    expect(common.reportError('wts-logoff', new TypeError('x is not a function'), quiet.io)).toBe(common.EXIT_UNEXPECTED);
    expect(quiet.text()).toMatch(/^wts-logoff: unexpected error: TypeError: x is not a function\. This is a bug in wts-session: run the command again with --debug \(or WTS_SESSION_DEBUG=1\)/);
    expect(quiet.text().split('\n').filter(Boolean)).toHaveLength(1);
    const loud = capture(true);
    expect(common.reportError('wts-logoff', new TypeError('x is not a function'), loud.io)).toBe(3);
    expect(loud.text()).toMatch(STACK);
  });

  test('a bug the library wrapped (E_WIN32 without a Win32 code) is still a bug, exit 3', () => {
    const c = capture();
    const wrapped = new WtsError('E_WIN32', 'Unexpected failure: boom', { cause: new RangeError('boom') });
    expect(common.reportError('wts-query', wrapped, c.io)).toBe(3);
    expect(c.text()).toMatch(/RangeError: boom/);
  });

  test('a failed system call says so; a simulated farm that cannot be saved is a failure (exit 1) that says what to do', () => {
    const sys = capture();
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', syscall: 'open' });
    expect(common.reportError('wts-msg', eacces, sys.io)).toBe(3);
    expect(sys.text()).toMatch(/a system call failed; check the path and its permissions/);
    const farm = capture();
    const full = new SimulatedFarmError('Cannot save the simulated farm', '/tmp/farm.json', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
    const wrapped = new WtsError('E_WIN32', `Unexpected failure: ${full.message}`, { cause: full });
    expect(common.reportError('wts-logoff', wrapped, farm.io)).toBe(1);
    expect(farm.text()).toBe("wts-logoff: Cannot save the simulated farm '/tmp/farm.json': no space left on the device (ENOSPC). Free some space and run the command again; nothing was changed.\n");
  });

  test('runCommand: --debug on the command line shows the stack, even when parsing failed', async () => {
    const c = capture();
    const code = await common.runCommand('wts-logoff', ['/bogus', '--debug'], c.io, () => false, async () => {
      throw new UsageError('Unknown switch');
    });
    expect(code).toBe(2);
    expect(c.text()).toMatch(STACK);
    expect(common.debugFromArgv(['--', '--debug'])).toBe(false);
    expect(common.debugFromArgv(['/DEBUG'])).toBe(true);
    expect(common.debugFromEnv({ WTS_SESSION_DEBUG: '1' })).toBe(true);
    expect(common.debugFromEnv({ WTS_SESSION_DEBUG: '0' })).toBe(false);
  });

  test('processIo: a write that fails (EPIPE) closes the output at once, and never throws', () => {
    const { Writable } = require('node:stream') as typeof import('node:stream');
    const written: string[] = [];
    let fail = false;
    const stdout = new Writable({
      write(chunk, _enc, cb) {
        if (fail) return cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        written.push(String(chunk));
        cb();
      },
    });
    const stderr = new Writable({ write: (_c, _e, cb) => cb() });
    const io = common.processIo({ stdout, stderr }, {});
    io.out('one\n');
    expect(io.outputClosed?.aborted).toBe(false);
    fail = true;
    expect(() => io.out('two\n')).not.toThrow();
    expect(io.outputClosed?.aborted).toBe(true); // before the 'error' event's tick: the next action is not started
    expect(() => io.out('three\n')).not.toThrow();
    expect(written).toEqual(['one\n']);
  });
});

describe('issue 10 review: the text report says what was sent', () => {
  const s = { id: 4, name: 'RDP-Tcp#1', state: 'Active', userName: 'carol', domain: 'CORP', server: '', isConsole: false, isCurrent: false } as const;
  test('a skipped session that had been warned says so, and the summary counts warnings', () => {
    const outcome = { status: 'skipped', session: s, reason: 'changed', message: 'it changed', requests: ['WTSSendMessageW'] } as const;
    expect(formatOutcome(outcome)).toMatch(/The warning had been sent\./);
    expect(summarize([outcome])).toBe('0 logged off, 1 warned, 1 skipped, 0 failed.');
  });
  test('an empty disconnect run is summarised as disconnects', () => {
    expect(summarize([], 0, 0, 'disconnected')).toBe('0 disconnected, 0 skipped, 0 failed.');
  });
  test('a one-value switch given twice with different values is a usage error', () => {
    expect(() => parseArgs(['3', '/server:WF12', '/server:TS01'], LOGOFF_SWITCHES)).toThrow(/given twice/);
  });
});

describe('issue 14: --version, and server lists on standard input', () => {
  const { serversOf, parseServerList } = require('../../src/cli/shared') as typeof import('../../src/cli/shared');
  test('-V (capital, one dash) is the version; -v, /V and /v stay verbose; --version and /version too', () => {
    expect(parse('-V').switches).toEqual({ version: true });
    for (const v of ['-v', '/V', '/v', '--verbose']) expect(parse(v).switches).toEqual({ verbose: true });
    for (const v of ['--version', '/version', '/VERSION', '-version']) expect(parse(v).switches).toEqual({ version: true });
    expect(() => parse('--version=1')).toThrow(/takes no value/);
  });

  test('a list: one a line, or comma or space separated; # comments, blank lines and CRLF', () => {
    expect(parseServerList('# farm\r\nWF12, WF13\r\n\n  WF14\tWF15 # rack 2\nWF16,,WF17#x\n')).toEqual(['WF12', 'WF13', 'WF14', 'WF15', 'WF16', 'WF17']);
    expect(parseServerList('  \n# only\n')).toEqual([]);
  });

  test('/servers:- reads standard input once; with a question to ask it is refused before reading', () => {
    let reads = 0;
    const readStdin = () => {
      reads++;
      return 'WF12\nWF13';
    };
    expect(serversOf(parse('/all', '/servers:-'), { readStdin })).toEqual({ kind: 'many', servers: ['WF12', 'WF13'], fromStdin: true });
    expect(serversOf(parse('/all', '/servers:TS01,-'), { readStdin })).toEqual({ kind: 'many', servers: ['TS01', 'WF12', 'WF13'], fromStdin: true });
    expect(serversOf(parse('/all', '--servers-file', '-'), { readStdin })).toMatchObject({ servers: ['WF12', 'WF13'], fromStdin: true });
    expect(reads).toBe(3);
    expect(() => serversOf(parse('/all', '/servers:-'), { readStdin, asks: true })).toThrow(/cannot be answered there\. Add --yes/);
    expect(() => serversOf(parse('/all', '/servers:-,-'), { readStdin })).toThrow(/only once/);
    expect(() => serversOf(parse('/all', '/servers:-'), { readStdin: () => '# none\n' })).toThrow(/from standard input is empty/);
    expect(reads).toBe(3);
    // A list without '-' never reads standard input, and is no stdin list.
    expect(serversOf(parse('/all', '/servers:WF12'), { readStdin })).toEqual({ kind: 'many', servers: ['WF12'] });
    expect(reads).toBe(3);
  });
});
