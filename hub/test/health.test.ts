import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, KeyRing, migrate } from '@brainmesh/shared';
import { dbBackends, storeBackends } from '@brainmesh/shared/testing';
import { ApiKeys } from '../src/api-keys.js';
import { HubCallLog } from '../src/audit/hub-calls.js';
import { AuditIngest } from '../src/audit/ingest.js';
import { HUB_MIGRATIONS } from '../src/hub.js';
import { buildHubApp, hubConfigSchema } from '../src/index.js';
import { Mesh } from '../src/mesh/mesh.js';
import { Registry } from '../src/registry.js';

const config = hubConfigSchema.parse({});
const logger = createLogger({ name: 'test', level: 'silent' });
const [dbBackend] = dbBackends();
const [storeBackend] = storeBackends();

describe('health endpoints', () => {
  it('are alive and ready while storage answers, and not ready once it stops', async (t) => {
    const db = await dbBackend!.open();
    const store = await storeBackend!.open();
    await migrate(db.value, HUB_MIGRATIONS);
    const ring = await KeyRing.ephemeral();
    const registry = new Registry(db.value, store.value);
    const mesh = new Mesh({ registry, ring, store: store.value, hubId: 'hub', logger, settings: config.links });
    await mesh.start();
    const app = await buildHubApp({
      config,
      db: db.value,
      store: store.value,
      logger,
      ring,
      registry,
      keys: new ApiKeys(db.value),
      mesh,
      calls: new HubCallLog(db.value, logger),
      ingest: new AuditIngest(db.value, store.value, config.hub.id, logger),
    });
    t.after(async () => {
      await app.close();
      await mesh.stop();
      await store.dispose();
    });

    const alive = await app.inject('/healthz');
    assert.equal(alive.statusCode, 200);
    assert.deepEqual(alive.json(), { status: 'ok' });
    const ready = await app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { database: 'ok', store: 'ok' } });

    await db.dispose();
    const down = await app.inject('/readyz');
    assert.equal(down.statusCode, 503);
    assert.deepEqual(down.json(), { status: 'not ready', checks: { database: 'failing', store: 'ok' } });
    assert.equal((await app.inject('/healthz')).statusCode, 200);
  });
});
