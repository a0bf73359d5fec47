import { isBrainmeshError, publicError } from './errors.js';
import { clip } from './mcp.js';

/**
 * What an HTTP error response says, for any thrown value: our own errors with their code and
 * status, a framework's 4xx (bad JSON, body too large) with its message, and anything else as a
 * bare 500 whose details stay in the log (`internal` tells the caller to log it).
 */
export function httpErrorResponse(err: unknown): { status: number; body: Record<string, unknown>; internal: boolean } {
  if (isBrainmeshError(err)) return { status: err.status, body: publicError(err), internal: false };
  const status = (err as { statusCode?: number } | undefined)?.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // A framework's message may quote what the client sent (a content type, say): cut it.
    return { status, body: { code: 'INVALID_INPUT', message: clip((err as Error).message, 200) }, internal: false };
  }
  return { status: 500, body: publicError(err), internal: true };
}

/**
 * The answer for a route that does not exist. Fastify's own quotes the whole URL, however long,
 * back to whoever sent it; this names the method and the path, cut.
 */
export function notFoundResponse(method: string, url: string): { code: string; message: string } {
  const path = url.split('?')[0] ?? '';
  return { code: 'NOT_FOUND', message: `no such route: ${method} ${clip(path, 100)}` };
}
