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

    // The audit trail checked and its lag read from here; an account made with a password the
    // hub makes, shown once and kept out of the node's audit trail.
    const verified = (await client.callTool({ name: 'ops__mesh_audit_verify', arguments: {} })).structuredContent as {
      ok: boolean;
      nodes: Array<{ node: string }>;
    };
    assert.equal(verified.ok, true);
    assert.ok(
      verified.nodes.some((n) => n.node === 'ops'),
      JSON.stringify(verified),
    );
    const lag = (await client.callTool({ name: 'ops__mesh_audit_lag', arguments: {} })).structuredContent as {
      nodes: Array<{ node: string; backlog: number }>;
    };
    assert.ok(
      lag.nodes.some((n) => n.node === 'ops'),
      JSON.stringify(lag),
    );
    asked.length = 0;
    const user = (await client.callTool({ name: 'ops__mesh_users_create', arguments: { username: 'ana' } }))
      .structuredContent as { username: string; scopes: string[]; password: string };
    assert.deepEqual([user.username, user.scopes], ['ana', ['admin']]);
    assert.ok(user.password.length >= 20);
    assert.deepEqual(asked, ['Confirm: create an operator account "ana" with admin?']);
    const users = (await client.callTool({ name: 'ops__mesh_users_list', arguments: {} })).structuredContent as {
      users: Array<{ username: string }>;
    };
    assert.deepEqual(
      users.users.map((u) => u.username),
      ['ana'],
    );
    const userRow = await until(async () => {
      const res = await admin(hub, 'GET', '/admin/audit?node=ops&tool=mesh_users_create&limit=1');
      return ((await res.json()) as { events: { response: unknown }[] }).events[0];
    }, 'the audit row of the account made');
    assert.ok(!JSON.stringify(userRow).includes(user.password), 'the password is not in the audit trail');

    // A principal without admin sees none of the pack's tools, though its key opens the node
    // (node:ops) and every read (read:*); and the hub tools behind them refuse it as well.
    const reader = (await connectClient(t, { url: hub.url, key })).client;
    const seen = (await reader.listTools()).tools.map((tool) => tool.name);
    assert.deepEqual(
      seen.filter((n) => n.startsWith('ops__')),
      [],
    );
    assert.ok(seen.includes('alpha__echo'), 'its other tools are there');
    const refused = await reader.callTool({ name: 'ops__mesh_keys_list', arguments: {} });
    assert.equal(refused.isError, true);
    assert.equal(text(refused), 'not allowed: calling ops__mesh_keys_list needs the scope admin');
    const nodeWide = (
      await client.callTool({ name: 'ops__mesh_keys_create', arguments: { name: 'ops-only', scopes: ['node:ops'] } })
    ).structuredContent as { key: string; id: string };
    const opsOnly = (await connectClient(t, { url: hub.url, key: nodeWide.key })).client;
    assert.deepEqual(
      (await opsOnly.listTools()).tools.filter((tool) => tool.name.startsWith('ops__')),
      [],
    );

    // Revoked from Claude's side, asked first: its very next request is refused.
    asked.length = 0;
    const revoked = await client.callTool({ name: 'ops__mesh_keys_revoke', arguments: { id: nodeWide.id } });
    assert.equal(revoked.isError, undefined, text(revoked));
    assert.deepEqual(asked, [`Confirm: revoke API key ${nodeWide.id}?`]);
    await assert.rejects(
      opsOnly.listTools(),
      /"code":"UNAUTHENTICATED","message":"the API key or access token is not valid"/,
    );

    // A new node enrolled from Claude's side: the token comes back once, the node comes up with it.
    asked.length = 0;
    const enrolled = await client.callTool({ name: 'ops__mesh_nodes_enrol', arguments: { node: 'beta' } });
    const token = (enrolled.structuredContent as { token: string }).token;
    assert.equal(typeof token, 'string', text(enrolled));
    assert.deepEqual(asked, ['Confirm: make an enrolment token for a new node "beta"?']);
    await startNode(t, hub, { name: 'beta', enrolmentToken: token });
    const nodes = await until(async () => {
      const listed = (await client.callTool({ name: 'ops__mesh_nodes_list', arguments: {} })).structuredContent as {
        nodes: Array<{ node: string; status: string }>;
      };
      return listed.nodes.find((n) => n.node === 'beta' && n.status === 'up') === undefined ? undefined : listed.nodes;
    }, 'beta up in ops__mesh_nodes_list');
    assert.deepEqual(nodes.map((n) => n.node).sort(), ['alpha', 'beta', 'ops']);
    assert.equal(text(await client.callTool({ name: 'beta__echo', arguments: { text: 'new here' } })), 'new here');
  });
});
