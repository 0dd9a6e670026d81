import fc from 'fast-check';
import { createWts } from '../../src/index';
import { createMockApi, parseFarm } from '../../src/mock';

const NAMES = ['TS01', 'WF12', 'WF13', 'WF14'];
const VERS = ['10.0', '6.1', '06.1', '6.01', '6.0', '6.2', '1.6', '16.1'.slice(0, 0) || '6.3'];

const sessionArb = (id: number) =>
  fc.record({
    state: fc.constantFrom('Active', 'Disconnected', 'Idle', 'Connected'),
    user: fc.constantFrom('alice', 'bob', 'carol'),
    locked: fc.constantFrom(true, false, null, undefined),
    queryFault: fc.constantFrom(undefined, undefined, undefined, 50, 87, 120, 5),
  }).map((g) => ({ id, ...g }));

const worldArb = fc.tuple(
  ...NAMES.map((name) =>
    fc.record({
      name: fc.constant(name),
      osVersion: fc.constantFrom(...VERS),
      versionFault: fc.constantFrom(undefined, undefined, 5, 1722, 53),
      unreachable: fc.constantFrom(false, false, false, true),
      sessions: fc.uniqueArray(fc.integer({ min: 2, max: 12 }), { maxLength: 5 }).chain((ids) => fc.tuple(...ids.map(sessionArb))),
    }),
  ),
);

function buildFarm(w: any[]) {
  return parseFarm({
    localServer: 'TS01',
    servers: w.map((s, k) => {
      const faults: any = {};
      if (s.versionFault) faults.version = { '*': s.versionFault };
      const q: any = {};
      for (const x of s.sessions) if (x.queryFault) q[String(x.id)] = x.queryFault;
      if (Object.keys(q).length) faults.query = q;
      return {
        name: s.name,
        osVersion: s.osVersion,
        ...(k === 0 ? { consoleSessionId: 1 } : {}),
        ...(s.unreachable && k > 0 ? { unreachable: true } : {}),
        ...(Object.keys(faults).length ? { faults } : {}),
        sessions: [
          { id: 0, name: 'Services', state: 'Disconnected' },
          { id: 1, name: 'Console', state: 'Active', user: 'admin' },
          ...s.sessions.map((x: any) => ({
            id: x.id,
            name: x.state === 'Disconnected' ? '' : `RDP-Tcp#${x.id}`,
            state: x.state,
            user: x.user,
            domain: 'CORP',
            ...(x.locked === undefined ? {} : { locked: x.locked }),
          })),
        ],
      };
    }),
  });
}

let acts = 0, listedN = 0, lockedTrue = 0;
const truthLocked = (x: any) => (x.locked === undefined ? false : x.locked);

test('property: acts only on sessions whose truth at the act equals the filter (flips between plan and act)', async () => {
  await fc.assert(
    fc.asyncProperty(
      worldArb,
      fc.boolean(),
      fc.constantFrom('logoffAll', 'disconnectAll', 'sendMessageAll'),
      fc.boolean(),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom(true, false, null)), { maxLength: 6 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(undefined, 5)), { maxLength: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.subarray(NAMES, { minLength: 1 }),
      async (w, want, op, usePlan, flips, vflips, concurrency, servers) => {
        const farm = buildFarm(w);
        const versionBroken = new Map(w.map((s: any) => [s.name, !!s.versionFault]));
        const violations: string[] = [];
        const mock: any = createMockApi(farm, {
          onCall: (c) => {
            if (['logoff', 'disconnect', 'message'].includes(c.api)) {
              acts++;
              const s = mock.getSession(c.server || 'TS01', c.sessionId);
              const t = s === undefined ? 'gone' : truthLocked(s);
              if (t !== want) violations.push(`${c.api} ${c.server}/${c.sessionId} truth=${t} want=${want}`);
            }
          },
        });
        const wts: any = createWts({ api: mock });
        const base: any = { servers, locked: want, concurrency };
        if (op === 'logoffAll') base.wait = false;
        if (op === 'disconnectAll') base.wait = false;
        if (op === 'sendMessageAll') base.text = 'hi';
        // listSessions with details: lock reads
        const listed: any = await wts.listSessions({ servers, details: ['lock'] });
        for (const s of listed.results) {
          listedN++; if (s.details.locked === true) lockedTrue++;
          const def = w.find((x: any) => x.name === (s.server || 'TS01'));
          const x = def.sessions.find((y: any) => y.id === s.id);
          const truth = x ? truthLocked(x) : false;
          const expected = def.versionFault ? null : (x?.queryFault && [50, 87, 120].includes(x.queryFault)) ? null : truth;
          if (s.details.locked !== expected && !(s.details.locked === null)) violations.push(`list ${s.server}/${s.id} got ${s.details.locked} truth ${truth} vf=${def.versionFault} v=${def.osVersion}`);
          if (s.details.locked === null && expected !== null) violations.push(`list null ${s.server}/${s.id} expected ${expected}`);
        }
        let plan: any;
        if (usePlan) plan = await wts[op]({ ...base, dryRun: true });
        for (const [k, id, l] of flips) {
          const name = NAMES[k]!;
          const s = mock.getSession(name, id);
          if (s) mock.putSession(name, { ...s, locked: l });
        }
        for (const [k, code] of vflips) mock.setFault(NAMES[k]!, 'version', '*', code);
        const result = await wts[op]({ ...base, ...(plan ? { plan } : {}) });
        void versionBroken;
        void result;
        if (violations.length) throw new Error(violations.join('\n'));
      },
    ),
    { numRuns: 2000 },
  );
  console.log({ acts, listedN, lockedTrue });
});
