import { retryAfterMs, type ServicePolicy } from '@brainmesh/node/kit';

/** GoHighLevel's documented burst limit: 100 requests per 10 seconds per location. */
export const GOHIGHLEVEL_LIMIT = { points: 100, durationMs: 10_000 };

export const goHighLevelPolicy: ServicePolicy = {
  title: 'GoHighLevel',
  holdFor({ status, headers }, now) {
    // No reset header is documented, so a spent window is waited out whole; a 429 without
    // Retry-After (none is documented either) does the same.
    // The daily budget first: once it is spent, no burst window's end brings relief.
    if (headers.get('x-ratelimit-daily-remaining') === '0') return msToNextUtcMidnight(now);
    const window = Number(headers.get('x-ratelimit-interval-milliseconds') ?? 10_000);
    if (status === 429) return retryAfterMs(headers, now) ?? window;
    if (headers.get('x-ratelimit-remaining') === '0') return window;
    return undefined;
  },
  describeError(body) {
    if (typeof body !== 'object' || body === null) return typeof body === 'string' ? body : undefined;
    const message = (body as { message?: unknown }).message;
    // NestJS bodies: a string, or an array of strings on a 422.
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : undefined;
  },
};

function msToNextUtcMidnight(now: number): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}
