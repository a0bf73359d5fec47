import { isBrainmeshError, publicError } from './errors.js';

/**
 * What an HTTP error response says, for any thrown value: our own errors with their code and
 * status, a framework's 4xx (bad JSON, body too large) with its message, and anything else as a
 * bare 500 whose details stay in the log (`internal` tells the caller to log it).
 */
export function httpErrorResponse(err: unknown): { status: number; body: Record<string, unknown>; internal: boolean } {
  if (isBrainmeshError(err)) return { status: err.status, body: publicError(err), internal: false };
  const status = (err as { statusCode?: number } | undefined)?.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: { code: 'INVALID_INPUT', message: (err as Error).message }, internal: false };
  }
  return { status: 500, body: publicError(err), internal: true };
}
