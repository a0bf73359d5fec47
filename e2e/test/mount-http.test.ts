import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEverythingHttp } from '../support/everything-http.js';
import { connectClient, nodeUp, startHub, startNode } from '../support/mesh.js';

describe('a node mounting an MCP server by URL', { timeout: 120_000 }, () => {
  it('serves the remote server’s tools through the hub', async (t) => {
    const remote = await startEverythingHttp(t);

    const hub = await startHub(t);
    await startNode(t, hub, {
      name: 'remote',
      packs: [],
      mounts: [{ transport: 'http', name: 'everything', url: remote.url }],
    });
    await nodeUp(hub, 'remote');
    const { client } = await connectClient(t, hub);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'remote__get-sum'));
    const sum = await client.callTool({ name: 'remote__get-sum', arguments: { a: 20, b: 22 } });
    assert.match(JSON.stringify(sum.content), /42/);
  });
});
