/**
 * The package as a consumer gets it: `npm pack`, installed into an empty project, imported from
 * ESM, CommonJS and TypeScript, and its commands run from node_modules/.bin.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { builtinModules } from 'node:module';
import { ROOT } from '../helpers';

jest.setTimeout(180_000);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project: string;
let files: string[];
let tarball: string;

/**
 * `npm pack` runs prepack, which builds the prebuilt DLLs of the library's threads with mingw-w64
 * (both architectures, or it fails: a release ships both). Without those compilers, the tarball is
 * packed from the dist/ that `npm test` built, scripts skipped, and only the DLL checks are skipped.
 */
const mingw = ['x86_64-w64-mingw32-gcc', 'i686-w64-mingw32-gcc'].filter((cc) => spawnSync('sh', ['-c', `command -v ${cc}`], { stdio: 'ignore' }).status !== 0);
if (mingw.length > 0) console.log(`package test: the prebuilt wts_lanes DLL checks are skipped: ${mingw.join(', ')} not found (apt-get install -y gcc-mingw-w64-x86-64 gcc-mingw-w64-i686)`);

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'wts-pack-'));
  const args = ['pack', '--json', '--pack-destination', out, ...(mingw.length > 0 ? ['--ignore-scripts'] : [])];
  const packed = JSON.parse(execFileSync(npm, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed[0]!.files.map((f) => f.path);
  tarball = join(out, packed[0]!.filename);
  project = mkdtempSync(join(tmpdir(), 'wts-consumer-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(out, packed[0]!.filename)], {
    cwd: project,
    stdio: 'ignore',
  });
});

function freshFarm(): string {
  const farm = join(project, 'farm.json');
  copyFileSync(join(ROOT, 'examples', 'farm.json'), farm);
  return farm;
}

function run(file: string, code: string): string {
  writeFileSync(join(project, file), code);
  freshFarm();
  const r = spawnSync(process.execPath, [file], {
    cwd: project,
    env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: join(project, 'farm.json') },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return r.stdout;
}

test('the tarball holds dist, README, CHANGELOG, LICENSE — never native/, test/, bench/ or src/', () => {
  for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/mock.js', 'dist/mock.mjs', 'dist/bin/wts-logoff.js', 'dist/bin/wts-query.js', 'dist/cli/wts-logoff.js', 'dist/cli/wts-query.js', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /^(native|test|bench|src|examples|\.ci)\//.test(f))).toEqual([]);
});

test('each command is a two-line file that turns on Node\'s compile cache, then loads its own bundle (dist/cli), which holds everything it runs', () => {
  const dist = join(project, 'node_modules', 'wts-session', 'dist');
  for (const b of ['wts-logoff', 'wts-query', 'wts-msg', 'wts-disconnect', 'wts-kill']) {
    const bin = readFileSync(join(dist, 'bin', `${b}.js`), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // The cache is on before the bundle is compiled: the call comes first.
    const calls = [...bin.matchAll(/require\((['"])([^'"]+)\1\)/g)].map((m) => m[2]);
    expect([b, calls]).toEqual([b, ['node:module', `../cli/${b}.js`]]);
    expect(bin.indexOf('enableCompileCache')).toBeLessThan(bin.indexOf(`../cli/${b}.js`));
    const bundle = readFileSync(join(dist, 'cli', `${b}.js`), 'utf8');
    // Self-contained: no chunk of the library's builds; koffi is the only package it requires.
    const required = new Set([...bundle.matchAll(/require\((['"])([^'"]+)\1\)/g)].map((m) => m[2]));
    expect([b, [...required].filter((r) => !builtinModules.includes(r.replace(/^node:/, '')) && r !== 'koffi')]).toEqual([b, []]);
    expect([b, bundle.includes('createKoffiApi')]).toEqual([b, true]);
  }
});

(mingw.length > 0 ? test.skip : test)('the tarball ships the prebuilt DLLs of the library\'s threads for Windows x64 and x86, nothing else under prebuilds/', () => {
  // Nothing compiles on install: prepack built them.
  expect(files).toContain('prebuilds/win32-x64/wts_lanes.dll');
  expect(files).toContain('prebuilds/win32-ia32/wts_lanes.dll');
  expect(files.filter((f) => f.startsWith('prebuilds/'))).toHaveLength(2);
});

const body = `
  const farm = { localServer: 'A', servers: [{ name: 'A', currentSessionId: 2, sessions: [
    { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'me' },
    { id: 3, name: '', state: 'Disconnected', user: 'bob' }], faults: { logoff: { '3': 5 } } }] };
  const wts = createWts({ api: createMockApi(farm) });
  const error = await wts.logoff(3).catch((e) => e);
  console.log(error instanceof Win32Error, error.code, error.win32Code);
  console.log((await logoff(4)).session.userName);
`;

test('ESM: import { logoff } from "wts-session"', () => {
  const out = run('esm.mjs', `
    import { logoff, createWts, Win32Error } from 'wts-session';
    import { createMockApi } from 'wts-session/mock';
    ${body}`);
  expect(out).toBe('true E_WIN32 5\ncarol\n');
});

test('CommonJS: require("wts-session")', () => {
  const out = run('cjs.cjs', `
    const { logoff, createWts, Win32Error } = require('wts-session');
    const { createMockApi } = require('wts-session/mock');
    (async () => { ${body} })();`);
  expect(out).toBe('true E_WIN32 5\ncarol\n');
});

test('TypeScript (NodeNext, ESM and CJS) sees the types', () => {
  const code = `
    import { logoff, logoffAll, type Session, type LogoffOutcome, WtsError } from 'wts-session';
    import { createMockApi, type Farm } from 'wts-session/mock';
    const farm: Farm = { localServer: 'A', servers: [{ name: 'A', sessions: [] }] };
    void createMockApi(farm);
    export async function main(): Promise<string> {
      const r = await logoff(3, { server: 'WF12', timeoutMs: 1000 });
      const s: Session = r.session;
      const all: readonly LogoffOutcome[] = await logoffAll({ state: 'Disconnected', dryRun: true });
      // @ts-expect-error not a state
      await logoffAll({ state: 'Sleeping' });
      return s.name + all.length + String(new WtsError('E_TIMEOUT', 'x').code);
    }
  `;
  writeFileSync(join(project, 'check.mts'), code);
  writeFileSync(join(project, 'check.cts'), code);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
      files: ['check.mts', 'check.cts'],
    }),
  );
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the commands run from node_modules/.bin', () => {
  const r = spawnSync(join(project, 'node_modules', '.bin', 'wts-query'), ['session', 'carol'], {
    cwd: project,
    env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: freshFarm() },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/carol\s+4\s+Active/);
});

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

test('@arethetypeswrong/cli finds no problem in any resolution mode (node10, node16 CJS/ESM, bundler)', () => {
  const r = spawnSync(bin('attw'), [tarball, '--format', 'json'], { encoding: 'utf8' });
  const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
  expect(Object.keys(report.analysis.entrypoints)).toEqual(['.', './mock', './farm.schema.json', './package.json']);
  expect(report.analysis.problems).toEqual([]);
  expect(r.status).toBe(0);
});

test('publint --strict has nothing to say about the tarball (no error, warning or suggestion)', () => {
  const r = spawnSync(bin('publint'), ['run', tarball, '--strict'], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).not.toMatch(/Errors|Warnings|Suggestions/);
  expect(r.stdout).toContain('All good!');
  expect(r.status).toBe(0);
});

test("TypeScript's node10 resolution (moduleResolution: node) finds 'wts-session' and 'wts-session/mock'", () => {
  const dir = mkdtempSync(join(project, 'node10-'));
  writeFileSync(
    join(dir, 'check.ts'),
    `import { logoff, type Session } from 'wts-session';
     import { createMockApi, type Farm } from 'wts-session/mock';
     const farm: Farm = { localServer: 'A', servers: [{ name: 'A', sessions: [] }] };
     export const api = createMockApi(farm);
     export const call: (id: number) => Promise<{ session: Session }> = logoff;\n`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'commonjs', moduleResolution: 'node', target: 'ES2022', strict: true, noEmit: true, lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
      files: ['check.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the source maps carry no sources and no absolute path, and every source they name is under src/ or a bundled helper', () => {
  const dist = join(project, 'node_modules', 'wts-session', 'dist');
  const maps = [...readdirSync(dist), ...['bin', 'cli'].flatMap((d) => readdirSync(join(dist, d)).map((f) => `${d}/${f}`))].filter((f) => f.endsWith('.map'));
  // The library's (index, mock, their chunks; CommonJS and ES module) and each command's bundle.
  expect(maps.filter((m) => m.startsWith('cli/'))).toHaveLength(5);
  expect(maps.length).toBeGreaterThanOrEqual(11);
  for (const name of maps) {
    const map = JSON.parse(readFileSync(join(dist, name), 'utf8')) as { file?: string; sources: string[]; sourcesContent?: unknown };
    expect([name, 'sourcesContent' in map]).toEqual([name, false]);
    // No path of the machine that built it, anywhere in the map.
    expect([name, JSON.stringify(map).includes(ROOT)]).toEqual([name, false]);
    if (map.file !== undefined) expect([name, map.file]).toEqual([name, expect.stringMatching(/^[\w.-]+\.m?js$/)]);
    for (const source of map.sources) {
      expect([name, source, isAbsolute(source) || /^[a-z]+:/i.test(source)]).toEqual([name, source, false]);
      expect([name, source]).toEqual([name, expect.stringMatching(/^((\.\.\/)+src\/|(\.\.\/)+node_modules\/tsup\/assets\/|(\.\.\/)+scripts\/esm-shims\.mjs$|[\w.-]+\.m?js$)/)]);
    }
  }
});

test('package.json points the npm page at the repository, its issues and its README; engines is the floor CI tests', () => {
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'wts-session', 'package.json'), 'utf8')) as Record<string, any>;
  const repo = (pkg['repository'].url as string).replace(/^git\+/, '').replace(/\.git$/, '');
  expect(repo).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
  expect(pkg['homepage']).toBe(`${repo}#readme`);
  expect(pkg['bugs'].url).toBe(`${repo}/issues`);
  // CI runs every suite on the floor and on the current LTS line (scripts/test-node.sh names both;
  // the README says so): engines names the floor, the oldest Node.js tested.
  const floor = /^FLOOR=(\d+)\.\d+\.\d+$/m.exec(readFileSync(join(ROOT, 'scripts', 'test-node.sh'), 'utf8'))?.[1];
  expect(floor).toMatch(/^\d+$/);
  expect(pkg['engines'].node).toBe(`>=${floor}`);
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(Number(floor));
});
