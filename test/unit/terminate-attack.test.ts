/**
 * Adversarial tests (a review of terminateProcess's rounds; the two level-0 tests, their property and the abort-during-listing test failed on the code as reviewed) of terminateProcess (adv3): the round re-check, listing failures, aborts, plans.
 * The failing tests here are findings; the passing ones record attacks that found nothing.
 */
import fc from 'fast-check';
import { createMockApi, type Farm, type FarmProcess, type FarmSession, type MockApi, type MockCall } from '../../src/mock';
import { createWts, type TerminateOutcome } from '../../src';
import { overriding } from '../helpers';

const terminated = (mock: MockApi) => mock.calls.filter((c) => c.api === 'terminate').map((c) => c.processId);
const isListing = (c: MockCall) => c.api === 'processes' || c.api === 'processesEx';

/** TS09 (remote): sessions 0 (services), 2 (bob), 3 (carol). The caller is on ADMIN. */
function farm(s2: FarmProcess[], s3: FarmProcess[] = [], s0: FarmProcess[] = []): Farm {
  return {
    localServer: 'ADMIN',
    servers: [
      { name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
      {
        name: 'TS09',
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected', processes: s0 },
          { id: 2, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', processes: s2 },
          { id: 3, name: 'RDP-Tcp#2', state: 'Active', user: 'carol', domain: 'CORP', processes: s3 },
        ],
      },
    ],
  };
}

/** Replaces (or removes, `next` undefined) the process with PID `pid` in session `id` of TS09. */
function replace(mock: MockApi, id: number, pid: number, next: FarmProcess | undefined): void {
  const s = mock.getSession('TS09', id) as FarmSession;
  const processes = (s.processes ?? []).filter((p) => p.pid !== pid);
  mock.putSession('TS09', { ...s, processes: next ? [...processes, next] : processes } as FarmSession);
}

describe('adv3: a listing failure in a round', () => {
  test('one session of a two-session round cannot be listed: its processes are failed and not ended; the other session\'s are re-checked on their own listing and ended', async () => {
    // Round 1 (concurrency 4) holds PID 100 (session 2) and PID 200 (session 3). The first listing
    // (WTS_ANY_SESSION) succeeds; the round's listing of session 3 fails with 5. (The reviewer's
    // brief said "the whole round is failed"; each process is re-checked on its own session's
    // listing, so a failure is per session: that is the rule, docs/terminateProcess.md.)
    const mock = createMockApi(farm([{ pid: 100, name: 'w.exe' }], [{ pid: 200, name: 'w.exe' }]));
    mock.setFault('TS09', 'processesEx', 3, 5);
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', all: true }, { server: 'TS09' });
    expect(out.map((o) => `${o.process.processId}:${o.status}`)).toEqual(['100:terminated', '200:failed']);
    expect(terminated(mock)).toEqual([100]);
  });

  test('control: the other rounds go on (concurrency 1: only the failed session\'s round is failed)', async () => {
    const mock = createMockApi(farm([{ pid: 100, name: 'w.exe' }], [{ pid: 200, name: 'w.exe' }]));
    mock.setFault('TS09', 'processesEx', 3, 5);
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', all: true }, { server: 'TS09', concurrency: 1 });
    expect(out.map((o) => `${o.process.processId}:${o.status}`)).toEqual(['100:terminated', '200:failed']);
    expect(out.every((o) => o.status !== 'failed' || o.requests.length === 0)).toBe(true);
  });

  test('the all-sessions fallback listing fails for a process that left its session: failed, not ended', async () => {
    let n = 0;
    const mock: MockApi = createMockApi(farm([{ pid: 100, name: 'w.exe' }]), {
      onCall: (c) => {
        if (!isListing(c)) return;
        n++;
        if (n === 2) replace(mock, 2, 100, undefined); // round 1's listing of session 2: PID 100 gone from it
        if (n === 3) mock.setFault('TS09', 'processesEx', '*', 1722); // the WTS_ANY_SESSION fallback fails
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ pid: 100 }, { server: 'TS09' });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ status: 'failed', requests: [] });
    expect(terminated(mock)).toEqual([]);
  });
});

describe('adv3: the re-check listing falls back to level 0 (WTSEnumerateProcessesW) mid-call', () => {
  test('a PID reused by a new process of the same name and owner (CPU time back to 0), with the round\'s listing fallen back to level 0 (no CPU time): not ended, changed', async () => {
    // First listing: level 1, PID 100 w.exe with 5 s of CPU. Right as the round lists session 2,
    // w.exe ends and a new w.exe (same owner, same session, 0 CPU) gets PID 100; that listing's
    // WTSEnumerateProcessesExW answers 1745 (an RPC hiccup the library reads as "no level 1") and
    // the level-0 fallback has no CPU time, so the "CPU time not lower" check is silently dropped.
    let n = 0;
    const mock: MockApi = createMockApi(farm([{ pid: 100, name: 'w.exe', userTime: 4000, kernelTime: 1000 }]), {
      onCall: (c) => {
        if (!isListing(c)) return;
        n++;
        if (n === 2) {
          replace(mock, 2, 100, { pid: 100, name: 'w.exe', userTime: 0, kernelTime: 0 });
          mock.setFault('TS09', 'processesEx', 2, 1745);
        }
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ pid: 100 }, { server: 'TS09' });
    // Promised: "CPU time (user+kernel) not lower. Otherwise it is skipped changed and NOT ended."
    expect(out[0]).toMatchObject({ status: 'skipped', reason: 'changed' });
    expect(terminated(mock)).toEqual([]);
  });

  test('the same with a plan (a level-1 dry run): the reused PID is not ended', async () => {
    const mock = createMockApi(farm([{ pid: 100, name: 'w.exe', userTime: 4000, kernelTime: 1000 }]));
    const wts = createWts({ api: mock });
    const plan = await wts.terminateProcess({ pid: 100 }, { server: 'TS09', dryRun: true });
    expect(plan[0]!.process.cpuTime).toBe(5000);
    // PID 100 reused by a fresh w.exe; the server answers level 0 from now on.
    replace(mock, 2, 100, { pid: 100, name: 'w.exe', userTime: 0, kernelTime: 0 });
    mock.setFault('TS09', 'processesEx', '*', 1745);
    const out = await wts.terminateProcess({ pid: 100 }, { server: 'TS09', plan });
    expect(out[0]).toMatchObject({ status: 'skipped', reason: 'changed' });
    expect(terminated(mock)).toEqual([]);
  });
});

describe('adv3: aborts', () => {
  test('the signal fires during a round\'s listing: the round\'s processes are all skipped aborted (not changed / gone / failed)', async () => {
    const ac = new AbortController();
    let n = 0;
    const mock: MockApi = createMockApi(farm([{ pid: 100, name: 'w.exe' }, { pid: 104, name: 'w.exe' }, { pid: 108, name: 'w.exe' }]), {
      onCall: (c) => {
        if (!isListing(c)) return;
        n++;
        if (n === 2) {
          ac.abort();
          replace(mock, 2, 100, { pid: 100, name: 'other.exe' }); // changed
          replace(mock, 2, 104, undefined); // gone (and the fallback listing...)
        }
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', session: 2 }, { server: 'TS09', signal: ac.signal });
    expect(terminated(mock)).toEqual([]);
    // Promised: "After the signal fires, no WTSTerminateProcess is started; the rest are skipped aborted."
    expect(out.map((o) => `${o.process.processId}:${o.status}:${o.status === 'skipped' ? o.reason : ''}`)).toEqual([
      '100:skipped:aborted',
      '104:skipped:aborted',
      '108:skipped:aborted',
    ]);
  });

  test('aborted from inside a WTSTerminateProcess of a round: no later call, the rest aborted', async () => {
    const ac = new AbortController();
    const procs = Array.from({ length: 10 }, (_, i) => ({ pid: 100 + 4 * i, name: 'w.exe' }));
    const mock: MockApi = createMockApi(farm(procs), {
      onCall: (c) => {
        if (c.api === 'terminate' && c.processId === 104) ac.abort();
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', session: 2 }, { server: 'TS09', signal: ac.signal, concurrency: 3 });
    expect(terminated(mock)).toEqual([100, 104]);
    expect(out).toHaveLength(10);
    expect(out.filter((o) => o.status === 'skipped' && o.reason === 'aborted')).toHaveLength(8);
  });
});

describe('adv3: re-check races (found nothing)', () => {
  test('a PID that moved to another session between rounds: the fallback listing sees it, changed, not ended', async () => {
    let n = 0;
    const mock: MockApi = createMockApi(farm([{ pid: 100, name: 'w.exe' }, { pid: 104, name: 'w.exe' }]), {
      onCall: (c) => {
        if (!isListing(c)) return;
        n++;
        if (n === 3) {
          // Round 2's listing of session 2: PID 104 now runs w.exe in session 3.
          replace(mock, 2, 104, undefined);
          replace(mock, 3, 104, { pid: 104, name: 'w.exe' });
        }
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', session: 2 }, { server: 'TS09', concurrency: 1 });
    expect(terminated(mock)).toEqual([100]);
    expect(out.find((o) => o.process.processId === 104)).toMatchObject({ status: 'skipped', reason: 'changed' });
  });

  test('a plan with processes of several sessions, each changed differently during the rounds', async () => {
    const mock0 = createMockApi(
      farm(
        [{ pid: 100, name: 'w.exe', userTime: 10 }, { pid: 104, name: 'w.exe', user: 'CORP\\carol' }],
        [{ pid: 200, name: 'w.exe', userTime: 50 }, { pid: 204, name: 'w.exe' }],
        [{ pid: 300, name: 'w.exe' }],
      ),
    );
    const plan = await createWts({ api: mock0 }).terminateProcess({ name: 'w.exe', all: true }, { server: 'TS09', dryRun: true, allowServices: true });
    expect(plan.filter((o) => o.status === 'wouldTerminate')).toHaveLength(5);
    let n = 0;
    const mock: MockApi = createMockApi(mock0.toFarm(), {
      onCall: (c) => {
        if (!isListing(c)) return;
        n++;
        if (n === 2) {
          replace(mock, 2, 100, { pid: 100, name: 'W.EXE', userTime: 20 }); // same (more CPU, case)
          replace(mock, 3, 200, { pid: 200, name: 'w.exe', userTime: 10 }); // less CPU: changed
          replace(mock, 2, 104, { pid: 104, name: 'w.exe', user: 'CORP\\bob' }); // another owner: changed
          replace(mock, 0, 300, undefined); // gone
        }
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ name: 'w.exe', all: true }, { server: 'TS09', plan, allowServices: true, concurrency: 64 });
    expect(terminated(mock).sort()).toEqual([100, 204]);
    const by = Object.fromEntries(out.map((o) => [o.process.processId, o.status === 'skipped' ? o.reason : o.status]));
    expect(by).toEqual({ 100: 'terminated', 104: 'changed', 200: 'changed', 204: 'terminated', 300: 'gone' });
  });

  test('the caller\'s own PID, on the local server named by an alias or localhost, with a hand-made plan naming it: never ended', async () => {
    for (const server of [undefined, 'localhost', 'ADMIN', 'admin.corp.example.com', '127.0.0.1']) {
      const f: Farm = {
        localServer: 'ADMIN',
        servers: [{ name: 'ADMIN', aliases: ['admin.corp.example.com'], currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP', processes: [{ pid: process.pid, name: 'node.exe' }] }] }],
      };
      const mock = createMockApi(f);
      const wts = createWts({ api: mock });
      const opt = server === undefined ? {} : { server };
      const plan = [{ status: 'wouldTerminate', requests: [], process: { server: '', sessionId: 1, processId: process.pid, processName: 'node.exe', userSid: null, cpuTime: null } }] as never;
      const out = await wts.terminateProcess({ name: 'node', all: true }, { ...opt, plan, concurrency: 1 });
      expect(out.map((o) => (o.status === 'skipped' ? o.reason : o.status))).toEqual(['self']);
      expect(terminated(mock)).toEqual([]);
    }
  });

  test('bad input (concurrency 65, 0.5; exitCode 2**32; plan cpuTime -1): InvalidArgumentError, no WTS call', async () => {
    for (const options of [{ concurrency: 65 }, { concurrency: 0.5 }, { exitCode: 2 ** 32 }, { plan: [{ status: 'wouldTerminate', process: { server: 'TS09', sessionId: 2, processId: 1, processName: 'a', userSid: null, cpuTime: -1 } }] }]) {
      const mock = createMockApi(farm([{ pid: 100, name: 'w.exe' }]));
      await expect(createWts({ api: mock }).terminateProcess({ pid: 100 }, { server: 'TS09', ...options } as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      expect(mock.calls.filter((c) => !['computerName', 'localNames', 'currentId', 'consoleId'].includes(c.api))).toEqual([]);
    }
  });
});

// ---- property ----------------------------------------------------------------------------------

type Proc = { pid: number; name: string; user: string; cpu: number };

const procArb = fc.record({
  pid: fc.integer({ min: 1, max: 30 }),
  name: fc.constantFrom('a.exe', 'A.EXE', 'b.exe'),
  user: fc.constantFrom('CORP\\bob', 'CORP\\carol'),
  cpu: fc.integer({ min: 0, max: 50 }),
});
/** A change made as the n-th listing call is logged (so that listing sees it). */
const changeArb = fc.record({
  at: fc.integer({ min: 2, max: 6 }),
  which: fc.nat(),
  kind: fc.constantFrom('remove', 'rename', 'owner', 'lessCpu', 'moreCpu', 'move', 'fault', 'degrade'),
  to: fc.constantFrom(0, 2, 3),
});

const stats = { ended: 0, changed: 0 };
function propertyRun(withDegrade: boolean) {
  return fc.asyncProperty(
    fc.array(fc.record({ id: fc.constantFrom(0, 2, 2, 3), p: procArb }), { minLength: 1, maxLength: 14 }),
    fc.array(changeArb, { maxLength: 5 }),
    fc.constantFrom(1, 2, 3, 4, 64),
    fc.boolean(),
    fc.boolean(),
    fc.option(fc.integer({ min: 1, max: 14 }), { nil: undefined }),
    fc.constantFrom<'all' | 2 | 'pid'>('all', 2, 'pid'),
    async (rows, rawChanges, concurrency, allowServices, usePlan, abortAt, scope) => {
      const changes = withDegrade ? rawChanges : rawChanges.filter((c) => c.kind !== 'degrade');
      const seen = new Set<number>();
      const bySession: Record<number, Proc[]> = { 0: [], 2: [], 3: [] };
      for (const { id, p } of rows) if (!seen.has(p.pid) && seen.add(p.pid)) bySession[id]!.push(p);
      const toFarm = (ps: Proc[]) => ps.map((p) => ({ pid: p.pid, name: p.name, user: p.user, userTime: p.cpu, kernelTime: 0 }));
      const f = farm(toFarm(bySession[2]!), toFarm(bySession[3]!), toFarm(bySession[0]!));
      const allPids = [...seen];
      const target = scope === 'pid' ? { pid: allPids[0] ?? 1 } : scope === 'all' ? { name: 'a.exe', all: true } : { name: 'a', session: 2 };

      // The identity of each PID at the first listing (no change is made before it), or per the plan.
      const where = (mock: MockApi, pid: number) => {
        for (const id of [0, 2, 3]) {
          const p = (mock.getSession('TS09', id)?.processes ?? []).find((q) => q.pid === pid);
          if (p) return { session: id, name: p.name, user: p.user as string, cpu: (p.userTime ?? 0) + (p.kernelTime ?? 0) };
        }
        return undefined;
      };
      let plan: readonly TerminateOutcome[] | undefined;
      if (usePlan) {
        try {
          plan = await createWts({ api: createMockApi(f) }).terminateProcess(target, { server: 'TS09', dryRun: true, allowServices });
        } catch {
          return;
        }
      }
      const ac = new AbortController();
      const identity = new Map<number, ReturnType<typeof where>>();
      const violations: string[] = [];
      let listings = 0;
      let calls = 0;
      let lastListed = new Map<number, ReturnType<typeof where>>();
      const snapshot = () => {
        lastListed = new Map();
        for (const id of [0, 2, 3]) for (const p of mock.getSession('TS09', id)?.processes ?? []) lastListed.set(p.pid, where(mock, p.pid));
      };
      const mock: MockApi = createMockApi(f, {
        onCall: (c) => {
          calls++;
          // The abort fires right after this call is logged (a call already started is not "after").
          if (abortAt !== undefined && calls === abortAt) queueMicrotask(() => ac.abort());
          if (c.api === 'terminate') {
            const pid = c.processId!;
            if (ac.signal.aborted) violations.push(`terminate ${pid} after the abort`);
            // The PID as the latest listing before this call saw it (a change after it is the
            // acknowledged window between the re-check and the call).
            const now = lastListed.get(pid);
            const was = identity.get(pid);
            if (!now || !was) {
              violations.push(`terminate ${pid}: not running at the last listing (now ${JSON.stringify(now)}, listed ${JSON.stringify(was)})`);
              return;
            }
            if (now.session === 0 && !allowServices) violations.push(`terminate ${pid} in session 0`);
            if (scope === 2 && now.session !== 2) violations.push(`terminate ${pid} out of session 2`);
            if (now.name.toLowerCase() !== was.name.toLowerCase() || now.session !== was.session || now.user !== was.user || now.cpu < was.cpu) {
              violations.push(`terminate ${pid}: now ${JSON.stringify(now)}, was ${JSON.stringify(was)}`);
            }
            if (plan) {
              const q = plan.find((o) => o.status === 'wouldTerminate' && o.process.processId === pid);
              if (!q) violations.push(`terminate ${pid}: not in the plan`);
              else if (q.process.processName.toLowerCase() !== now.name.toLowerCase() || q.process.sessionId !== now.session || (q.process.cpuTime ?? 0) > now.cpu) {
                violations.push(`terminate ${pid}: not the planned process`);
              }
            }
            return;
          }
          if (!isListing(c)) return;
          listings++;
          if (listings === 1) {
            if (!plan) for (const pid of allPids) identity.set(pid, where(mock, pid));
            else for (const o of plan) if (o.status === 'wouldTerminate') identity.set(o.process.processId, { session: o.process.sessionId, name: o.process.processName, user: where(mock, o.process.processId)?.user ?? '', cpu: o.process.cpuTime ?? 0 });
            return;
          }
          for (const ch of changes.filter((x) => x.at === listings)) {
            const pid = allPids[ch.which % Math.max(1, allPids.length)];
            if (pid === undefined) continue;
            const now = where(mock, pid);
            if (ch.kind === 'fault') {
              mock.setFault('TS09', 'processesEx', ch.to, 5);
              continue;
            }
            if (!now) continue;
            // The session's listings answer level 0 from now on, and the PID gets a fresh process.
            if (ch.kind === 'degrade') mock.setFault('TS09', 'processesEx', now.session, 1745);
            const base: FarmProcess = { pid, name: now.name, user: now.user, userTime: now.cpu, kernelTime: 0 };
            replace(mock, now.session, pid, undefined);
            if (ch.kind === 'remove') continue;
            const next: FarmProcess =
              ch.kind === 'rename' ? { ...base, name: now.name === 'b.exe' ? 'a.exe' : 'b.exe' }
              : ch.kind === 'owner' ? { ...base, user: now.user === 'CORP\\bob' ? 'CORP\\carol' : 'CORP\\bob' }
              : ch.kind === 'lessCpu' || ch.kind === 'degrade' ? { ...base, userTime: 0, kernelTime: 0 }
              : ch.kind === 'moreCpu' ? { ...base, userTime: now.cpu + 7 }
              : base;
            replace(mock, ch.kind === 'move' ? ch.to : now.session, pid, next);
          }
        },
      });
      // Each listing's farm, taken as the listing resolves (before the library's code sees it).
      const api = overriding(mock, {
        enumerateProcessesEx: async (...a: Parameters<MockApi['enumerateProcessesEx']>) => {
          const r = await mock.enumerateProcessesEx(...a);
          snapshot();
          return r;
        },
        enumerateProcesses: async (...a: Parameters<MockApi['enumerateProcesses']>) => {
          const r = await mock.enumerateProcesses(...a);
          snapshot();
          return r;
        },
      });
      let out: readonly TerminateOutcome[];
      try {
        out = await createWts({ api }).terminateProcess(target, { server: 'TS09', allowServices, concurrency, signal: ac.signal, ...(plan ? { plan } : {}) });
      } catch {
        if (terminated(mock).length > 0) violations.push('rejected after ending processes');
        expect(violations).toEqual([]);
        return;
      }
      // One outcome per process, and requests that say what was sent.
      const ids = out.map((o) => o.process.processId);
      if (new Set(ids).size !== ids.length) violations.push(`duplicate outcomes ${ids.join(',')}`);
      const sent = terminated(mock).filter((pid): pid is number => pid !== undefined);
      stats.ended += sent.length;
      stats.changed += out.filter((o) => o.status === 'skipped' && o.reason === 'changed').length;
      for (const o of out) {
        const did = sent.includes(o.process.processId);
        if (did !== (o.requests.length === 1)) violations.push(`${o.process.processId}: requests ${JSON.stringify(o.requests)} but sent ${did}`);
        if (o.status === 'terminated' && !did) violations.push(`${o.process.processId}: terminated without a call`);
      }
      for (const pid of sent) if (!ids.includes(pid)) violations.push(`terminate ${pid} without an outcome`);
      expect(violations).toEqual([]);
    },
  );
}

describe('adv3: property — every WTSTerminateProcess is for the same process its round listed', () => {
  test('changes (reuse, rename, owner, CPU, move, removal, listing faults) at random listings, random concurrency and aborts', async () => {
    await fc.assert(propertyRun(false), { numRuns: Number(process.env.ADV3_RUNS ?? 400) });
    // The search reached the interesting cases.
    expect(stats.ended).toBeGreaterThan(50);
    expect(stats.changed).toBeGreaterThan(5);
  });

  test('the same with level-0 fallbacks (1745) on the round listings', async () => {
    await fc.assert(propertyRun(true), { numRuns: 400 });
  });
});
