/**
 * One registry of every error brainmesh raises on purpose. Each code is stable (clients, scripts
 * and docs/errors.md rely on it), has an HTTP status for the admin API, and maps to a JSON-RPC
 * error code for MCP. Anything thrown that is not a BrainmeshError is an internal fault: it is
 * logged with its stack and reaches a client only as "internal error".
 */

/** JSON-RPC 2.0 codes, as MCP uses them. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

interface ErrorSpec {
  readonly status: number;
  readonly rpc: number;
  readonly summary: string;
}

const spec = (status: number, rpc: number, summary: string): ErrorSpec => ({ status, rpc, summary });

export const ErrorCodes = {
  CONFIG_INVALID: spec(
    500,
    JsonRpcCode.InternalError,
    'A configuration file or environment override failed validation.',
  ),
  CONFIG_NOT_FOUND: spec(
    500,
    JsonRpcCode.InternalError,
    'A configuration file named on the command line does not exist.',
  ),
  DB_UNAVAILABLE: spec(503, JsonRpcCode.InternalError, 'The database cannot be reached or opened.'),
  DB_MIGRATION_FAILED: spec(500, JsonRpcCode.InternalError, 'A schema migration failed; nothing of it was applied.'),
  DB_DATA_DIR_LOCKED: spec(503, JsonRpcCode.InternalError, 'Another process holds the embedded database folder.'),
  STORE_UNAVAILABLE: spec(503, JsonRpcCode.InternalError, 'The key-value store (Redis) cannot be reached.'),
  PORT_IN_USE: spec(500, JsonRpcCode.InternalError, 'The port a process was told to listen on is taken.'),
  INVALID_INPUT: spec(400, JsonRpcCode.InvalidParams, 'A request failed validation; the message names the field.'),
  NOT_FOUND: spec(404, JsonRpcCode.InvalidParams, 'The thing asked for does not exist.'),
  CONFLICT: spec(409, JsonRpcCode.InvalidRequest, 'The request conflicts with what already exists.'),
  UNAUTHENTICATED: spec(401, JsonRpcCode.InvalidRequest, 'No valid credentials came with the request.'),
  FORBIDDEN: spec(403, JsonRpcCode.InvalidRequest, 'The caller is known but not allowed to do this.'),
  UPSTREAM_UNAVAILABLE: spec(
    503,
    JsonRpcCode.InternalError,
    'A node or mounted server is down or its circuit is open.',
  ),
  UPSTREAM_TIMEOUT: spec(504, JsonRpcCode.InternalError, 'A node or mounted server did not answer in time.'),
  AUDIT_BATCH_REFUSED: spec(
    422,
    JsonRpcCode.InvalidRequest,
    'An audit batch whose signature or hash chain does not hold; nothing of it was stored.',
  ),
  AUDIT_JOURNAL_CORRUPT: spec(
    500,
    JsonRpcCode.InternalError,
    "A node's audit journal holds a line that is not an audit event, or rows that do not follow its table.",
  ),
  RATE_LIMITED: spec(429, JsonRpcCode.InvalidRequest, 'Too many requests; retry after the time given.'),
  INTERNAL: spec(500, JsonRpcCode.InternalError, 'An unexpected fault; details are in the server log only.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface BrainmeshErrorOptions {
  cause?: unknown;
  /** Safe, structured facts a client may see (field names, retry times); never secrets. */
  details?: Record<string, unknown>;
}

export class BrainmeshError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: BrainmeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrainmeshError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  get rpcCode(): number {
    return ErrorCodes[this.code].rpc;
  }
}

export function isBrainmeshError(err: unknown, code?: ErrorCode): err is BrainmeshError {
  return err instanceof BrainmeshError && (code === undefined || err.code === code);
}

/** What may be shown to a client for any thrown value: our own message, or nothing internal. */
export function publicError(err: unknown): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
  if (err instanceof BrainmeshError) {
    return err.details === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, details: { ...err.details } };
  }
  return { code: 'INTERNAL', message: 'internal error' };
}
