import { EventEmitter } from 'node:events';
import type { Store, Unsubscribe } from './store.js';

interface Entry {
  value: string;
  expiresAt: number | undefined;
}

export interface MemoryStoreOptions {
  /** Milliseconds since the epoch; injectable so expiry can be tested without waiting. */
  now?: () => number;
  keyPrefix?: string;
}

/**
 * The single-process store. Expired keys are dropped when read and by a sweep, so a replay cache
 * of one-off keys does not grow without bound. Every method completes before yielding, so each
 * is atomic with respect to the others, as in Redis.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  return new MemoryStore(options.now ?? Date.now, options.keyPrefix ?? '');
}

class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly bus = new EventEmitter();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly now: () => number,
    private readonly prefix: string,
  ) {
    this.bus.setMaxListeners(0);
    this.sweep = setInterval(() => this.dropExpired(), 30_000);
    this.sweep.unref();
  }

  private live(key: string): Entry | undefined {
    const k = this.prefix + key;
    const entry = this.entries.get(k);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry;
  }

  private expiry(ttlMs: number | undefined): number | undefined {
    return ttlMs === undefined ? undefined : this.now() + ttlMs;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.entries.delete(k);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(this.prefix + key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.live(key) !== undefined) return false;
    this.entries.set(this.prefix + key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async del(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    this.entries.delete(this.prefix + key);
    return existed;
  }

  async incr(key: string, options: { by?: number; ttlMs?: number } = {}): Promise<number> {
    const entry = this.live(key);
    const current = entry === undefined ? 0 : Number(entry.value);
    if (!Number.isInteger(current)) throw new Error(`value at ${key} is not an integer`);
    const next = current + (options.by ?? 1);
    this.entries.set(this.prefix + key, {
      value: String(next),
      expiresAt: entry === undefined ? this.expiry(options.ttlMs) : entry.expiresAt,
    });
    return next;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    if (entry === undefined) return -2;
    return entry.expiresAt === undefined ? -1 : entry.expiresAt - this.now();
  }

  async extend(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(key);
    if (entry === undefined) return false;
    const until = this.now() + ttlMs;
    if (entry.expiresAt !== undefined && entry.expiresAt < until) entry.expiresAt = until;
    return true;
  }

  async publish(channel: string, message: string): Promise<void> {
    // Delivered on a later tick, as a network round trip would be, never inside publish().
    setImmediate(() => this.bus.emit(this.prefix + channel, message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    this.bus.on(name, onMessage);
    return async () => {
      this.bus.off(name, onMessage);
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweep);
    this.bus.removeAllListeners();
    this.entries.clear();
  }
}
