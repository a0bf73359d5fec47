import { createMemoryStore } from './memory.js';
import { openRedisStore } from './redis.js';
import type { Store } from './store.js';

export function openStore(options: { redisUrl?: string | undefined; keyPrefix?: string }): Promise<Store> {
  const keyPrefix = options.keyPrefix ?? 'brainmesh:';
  if (options.redisUrl !== undefined) return openRedisStore({ url: options.redisUrl, keyPrefix });
  return Promise.resolve(createMemoryStore({ keyPrefix }));
}
