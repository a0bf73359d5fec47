import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietLogger, serveFake, sharedStoreBackends } from '@brainmesh/node/kit/testing';
import { connect } from '../src/connections.js';
import { GoHighLevelApi } from '../src/gohighlevel/client.js';
import { GOHIGHLEVEL_LIMIT } from '../src/gohighlevel/policy.js';
import { emptyBusiness } from '../src/sample/business.js';
import { goHighLevelEmulator } from '../src/sample/gohighlevel.js';
import { medtainerSettingsSchema } from '../src/settings.js';
import { GHL_CREDENTIALS } from './support/gohighlevel.js';

/**
 * Two MedTainer nodes with one GoHighLevel credential, each connected through its own store
 * handle (two Redis connections when REDIS_URL is set), driven hard at once against one
 * GoHighLevel emulator on loopback: together they never go past its 100 requests per 10 s. The
 * emulator's own window decides: it answers 429 past its limit, and each of its clock readings
 * (one per request on these reads) is kept to count its windows again here.
 */

for (const backend of sharedStoreBackends()) {
  describe(`MedTainer nodes sharing GoHighLevel's budget (${backend.name})`, () => {
    it('never exceed the service window together', async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const business = emptyBusiness(new Date());
      const readings: number[] = [];
      const emulator = goHighLevelEmulator(business, GHL_CREDENTIALS, {
        now: () => {
          const now = Date.now();
          readings.push(now);
          return now;
        },
      });
      const fake = await serveFake(emulator);
      t.after(() => fake.close());
      const settings = medtainerSettingsSchema.parse({ gohighlevel: { ...GHL_CREDENTIALS, baseUrl: fake.url } });
      const nodes = stores.map((store) => {
        const connections = connect(settings, quietLogger, () => business, store);
        assert.equal(connections.gohighlevel.mode, 'live');
        return new GoHighLevelApi(connections.gohighlevel.client, GHL_CREDENTIALS.locationId);
      });

      // 150 reads, alternating nodes, all at once: one and a half windows' worth.
      const total = GOHIGHLEVEL_LIMIT.points * 1.5;
      await Promise.all(Array.from({ length: total }, (_, n) => nodes[n % 2]?.listPipelines()));

      const statuses = fake.requests.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 429).length, 0, 'the emulator sent no 429');
      assert.equal(fake.requests.length, total, 'each read sent once');
      // The emulator's window: fixed, from its first request.
      const windows: number[] = [];
      let start = Number.NEGATIVE_INFINITY;
      for (const at of readings) {
        if (at - start >= GOHIGHLEVEL_LIMIT.durationMs) {
          start = at;
          windows.push(0);
        }
        windows[windows.length - 1] = (windows.at(-1) ?? 0) + 1;
      }
      assert.deepEqual(windows, [GOHIGHLEVEL_LIMIT.points, total - GOHIGHLEVEL_LIMIT.points]);
    });
  });
}
