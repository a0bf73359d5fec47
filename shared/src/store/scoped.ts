import type { Store } from './store.js';

/**
 * A view of a store under a further key prefix: one connection, many owners that cannot tread on
 * each other's keys by accident (a node's own keys, each of its packs'). Closing the view leaves
 * the store open: it belongs to whoever opened it.
 */
export function scopedStore(store: Store, prefix: string): Store {
  const k = (key: string) => `${prefix}${key}`;
  return {
    kind: store.kind,
    get: (key) => store.get(k(key)),
    set: (key, value, ttlMs) => store.set(k(key), value, ttlMs),
    setIfAbsent: (key, value, ttlMs) => store.setIfAbsent(k(key), value, ttlMs),
    del: (key) => store.del(k(key)),
    incr: (key, options) => store.incr(k(key), options),
    ttl: (key) => store.ttl(k(key)),
    lease: (key, options) => store.lease(k(key), options),
    renewLease: (key, id, ttlMs) => store.renewLease(k(key), id, ttlMs),
    append: (key, value, options) =>
      store.append(
        k(key),
        value,
        options.channel === undefined ? options : { ...options, channel: k(options.channel) },
      ),
    range: (key, from) => store.range(k(key), from),
    publish: (channel, message) => store.publish(k(channel), message),
    subscribe: (channel, onMessage) => store.subscribe(k(channel), onMessage),
    ping: () => store.ping(),
    close: async () => {},
  };
}
