import { createHash } from 'node:crypto';
import type { Store } from '@brainmesh/shared';
import { type Limit, type Limiter, OutboundLimiter, WaitingLine, windowGuardMs } from './limiter.js';

/**
 * One service's budget shared by every node that calls it with the same credential: two nodes
 * with one GoHighLevel token share GoHighLevel's 100 requests per 10 s, as the service counts
 * them. Written on the store (Redis in a mesh, its in-process twin otherwise) rather than with
 * rate-limiter-flexible's RateLimiterRedis: the store already is the primitive that limiter wraps
 * (an atomic INCR with a window TTL, in Lua on Redis), the store has the memory twin the tests
 * run against too, and it keeps one connection and one key prefix per process.
 *
 * - The window is a counter created with the window's TTL by its first request (the store's
 *   `incr` applies a TTL only when it creates the key), so a window opens at its first request,
 *   as the services' windows do, not on a clock boundary. Past the limit, a waiter sleeps for
 *   the counter's TTL: the store's clock, so nodes' clocks need not agree.
 * - A hold the service asked for (a 429's Retry-After, a remaining count of 0) is a key with the
 *   hold's TTL, checked before every take, so one node's 429 holds back every node.
 * - In front of it, each process keeps its own first-come line (`WaitingLine`), so only the head
 *   of each node's line asks the store. Across nodes the order is whoever asks first.
 * - Keys name the service and a hash of the credential, never the credential itself.
 * - Our window lasts a little longer than the service's (`WINDOW_GUARD`): the service starts its
 *   window when our first request arrives, later than we counted it, so a window of ours that
 *   ended on time would let the next window's first requests land inside the service's last
 *   one. Seen under load: a slow first request (a new connection) made four 429s in 150.
 *   The guard narrows that gap and does not close it: a request slower to arrive than the
 *   guard, or one of ours sent late in our window that arrives after the service's has ended
 *   (opening the service's next window early), still lets a few of ours land in one service
 *   window; the 429 is then honoured (a hold for every node) and the call retried. Closing it
 *   needs a window that stays open until a window's length after the last answer to a request
 *   counted in it, with requests in flight counted: every service window then holds requests
 *   of one of our windows only, whatever the delays. That needs an expiry that only grows
 *   (PEXPIRE … GT) and an in-flight count in the store; not done yet.
 */

export class SharedLimiter implements Limiter {
  private readonly line: WaitingLine;
  private readonly windowKey: string;
  private readonly holdKey: string;

  constructor(
    private readonly store: Store,
    /** From `limiterKey(service, credential)`. */
    key: string,
    private readonly limit: Limit,
    now: () => number = Date.now,
  ) {
    this.line = new WaitingLine(now);
    this.windowKey = `${key}:window`;
    this.holdKey = `${key}:hold`;
  }

  async holdRemainingMs(): Promise<number> {
    return Math.max(0, await this.store.ttl(this.holdKey));
  }

  take(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return this.line.take(() => this.tryTake(), maxWaitMs, signal);
  }

  private async tryTake(): Promise<number | undefined> {
    const held = await this.holdRemainingMs();
    if (held > 0) return held;
    const count = await this.store.incr(this.windowKey, {
      ttlMs: this.limit.durationMs + windowGuardMs(this.limit.durationMs),
    });
    if (count <= this.limit.points) return undefined;
    const left = await this.store.ttl(this.windowKey);
    // -2: the window ended between the two calls; ask again at once.
    return left > 0 ? left : left === -2 ? 1 : this.limit.durationMs;
  }

  async hold(ms: number): Promise<void> {
    // Kept when a longer one is already set. Two nodes setting holds at the same instant may
    // leave the shorter one; the next answer from the service sets it again.
    if ((await this.store.ttl(this.holdKey)) >= ms) return;
    await this.store.set(this.holdKey, '1', ms);
  }
}

/**
 * The store key for one service's budget under one credential: the service's name and a hash
 * of the credential (a token, or a key and secret joined), so the credential never reaches the
 * store, and a rotated credential gets a budget of its own, as the service counts it.
 */
export function limiterKey(service: string, credential: string): string {
  const hash = createHash('sha256').update(credential).digest('hex').slice(0, 32);
  return `outbound:${service.toLowerCase().replace(/[^a-z0-9]+/g, '-')}:${hash}`;
}

/**
 * A service's limiter: shared through `store` when there is one (every node using the
 * credential then shares its budget), otherwise this process's own.
 */
export function outboundLimiter(options: {
  service: string;
  credential: string;
  limit: Limit;
  store?: Store | undefined;
  now?: () => number;
}): Limiter {
  const { store, limit, now } = options;
  if (store === undefined) return new OutboundLimiter(limit, now);
  return new SharedLimiter(store, limiterKey(options.service, options.credential), limit, now);
}
