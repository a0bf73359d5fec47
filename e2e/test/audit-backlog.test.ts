import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KeyRing, signLinkToken } from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { admin, connectClient, nodeUp, startHub, startNode, suiteScope, text, until } from '../support/mesh.js';

const OUTAGE_MS = 60_000;

/**
 * A node keeps working while the hub is away (here a caller holding the hub's key reaches it
 * directly, as a node's own scheduled work would run), keeps every row, and ships the whole
 * backlog, in order, once the hub is back.
 */
describe('the audit backlog of a node whose hub was down', { timeout: 300_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());

  it('ships a minute of calls made while the hub was down, in order of sequence, once it returns', async () => {
    let hub = await startHub(scope);
    const alpha = await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    const { client: viaHub } = await connectClient(scope, hub);
    await viaHub.callTool({ name: 'alpha__echo', arguments: { text: 'before the outage' } });
    const hubId = ((await (await admin(hub, 'GET', '/admin/status')).json()) as { hub: { id: string } }).hub.id;

    await hub.proc.stop('SIGKILL');
    const downAt = Date.now();
    // The hub's own key signs what the node accepts; the test stands in for the hub.
    const hubKeys = await KeyRing.open(hub.home);
    const direct = new Client({ name: 'stand-in', version: '1.0.0' });
    await direct.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', alpha.url), {
        fetch: async (input, init) => {
          const headers = new Headers(init?.headers);
          const token = await signLinkToken(hubKeys, { iss: hubId, aud: 'alpha', sub: 'key:stand-in' });
          headers.set('authorization', `Bearer ${token}`);
          return fetch(input, { ...init, headers });
        },
      }),
    );
    scope.after(() => direct.close());
    let offline = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      const marker = `offline ${offline}`;
      assert.equal(text(await direct.callTool({ name: 'echo', arguments: { text: marker } })), marker);
      offline += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await alpha.proc.waitFor<{ msg: string; backlog: number }>(
      (l) => l.msg === 'audit shipping failed; retrying' && l.backlog > 0,
    );

    hub = await startHub(scope, { home: hub.home, port: Number(new URL(hub.url).port) });
    await alpha.proc.waitFor<{ msg: string }>((l) => l.msg === 'audit shipping resumed', 60_000);
    const rows = await until(
      async () => {
        const res = await admin(hub, 'GET', '/admin/audit?node=alpha&limit=500');
        const { events } = (await res.json()) as {
          events: Array<{ id: number; seq: number; params: { text: string } }>;
        };
        return events.length === offline + 1 ? events : undefined;
      },
      `all ${offline + 1} rows of alpha centrally`,
      60_000,
    );
    const byArrival = [...rows].sort((a, b) => a.id - b.id);
    assert.deepEqual(
      byArrival.map((r) => r.seq),
      byArrival.map((_, i) => i + 1),
      'rows landed in order of sequence, none missing',
    );
    assert.deepEqual(
      byArrival.map((r) => r.params.text),
      ['before the outage', ...Array.from({ length: offline }, (_, i) => `offline ${i}`)],
    );
  });
});
