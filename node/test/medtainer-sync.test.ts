import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrate } from '@brainmesh/shared';
import { dbBackends } from '@brainmesh/shared/testing';
import { NODE_MIGRATIONS } from '../src/node.js';
import { GhlSync, PgGhlCache } from '../src/packs/medtainer/cache/sync.js';
import { GoHighLevelApi } from '../src/packs/medtainer/gohighlevel/client.js';
import { GOHIGHLEVEL_LIMIT, goHighLevelPolicy } from '../src/packs/medtainer/gohighlevel/policy.js';
import { goHighLevelTools } from '../src/packs/medtainer/gohighlevel/tools.js';
import { ApiClient } from '../src/packs/medtainer/http/api-client.js';
import { OutboundLimiter } from '../src/packs/medtainer/http/limiter.js';
import { generateBusiness, SAMPLE_SEED } from '../src/packs/medtainer/sample/generate.js';
import { goHighLevelEmulator } from '../src/packs/medtainer/sample/gohighlevel.js';
import { callTool, quietLogger } from './support/call.js';
import { serveFake } from './support/fake-service.js';

const credentials = { token: 'pit-sync-test', locationId: 'sampleLocation0001' };
const MINUTE = 60_000;

for (const backend of dbBackends()) {
  describe(`the GoHighLevel sync cache on ${backend.name}`, () => {
    it('fills the cache; reads answer from it with its age while fresh, and go live once it is stale', async (t) => {
      const db = await backend.open();
      t.after(() => db.dispose());
      await migrate(db.value, NODE_MIGRATIONS);
      const business = generateBusiness({ seed: SAMPLE_SEED, now: new Date('2026-11-02T00:00:00Z') });
      const fake = await serveFake(goHighLevelEmulator(business, credentials));
      t.after(() => fake.close());
      const client = new ApiClient({
        policy: goHighLevelPolicy,
        baseUrl: fake.url,
        auth: () => ({ authorization: `Bearer ${credentials.token}` }),
        limiter: new OutboundLimiter(GOHIGHLEVEL_LIMIT),
        logger: quietLogger,
      });
      const api = new GoHighLevelApi(client, credentials.locationId);
      let clock = Date.parse('2026-11-02T09:00:00Z');
      const now = () => clock;
      const sync = new GhlSync(db.value, api, quietLogger, now);

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
      const { rows } = await db.value.query<{ kind: string; n: number }>(
        'SELECT kind, count(*)::int AS n FROM medtainer_cache GROUP BY kind ORDER BY kind',
      );
      assert.deepEqual(rows, [
        { kind: 'contacts', n: ghl.contacts.length },
        { kind: 'conversations', n: ghl.conversations.length },
        { kind: 'opportunities', n: ghl.opportunities.length },
        { kind: 'pipelines', n: ghl.pipelines.length },
      ]);

      const cache = new PgGhlCache(db.value, 20 * MINUTE, now);
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
    });

    it('keeps the previous copy of a kind whose sync fails, and syncs the others', async (t) => {
      const db = await backend.open();
      t.after(() => db.dispose());
      await migrate(db.value, NODE_MIGRATIONS);
      const business = generateBusiness({ seed: SAMPLE_SEED, now: new Date('2026-11-02T00:00:00Z') });
      const fake = await serveFake(goHighLevelEmulator(business, credentials));
      t.after(() => fake.close());
      const client = new ApiClient({
        policy: goHighLevelPolicy,
        baseUrl: fake.url,
        auth: () => ({ authorization: `Bearer ${credentials.token}` }),
        limiter: null,
        logger: quietLogger,
        attempts: 1,
      });
      const sync = new GhlSync(db.value, new GoHighLevelApi(client, credentials.locationId), quietLogger);
      await sync.runOnce();
      fake.script({
        path: '/opportunities/pipelines',
        times: 1,
        answer: { status: 500, body: { statusCode: 500, message: 'Internal server error' } },
      });
      const report = await sync.runOnce();
      assert.match(JSON.stringify(report.pipelines), /500/);
      assert.equal(report.contacts, business.gohighlevel.contacts.length);
      const { rows } = await db.value.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM medtainer_cache WHERE kind = 'pipelines'",
      );
      assert.equal(rows[0]?.n, business.gohighlevel.pipelines.length);
    });
  });
}
