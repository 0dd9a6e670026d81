/**
 * farm.schema.json (published as wts-session/farm.schema.json) against the library's own farm
 * check (parseFarm): the schema never refuses a farm the library accepts, and refuses the shape
 * errors the library refuses. (The library checks more than a schema can: unique names and IDs,
 * localServer among the servers, server names' syntax.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { parseFarm } from '../../src/backends/mock/farm';
import { exampleFarm, ROOT } from '../helpers';

const schema = JSON.parse(readFileSync(join(ROOT, 'farm.schema.json'), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

const accepts = (farm: unknown) => {
  try {
    parseFarm(farm);
    return true;
  } catch {
    return false;
  }
};

const STATES = ['Active', 'Connected', 'ConnectQuery', 'Shadow', 'Disconnected', 'Idle', 'Listen', 'Reset', 'Down', 'Init'] as const;
const uint = fc.integer({ min: 0, max: 0xffffffff });
const time = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
const session = fc.record(
  {
    id: fc.integer({ min: 0, max: 0xfffffffd }),
    name: fc.string(),
    state: fc.constantFrom(...STATES),
    user: fc.string(),
    domain: fc.string(),
    clientName: fc.string(),
    clientAddress: fc.string(),
    closing: uint,
    messageResponse: uint,
    processes: fc.array(
      fc.record(
        {
          pid: uint,
          name: fc.string({ minLength: 1 }),
          user: fc.oneof(fc.constant(null), fc.constantFrom('CORP\\alice', 'alice', 'SYSTEM', 'S-1-5-18', 'S-1-5-21-1-2-3-500')),
          threads: uint,
          handleCount: uint,
          workingSetSize: uint,
          peakWorkingSetSize: uint,
          pagefileUsage: uint,
          peakPagefileUsage: uint,
          userTime: uint,
          kernelTime: uint,
        },
        { requiredKeys: ['pid', 'name'] },
      ),
      { maxLength: 3 },
    ),
    logonTime: time,
    connectTime: time,
    disconnectTime: time,
    lastInputTime: time,
    locked: fc.constantFrom(true, false, null),
  },
  { requiredKeys: ['id', 'state'] },
);
const farm = fc
  .record({
    sessions: fc.uniqueArray(session, { selector: (s) => s.id, maxLength: 6 }),
    consoleSessionId: fc.option(uint, { nil: undefined }),
    latencyMs: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    unreachable: fc.option(fc.boolean(), { nil: undefined }),
    osVersion: fc.option(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 99 })).map(([a, b]) => `${a}.${b}`), { nil: undefined }),
    faults: fc.option(
      fc.dictionary(
        fc.constantFrom('open', 'query', 'logoff', 'wait', 'processes', 'processesEx', 'lookup', 'terminate', 'version'),
        fc.dictionary(fc.oneof(fc.constant('*'), fc.nat(99).map(String)), fc.integer({ min: 1, max: 2000 })),
      ),
      { nil: undefined },
    ),
    comment: fc.option(fc.string(), { nil: undefined }),
    accounts: fc.option(fc.constantFrom({ 'S-1-5-21-1-2-3-1104': 'CORP\\svc-backup' }, { 'S-1-5-21-9-9-9-1': 'local' }), { nil: undefined }),
  })
  .map(({ comment, accounts, ...server }) => ({
    ...(comment === undefined ? {} : { comment }),
    ...(accounts === undefined ? {} : { accounts }),
    localServer: 'TS01',
    servers: [JSON.parse(JSON.stringify({ name: 'TS01', ...server })) as object, { name: 'WF12', sessions: [] }],
  }));

describe('farm.schema.json', () => {
  test('the example farms are valid', () => {
    expect(validate(exampleFarm())).toBe(true);
    expect(validate(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'farm-schema-ref.json'), 'utf8')))).toBe(true);
  });

  test('every farm the library accepts, the schema accepts (property)', () => {
    fc.assert(
      fc.property(farm, (f) => {
        expect(accepts(f)).toBe(true);
        if (!validate(f)) throw new Error(JSON.stringify(validate.errors));
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  test('one field changed to any JSON value: if the library accepts the farm, so does the schema (property)', () => {
    const anyJson = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
    const key = fc.constantFrom('id', 'name', 'state', 'user', 'closing', 'processes', 'logonTime', 'extra', 'latencyMs', 'faults', 'aliases', 'locked', 'osVersion');
    fc.assert(
      fc.property(farm, key, anyJson, fc.boolean(), (f, k, value, onServer) => {
        const server = f.servers[0] as Record<string, unknown> & { sessions?: Array<Record<string, unknown>> };
        const target = onServer || !server.sessions?.length ? server : (server.sessions[0] as Record<string, unknown>);
        target[k] = value;
        if (accepts(f) && !validate(f)) throw new Error(`the schema refuses a farm the library accepts: ${JSON.stringify(validate.errors)}`);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  test('both refuse the shape errors: unknown fields, a bad state, a reserved ID, a zero fault code', () => {
    const bad = [
      (f: any) => (f.servers[0].sessions[0].colour = 'red'),
      (f: any) => (f.servers[0].speed = 3),
      (f: any) => (f.servers[0].sessions[0].state = 'Asleep'),
      (f: any) => (f.servers[0].sessions[0].id = 4294967295),
      (f: any) => (f.servers[0].faults = { logoff: { '*': 0 } }),
      (f: any) => (f.servers[0].faults = { reboot: { '*': 5 } }),
      (f: any) => (f.servers[0].osVersion = '16.0'),
      (f: any) => (f.servers[0].osVersion = '10'),
      (f: any) => (f.servers[0].sessions[0].locked = 'yes'),
      (f: any) => (f.servers[0].sessions[1].processes[0].colour = 'red'),
      (f: any) => (f.servers[0].sessions[1].processes[0].threads = -1),
      (f: any) => (f.servers[0].sessions[1].processes[0].user = 5),
      (f: any) => (f.servers[0].sessions[1].processes[0].user = ''),
      (f: any) => (f.accounts = { 'not-a-sid': 'CORP\\x' }),
      (f: any) => (f.accounts = { 'S-1-5-21-1-2-3-4': 7 }),
      (f: any) => delete f.servers,
    ];
    for (const change of bad) {
      const f = exampleFarm() as any;
      change(f);
      expect([accepts(f), validate(f)]).toEqual([false, false]);
    }
  });

  test('a wait fault of 0 (Wine\'s stub, docs/mock.md) is accepted by both; any other call\'s 0 is not', () => {
    const f = exampleFarm() as any;
    f.servers[0].faults = { wait: { '*': 0 } };
    expect([accepts(f), validate(f)]).toEqual([true, true]);
    f.servers[0].faults = { wait: { '*': 0 }, enumerate: { '*': 0 } };
    expect([accepts(f), validate(f)]).toEqual([false, false]);
  });
});
