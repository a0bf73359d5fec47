import { createMemoryStore } from '../src/store/memory.js';
import { openRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { realServers, uniqueName } from './index.js';

/**
 * Two handles on one store, as two processes have: for tests of what they share through it (a
 * shared limiter, a revocation heard by every hub). On Redis (when REDIS_URL is set) two separate connections with one fresh key
 * prefix; in memory, one store twice, since the in-process store is shared only within a process.
 * Whatever the kit writes to a store carries a TTL, so nothing is left behind on Redis.
 */
export interface SharedStores {
  name: string;
  open(): Promise<{ stores: [Store, Store]; dispose(): Promise<void> }>;
}

export function sharedStoreBackends(): SharedStores[] {
  const { redisUrl } = realServers();
  const backends: SharedStores[] = [
    {
      name: 'memory',
      open: async () => {
        const store = createMemoryStore();
        return { stores: [store, store], dispose: () => store.close() };
      },
    },
  ];
  if (redisUrl !== undefined) {
    backends.push({
      name: 'redis',
      open: async () => {
        const keyPrefix = `${uniqueName('kit')}:`;
        const a = await openRedisStore({ url: redisUrl, keyPrefix });
        const b = await openRedisStore({ url: redisUrl, keyPrefix });
        return { stores: [a, b], dispose: async () => void (await Promise.all([a.close(), b.close()])) };
      },
    });
  }
  return backends;
}
