#!/usr/bin/env node
// Builds the C double of wtsapi32 (native/) when it is missing or older than its sources.
// Used by `npm test` (pretest) and `npm run build:native`. Never part of the published package.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const native = join(root, 'native');
const binary = join(native, 'build', 'Release', 'wtsapi32_double.node');
const force = process.argv.includes('--force');

if (process.env.WTS_SKIP_NATIVE === '1') {
  console.log('native double: not built (WTS_SKIP_NATIVE=1); its test suites will be skipped.');
  process.exit(0);
}

// The lanes (native/lanes: the library's own threads for blocking calls) are a project of their own,
// so that node-gyp-build finds only the double in native/build.
const lanes = join(native, 'lanes', 'build', 'Release', 'wts_lanes.node');
const projects = [
  { dir: native, output: binary, sources: [join(native, 'binding.gyp'), ...readdirSync(join(native, 'src')).map((f) => join(native, 'src', f))] },
  { dir: join(native, 'lanes'), output: lanes, sources: ['binding.gyp', 'wts_lanes.c'].map((f) => join(native, 'lanes', f)) },
];
const fresh = (p) => existsSync(p.output) && p.sources.every((s) => statSync(s).mtimeMs <= statSync(p.output).mtimeMs);
const stale = projects.filter((p) => force || !fresh(p));
if (stale.length === 0) process.exit(0);

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
const missing = ['cc', 'make', 'python3'].filter((c) => !have(c));
if (process.platform !== 'win32' && missing.length > 0) {
  console.error(
    `native double: cannot build the C double of wtsapi32: ${missing.join(', ')} not found.\n` +
      'Install a C toolchain (Debian/Ubuntu: apt-get install -y build-essential python3), or set\n' +
      'WTS_SKIP_NATIVE=1 to run without it (the koffi + double suites are then skipped, with that reason).',
  );
  process.exit(1);
}

const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--loglevel=warn'];
// Build against this Node's own headers when npm has not said where they are: no download.
const headers = join(dirname(process.execPath), '..', 'include', 'node');
if (!process.env.npm_config_nodedir && existsSync(join(headers, 'node_api.h'))) {
  args.push(`--nodedir=${join(dirname(process.execPath), '..')}`);
}
for (const project of stale) {
  console.log(`native double: building ${project.dir} with node-gyp...`);
  const result = spawnSync(process.execPath, args, { cwd: project.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) {
    console.error('native double: node-gyp failed (see above).');
    process.exit(result.status ?? 1);
  }
  console.log(`native double: built ${project.output}`);
}
