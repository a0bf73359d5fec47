import { randomUUID } from 'node:crypto';
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
  /** Each key's leases: id to when it ends. */
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly lists = new Map<string, { values: string[]; expiresAt: number }>();
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
    for (const [k, list] of this.lists) if (list.expiresAt <= now) this.lists.delete(k);
    for (const [k, held] of this.leases) {
      for (const [id, ends] of held) if (ends <= now) held.delete(id);
      if (held.size === 0) this.leases.delete(k);
    }
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

  async lease(key: string, options: { limit: number; ttlMs: number }): Promise<{ id: string } | { waitMs: number }> {
    const now = this.now();
    const k = this.prefix + key;
    const held = this.leases.get(k) ?? new Map<string, number>();
    this.leases.set(k, held);
    let first = Number.POSITIVE_INFINITY;
    for (const [id, ends] of held) {
      if (ends <= now) held.delete(id);
      else first = Math.min(first, ends);
    }
    if (held.size >= options.limit) return { waitMs: Math.max(1, first - now) };
    const id = randomUUID();
    held.set(id, now + Math.max(1, Math.ceil(options.ttlMs)));
    return { id };
  }

  async renewLease(key: string, id: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const held = this.leases.get(this.prefix + key);
    const ends = held?.get(id);
    if (held === undefined || ends === undefined || ends <= now) return false;
    held.set(id, now + Math.max(1, Math.ceil(ttlMs)));
    return true;
  }

  async append(key: string, value: string, options: { ttlMs: number; channel?: string }): Promise<number> {
    const k = this.prefix + key;
    const now = this.now();
    let list = this.lists.get(k);
    if (list === undefined || list.expiresAt <= now) {
      list = { values: [], expiresAt: 0 };
      this.lists.set(k, list);
    }
    list.expiresAt = now + Math.max(1, Math.ceil(options.ttlMs));
    const position = list.values.push(value) - 1;
    if (options.channel !== undefined) await this.publish(options.channel, String(position));
    return position;
  }

  async range(key: string, from: number): Promise<string[]> {
    const list = this.lists.get(this.prefix + key);
    if (list === undefined || list.expiresAt <= this.now()) return [];
    return list.values.slice(Math.max(0, from));
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
    this.leases.clear();
    this.lists.clear();
  }
}
