#!/usr/bin/env node
// npm run demo: the main job on the simulated farm, with the real commands, on a copy of
// examples/farm.json (the original is never changed). No Windows needed.
'use strict';
const { spawnSync } = require('node:child_process');
const { copyFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const farm = join(mkdtempSync(join(tmpdir(), 'wts-demo-')), 'farm.json');
copyFileSync(join(__dirname, 'farm.json'), farm);

function step(title, bin, args) {
  process.stdout.write(`\n== ${title}\n$ ${bin} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bin', `${bin}.js`), ...args], {
    env: { ...process.env, WTS_SESSION_SIMULATE: farm },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  process.stdout.write(`(exit code ${r.status})\n`);
  return r.status;
}

process.stdout.write(`Simulated farm: ${farm} (a copy of examples/farm.json; local server TS01, you are alice in session 2)\n`);
const codes = [
  step('The sessions on this server (query session)', 'wts-query', ['session']),
  step('Who is logged on, idle how long (quser)', 'wts-query', ['user']),
  step('Log off session 3 by ID (logoff 3), saying what happens', 'wts-logoff', ['3', '/v']),
  step('Log off a session by name on another server (logoff TERM04 /server:WF12)', 'wts-logoff', ['TERM04', '/server:WF12', '/v']),
  step('Try to log off the console: refused before any logoff call', 'wts-logoff', ['console']),
  step('Session 5 is protected by permissions: logoff.exe\'s error text', 'wts-logoff', ['5']),
  step('Log off everyone (KB 259436), as a dry run first', 'wts-logoff', ['/all', '--dry-run']),
  step('The same on every server of the farm, warning users first (WF13 is down)', 'wts-logoff', ['/all', '/servers:TS01,WF12,WF13', '--warn', 'Maintenance: you will be logged off in 5 minutes', '--grace', '300', '--dry-run']),
  step('The sessions now', 'wts-query', ['session']),
];
// Steps 5 and 6 are meant to fail (exit 1); anything else is a broken demo.
const expected = [0, 0, 0, 0, 1, 1, 0, 1, 0];
if (codes.some((c, i) => c !== expected[i])) {
  process.stderr.write(`demo: unexpected exit codes ${JSON.stringify(codes)} (expected ${JSON.stringify(expected)})\n`);
  process.exit(1);
}
process.stdout.write('\nDone. To log everyone off for real: wts-logoff /all (it asks first; --yes in scripts).\n');
