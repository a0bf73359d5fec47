import { createHash } from 'node:crypto';
import type { Store } from '@brainmesh/shared';
import { type Limit, type Limiter, OutboundLimiter, type Taken, WaitingLine, windowGuardMs } from './limiter.js';

/**
 * One service's budget shared by every node that calls it with the same credential: two nodes
 * with one GoHighLevel token share GoHighLevel's 100 requests per 10 s, as the service counts
 * them. Written on the store (Redis in a mesh, its in-process twin otherwise) rather than with
 * rate-limiter-flexible's RateLimiterRedis: the store already has the primitive it needs, the
 * store has the memory twin the tests run against too, and it keeps one connection and one key
 * prefix per process.
 *
 * - Each request holds a lease (`Store.lease`) from when it is let go until a window after its
 *   answer came back (`Taken.answered()` renews it to end then); at most `points` are live. The
 *   service counts a request when it arrives, which is after we let it go and before we see its
 *   answer, so every request the service counted in any interval of a window's length still held
 *   its lease when a later one of that interval was let go: no interval of the service's, however
 *   its windows are placed, holds more than `points` of ours. Windows counted from a first
 *   request, as before, could not promise that: a window's last request arriving after the
 *   service's window ended opened the service's next one early, and shared it with our next
 *   window's requests (seen: 7 refusals in 150 when the link's frames were held for a turn).
 * - A lease whose answer never comes back (the node died mid-request) ends `answerWithinMs`
 *   and a window after it was taken: longer than any request may take (the API client's
 *   timeout).
 * - Times are the store's clock, so nodes' clocks need not agree. The window still has its
 *   guard (`windowGuardMs`) for a service that counts in coarser time than ours.
 * - A hold the service asked for (a 429's Retry-After, a remaining count of 0) is a key with the
 *   hold's TTL, checked before every take, so one node's 429 holds back every node.
 * - In front of it, each process keeps its own first-come line (`WaitingLine`), so only the head
 *   of each node's line asks the store. Across nodes the order is whoever asks first.
 * - Keys name the service and a hash of the credential, never the credential itself.
 */

export class SharedLimiter implements Limiter {
  private readonly line: WaitingLine;
  private readonly windowKey: string;
  private readonly holdKey: string;
  private readonly answerWithinMs: number;

  constructor(
    private readonly store: Store,
    /** From `limiterKey(service, credential)`. */
    key: string,
    private readonly limit: Limit,
    options: { now?: () => number; answerWithinMs?: number } = {},
  ) {
    this.line = new WaitingLine(options.now);
    this.windowKey = `${key}:leases`;
    this.holdKey = `${key}:hold`;
    this.answerWithinMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
  }

  async holdRemainingMs(): Promise<number> {
    return Math.max(0, await this.store.ttl(this.holdKey));
  }

  async take(maxWaitMs: number, signal?: AbortSignal): Promise<Taken> {
    let id: string | undefined;
    await this.line.take(
      async () => {
        const held = await this.holdRemainingMs();
        if (held > 0) return held;
        const lease = await this.store.lease(this.windowKey, {
          limit: this.limit.points,
          ttlMs: this.answerWithinMs + this.windowMs(),
        });
        // A lease whose answer is still out ends a window after that answer at the soonest,
        // so ask again a window from now at the latest, not when it would end unanswered.
        if ('waitMs' in lease) return Math.min(lease.waitMs, this.windowMs());
        id = lease.id;
        return undefined;
      },
      maxWaitMs,
      signal,
    );
    const leased = id as string;
    return {
      // Not awaited by the caller; until it lands, the lease lasts longer, never shorter.
      answered: () => void this.store.renewLease(this.windowKey, leased, this.windowMs()).catch(() => {}),
    };
  }

  private windowMs(): number {
    return this.limit.durationMs + windowGuardMs(this.limit.durationMs);
  }

  async hold(ms: number): Promise<void> {
    // Kept when a longer one is already set. Two nodes setting holds at the same instant may
    // leave the shorter one; the next answer from the service sets it again.
    if ((await this.store.ttl(this.holdKey)) >= ms) return;
    await this.store.set(this.holdKey, '1', ms);
  }
}

/** Longer than the API client's timeout (30 s unless set), which bounds a request and its answer. */
const ANSWER_WITHIN_MS = 60_000;

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
  return new SharedLimiter(
    store,
    limiterKey(options.service, options.credential),
    limit,
    now === undefined ? {} : { now },
  );
}
