/**
 * Type-level tests of the public types, checked by `npm run typecheck` (tsconfig.json includes
 * test/), never run (not a *.test.ts file). Each line after a `@ts-expect-error` must NOT compile:
 * should it compile again, TypeScript reports the directive as unused and the typecheck fails.
 * The lines without one must compile.
 */
import {
  disconnect,
  disconnectAll,
  findSession,
  listProcesses,
  listSessions,
  logoff,
  logoffAll,
  sendMessage,
  sendMessageAll,
  shortStateLabel,
  type SessionStateInput,
  type SessionStateLabel,
  type Wts,
} from '../../src/index';
import { createMockApi, MockApi, parseFarm, type Farm, type FarmSession } from '../../src/mock';

export function farmTypes(json: unknown, mock: MockApi): void {
  const farm: Farm = { localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 2, state: 'Disconnected', user: 'bob' }] }] };
  createMockApi(farm);
  createMockApi(parseFarm(json)); // parsed JSON: checked first
  // Any JSON.parse result (any) still compiles: it is checked at run time.
  createMockApi(JSON.parse('{}'));

  // @ts-expect-error a typo in a farm literal does not compile
  createMockApi({ localServer: 'TS01', servers: [], servres: [] });
  // @ts-expect-error nor a farm without its required fields
  createMockApi({ servres: 'typo' });
  // @ts-expect-error nor a typo inside a server
  createMockApi({ localServer: 'TS01', servers: [{ name: 'TS01', sesions: [] }] });
  // @ts-expect-error nor in a session
  createMockApi({ localServer: 'TS01', servers: [{ name: 'TS01', sessions: [{ id: 1, state: 'Active', usr: 'a' }] }] });
  // @ts-expect-error parsed JSON (unknown) must go through parseFarm
  createMockApi(json);
  // @ts-expect-error nor through the constructor
  void new MockApi(json);

  // A farm's state is one of the ten names: the parser refuses `query session`'s labels.
  mock.putSession('TS01', { id: 3, state: 'Disconnected' });
  // @ts-expect-error 'Disc' is a filter value, not a farm state (parseFarm refuses it)
  mock.putSession('TS01', { id: 3, state: 'Disc' });
  // @ts-expect-error nor any other text
  void ({ id: 3, state: 'Disco' } satisfies FarmSession);
}

export async function filterTypes(wts: Wts): Promise<void> {
  // The state filter takes what it accepts at run time: names, query session's labels, WTS names.
  await wts.listSessions({ state: 'Disc' });
  await wts.listSessions({ state: ['Disconnected', 'Conn', 'ConnQ', 'WTSIdle', 'disc', 'wtsactive'] });
  await wts.logoffAll({ state: 'Disc', dryRun: true });
  // Upper case too, as the command line takes it (--state DISC): names, labels and WTS names.
  await wts.listSessions({ state: 'DISCONNECTED' });
  await wts.listSessions({ state: ['DISC', 'CONNQ', 'WTSIDLE', 'ACTIVE'] });
  await wts.disconnectAll({ state: 'CONN', dryRun: true });
  void (['Disc', 'disc', 'DISC', 'WTSDisconnected', 'wtsdisconnected', 'WTSDISCONNECTED'] satisfies SessionStateInput[]);
  // @ts-expect-error not a state
  await wts.listSessions({ state: 'Disco' });
  // @ts-expect-error nor in upper case
  await wts.listSessions({ state: 'DISCO' });
  // @ts-expect-error mixed case is taken at run time, but the type stays with the three spellings
  void ('dISC' satisfies SessionStateInput);
  // @ts-expect-error an unknown option
  await wts.listSessions({ sever: 'WF12' });
  void (shortStateLabel('Disconnected') satisfies SessionStateLabel);
}

/** The top-level functions have the types of the methods they stand for, overloads included. */
export function defaultFunctionTypes(): void {
  void (listSessions satisfies Wts['listSessions']);
  void (findSession satisfies Wts['findSession']);
  void (listProcesses satisfies Wts['listProcesses']);
  void (logoff satisfies Wts['logoff']);
  void (logoffAll satisfies Wts['logoffAll']);
  void (disconnect satisfies Wts['disconnect']);
  void (disconnectAll satisfies Wts['disconnectAll']);
  void (sendMessage satisfies Wts['sendMessage']);
  void (sendMessageAll satisfies Wts['sendMessageAll']);
  const method = <K extends keyof Wts>(_key: K): Wts[K] => undefined as never;
  void (method('listSessions') satisfies typeof listSessions);
  void (method('listProcesses') satisfies typeof listProcesses);
  void (method('logoffAll') satisfies typeof logoffAll);
  void (method('disconnectAll') satisfies typeof disconnectAll);
  void (method('sendMessageAll') satisfies typeof sendMessageAll);
}
