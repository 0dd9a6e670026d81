/**
 * A CLI that scripts can rely on, as real processes on a simulated farm: --version; one JSON
 * contract (docs/json.md, whose field tables are read here and held against every document the
 * commands print); server lists on standard input and the question that then cannot be asked;
 * durations; and names that would otherwise move the cursor or reverse the text.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wts } from '../../src/api/wts';
import { logoffMain } from '../../src/cli/logoff';
import { createMockApi, type Farm } from '../../src/mock';
import { exampleFarm, ROOT } from '../helpers';
import { binPath, simulate, type Bin, type Run } from './run';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const BINS: Bin[] = ['wts-logoff', 'wts-query', 'wts-msg', 'wts-disconnect', 'wts-kill'];

describe('--version', () => {
  test.each(BINS)('%s --version, -V, /version: package.json\'s version, exit 0, nothing called, farm untouched', (bin) => {
    const sim = simulate();
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    // Also with a command line that would act (or call) without it.
    const acting = bin === 'wts-query' ? ['session', '/servers:WF12'] : bin === 'wts-msg' ? ['*', 'hi'] : bin === 'wts-kill' ? ['explorer', '/a', '--yes'] : ['/all', '--yes'];
    for (const args of [['--version'], ['-V'], ['/version'], ['/VERSION'], ['--version', '--json'], [...acting, '--version'], ['-V', ...acting]]) {
      const r = sim.run(bin, args);
      expect([args, r.code, r.stdout, r.stderr]).toEqual([args, 0, `${VERSION}\n`, '']);
      expect(r.log).toEqual([]);
      expect(r.farmText).toBe(sim.initial);
    }
    // Without the switch the same command line does call (the check above is not vacuous).
    expect(sim.run(bin, acting).log).not.toEqual([]);
    const help = sim.run(bin, ['/?']);
    expect(help.stdout).toMatch(/--version, -V\s+Print the version/);
  });

  test('-v and /V stay verbose: only -V (capital, one dash) is the version', () => {
    const sim = simulate();
    const r = sim.run('wts-logoff', ['3', '-v']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Logging off session 3/);
    expect(r.calls.map((c) => c.api)).toContain('logoff');
    expect(sim.run('wts-disconnect', ['5', '/V']).stderr).toMatch(/^Disconnecting session 5/);
  });

  test('bad usage still wins over --version (a command line with an unknown switch is refused)', () => {
    const r = simulate().run('wts-logoff', ['--version', '/bogus']);
    expect(r.code).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// The JSON contract, held against docs/json.md's tables.

const doc = readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8');

/** The fields of each table under a `### ` heading of docs/json.md, by heading. */
function documentedFields(): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let heading = '';
  for (const line of doc.split('\n')) {
    const h = /^### (.+)$/.exec(line);
    if (h) {
      heading = h[1] as string;
      continue;
    }
    const row = /^\| ([^|]+) \|/.exec(line);
    if (!heading || !row || /^(field|---)/.test(row[1] as string)) continue;
    const names = [...(row[1] as string).matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1] as string);
    if (names.length === 0) continue;
    const set = sections.get(heading) ?? new Set<string>();
    for (const n of names) set.add(n);
    sections.set(heading, set);
  }
  return sections;
}

const FIELDS = documentedFields();
const WATCH_TYPES = ['logon', 'logoff', 'connect', 'disconnect', 'create', 'delete', 'rename', 'stateChange', 'serverError', 'serverBack'];

function fieldsOf(type: string): Set<string> {
  const f = FIELDS.get(WATCH_TYPES.includes(type) ? '`--watch` events' : `\`${type}\``);
  if (!f) throw new Error(`docs/json.md documents no document of type '${type}'`);
  return f;
}

interface Doc {
  schema: number;
  type: string;
  exitCode?: number;
  error?: { name: string; code: string; message: string; requests: string[] };
  [key: string]: unknown;
}

/** Every line of stdout is one JSON document of the contract; returns them. */
function documents(r: Run): Doc[] {
  expect(r.stdout.endsWith('\n')).toBe(true);
  const docs = r.stdout.slice(0, -1).split('\n').map((line) => {
    expect(line).not.toBe('');
    return JSON.parse(line) as Doc;
  });
  const sessionFields = FIELDS.get('Session object')!;
  const processFields = FIELDS.get('Process object')!;
  const errorFields = FIELDS.get('Error object')!;
  const checkSession = (s: unknown) => {
    for (const key of Object.keys(s as object)) expect([key, sessionFields.has(key)]).toEqual([key, true]);
  };
  const checkError = (e: Doc['error']) => {
    expect(e).toEqual(expect.objectContaining({ name: expect.stringMatching(/^[A-Z]\w+$/), code: expect.stringMatching(/^E_[A-Z0-9_]+$/), message: expect.any(String), requests: expect.any(Array) }));
    for (const key of ['name', 'code', 'message', 'requests']) expect(errorFields.has(key)).toBe(true);
  };
  for (const d of docs) {
    expect(d.schema).toBe(1);
    const fields = fieldsOf(d.type);
    for (const key of Object.keys(d)) expect([d.type, key, fields.has(key)]).toEqual([d.type, key, true]);
    if (d.error) checkError(d.error);
    for (const key of ['session', 'before']) if (d[key]) checkSession(d[key]);
    if (d.type === 'sessions') (d['results'] as unknown[]).forEach(checkSession);
    if (d.type === 'processes') {
      for (const p of d['results'] as object[]) for (const key of Object.keys(p)) expect(['process', key, processFields.has(key)]).toEqual(['process', key, true]);
    }
    for (const f of (d['failures'] as Array<{ server: string; error: Doc['error'] }> | undefined) ?? []) checkError(f.error);
  }
  return docs;
}

const last = (docs: Doc[]) => docs[docs.length - 1] as Doc;

describe('one JSON contract for the four commands (docs/json.md)', () => {
  test('docs/json.md documents every document type, with an example each', () => {
    for (const type of ['sessions', 'processes', 'outcome', 'serverFailed', 'summary', 'error', '--watch']) {
      expect(doc).toMatch(new RegExp(`### \`${type}\``));
    }
    // Every example line parses and has the schema (a `...` stands for fields left out).
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).trim().split('\n'));
    expect(examples.length).toBeGreaterThanOrEqual(9);
    for (const line of examples) {
      const json = line.replace(/,\.\.\.\}/g, '}').replace(/\{\.\.\.\}/g, '{}').replace(/"([^"]*)\.\.\."/g, '"$1"');
      expect((JSON.parse(json) as Doc).schema).toBe(1);
    }
  });

  const SCENARIOS: Array<[string, Bin, string[], number, string]> = [
    ['query one server', 'wts-query', ['session'], 0, 'sessions'],
    ['query user', 'wts-query', ['user'], 0, 'sessions'],
    ['query process', 'wts-query', ['process'], 0, 'processes'],
    ['query several servers, one down', 'wts-query', ['session', '/servers:TS01,WF13'], 1, 'sessions'],
    ['query one server that fails', 'wts-query', ['session', '/server:WF13'], 1, 'error'],
    ['query with no match', 'wts-query', ['user', 'nobody'], 1, 'error'],
    ['query, bad usage', 'wts-query', ['sessoin'], 2, 'error'],
    ['logoff one session', 'wts-logoff', ['3'], 0, 'outcome'],
    ['logoff Services (refused)', 'wts-logoff', ['0'], 1, 'error'],
    ['logoff access denied', 'wts-logoff', ['5'], 1, 'error'],
    ['logoff not found', 'wts-logoff', ['42'], 1, 'error'],
    ['logoff bad target', 'wts-logoff', ['12abc'], 2, 'error'],
    ['logoff /all without --yes off a terminal', 'wts-logoff', ['/all'], 2, 'error'],
    ['logoff /all --dry-run', 'wts-logoff', ['/all', '--dry-run'], 0, 'summary'],
    ['logoff /all --yes (one fails)', 'wts-logoff', ['/all', '--yes'], 1, 'summary'],
    ['logoff /all on a server that is down', 'wts-logoff', ['/all', '/servers:WF12,WF13', '--yes'], 1, 'summary'],
    ['disconnect one', 'wts-disconnect', ['5'], 0, 'outcome'],
    ['disconnect a listener', 'wts-disconnect', ['65536'], 1, 'error'],
    ['disconnect /all --yes', 'wts-disconnect', ['/all', '--yes', '--idle', '1.5h'], 0, 'summary'],
    ['msg one session', 'wts-msg', ['4', 'hi'], 0, 'outcome'],
    ['msg a user', 'wts-msg', ['carol', 'hi'], 0, 'summary'],
    ['msg everyone on two servers, one down', 'wts-msg', ['*', '/servers:TS01,WF13', 'hi'], 1, 'summary'],
    ['msg without a message', 'wts-msg', ['4'], 2, 'error'],
    ['kill one process', 'wts-kill', ['6100'], 0, 'summary'],
    ['kill a name in all sessions', 'wts-kill', ['explorer', '/a', '--yes'], 0, 'summary'],
    ['kill a name, more than one, without --yes off a terminal', 'wts-kill', ['explorer', '/a'], 1, 'error'],
    ['kill a process that is not there', 'wts-kill', ['99999'], 1, 'error'],
    ['kill, bad usage', 'wts-kill', ['6100', '/a'], 2, 'error'],
    ['a farm that cannot be read', 'wts-query', ['session', '--simulate', '/nonexistent/farm.json'], 2, 'error'],
  ];

  test.each(SCENARIOS)('%s: JSON lines only, each documented, the last one says how it ended', (_what, bin, args, code, lastType) => {
    const r = simulate().run(bin, [...args, '--json']);
    expect(r.code).toBe(code);
    const docs = documents(r);
    expect(last(docs).type).toBe(lastType);
    if (lastType === 'summary' || lastType === 'error') expect(last(docs).exitCode).toBe(code);
    // Only the last document ends the run.
    expect(docs.slice(0, -1).map((d) => d.type).filter((t) => ['sessions', 'processes', 'summary', 'error'].includes(t))).toEqual([]);
    // stderr keeps its text for people (one line for the failure that ended the run); stdout never has it.
    if (lastType === 'error') expect(r.stderr).not.toBe('');
  });

  test('--watch --json: event documents as documented, a failing server as serverError with its error object', async () => {
    const sim = simulate();
    const child = spawn(process.execPath, [binPath('wts-query'), 'session', '--watch', '--json', '/servers:TS01,WF13'], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: sim.path },
    });
    let stdout = '';
    const seen = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (/"type":"serverError"/.test(stdout) && stdout.endsWith('\n')) resolve();
      });
    });
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await seen;
    sim.run('wts-logoff', ['4']);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (/"type":"logoff"/.test(stdout) && stdout.endsWith('\n')) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    clearTimeout(timer);
    const docs = documents({ stdout } as Run);
    expect(docs.find((d) => d.type === 'serverError')).toMatchObject({ server: 'WF13', attempt: 1, error: { name: 'Win32Error', code: 'E_WIN32', win32Code: 1722 } });
    expect(docs.find((d) => d.type === 'logoff')).toMatchObject({ server: '', gone: true, session: { id: 4, userName: 'carol' } });
  });

  test('a simulated farm that cannot be written: E_SIMULATED_FARM with its path and errno; a bulk run: serverFailed, then the summary', () => {
    const sim = simulate();
    const one = sim.run('wts-logoff', ['3', '--json'], { env: { WTS_SESSION_CALL_LOG: '/dev/full' } });
    expect(one.code).toBe(1);
    expect(documents(one)).toEqual([
      { schema: 1, type: 'error', exitCode: 1, error: expect.objectContaining({ name: 'SimulatedFarmError', code: 'E_SIMULATED_FARM', path: '/dev/full', errno: 'ENOSPC' }) },
    ]);
    const bulk = sim.run('wts-logoff', ['/all', '--yes', '--json'], { env: { WTS_SESSION_CALL_LOG: '/dev/full' } });
    const docs = documents(bulk);
    expect(docs.map((d) => d.type)).toEqual(['serverFailed', 'summary']);
    // The server's failure is the farm's save, said as the command's own end says it (it was a bare
    // E_WIN32 "Unexpected failure" with no code before the watch review).
    expect(docs[0]!.error).toMatchObject({ name: 'SimulatedFarmError', code: 'E_SIMULATED_FARM', path: '/dev/full', errno: 'ENOSPC' });
    expect(last(docs)).toMatchObject({ serversFailed: 1, exitCode: 1 });
  });

  test('the same session object everywhere: query, outcomes, bulk outcomes', () => {
    const sim = simulate();
    const queried = (documents(sim.run('wts-query', ['session', '--json']))[0]!['results'] as Array<{ id: number }>).find((s) => s.id === 4);
    const single = documents(sim.run('wts-msg', ['4', 'hi', '--json']))[0]!['session'];
    const bulk = documents(sim.run('wts-logoff', ['/all', '--dry-run', '--json'])).find((d) => d.type === 'outcome' && (d['session'] as { id: number }).id === 4)!['session'];
    expect(single).toEqual(queried);
    expect(bulk).toEqual(queried);
  });

  test('errors are WtsError.toJSON(): a Win32 failure keeps its code, API and server', () => {
    const r = simulate().run('wts-query', ['session', '/server:WF13', '--json']);
    expect(r.stdout).not.toMatch(/^\[\]/m); // no empty list pretending to be an answer
    expect(last(documents(r)).error).toMatchObject({ name: 'Win32Error', code: 'E_WIN32', win32Code: 1722, api: 'WTSEnumerateSessionsExW', server: 'WF13', requests: [] });
    // In text, a failed single server prints no header either.
    const text = simulate().run('wts-query', ['session', '/server:WF13']);
    expect([text.code, text.stdout]).toEqual([1, '']);
    expect(text.stderr).toMatch(/Error \[1722\]/);
  });

  test('several servers: results and failures in one document; bulk: a serverFailed line then the summary', () => {
    const q = documents(simulate().run('wts-query', ['session', '/servers:WF12,WF13', '--json']))[0]!;
    expect((q['results'] as Array<{ server: string }>).every((s) => s.server === 'WF12')).toBe(true);
    expect(q['failures']).toEqual([{ server: 'WF13', error: expect.objectContaining({ code: 'E_WIN32', win32Code: 1722 }) }]);
    const docs = documents(simulate().run('wts-logoff', ['/all', '/servers:WF12,WF13', '--yes', '--json']));
    expect(docs.filter((d) => d.type === 'serverFailed')).toEqual([expect.objectContaining({ server: 'WF13', error: expect.objectContaining({ win32Code: 1722 }) })]);
    expect(last(docs)).toMatchObject({ type: 'summary', dryRun: false, counts: { loggedOff: 2, skipped: 3, failed: 0, requested: 0, wouldLogOff: 0 }, serversFailed: 1, exitCode: 1 });
  });

  test('the summary counts what the outcome lines say', () => {
    const docs = documents(simulate().run('wts-logoff', ['/all', '--yes', '--json']));
    const counts: Record<string, number> = {};
    for (const d of docs.filter((x) => x.type === 'outcome')) counts[d['status'] as string] = (counts[d['status'] as string] ?? 0) + 1;
    expect(last(docs)['counts']).toEqual({ loggedOff: 0, wouldLogOff: 0, skipped: 0, failed: 0, requested: 0, ...counts });
    expect(counts).toEqual({ loggedOff: 4, skipped: 4, failed: 1 });
  });

  test('a bulk run whose plan has nothing to ask about still reports, and ends with its summary', async () => {
    // On a terminal (in this process: a person who is never asked), --json with nothing to do.
    const out: string[] = [];
    let asked = false;
    const code = await logoffMain(['/all', '--user', 'nobody', '--json'], {
      out: (t) => out.push(t), err: () => {}, interactive: true, progress: false,
      confirm: async () => { asked = true; return 'yes'; },
    }, { wts: () => new Wts(createMockApi(exampleFarm())) });
    expect([code, asked]).toEqual([0, false]);
    const lines = out.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as Doc);
    expect(lines.filter((d) => d.type === 'outcome')).toHaveLength(9);
    expect(last(lines)).toMatchObject({ type: 'summary', dryRun: false, counts: { loggedOff: 0, skipped: 9 }, exitCode: 0 });
  });

  test('a question answered no: an E_CANCELLED error document, exit 1', async () => {
    for (const [answer, exit] of [['no', 1], ['eof', 1], ['interrupted', 130]] as const) {
      const out: string[] = [];
      const code = await logoffMain(['/all', '--json'], { out: (t) => out.push(t), err: () => {}, interactive: true, progress: false, confirm: async () => answer }, {
        wts: () => new Wts(createMockApi(exampleFarm())),
      });
      expect(code).toBe(exit);
      expect(out.map((l) => JSON.parse(l) as Doc)).toEqual([{ schema: 1, type: 'error', exitCode: exit, error: expect.objectContaining({ code: 'E_CANCELLED', name: 'CancelledError', requests: [] }) }]);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('server lists on standard input', () => {
  const LIST = '# the farm\nWF12, TS01\n\n  WF14 WF15   # rack 2\n';

  test('/servers:- and --servers-file -: one a line or comma/space separated, # comments and blank lines skipped', () => {
    const farm = exampleFarm();
    for (const name of ['WF14', 'WF15']) farm.servers.push({ name, sessions: [{ id: 1, name: 'Console', state: 'Connected' }] });
    const sim = simulate(farm);
    for (const form of [['/servers:-'], ['--servers-file', '-'], ['/servers:@-'], ['--servers', '-']]) {
      const r = sim.run('wts-query', ['session', ...form, '--json'], { input: LIST });
      expect([form, r.code]).toEqual([form, 0]);
      const servers = new Set((documents(r)[0]!['results'] as Array<{ server: string }>).map((s) => s.server));
      expect([...servers].sort()).toEqual(['', 'WF12', 'WF14', 'WF15']); // TS01 is this server: ''
    }
    const mixed = sim.run('wts-query', ['session', '/servers:WF14,-'], { input: 'WF15' });
    expect(mixed.stdout).toMatch(/^WF14:\n[\s\S]*^WF15:\n/m);
  });

  test('an empty list, or standard input named twice: exit 2, nothing called', () => {
    const sim = simulate();
    for (const [args, input, message] of [
      [['/servers:-'], '', /from standard input is empty/],
      [['/servers:-'], '# nothing\n\n', /from standard input is empty/],
      [['/servers:-', '--servers-file', '-'], 'WF12', /only once/],
      [['/servers:-'], 'WF 12/x', /Invalid \/servers/],
    ] as Array<[string[], string, RegExp]>) {
      const r = sim.run('wts-query', ['session', ...args], { input });
      expect([args, r.code, r.log]).toEqual([args, 2, []]);
      expect(r.stderr).toMatch(message);
    }
  });

  test('a list on standard input cannot answer the [y/N] question: /all needs --yes (or --dry-run), refused before reading it', () => {
    const sim = simulate();
    for (const bin of ['wts-logoff', 'wts-disconnect'] as const) {
      const refused = sim.run(bin, ['/all', '/servers:-'], { input: 'TS01\n' });
      expect([bin, refused.code, refused.log]).toEqual([bin, 2, []]);
      expect(refused.stderr).toMatch(/standard input.*cannot be answered there\. Add --yes to go ahead, or --dry-run/);
      expect(refused.farmText).toBe(sim.initial);
      const planned = sim.run(bin, ['/all', '/servers:-', '--dry-run'], { input: 'TS01\n' });
      expect(planned.code).toBe(0);
      expect(planned.stdout).toMatch(/^Would (log off|disconnect) session 4 /m);
    }
    const done = sim.run('wts-logoff', ['/all', '/servers:-', '--yes', '--user', 'carol'], { input: 'TS01\n' });
    expect(done.code).toBe(0);
    expect(done.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId)).toEqual([4]);
  });

  test('wts-msg: with the server list on standard input, the message must be on the command line', () => {
    const sim = simulate();
    const none = sim.run('wts-msg', ['*', '/servers:-'], { input: 'TS01\n' });
    expect([none.code, none.log]).toEqual([2, []]);
    expect(none.stderr).toMatch(/the message must follow the target on the command line/);
    const sent = sim.run('wts-msg', ['carol', '/servers:-', 'Coffee'], { input: 'TS01\n' });
    expect(sent.code).toBe(0);
    expect(sent.calls.filter((c) => c.api === 'message').map((c) => c.sessionId)).toEqual([4]);
  });
});

describe('durations on the command line', () => {
  test('--idle takes milliseconds, decimals and compounds; garbage is exit 2 naming the forms', () => {
    const sim = simulate();
    const plan = (idle: string) => sim.run('wts-logoff', ['/all', '--dry-run', '--json', '--idle', idle]);
    const would = (r: Run) => documents(r).filter((d) => d['status'] === 'wouldLogOff').map((d) => (d['session'] as { id: number }).id).sort();
    // The example farm's sessions have been idle for days: every form below selects the same ones.
    const expected = would(plan('>1d'));
    expect(expected.length).toBeGreaterThan(0);
    for (const form of ['86400000', '>1.5h', '1d12h', '>1h30m', '36H']) expect([form, would(plan(form))]).toEqual([form, expected]);
    for (const bad of ['1x', '-5m', '30m1h', '1e9', 'NaN', `${'9'.repeat(30)}`]) {
      const r = sim.run('wts-logoff', ['/all', '--dry-run', '--idle', bad]);
      expect([bad, r.code, r.log]).toEqual([bad, 2, []]);
      expect(r.stderr).toMatch(/Invalid --idle: .*milliseconds \('7200000'\).*'1\.5h', '1h30m'/);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** Names that would clear the screen, set the title, reverse the text, or break a line. */
function hostileFarm(): Farm {
  const farm = exampleFarm();
  const s = farm.servers[0]!.sessions!;
  s[3]!.user = 'bob\x1b[2J\x1b]0;pwned\x07';
  s[4]!.user = '山田太郎';
  s[5]!.user = 'dave\u202etxt.exe';
  s[5]!.domain = 'CO\x9b31mRP';
  s[6]!.user = 'temp\n01\r';
  s[7]!.user = '👨‍👩‍👧erin\u2066';
  (s[3] as { processes?: Array<{ pid: number; name: string }> }).processes = [{ pid: 6100, name: 'ex\x1bcel.exe' }];
  return farm;
}

/** What must not reach a terminal raw (a newline ends a line; a tab is allowed in no name either). */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('names are shown escaped, never raw, by every command', () => {
  test.each([
    ['wts-query', ['session']],
    ['wts-query', ['user']],
    ['wts-query', ['process']],
    ['wts-query', ['session', 'bob\x1b[2J']],
    ['wts-query', ['session', '\x1b[31mnobody\u202e']],
    ['wts-logoff', ['/all', '--dry-run']],
    ['wts-logoff', ['/all', '--yes']],
    ['wts-logoff', ['/all', '--dry-run', '--user', 'x\x1by']],
    ['wts-logoff', ['5', '/v']],
    ['wts-logoff', ['\x1b]0;x\x07']],
    ['wts-logoff', ['/bogus\x1b[2J']],
    ['wts-logoff', ['/server:\x1b[2J']],
    ['wts-disconnect', ['/all', '--yes']],
    ['wts-msg', ['*', '--dry-run', '/v', 'hi']],
    ['wts-msg', ['dave\u202etxt.exe', 'hi']],
    ['wts-msg', ['3', '/w', 'hi']],
  ] as Array<[Bin, string[]]>)('%s %j', (bin, args) => {
    const r = simulate(hostileFarm()).run(bin, args);
    expect(r.code).not.toBe(3);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stderr).not.toMatch(RAW);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\x1b/);
  });

  test('the shown names carry their escapes, and the quser columns stay aligned with 山田太郎', () => {
    const sim = simulate(hostileFarm());
    const q = sim.run('wts-query', ['session']);
    expect(q.stdout).toMatch(/ bob\\x1b\[2J\\x1b\]0;pwn/);
    const u = sim.run('wts-query', ['user']);
    const lines = u.stdout.trimEnd().split('\n');
    const header = lines[0]!;
    const yamada = lines.find((l) => l.includes('山田太郎'))!;
    // 山田太郎 takes 8 columns, 4 characters: the SESSIONNAME column starts 4 characters earlier.
    expect(yamada.indexOf('rdp-tcp#1')).toBe(header.indexOf('SESSIONNAME') - 4);
    expect(q.stdout).toMatch(/ temp\\x0a01\\x0d /);
    expect(sim.run('wts-logoff', ['/all', '--dry-run']).stdout).toMatch(/CO\\x9b31mRP\\dave\\u202etxt\.exe/);
  });

  test('--json keeps the names exact: C0 by JSON, and C1, bidi as \\u escapes too', () => {
    const r = simulate(hostileFarm()).run('wts-query', ['session', '--json']);
    expect(r.stdout).not.toMatch(RAW);
    const results = documents(r)[0]!['results'] as Array<{ id: number; userName: string; domain: string }>;
    expect(results.find((s) => s.id === 3)!.userName).toBe('bob\x1b[2J\x1b]0;pwned\x07');
    expect(results.find((s) => s.id === 5)).toMatchObject({ userName: 'dave\u202etxt.exe', domain: 'CO\x9b31mRP' });
    expect(r.stdout).toMatch(/"domain":"CO\\u009b31mRP"/);
  });
});
