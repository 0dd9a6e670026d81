import { createWts } from '../../src/index';
import { createMockApi, parseFarm } from '../../src/mock';
import { lockedFromFlags } from '../../src/api/lock';

const farm = (osVersion = '10.0') =>
  parseFarm({
    localServer: 'TS01',
    servers: [
      { name: 'TS01', consoleSessionId: 1, sessions: [{ id: 1, name: 'Console', state: 'Active', user: 'admin' }] },
      {
        name: 'WF12',
        osVersion,
        sessions: [
          { id: 2, name: 'RDP-Tcp#0', state: 'Active', user: 'alice', domain: 'CORP', locked: true },
          { id: 3, name: 'RDP-Tcp#1', state: 'Active', user: 'bob', domain: 'CORP', locked: false },
        ],
      },
    ],
  });

describe.each(['10.0', '6.1'])('osVersion %s', (v) => {
  test('warn: a locked session that unlocks during the grace period', async () => {
    let flipped = false;
    const mock = createMockApi(farm(v), {
      onCall: (c) => {
        if (c.api === 'message' && !flipped) {
          flipped = true;
          // The user comes back to the desk and unlocks to read the warning.
          setImmediate(() => mock.putSession('WF12', { ...(mock.getSession('WF12', 2) as any), locked: false }));
        }
      },
    });
    const wts = createWts({ api: mock });
    const r: any = await wts.logoffAll({ server: 'WF12', locked: true, warn: { text: 'bye', graceSeconds: 0.2 }, wait: false } as any);
    const out = r.map((o: any) => [o.session.id, o.status, o.reason ?? '']);
    console.log(v, JSON.stringify(out), 'truth at act:', mock.getSession('WF12', 2)?.locked, mock.calls.filter((c) => c.api === 'logoff'));
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });

  test('no warn: lock flips between filter read and the identity re-check', async () => {
    let queries = 0;
    const mock = createMockApi(farm(v), {
      onCall: (c) => {
        if (c.api === 'query' && c.sessionId === 2 && c.infoClass === 'WTSSessionInfo') {
          queries++;
          if (queries === 1) setImmediate(() => mock.putSession('WF12', { ...(mock.getSession('WF12', 2) as any), locked: false }));
        }
      },
    });
    const wts = createWts({ api: mock });
    const r: any = await wts.logoffAll({ server: 'WF12', locked: true, wait: false } as any);
    console.log(v, JSON.stringify(r.map((o: any) => [o.session.id, o.status])), mock.calls.map((c) => `${c.api}:${c.sessionId ?? ''}:${c.infoClass ?? ''}`).join(' '));
    expect(mock.calls.filter((c) => c.api === 'logoff')).toEqual([]);
  });
});

test('lockedFromFlags on values that are not a LONG/DWORD', () => {
  const v10 = { major: 10, minor: 0 };
  const odd: unknown[] = [NaN, undefined, null, 0.5, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), '0', '', Infinity, 1.5, [], true];
  const got = odd.map((f) => [String(f), lockedFromFlags(f as number, v10)]);
  console.log(JSON.stringify(got));
  expect(got.filter(([, l]) => l !== null)).toEqual([]);
});
