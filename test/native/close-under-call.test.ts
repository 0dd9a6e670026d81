/**
 * A server handle is never closed while a call made on it is still running (WtsApi.closeServer,
 * docs/threads.md): Win32 leaves closing a handle under a call undefined. The double counts every
 * WTSCloseServer made while another call on the same handle is still inside it (`closedUnderCall`,
 * part of the leak check after every test), so these fail if the library ever does it.
 */
import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { createWts } from '../../src/index';
import { exampleFarm, waitFor } from '../helpers';
import { describeWithDouble } from './setup';

describeWithDouble('a handle is never closed under a call still running on it (koffi + the native double)', (get) => {
  test('sendMessage({ wait: true }) on a remote server, abandoned: its handle is closed once the box is answered, not before', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    double.setLatency('WF12', 'message', 800); // the user answers after 0.8 s
    const stop = new AbortController();
    const sent = createWts({ api }).sendMessage(2, { server: 'WF12', text: 'Saving?', wait: true, signal: stop.signal });
    sent.catch(() => undefined);
    await waitFor(() => double.calls('message') === 1);
    stop.abort();
    await expect(sent).rejects.toMatchObject({ code: 'E_ABORTED', requests: ['WTSSendMessageW'] });
    // The box is still up: the handle stays open, and nothing closed it under the call.
    expect({ open: double.openHandles, closedUnderCall: double.closedUnderCall }).toEqual({ open: 1, closedUnderCall: 0 });
    expect(api.threads).toMatchObject({ now: { running: 1, abandoned: 1 } });
    // (The close itself runs on a thread too: until it is handed back, it counts as running.)
    await waitFor(() => double.openHandles === 0 && api.threads.mode === 'lanes' && api.threads.now.running === 0, 3000);
    expect(double.closedUnderCall).toBe(0);
    expect(api.threads).toMatchObject({ now: { running: 0, abandoned: 0 } });
  });

  test('closeServer with an abandoned call in it: no new call on the handle (6, none made), the close made when the call returns', async () => {
    const { double, api } = get();
    double.loadFarm(exampleFarm());
    const closes = double.calls('close');
    const h = await api.openServer('WF12');
    double.setLatency('WF12', 'message', 500);
    const stop = new AbortController();
    const box = api.sendMessage(h, 2, { title: 't', text: 'x', style: 0, timeoutSeconds: 0, wait: true }, { signal: stop.signal });
    box.catch(() => undefined);
    await waitFor(() => double.calls('message') === 1);
    stop.abort();
    await expect(box).rejects.toMatchObject({ code: 'E_ABORTED' });
    const t0 = Date.now();
    await api.closeServer(h); // at once: the close waits for the call, not the caller
    expect(Date.now() - t0).toBeLessThan(100);
    const before = double.calls('enumerateEx') + double.calls('enumerate');
    await expect(api.enumerateSessions(h)).rejects.toMatchObject({ win32Code: 6 });
    expect(double.calls('enumerateEx') + double.calls('enumerate')).toBe(before);
    expect(double.openHandles).toBe(1);
    await waitFor(() => double.openHandles === 0, 3000);
    expect(double.closedUnderCall).toBe(0);
    await api.closeServer(h); // closed already: nothing
    expect(double.calls('close') - closes).toBe(1);
  });

  test('a close the threads refuse (every one held by a stuck call) is made once one frees: no handle left open', async () => {
    const { double } = get();
    double.loadFarm(exampleFarm());
    const p = double.path;
    const api = createKoffiApi({ wtsapi32: p, kernel32: p, advapi32: p, netapi32: p, maxThreads: 1, stuckAfterMs: 100 });
    const closes = double.calls('close');
    const h = await api.openServer('WF12');
    double.setLatency('TS01', 'open', 1500);
    const stuck = api.openServer('TS01'); // another caller's call, stuck after 100 ms
    await waitFor(() => (api.threads.mode === 'lanes' ? api.threads.now.stuck === 1 : false), 2000);
    await api.closeServer(h); // refused by the lanes: made again in the background
    expect(double.openHandles).toBe(1);
    await api.closeServer(await stuck);
    await waitFor(() => double.openHandles === 0, 3000);
    expect(double.calls('close') - closes).toBe(2);
  });
});
