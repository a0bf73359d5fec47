import { retryAfterMs, type ServicePolicy } from '@brainmesh/node/kit';

/** GoDaddy's published limit: 60 requests per minute. */
export const GODADDY_LIMIT = { points: 60, durationMs: 60_000 };

export const goDaddyPolicy: ServicePolicy = {
  title: 'GoDaddy',
  holdFor({ status, headers, body }, now) {
    if (status !== 429) return undefined;
    // The documented 429 body says when (`retryAfterSec`); some answers carry only a header, and
    // a QUOTA_EXCEEDED answer neither, which is waited out for a whole window.
    const seconds = (body as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
    if (typeof seconds === 'number' && seconds >= 0) return seconds * 1000;
    return retryAfterMs(headers, now) ?? GODADDY_LIMIT.durationMs;
  },
  describeError(body) {
    if (typeof body !== 'object' || body === null) return typeof body === 'string' ? body : undefined;
    const { code, message, fields } = body as { code?: unknown; message?: unknown; fields?: unknown };
    const parts = [typeof code === 'string' ? code : undefined, typeof message === 'string' ? message : undefined];
    if (Array.isArray(fields))
      for (const f of fields as { path?: unknown; message?: unknown }[])
        if (typeof f.path === 'string')
          parts.push(`${f.path}: ${typeof f.message === 'string' ? f.message : 'invalid'}`);
    const text = parts.filter((p) => p !== undefined).join(' — ');
    return text === '' ? undefined : text;
  },
};
