import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSession, InvalidArgumentError, listSessions, logoff, logoffAll } from '../../src/index';
import { openSimulatedFarm, writeFarmFile, type Farm } from '../../src/mock';
import { exampleFarm, farmFile, rejection, ROOT } from '../helpers';


describe('simulated mode (WTS_SESSION_SIMULATE)', () => {
  const saved = process.env['WTS_SESSION_SIMULATE'];
  afterEach(() => {
    if (saved === undefined) delete process.env['WTS_SESSION_SIMULATE'];
    else process.env['WTS_SESSION_SIMULATE'] = saved;
  });

  test('the top-level functions run on the farm file and write it back', async () => {
    const path = farmFile();
    process.env['WTS_SESSION_SIMULATE'] = path;
    expect((await listSessions()).map((s) => s.id)).toContain(3);
    await logoff(3);
    // Saved at once for the first change, then at most every SAVE_MIN_MS (and at exit).
    const ids = () => (JSON.parse(readFileSync(path, 'utf8')) as Farm).servers[0]!.sessions!.map((s) => s.id);
    for (const deadline = Date.now() + 2000; ids().includes(3) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    expect(ids()).not.toContain(3);
    // A later call (a new "process") sees the change.
    expect(await rejection(findSession(3))).toMatchObject({ code: 'E_NOT_FOUND' });
    const outcomes = await logoffAll({ dryRun: true });
    expect(outcomes.some((o) => o.session.id === 3)).toBe(false);
    expect(readdirSync(join(path, '..'))).toEqual(['farm.json']); // no temp files left behind
  });

  test('a missing or broken farm file is a clear invalid-argument error', async () => {
    process.env['WTS_SESSION_SIMULATE'] = '/nonexistent/farm.json';
    const error = await rejection(listSessions());
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/Cannot read the simulated farm '\/nonexistent\/farm.json'/);
    const bad = farmFile();
    writeFileSync(bad, '{"localServer": "X", "servers": [{"name": "X", "sessions": [{"id": 1, "state": "Asleep"}]}]}');
    process.env['WTS_SESSION_SIMULATE'] = bad;
    expect((await rejection(listSessions())).message).toMatch(/farm\.servers\[0\]\.sessions\[0\]\.state/);
  });

  test('logged-off sessions still closing are persisted between processes', async () => {
    const path = farmFile();
    const api = openSimulatedFarm(path, { closingPolls: 3 });
    await api.logoffSession(0n as never, 4);
    const again = openSimulatedFarm(path);
    expect((await again.logoffSession(0n as never, 4).catch((e: { win32Code: number }) => e.win32Code))).toBe(7007);
  });

  test('the call log records every call as JSON lines', async () => {
    const path = farmFile();
    const log = join(path, '..', 'calls.jsonl');
    const api = openSimulatedFarm(path, { callLog: log });
    await api.enumerateSessions(0n as never);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { api: string });
    expect(lines.map((l) => l.api)).toEqual(['enumerate']);
  });
});

describe('atomic write-back', () => {
  test('a writer killed at random moments never leaves a torn file', async () => {
    const path = farmFile();
    const small = exampleFarm();
    const big = exampleFarm();
    for (let i = 100; i < 3000; i++) big.servers[0]!.sessions!.push({ id: i, name: `RDP-Tcp#${i}`, state: 'Active', user: `user${i}` });
    writeFarmFile(path, small);
    const farmsFile = join(path, '..', 'farms.json');
    writeFileSync(farmsFile, JSON.stringify([small, big]));
    const script = `
      const { writeFarmFile } = require(${JSON.stringify(join(ROOT, 'dist', 'mock.js'))});
      const farms = JSON.parse(require('fs').readFileSync(${JSON.stringify(farmsFile)}, 'utf8'));
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) writeFarmFile(${JSON.stringify(path)}, farms[i % 2]);
    `;
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 30 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = readFileSync(path, 'utf8');
      expect(text.length).toBeGreaterThan(0);
      const parsed = JSON.parse(text) as Farm; // a torn file would throw here
      expect([small.servers[0]!.sessions!.length, big.servers[0]!.sessions!.length]).toContain(parsed.servers[0]!.sessions!.length);
    }
  });
});
