/**
 * Adversarial: calls over many servers on the koffi backend and the native double. The default
 * thread limit (maxThreads 128) is "the default listing (64) plus the default work (8 x 8)", and
 * docs/many-servers.md says "Listings stuck on dead servers hold at most listConcurrency threads,
 * so the work on healthy servers keeps the rest".
 *
 * stuckAfterMs is lowered (100 ms instead of 10 s) and the dead servers' hang is 2.5 s instead of
 * an RPC timeout of ~21 s, so that the test runs in seconds: the schedule is the same.
 */
import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { createWts, type FarmResult, type LogoffOutcome, type SessionProcess } from '../../src/index';
import type { Farm, FarmServer } from '../../src/mock';
import { describeWithDouble } from './setup';

const HANG_MS = 2500;
const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function healthy(name: string): FarmServer {
  return {
    name,
    sessions: [
      { id: 0, name: 'Services', state: 'Disconnected' },
      { id: 2, name: 'RDP-Tcp#1', state: 'Active', user: `${name.toLowerCase()}u`, domain: 'CORP' },
      { id: 65536, name: 'RDP-Tcp', state: 'Listen' },
    ],
  };
}

function farmWith(dead: number, ok: number): { farm: Farm; deadNames: string[]; okNames: string[] } {
  const deadNames = Array.from({ length: dead }, (_, i) => `D${i}`);
  const okNames = Array.from({ length: ok }, (_, i) => `H${i}`);
  const farm: Farm = {
    localServer: 'ADMIN',
    servers: [
      { name: 'ADMIN', sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
      ...deadNames.map((name) => healthy(name)),
      ...okNames.map((name) => healthy(name)),
    ],
  };
  return { farm, deadNames, okNames };
}

describeWithDouble('adv: koffi backend, many servers, dead servers and the thread limit', (get) => {
  /** Every listing call on the dead servers hangs HANG_MS (a host that does not answer). */
  function hang(names: readonly string[]): void {
    const { double } = get();
    for (const n of names) for (const api of ['enumerate', 'enumerateEx', 'processes', 'processesEx'] as const) double.setLatency(n, api, HANG_MS);
  }

  /** The double loaded with `dead` servers whose listing calls hang, then `ok` healthy ones; a koffi backend on it (a call counts as stuck after 100 ms). */
  function deadFarm(dead: number, ok: number): { deadNames: string[]; okNames: string[]; api: ReturnType<typeof createKoffiApi> } {
    const { double } = get();
    const { farm, deadNames, okNames } = farmWith(dead, ok);
    double.loadFarm(farm);
    hang(deadNames);
    const api = createKoffiApi({ wtsapi32: double.path, kernel32: double.path, advapi32: double.path, netapi32: double.path, stuckAfterMs: 100 });
    return { deadNames, okNames, api };
  }

  test('control: logoffAll over 64 dead servers (timed out) then a healthy one: the healthy one is worked on', async () => {
    const { deadNames, okNames, api } = deadFarm(64, 2);
    try {
      const result = (await createWts({ api }).logoffAll({ servers: [...deadNames, ...okNames], serverTimeoutMs: 400, dryRun: true })) as FarmResult<LogoffOutcome>;
      expect(result.failures.filter((f) => okNames.includes(f.server)).map((f) => [f.server, f.error.code])).toEqual([]);
    } finally {
      await tick(HANG_MS + 500); // the hung calls return; their buffers and handles are freed
    }
  }, 30_000);

  test('listProcesses over 64 dead servers (timed out) then a healthy one: the healthy one is not refused with ThreadsExhaustedError', async () => {
    const { deadNames, okNames, api } = deadFarm(64, 2);
    try {
      const result = (await createWts({ api }).listProcesses({ servers: [...deadNames, ...okNames], serverTimeoutMs: 400 })) as FarmResult<SessionProcess>;
      // At most 64 servers were being listed at once (listConcurrency): a healthy server's listing must not be refused.
      expect(result.failures.filter((f) => okNames.includes(f.server)).map((f) => [f.server, f.error.code])).toEqual([]);
    } finally {
      await tick(HANG_MS + 500);
    }
  }, 30_000);

  test('listSessions over 128 servers whose listings hang 2.5 s and return before serverTimeoutMs: two waves of 64, no thread refused, every server listed', async () => {
    const { deadNames, okNames, api } = deadFarm(128, 2);
    const result = (await createWts({ api }).listSessions({ servers: [...deadNames, ...okNames], serverTimeoutMs: 4 * HANG_MS })) as FarmResult<unknown>;
    expect(result.failures.map((f) => [f.server, f.error.code])).toEqual([]);
    expect(result.byServer.size).toBe(deadNames.length + okNames.length);
  }, 60_000);

  test('the documented limit: 128 dead servers cut short by a serverTimeoutMs shorter than their hang keep their threads, and a healthy server then fails at once with E_THREADS_EXHAUSTED (never hangs)', async () => {
    const { deadNames, okNames, api } = deadFarm(128, 2);
    try {
      const result = (await createWts({ api }).logoffAll({ servers: [...deadNames, ...okNames], serverTimeoutMs: 400, dryRun: true })) as FarmResult<LogoffOutcome>;
      // Every server is reported: the dead ones timed out; a healthy one worked or was refused with the typed error.
      expect(result.failures.filter((f) => deadNames.includes(f.server)).every((f) => f.error.code === 'E_SERVER_TIMEOUT' || f.error.code === 'E_THREADS_EXHAUSTED')).toBe(true);
      for (const f of result.failures.filter((x) => okNames.includes(x.server))) expect(f.error.code).toBe('E_THREADS_EXHAUSTED');
      expect(result.failures.length + result.byServer.size).toBeGreaterThanOrEqual(deadNames.length + okNames.length);
    } finally {
      await tick(2 * HANG_MS + 500); // the hung calls return; their buffers and handles are freed
    }
  }, 60_000);
});
