import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers';

test('npm run demo\'s script runs the main job on the simulated farm', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples', 'demo.js')], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  expect(r.stderr).toMatch(/console session; it is never logged off/);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/Would log off session 4 \(RDP-Tcp#1, CORP\\carol, Active\)\./);
  expect(r.stderr).toMatch(/Logged off session 2 \(TERM04, CORP\\frank, Active\) on WF12\./);
});
