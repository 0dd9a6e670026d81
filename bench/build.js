#!/usr/bin/env node
// Bundles the benchmarks (TypeScript, importing the sources and the double's test harness) into
// .tmp/bench/ with esbuild, and builds the C baseline. Run by `npm run bench`.
'use strict';
const { buildSync } = require('esbuild');
const { execFileSync } = require('node:child_process');
const { mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, '.tmp', 'bench');
mkdirSync(out, { recursive: true });
buildSync({
  entryPoints: ['run', 'farm', 'concurrency', 'terminate', 'watch', 'soak', 'io-probe', 'floor'].map((n) => join(__dirname, `${n}.ts`)),
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['koffi', 'node-gyp-build'],
  logLevel: 'warning',
  // The bundles live in .tmp/bench: tell the shared test helpers where the repository is.
  banner: { js: `process.env.WTS_SESSION_ROOT ??= ${JSON.stringify(root)};` },
});
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', join(out, 'enumerate'), join(__dirname, 'enumerate.c'), '-ldl'], { stdio: 'inherit' });
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', join(out, 'one-call'), join(__dirname, 'one-call.c'), '-ldl'], { stdio: 'inherit' });
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-pthread', '-o', join(out, 'pool.so'), join(__dirname, 'pool.c'), '-ldl'], { stdio: 'inherit' });
