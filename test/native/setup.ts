import { createKoffiApi, type KoffiApi } from '../../src/backends/koffi/koffi-api';
import { doublePath, NativeDouble } from './double';

const found = doublePath();

/** describe() when the native double is built; otherwise one skipped test that says why. */
export function describeWithDouble(title: string, body: (get: () => { double: NativeDouble; api: KoffiApi }) => void): void {
  if ('missing' in found) {
    describe(title, () => {
      test.skip(`skipped: ${found.missing}`, () => undefined);
    });
    console.log(`${title}: skipped: ${found.missing}`);
    return;
  }
  const double = new NativeDouble(found.path);
  const api = createKoffiApi({ wtsapi32: found.path, kernel32: found.path, advapi32: found.path, netapi32: found.path });
  describe(title, () => {
    afterEach(() => {
      expect(double.leaks()).toEqual({ allocations: 0, handles: 0, badFrees: 0 });
    });
    body(() => ({ double, api }));
  });
}
