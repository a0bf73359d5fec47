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
   * Makes the key live at least `ttlMs` more, atomically: an expiry further off is kept, a key
   * without one stays without. False when the key does not exist.
   */
  extend(key: string, ttlMs: number): Promise<boolean>;
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live, so a publish after it is seen. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
