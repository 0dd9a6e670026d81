import { createMockApi } from '../../src/mock';
import { overriding } from '../helpers';
import { describeWtsApiContract, type BackendFactory, type ContractBackend } from './contract';
import { describeSystemEventsContract } from './events';
import { describeFeatures } from './features';
import { describeProcessesContract } from './processes';

const factory: BackendFactory = (farm, options) => {
  const api = createMockApi(farm, options);
  return {
    api,
    putSession: (server, session) => api.putSession(server, session),
    setFault: (server, name, key, code) => api.setFault(server, name, key, code),
    setLatency: (server, ms) => api.setLatency(server, ms),
    callCount: (name) => api.calls.filter((c) => c.api === name).length,
    pendingWaits: () => api.pendingWaitCount,
    openHandles: () => api.openHandleCount,
    checkClean: () => expect({ handles: api.openHandleCount, pendingWaits: api.pendingWaitCount }).toEqual({ handles: 0, pendingWaits: 0 }),
    dispose: () => undefined,
  };
};

describeWtsApiContract('mock', factory);
describeFeatures('mock', factory);
describeSystemEventsContract('mock', factory);
describeProcessesContract('mock', factory);

// A backend without the optional waitSystemEvent / flushSystemEvents is allowed: its event cases
// are skipped, with the reason printed.
describeSystemEventsContract('mock without system events', (farm, options) => {
  const backend = factory(farm, options) as ContractBackend;
  const api = overriding(backend.api, { waitSystemEvent: undefined, flushSystemEvents: undefined });
  return { ...backend, api };
});
