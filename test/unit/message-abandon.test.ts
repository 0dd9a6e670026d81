/**
 * sendMessage({ wait: true, signal }): abandoning the wait for the user's answer. The message was
 * sent (the box is on the screen), so the error and the bulk outcome say so; an already-aborted
 * signal sends nothing.
 */
import type { MockApi } from '../../src/mock';
import { rejection, setup } from '../helpers';

/** A farm whose `n`th message call is slow (the user has not answered) and aborts `controller` while it runs. */
function slowNthMessage(n: number, controller: AbortController) {
  let seen = 0;
  let mock: MockApi | undefined;
  const made = setup(undefined, {
    onCall: (c) => {
      if (c.api !== 'message' || ++seen !== n) return;
      mock?.setLatency('WF12', 5000); // applies to this call: the mock logs a call before its latency
      setTimeout(() => controller.abort(), 20);
    },
  });
  mock = made.mock;
  return made;
}

describe('abandoning a message that waits for its answer', () => {
  test('sendMessage rejects with an AbortError at once that says WTSSendMessageW was sent', async () => {
    const controller = new AbortController();
    const { mock, wts } = slowNthMessage(1, controller);
    const at = Date.now();
    const error = await rejection(wts.sendMessage(3, { server: 'WF12', text: 'hi', wait: true, signal: controller.signal }));
    expect(Date.now() - at).toBeLessThan(1000); // not the 5 s the answer would take
    expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED', requests: ['WTSSendMessageW'], sessionId: 3 });
    expect(mock.calls.filter((c) => c.api === 'message')).toHaveLength(1);
  });

  test('an already-aborted signal sends nothing', async () => {
    const { mock, wts } = setup();
    const error = await rejection(wts.sendMessage(3, { server: 'WF12', text: 'hi', wait: true, signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ code: 'E_ABORTED', requests: [] });
    expect(mock.calls.filter((c) => c.api === 'message')).toHaveLength(0);
  });

  test('sendMessageAll: the session whose answer was abandoned is reported requested; the one answered, sent', async () => {
    const controller = new AbortController();
    const { mock, wts } = slowNthMessage(2, controller);
    const at = Date.now();
    const outcomes = await wts.sendMessageAll({ server: 'WF12', text: 'hi', wait: true, concurrency: 1, signal: controller.signal });
    expect(Date.now() - at).toBeLessThan(1000);
    const sent = mock.calls.filter((c) => c.api === 'message').map((c) => c.sessionId);
    expect(sent).toEqual([2, 3]);
    const byId = new Map(outcomes.map((o) => [o.session.id, o]));
    expect(byId.get(2)).toMatchObject({ status: 'sent', requests: ['WTSSendMessageW'] });
    expect(byId.get(3)).toMatchObject({ status: 'requested', requests: ['WTSSendMessageW'] });
  });
});
