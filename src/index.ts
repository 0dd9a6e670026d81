export {
  disconnect,
  disconnectAll,
  findSession,
  listProcesses,
  terminateProcess,
  listSessions,
  logoff,
  logoffAll,
  openServer,
  sendMessage,
  sendMessageAll,
  watchSessions,
} from './default';
export { createWts } from './create';
export type { CreateWtsOptions } from './create';
export { Wts, WtsServer } from './api/wts';
export { createKoffiApi, KoffiApi } from './backends/koffi/koffi-api';
export type { KoffiApiOptions } from './backends/koffi/koffi-api';
export type { LaneOptions, LaneStats } from './backends/koffi/lanes';
export type {
  DetailedSession,
  Disconnected,
  DisconnectOutcome,
  FarmResult,
  FindSessionOptions,
  ListProcessesOptions,
  ServerTerminateProcessOptions,
  ListingSignalOption,
  ListSessionsOptions,
  LoggedOff,
  MessageOutcome,
  MessageSent,
  OnServers,
  ServerDisconnectAllOptions,
  ServerDisconnectOptions,
  ServerLogoffAllOptions,
  ServerLogoffOptions,
  ServerMessageOptions,
  ServerOption,
  ServerSendMessageAllOptions,
  SessionProcess,
} from './api/wts';
export type { LogoffAllFilter, LogoffAllOptions, LogoffOptions, WaitOptions, WarnOptions } from './api/logoff';
export type { SessionFilter } from './api/filter';
export { parseDuration } from './api/filter';
export type { DetailGroup, DetailsOption, SessionDetails } from './api/details';
export type { FarmEvent, FarmOptions, ServerFailure } from './api/farm';
export { SessionWatch } from './api/watch';
export type {
  ServerBackEvent,
  ServerErrorEvent,
  SessionChangeEvent,
  SessionChangeType,
  SessionEvent,
  SessionEventType,
  SnapshotEvent,
  WatchOptions,
} from './api/watch';
export type { MessageButtons, MessageOptions, MessageResponse, SendMessageAllOptions } from './api/message';
export { SESSION_STATES, shortStateLabel } from './api/types';
export type {
  LogoffOutcome,
  LogoffStatus,
  NotActed,
  Reported,
  RequestedOutcome,
  RequestName,
  Session,
  SessionState,
  SessionStateInput,
  SessionStateLabel,
  SkipReason,
} from './api/types';
export type { PlanInput } from './api/bulk';
export type { ProcessSkipReason, ProcessTarget, TargetProcess, TerminateOutcome, TerminateProcessOptions } from './api/terminate';
export type { SessionTarget } from './api/validate';
export {
  ConsoleSessionError,
  InvalidArgumentError,
  ListenerSessionError,
  LogoffTimeoutError,
  OperationAbortedError,
  ProcessNotFoundError,
  ProtectedSessionError,
  ServerTimeoutError,
  ThreadsExhaustedError,
  ServicesSessionError,
  SessionChangedError,
  SessionNotActiveError,
  SessionNotFoundError,
  UnsupportedPlatformError,
  Win32Error,
  WtsError,
  WTS_ERROR_CODES,
  isWtsError,
  reviveWtsError,
} from './errors';
export type { ErrorContext, ProtectedKind, SessionIdentity, WtsErrorCode, WtsErrorJSON } from './errors';
export {
  NO_CONSOLE_SESSION,
  Win32,
  WTSConnectState,
  WTS_ANY_SESSION,
  WTS_CURRENT_SERVER_HANDLE,
  WTS_CURRENT_SESSION,
  WtsEvent,
  WtsSessionStateFlags,
} from './wtsapi';
export type {
  AbandonOptions,
  CallOptions,
  ServerHandle,
  SessionMaker,
  WtsApi,
  WtsClientAddress,
  WtsClientInfo,
  WtsInfoClass,
  WtsInfoClassValues,
  WtsInfo,
  WtsInfoEx,
  WtsInfoExLevel1,
  WtsAccount,
  WtsMessage,
  WtsProcessInfo,
  WtsProcessInfoEx,
  WtsServerVersion,
  WtsSessionInfo1,
} from './wtsapi';
