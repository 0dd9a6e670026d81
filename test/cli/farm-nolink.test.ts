/**
 * Commit 4e8029d: "a lock whose write fails leaves no file"; brief: "no stray files after normal exits".
 * createWhole's fallback for a file system without hard links (linkSync: EPERM/ENOTSUP/...) creates
 * `<farm>.lock` with O_EXCL and then writes it; a failing write (full disk) leaves that empty lock behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { binPath, simulate } from './run';

test('no hard links + a full disk: wts-logoff fails (exit 1) and leaves an empty farm.json.lock behind', () => {
  const sim = simulate();
  const preload = join(mkdtempSync(join(tmpdir(), 'wts-preload-')), 'nolink-full.js');
  writeFileSync(
    preload,
    `const fs = require('fs');
     const open = fs.openSync, write = fs.writeSync; const lockFds = new Set();
     fs.linkSync = () => { throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }); };
     fs.openSync = (p, f, m) => { const fd = open(p, f, m); if (String(p).endsWith('.lock') && f === 'wx') lockFds.add(fd); return fd; };
     fs.writeSync = (fd, ...rest) => { if (lockFds.has(fd)) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); return write(fd, ...rest); };`,
  );
  const r = spawnSync(process.execPath, ['-r', preload, binPath('wts-logoff'), '4', '--no-wait', '--json'], {
    env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: sim.path },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.status).toBe(1);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ type: 'error', error: { code: 'E_SIMULATED_FARM', errno: 'ENOSPC' } });
  const left = readdirSync(dirname(sim.path)).filter((n) => n.startsWith('farm.json.'));
  // observed: ['farm.json.lock'] (0 bytes): the next command within 1 s waits for it, then breaks it as ownerless.
  expect(left.map((n) => `${n}:${statSync(join(dirname(sim.path), n)).size}`)).toEqual([]);
});
