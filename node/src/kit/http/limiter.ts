import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * One service's outbound budget: at most `points` requests per `durationMs`, waited for in order
 * rather than refused, and held back as a whole when the service says it is out of budget (a
 * 429, or a remaining count of zero). Two kinds share one interface: `OutboundLimiter` here, for
 * one process (rate-limiter-flexible keeps the window and the hold, its `block`), and
 * `SharedLimiter` (shared-limiter.ts), for every node that uses one credential, through the
 * store. The line of waiters in front of either is ours, because a waiter must be able to leave
 * it (cancelled, or out of time) without costing the ones behind it a request, which the
 * library's queue cannot do.
 */

export interface Limiter {
  /** How long a request asked for now would wait for the service's own hold, in ms. */
  holdRemainingMs(): Promise<number>;
  /**
   * Resolves when a request may be sent, first come first served; rejects with
   * `LimiterWaitExceeded` after `maxWaitMs`, or with the signal's reason when it aborts, so no
   * caller waits without end. A waiter that leaves costs nobody a request.
   */
  take(maxWaitMs: number, signal?: AbortSignal): Promise<Taken>;
  /** Holds every request until `ms` from now (the longer of this and any hold already set). */
  hold(ms: number): Promise<void>;
}

/** A request let through: `answered()` once its answer (or its failure) is back. */
export interface Taken {
  answered(): void;
}

export const NOTHING_TO_DO: Taken = { answered: () => {} };

/** A service's window: at most `points` requests per `durationMs`. */
export interface Limit {
  points: number;
  durationMs: number;
}

/** A wait for the limiter that ran out of time before a request could be sent. */
export class LimiterWaitExceeded extends Error {
  constructor(readonly waitedMs: number) {
    super(`waited ${waitedMs} ms for the rate limit`);
  }
}

/** One try at the budget: undefined when a request may go now, else how long to wait, in ms. */
export type TryTake = () => Promise<number | undefined>;

/**
 * First come first served in front of a budget: only the head of the line asks it, so a process
 * has one request polling however many wait, and a waiter that leaves hands its turn on.
 */
export class WaitingLine {
  /** Settles when the last waiter in line has its turn over (sent, or gone). */
  private line: Promise<void> = Promise.resolve();

  constructor(private readonly now: () => number = Date.now) {}

  async take(tryTake: TryTake, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const deadline = this.now() + maxWaitMs;
    const before = this.line;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    // Those behind wait for this turn and, if it is given up early, for the ones before it too.
    this.line = mine.then(() => before);
    try {
      await this.wait(() => before, deadline, maxWaitMs, signal);
      for (;;) {
        const waitMs = await tryTake();
        if (waitMs === undefined) return;
        await this.wait((abandon) => sleep(waitMs, undefined, { signal: abandon }), deadline, maxWaitMs, signal);
      }
    } finally {
      done();
    }
  }

  /** What `until` waits for, unless the deadline passes or the signal aborts first. */
  private async wait(
    until: (abandon: AbortSignal) => Promise<unknown>,
    deadline: number,
    maxWaitMs: number,
    signal?: AbortSignal,
  ) {
    const left = deadline - this.now();
    if (left <= 0) throw new LimiterWaitExceeded(maxWaitMs);
    const stop = new AbortController();
    const abandon = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
    try {
      await Promise.race([
        until(abandon),
        sleep(left, undefined, { signal: abandon }).then(() => {
          throw new LimiterWaitExceeded(maxWaitMs);
        }),
      ]);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw err;
    } finally {
      stop.abort();
    }
  }
}

const KEY = 'limiter';

/**
 * How much longer our window lasts than the service's: a tenth of it, at most a second. The
 * service starts its window when our first request arrives, later than we counted it; a window
 * of ours that ended on time would let the next one's first requests land in the service's last.
 */
export const windowGuardMs = (durationMs: number) => Math.min(1_000, Math.ceil(durationMs / 10));

/** The budget of one process: what a node uses when it has no store to share it through. */
export class OutboundLimiter implements Limiter {
  private readonly limiter: RateLimiterMemory;
  private readonly line: WaitingLine;
  private heldUntil = 0;

  constructor(
    limit: Limit,
    private readonly now: () => number = Date.now,
  ) {
    this.limiter = new RateLimiterMemory({
      points: limit.points,
      duration: (limit.durationMs + windowGuardMs(limit.durationMs)) / 1000,
    });
    this.line = new WaitingLine(now);
  }

  async holdRemainingMs(): Promise<number> {
    return Math.max(0, this.heldUntil - this.now());
  }

  async take(maxWaitMs: number, signal?: AbortSignal): Promise<Taken> {
    await this.line.take(
      () =>
        this.limiter.consume(KEY).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof RateLimiterRes) return err.msBeforeNext;
            throw err;
          },
        ),
      maxWaitMs,
      signal,
    );
    // One process: rate-limiter-flexible's window cannot be made to last longer, and its
    // requests leave one process, so they arrive about as they are counted. The gap the shared
    // limiter closes (shared-limiter.ts) is left here to the guard and the 429's hold.
    return NOTHING_TO_DO;
  }

  async hold(ms: number): Promise<void> {
    const until = this.now() + ms;
    if (until <= this.heldUntil) return;
    this.heldUntil = until;
    // A block makes every consume fail, with the time left, until the hold ends.
    await this.limiter.block(KEY, ms / 1000);
  }
}
