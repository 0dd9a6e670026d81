/**
 * A session that ends between its re-check and the request (7022 from the request) is reported
 * skipped, `gone`, with the request in its outcome — not a failure that fails the whole run.
 */
import { createWts } from '../../src/index';
import { createMockApi, type FarmSession } from '../../src/mock';
import { overriding } from '../helpers';
import { farm, outcomeOf } from './identity-fixtures';

const bob: FarmSession = { id: 3, name: 'RDP-Tcp#3', state: 'Active', user: 'bob', domain: 'CORP', logonTime: '2026-01-01T00:00:00.000Z' };
const amy: FarmSession = { id: 4, name: 'RDP-Tcp#4', state: 'Active', user: 'amy', domain: 'CORP', logonTime: '2026-01-01T00:01:00.000Z' };

/** The mock, with session 3 ended (logged off by its user) right before the given request reaches it. */
function endingAt(request: 'logoff' | 'disconnect' | 'message') {
  const mock = createMockApi(farm([bob, amy]), { closingPolls: 0 });
  const end = (id: number, api: string) => {
    if (id === 3 && api === request) mock.removeSession('WF12', 3);
  };
  const api = overriding(mock, {
    logoffSession: async (h, id) => (end(id, 'logoff'), mock.logoffSession(h, id)),
    disconnectSession: async (h, id) => (end(id, 'disconnect'), mock.disconnectSession(h, id)),
    sendMessage: async (h, id, m, o) => (end(id, 'message'), mock.sendMessage(h, id, m, o)),
  });
  return { mock, wts: createWts({ api }) };
}

describe('a session that ended right before its request', () => {
  test.each([
    ['logoffAll', 'logoff', ['WTSLogoffSession'], 'its logoff request'],
    ['logoffAll with a warning', 'message', ['WTSSendMessageW'], 'the warning'],
    ['disconnectAll', 'disconnect', ['WTSDisconnectSession'], 'its disconnect request'],
    ['sendMessageAll', 'message', ['WTSSendMessageW'], 'the message'],
  ] as const)('%s: skipped, gone, its request reported; the other session acted on', async (op, request, requests, what) => {
    const { wts } = endingAt(request);
    const out: ReadonlyArray<{ session: { id: number }; status: string }> =
      op === 'logoffAll' ? await wts.logoffAll({ server: 'WF12', timeoutMs: 2000 })
      : op === 'logoffAll with a warning' ? await wts.logoffAll({ server: 'WF12', timeoutMs: 2000, warn: { text: 'bye', graceSeconds: 0 } })
      : op === 'disconnectAll' ? await wts.disconnectAll({ server: 'WF12', timeoutMs: 2000 })
      : await wts.sendMessageAll({ server: 'WF12', text: 'hi' });
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'skipped', reason: 'gone', requests });
    expect((outcomeOf(out, 3) as { message?: string }).message).toContain(what);
    expect(outcomeOf(out, 4).status).toBe(op === 'sendMessageAll' ? 'sent' : op === 'disconnectAll' ? 'disconnected' : 'loggedOff');
  });

  test('another error from the request is still a failure', async () => {
    const mock = createMockApi(farm([bob]));
    mock.setFault('WF12', 'logoff', 3, 5);
    const out = await createWts({ api: mock }).logoffAll({ server: 'WF12', timeoutMs: 500 });
    expect(outcomeOf(out, 3)).toMatchObject({ status: 'failed', error: { win32Code: 5 }, requests: ['WTSLogoffSession'] });
  });
});
