/**
 * The commands as real processes under bad input, closed pipes and failing file systems: exit 2
 * means nothing was called; a closed output is no crash; a file system error is one line with what
 * to do; never a stack unless asked for (--debug, WTS_SESSION_DEBUG=1).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm } from '../../src/mock';
import { exampleFarm, ROOT } from '../helpers';
import { binPath, simulate, type Bin } from './run';

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** The example farm, plus a session still closing: a dry run's poll would count it down and rewrite the file. */
function closingFarm(): Farm {
  const farm = exampleFarm();
  farm.servers[0]!.sessions!.push({ id: 8, name: '', state: 'Disconnected', user: 'gone', domain: 'CORP', closing: 2 });
  return farm;
}

describe('exit 2 means nothing was called', () => {
  test.each([
    ['wts-logoff', ['/all']],
    ['wts-logoff', ['/all', '--state', 'Disc']],
    ['wts-logoff', ['/all', '/servers:TS01,WF12']],
    ['wts-logoff', ['/all', '--warn', 'Bye', '--grace', '1']],
    ['wts-disconnect', ['/all']],
    ['wts-disconnect', ['/all', '--idle', '>1h']],
  ] as Array<[Bin, string[]]>)('%s %p without --yes and without a terminal: refused before any call, farm file untouched', (bin, args) => {
    const sim = simulate(closingFarm());
    const r = sim.run(bin, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nobody is at a terminal.*Add --yes.*--dry-run/);
    expect(r.stdout).toBe('');
    expect(r.log).toEqual([]); // not even WTSGetActiveConsoleSessionId
    expect(r.farmText).toBe(sim.initial);
  });

  test('the same command with --dry-run does enumerate (the check above is not vacuous)', () => {
    const sim = simulate(closingFarm());
    const r = sim.run('wts-logoff', ['/all', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.api)).toContain('enumerate');
    expect(r.farmText).not.toBe(sim.initial); // the poll counted session 8's close down
  });

  const empty = () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-servers-'));
    const none = join(dir, 'none.txt');
    const comments = join(dir, 'comments.txt');
    writeFileSync(none, '');
    writeFileSync(comments, '# the farm\n\n   \n# WF12 is gone\n');
    return { none, comments };
  };

  const FORMS: Array<(f: ReturnType<typeof empty>) => string[]> = [
    () => ['/servers:,,'],
    () => ['/servers:'],
    () => ['/servers: , '],
    () => ['--servers='],
    () => ['--servers', ''],
    (f) => [`/servers:@${f.none}`],
    (f) => [`/servers:@${f.comments}`],
    (f) => ['--servers-file', f.none],
    (f) => ['--servers-file', f.comments],
    (f) => [`/servers:WF12,@${f.none}`],
  ];

  const COMMANDS: Array<[Bin, string[]]> = [
    ['wts-logoff', ['/all', '--yes']],
    ['wts-disconnect', ['/all', '--yes']],
    ['wts-msg', ['*', 'hello']],
    ['wts-query', ['session']],
  ];

  test.each(COMMANDS)('%s %p: every form of an empty server list is exit 2 with no call', (bin, base) => {
    const files = empty();
    const sim = simulate();
    for (const form of FORMS) {
      const args = [...base, ...form(files)];
      const r = sim.run(bin, args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/^wts-[a-z]+: The server list .*is empty.*give at least one server name/);
      expect(r.stdout).toBe('');
      expect(r.log).toEqual([]);
      expect(r.farmText).toBe(sim.initial);
    }
  });

  test('/server with an empty /servers is still "not both"; a list with a name works', () => {
    const sim = simulate();
    expect(sim.run('wts-query', ['session', '/server:WF12', '/servers:,,']).stderr).toMatch(/not both/);
    const ok = sim.run('wts-query', ['session', '/servers:,WF12,']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^WF12:/m);
  });

  test('--state with no state is a usage error too', () => {
    const r = simulate().run('wts-logoff', ['/all', '--state=,', '--yes']);
    expect([r.code, r.log]).toEqual([2, []]);
    expect(r.stderr).toMatch(/--state needs at least one state/);
  });
});

describe('a closed standard output', () => {
  test('wts-query session with nobody reading: exits 0, quietly', async () => {
    for (const args of [['session'], ['session', '--json'], ['user', '/servers:TS01,WF12']]) {
      const r = await simulate().runClosedStdout('wts-query', args);
      expect([args, r.code, r.stderr]).toEqual([args, 0, '']);
    }
  });

  test('wts-query session | head -1: the first line, then a quiet exit 0', () => {
    const sim = simulate();
    const r = spawnSync('sh', ['-c', `{ "${process.execPath}" "${binPath('wts-query')}" session; echo "exit=$?" >&2; } | head -1`], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: sim.path },
      encoding: 'utf8',
    });
    expect(r.stdout).toBe(' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE\n');
    expect(r.stderr).toBe('exit=0\n');
  });

  test('wts-logoff /all --yes --json: no action is started, the summary goes to stderr, exit 1', async () => {
    const sim = simulate();
    const r = await sim.runClosedStdout('wts-logoff', ['/all', '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.stderr).toMatch(/^wts-logoff: the output was closed, so no new action was started after that\. 0 logged off, 9 skipped/m);
    // The first JSON line (a skipped Services session) failed: no logoff was requested after it.
    expect(r.calls.filter((c) => c.api === 'logoff')).toEqual([]);
    expect(r.farm.servers[0]!.sessions!.map((s) => s.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 65536]);
  });

  test('wts-logoff /all --yes (text): the actions ran before the report; the report lost, the summary is on stderr, exit 1', async () => {
    const r = await simulate().runClosedStdout('wts-logoff', ['/all', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/the output was closed.*4 logged off, 4 skipped, 1 failed\./);
    expect(r.calls.filter((c) => c.api === 'logoff').map((c) => c.sessionId).sort()).toEqual([3, 4, 5, 6, 7]);
  });

  test('wts-msg * --json with nobody reading sends nothing after the first line', async () => {
    const r = await simulate().runClosedStdout('wts-msg', ['*', '--json', 'Reboot at 18:00']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.calls.filter((c) => c.api === 'message')).toEqual([]);
  });

  test('| head -4 on a slow server: the requests in flight finish, and every one is in the summary on stderr', () => {
    // The four skips are written at once; head exits after them; the fifth line comes after a
    // re-check and a logoff (200 ms each here), when every logoff is already in flight.
    const farm = exampleFarm();
    farm.servers[0]!.latencyMs = 200;
    const sim = simulate(farm);
    const r = spawnSync('sh', ['-c', `{ "${process.execPath}" "${binPath('wts-logoff')}" /all --yes --json; echo "exit=$?" >&2; } | head -4 >/dev/null`], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: sim.path, WTS_SESSION_CALL_LOG: sim.log },
      encoding: 'utf8',
    });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/exit=1\n$/);
    const summary = /(\d+) logged off, (?:(\d+) requested but not confirmed, )?(\d+) skipped, (\d+) failed/.exec(r.stderr);
    expect(summary).not.toBeNull();
    const calls = readFileSync(sim.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { api: string });
    const requested = calls.filter((c) => c.api === 'logoff').length;
    const [, done, unconfirmed, , failed] = summary!.map((n) => Number(n ?? 0));
    expect(requested).toBeGreaterThan(0);
    expect(done! + unconfirmed! + failed!).toBe(requested);
    expect(r.stderr).toMatch(/^Stopped on server localhost before it finished: /m);
  });
});

/** Runs a built command on a farm in `dir`, optionally as another user; the call log is off. */
function runIn(bin: Bin, args: string[], farmPath: string, options: { env?: Record<string, string>; uid?: number; gid?: number } = {}) {
  const r = spawnSync(process.execPath, [binPath(bin), ...args], {
    env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: farmPath, ...options.env },
    encoding: 'utf8',
    timeout: 20_000,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function farmIn(dir: string): { path: string; text: string } {
  const path = join(dir, 'farm.json');
  const text = `${JSON.stringify(exampleFarm(), null, 2)}\n`;
  writeFileSync(path, text);
  return { path, text };
}

function expectOneLine(stderr: string, code: RegExp, advice: RegExp) {
  expect(stderr).not.toMatch(STACK);
  expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(stderr).toMatch(/^wts-logoff: Cannot (save the simulated farm|append to the call log)/);
  expect(stderr).toMatch(code);
  expect(stderr).toMatch(advice);
}

describe('file system errors in simulated mode: one line, what to do, exit 1; the stack only with --debug', () => {
  test('a read-only folder (EROFS): a read-only bind mount in a private mount namespace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-rofs-'));
    const { path, text } = farmIn(dir);
    // unshare -m (as root) or -rm (as a user, with user namespaces): the read-only mount is seen by
    // this command only and goes away with it.
    const asRoot = process.getuid?.() === 0;
    const inner = (args: string) =>
      `mount --bind "${dir}" "${dir}" && mount -o remount,ro,bind "${dir}" && echo MOUNTED >&2 && exec "${process.execPath}" "${binPath('wts-logoff')}" ${args}`;
    const run = (args: string, env: Record<string, string> = {}) =>
      spawnSync('unshare', [asRoot ? '-m' : '-rm', 'sh', '-c', inner(args)], {
        env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: path, ...env },
        encoding: 'utf8',
      });
    const probe = run('/?');
    if (!/MOUNTED/.test(probe.stderr ?? '')) {
      console.log(`skipped the read-only mount case: cannot make a private read-only mount here (${(probe.stderr || String(probe.error)).trim()})`);
      return;
    }
    const r = run('3');
    expect(r.status).toBe(1);
    expectOneLine(r.stderr.replace('MOUNTED\n', ''), /read-only \(EROFS\)/, /Copy the farm to a folder you can write to and point WTS_SESSION_SIMULATE/);
    expect(readFileSync(path, 'utf8')).toBe(text);
    const debug = run('3 --debug');
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(STACK);
    expect(debug.stderr).toMatch(/EROFS/);
  });

  test('permission denied (EACCES): a folder the user cannot write to (as root: run as nobody)', () => {
    const base = mkdtempSync(join(tmpdir(), 'wts-eacces-'));
    const dir = join(base, 'farm');
    mkdirSync(dir);
    const { path, text } = farmIn(dir);
    chmodSync(base, 0o755);
    chmodSync(path, 0o644);
    chmodSync(dir, 0o555);
    const asRoot = process.getuid?.() === 0;
    // Root writes through any mode bits: the command runs as nobody (65534), who can read the built
    // command (the repository must be readable by others) and the farm, and write nowhere near it.
    const as = asRoot ? { uid: 65534, gid: 65534 } : {};
    if (asRoot && !readableByOthers(binPath('wts-logoff'))) {
      console.log('skipped the permission case: dist/ is not readable by nobody, so the command cannot run as nobody');
      return;
    }
    const r = runIn('wts-logoff', ['3'], path, as);
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /permission denied \(EACCES\)/, /Copy the farm to a folder you can write to/);
    expect(readFileSync(path, 'utf8')).toBe(text);
    const debug = runIn('wts-logoff', ['3'], path, { ...as, env: { WTS_SESSION_DEBUG: '1' } });
    expect(debug.stderr).toMatch(STACK);
    chmodSync(dir, 0o755);
  });

  test('a full disk (ENOSPC): the call log on /dev/full', () => {
    if (!existsSync('/dev/full')) {
      console.log('skipped the full-disk case: there is no /dev/full');
      return;
    }
    const { path, text } = farmIn(mkdtempSync(join(tmpdir(), 'wts-enospc-')));
    const r = runIn('wts-logoff', ['3'], path, { env: { WTS_SESSION_CALL_LOG: '/dev/full' } });
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /no space left on the device \(ENOSPC\)/, /Free some space and run the command again/);
    expect(readFileSync(path, 'utf8')).toBe(text);
    const bulk = runIn('wts-logoff', ['/all', '--yes'], path, { env: { WTS_SESSION_CALL_LOG: '/dev/full' } });
    expect(bulk.code).toBe(1);
    expect(bulk.stderr).not.toMatch(STACK);
    expect(bulk.stderr).toMatch(/ENOSPC/);
    const debug = runIn('wts-logoff', ['3', '--debug'], path, { env: { WTS_SESSION_CALL_LOG: '/dev/full' } });
    expect(debug.stderr).toMatch(STACK);
  });

  test('a farm file that cannot be read is a usage error (exit 2), one line', () => {
    const r = runIn('wts-logoff', ['3'], join(ROOT, 'no-such-farm.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/Cannot read the simulated farm/);
  });
});

function readableByOthers(path: string): boolean {
  // Every folder on the way must be searchable by others, and the file readable.
  const parts = path.split('/').filter(Boolean);
  let p = '';
  for (const part of parts.slice(0, -1)) {
    p += `/${part}`;
    const mode = spawnSync('stat', ['-c', '%a', p], { encoding: 'utf8' }).stdout.trim();
    if (!(parseInt(mode, 8) & 0o001)) return false;
  }
  const mode = spawnSync('stat', ['-c', '%a', path], { encoding: 'utf8' }).stdout.trim();
  return Boolean(parseInt(mode, 8) & 0o004);
}

describe('standard output that fails (a full disk), not a reader that left', () => {
  const full = existsSync('/dev/full');
  if (!full) console.log('skipped: no /dev/full on this system to make writes fail with ENOSPC');
  (full ? test : test.skip)('wts-query session > /dev/full: one line on stderr, exit 1 (it was a silent exit 0)', () => {
    const sim = simulate();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${binPath('wts-query')}" session --json > /dev/full; echo "exit=$?" >&2`], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: sim.path },
      encoding: 'utf8',
    });
    expect(r.stderr).toMatch(/^wts-query: could not write its output \(ENOSPC[^\n]*\)\.\nexit=1\n$/);
  });

  (full ? test : test.skip)('wts-logoff 4 --json > /dev/full: done, said once on stderr as a write failure (not "closed"), exit 1', () => {
    const sim = simulate();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${binPath('wts-logoff')}" 4 --json --no-wait > /dev/full; echo "exit=$?" >&2`], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: sim.path },
      encoding: 'utf8',
    });
    expect(r.stderr).toMatch(/^wts-logoff: the output could not be written \(ENOSPC[^\n]*\), so this was not reported there: Logged off session 4 [^\n]*\nexit=1\n$/);
  });
});
