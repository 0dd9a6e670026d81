#!/usr/bin/env node
// Builds the prebuilt Windows DLLs of wts_lanes (native/lanes/wts_lanes.c: the threads the library
// owns for blocking calls) into prebuilds/win32-<arch>/wts_lanes.dll, with mingw-w64:
//   win32-x64   x86_64-w64-mingw32-gcc   (Debian: gcc-mingw-w64-x86-64)
//   win32-ia32  i686-w64-mingw32-gcc     (Debian: gcc-mingw-w64-i686)
// The published package ships these; nothing is compiled on install. Windows on arm64 has no build
// (no toolchain here): there the backend falls back to koffi's .async (docs/threads.md).
//
//   node scripts/build-lanes.js            every architecture whose compiler is installed; at least x64
//   node scripts/build-lanes.js --all      every architecture, or fail (prepack: a release ships both)
//   node scripts/build-lanes.js --arch x64
//
// Progress goes to stderr (npm pack --json reads stdout).
// The build is deterministic in one folder: no timestamp in the PE header (--no-insert-timestamp),
// stripped, -ffile-prefix-map, static libgcc; two builds there give the same bytes. Built from two
// different folders, the DLLs still differ (89 bytes, header sizes and code; the cause is not found
// yet), so it is not yet reproducible across machines. The SHA-256 of each DLL is printed.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'native', 'lanes', 'wts_lanes.c');
const targets = [
  { arch: 'x64', cc: 'x86_64-w64-mingw32-gcc', pkg: 'gcc-mingw-w64-x86-64' },
  { arch: 'ia32', cc: 'i686-w64-mingw32-gcc', pkg: 'gcc-mingw-w64-i686' },
];

const all = process.argv.includes('--all');
const archIndex = process.argv.indexOf('--arch');
const only = archIndex > 0 ? process.argv[archIndex + 1] : undefined;

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

let failed = false;
for (const t of targets) {
  if (only && t.arch !== only) continue;
  if (!have(t.cc)) {
    const required = all || only === t.arch || t.arch === 'x64';
    const say = console.error;
    say(`wts_lanes: ${t.cc} not found (apt-get install -y ${t.pkg}); win32-${t.arch} ${required ? 'cannot be built' : 'skipped'}.`);
    if (required) failed = true;
    continue;
  }
  const dir = join(root, 'prebuilds', `win32-${t.arch}`);
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'wts_lanes.dll');
  const args = [
    '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-s',
    `-ffile-prefix-map=${root}=.`,
    '-static-libgcc', '-Wl,--no-insert-timestamp', '-Wl,--build-id=none',
    '-o', out, source,
  ];
  const r = spawnSync(t.cc, args, { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(out)) {
    console.error(`wts_lanes: ${t.cc} failed`);
    failed = true;
    continue;
  }
  const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
  console.error(`wts_lanes: built prebuilds/win32-${t.arch}/wts_lanes.dll  sha256 ${sha}`);
}
process.exit(failed ? 1 : 0);
