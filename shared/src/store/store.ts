/**
 * Short-lived and shared state: replay caches, locks, rate-limit counters, registry change
 * notifications. Redis when several hub replicas share it; an in-process map for one process.
 * Both honour the same contract, and the same tests run against both.
 */

export type Unsubscribe = () => Promise<void>;

export interface Store {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Sets a value, replacing any; with `ttlMs` it disappears after that many milliseconds. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when the key is absent; true when this call set it. Atomic across clients. */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  /** True when the key existed. */
  del(key: string): Promise<boolean>;
  /**
   * Adds `by` (default 1) and returns the new value, atomically. `ttlMs` is applied when the
   * counter is created, so a window counter expires at the end of its window.
   */
  incr(key: string, options?: { by?: number; ttlMs?: number }): Promise<number>;
  /** Milliseconds left; -1 when the key has no expiry, -2 when it does not exist. */
  ttl(key: string): Promise<number>;
  /**
   * Takes one of at most `limit` leases under `key`, to last `ttlMs`: its id, or, when `limit`
   * are live, how many milliseconds until the first of them ends. Atomic across clients, timed
   * by the store's clock (so the clients' clocks need not agree). A budget that must hold over
   * every interval of a window, not only over windows counted from a start, is made of these:
   * the kit's shared outbound limiter.
   */
  lease(key: string, options: { limit: number; ttlMs: number }): Promise<{ id: string } | { waitMs: number }>;
  /** Makes a live lease end `ttlMs` from now, sooner or later than it would have; false when it has ended. */
  renewLease(key: string, id: string, ttlMs: number): Promise<boolean>;
  /**
   * Adds `value` at the end of the list under `key` and keeps the list `ttlMs` from now; with
   * `channel`, publishes there the value's position (from 0) in the same atomic step, so a reader
   * that subscribed before reading the list misses nothing. Returns the position.
   */
  append(key: string, value: string, options: { ttlMs: number; channel?: string }): Promise<number>;
  /** The list's values from position `from` on (none when there is no list). */
  range(key: string, from: number): Promise<string[]>;
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live, so a publish after it is seen. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
