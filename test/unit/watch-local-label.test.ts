/**
 * A third review: `wts-query session --watch /servers:...` live table — "servers are drawn in the order given,
 * the local server included (its events are named '')". docs/watchSessions.md: `server` is "'' for the
 * local server". Observed: when the local server's first open fails (a kernel32 look-up of the caller's
 * session throws), ServerWatch's serverError is named with the name as given ('TS01': #label is set to ''
 * only once opened); when it comes back its events are named '' — so the live table keeps a stale
 * "TS01: (not answering ...)" block for ever beside the live "TS01:" table, and the change line says
 * "server localhost answers again".
 */
import { createWts } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { queryMain } from '../../src/cli/query';
import { exampleFarm, overriding } from '../helpers';

test('the local server failing once, then back: one TS01 block, no stale failure', async () => {
  const mock = createMockApi(exampleFarm());
  let n = 0;
  const api = overriding(mock, {
    getCurrentSessionId: () => {
      if (n++ === 0) throw new Error('ProcessIdToSessionId failed');
      return mock.getCurrentSessionId();
    },
  });
  const drawings: string[] = [];
  let interrupt: (() => void) | undefined;
  const io = {
    out: (t: string) => void drawings.push(t),
    err: () => {},
    interactive: false, progress: false, outputIsTerminal: true, columns: 200, rows: 200, color: false,
    confirm: async () => false,
    onInterrupt: (h: () => void) => { interrupt = h; return () => {}; },
  };
  const done = queryMain(['session', '--watch', '/servers:WF12,TS01'], io, { wts: () => createWts({ api }) });
  const deadline = Date.now() + 5000;
  while (!/answers again/.test(drawings[drawings.length - 1] ?? '') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  interrupt?.();
  await done;
  const screen = (drawings[drawings.length - 1] ?? '').replace(/^(\x1b\[\d+A\r|\x1b\[H\x1b\[2J)?\x1b\[J/, '').split('\n');
  expect({
    headers: screen.filter((l) => /^\S+:$/.test(l)),
    stale: screen.filter((l) => l.includes('not answering')),
  }).toEqual({ headers: ['WF12:', 'TS01:'], stale: [] }); // observed: headers ['WF12:', 'TS01:', 'TS01:'], one stale "(not answering: ...)"
});
