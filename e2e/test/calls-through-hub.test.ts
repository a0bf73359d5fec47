import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, connectClient, nodeUp, startHub, startNode, text } from '../support/mesh.js';

/**
 * A node's tool calling another node's tool through the hub (`ctx.callMesh`, the devtools pack's
 * `call_through_hub`): as the caller, with the caller's scopes, and never back into a node the
 * call came through.
 */
describe('calls through the hub', { timeout: 120_000 }, () => {
  it('reach another node as the caller, refuse what the caller may not, and refuse loops', async (t) => {
    const hub = await startHub(t);
    await Promise.all([startNode(t, hub, { name: 'alpha' }), startNode(t, hub, { name: 'beta' })]);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
    const { client } = await connectClient(t, hub);
    const through = (name: string, args: Record<string, unknown>) =>
      client.callTool({ name: 'alpha__call_through_hub', arguments: { name, arguments: args } });

    assert.equal(text(await through('beta__echo', { text: 'via alpha' })), 'via alpha');

    const self = await through('alpha__echo', { text: 'me again' });
    assert.equal(self.isError, true);
    assert.equal(
      text(self),
      "not allowed: alpha__echo is a tool of node alpha, which this call came through (alpha); a node's tools do not call back into it through the hub",
    );
    // Round about: alpha → beta → alpha is a loop too.
    const back = await through('beta__call_through_hub', { name: 'alpha__echo', arguments: { text: 'x' } });
    assert.equal(back.isError, true);
    assert.match(
      text(back),
      /^not allowed: alpha__echo is a tool of node alpha, which this call came through \(alpha → beta\)/,
    );

    // A key that may call alpha only: alpha's tool may not reach beta on its behalf.
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'alpha-only', scopes: ['node:alpha'] });
    const { key } = (await res.json()) as { key: string };
    const narrow = (await connectClient(t, { url: hub.url, key })).client;
    const refused = await narrow.callTool({
      name: 'alpha__call_through_hub',
      arguments: { name: 'beta__echo', arguments: { text: 'sneaky' } },
    });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /^not allowed: calling beta__echo needs the scope tools:beta__echo or node:beta$/);
    // An unknown name: the hub's refusal reaches the pack as a tool error, passed on here.
    const unknown = await through('nowhere__echo', {});
    assert.equal(unknown.isError, true);
    assert.match(text(unknown), /^unknown tool nowhere__echo; mesh__search_tools lists what exists$/);
  });
});
