export {
  type AuditBatch,
  auditBatchSchema,
  type BatchClaims,
  signAuditBatch,
  verifyAuditBatch,
} from './audit/batch.js';
export {
  AUDIT_SOURCES,
  AUDIT_STATUSES,
  type AuditEvent,
  type AuditFields,
  type AuditSource,
  type AuditStatus,
  auditEventSchema,
  auditHash,
  type ChainBreak,
  type ChainPoint,
  canonicalJson,
  chainPointSchema,
  checkChain,
  GENESIS_HASH,
  MAX_DURATION_MS,
  storableJson,
} from './audit/event.js';
export {
  type AuditPolicy,
  auditedResponse,
  auditedValue,
  auditPolicySchema,
  DEFAULT_MAX_AUDIT_RESPONSE_BYTES,
} from './audit/policy.js';
export { AUDIT_COLUMNS, type AuditRow, eventFromRow, insertAuditRows } from './audit/rows.js';
export * from './config.js';
export type { Db, Queryable, QueryResult, Session } from './db/db.js';
export { openEmbeddedDb } from './db/embedded.js';
export { type MigrateResult, type Migration, migrate, readMigrations } from './db/migrate.js';
export { openDb } from './db/open.js';
export {
  dropPackStorage,
  type OpenPackDbOptions,
  openPackDb,
  PACK_EXTENSIONS,
  type PackExtension,
  type PackStorage,
  packStorage,
} from './db/pack-db.js';
export { openPostgresDb } from './db/postgres.js';
export type { RowsInsert } from './db/rows-insert.js';
export * from './errors.js';
export { httpErrorResponse, notFoundResponse } from './http-error.js';
export { Closer, listeningUrl, listenOrExplain } from './lifecycle.js';
export { KeyRing, LINK_ALG, type SigningKey } from './link/keyring.js';
export {
  ALL_CHANNELS,
  CATALOG_CHANNEL,
  CLOSE as LINK_CLOSE,
  type Envelope,
  HANDSHAKE_TIMEOUT_MS,
  type Hello,
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkIdentity,
  LinkRefused,
  LinkSocket,
  type LinkSocketOptions,
  linkMaxPayload,
  openLink,
  REQUEST_META,
  RESOURCE_MESSAGE_META,
  ROTATE_KEYS_METHOD,
} from './link/socket.js';
export {
  createLinkVerifier,
  type LinkClaims,
  type LinkRefusal,
  LinkTokenError,
  type LinkVerifierOptions,
  MAX_LINK_TOKEN_TTL_S,
  signLinkToken,
} from './link/token.js';
export { createLogger, type Logger, newTraceId } from './logger.js';
export {
  ADMIN_ONLY_META_KEY,
  clip,
  describeIssues,
  EMPTY_LISTS,
  fitsTemplate,
  inputJsonSchema,
  invalidArguments,
  listEverything,
  type McpLists,
  RpcError,
  SERVER_CAPABILITIES,
  TRACE_META_KEY,
  toolError,
} from './mcp.js';
export {
  type Bounds,
  describeExcess,
  type Excess,
  exceeds,
  inspectBody,
  inspectMessage,
  type Refusal,
  unsupportedVersion,
} from './mcp-edge.js';
export { listenForMetrics, type MetricsListener, type MetricsSource } from './metrics-listener.js';
export {
  type ParsedFlags,
  type ProcessSpec,
  portFlag,
  runProcess,
  type Service,
  SHUTDOWN_DEADLINE_MS,
  type SupervisorMessage,
  tellSupervisor,
  UsageError,
} from './process-main.js';
export { isSecretKey, REDACTED, redactSecrets } from './redact.js';
export { safeUrl } from './safe-url.js';
export { createMemoryStore } from './store/memory.js';
export { openStore } from './store/open.js';
export { openRedisStore } from './store/redis.js';
export { scopedStore } from './store/scoped.js';
export type { Store, Unsubscribe } from './store/store.js';
export {
  CLIENT_NAME_PATTERN,
  MAX_CLIENT_NAME,
  NAMESPACE_SEPARATOR,
  namespacedName,
  sanitizeName,
} from './tool-names.js';
export * from './tracing.js';
