import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startEverythingHttp } from '../support/everything-http.js';
import {
  type ConnectedClient,
  connectClient,
  connectModernClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
} from '../support/mesh.js';
import { startModernMcpServer } from '../support/modern-mcp-server.js';

/**
 * One node mounting two HTTP servers of different eras: server-everything (2025-11-25, sessions)
 * and a server of the 2026-07-28 revision only. The node asks each `server/discover` and falls
 * back to `initialize` for the one that does not know it; clients of both eras use both, and the
 * new server's confirmation (an `input_required`) reaches each client in its own way: an
 * elicitation request to the 2025 session, an `input_required` of the hub's own to the 2026 one.
 */

describe('a node mounting a 2025-era and a 2026-era server', { timeout: 120_000 }, () => {
  const ctx = suiteScope();
  after(() => ctx.dispose());
  let hub: HubProcess;
  let node: NodeProcess;
  let legacy: ConnectedClient;
  let modern: Awaited<ReturnType<typeof connectModernClient>>;
  let answer: 'accept' | 'decline' = 'accept';
  const asked: string[] = [];

  before(async () => {
    const newServer = await startModernMcpServer();
    ctx.after(() => newServer.close());
    const old = await startEverythingHttp(ctx);

    hub = await startHub(ctx);
    node = await startNode(ctx, hub, {
      name: 'mixed',
      packs: [],
      mounts: [
        { transport: 'http', name: 'new', url: newServer.url, prefix: 'new' },
        { transport: 'http', name: 'old', url: old.url, prefix: 'old' },
      ],
    });
    await nodeUp(hub, 'mixed');
    const reply = (message: string) => {
      asked.push(message);
      return answer === 'accept'
        ? { action: 'accept' as const, content: { confirm: true } }
        : { action: 'decline' as const };
    };
    legacy = await connectClient(ctx, hub, { elicitation: { form: {} } });
    legacy.client.setRequestHandler(ElicitRequestSchema, async (request) => reply(request.params.message));
    modern = await connectModernClient(ctx, hub, {
      capabilities: { elicitation: { form: {} } },
      answer: (c) => c.setRequestHandler('elicitation/create', async (request) => reply(request.params.message)),
    });
  });

  it('connects to each server in the era it speaks', async () => {
    const started = await node.proc.waitFor<{ msg: string; mount: string; era?: string }>(
      (l) => l.msg === 'mount started' && l.mount === 'new',
    );
    assert.equal(started.era, '2026-07-28');
    const old = await node.proc.waitFor<{ msg: string; mount: string; era?: string }>(
      (l) => l.msg === 'mount started' && l.mount === 'old',
    );
    assert.equal(old.era, undefined, 'the 2025 server, through initialize');
  });

  it('serves both servers’ tools and resources to clients of both eras', async () => {
    for (const client of [legacy.client, modern.client]) {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('mixed__new_greet') && names.includes('mixed__old_get-sum'), names.join(', '));
      const greeted = await client.callTool({ name: 'mixed__new_greet', arguments: { name: 'Ada' } });
      assert.equal(text(greeted as Record<string, unknown>), 'hello, Ada, from 2026-07-28');
      const sum = await client.callTool({ name: 'mixed__old_get-sum', arguments: { a: 20, b: 22 } });
      assert.match(JSON.stringify(sum.content), /42/);
      const read = await client.readResource({ uri: 'brainmesh://mixed/config://app' });
      assert.equal((read.contents[0] as { text: string }).text, 'theme=dark');
    }
  });

  it('brings the 2026 server’s confirmation to a 2025 session as an elicitation, and its answer back', async () => {
    asked.length = 0;
    answer = 'accept';
    const done = await legacy.client.callTool({ name: 'mixed__new_deploy', arguments: { env: 'prod' } });
    assert.equal(text(done), 'deployed to prod');
    answer = 'decline';
    const refused = await legacy.client.callTool({ name: 'mixed__new_deploy', arguments: { env: 'prod' } });
    assert.equal(refused.isError, true);
    assert.equal(text(refused), 'not deployed to prod');
    assert.deepEqual(asked, ['Deploy to prod?', 'Deploy to prod?']);
  });

  it('brings it to a 2026 client as the hub’s own input_required, and its answer back', async () => {
    asked.length = 0;
    answer = 'accept';
    const done = await modern.client.callTool({ name: 'mixed__new_deploy', arguments: { env: 'staging' } });
    assert.equal(text(done as Record<string, unknown>), 'deployed to staging');
    answer = 'decline';
    const refused = await modern.client.callTool({ name: 'mixed__new_deploy', arguments: { env: 'staging' } });
    assert.equal(text(refused as Record<string, unknown>), 'not deployed to staging');
    assert.deepEqual(asked, ['Deploy to staging?', 'Deploy to staging?']);
  });
});
