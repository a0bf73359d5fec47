import { createHash } from 'node:crypto';
import type { Store } from '@brainmesh/shared';
import {
  type Limit,
  type Limiter,
  NOTHING_TO_DO,
  OutboundLimiter,
  type Taken,
  WaitingLine,
  windowGuardMs,
} from './limiter.js';

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
 * - And the answer to a window's first request makes the window last a window's length (and
 *   the guard) from then (`Taken.answered()`, the store's `extend`): the service saw that
 *   request, and opened its own window, before we saw the answer, so ours outlasts it however
 *   long the request took to arrive. Seen in CI without it: the first request of a node still
 *   starting (its event loop busy with its database) arrived over a second after we counted
 *   it, and three of the next window's requests landed in the service's first. Only the first:
 *   stretched by every answer, a window under steady load below the budget would never end.
 *   Left open: a request sent late in our window that arrives after the service's window has
 *   ended opens the service's next one early, and shares it with our next window's requests.
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

  async take(maxWaitMs: number, signal?: AbortSignal): Promise<Taken> {
    let opened = false;
    await this.line.take(
      () =>
        this.tryTake((count) => {
          opened = count === 1;
        }),
      maxWaitMs,
      signal,
    );
    if (!opened) return NOTHING_TO_DO;
    return {
      // Not awaited by the caller: it only has to land before the window would have ended.
      answered: () => void this.store.extend(this.windowKey, this.windowMs()).catch(() => {}),
    };
  }

  private windowMs(): number {
    return this.limit.durationMs + windowGuardMs(this.limit.durationMs);
  }

  private async tryTake(granted: (count: number) => void): Promise<number | undefined> {
    const held = await this.holdRemainingMs();
    if (held > 0) return held;
    const count = await this.store.incr(this.windowKey, { ttlMs: this.windowMs() });
    if (count <= this.limit.points) {
      granted(count);
      return undefined;
    }
    const left = await this.store.ttl(this.windowKey);
    // 0: the window ends within the millisecond (Redis's PTTL rounds down); -2: it ended between
    // the two calls. Either way, ask again at once, not a whole window later. -1 (a window with
    // no expiry) cannot be made by incr; waiting a window out is the safe answer to it.
    return left > 0 ? left : left === -1 ? this.limit.durationMs : 1;
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
