import { createMockApi } from '../../src/mock';
import { describeWtsApiContract } from './contract';

describeWtsApiContract('mock', (farm, options) => {
  const api = createMockApi(farm, options);
  return {
    api,
    putSession: (server, session) => api.putSession(server, session),
    setFault: (server, name, key, code) => api.setFault(server, name, key, code),
    checkClean: () => expect(api.openHandleCount).toBe(0),
    dispose: () => undefined,
  };
});
