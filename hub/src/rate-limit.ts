import type { Store } from '@brainmesh/shared';

/**
 * Fixed-window counters in the shared store, so every hub replica counts against the same
 * limit (Redis in production). Written on the store's atomic `incr` with a window TTL rather
 * than with a rate-limit library: the store already is the primitive those libraries wrap, and
 * one would need its own Redis connection and its own in-memory twin kept in step with ours.
 */
export type Verdict = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  /** Told the bucket of each refusal (the metrics). */
  onRefused: ((bucket: string) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async take(bucket: string, limit: number, windowMs: number): Promise<Verdict> {
    const now = this.now();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const count = await this.store.incr(`rl:${bucket}:${windowStart}`, { ttlMs: windowMs + 1_000 });
    if (count <= limit) return { ok: true, remaining: limit - count };
    this.onRefused?.(bucket);
    return { ok: false, retryAfterMs: windowStart + windowMs - now };
  }
}

export type ToolClass = 'read' | 'write' | 'destructive';

/** How a tool counts against limits: by what its annotations say it does. */
export function toolClass(
  annotations: { readOnlyHint?: boolean | undefined; destructiveHint?: boolean | undefined } | undefined,
): ToolClass {
  if (annotations?.readOnlyHint === true) return 'read';
  // MCP's default for destructiveHint is true when a tool is not read-only.
  return annotations?.destructiveHint === false ? 'write' : 'destructive';
}
