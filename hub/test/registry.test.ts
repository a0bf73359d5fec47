import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrainmeshError, KeyRing, migrate } from '@brainmesh/shared';
import { dbBackends, eventually, storeBackends } from '@brainmesh/shared/testing';
import { HUB_MIGRATIONS } from '../src/hub.js';
import { Registry, type RegistryEvent } from '../src/registry.js';

const [storeBackend] = storeBackends();

for (const backend of dbBackends()) {
  describe(`registry on ${backend.name}`, () => {
    const open = async (t: { after(fn: () => unknown): void }) => {
      const db = await backend.open();
      const store = await storeBackend!.open();
      t.after(async () => {
        await store.dispose();
        await db.dispose();
      });
      await migrate(db.value, HUB_MIGRATIONS);
      const registry = new Registry(db.value, store.value);
      const events: RegistryEvent[] = [];
      registry.on('change', (e) => events.push(e));
      t.after(await registry.watch());
      return { registry, events, jwks: (await KeyRing.ephemeral()).jwks() };
    };

    it('enrols a node once per token, for the node it names', async (t) => {
      const { registry, jwks } = await open(t);
      const { token } = await registry.createEnrolmentToken('alpha', 'operator', 60_000);
      await assert.rejects(registry.enrol({ token, nodeId: 'beta', url: null, jwks }), (err) => {
        assert.ok(isBrainmeshError(err, 'FORBIDDEN'));
        assert.match(err.message, /this enrolment token is for node alpha, not beta/);
        return true;
      });
      // The refused attempt did not spend it (its transaction rolled back).
      const node = await registry.enrol({ token, nodeId: 'alpha', url: 'http://127.0.0.1:9', jwks });
      assert.equal(node.id, 'alpha');
      assert.equal(node.status, 'enabled');
      await assert.rejects(registry.enrol({ token, nodeId: 'alpha', url: null, jwks }), /unknown, used or expired/);
    });

    it('refuses an expired token', async (t) => {
      const { registry, jwks } = await open(t);
      const { token } = await registry.createEnrolmentToken('alpha', 'operator', -1_000);
      await assert.rejects(registry.enrol({ token, nodeId: 'alpha', url: null, jwks }), /unknown, used or expired/);
      assert.deepEqual(await registry.list(), []);
    });

    it('lets only one of many racing redemptions of a token succeed', async (t) => {
      const { registry, jwks } = await open(t);
      const { token } = await registry.createEnrolmentToken('alpha', 'operator', 60_000);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => registry.enrol({ token, nodeId: 'alpha', url: null, jwks })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    it('disables, enables and removes nodes, announcing each change', async (t) => {
      const { registry, events, jwks } = await open(t);
      const { token } = await registry.createEnrolmentToken('alpha', 'operator', 60_000);
      await registry.enrol({ token, nodeId: 'alpha', url: null, jwks });
      assert.equal((await registry.setStatus('alpha', 'disabled')).status, 'disabled');
      assert.equal((await registry.setStatus('alpha', 'enabled')).status, 'enabled');
      await registry.updateLink('alpha', 'http://127.0.0.1:1234', jwks);
      assert.equal((await registry.require('alpha')).url, 'http://127.0.0.1:1234');
      await registry.remove('alpha');
      assert.equal(await registry.get('alpha'), undefined);
      await assert.rejects(registry.remove('alpha'), /no node named alpha/);
      const expected = ['upserted', 'upserted', 'upserted', 'upserted', 'removed'];
      await eventually(async () => events.length >= expected.length);
      assert.deepEqual(
        events.map((e) => e.kind),
        expected,
      );
    });
  });
}
