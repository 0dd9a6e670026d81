import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { doublePath, NativeDouble } from '../native/double';
import { describeWtsApiContract, type BackendFactory } from './contract';
import { describeSystemEventsContract } from './events';
import { describeFeatures } from './features';
import { describeProcessesContract } from './processes';

const found = doublePath();

if ('missing' in found) {
  describe('WtsApi contract: koffi + native double', () => {
    test.skip(`skipped: ${found.missing}`, () => undefined);
  });
  console.log(`koffi + native double contract suite skipped: ${found.missing}`);
} else {
  const double = new NativeDouble(found.path);
  double.leaks();
  const factory: BackendFactory = (farm, options) => {
    double.loadFarm(farm, options.closingPolls);
    const base = { enumerate: double.calls('enumerate'), query: 0, logoff: 0, disconnect: 0, message: 0, processes: 0, processesEx: 0, lookup: 0, open: 0, version: 0 };
    for (const k of ['query', 'logoff', 'disconnect', 'message', 'processes', 'processesEx', 'lookup', 'open', 'version'] as const) base[k] = double.calls(k);
    return {
      api: createKoffiApi({ wtsapi32: found.path, kernel32: found.path, advapi32: found.path, netapi32: found.path }),
      putSession: (server, session) => double.putSession(server, session),
      setFault: (server, api, key, code) => double.setFault(server, api, key, code),
      setLatency: (server, ms) => double.setLatency(server, '*', ms),
      callCount: (name) => double.calls(name) - base[name],
      pendingWaits: () => double.pendingWaits(),
      openHandles: () => double.openHandles,
      // A wait left pending shows as `pendingWaits: n` (and is released).
      checkClean: () => expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 }),
      dispose: () => undefined,
    };
  };
  describeWtsApiContract('koffi + native double', factory);
  describeFeatures('koffi + native double', factory);
  describeSystemEventsContract('koffi + native double', factory);
  describeProcessesContract('koffi + native double', factory);
}
