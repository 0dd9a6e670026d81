import { simulate } from './run';

describe('wts-query session', () => {
  test('prints query session\'s table', () => {
    const r = simulate().run('wts-query', ['session']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE');
    expect(lines).toContain('>rdp-tcp#0         alice                     2  Active');
    expect(lines).toContain('                   bob                       3  Disc');
    expect(lines).toContain(' rdp-tcp                                 65536  Listen');
    expect(r.calls.map((c) => c.api)).toEqual(['enumerate']);
  });

  test('filters by session name, user name or ID', () => {
    const sim = simulate();
    for (const filter of ['RDP-TCP#1', 'carol', '4']) {
      const r = sim.run('wts-query', ['session', filter]);
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
      expect(r.stdout).toMatch(/carol\s+4\s+Active/);
    }
    const none = sim.run('wts-query', ['session', 'nobody']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('No session exists for nobody\n');
  });

  test('--json prints the sessions', () => {
    const r = simulate().run('wts-query', ['session', '/server:wf12', '--json']);
    const doc = JSON.parse(r.stdout) as { schema: number; type: string; results: Array<{ id: number; server: string }>; failures: unknown[] };
    expect(doc).toMatchObject({ schema: 1, type: 'sessions', query: 'session', failures: [] });
    expect(r.stdout.split('\n')).toHaveLength(2); // one line, and its newline
    const sessions = doc.results;
    expect(sessions.map((s) => s.id)).toEqual([0, 1, 2, 3, 65536]);
    expect(sessions[0]!.server).toBe('wf12');
  });

  test('usage errors exit 2 with no call', () => {
    const sim = simulate();
    for (const args of [[], ['sessoin'], ['session', 'a', 'b'], ['session', '/server:'], ['session', '/x']]) {
      const r = sim.run('wts-query', args);
      expect(r.code).toBe(2);
      expect(r.calls).toEqual([]);
    }
  });

  test('an unreachable server exits 1', () => {
    const r = simulate().run('wts-query', ['session', '/server:WF13']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1722/);
  });
});
