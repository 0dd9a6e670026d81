/**
 * Commands: items earlier reviews noticed and left alone, fixed; each test failed before its fix.
 */
import { exampleFarm } from '../helpers';
import { simulate } from './run';

const sentTo = (r: { calls: Array<{ api: string; server?: string; sessionId?: number }> }) => r.calls.filter((c) => c.api === 'message').map((c) => `${c.server}:${c.sessionId}`);

describe('wts-msg USER whose every session is skipped', () => {
  // docs/wts-msg.md: a user whose every session was skipped (ended, logging off already, another
  // logon) exits 1, "nobody got the message". It exited 0 with every outcome skipped.
  test.each([
    ['logging off already (its read answers 7007)', 7007],
    ['ended (7022)', 7022],
  ])('carol, whose only session is %s: nothing sent, exit 1, says why', (_what, code) => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': code } };
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wts-msg: every session of 'carol' was skipped");
    expect(r.stderr).toContain('nobody got the message');
  });

  test('--json: the summary says exit 1 too', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['carol', '--json', 'hello']);
    const docs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(r.code).toBe(1);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'summary', exitCode: 1 });
  });

  test('a user with one session reached and one skipped: exit 0, no such line', () => {
    const farm = exampleFarm();
    farm.servers[0]!.sessions!.push({ id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'carol', domain: 'CORP', logonTime: '2026-11-21T09:00:00Z' });
    farm.servers[0]!.faults = { query: { '4': 7007 } };
    const r = simulate(farm).run('wts-msg', ['carol', 'hello']);
    expect(sentTo(r)).toEqual(['TS01:9']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('nobody got the message');
  });

  test('wts-msg * where every session is skipped stays exit 0 (nobody was named)', () => {
    const farm = exampleFarm();
    farm.servers[0]!.faults = { query: { '*': 7022 } };
    const r = simulate(farm).run('wts-msg', ['*', 'hello']);
    expect(sentTo(r)).toEqual([]);
    expect(r.stderr).not.toContain('nobody got the message');
  });
});
