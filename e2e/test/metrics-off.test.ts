import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, connectClient, nodeUp, startHub, startNode, text } from '../support/mesh.js';

describe('metrics turned off', { timeout: 120_000 }, () => {
  it('serve no /metrics on the hub or the node, and calls go on as before', async (t) => {
    const off = { BRAINMESH_METRICS: 'false' };
    const hub = await startHub(t, { env: off });
    const node = await startNode(t, hub, { name: 'alpha', env: off });
    await nodeUp(hub, 'alpha');
    const { client } = await connectClient(t, hub);
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'counted?' } })), 'counted?');
    assert.equal((await admin(hub, 'GET', '/metrics')).status, 404);
    assert.equal((await fetch(new URL('/metrics', node.url))).status, 404);

    // Beside a hub that counts (the default), with the same call made.
    const counting = await startHub(t);
    await startNode(t, counting, { name: 'alpha' });
    await nodeUp(counting, 'alpha');
    const other = await connectClient(t, counting);
    await other.client.callTool({ name: 'alpha__echo', arguments: { text: 'counted' } });
    const served = await admin(counting, 'GET', '/metrics');
    assert.equal(served.status, 200);
    assert.match(await served.text(), /brainmesh_hub_tool_calls_total\{node="alpha",tool="echo",outcome="ok"\} 1/);
  });
});
