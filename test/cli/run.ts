import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Farm } from '../../src/mock';
import { exampleFarm, ROOT } from '../helpers';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The WTS calls the command made, from the simulated farm's call log. */
  calls: Array<{ api: string; server: string; sessionId?: number }>;
  farm: Farm;
}

export interface Sim {
  path: string;
  log: string;
  run(bin: 'wts-logoff' | 'wts-query' | 'wts-msg' | 'wts-disconnect', args: string[], options?: { env?: Record<string, string>; input?: string }): Run;
}

const WTS = new Set(['open', 'enumerate', 'query', 'logoff', 'disconnect', 'message']);

/** A fresh copy of a farm in a temp folder, and a way to run a built command on it. */
export function simulate(farm: Farm = exampleFarm()): Sim {
  const dir = mkdtempSync(join(tmpdir(), 'wts-cli-'));
  const path = join(dir, 'farm.json');
  const log = join(dir, 'calls.jsonl');
  writeFileSync(path, JSON.stringify(farm, null, 2));
  return {
    path,
    log,
    run(bin, args, options = {}) {
      writeFileSync(log, '');
      const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'bin', `${bin}.js`), ...args], {
        env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', WTS_SESSION_SIMULATE: path, WTS_SESSION_CALL_LOG: log, ...options.env },
        input: options.input ?? '',
        encoding: 'utf8',
        timeout: 20_000,
      });
      const calls = existsSync(log)
        ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run['calls'][number]).filter((c) => WTS.has(c.api))
        : [];
      return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls, farm: JSON.parse(readFileSync(path, 'utf8')) as Farm };
    },
  };
}
