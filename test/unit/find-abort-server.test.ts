/**
 * docs/errors.md: "`server` ('' = local)". findSession's E_ABORTED names the local machine by the alias
 * given ('localhost'), while the same call's other errors, and logoff's E_ABORTED, name it ''.
 * (runCut is given `server ?? ''`, refuseIfAborted resolves local names.) 'localhost', '.', 127.x are
 * local whatever the machine's names (isAlwaysLocalName): no backend call is needed to say ''.
 */
import { createWts } from '../../src/index';
import { createMockApi } from '../../src/mock';
import { exampleFarm } from '../helpers';

test("E_ABORTED from findSession on 'localhost' names the server '' like every other local error", async () => {
  const mock = createMockApi(exampleFarm());
  const wts = createWts({ api: mock });
  const ac = new AbortController();
  ac.abort();
  const server = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code: string; server: string }) => `${e.code} ${JSON.stringify(e.server)}`);
  const got = {
    findAborted: await server(wts.findSession(2, { server: 'localhost', signal: ac.signal })),
    objectFindAborted: await server(wts.openServer('127.0.0.1').findSession(2, { signal: ac.signal })),
    findNotFound: await server(wts.findSession(999, { server: 'localhost' })),
    logoffAborted: await server(wts.logoff(2, { server: 'localhost', signal: ac.signal } as never)),
  };
  expect(mock.calls.filter((c) => c.api !== 'computerName' && c.api !== 'localNames').map((c) => c.api)).toEqual(['consoleId', 'currentId', 'enumerate']); // only the not-found call's
  // observed: findAborted 'E_ABORTED "localhost"', objectFindAborted 'E_ABORTED "127.0.0.1"'
  expect(got).toEqual({ findAborted: 'E_ABORTED ""', objectFindAborted: 'E_ABORTED ""', findNotFound: 'E_NOT_FOUND ""', logoffAborted: 'E_ABORTED ""' });
});
