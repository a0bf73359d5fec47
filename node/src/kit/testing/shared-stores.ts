import type { Store } from '@brainmesh/shared';
import { createMemoryStore, openRedisStore } from '@brainmesh/shared';
import { realServers, uniqueName } from '@brainmesh/shared/testing';

/**
 * Two handles on one store, as two nodes have: for tests of what nodes share through it (a
 * shared limiter). On Redis (when REDIS_URL is set) two separate connections with one fresh key
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
