import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore, openRedisStore, type Store } from '../src/index.js';
import { eventually, realServers, storeBackends, uniqueName } from '../testing/index.js';

for (const backend of storeBackends()) {
  describe(`Store on ${backend.name}`, () => {
    it('gets, sets, replaces and deletes', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      assert.equal(await store.get('k'), null);
      await store.set('k', 'one');
      await store.set('k', 'two');
      assert.equal(await store.get('k'), 'two');
      assert.equal(await store.ttl('k'), -1);
      assert.equal(await store.del('k'), true);
      assert.equal(await store.del('k'), false);
      assert.equal(await store.ttl('k'), -2);
    });

    it('expires keys after their TTL', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      await store.set('short', 'v', 80);
      await store.set('long', 'v', 60_000);
      assert.equal(await store.get('short'), 'v');
      const left = await store.ttl('short');
      assert.ok(left > 0 && left <= 80, `ttl ${left}`);
      await eventually(async () => (await store.get('short')) === null);
      assert.equal(await store.get('long'), 'v');
      // An expired key is absent for setIfAbsent too.
      assert.equal(await store.setIfAbsent('short', 'again'), true);
    });

    it('counts atomically, and a counter with a TTL expires as a window', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      const results = await Promise.all(Array.from({ length: 200 }, () => store.incr('hits', { ttlMs: 60_000 })));
      assert.equal(await store.get('hits'), '200');
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      // Later increments keep the window's original expiry instead of extending it.
      assert.equal(await store.incr('window', { ttlMs: 80 }), 1);
      assert.equal(await store.incr('window', { by: 4, ttlMs: 60_000 }), 5);
      assert.ok((await store.ttl('window')) <= 80);
      await eventually(async () => (await store.get('window')) === null);
      assert.equal(await store.incr('window', { ttlMs: 60_000 }), 1);
    });

    it('answers counters asked for together each with its own count, and fails only the one that cannot count', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      await store.set('text', 'not a number');
      // Asked in one turn: Redis gets them as one command, and each answer must find its caller.
      const asked = [
        store.incr('a', { ttlMs: 60_000 }),
        store.incr('b', { by: 10, ttlMs: 60_000 }),
        store.incr('text'),
        store.incr('a', { by: 2, ttlMs: 60_000 }),
        store.incr('b', { ttlMs: 60_000 }),
      ];
      const settled = await Promise.allSettled(asked);
      assert.deepEqual(
        settled.map((s) => (s.status === 'fulfilled' ? s.value : 'failed')),
        [1, 10, 'failed', 3, 11],
      );
      assert.equal(await store.get('text'), 'not a number');
      assert.ok((await store.ttl('a')) > 0);
    });

    it('gives at most a limit of leases at once, says when the first ends, and renews one to end sooner or later', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      const taken = await Promise.all(
        Array.from({ length: 5 }, () => store.lease('budget', { limit: 3, ttlMs: 60_000 })),
      );
      const ids = taken.flatMap((l) => ('id' in l ? [l.id] : []));
      assert.equal(ids.length, 3, 'three of five asked at once');
      assert.equal(new Set(ids).size, 3, 'each its own id');
      for (const refused of taken.filter((l) => 'waitMs' in l))
        assert.ok(refused.waitMs > 50_000 && refused.waitMs <= 60_000, `wait ${refused.waitMs}`);
      // The first lease made to end soon: the next is let in once it has, not a minute later.
      assert.equal(await store.renewLease('budget', ids[0]!, 80), true);
      const next = await store.lease('budget', { limit: 3, ttlMs: 60_000 });
      assert.ok('waitMs' in next && next.waitMs <= 80, `told to wait ${JSON.stringify(next)}`);
      await eventually(async () => 'id' in (await store.lease('budget', { limit: 3, ttlMs: 60_000 })));
      assert.equal(await store.renewLease('budget', ids[0]!, 60_000), false, 'an ended lease stays ended');
      // Renewing to end later holds the budget longer: past the others' minute.
      assert.equal(await store.renewLease('budget', ids[1]!, 120_000), true);
      const later = await store.lease('budget', { limit: 3, ttlMs: 60_000 });
      assert.ok('waitMs' in later && later.waitMs > 50_000 && later.waitMs <= 60_000, JSON.stringify(later));
      assert.equal(await store.renewLease('elsewhere', ids[1]!, 1_000), false, 'a lease belongs to its key');
    });

    it('publishes to subscribers until they unsubscribe', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      const got: string[] = [];
      let resolveSecond: () => void = () => {};
      const second = new Promise<void>((resolve) => {
        resolveSecond = resolve;
      });
      const unsubscribe = await store.subscribe('registry', (m) => {
        got.push(m);
        if (got.length === 2) resolveSecond();
      });
      await store.publish('registry', 'node-added');
      await store.publish('registry', 'node-removed');
      await second;
      assert.deepEqual(got, ['node-added', 'node-removed']);
      await unsubscribe();
      const after: string[] = [];
      const probe = await store.subscribe('registry', (m) => after.push(m));
      await store.publish('registry', 'late');
      await eventually(async () => after.length === 1);
      await probe();
      assert.deepEqual(got, ['node-added', 'node-removed']);
    });
  });

  it('appends to a list, reads it from a position, tells subscribers each position, and expires it', async (t) => {
    const { value: store, dispose } = await backend.open();
    t.after(dispose);
    const heard: string[] = [];
    const unsubscribe = await store.subscribe('log-news', (m) => heard.push(m));
    t.after(unsubscribe);
    assert.deepEqual(await store.range('log', 0), [], 'no list reads as empty');
    assert.equal(await store.append('log', 'a', { ttlMs: 60_000, channel: 'log-news' }), 0);
    assert.equal(await store.append('log', 'b', { ttlMs: 60_000, channel: 'log-news' }), 1);
    assert.equal(await store.append('log', 'c', { ttlMs: 60_000 }), 2);
    assert.deepEqual(await store.range('log', 0), ['a', 'b', 'c']);
    assert.deepEqual(await store.range('log', 2), ['c']);
    assert.deepEqual(await store.range('log', 3), []);
    await eventually(async () => heard.length === 2);
    assert.deepEqual(heard, ['0', '1'], 'only appends that name the channel are told, with their positions');
    // Each append keeps the list its own TTL from then.
    await store.append('short', 'x', { ttlMs: 60_000 });
    await store.append('short', 'y', { ttlMs: 80 });
    await eventually(async () => (await store.range('short', 0)).length === 0);
    assert.equal(await store.append('short', 'z', { ttlMs: 60_000 }), 0, 'an expired list starts again');
  });
}

describe('setIfAbsent is atomic under concurrency', () => {
  async function race(stores: Store[], key: string): Promise<number> {
    const attempts = stores.flatMap((s, i) =>
      Array.from({ length: 25 }, (_, j) => s.setIfAbsent(key, `${i}:${j}`, 30_000)),
    );
    const won = (await Promise.all(attempts)).filter(Boolean).length;
    return won;
  }

  it('in the in-process store', async (t) => {
    const store = createMemoryStore();
    t.after(() => store.close());
    assert.equal(await race([store, store, store, store], 'jti:abc'), 1);
  });

  const { redisUrl } = realServers();
  if (redisUrl !== undefined) {
    it('across separate Redis connections', async (t) => {
      const keyPrefix = `${uniqueName('nx')}:`;
      // Four clients, as four hub replicas would be, all trying to claim the same token id.
      const stores = await Promise.all([0, 1, 2, 3].map(() => openRedisStore({ url: redisUrl, keyPrefix })));
      t.after(async () => {
        await stores[0]?.del('jti:abc');
        await Promise.all(stores.map((s) => s.close()));
      });
      assert.equal(await race(stores, 'jti:abc'), 1);
      const winner = await stores[1]?.get('jti:abc');
      assert.match(winner ?? '', /^\d:\d+$/);
    });
  }
});

describe('key prefixes keep runs apart', () => {
  const { redisUrl } = realServers();
  if (redisUrl !== undefined) {
    it('on one Redis server', async (t) => {
      const [a, b] = await Promise.all([
        openRedisStore({ url: redisUrl, keyPrefix: `${uniqueName('a')}:` }),
        openRedisStore({ url: redisUrl, keyPrefix: `${uniqueName('b')}:` }),
      ]);
      t.after(async () => {
        await a.del('k');
        await Promise.all([a.close(), b.close()]);
      });
      await a.set('k', 'from a');
      assert.equal(await b.get('k'), null);
      assert.equal(await b.setIfAbsent('k', 'from b', 1_000), true);
      await b.del('k');
      assert.equal(await a.get('k'), 'from a');
    });
  }
});

describe('in-process store expiry with an injected clock', () => {
  it('expires exactly at the TTL', async (t) => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now });
    t.after(() => store.close());
    await store.set('k', 'v', 500);
    now += 499;
    assert.equal(await store.get('k'), 'v');
    assert.equal(await store.ttl('k'), 1);
    now += 1;
    assert.equal(await store.get('k'), null);
  });
});
