/**
 * wts_lanes itself under the sanitizers: test/native/lanes-stress.c compiles native/lanes/wts_lanes.c
 * into a program that posts, drains and stops lanes at random (a third stopped the moment their
 * job is back), once with AddressSanitizer and
 * UBSan (a lane used after it was freed aborts the run) and once with ThreadSanitizer (data
 * races). Each run prints its seed. Linux with a C compiler only: elsewhere one skipped test says why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers';

const source = join(ROOT, 'test', 'native', 'lanes-stress.c');

function missing(): string | undefined {
  if (process.platform !== 'linux') return `the sanitizer builds run on Linux only (this is ${process.platform})`;
  if (spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status !== 0) return 'no C compiler (cc) on PATH';
  return undefined;
}

/** The environment without the ASan preload of npm run test:asan (a TSan program cannot run under it). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'TSAN_OPTIONS']) delete env[k];
  return env;
}

const why = missing();
if (why) {
  describe('wts_lanes under the sanitizers', () => {
    test.skip(`skipped: ${why}`, () => undefined);
  });
  console.log(`wts_lanes under the sanitizers: skipped: ${why}`);
} else {
  describe('wts_lanes under the sanitizers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wts-lanes-stress-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const builds = [
      { name: 'AddressSanitizer and UBSan', exe: 'asan', flags: ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'], rounds: 10000 },
      { name: 'ThreadSanitizer', exe: 'tsan', flags: ['-fsanitize=thread'], rounds: 4000 },
    ];
    for (const b of builds) {
      test(`${b.name}: every job comes back once with its own result, lanes stopped at random`, () => {
        const exe = join(dir, b.exe);
        const env = cleanEnv();
        execFileSync('cc', ['-std=c11', '-O1', '-g', ...b.flags, '-D_POSIX_C_SOURCE=200809L', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', exe, source, '-ldl'], { env, stdio: 'pipe' });
        const seed = Math.floor(Math.random() * 2 ** 31);
        console.log(`wts_lanes stress (${b.name}): seed ${seed}, ${b.rounds} rounds`);
        const run = spawnSync(exe, [String(b.rounds), String(seed)], { env: { ...env, TSAN_OPTIONS: 'halt_on_error=1' }, encoding: 'utf8', timeout: 120_000 });
        if (run.status !== 0) throw new Error(`seed ${seed}: exit ${run.status} ${run.signal ?? ''}\n${run.stdout}\n${run.stderr.slice(0, 4000)}`);
        expect(run.stdout).toMatch(/^ok \d+ jobs, \d+ stops$/m);
        expect(run.stderr).toBe('');
      }, 180_000);
    }
  });
}
