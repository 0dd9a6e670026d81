/**
 * Adversarial tests (round 2, of the first round's fixes) of watchSessions on the mock. Each test
 * outside the GUARD block failed on the code before its fix; each quotes the promise it checks.
 * Every wait is bounded.
 */
import fc from 'fast-check';
import type { Session, SessionEvent } from '../../src/index';
import { diffSessions } from '../../src/api/watch';
import { nextEvent, setup, waitFor as waitForMs } from '../helpers';

type Iter = AsyncIterator<SessionEvent>;
const next = (it: Iter, ms = 3000) => nextEvent(it, ms);
const waitFor = (cond: () => boolean, ms = 3000) => waitForMs(cond, ms);

/** The events up to a sentinel session 999's own event (which forces a listing). */
async function eventsUntilSentinel(it: Iter): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const e = await next(it);
    if ('session' in e && e.session.id === 999) return out;
    out.push(`${e.type}:${'session' in e ? e.session.id : ''}`);
  }
}

describe('which event a change emits: a session with no user', () => {
  // Brief / docs/watchSessions.md ("Which events a change emits"): "A session with no user that
  // goes to Disconnected with its WinStation name cleared is one `disconnect` (and back,
  // Disconnected with no name -> a CONNECTED state with a name, one `connect`); otherwise a no-user
  // session whose name changed is `delete` then `create`." Idle is not a connected state
  // (CONNECTED = Active, Connected, ConnectQuery, Shadow).
  // Observed: Disconnected '' -> Idle 'RDP-Tcp#20' (no user) is one `stateChange`
  // (src/api/watch.ts sameLogon treats ANY state change out of a nameless Disconnected as the same
  // session).
  test.each([['Idle'], ['Listen'], ['Down']] as const)("no user, Disconnected '' -> %s 'RDP-Tcp#20' is delete then create", async (state) => {
    const { mock, wts } = setup();
    mock.putSession('TS01', { id: 20, name: '', state: 'Disconnected' });
    const it = wts.watchSessions({ initial: true })[Symbol.asyncIterator]();
    try {
      expect((await next(it)).type).toBe('snapshot');
      await waitFor(() => mock.pendingWaitCount === 1);
      mock.putSession('TS01', { id: 20, name: 'RDP-Tcp#20', state });
      mock.putSession('TS01', { id: 999, name: 'S', state: 'Connected' });
      expect(await eventsUntilSentinel(it)).toEqual(['delete:20', 'create:20']);
    } finally {
      await it.return?.();
    }
  });
});

describe('GUARD (passes today): replaying the events gives the last listing', () => {
  // Brief: "One event per change per session per listing (two only for a reused ID, the first one
  // ending the old logon); replaying the events onto the first listing gives the last listing."
  const STATES = ['Active', 'Connected', 'ConnectQuery', 'Shadow', 'Disconnected', 'Idle', 'Listen', 'Reset', 'Down', 'Init'] as const;
  const session = (id: number) =>
    fc
      .record({ name: fc.constantFrom('', 'A', 'B'), state: fc.constantFrom(...STATES), userName: fc.constantFrom('', 'alice', 'bob'), locked: fc.constantFrom(true, false) })
      .map(({ locked, ...s }) => ({ ...s, id, domain: s.userName ? 'CORP' : '', server: '', isConsole: false, isCurrent: false, details: { locked } }) as unknown as Session);
  const listing = fc
    .tuple(fc.option(session(1)), fc.option(session(2)), fc.option(session(3)))
    .map((xs) => new Map(xs.filter((x): x is Session => x !== null).map((s) => [s.id, s] as const)));
  test('diffSessions: replay, and at most one event per ID except an ended logon first', () => {
    fc.assert(
      fc.property(listing, listing, (a, b) => {
        const events = diffSessions(a, b, '', new Date(0));
        const replayed = new Map(a);
        for (const e of events) {
          if (e.gone) replayed.delete(e.session.id);
          else replayed.set(e.session.id, e.session);
        }
        const sorted = (m: Map<number, Session>) => [...m.values()].sort((x, y) => x.id - y.id);
        expect(sorted(replayed)).toEqual(sorted(b));
        for (const id of new Set(events.map((e) => e.session.id))) {
          const mine = events.filter((e) => e.session.id === id);
          if (mine.length > 1) expect(mine.map((e) => Boolean(e.gone))).toEqual([true, false]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
