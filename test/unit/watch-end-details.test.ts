/**
 * A details watch ended (its signal, or return()) while a listing is in flight: no detail query
 * starts after the end (each used to be made, 3 per session, and the end waited for them all);
 * the ones already in flight are waited for, since the handle is closed only after them.
 */
import { rig } from '../call-rig';
import { sleep } from '../helpers';

test('watchSessions({ details: true, signal }): the signal aborts while the listing is in flight: no detail query after it', async () => {
  const r = rig((api) => (api === 'enumerateSessions' ? 40 : 0));
  const ac = new AbortController();
  const watch = r.wts.watchSessions({ details: true, signal: ac.signal });
  const consumed = (async () => { try { for await (const _ of watch) void _; return 'done'; } catch (e) { return (e as Error).name; } })();
  while (!r.log.some((c) => c.api === 'enumerateSessions')) await sleep(1);
  r.cut(); ac.abort();
  const outcome = await consumed;
  await sleep(20);
  const after = r.afterCut();
  expect({ outcome, after: [...new Set(after)].map((a) => `${a} x${after.filter((b) => b === a).length}`) }).toEqual({ outcome: 'AbortError', after: [] });
});
// The end came while the listing was still enumerating: return() settles with no detail query made
// at all (it used to wait for every session's queries: 2 x 200 ms of them with slow queries).
test.each([10, 200])('the same with return(), queries of %i ms: no detail query after it', async (queryMs) => {
  const r = rig((api) => (api === 'enumerateSessions' ? 40 : api === 'querySessionInformation' ? queryMs : 0));
  const watch = r.wts.watchSessions({ details: true });
  const it = watch[Symbol.asyncIterator]();
  void it.next();
  while (!r.log.some((c) => c.api === 'enumerateSessions')) await sleep(1);
  r.cut();
  await it.return!();
  expect({ queriesAfterReturn: r.afterCut().length, queries: r.log.filter((c) => c.api === 'querySessionInformation').length }).toEqual({ queriesAfterReturn: 0, queries: 0 });
});
