import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { callTool, quietLogger } from '@brainmesh/node/kit/testing';
import { type Db, migrate } from '@brainmesh/shared';
import { dbBackends, eventually } from '@brainmesh/shared/testing';
import { GhlSync, PgGhlCache } from '../src/cache/sync.js';
import { goHighLevelTools } from '../src/gohighlevel/tools.js';
import { MEDTAINER_MIGRATIONS } from '../src/index.js';
import { generateBusiness, SAMPLE_SEED } from '../src/sample/generate.js';
import { GHL_CREDENTIALS as credentials, emulatedGoHighLevel } from './support/gohighlevel.js';

const MINUTE = 60_000;

/** A migrated database, and the sample business behind an emulated GoHighLevel with a live client to it. */
async function setup(t: TestContext, backend: ReturnType<typeof dbBackends>[number], attempts = 4) {
  const opened = await backend.open();
  t.after(() => opened.dispose());
  const db: Db = opened.value;
  await migrate(db, MEDTAINER_MIGRATIONS);
  const business = generateBusiness({ seed: SAMPLE_SEED, now: new Date('2026-11-02T00:00:00Z') });
  const { fake, api } = await emulatedGoHighLevel(business, { attempts });
  t.after(() => fake.close());
  return { db, business, fake, api };
}

const syncedAt = async (db: Db, kind: string) =>
  (
    await db.query<{ synced_at: Date }>('SELECT synced_at FROM medtainer_sync WHERE kind = $1', [kind])
  ).rows[0]?.synced_at.getTime();

for (const backend of dbBackends()) {
  describe(`the GoHighLevel sync cache on ${backend.name}`, () => {
    it('fills the cache; reads answer from it with its age while fresh, and go live once it is stale', async (t) => {
      const { db, business, fake, api } = await setup(t, backend);
      let clock = Date.parse('2026-11-02T09:00:00Z');
      const now = () => clock;
      const sync = new GhlSync(db, api, quietLogger, now);

      // Two syncs asked for at once are one sync: the job never overlaps itself.
      const [first, second] = await Promise.all([sync.runOnce(), sync.runOnce()]);
      assert.equal(first, second);
      const ghl = business.gohighlevel;
      assert.deepEqual(first, {
        pipelines: ghl.pipelines.length,
        contacts: ghl.contacts.length,
        opportunities: ghl.opportunities.length,
        conversations: ghl.conversations.length,
      });
      const { rows } = await db.query<{ kind: string; n: number }>(
        'SELECT kind, count(*)::int AS n FROM medtainer_cache GROUP BY kind ORDER BY kind',
      );
      assert.deepEqual(rows, [
        { kind: 'contacts', n: ghl.contacts.length },
        { kind: 'conversations', n: ghl.conversations.length },
        { kind: 'opportunities', n: ghl.opportunities.length },
        { kind: 'pipelines', n: ghl.pipelines.length },
      ]);

      const cache = new PgGhlCache(db, credentials.locationId, 20 * MINUTE, now);
      const tools = goHighLevelTools({ api, mode: 'live', cache });
      const target = ghl.contacts[42];
      assert.ok(target);

      // Seven minutes later: fresh, so the answer comes from the cache, with its age, and the
      // service is not asked.
      clock += 7 * MINUTE;
      const before = fake.requests.length;
      const cached = await callTool(tools, 'gohighlevel.search_contacts', { query: target.email ?? '' });
      assert.equal(cached.source, 'cached');
      assert.equal(cached.json.source, 'cached');
      assert.equal(cached.json.ageSeconds, 7 * 60);
      assert.match(JSON.stringify(cached.json), new RegExp(target.id));
      assert.equal(fake.requests.length, before);

      // Past the maximum age: live, and the service is asked.
      clock += 14 * MINUTE;
      const live = await callTool(tools, 'gohighlevel.search_contacts', { query: target.email ?? '' });
      assert.equal(live.source, undefined);
      assert.equal(live.json.source, 'live');
      assert.match(JSON.stringify(live.json), new RegExp(target.id));
      assert.ok(fake.requests.length > before);

      // A new sync makes it fresh again.
      await sync.runOnce();
      const again = await callTool(tools, 'gohighlevel.search_contacts', { query: target.email ?? '' });
      assert.equal(again.json.source, 'cached');
      assert.equal(again.json.ageSeconds, 0);

      // A change made through this node shows at once in reads from the copy.
      await callTool(tools, 'gohighlevel.add_tags', { contactId: target.id, tags: ['VIP-2026'], confirm: true });
      const tagged = await callTool(tools, 'gohighlevel.search_contacts', { tags: ['vip-2026'] });
      assert.equal(tagged.json.source, 'cached');
      assert.deepEqual(
        (tagged.json.contacts as { id: string }[]).map((c) => c.id),
        [target.id],
      );

      // Another location's cache holds nothing of this one's.
      const elsewhere = new PgGhlCache(db, 'anotherLocation0002', 20 * MINUTE, now);
      assert.equal(await elsewhere.read('contacts'), undefined);
    });

    it('syncs at start when there is no fresh copy, and stops cleanly', async (t) => {
      const { db, business, api } = await setup(t, backend);
      const sync = new GhlSync(db, api, quietLogger);
      // A schedule that does not come round during the test: only the start-up sync runs.
      await sync.start('0 0 1 1 *', 20 * MINUTE);
      t.after(() => sync.stop());
      const synced = async () =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM medtainer_sync')).rows[0]?.n === 4;
      await eventually(synced, 30_000);
      const cache = new PgGhlCache(db, credentials.locationId, 20 * MINUTE);
      assert.equal((await cache.read('contacts'))?.items.length, business.gohighlevel.contacts.length);
      await sync.stop();
    });

    it('stops a sync in flight when the node stops, keeping what it had', async (t) => {
      const { db, business, fake, api } = await setup(t, backend);
      // The first answer says the budget is spent for 20 s: the sync's next request waits.
      fake.script({
        path: '/opportunities/pipelines',
        times: 1,
        answer: {
          status: 200,
          headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-interval-milliseconds': '20000' },
          body: { pipelines: business.gohighlevel.pipelines },
        },
      });
      const sync = new GhlSync(db, api, quietLogger);
      const running = sync.runOnce();
      await eventually(async () => (await syncedAt(db, 'pipelines')) !== undefined, 10_000);
      await sync.stop();
      const report = await running;
      assert.equal(report.pipelines, business.gohighlevel.pipelines.length);
      assert.equal(report.contacts, undefined, 'the waiting kind was given up, not fetched');
      assert.equal(fake.requests.length, 1);
    });

    it('keeps the previous copy of a kind whose sync fails, and syncs the others', async (t) => {
      const { db, business, fake, api } = await setup(t, backend, 1);
      let clock = Date.parse('2026-11-02T09:00:00Z');
      const sync = new GhlSync(db, api, quietLogger, () => clock);
      await sync.runOnce();
      const pipelinesAt = await syncedAt(db, 'pipelines');
      const contactsAt = await syncedAt(db, 'contacts');
      clock += 15 * MINUTE;
      fake.script({
        path: '/opportunities/pipelines',
        times: 1,
        answer: { status: 500, body: { statusCode: 500, message: 'Internal server error' } },
      });
      const report = await sync.runOnce();
      assert.match(JSON.stringify(report.pipelines), /500/);
      assert.equal(report.contacts, business.gohighlevel.contacts.length);
      // The failed kind keeps its copy and its age (so it goes live when that copy is stale);
      // the others are stamped anew.
      assert.equal(await syncedAt(db, 'pipelines'), pipelinesAt);
      assert.equal(await syncedAt(db, 'contacts'), (contactsAt ?? 0) + 15 * MINUTE);
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM medtainer_cache WHERE kind = 'pipelines'",
      );
      assert.equal(rows[0]?.n, business.gohighlevel.pipelines.length);
    });
  });
}
