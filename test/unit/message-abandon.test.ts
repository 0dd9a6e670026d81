/**
 * sendMessage({ wait: true, signal }): abandoning the wait for the user's answer. The message was
 * sent (the box is on the screen), so the error and the bulk outcome say so; an already-aborted
 * signal sends nothing.
 */
import { spawnSync } from 'node:child_process';
import type { MockApi } from '../../src/mock';
import { rejection, ROOT, setup } from '../helpers';

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

  // The koffi backend's abandoned call keeps nothing alive (its thread runs on); the mock's did:
  // its latency timer held the process until the 5 s answer came.
  test('an abandoned message keeps nothing alive: the process exits without waiting for the answer', () => {
    const script = `
      const { createWts } = require(${JSON.stringify(ROOT)} + '/dist/index.js');
      const { createMockApi } = require(${JSON.stringify(ROOT)} + '/dist/mock.js');
      const farm = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(ROOT)} + '/examples/farm.json', 'utf8'));
      const t0 = Date.now();
      const controller = new AbortController();
      const mock = createMockApi(farm, {
        onCall: (c) => {
          if (c.api !== 'message') return;
          mock.setLatency('WF12', 5000);
          setTimeout(() => controller.abort(), 20);
        },
      });
      let code;
      process.on('exit', () => console.log(JSON.stringify({ code, exitAt: Date.now() - t0 })));
      createWts({ api: mock }).sendMessage(3, { server: 'WF12', text: 'hi', wait: true, signal: controller.signal }).catch((e) => (code = e.code));
    `;
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { code: string; exitAt: number };
    expect(out.code).toBe('E_ABORTED');
    expect(out.exitAt).toBeLessThan(2000);
  });
});
