import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BrainmeshError } from '../errors.js';
import { safeUrl } from '../safe-url.js';
import type { Store, Unsubscribe } from './store.js';

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key and channel, so deployments and test runs sharing a server stay apart. */
  keyPrefix?: string;
}

// Several counters at once (ARGV: amount and TTL of each key in turn). INCRBY and the first
// PEXPIRE must happen together, or a crash between them leaves a counter that never expires. A
// key that cannot count (it holds text) answers its error as a string, and the others still count.
const INCR_MANY_WITH_TTL = `
local out = {}
for i = 1, #KEYS do
  local v = redis.pcall('INCRBY', KEYS[i], ARGV[2 * i - 1])
  if type(v) == 'table' and v.err then
    out[i] = v.err
  else
    out[i] = v
    local ttl = tonumber(ARGV[2 * i])
    if ttl > 0 and redis.call('PTTL', KEYS[i]) == -1 then
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
end
return out`;

// Leases are a sorted set of ids scored by when each ends, in Redis's own milliseconds (TIME: a
// script's writes are replicated as effects, so reading the clock in one is allowed). Ended ones
// are dropped before counting. The key lives at least as long as its longest lease.
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const LEASE = `${NOW_MS}
local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) - now)
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 0`;

const RENEW_LEASE = `${NOW_MS}
local ends = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not ends or tonumber(ends) <= now then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

// The list, its expiry and the news of it in one step: a reader subscribes, then reads the list,
// and whatever is appended after its read reaches it as a message.
const APPEND = `
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], n - 1) end
return n - 1`;

export async function openRedisStore(options: RedisStoreOptions): Promise<Store> {
  const client = new Redis(options.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    // Fail fast at start-up; once running, ioredis reconnects on its own.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (cause) {
    client.disconnect();
    throw new BrainmeshError('STORE_UNAVAILABLE', `cannot reach Redis at ${safeUrl(options.url)}`, { cause });
  }
  // No fixed key count: the first argument says how many keys follow.
  client.defineCommand('bmIncrMany', { lua: INCR_MANY_WITH_TTL });
  client.defineCommand('bmLease', { numberOfKeys: 1, lua: LEASE });
  client.defineCommand('bmRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE });
  client.defineCommand('bmAppend', { numberOfKeys: 1, lua: APPEND });
  return new RedisStore(client, options.keyPrefix ?? '');
}

type WithScripts = Redis & {
  /** 0 when the lease is taken, else the milliseconds until one ends. */
  bmLease(key: string, limit: number, ttlMs: number, id: string): Promise<number>;
  bmRenewLease(key: string, id: string, ttlMs: number): Promise<number>;
  /** The appended value's position. */
  bmAppend(key: string, value: string, ttlMs: number, channel: string): Promise<number>;
  /** Each key's count, or its error's text. */
  bmIncrMany(keys: number, ...keysThenArgs: Array<string | number>): Promise<Array<number | string>>;
};

interface QueuedIncr {
  key: string;
  by: number;
  ttlMs: number;
  resolve(value: number): void;
  reject(err: unknown): void;
}

class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  /** Increments asked for in this turn of the event loop, sent together at its end. */
  private incrs: QueuedIncr[] = [];

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | null> {
    return this.client.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.client.set(this.prefix + key, value);
    else await this.client.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const k = this.prefix + key;
    const reply =
      ttlMs === undefined
        ? await this.client.set(k, value, 'NX')
        : await this.client.set(k, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return reply === 'OK';
  }

  async del(key: string): Promise<boolean> {
    return (await this.client.del(this.prefix + key)) > 0;
  }

  /**
   * Counters are on every request's path (two rate-limit windows a tool call), so the ones asked
   * for while the event loop handles one round of I/O go to Redis as one command: one script that
   * counts them all, in one write and one read. Each write to a socket is a system call that, on
   * loopback, runs the receiver's side of TCP too: in a profile of the hub at 64 clients on real
   * storage, a pipeline's per-command writes were 9% of its busy samples, and before pipelines,
   * writing commands one by one a quarter (docs/performance.md). Increments of one key in a batch
   * (the same caller's window) become one INCRBY of their sum, each caller given the count its own
   * increment reached, as if they had gone one after another in the order asked. `setImmediate`
   * runs once this round's I/O callbacks are done, so a lone increment waits for nothing but them.
   */
  incr(key: string, options: { by?: number; ttlMs?: number } = {}): Promise<number> {
    const ttlMs = options.ttlMs === undefined ? 0 : Math.max(1, Math.ceil(options.ttlMs));
    return new Promise<number>((resolve, reject) => {
      if (this.incrs.push({ key: this.prefix + key, by: options.by ?? 1, ttlMs, resolve, reject }) === 1)
        setImmediate(() => this.sendIncrs());
    });
  }

  private sendIncrs(): void {
    const batch = this.incrs;
    this.incrs = [];
    const byKey = new Map<string, { by: number; ttlMs: number; waiting: QueuedIncr[] }>();
    for (const q of batch) {
      const same = byKey.get(q.key);
      if (same === undefined) byKey.set(q.key, { by: q.by, ttlMs: q.ttlMs, waiting: [q] });
      else {
        same.by += q.by;
        same.ttlMs = Math.max(same.ttlMs, q.ttlMs);
        same.waiting.push(q);
      }
    }
    const keys = [...byKey.keys()];
    const args = [...byKey.values()].flatMap((k) => [k.by, k.ttlMs]);
    (this.client as WithScripts).bmIncrMany(keys.length, ...keys, ...args).then(
      (totals) => {
        [...byKey.values()].forEach((k, i) => {
          const total = totals[i];
          if (typeof total !== 'number') {
            const err = new Error(total ?? 'Redis answered the counters short');
            for (const q of k.waiting) q.reject(err);
            return;
          }
          let count = total - k.by;
          for (const q of k.waiting) {
            count += q.by;
            q.resolve(count);
          }
        });
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  async ttl(key: string): Promise<number> {
    return this.client.pttl(this.prefix + key);
  }

  async lease(key: string, options: { limit: number; ttlMs: number }): Promise<{ id: string } | { waitMs: number }> {
    const id = randomUUID();
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs));
    const waitMs = await (this.client as WithScripts).bmLease(this.prefix + key, options.limit, ttlMs, id);
    return waitMs === 0 ? { id } : { waitMs };
  }

  async renewLease(key: string, id: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await (this.client as WithScripts).bmRenewLease(this.prefix + key, id, ttl)) === 1;
  }

  async append(key: string, value: string, options: { ttlMs: number; channel?: string }): Promise<number> {
    const ttl = Math.max(1, Math.ceil(options.ttlMs));
    const channel = options.channel === undefined ? '' : this.prefix + options.channel;
    return (this.client as WithScripts).bmAppend(this.prefix + key, value, ttl, channel);
  }

  async range(key: string, from: number): Promise<string[]> {
    return this.client.lrange(this.prefix + key, Math.max(0, from), -1);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    // A connection in subscriber mode can run nothing else, so it is a second, lazily made one.
    if (this.subscriber === undefined) {
      this.subscriber = this.client.duplicate();
      this.subscriber.on('error', () => {});
      this.subscriber.on('message', (ch: string, message: string) => {
        for (const handler of this.handlers.get(ch) ?? []) handler(message);
      });
    }
    let set = this.handlers.get(name);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(name, set);
      await this.subscriber.subscribe(name);
    }
    set.add(onMessage);
    return async () => {
      const current = this.handlers.get(name);
      current?.delete(onMessage);
      if (current?.size === 0) {
        this.handlers.delete(name);
        await this.subscriber?.unsubscribe(name);
      }
    };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.all([this.client.quit().catch(() => {}), this.subscriber?.quit().catch(() => {})]);
  }
}
