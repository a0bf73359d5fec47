/**
 * The pack kit: what a pack that calls an outside service needs, so each pack writes only what
 * is its own (the service's paths, wire schemas, rate-limit policy, tools). Test helpers are in
 * `@brainmesh/node/kit/testing`, out of the runtime's way.
 */
export { changes, LOCAL_READS, READ_ONLY } from './annotations.js';
export { type Confirmation, confirmChange, confirmField } from './confirm.js';
export {
  type EmulatedRequest,
  type EmulatedResponse,
  Emulator,
  type EmulatorHooks,
  type EmulatorOptions,
  type Handler,
  SAMPLE_ORIGIN,
} from './emulator.js';
export { defined, parseAnswer, unreadable } from './http/answer.js';
export {
  ApiClient,
  type ApiClientOptions,
  type ApiRequest,
  type ApiResponse,
  type Fetch,
  retryAfterMs,
  type ServicePolicy,
} from './http/api-client.js';
export {
  type Limit,
  type Limiter,
  LimiterWaitExceeded,
  NOTHING_TO_DO,
  OutboundLimiter,
  type Taken,
  WaitingLine,
} from './http/limiter.js';
export { limiterKey, outboundLimiter, SharedLimiter } from './http/shared-limiter.js';
export { type MetricLabels, type PackMetrics, packMetrics } from './metrics.js';
export { type DataSource, reply } from './reply.js';
