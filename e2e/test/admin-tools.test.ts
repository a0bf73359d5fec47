import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, connectClient, mcpStatus, nodeUp, startHub, startNode, text, until } from '../support/mesh.js';

/** The admin API as the hub's own MCP tools: an operator runs the mesh from an MCP client. */
describe("the hub's admin tools", { timeout: 120_000 }, () => {
  it('are listed for admins only, and do what the admin API does', async (t) => {
    const hub = await startHub(t);
    await startNode(t, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    const { client } = await connectClient(t, hub);
    const json = async (name: string, args: Record<string, unknown> = {}) => {
      const result = await client.callTool({ name, arguments: args });
      assert.notEqual(result.isError, true, `${name}: ${text(result)}`);
      return result.structuredContent as Record<string, unknown>;
    };
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of ['mesh__status', 'mesh__nodes_disable', 'mesh__keys_create', 'mesh__keys_revoke'])
      assert.ok(names.includes(name), name);

    // A key without the admin scope neither sees nor calls them.
    const made = await json('mesh__keys_create', { name: 'alpha-only', scopes: ['node:alpha'] });
    const narrow = (await connectClient(t, { url: hub.url, key: made.key as string })).client;
    const narrowNames = (await narrow.listTools()).tools.map((tool) => tool.name);
    assert.ok(
      !narrowNames.some((n) => n.startsWith('mesh__nodes_') || n.startsWith('mesh__keys_')),
      narrowNames.join(),
    );
    await assert.rejects(narrow.callTool({ name: 'mesh__keys_list', arguments: {} }), /unknown tool mesh__keys_list/);

    const status = await json('mesh__status');
    assert.deepEqual((status.nodes as { up: number }).up, 1);
    const keys = (await json('mesh__keys_list')).keys as { id: string; name: string }[];
    assert.ok(keys.some((k) => k.id === made.id && k.name === 'alpha-only'));

    // Disable: alpha's tools refused; enable: back.
    assert.equal((await json('mesh__nodes_disable', { node: 'alpha' })).status, 'disabled');
    const refused = await narrow.callTool({ name: 'alpha__echo', arguments: { text: 'x' } });
    assert.equal(refused.isError, true);
    await json('mesh__nodes_enable', { node: 'alpha' });
    await nodeUp(hub, 'alpha');
    assert.equal(text(await narrow.callTool({ name: 'alpha__echo', arguments: { text: 'back' } })), 'back');

    const rotated = await json('mesh__nodes_rotate_keys', { node: 'alpha' });
    assert.notEqual(rotated.active, undefined);
    assert.ok(!(rotated.previous as string[]).includes(rotated.active as string));
    const enrolled = await json('mesh__nodes_enrol', { node: 'gamma', ttlMinutes: 5 });
    assert.match(enrolled.token as string, /\S{20,}/);
    const bad = await client.callTool({ name: 'mesh__nodes_enrol', arguments: { node: 'mesh' } });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /"mesh" is reserved for the hub's own tools/);

    // Revoked through the tool: refused from its next request on.
    await json('mesh__keys_revoke', { id: made.id });
    await until(async () => (await mcpStatus(hub.url, made.key as string)) === 401, 'the revoked key refused');
    const missing = await client.callTool({ name: 'mesh__nodes_show', arguments: { node: 'nowhere' } });
    assert.equal(missing.isError, true);
    assert.equal((await admin(hub, 'GET', '/admin/nodes/alpha')).status, 200);
  });
});
