import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/**
 * One service's outbound budget: at most `points` requests per `durationMs`, queued in order
 * rather than refused, and held back as a whole when the service says it is out of budget (a
 * 429, or a remaining count of zero). rate-limiter-flexible gives the window and the queue; the
 * hold is its `block`, so both kinds of waiting are one queue.
 */
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

  /** Resolves when a request may be sent. */
  async take(): Promise<void> {
    await this.queue.removeTokens(1);
  }

  /** Holds every request until `ms` from now (the longer of this and any hold already set). */
  async hold(ms: number): Promise<void> {
    const until = this.now() + ms;
    if (until <= this.heldUntil) return;
    this.heldUntil = until;
    // The queue's key: a block on it makes the queue wait, in order, until the hold ends.
    await this.limiter.block('limiter', ms / 1000);
  }
}
