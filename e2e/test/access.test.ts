import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  admin,
  connectClient,
  type HubProcess,
  mcpStatus,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  type TestContext,
  text,
  until,
} from '../support/mesh.js';

describe('who may see and call what', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;

  before(async () => {
    hub = await startHub(scope);
    await Promise.all([startNode(scope, hub, { name: 'alpha' }), startNode(scope, hub, { name: 'beta' })]);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
  });

  const createKey = async (body: object) => {
    const res = await admin(hub, 'POST', '/admin/keys', body);
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; key: string };
  };

  const clientWith = (t: TestContext, key: string) => connectClient(t, { url: hub.url, key });
  const names = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name).sort();

  it('a node:NAME key sees and calls that node only, and is told which scope it lacks', async (t) => {
    const { key } = await createKey({ name: 'alpha-only', scopes: ['node:alpha'] });
    const { client } = await clientWith(t, key);
    const visible = await names(client);
    assert.ok(visible.includes('alpha__echo') && visible.includes('mesh__search_tools'));
    assert.ok(!visible.some((n) => n.startsWith('beta__')), visible.join(', '));
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'ok' } })), 'ok');
    const refused = await client.callTool({ name: 'beta__echo', arguments: { text: 'no' } });
    assert.equal(refused.isError, true);
    assert.equal(text(refused), 'not allowed: calling beta__echo needs the scope tools:beta__echo or node:beta');
    // Discovery shows only what it may call.
    const found = await client.callTool({ name: 'mesh__search_tools', arguments: { query: 'echo' } });
    assert.deepEqual(
      (found.structuredContent as { results: Array<{ name: string }> }).results.map((r) => r.name),
      ['alpha__echo'],
    );
    const nodes = await client.callTool({ name: 'mesh__list_nodes', arguments: {} });
    assert.deepEqual(
      (nodes.structuredContent as { nodes: Array<{ node: string }> }).nodes.map((n) => n.node),
      ['alpha'],
    );
    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri),
      ['brainmesh://alpha/devtools://about'],
    );
    // And it is no admin.
    assert.equal((await admin({ url: hub.url, key }, 'GET', '/admin/nodes')).status, 403);
  });

  it('a read:GLOB key sees only read-only tools; a tools:GLOB key only matching ones', async (t) => {
    const reader = await clientWith(t, (await createKey({ name: 'reader', scopes: ['read:*'] })).key);
    const visible = await names(reader.client);
    assert.ok(visible.includes('alpha__recall') && visible.includes('beta__recall'));
    assert.ok(!visible.includes('alpha__remember'), 'remember writes');
    const write = await reader.client.callTool({ name: 'alpha__remember', arguments: { key: 'k', text: 'v' } });
    assert.match(text(write), /^not allowed: calling alpha__remember needs the scope/);

    const writer = await clientWith(t, (await createKey({ name: 'notes', scopes: ['tools:*__re*'] })).key);
    assert.deepEqual(await names(writer.client), [
      'alpha__recall',
      'alpha__remember',
      'beta__recall',
      'beta__remember',
      'mesh__describe_tool',
      'mesh__list_nodes',
      'mesh__search_tools',
    ]);
    assert.equal(
      text(await writer.client.callTool({ name: 'beta__remember', arguments: { key: 'k', text: 'v' } })),
      'remembered k',
    );
    const note = await writer.client.callTool({ name: 'beta__recall', arguments: { key: 'k' } });
    assert.match(
      (note.structuredContent as { by: string }).by,
      /^key:[a-z0-9]{10}$/,
      'the node knows which key wrote it',
    );
  });

  it('accepts a key as X-API-Key too', async (t) => {
    const { key } = await createKey({ name: 'header', scopes: ['node:beta'] });
    const client = new Client({ name: 'x-api-key', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), { requestInit: { headers: { 'x-api-key': key } } }),
    );
    t.after(() => client.close());
    assert.ok((await names(client)).includes('beta__echo'));
  });

  it('refuses a revoked key on its very next request, mid-session', async (t) => {
    const { id, key } = await createKey({ name: 'soon-revoked', scopes: ['node:alpha'] });
    const { client } = await clientWith(t, key);
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'before' } })), 'before');
    assert.equal((await admin(hub, 'DELETE', `/admin/keys/${id}`)).status, 204);
    await assert.rejects(
      client.callTool({ name: 'alpha__echo', arguments: { text: 'after' } }),
      /401|Unauthorized|API key/,
    );
    const listed = await admin(hub, 'GET', '/admin/keys');
    const view = ((await listed.json()) as { keys: Array<Record<string, unknown>> }).keys.find((k) => k.id === id);
    assert.equal(view?.status, 'revoked');
    assert.ok(view?.lastUsedAt, 'last use is recorded');
    assert.ok(!JSON.stringify(view).includes(key.slice(14)), 'the key itself is never shown again');
  });

  it('refuses a key once it has expired', async () => {
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const { key } = await createKey({ name: 'short-lived', scopes: ['node:alpha'], expiresAt });
    const probe = () => mcpStatus(hub.url, key);
    assert.notEqual(await probe(), 401, 'valid before it expires');
    await until(async () => (await probe()) === 401, 'the key to expire', 10_000);
  });

  it('refuses keys with scopes that mean nothing, naming the field', async () => {
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'bad', scopes: ['everything'] });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { message: string }).message,
      /^scopes\.0: a scope is admin, audit, node:NAME, tools:GLOB or read:GLOB/,
    );
    const past = await admin(hub, 'POST', '/admin/keys', {
      name: 'old',
      scopes: ['admin'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    assert.equal(past.status, 400);
  });
});
