/**
 * Every ```ts block of the README runs, as a user would run it: compiled by esbuild, imported
 * from 'wts-session' (the built package, by self-reference), on a fresh copy of the example farm.
 * All blocks are also type-checked together against the sources.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { ROOT } from '../helpers';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const runnable = blocks.filter((b) => b.includes("from 'wts-session"));
const dir = join(ROOT, 'test', '.tmp', 'readme');

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
});

test('the README has runnable examples', () => {
  expect(runnable.length).toBeGreaterThanOrEqual(5);
});

test.each(runnable.map((code, i) => [i + 1, code.split('\n').find((l) => l.trim() && !l.startsWith('import')) ?? '', code]))(
  'README example %i runs (%s)',
  (i, _first, code) => {
    const js = transformSync(code as string, { loader: 'ts', format: 'esm', target: 'node18' }).code;
    const file = join(dir, `example-${i}.mjs`);
    writeFileSync(file, js);
    const farm = join(dir, `farm-${i}.json`);
    copyFileSync(join(ROOT, 'examples', 'farm.json'), farm);
    const r = spawnSync(process.execPath, [file], {
      env: { PATH: process.env['PATH'] ?? '', WTS_SESSION_SIMULATE: farm },
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.status !== 0) throw new Error(`example ${i} failed (exit ${r.status}):\n${r.stderr}\n${code}`);
    expect(r.stderr).toBe('');
  },
);

test('every README example type-checks', () => {
  const tsDir = join(dir, 'typecheck');
  mkdirSync(tsDir, { recursive: true });
  blocks.forEach((code, i) => writeFileSync(join(tsDir, `block-${i + 1}.ts`), `${asTypeCheck(code)}\nexport {};\n`));
  writeFileSync(
    join(tsDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], skipLibCheck: true,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        paths: { 'wts-session': [join(ROOT, 'src', 'index.ts')], 'wts-session/mock': [join(ROOT, 'src', 'mock.ts')] },
      },
      include: ['*.ts'],
    }),
  );
  writeFileSync(join(tsDir, 'package.json'), '{"type": "module"}');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsDir], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

const PUBLIC_TYPES = ['Session', 'SessionState', 'SkipReason', 'LogoffOutcome', 'WtsError', 'Win32Error', 'LoggedOff', 'RequestName', 'SessionIdentity'];

/**
 * A block that only declares types (the API reference) is checked against the real types: its
 * names are renamed to Readme*, and each must be assignable both ways with the exported one.
 */
function asTypeCheck(code: string): string {
  if (code.includes("from 'wts-session")) return code;
  const declared = [...code.matchAll(/(?:interface|type)\s+(\w+)/g)].map((m) => m[1] as string);
  let body = code;
  for (const name of declared) body = body.replace(new RegExp(`\\b${name}\\b`, 'g'), `Readme${name}`);
  const used = PUBLIC_TYPES.filter((t) => new RegExp(`\\b${t}\\b`).test(body) || declared.includes(t));
  const checks = declared
    .map((n) => `const _${n}A: Readme${n} = null as unknown as ${n};\nconst _${n}B: ${n} = null as unknown as Readme${n};\nvoid _${n}A; void _${n}B;`)
    .join('\n');
  return `import type { ${used.join(', ')} } from 'wts-session';\n${body}\n${checks}`;
}
