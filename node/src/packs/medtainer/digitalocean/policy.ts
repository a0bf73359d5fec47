import { retryAfterMs, type ServicePolicy } from '../http/api-client.js';

/** DigitalOcean's per-minute limit: 250 requests (beside 5,000 an hour, told by its headers). */
export const DIGITALOCEAN_LIMIT = { points: 250, durationMs: 60_000 };

export const digitalOceanPolicy: ServicePolicy = {
  title: 'DigitalOcean',
  holdFor({ status, headers }, now) {
    // RateLimit-Reset is when the oldest counted request expires; it has been seen in the past on
    // a 429, so a reset already gone falls back to a short wait.
    const reset = Number(headers.get('ratelimit-reset'));
    const untilReset = Number.isFinite(reset) && reset > 0 ? reset * 1000 - now : undefined;
    if (status === 429) {
      const after = retryAfterMs(headers, now);
      if (after !== undefined) return after;
      return untilReset !== undefined && untilReset > 0 ? untilReset : 1_000;
    }
    if (headers.get('ratelimit-remaining') === '0' && untilReset !== undefined && untilReset > 0) return untilReset;
    return undefined;
  },
  describeError(body) {
    if (typeof body !== 'object' || body === null) return typeof body === 'string' ? body : undefined;
    const { id, message } = body as { id?: unknown; message?: unknown };
    const parts = [typeof id === 'string' ? id : undefined, typeof message === 'string' ? message : undefined];
    const text = parts.filter((p) => p !== undefined).join(': ');
    return text === '' ? undefined : text;
  },
};
