import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Db, migrate } from '@brainmesh/shared';
import { dbBackends, eventually, sharedStoreBackends } from '@brainmesh/shared/testing';
import { ApiKeys } from '../src/api-keys.js';
import { HUB_MIGRATIONS } from '../src/hub.js';

/** The database, counting the reads of api_keys that verification makes. */
function counted(db: Db): { db: Db; reads: () => number } {
  let reads = 0;
  const wrapped = Object.create(db) as Db;
  wrapped.query = ((sql: string, params?: readonly unknown[]) => {
    if (/^\s*SELECT id, name, key_hash/.test(sql)) reads += 1;
    return db.query(sql, params);
  }) as Db['query'];
  return { db: wrapped, reads: () => reads };
}

const [embedded] = dbBackends();

for (const backend of sharedStoreBackends()) {
  describe(`API keys on the request path (${backend.name} store)`, () => {
    it('are read from the database once, then verified from memory, digest compared every time', async (t) => {
      const opened = await embedded!.open();
      t.after(() => opened.dispose());
      await migrate(opened.value, HUB_MIGRATIONS);
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const { db, reads } = counted(opened.value);
      const keys = new ApiKeys(db, stores[0]);
      const { key } = await keys.create({ name: 'a', scopes: ['node:alpha'] });
      for (let i = 0; i < 50; i++) assert.equal((await keys.verify(key))?.name, 'a');
      assert.equal(reads(), 1);
      // Same id, wrong secret: refused though its id is cached.
      assert.equal(await keys.verify(`${key.slice(0, -4)}AAAA`), undefined);
    });

    it('a revoked key fails on its very next request on this hub, and on another once it hears', async (t) => {
      const opened = await embedded!.open();
      t.after(() => opened.dispose());
      await migrate(opened.value, HUB_MIGRATIONS);
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const here = new ApiKeys(opened.value, stores[0]);
      const there = new ApiKeys(opened.value, stores[1]);
      t.after(await here.start());
      t.after(await there.start());
      const { id, key } = await here.create({ name: 'b', scopes: [] });
      assert.ok(await here.verify(key));
      assert.ok(await there.verify(key), 'both hubs hold it verified');
      await here.revoke(id);
      assert.equal(await here.verify(key), undefined, 'refused at once where it was revoked');
      await eventually(async () => (await there.verify(key)) === undefined, 2_000);
    });

    it('a key past its expiry is refused even while cached', async (t) => {
      const opened = await embedded!.open();
      t.after(() => opened.dispose());
      await migrate(opened.value, HUB_MIGRATIONS);
      let now = Date.now();
      const keys = new ApiKeys(opened.value, undefined, () => now);
      const { key } = await keys.create({ name: 'c', scopes: [], expiresAt: new Date(now + 10_000) });
      assert.ok(await keys.verify(key));
      now += 11_000;
      assert.equal(await keys.verify(key), undefined);
    });
  });
}
