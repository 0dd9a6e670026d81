import { createMockApi } from '../../src/mock';
import { describeWtsApiContract, type BackendFactory, type ContractBackend } from './contract';
import { describeSystemEventsContract } from './events';
import { describeFeatures } from './features';

const factory: BackendFactory = (farm, options) => {
  const api = createMockApi(farm, options);
  return {
    api,
    putSession: (server, session) => api.putSession(server, session),
    setFault: (server, name, key, code) => api.setFault(server, name, key, code),
    setLatency: (server, ms) => api.setLatency(server, ms),
    callCount: (name) => api.calls.filter((c) => c.api === name).length,
    pendingWaits: () => api.pendingWaitCount,
    checkClean: () => expect({ handles: api.openHandleCount, pendingWaits: api.pendingWaitCount }).toEqual({ handles: 0, pendingWaits: 0 }),
    dispose: () => undefined,
  };
};

describeWtsApiContract('mock', factory);
describeFeatures('mock', factory);
describeSystemEventsContract('mock', factory);

// A backend without the optional waitSystemEvent / flushSystemEvents is allowed: its event cases
// are skipped, with the reason printed.
describeSystemEventsContract('mock without system events', (farm, options) => {
  const backend = factory(farm, options) as ContractBackend;
  const hidden = new Set<PropertyKey>(['waitSystemEvent', 'flushSystemEvents']);
  const api = new Proxy(backend.api, {
    get: (target, key) => {
      if (hidden.has(key)) return undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...backend, api };
});
