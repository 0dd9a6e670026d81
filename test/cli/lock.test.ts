/**
 * The lock state on the command line: --locked / --unlocked on every bulk command (a session whose
 * lock state is unknown matches neither), and `wts-query user --long`'s LOCKED column.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Farm } from '../../src/mock';
import { exampleFarm } from '../helpers';
import { simulate, type Sim } from './run';
import { killWatchers, waiting, watch } from './watcher';

/** The example farm with lock states: bob and carol locked, temp01 unknown; WF12 a 6.1 server. */
function lockFarm(): Farm {
  const farm = exampleFarm();
  const [ts01, wf12] = farm.servers;
  const set = (server: typeof ts01, id: number, locked: boolean | null) => {
    const s = server!.sessions!.find((x) => x.id === id)!;
    s.locked = locked;
  };
  set(ts01, 3, true);
  set(ts01, 4, true);
  set(ts01, 6, null);
  wf12!.osVersion = '6.1';
  set(wf12, 2, true);
  return farm;
}

const acted = (r: { calls: Array<{ api: string; sessionId?: number }> }, api: string) => r.calls.filter((c) => c.api === api).map((c) => c.sessionId);

describe('--locked / --unlocked', () => {
  test('wts-logoff /all --locked: only locked sessions; unknown ones are skipped and say so', () => {
    const sim = simulate(lockFarm());
    const plan = sim.run('wts-logoff', ['/all', '--locked', '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^Would log off session 3 \(CORP\\bob, Disconnected\)\.$/m);
    expect(plan.stdout).toMatch(/^Would log off session 4 \(RDP-Tcp#1, CORP\\carol, Active\)\.$/m);
    expect(plan.stdout).toMatch(/^Skipped session 6 \(CORP\\temp01, Disconnected\): lock state unknown\.$/m);
    expect(plan.stdout).toMatch(/^Skipped session 7 \(RDP-Tcp#3, CORP\\erin, Active\): not locked\.$/m);
    expect(plan.stdout).toMatch(/^2 would be logged off, 7 skipped\.$/m);
    const done = sim.run('wts-logoff', ['/all', '--locked', '--yes', '--no-wait']);
    expect(done.code).toBe(0);
    expect(acted(done, 'logoff')).toEqual([3, 4]);
    // One NetServerGetInfo per run (per server), not per session.
    expect(done.log.filter((l) => l.includes('"api":"version"'))).toHaveLength(1);
  });

  test('--disconnected-or-locked: disconnected sessions and locked ones, with the other filters too', () => {
    const sim = simulate(lockFarm());
    const plan = sim.run('wts-logoff', ['/all', '--disconnected-or-locked', '--dry-run']);
    expect(plan.code).toBe(0);
    // bob (Disconnected, locked), carol (Active, locked), temp01 (Disconnected, lock unknown): each by one alternative.
    expect(plan.stdout).toMatch(/^Would log off session 3 \(CORP\\bob, Disconnected\)\.$/m);
    expect(plan.stdout).toMatch(/^Would log off session 4 \(RDP-Tcp#1, CORP\\carol, Active\)\.$/m);
    expect(plan.stdout).toMatch(/^Would log off session 6 \(CORP\\temp01, Disconnected\)\.$/m);
    expect(plan.stdout).toMatch(/^Skipped session 7 \(RDP-Tcp#3, CORP\\erin, Active\): matches no alternative of anyOf \(state Active not selected; not locked\)\.$/m);
    const narrowed = sim.run('wts-logoff', ['/all', '--disconnected-or-locked', '--user', 'carol', '--yes', '--no-wait']);
    expect(acted(narrowed, 'logoff')).toEqual([4]);
    expect(sim.run('wts-disconnect', ['--disconnected-or-locked']).code).toBe(2); // a filter goes with /all
  });

  test('on a 6.1 server (Windows Server 2008 R2) the swapped flag is read right', () => {
    const r = simulate(lockFarm()).run('wts-logoff', ['/all', '/server:WF12', '--locked', '--dry-run', '--json']);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status: string; session: { id: number } });
    expect(docs.filter((d) => d.status === 'wouldLogOff').map((d) => d.session.id)).toEqual([2]);
  });

  test('wts-disconnect /all --unlocked and wts-msg * --locked', () => {
    const sim = simulate(lockFarm());
    const d = sim.run('wts-disconnect', ['/all', '--unlocked', '--yes', '--no-wait']);
    expect(d.code).toBe(0);
    expect(acted(d, 'disconnect')).toEqual([5, 7]);
    const m = sim.run('wts-msg', ['*', '--locked', '--dry-run', '-v', 'Maintenance at 18:00']);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^Would send to session 3 /m);
    expect(m.stdout).toMatch(/^Would send to session 4 /m);
    expect(m.stdout).not.toMatch(/^Would send to session (1|2|5|6|7) /m);
  });

  test('usage errors, exit 2 with no call: both switches, or without /all or *', () => {
    const sim = simulate(lockFarm());
    for (const [bin, args] of [
      ['wts-logoff', ['/all', '--locked', '--unlocked', '--dry-run']],
      ['wts-logoff', ['3', '--locked']],
      ['wts-disconnect', ['4', '--unlocked']],
      ['wts-msg', ['bob', '--locked', 'hello']],
      ['wts-query', ['session', '--long']],
      ['wts-query', ['session', '--long', '--watch']],
    ] as const) {
      const r = sim.run(bin, [...args]);
      expect([bin, ...args, r.code]).toEqual([bin, ...args, 2]);
      expect(r.log).toEqual([]);
    }
  });

  test('the help of every bulk command names the switches', () => {
    const sim = simulate();
    for (const bin of ['wts-logoff', 'wts-disconnect', 'wts-msg'] as const) {
      expect(sim.run(bin, ['/?']).stdout).toMatch(/--locked/);
    }
    expect(sim.run('wts-query', ['/?']).stdout).toMatch(/--long +With user: a LOCKED column/);
  });
});

describe('wts-query user --long', () => {
  test('a LOCKED column after quser\'s: Locked, Unlocked, or ? when unknown', () => {
    const r = simulate(lockFarm()).run('wts-query', ['user', '--long']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ USERNAME +SESSIONNAME +ID +STATE +IDLE TIME +LOGON TIME +LOCKED$/);
    const locked = (user: string) => lines.find((l) => l.slice(1).startsWith(`${user} `))?.trimEnd().split(/\s+/).pop();
    expect([locked('bob'), locked('carol'), locked('temp01'), locked('alice')]).toEqual(['Locked', 'Locked', '?', 'Unlocked']);
    // Without --long: quser's table as before, no lock query.
    const plain = simulate(lockFarm()).run('wts-query', ['user']);
    expect(plain.stdout.split('\n')[0]).toMatch(/LOGON TIME$/);
    expect(plain.log.filter((l) => l.includes('WTSSessionInfoEx') || l.includes('"api":"version"'))).toEqual([]);
  });

  test('--json: details.locked true, false or null', () => {
    const r = simulate(lockFarm()).run('wts-query', ['user', '--long', '--json']);
    const doc = JSON.parse(r.stdout) as { results: Array<{ id: number; details: { locked: boolean | null } }> };
    expect(doc.results.map((s) => [s.id, s.details.locked])).toEqual([[1, false], [2, false], [3, true], [4, true], [5, false], [6, null], [7, false]]);
  });
});

/** Another process's edit of the farm file: a new file renamed over it. */
function edit(sim: Sim, change: (farm: Farm) => void): void {
  const farm = JSON.parse(readFileSync(sim.path, 'utf8')) as Farm;
  change(farm);
  writeFileSync(`${sim.path}.new`, JSON.stringify(farm, null, 2));
  renameSync(`${sim.path}.new`, sim.path);
}

describe('wts-query user --watch --long', () => {
  afterEach(killWatchers);

  test('--json: details.locked in every event; a lock is reported at the next listing, as a lock event', async () => {
    const sim = simulate(lockFarm());
    const w = watch(sim, ['user', '--watch', '--json', '--long']);
    try {
      await waiting(sim);
      // Windows raises no session event for a lock (docs/watchSessions.md): the lock alone wakes
      // nothing; the next listing (here, after erin's logoff) reports it.
      edit(sim, (farm) => {
        farm.servers[0]!.sessions!.find((s) => s.id === 5)!.locked = true; // dave, was unlocked
      });
      expect(sim.run('wts-logoff', ['7']).code).toBe(0); // erin
      await w.until(/"type":"lock"/);
      await w.until(/"type":"logoff"/);
      const events = w
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; session: { id: number; details: { locked?: boolean | null } }; before?: { details: { locked?: boolean | null } } });
      expect(events.map((e) => [e.type, e.session.id]).sort()).toEqual([
        ['lock', 5],
        ['logoff', 7],
      ]);
      const lock = events.find((e) => e.type === 'lock')!;
      expect([lock.before?.details.locked, lock.session.details.locked]).toEqual([false, true]);
      // One WTSSessionInfoEx query per session with a user, per listing: the lock detail is read.
      expect(readFileSync(sim.log, 'utf8')).toMatch(/WTSSessionInfoEx/);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exit).toBe(130);
    expect(w.stderr()).toBe('');
  });

  test('without --long: no lock query and no lock event', async () => {
    const sim = simulate(lockFarm());
    const w = watch(sim, ['user', '--watch', '--json']);
    try {
      await waiting(sim);
      edit(sim, (farm) => {
        farm.servers[0]!.sessions!.find((s) => s.id === 5)!.locked = true;
      });
      expect(sim.run('wts-logoff', ['7']).code).toBe(0);
      await w.until(/"type":"logoff"/);
      expect(w.stdout()).not.toMatch(/"type":"lock"|"locked"/);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exit).toBe(130);
    expect(readFileSync(sim.log, 'utf8')).not.toMatch(/WTSSessionInfoEx/);
  });
});
