import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { admin, connectClient, nodeUp, startHub, startNode, text, until } from '../support/mesh.js';

/**
 * DevMCP's mesh-admin pack through the hub: the operator runs the mesh from a node's tools, which
 * call the hub's admin tools as the operator, each change confirmed by the user.
 */
describe('the mesh-admin pack', { timeout: 120_000 }, () => {
  it('asks before each change, acts as the caller, and keeps new keys out of the audit trail', async (t) => {
    const hub = await startHub(t);
    await Promise.all([
      startNode(t, hub, { name: 'ops', packs: ['mesh-admin'] }),
      startNode(t, hub, { name: 'alpha' }),
    ]);
    await Promise.all([nodeUp(hub, 'ops'), nodeUp(hub, 'alpha')]);
    const { client } = await connectClient(t, hub, { elicitation: { form: {} } });
    let answer: 'accept' | 'decline' = 'decline';
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    });

    const status = await client.callTool({ name: 'ops__mesh_status', arguments: {} });
    assert.equal((status.structuredContent as { nodes: { up: number } }).nodes.up, 2);

    // Declined: nothing changes.
    const declined = await client.callTool({ name: 'ops__mesh_nodes_disable', arguments: { node: 'alpha' } });
    assert.equal(declined.isError, true);
    assert.equal(text(declined), 'Not done: the user did not confirm (decline). Nothing was changed.');
    assert.deepEqual(asked, ['Confirm: disable node "alpha" (its tools stop answering)?']);
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'still here' } })), 'still here');

    answer = 'accept';
    const disabled = await client.callTool({ name: 'ops__mesh_nodes_disable', arguments: { node: 'alpha' } });
    assert.equal((disabled.structuredContent as { status: string }).status, 'disabled', text(disabled));
    assert.equal((await client.callTool({ name: 'alpha__echo', arguments: { text: 'x' } })).isError, true);
    await client.callTool({ name: 'ops__mesh_nodes_enable', arguments: { node: 'alpha' } });
    await nodeUp(hub, 'alpha');

    // A new key is shown to the caller once, and redacted in the node's audit row.
    const created = await client.callTool({
      name: 'ops__mesh_keys_create',
      arguments: { name: 'reader', scopes: ['read:*'] },
    });
    const key = (created.structuredContent as { key: string }).key;
    assert.match(key, /^bm_/);
    const row = await until(async () => {
      const res = await admin(hub, 'GET', '/admin/audit?node=ops&tool=mesh_keys_create&limit=1');
      return ((await res.json()) as { events: { response: unknown }[] }).events[0];
    }, 'the audit row of the key made');
    assert.ok(!JSON.stringify(row).includes(key), 'the key is not in the audit trail');

    // The hub decides: a caller without the admin scope is refused there, whatever the node asks.
    const reader = (await connectClient(t, { url: hub.url, key })).client;
    const refused = await reader.callTool({ name: 'ops__mesh_keys_list', arguments: {} });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /unknown tool mesh__keys_list/);
  });
});
