import { createKoffiApi } from '../../src/backends/koffi/koffi-api';
import { doublePath, NativeDouble } from '../native/double';
import { describeWtsApiContract } from './contract';

const found = doublePath();

if ('missing' in found) {
  describe('WtsApi contract: koffi + native double', () => {
    test.skip(`skipped: ${found.missing}`, () => undefined);
  });
  console.log(`koffi + native double contract suite skipped: ${found.missing}`);
} else {
  const double = new NativeDouble(found.path);
  double.leaks();
  describeWtsApiContract('koffi + native double', (farm, options) => {
    double.loadFarm(farm, options.closingPolls);
    return {
      api: createKoffiApi({ wtsapi32: found.path, kernel32: found.path }),
      putSession: (server, session) => double.putSession(server, session),
      setFault: (server, api, key, code) => double.setFault(server, api, key, code),
      checkClean: () => expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 }),
      dispose: () => undefined,
    };
  });
}
