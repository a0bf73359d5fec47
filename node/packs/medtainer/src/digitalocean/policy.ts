import { retryAfterMs, type ServicePolicy } from '@brainmesh/node/kit';

/** DigitalOcean's per-minute limit: 250 requests (beside 5,000 an hour, told by its headers). */
export const DIGITALOCEAN_LIMIT = { points: 250, durationMs: 60_000 };

export const digitalOceanPolicy: ServicePolicy = {
  title: 'DigitalOcean',
  holdFor({ status, headers }, now) {
    // The RateLimit-* headers count the hourly budget: RateLimit-Reset (when the oldest counted
    // request expires) matters only once it is spent. A 429 with budget left is the per-minute
    // limit, which has no header of its own: a sixth of its minute, then the retry's backoff.
    const reset = Number(headers.get('ratelimit-reset'));
    const untilReset = Number.isFinite(reset) && reset > 0 ? reset * 1000 - now : 0;
    const hourSpent = headers.get('ratelimit-remaining') === '0' && untilReset > 0;
    if (status === 429) return retryAfterMs(headers, now) ?? (hourSpent ? untilReset : 10_000);
    return hourSpent ? untilReset : undefined;
  },
  describeError(body) {
    if (typeof body !== 'object' || body === null) return typeof body === 'string' ? body : undefined;
    const { id, message } = body as { id?: unknown; message?: unknown };
    const parts = [typeof id === 'string' ? id : undefined, typeof message === 'string' ? message : undefined];
    const text = parts.filter((p) => p !== undefined).join(': ');
    return text === '' ? undefined : text;
  },
};
