/**
 * A command whose work never settles (a promise nothing resolves: a bug, or a backend's call that
 * was dropped) used to end as soon as the event loop had nothing left: exit 0, nothing said, which
 * reads as success. startCommand now says so and exits 3. Run as a real process: the event loop
 * draining is the point.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from '../helpers';

const dir = join(ROOT, 'test', '.tmp', 'never-settles');

function command(body: string): string {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, `entry-${Math.abs(hash(body))}.ts`);
  writeFileSync(entry, `import { startCommand } from ${JSON.stringify(join(ROOT, 'src', 'cli', 'common'))};\n${body}\n`);
  const out = entry.replace(/\.ts$/, '.js');
  buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'cjs', external: ['koffi'], logLevel: 'error' });
  return out;
}

function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

describe('a command that never finishes', () => {
  test('exit 3 and one line, not a silent exit 0', () => {
    const bin = command("startCommand('wts-test', () => new Promise<number>(() => undefined));");
    const r = spawnSync(process.execPath, [bin], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/stopped before it finished/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('with --json: an error document carrying exit code 3', () => {
    const bin = command("startCommand('wts-test', () => new Promise<number>(() => undefined));");
    const r = spawnSync(process.execPath, [bin, '--json'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(r.status).toBe(3);
    const doc = JSON.parse(r.stdout.trim()) as { type: string; exitCode: number };
    expect(doc).toMatchObject({ type: 'error', exitCode: 3 });
  });

  test('a command that finishes is not touched: its own exit code', () => {
    const bin = command("startCommand('wts-test', async () => { await new Promise((r) => setTimeout(r, 10)); return 1; });");
    const r = spawnSync(process.execPath, [bin], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect([r.status, r.stderr, r.stdout]).toEqual([1, '', '']);
  });
});
