import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/**
 * One service's outbound budget: at most `points` requests per `durationMs`, queued in order
 * rather than refused, and held back as a whole when the service says it is out of budget (a
 * 429, or a remaining count of zero). rate-limiter-flexible gives the window and the queue; the
 * hold is its `block`, so both kinds of waiting are one queue.
 */

const KEY = 'limiter';

/** A wait for the limiter that ran out of time before a request could be sent. */
export class LimiterWaitExceeded extends Error {
  constructor(readonly waitedMs: number) {
    super(`waited ${waitedMs} ms for the rate limit`);
  }
}

export class OutboundLimiter {
  private readonly limiter: RateLimiterMemory;
  private readonly queue: RateLimiterQueue;
  private heldUntil = 0;

  constructor(
    limit: { points: number; durationMs: number },
    private readonly now: () => number = Date.now,
  ) {
    this.limiter = new RateLimiterMemory({ points: limit.points, duration: limit.durationMs / 1000 });
    this.queue = new RateLimiterQueue(this.limiter, { maxQueueSize: 10_000 });
  }

  /** How long a request asked for now would wait for the service's own hold, in ms. */
  holdRemainingMs(): number {
    return Math.max(0, this.heldUntil - this.now());
  }

  /**
   * Resolves when a request may be sent; rejects with `LimiterWaitExceeded` after `maxWaitMs`, or
   * with the signal's reason when it aborts, so no caller waits without end. A wait given up on
   * carries a deadline into the queue, which then drops it rather than spend a token on it.
   */
  async take(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const queued = this.queue.removeTokens(1, KEY, Math.ceil((this.now() + maxWaitMs) / 1000));
    // Once given up on, its own rejection (expired in the queue) is expected and unheard.
    queued.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const givenUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LimiterWaitExceeded(maxWaitMs)), maxWaitMs);
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([queued, givenUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Holds every request until `ms` from now (the longer of this and any hold already set). */
  async hold(ms: number): Promise<void> {
    const until = this.now() + ms;
    if (until <= this.heldUntil) return;
    this.heldUntil = until;
    // A block on the queue's key makes the queue wait, in order, until the hold ends.
    await this.limiter.block(KEY, ms / 1000);
  }
}
