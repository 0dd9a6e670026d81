/**
 * The `anyOf` filter: a session must match at least one alternative and every filter beside
 * `anyOf`. Checked before any call; and a property that hunts, over random farms (6.1 servers,
 * versions that cannot be read, sessions locked / unlocked / unknown, idle or not) and random
 * alternatives, for a session listed or acted on that the filter does not select — and, for
 * listSessions, for one it selects but leaves out.
 */
import fc from 'fast-check';
import { createWts } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { expectedLocked, lockWorldArb } from '../lock-property';
import { rejection, setup } from '../helpers';

const MIN = 60_000;

describe('anyOf: checked before any call', () => {
  test.each([
    ['not an array', { anyOf: { state: 'Disc' } }],
    ['empty', { anyOf: [] }],
    ['more than 16', { anyOf: new Array(17).fill({ state: 'Disc' }) }],
    ['an alternative that is not an object', { anyOf: ['Disc'] }],
    ['a nested anyOf', { anyOf: [{ anyOf: [{ state: 'Disc' }] }] }],
    ['an unknown key in an alternative', { anyOf: [{ sate: 'Disc' }] }],
    ['a bad value in an alternative', { anyOf: [{ locked: 'yes' }] }],
    ['a bad duration in an alternative', { anyOf: [{ idleLongerThan: '2 hours' }] }],
  ])('%s: InvalidArgumentError naming the alternative, no call', async (_what, options) => {
    const { mock, wts } = setup();
    const e = await rejection(wts.logoffAll({ ...options, dryRun: true } as never));
    expect(e.code).toBe('E_INVALID_ARGUMENT');
    expect(String(e['argument'])).toMatch(/^options\.anyOf/);
    expect(mock.calls.filter((c) => c.api !== 'computerName' && c.api !== 'localNames')).toEqual([]);
  });

  test('"disconnected or locked, idle over 1 h" is one call', async () => {
    const { wts } = setup();
    const out = await wts.logoffAll({ anyOf: [{ state: 'Disconnected' }, { locked: true }], idleLongerThan: '1h', dryRun: true });
    const planned = out.filter((o) => o.status === 'wouldLogOff').map((o) => o.session.id);
    const skipped = out.filter((o) => o.status === 'skipped' && o.reason === 'filtered');
    expect(planned.length + skipped.length).toBeGreaterThan(0);
    for (const o of skipped) expect(o.status === 'skipped' && o.message).toMatch(/no alternative of anyOf|idle|no input/);
  });
});

describe('anyOf: property — what is listed or acted on is exactly what the filter selects', () => {
  const alternative = fc.constantFrom<Record<string, unknown>>(
    { state: 'Disconnected' },
    { locked: true },
    { locked: false },
    { idleLongerThan: '1h30s' },
    { user: 'a*' },
    { state: 'Active', locked: true },
  );
  const beside = fc.constantFrom<Record<string, unknown>>({}, { idleLongerThan: '1h30s' }, { user: '*o*' }, { state: ['Active', 'Disconnected'] });

  test('no session outside the selection is listed, planned or acted on; listSessions misses none', async () => {
    let actedInAll = 0;
    await fc.assert(
      fc.asyncProperty(lockWorldArb, fc.array(alternative, { minLength: 1, maxLength: 3 }), beside, fc.constantFrom('listSessions', 'logoffAll', 'disconnectAll'), async (world, alternatives, extra, op) => {
        const mock = createMockApi(world.farm);
        const wts = createWts({ api: mock });
        const sessionOf = (server: string, id: number) => world.farm.servers.find((s) => s.name === server)!.sessions!.find((s) => s.id === id)!;
        // The oracle: the filter's meaning, from the farm's truth.
        const one = (f: Record<string, unknown>, server: string, id: number): boolean => {
          const s = sessionOf(server, id);
          const idleMs = s.lastInputTime ? Date.now() - Date.parse(s.lastInputTime) : null;
          if (f['state'] !== undefined && !([] as unknown[]).concat(f['state']).includes(s.state)) return false;
          const pattern = new RegExp(`^${String(f['user']).replace(/\*/g, '.*')}$`, 'i');
          // As the library matches a user: the name alone, or DOMAIN\name when the pattern has a backslash.
          const qualified = String(f['user']).includes('\\');
          if (f['user'] !== undefined && !(s.user && pattern.test(qualified ? `${s.domain ?? ''}\\${s.user}` : s.user))) return false;
          if (f['idleLongerThan'] !== undefined && !(idleMs !== null && idleMs > 61 * MIN - 30_000)) return false;
          if (f['locked'] !== undefined && expectedLocked(world, server, id) !== f['locked']) return false;
          return true;
        };
        const selected = (server: string, id: number) => one(extra, server, id) && alternatives.some((a) => one(a, server, id));
        const options = { ...extra, anyOf: alternatives, servers: ['TS01', 'WF12', 'WF13'] };
        if (op === 'listSessions') {
          const listed = (await wts.listSessions(options as never)).results.map((s) => [s.server || 'TS01', s.id] as const);
          for (const [server, id] of listed) expect({ server, id, selected: selected(server, id) }).toEqual({ server, id, selected: true });
          for (const server of world.farm.servers) {
            for (const s of server.sessions ?? []) {
              if (selected(server.name, s.id)) expect(listed).toContainEqual([server.name, s.id]);
            }
          }
        } else {
          await (wts[op] as (o: unknown) => Promise<unknown>)({ ...options, pollIntervalMs: 1 });
          const acted = mock.calls.filter((c) => c.api === 'logoff' || c.api === 'disconnect');
          actedInAll += acted.length;
          for (const c of acted) expect({ server: c.server, id: c.sessionId, selected: selected(c.server, c.sessionId!) }).toEqual({ server: c.server, id: c.sessionId, selected: true });
        }
      }),
      { numRuns: 150 },
    );
    expect(actedInAll).toBeGreaterThan(10); // the search reached sessions that were acted on
  });
});
