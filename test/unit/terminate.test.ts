/**
 * terminateProcess on the mock: tskill's grammar and rules, the refusals (Services, other
 * sessions, the caller itself), the identity re-check against PID reuse, plans, errors and aborts;
 * and a property test that hunts for a termination of a process the call was not allowed to end.
 */
import fc from 'fast-check';
import { IDLE_PROCESS_NAME } from '../../src/backends/mock/mock-api';
import { createMockApi, type Farm, type FarmSession, type MockApi } from '../../src/mock';
import { createWts, type TerminateOutcome } from '../../src';
import { exampleFarm, overriding, rejection, setup } from '../helpers';

const terminated = (mock: MockApi) => mock.calls.filter((c) => c.api === 'terminate').map((c) => c.processId);
const summary = (outcomes: readonly TerminateOutcome[]) =>
  outcomes.map((o) => `${o.process.processId}:${o.status}${o.status === 'skipped' ? `:${o.reason}` : ''}`);

/** The example farm with processes in session 0 and a second explorer.exe in session 3. */
function farm(): Farm {
  const f = exampleFarm();
  const ts01 = f.servers[0]!;
  ts01.sessions!.find((s) => s.id === 0)!.processes = [{ pid: 4, name: 'System' }, { pid: 880, name: 'svchost.exe' }];
  ts01.sessions!.find((s) => s.id === 3)!.processes!.push({ pid: 6200, name: 'explorer.exe' });
  return f;
}

describe('terminateProcess: checked before any call', () => {
  test.each([
    ['no target', undefined],
    ['both pid and name', { pid: 1, name: 'x.exe' }],
    ['neither', { session: 2 }],
    ['a negative pid', { pid: -1 }],
    ['a fractional pid', { pid: 1.5 }],
    ['a pid too large', { pid: 2 ** 32 }],
    ['a pid as text', { pid: '42' }],
    ['an empty name', { name: ' ' }],
    ['a name with a path', { name: 'C:\\x\\notepad.exe' }],
    ['a name with a control character', { name: 'a\u0007.exe' }],
    ['session and all', { name: 'x.exe', session: 2, all: true }],
    ['all not a boolean', { name: 'x.exe', all: 'yes' }],
    ['a reserved session', { name: 'x.exe', session: 0xffffffff }],
    ['an unknown key', { pid: 1, force: true }],
    ['an all on a pid', { pid: 1, all: true }],
  ])('%s: InvalidArgumentError, no call', async (_what, target) => {
    const { mock, wts } = setup(farm());
    const e = await rejection(wts.terminateProcess(target as never));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(mock.calls.filter((c) => c.api !== 'computerName' && c.api !== 'localNames')).toEqual([]);
  });

  test.each([
    ['exitCode', { exitCode: -1 }],
    ['exitCode', { exitCode: 1.5 }],
    ['dryRun', { dryRun: 1 }],
    ['allowServices', { allowServices: 'true' }],
    ['concurrency', { concurrency: 0 }],
    ['signal', { signal: {} }],
    ['plan', { plan: 'x' }],
    ['plan', { plan: [{ status: 'wouldTerminate', process: { processId: 'x' } }] }],
    ['plan with dryRun', { plan: [], dryRun: true }],
    ['unknown', { force: true }],
    ['servers', { servers: ['TS01'] }],
  ])('bad %s: InvalidArgumentError, no call', async (_what, options) => {
    const { mock, wts } = setup(farm());
    const e = await rejection(wts.terminateProcess({ pid: 6100 }, options as never));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(terminated(mock)).toEqual([]);
    expect(mock.calls.filter((c) => c.api === 'processes' || c.api === 'open')).toEqual([]);
  });

  test('a name on a named server needs its session or all: refused before the server is opened', async () => {
    const { mock, wts } = setup(farm());
    const e = await rejection(wts.terminateProcess({ name: 'excel.exe' }, { server: 'WF12' }));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(e.message).toMatch(/session/);
    expect(mock.calls.filter((c) => c.api === 'open' || c.api === 'processes')).toEqual([]);
  });

  test('session 0 named without allowServices: refused before any process is ended', async () => {
    const { mock, wts } = setup(farm());
    const e = await rejection(wts.terminateProcess({ name: 'svchost.exe', session: 0 }));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(terminated(mock)).toEqual([]);
  });
});

describe('terminateProcess: refusals that need no call (from the adversarial review)', () => {
  const anyCall = (mock: MockApi) => mock.calls.map((c) => c.api);

  test('session 0 without allowServices, on a named server or locally, by name or PID: no call at all', async () => {
    for (const [target, options] of [
      [{ name: 'svchost', session: 0 }, { server: 'WF12' }],
      [{ pid: 4, session: 0 }, { server: 'WF12' }],
      [{ pid: 4, session: 0 }, {}],
    ] as const) {
      const { mock, wts } = setup(farm());
      expect((await rejection(wts.terminateProcess(target, options))).code).toBe('E_INVALID_ARGUMENT');
      expect(anyCall(mock)).toEqual([]);
    }
    const { mock, wts } = setup(farm());
    expect((await rejection(wts.openServer('WF12').terminateProcess({ name: 'excel', session: 0 }))).code).toBe('E_INVALID_ARGUMENT');
    expect(anyCall(mock)).toEqual([]);
  });

  test('a backend without WTSTerminateProcess: UnsupportedPlatformError before any call (a dry run still lists)', async () => {
    const mock = createMockApi(farm());
    const api = overriding(mock, { terminateProcess: undefined });
    const wts = createWts({ api });
    expect((await rejection(wts.terminateProcess({ pid: 6100 }))).code).toBe('E_UNSUPPORTED_PLATFORM');
    expect(anyCall(mock)).toEqual([]);
    expect((await wts.terminateProcess({ pid: 6100 }, { dryRun: true })).map((o) => o.status)).toEqual(['wouldTerminate']);
  });

  test('a plan with a huge length is refused at once, without reading it', async () => {
    const { mock, wts } = setup(farm());
    const plan: TerminateOutcome[] = [];
    plan.length = 2 ** 32 - 1;
    const started = Date.now();
    expect((await rejection(wts.terminateProcess({ pid: 6100 }, { plan }))).code).toBe('E_INVALID_ARGUMENT');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(anyCall(mock)).toEqual([]);
  });

  test('a plan of another operation, of another server, or naming a process twice is refused before any call (as logoffAll refuses such plans)', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ name: 'explorer', all: true }, { dryRun: true });
    const logoffPlan = await wts.logoffAll({ dryRun: true });
    const elsewhere = plan.map((o) => ({ ...o, process: { ...o.process, server: 'WF12' } }));
    const twice = [...plan, plan[0]!];
    const before = anyCall(mock).length;
    const cases: Array<[unknown, RegExp]> = [
      [logoffPlan, /a plan of another operation/],
      [elsewhere, /plans a process on WF12, which this call does not work on/],
      [twice, /plans process \d+ twice/],
    ];
    for (const [bad, message] of cases) {
      const error = await rejection(wts.terminateProcess({ name: 'explorer', all: true }, { plan: bad as TerminateOutcome[] }));
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'options.plan' });
      expect(error.message).toMatch(message);
    }
    expect(anyCall(mock).length).toBe(before);
    // The same plan, unchanged, still applies.
    expect(summary(await wts.terminateProcess({ name: 'explorer', all: true }, { plan })).every((l) => l.endsWith(':terminated'))).toBe(true);
  });

  test('a plan of the local server applied on WF12 (or of WF12 locally) is refused before any listing', async () => {
    const f = farm();
    f.servers[1]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'zed', domain: 'CORP', processes: [{ pid: 9100, name: 'explorer.exe' }] });
    const { mock, wts } = setup(f);
    const local = await wts.terminateProcess({ name: 'explorer', all: true }, { dryRun: true });
    const remote = await wts.terminateProcess({ name: 'explorer', all: true }, { server: 'WF12', dryRun: true });
    const listings = () => mock.calls.filter((c) => c.api === 'processes' || c.api === 'processesEx').length;
    const before = listings();
    for (const [plan, server] of [[local, 'WF12'], [remote, undefined]] as const) {
      const error = await rejection(wts.terminateProcess({ name: 'explorer', all: true }, { plan, ...(server ? { server } : {}) }));
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'options.plan' });
      expect(error.message).toMatch(/which this call does not work on/);
    }
    expect(listings()).toBe(before);
    expect(mock.calls.filter((c) => c.api === 'terminate')).toEqual([]);
  });

  test('a plan made on a server named one way applies when it is named another way (IPv6 forms)', async () => {
    const f = farm();
    f.servers[1]!.aliases = [...(f.servers[1]!.aliases ?? []), 'fe80::1'];
    f.servers[1]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'zed', domain: 'CORP', processes: [{ pid: 9100, name: 'explorer.exe' }] });
    const { wts } = setup(f);
    const plan = await wts.terminateProcess({ pid: 9100 }, { server: 'fe80::1', dryRun: true });
    expect(plan.map((o) => o.status)).toEqual(['wouldTerminate']);
    expect(summary(await wts.terminateProcess({ pid: 9100 }, { server: 'FE80:0:0::1', plan }))).toEqual(['9100:terminated']);
  });

  test('a plan made for another target adds no outcomes for the processes it does not name', async () => {
    const { wts } = setup(farm());
    const plan = await wts.terminateProcess({ name: 'explorer', all: true }, { dryRun: true });
    expect(summary(await wts.terminateProcess({ pid: 5004 }, { plan }))).toEqual(['5004:terminated']);
  });

  test('a planned PID now running in another session is changed, not gone', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ pid: 6100 }, { dryRun: true });
    const real = createMockApi(mock.toFarm(), {
      onCall: (c) => {
        // Between the listing and the re-check, excel.exe ends and its PID goes to session 4.
        if ((c.api !== 'processes' && c.api !== 'processesEx') || moved) return;
        if (++seen < 2) return;
        moved = true;
        const s3 = real.getSession('TS01', 3)!;
        real.putSession('TS01', { ...s3, processes: [] } as FarmSession);
        const s4 = real.getSession('TS01', 4)!;
        real.putSession('TS01', { ...s4, processes: [{ pid: 6100, name: 'excel.exe' }] } as FarmSession);
      },
    });
    let seen = 0;
    let moved = false;
    const out = await createWts({ api: real }).terminateProcess({ pid: 6100 }, { plan });
    expect(summary(out)).toEqual(['6100:skipped:changed']);
    expect(real.calls.filter((c) => c.api === 'terminate')).toEqual([]);
  });

  test("access denied from WTSTerminateProcess says what it takes to end another user's process", async () => {
    const f = farm();
    f.servers[0]!.faults = { terminate: { '6100': 5 } };
    const out = await setup(f).wts.terminateProcess({ pid: 6100 });
    const failed = out[0] as Extract<TerminateOutcome, { status: 'failed' }>;
    expect(failed.error.message).toMatch(/administrator/);
    expect(failed.error.message).not.toMatch(/Logging off/);
  });
});

describe('farms: a PID runs one process at a time on a server', () => {
  test('a farm with the same PID twice on a server is refused; putSession cannot list a PID another session runs', () => {
    const f = farm();
    f.servers[0]!.sessions!.find((s) => s.id === 4)!.processes!.push({ pid: 6100, name: 'copy.exe' });
    expect(() => createMockApi(f)).toThrow(/duplicate process ID 6100/);
    const { mock } = setup(farm());
    const s4 = mock.getSession('TS01', 4)!;
    expect(() => mock.putSession('TS01', { ...s4, processes: [{ pid: 6100, name: 'x.exe' }] } as FarmSession)).toThrow(/already runs in session 3/);
    // The same PID on another server is another process.
    const g = farm();
    g.servers[1]!.sessions!.find((s) => s.id === 2)!.processes = [{ pid: 6100, name: 'excel.exe' }];
    expect(() => createMockApi(g)).not.toThrow();
  });
});

describe('terminateProcess: what is ended', () => {
  test('by PID: that process, whatever its session (not session 0); the list no longer has it', async () => {
    const { mock, wts } = setup(farm());
    const out = await wts.terminateProcess({ pid: 6100 });
    expect(summary(out)).toEqual(['6100:terminated']);
    expect(out[0]!.requests).toEqual(['WTSTerminateProcess']);
    expect(out[0]!.process).toMatchObject({ server: '', sessionId: 3, processName: 'excel.exe' });
    expect(Object.isFrozen(out) && Object.isFrozen(out[0])).toBe(true);
    expect(terminated(mock)).toEqual([6100]);
    expect((await wts.listProcesses()).some((p) => p.processId === 6100)).toBe(false);
  });

  test('by PID with a session it is not in: refused (otherSession), nothing ended', async () => {
    const { mock, wts } = setup(farm());
    expect(summary(await wts.terminateProcess({ pid: 6100, session: 4 }))).toEqual(['6100:skipped:otherSession']);
    expect(terminated(mock)).toEqual([]);
  });

  test('by name: your own session only (TS01: session 2); the others are reported, not ended', async () => {
    const { mock, wts } = setup(farm());
    const out = await wts.terminateProcess({ name: 'EXPLORER' }); // no .exe, any case
    expect(summary(out)).toEqual(['3120:skipped:otherSession', '5004:terminated', '6200:skipped:otherSession']);
    expect(terminated(mock)).toEqual([5004]);
  });

  test('by name in a named session, and in all sessions (/a); wildcards', async () => {
    const a = setup(farm());
    expect(summary(await a.wts.terminateProcess({ name: 'explorer.exe', session: 3 }))).toEqual([
      '3120:skipped:otherSession',
      '5004:skipped:otherSession',
      '6200:terminated',
    ]);
    const b = setup(farm());
    expect(summary(await b.wts.terminateProcess({ name: 'expl*', all: true }))).toEqual(['3120:terminated', '5004:terminated', '6200:terminated']);
    expect(terminated(b.mock).sort()).toEqual([3120, 5004, 6200]);
  });

  test('Services (session 0) is refused even with all, and ended only with allowServices', async () => {
    const a = setup(farm());
    expect(summary(await a.wts.terminateProcess({ name: 'svchost.exe', all: true }))).toEqual(['880:skipped:services']);
    expect(summary(await a.wts.terminateProcess({ pid: 880 }))).toEqual(['880:skipped:services']);
    expect(terminated(a.mock)).toEqual([]);
    expect(summary(await a.wts.terminateProcess({ pid: 880 }, { allowServices: true }))).toEqual(['880:terminated']);
  });

  test('nothing matches anywhere: ProcessNotFoundError, nothing ended', async () => {
    const { mock, wts } = setup(farm());
    const byPid = await rejection(wts.terminateProcess({ pid: 99999 }));
    expect(byPid).toMatchObject({ code: 'E_PROCESS_NOT_FOUND', target: 99999 });
    const byName = await rejection(wts.terminateProcess({ name: 'nope.exe', all: true }));
    expect(byName).toMatchObject({ code: 'E_PROCESS_NOT_FOUND', target: 'nope.exe' });
    expect(terminated(mock)).toEqual([]);
  });

  test('a dry run ends nothing and says what would be ended', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ name: 'explorer.exe', all: true }, { dryRun: true });
    expect(summary(plan)).toEqual(['3120:wouldTerminate', '5004:wouldTerminate', '6200:wouldTerminate']);
    expect(terminated(mock)).toEqual([]);
  });

  test('the exit code is passed on (default 1)', async () => {
    const { mock, wts } = setup(farm());
    await wts.terminateProcess({ pid: 6100 });
    await wts.terminateProcess({ pid: 7200 }, { exitCode: 0 });
    expect(mock.calls.filter((c) => c.api === 'terminate').map((c) => c.exitCode)).toEqual([1, 0]);
  });
});

describe('terminateProcess: the identity re-check and the plan', () => {
  test('the PID now holds another program: not ended (changed)', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ pid: 6100 }, { dryRun: true });
    // excel.exe ended and Windows gave its PID to a new process in another session.
    const s3 = mock.getSession('TS01', 3)!;
    mock.putSession('TS01', { ...s3, processes: [] } as FarmSession);
    const s4 = mock.getSession('TS01', 4)!;
    mock.putSession('TS01', { ...s4, processes: [...(s4.processes ?? []), { pid: 6100, name: 'notepad.exe' }] } as FarmSession);
    const out = await wts.terminateProcess({ pid: 6100 }, { plan });
    expect(summary(out)).toEqual(['6100:skipped:changed']);
    expect(terminated(mock)).toEqual([]);
  });

  test('level 1: the same name in the same session is still another process when its owner or its CPU time says so', async () => {
    const f = farm();
    f.servers[0]!.sessions!.find((s) => s.id === 3)!.processes = [{ pid: 6100, name: 'excel.exe', userTime: 5000, kernelTime: 700 }];
    const { mock, wts } = setup(f);
    const plan = await wts.terminateProcess({ pid: 6100 }, { dryRun: true });
    expect(plan[0]!.process).toMatchObject({ cpuTime: 5700, userSid: expect.stringMatching(/^S-1-5-21-/) });
    const s3 = mock.getSession('TS01', 3)!;
    // Restarted by another user under the same PID, name and session: the owner differs.
    mock.putSession('TS01', { ...s3, processes: [{ pid: 6100, name: 'excel.exe', user: 'CORP\\mallory', userTime: 9000, kernelTime: 0 }] } as FarmSession);
    expect(summary(await wts.terminateProcess({ pid: 6100 }, { plan }))).toEqual(['6100:skipped:changed']);
    // Restarted by the same user: the CPU time starts again from (near) zero.
    mock.putSession('TS01', { ...s3, processes: [{ pid: 6100, name: 'excel.exe', userTime: 10, kernelTime: 0 }] } as FarmSession);
    expect(summary(await wts.terminateProcess({ pid: 6100 }, { plan }))).toEqual(['6100:skipped:changed']);
    // Still the same process (more CPU time): ended.
    mock.putSession('TS01', { ...s3, processes: [{ pid: 6100, name: 'excel.exe', userTime: 6000, kernelTime: 900 }] } as FarmSession);
    expect(summary(await wts.terminateProcess({ pid: 6100 }, { plan }))).toEqual(['6100:terminated']);
    expect(terminated(mock)).toEqual([6100]);
  });

  test('level 0 (a server without WTSEnumerateProcessesExW): no CPU time, the rest of the re-check still holds', async () => {
    const f = farm();
    f.servers[0]!.faults = { processesEx: { '*': 120 } };
    const { mock, wts } = setup(f);
    const plan = await wts.terminateProcess({ pid: 6100 }, { dryRun: true });
    expect(plan[0]!.process.cpuTime).toBeNull();
    const s3 = mock.getSession('TS01', 3)!;
    mock.putSession('TS01', { ...s3, processes: [{ pid: 6100, name: 'winword.exe' }] } as FarmSession);
    expect(summary(await wts.terminateProcess({ pid: 6100 }, { plan }))).toEqual(['6100:skipped:changed']);
  });

  test('a plan ends only its processes; a new match is notInPlan, a planned one that ended is gone', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ name: 'explorer.exe', all: true }, { dryRun: true });
    const s3 = mock.getSession('TS01', 3)!;
    mock.putSession('TS01', { ...s3, processes: [{ pid: 6100, name: 'excel.exe' }, { pid: 6300, name: 'explorer.exe' }] } as FarmSession); // 6200 ended, 6300 new
    const out = await wts.terminateProcess({ name: 'explorer.exe', all: true }, { plan });
    expect(summary(out).sort()).toEqual(['3120:terminated', '5004:terminated', '6200:skipped:gone', '6300:skipped:notInPlan'].sort());
    expect(terminated(mock).sort()).toEqual([3120, 5004]);
  });

  test('a plan for another server ends nothing there: refused as a plan of another server', async () => {
    const { mock, wts } = setup(farm());
    const plan = await wts.terminateProcess({ pid: 6100 }, { dryRun: true });
    const e = await rejection(wts.terminateProcess({ pid: 6100 }, { server: 'WF12', plan }));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(terminated(mock)).toEqual([]);
  });
});

describe('terminateProcess: failures and aborts', () => {
  test('access denied (5): failed with the Win32 error, the request listed; the others go on', async () => {
    const f = farm();
    f.servers[0]!.faults = { terminate: { '3120': 5 } };
    const { wts } = setup(f);
    const out = await wts.terminateProcess({ name: 'explorer.exe', all: true });
    expect(summary(out)).toEqual(['3120:failed', '5004:terminated', '6200:terminated']);
    const failed = out[0] as Extract<TerminateOutcome, { status: 'failed' }>;
    expect(failed.error).toMatchObject({ code: 'E_WIN32', win32Code: 5, api: 'WTSTerminateProcess' });
    expect(failed.requests).toEqual(['WTSTerminateProcess']);
  });

  test('87 from WTSTerminateProcess: the process had ended (gone), the request listed', async () => {
    const f = farm();
    f.servers[0]!.faults = { terminate: { '6100': 87 } };
    const { wts } = setup(f);
    const out = await wts.terminateProcess({ pid: 6100 });
    expect(out[0]).toMatchObject({ status: 'skipped', reason: 'gone', requests: ['WTSTerminateProcess'] });
  });

  test('the listing fails (1722): a Win32Error, nothing ended', async () => {
    const f = farm();
    f.servers[0]!.faults = { processes: { '*': 1722 } };
    const { mock, wts } = setup(f);
    expect(await rejection(wts.terminateProcess({ pid: 6100 }))).toMatchObject({ code: 'E_WIN32', win32Code: 1722 });
    expect(terminated(mock)).toEqual([]);
  });

  test('an aborted signal: nothing listed or ended; aborted during the run: the rest are reported aborted', async () => {
    const { mock, wts } = setup(farm());
    const before = new AbortController();
    before.abort();
    expect((await rejection(wts.terminateProcess({ pid: 6100 }, { signal: before.signal }))).code).toBe('E_ABORTED');
    expect(terminated(mock)).toEqual([]);

    const during = new AbortController();
    const m2 = createMockApi(farm(), { onCall: (c) => c.api === 'terminate' && during.abort() });
    const out = await createWts({ api: m2 }).terminateProcess({ name: 'explorer.exe', all: true }, { signal: during.signal, concurrency: 1 });
    expect(summary(out)).toEqual(['3120:terminated', '5004:skipped:aborted', '6200:skipped:aborted']);
  });
});

describe('terminateProcess: property — nothing is ended that the call did not allow', () => {
  const pid = fc.integer({ min: 1, max: 12 });
  const name = fc.constantFrom('a.exe', 'b.exe', 'A.EXE', 'c.exe');
  const proc = fc.record({ pid, name });
  const session = fc.record({ id: fc.integer({ min: 0, max: 4 }), processes: fc.array(proc, { maxLength: 6 }) });
  const target = fc.oneof(
    fc.record({ pid, session: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) }),
    fc.record({ name: fc.constantFrom('a', 'a.exe', '*', 'b*', '?.exe', 'zz'), session: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), all: fc.constantFrom(true, true, false) }),
  );
  // Between the plan and the act: processes end, and their PIDs are given to others.
  // (`which` picks one of the PIDs running, so that the changes hit the processes the plan holds.)
  const change = fc.array(fc.record({ session: fc.integer({ min: 0, max: 4 }), which: fc.nat(), name, remove: fc.boolean() }), { maxLength: 4 });

  test('every WTSTerminateProcess is for a process in scope, not session 0 unless allowed, in the plan, and still the same process', async () => {
    let endedInAll = 0;
    let changedSeen = 0;
    // A reused PID caught as changed comes up in about one run in 150: a batch of 500 runs saw
    // none now and then (the coverage check below then failed). Batches go on, up to 4, until the
    // search has reached it; every batch is checked in full.
    for (let batch = 0; batch < 4 && (batch === 0 || changedSeen === 0 || endedInAll <= 20); batch++) await fc.assert(
      fc.asyncProperty(fc.array(session, { maxLength: 5 }), target, fc.boolean(), fc.constantFrom(true, true, true, false), change, async (sessions, rawTarget, allowServices, usePlan, changes) => {
        // Unique session IDs and PIDs (a PID runs once on a server).
        const seen = new Set<number>();
        const farmSessions = [...new Map(sessions.map((s) => [s.id, s])).values()].map((s) => ({
          id: s.id,
          state: 'Active' as const,
          user: s.id === 0 ? '' : `u${s.id}`,
          processes: s.processes.filter((p) => !seen.has(p.pid) && seen.add(p.pid)),
        }));
        const mock = createMockApi({ localServer: 'S', servers: [{ name: 'S', currentSessionId: 2, sessions: farmSessions }] });
        const wts = createWts({ api: mock });
        const t = Object.fromEntries(Object.entries(rawTarget).filter(([, v]) => v !== undefined && v !== false)) as never;
        const tt = t as { pid?: number; name?: string; session?: number; all?: boolean };
        let plan: readonly TerminateOutcome[] | undefined;
        try {
          if (usePlan) plan = await wts.terminateProcess(t, { dryRun: true, allowServices });
        } catch {
          return; // a refusal or nothing found: nothing was ended (checked below through the log)
        }
        const running = farmSessions.flatMap((x) => x.processes.map((p) => p.pid));
        for (const { which, ...rest } of changes) {
          if (running.length === 0) break;
          const c = { ...rest, pid: running[which % running.length]! };
          // The process with that PID ends; unless `remove`, a new one gets its PID in session c.session.
          for (const x of farmSessions) {
            const s = mock.getSession('S', x.id)!;
            mock.putSession('S', { ...s, processes: (s.processes ?? []).filter((p) => p.pid !== c.pid) } as FarmSession);
          }
          const s = mock.getSession('S', c.session);
          if (s && !c.remove) mock.putSession('S', { ...s, processes: [...(s.processes ?? []), { pid: c.pid, name: c.name }] } as FarmSession);
        }
        // What each process is at the moment WTSTerminateProcess is called for it.
        const atCall = new Map<number, { session: number; name: string } | undefined>();
        mock.resetCalls();
        const watch = createMockApi(mock.toFarm(), {
          onCall: (c) => {
            if (c.api !== 'terminate') return;
            const f = watch.toFarm();
            const owner = f.servers[0]!.sessions!.find((s) => (s.processes ?? []).some((p) => p.pid === c.processId));
            const p = owner?.processes?.find((q) => q.pid === c.processId);
            // PID 0 is listed by Windows (and the mock) without being a farm process: the System Idle Process.
            const idle = c.processId === 0 && f.servers[0]!.sessions!.some((s) => s.id === 0) ? { session: 0, name: IDLE_PROCESS_NAME } : undefined;
            atCall.set(c.processId!, owner && p ? { session: owner.id, name: p.name } : idle);
          },
        });
        let out: readonly TerminateOutcome[] = [];
        try {
          out = await createWts({ api: watch }).terminateProcess(t, { allowServices, ...(plan ? { plan } : {}) });
        } catch {
          out = [];
        }
        const ended = watch.calls.filter((c) => c.api === 'terminate').map((c) => c.processId!);
        endedInAll += ended.length;
        if (plan && out.some((o) => o.status === 'skipped' && o.reason === 'changed')) changedSeen++;
        const matches = (n: string) => {
          if (tt.name === undefined) return false;
          const re = new RegExp(`^${tt.name.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
          return re.test(n) || (!/\.exe$/i.test(tt.name) && re.test(n.replace(/\.exe$/i, '')));
        };
        for (const id of ended) {
          const now = atCall.get(id);
          expect(now).toBeDefined(); // it existed when it was ended
          const scopeSession = tt.all ? undefined : tt.session ?? (tt.pid === undefined ? 2 : undefined);
          if (scopeSession !== undefined) expect(now!.session).toBe(scopeSession);
          if (!allowServices) expect(now!.session).not.toBe(0);
          if (tt.pid !== undefined) expect(id).toBe(tt.pid);
          else expect(matches(now!.name)).toBe(true);
          if (plan) {
            const planned = plan.find((o) => o.status === 'wouldTerminate' && o.process.processId === id);
            expect(planned).toBeDefined();
            expect(planned!.process.processName.toLowerCase()).toBe(now!.name.toLowerCase());
            expect(planned!.process.sessionId).toBe(now!.session);
          }
          // One outcome for it, which lists the request (terminated, or failed / gone with the code that said so).
          const mine = out.filter((o) => o.process.processId === id);
          expect(mine).toHaveLength(1);
          expect(mine[0]!.requests).toEqual(['WTSTerminateProcess']);
        }
        // Every outcome that says terminated had its request sent.
        for (const o of out) if (o.status === 'terminated') expect(ended).toContain(o.process.processId);
      }),
      { numRuns: 500 },
    );
    // The search reached the interesting cases: processes were ended, and reused PIDs were caught.
    expect(endedInAll).toBeGreaterThan(20);
    expect(changedSeen).toBeGreaterThan(0);
  });
});

describe('terminateProcess in rounds: one re-check listing per round, made when the round starts', () => {
  function bigSession(n: number): Farm {
    return {
      localServer: 'ADMIN',
      servers: [
        { name: 'ADMIN', currentSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin', domain: 'CORP' }] },
        { name: 'TS09', sessions: [{ id: 2, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', processes: Array.from({ length: n }, (_, i) => ({ pid: 1000 + 4 * i, name: 'worker.exe' })) }] },
      ],
    };
  }
  const listings = (mock: MockApi) => mock.calls.filter((c) => c.api === 'processes' || c.api === 'processesEx').length;

  test('12 processes of one session at concurrency 4: the first listing, then one per round (3), not one per process', async () => {
    const mock = createMockApi(bigSession(12));
    const out = await createWts({ api: mock }).terminateProcess({ name: 'worker.exe', session: 2 }, { server: 'TS09', concurrency: 4 });
    expect(out.filter((o) => o.status === 'terminated')).toHaveLength(12);
    expect(listings(mock)).toBe(4);
  });

  test('a PID of a later round reused during an earlier round is caught by its round\'s listing', async () => {
    let swapped = false;
    const mock: MockApi = createMockApi(bigSession(8), {
      onCall: (c) => {
        if (swapped || c.api !== 'terminate') return;
        swapped = true;
        // While round 1 ends its first process, PID 1028 (round 2) ends and a new program takes it.
        const s = mock.getSession('TS09', 2) as FarmSession;
        mock.putSession('TS09', { ...s, processes: (s.processes ?? []).map((p) => (p.pid === 1028 ? { pid: 1028, name: 'payroll.exe' } : p)) } as FarmSession);
      },
    });
    const out = await createWts({ api: mock }).terminateProcess({ name: 'worker.exe', session: 2 }, { server: 'TS09', concurrency: 4 });
    expect(out.find((o) => o.process.processId === 1028)).toMatchObject({ status: 'skipped', reason: 'changed', requests: [] });
    expect(terminated(mock)).not.toContain(1028);
    expect(out.filter((o) => o.status === 'terminated')).toHaveLength(7);
  });
});
