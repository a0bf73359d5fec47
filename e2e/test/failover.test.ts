import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_NAME_PATTERN } from '@brainmesh/shared';
import { realServers } from '@brainmesh/shared/testing';
import { connectClient, nodeUp, realStorage, startHub, startNode, text, until } from '../support/mesh.js';

describe('failure and recovery', { timeout: 180_000 }, () => {
  it('a killed node fails fast and says so, the rest keeps working, and it comes back on its own', async (t) => {
    const hub = await startHub(t);
    const [, beta] = await Promise.all([startNode(t, hub, { name: 'alpha' }), startNode(t, hub, { name: 'beta' })]);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
    const c = await connectClient(t, hub);
    assert.equal(text(await c.client.callTool({ name: 'beta__echo', arguments: { text: 'before' } })), 'before');
    const changesBefore = c.listChanged.filter((m) => m === 'notifications/tools/list_changed').length;

    await beta.proc.stop('SIGKILL');
    const started = Date.now();
    const failed = await c.client.callTool({ name: 'beta__echo', arguments: { text: 'anyone?' } });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 2_000, `the failed call took ${elapsed} ms`);
    assert.equal(failed.isError, true);
    assert.match(
      text(failed),
      /^node beta is down \(since \d{4}-\d\d-\d\dT[\d:.]+Z\); it will be tried again at \d{4}-\d\d-\d\dT[\d:.]+Z$/,
    );
    assert.equal(
      text(await c.client.callTool({ name: 'alpha__echo', arguments: { text: 'still here' } })),
      'still here',
    );

    // Clients are told the list changed, and the dead node's tools are gone from it.
    await until(
      async () => c.listChanged.filter((m) => m === 'notifications/tools/list_changed').length > changesBefore,
      'list_changed after the node died',
    );
    const whileDown = (await c.client.listTools()).tools.map((tool) => tool.name);
    assert.ok(!whileDown.includes('beta__echo') && whileDown.includes('alpha__echo'));
    const changesWhileDown = c.listChanged.filter((m) => m === 'notifications/tools/list_changed').length;

    await beta.start();
    await nodeUp(hub, 'beta');
    await until(
      async () => c.listChanged.filter((m) => m === 'notifications/tools/list_changed').length > changesWhileDown,
      'list_changed after the node came back',
    );
    assert.ok((await c.client.listTools()).tools.some((tool) => tool.name === 'beta__echo'));
    assert.equal(text(await c.client.callTool({ name: 'beta__echo', arguments: { text: 'after' } })), 'after');
  });

  const { databaseUrl, redisUrl } = realServers();
  const storages = [
    { name: 'embedded storage', real: false },
    ...(databaseUrl !== undefined && redisUrl !== undefined ? [{ name: 'real Postgres and Redis', real: true }] : []),
  ];
  for (const storage of storages) {
    it(`keeps the registry and long tool names across a hub restart, with no new enrolment (${storage.name})`, async (t) => {
      const long = 'the-operators-development-laptop-behind-a-nat-in-the-garage';
      const real = storage.real ? await realStorage(t, { databaseUrl: databaseUrl!, redisUrl: redisUrl! }) : undefined;
      let hub = await startHub(t, real === undefined ? {} : { real });
      const storageLine = await hub.proc.waitFor<{ msg: string; database: string; store: string }>(
        (l) => l.msg === 'storage open',
      );
      assert.deepEqual(
        [storageLine.database, storageLine.store],
        real === undefined ? ['embedded', 'memory'] : ['postgres', 'redis'],
      );
      await Promise.all([startNode(t, hub, { name: 'alpha' }), startNode(t, hub, { name: long })]);
      await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, long)]);
      const first = await connectClient(t, hub);
      const names = (await first.client.listTools()).tools.map((tool) => tool.name);
      const echo = names.find((n) => n.startsWith(long.slice(0, 40)) && n.length === 64);
      assert.ok(echo, `no shortened name among ${names.join(', ')}`);
      for (const name of names) assert.match(name, CLIENT_NAME_PATTERN);
      const longNames = names.filter((n) => n.startsWith(long.slice(0, 40)));
      assert.equal(new Set(longNames).size, 8, 'every tool of the long-named node keeps a distinct name');
      const echoOf = async (client: typeof first.client) => {
        for (const name of longNames) {
          const described = await client.callTool({ name: 'mesh__describe_tool', arguments: { name } });
          if ((described.structuredContent as { nameOnNode: string }).nameOnNode === 'echo') return name;
        }
        return undefined;
      };
      const echoName = await echoOf(first.client);
      assert.ok(echoName);
      assert.equal(text(await first.client.callTool({ name: echoName, arguments: { text: 'long' } })), 'long');
      await first.client.close();

      hub = await hub.restart();
      await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, long)]);
      const second = await connectClient(t, hub);
      const after = (await second.client.listTools()).tools.map((tool) => tool.name);
      assert.deepEqual(after.sort(), [...names].sort(), 'the same names after a restart');
      assert.equal(await echoOf(second.client), echoName);
      assert.equal(text(await second.client.callTool({ name: echoName, arguments: { text: 'again' } })), 'again');
      assert.equal(text(await second.client.callTool({ name: 'alpha__echo', arguments: { text: 'alpha' } })), 'alpha');
    });
  }
});
