export { createMockApi, MockApi } from './backends/mock/mock-api';
export type { ChangeKind, FarmSource, MockApiOptions, MockCall } from './backends/mock/mock-api';
export { parseFarm, MOCK_API_NAMES } from './backends/mock/farm';
export type { Farm, FarmFaults, FarmProcess, FarmServer, FarmSession, MockApiName, MockFaultTarget } from './backends/mock/farm';
export { openSimulatedFarm, readFarmFile, writeFarmFile, SimulatedFarmError, SIMULATE_ENV, CALL_LOG_ENV } from './backends/mock/file';
