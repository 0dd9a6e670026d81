/**
 * A tool that uses wts-session, bundled with esbuild as docs/bundling.md says (koffi external),
 * run with node from a folder of its own: on the simulated farm, where koffi is never needed,
 * and against the native double of wtsapi32, where it is — found next to the bundle, missing, or
 * there without its native binary. 'wts-session' resolves to this repository's built package
 * (dist/, by `npm test`'s build) through its package.json exports, as it would from node_modules.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { doublePath } from '../native/double';
import { ROOT } from '../helpers';

jest.setTimeout(60_000);

const found = doublePath();
if ('missing' in found) console.log(`bundle test: the runs against the native double are skipped: ${found.missing}`);
const withDouble = 'path' in found ? test : test.skip;
const DOUBLE = 'path' in found ? found.path : '';

/** The consumer: the same job as an ES module and as CommonJS. */
const BODY = `
async function main() {
  const [mode, double] = process.argv.slice(2);
  if (mode === 'farm') {
    const before = (await listSessions()).map((s) => s.id);
    const done = await logoff(3);
    console.log(JSON.stringify({ before, status: done.status, id: done.session.id, confirmed: done.confirmed }));
  } else {
    try {
      const api = createKoffiApi({ wtsapi32: double, kernel32: double });
      console.log(JSON.stringify({ backend: api.name, threads: api.threads.mode }));
    } catch (error) {
      console.log(JSON.stringify({ isWtsError: isWtsError(error), code: error.code, message: error.message }));
    }
  }
}
main().catch((error) => { console.error(error); process.exit(1); });
`;
const ESM_SOURCE = `import { createKoffiApi, isWtsError, listSessions, logoff } from 'wts-session';\n${BODY}`;
const CJS_SOURCE = `const { createKoffiApi, isWtsError, listSessions, logoff } = require('wts-session');\n${BODY}`;

let work: string;
/** Folders a bundle is run from: koffi installed there, absent, or there without its binary package. */
let withKoffi: string;
let withoutKoffi: string;
let koffiNoBinary: string;
const warnings = new Map<string, string[]>();

/** Bundles `source` with esbuild's JS API, koffi external, into each run folder as `file`. */
async function bundle(file: string, source: string, options: BuildOptions): Promise<void> {
  const entry = join(work, 'src', `${file}.${source === ESM_SOURCE ? 'mjs' : 'cjs'}`);
  writeFileSync(entry, source);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node18',
    outfile: join(work, 'out', file),
    external: ['koffi'],
    logLevel: 'silent',
    ...options,
  });
  warnings.set(file, result.warnings.map((w) => w.text));
  for (const dir of [withKoffi, withoutKoffi, koffiNoBinary]) copyFileSync(join(work, 'out', file), join(dir, file));
}

beforeAll(async () => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'wts-bundle-')));
  // 'wts-session' for esbuild: this repository, as an installed package would be found.
  mkdirSync(join(work, 'src', 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(work, 'src', 'node_modules', 'wts-session'), 'dir');
  withKoffi = join(work, 'with-koffi');
  withoutKoffi = join(work, 'without-koffi');
  koffiNoBinary = join(work, 'koffi-without-binary');
  const koffi = realpathSync(join(ROOT, 'node_modules', 'koffi'));
  mkdirSync(join(withKoffi, 'node_modules'), { recursive: true });
  symlinkSync(koffi, join(withKoffi, 'node_modules', 'koffi'), 'dir'); // its @koromix binary package sits beside it
  mkdirSync(withoutKoffi);
  mkdirSync(join(koffiNoBinary, 'node_modules'), { recursive: true });
  cpSync(koffi, join(koffiNoBinary, 'node_modules', 'koffi'), { recursive: true }); // a copy: no @koromix beside it

  await bundle('tool.mjs', ESM_SOURCE, { format: 'esm' });
  await bundle('tool.cjs', CJS_SOURCE, { format: 'cjs' });
  // import statements bundled into CommonJS: esbuild takes the ES module build and empties import.meta...
  await bundle('esm-to-cjs.cjs', ESM_SOURCE, { format: 'cjs' });
  // ...unless 'wts-session' is resolved to the CommonJS build, as docs/bundling.md shows.
  const requireFromSrc = createRequire(join(work, 'src', 'build.js'));
  await bundle('esm-to-cjs-aliased.cjs', ESM_SOURCE, { format: 'cjs', alias: { 'wts-session': requireFromSrc.resolve('wts-session') } });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(dir: string, file: string, args: string[], farm?: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [file, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', ...(farm ? { WTS_SESSION_SIMULATE: farm } : {}) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`${file} in ${dir} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function freshFarm(dir: string): string {
  const farm = join(dir, 'farm.json');
  copyFileSync(join(ROOT, 'examples', 'farm.json'), farm);
  return farm;
}

function farmSessionIds(farm: string): number[] {
  const json = JSON.parse(readFileSync(farm, 'utf8')) as { servers: Array<{ name: string; sessions?: Array<{ id: number }> }> };
  return (json.servers.find((s) => s.name === 'TS01')?.sessions ?? []).map((s) => s.id);
}

test('the premise: koffi resolves from the with-koffi folder only', () => {
  expect(() => createRequire(join(withoutKoffi, 'x.js')).resolve('koffi')).toThrow(/Cannot find module 'koffi'/);
  expect(createRequire(join(withKoffi, 'x.js')).resolve('koffi')).toContain('koffi');
  expect(warnings.get('tool.mjs')).toEqual([]);
  expect(warnings.get('tool.cjs')).toEqual([]);
  expect(warnings.get('esm-to-cjs-aliased.cjs')).toEqual([]);
});

test('the bundle holds the library but not koffi', () => {
  const code = readFileSync(join(work, 'out', 'tool.mjs'), 'utf8');
  expect(code).toContain('WTSLogoffSession');
  expect(code).not.toMatch(/function determineAbi\b/); // koffi's own loader is not inlined
});

describe.each(['tool.mjs', 'tool.cjs', 'esm-to-cjs.cjs', 'esm-to-cjs-aliased.cjs'])('%s', (file) => {
  test.each([['with koffi', () => withKoffi], ['without koffi (simulated mode never loads it)', () => withoutKoffi]])(
    'on the simulated farm, %s: lists, logs off session 3, and the farm file changes',
    (_where, dir) => {
      const farm = freshFarm(dir());
      expect(farmSessionIds(farm)).toContain(3);
      const out = run(dir(), file, ['farm'], farm);
      expect(out).toEqual({ before: [0, 1, 2, 3, 4, 5, 6, 7, 65536], status: 'loggedOff', id: 3, confirmed: true });
      expect(farmSessionIds(farm)).toEqual([0, 1, 2, 4, 5, 6, 7, 65536]); // saved when the tool exits
    },
  );
});

describe.each(['tool.mjs', 'tool.cjs', 'esm-to-cjs-aliased.cjs'])('%s against the native double', (file) => {
  withDouble('koffi next to the bundle: found and loaded (the lanes library is not: calls run on libuv)', () => {
    expect(run(withKoffi, file, ['koffi', DOUBLE])).toEqual({ backend: 'koffi', threads: 'libuv' });
  });

  withDouble('no koffi next to the bundle: a plain E_UNSUPPORTED_PLATFORM that names the fix', () => {
    const out = run(withoutKoffi, file, ['koffi', DOUBLE]);
    expect(out).toMatchObject({ isWtsError: true, code: 'E_UNSUPPORTED_PLATFORM' });
    expect(out['message']).toBe(
      `koffi could not be loaded (Cannot find module 'koffi' from ${join(withoutKoffi, file)}). wts-session needs the koffi package ` +
        'installed next to it (npm installs it with wts-session, as its dependency); if you bundle your tool, keep koffi external ' +
        'and ship its node_modules folder with the bundle: see https://github.com/wts-session/wts-session/blob/main/docs/bundling.md.',
    );
  });

  withDouble('koffi there but not its native binary package: told apart, and named', () => {
    const out = run(koffiNoBinary, file, ['koffi', DOUBLE]);
    const target = `${process.platform}-${process.arch}`;
    expect(out).toMatchObject({ isWtsError: true, code: 'E_UNSUPPORTED_PLATFORM' });
    expect(out['message']).toMatch(new RegExp(`^koffi is installed, but its native binary for ${target} is missing \\(Cannot find the native Koffi module`));
    expect(out['message']).toContain(`@koromix/koffi-${target}, an optional dependency of koffi`);
    expect(out['message']).not.toMatch(/Cannot find module 'koffi'/);
  });
});

withDouble('import statements bundled into CommonJS without the alias: imports and simulates, and says why koffi cannot load', () => {
  expect(warnings.get('esm-to-cjs.cjs')).toEqual([expect.stringMatching(/"import\.meta" is not available with the "cjs" output format/)]);
  const out = run(withKoffi, 'esm-to-cjs.cjs', ['koffi', DOUBLE]);
  expect(out).toMatchObject({ isWtsError: true, code: 'E_UNSUPPORTED_PLATFORM' });
  expect(out['message']).toMatch(/^koffi could not be loaded: wts-session's ES module build was bundled into CommonJS.*see https:\/\/github\.com\/wts-session\/wts-session\/blob\/main\/docs\/bundling\.md\.$/);
});
