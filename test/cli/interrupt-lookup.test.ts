/**
 * Ctrl+C while a command is still looking things up (the listing before anything is acted on):
 * nothing is done, exit 130. The listing used to finish and be taken at its word — `wts-kill`
 * then ended the process it had been asked about (exit 0), and `wts-msg USER` took "no session
 * named carol" for a user name and sent the message.
 */
import { killMain } from '../../src/cli/kill';
import { msgMain } from '../../src/cli/msg';
import { logoffMain } from '../../src/cli/logoff';
import type { CliIo } from '../../src/cli/common';
import { Wts } from '../../src/api/wts';
import { createWts } from '../../src/index';
import { createMockApi, type Farm } from '../../src/mock';
import { exampleFarm, rejection } from '../helpers';
import { fakeConsole } from './run';

/** The example farm, every call on TS01 taking 200 ms. */
function slowFarm(): Farm {
  const farm = exampleFarm();
  for (const s of farm.servers) {
    delete s.faults;
    s.latencyMs = 200;
  }
  return farm;
}

/**
 * A console whose Ctrl+C comes `afterMs` after it is made, as a terminal's would: to the handler
 * registered then, if any; with none registered, Node's default would end the process, so nothing
 * may happen after it either way. `fired()` says whether it has come.
 */
function interruptedAfter(afterMs: number): ReturnType<typeof fakeConsole> & { fired: () => boolean; done: () => void } {
  const c = fakeConsole();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    c.interrupt();
  }, afterMs);
  return { ...c, fired: () => fired, done: () => clearTimeout(timer) };
}

const acts = ['logoff', 'disconnect', 'message', 'terminate'];

describe('Ctrl+C during the lookup: nothing is done, exit 130', () => {
  test.each([
    ['wts-kill 3120 (a PID)', (io: CliIo, wts: () => Wts) => killMain(['3120'], io, { wts })],
    ['wts-kill explorer /a --yes', (io: CliIo, wts: () => Wts) => killMain(['explorer', '/a', '--yes'], io, { wts })],
    ['wts-msg carol hello (a user name)', (io: CliIo, wts: () => Wts) => msgMain(['carol', 'hello'], io, undefined, { wts })],
    ['wts-msg RDP-Tcp#0 hello (a session name)', (io: CliIo, wts: () => Wts) => msgMain(['RDP-Tcp#0', 'hello'], io, undefined, { wts })],
    ['wts-logoff TERM04 (a session name)', (io: CliIo, wts: () => Wts) => logoffMain(['TERM04'], io, { wts })],
  ] as const)('%s', async (_what, run) => {
    // Ctrl+C at several moments of the lookup (each call takes 200 ms): in its first call, and later ones.
    for (const afterMs of [100, 300, 500, 700, 900]) {
      const c = interruptedAfter(afterMs);
      const late: string[] = [];
      const acted: string[] = [];
      const mock = createMockApi(slowFarm(), {
        onCall: (call) => {
          if (!acts.includes(call.api)) return;
          acted.push(call.api);
          if (c.fired()) late.push(`${call.api} after Ctrl+C at ${afterMs} ms`);
        },
      });
      const code = await run(c.io, () => new Wts(mock));
      c.done();
      // Never acted on after the Ctrl+C; and when nothing was done, the exit is 130.
      expect(late).toEqual([]);
      if (acted.length === 0 && c.fired()) expect([afterMs, code]).toEqual([afterMs, 130]);
    }
  }, 30_000);

  test('the library: an aborted lookup rejects E_ABORTED (a dry run returns no plan)', async () => {
    for (const call of [
      (signal: AbortSignal) => createWts({ api: createMockApi(slowFarm()) }).terminateProcess({ name: 'explorer', all: true }, { dryRun: true, signal }),
      (signal: AbortSignal) => createWts({ api: createMockApi(slowFarm()) }).sendMessage('carol', { text: 'x', signal }),
      (signal: AbortSignal) => createWts({ api: createMockApi(slowFarm()) }).logoff('TERM04', { signal }),
    ]) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop')), 100);
      expect((await rejection(call(controller.signal))).code).toBe('E_ABORTED');
    }
  });

  test.each([
    ['wts-msg kiosk hello (a session name that is also a user name)', (io: CliIo, wts: () => Wts) => msgMain(['kiosk', 'hello'], io, undefined, { wts })],
    ['wts-logoff kiosk', (io: CliIo, wts: () => Wts) => logoffMain(['kiosk'], io, { wts })],
    ['wts-logoff 8', (io: CliIo, wts: () => Wts) => logoffMain(['8'], io, { wts })],
    ['wts-msg 8 hi', (io: CliIo, wts: () => Wts) => msgMain(['8', 'hi'], io, undefined, { wts })],
  ] as const)('Ctrl+C while the session\'s identity is read, the session ending then: %s is interrupted (130), not "not found", and nothing is sent', async (_what, run) => {
    const farm = slowFarm();
    const ts01 = farm.servers[0]!;
    ts01.latencyMs = 100;
    // A session named like an account (a kiosk), and that account's own session.
    ts01.sessions!.push({ id: 8, name: 'kiosk', state: 'Active', user: 'dave', domain: 'CORP' }, { id: 9, name: 'RDP-Tcp#9', state: 'Active', user: 'kiosk', domain: 'CORP' });
    const c = fakeConsole();
    let fired = false;
    const late: string[] = [];
    const mock = createMockApi(farm, {
      onCall: (call) => {
        if (acts.includes(call.api) && fired) late.push(`${call.api}:${call.sessionId}`);
        if (call.api === 'query' && call.sessionId === 8 && !fired) {
          // Session 8 ends while its identity is read, and Ctrl+C comes then.
          mock.removeSession('TS01', 8);
          setTimeout(() => {
            fired = true;
            c.interrupt();
          }, 50);
        }
      },
    });
    const code = await run(c.io, () => new Wts(mock));
    expect([fired, late, code]).toEqual([true, [], 130]);
  });
});
