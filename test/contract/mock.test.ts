import { createMockApi } from '../../src/mock';
import { describeWtsApiContract, type BackendFactory } from './contract';
import { describeFeatures } from './features';

const factory: BackendFactory = (farm, options) => {
  const api = createMockApi(farm, options);
  return {
    api,
    putSession: (server, session) => api.putSession(server, session),
    setFault: (server, name, key, code) => api.setFault(server, name, key, code),
    setLatency: (server, ms) => api.setLatency(server, ms),
    callCount: (name) => api.calls.filter((c) => c.api === name).length,
    checkClean: () => expect(api.openHandleCount).toBe(0),
    dispose: () => undefined,
  };
};

describeWtsApiContract('mock', factory);
describeFeatures('mock', factory);
