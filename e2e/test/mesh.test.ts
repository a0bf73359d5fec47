import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_NAME_PATTERN } from '@brainmesh/shared';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type ConnectedClient,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a hub with two nodes, one of them mounting an existing MCP server', { timeout: 180_000 }, () => {
  let hub: HubProcess;
  let alpha: NodeProcess;
  let everything: NodeProcess;
  let c: ConnectedClient;
  const ctx = suiteScope();
  after(() => ctx.dispose());

  before(async () => {
    // Per-call lines are at debug: these tests read the hub's and the node's.
    const debug = { BRAINMESH_LOG_LEVEL: 'debug' };
    hub = await startHub(ctx, { env: debug });
    [alpha, everything] = await Promise.all([
      startNode(ctx, hub, { name: 'alpha', env: debug }),
      startNode(ctx, hub, {
        name: 'everything',
        // Its own echo and the mounted server's live side by side: the mount's names get a prefix.
        packs: ['devtools'],
        mounts: [
          { transport: 'stdio', name: 'everything', command: 'mcp-server-everything', args: ['stdio'], prefix: 'ev' },
        ],
      }),
    ]);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'everything')]);
    c = await connectClient(ctx, hub, { sampling: {}, elicitation: { form: {} } });
  });

  it('lists every node’s tools under client-safe names and calls each node', async () => {
    const { tools } = await c.client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of names) assert.match(name, CLIENT_NAME_PATTERN);
    for (const name of [
      'alpha__echo',
      'alpha__wait',
      'everything__echo',
      'everything__ev_echo',
      'everything__ev_get-sum',
      'mesh__search_tools',
    ]) {
      assert.ok(names.includes(name), `${name} missing from ${names.join(', ')}`);
    }
    const fromAlpha = await c.client.callTool({ name: 'alpha__echo', arguments: { text: 'hello alpha' } });
    assert.equal(text(fromAlpha), 'hello alpha');
    const sum = await c.client.callTool({ name: 'everything__ev_get-sum', arguments: { a: 2, b: 40 } });
    assert.match(text(sum), /42/);
  });

  it('carries the client principal and a trace id to the node', async () => {
    const info = await c.client.callTool({ name: 'alpha__node_info', arguments: {} });
    const body = info.structuredContent as { principal: string; node: string; traceId: string };
    assert.equal(body.node, 'alpha');
    assert.match(body.principal, /^key:[a-z0-9]{10}$/, 'the key that made the call');
    assert.match(body.traceId, /^[0-9a-f]{32}$/);
    // The hub's record of the call and the node's carry the same trace id.
    await hub.proc.waitFor<{ msg: string; traceId: string }>(
      (l) => l.msg === 'proxied call' && l.traceId === body.traceId,
    );
  });

  it('forwards progress from a mounted server to the client', async () => {
    const updates: Progress[] = [];
    const result = await c.client.callTool(
      { name: 'everything__ev_trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
      CallToolResultSchema,
      { onprogress: (p) => updates.push(p) },
    );
    assert.match(text(result), /Long running operation completed/);
    // Every update arrives, in order, with its total, except that the last one may be lost: it
    // races the result, and an SDK client drops progress handled after the response
    // (typescript-sdk issue #2580), at any hop of the chain.
    const expected = [1, 2, 3, 4].map((i) => [i, 4]);
    const got = updates.map((u) => [u.progress, u.total]);
    assert.ok(got.length >= 3, `only ${got.length} progress updates arrived`);
    assert.deepEqual(got, expected.slice(0, got.length));
  });

  it('stops the handler on the node when the client cancels a long call', async () => {
    const abort = new AbortController();
    let firstProgress: () => void = () => {};
    const progressed = new Promise<void>((resolve) => {
      firstProgress = resolve;
    });
    const call = c.client.callTool(
      { name: 'alpha__wait', arguments: { seconds: 60, steps: 100 } },
      CallToolResultSchema,
      {
        signal: abort.signal,
        onprogress: () => firstProgress(),
      },
    );
    await progressed;
    abort.abort('user pressed stop');
    await assert.rejects(call, /AbortError|aborted|user pressed stop/);
    // The node's own record: the handler ended as cancelled, long before its 60 s were up.
    const line = await alpha.proc.waitFor<{ msg: string; tool: string; status: string; ms: number }>(
      (l) => l.msg === 'tool call' && l.tool === 'wait',
    );
    assert.equal(line.status, 'cancelled');
    assert.ok(line.ms < 30_000);
  });

  it('passes a node’s sampling and elicitation requests to the client and the answers back', async () => {
    c.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const first = request.params.messages[0]?.content;
      const asked = first !== undefined && !Array.isArray(first) && first.type === 'text' ? first.text : '';
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `answer to: ${asked}` } };
    });
    c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
    const sampled = await c.client.callTool({ name: 'alpha__ask_model', arguments: { question: 'what is 6x7?' } });
    assert.equal(text(sampled), 'answer to: what is 6x7?');
    const confirmed = await c.client.callTool({ name: 'alpha__confirm', arguments: { question: 'go ahead?' } });
    assert.deepEqual(confirmed.structuredContent, { action: 'accept', ok: true });
  });

  it('serves resources and prompts under namespaced names', async () => {
    const { resources } = await c.client.listResources();
    const about = resources.find((r) => r.uri === 'brainmesh://alpha/devtools://about');
    assert.ok(about, `resources: ${resources.map((r) => r.uri).join(', ')}`);
    const read = await c.client.readResource({ uri: about.uri });
    assert.equal((read.contents[0] as { text: string }).text, 'brainmesh node alpha');
    const { prompts } = await c.client.listPrompts();
    assert.ok(prompts.some((p) => p.name === 'alpha__review_change'));
    const prompt = await c.client.getPrompt({ name: 'alpha__review_change', arguments: { summary: 'adds retries' } });
    assert.match(JSON.stringify(prompt.messages), /adds retries/);
  });

  it('forwards completion requests for a prompt to the node that owns it', async () => {
    const { completion } = await c.client.complete({
      ref: { type: 'ref/prompt', name: 'everything__ev_completable-prompt' },
      argument: { name: 'department', value: 'Sa' },
    });
    assert.deepEqual(completion.values, ['Sales']);
  });

  it('refuses unknown tools and bad arguments with words a person can act on', async () => {
    await assert.rejects(c.client.callTool({ name: 'alpha__nope', arguments: {} }), /unknown tool alpha__nope/);
    const bad = await c.client.callTool({ name: 'alpha__wait', arguments: { seconds: 'soon' } });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /invalid arguments: seconds: .*expected number/);
  });

  it('finds tools across nodes with mesh__search_tools, and describes nodes and tools', async () => {
    const search = await c.client.callTool({
      name: 'mesh__search_tools',
      arguments: { query: 'long running operation' },
    });
    const results = (search.structuredContent as { results: Array<{ name: string; node: string }> }).results;
    assert.equal(results[0]?.name, 'everything__ev_trigger-long-running-operation');
    const readOnly = await c.client.callTool({
      name: 'mesh__search_tools',
      arguments: { query: 'echo', readOnly: true, node: 'alpha' },
    });
    assert.deepEqual(
      (readOnly.structuredContent as { results: Array<{ name: string }> }).results.map((r) => r.name),
      ['alpha__echo'],
    );
    const nodes = await c.client.callTool({ name: 'mesh__list_nodes', arguments: {} });
    const listed = (nodes.structuredContent as { nodes: Array<{ node: string; status: string; tools: number }> }).nodes;
    assert.deepEqual(listed.map((n) => [n.node, n.status]).sort(), [
      ['alpha', 'up'],
      ['everything', 'up'],
    ]);
    assert.ok(listed.every((n) => n.tools > 0));
    const described = await c.client.callTool({ name: 'mesh__describe_tool', arguments: { name: 'alpha__wait' } });
    const tool = described.structuredContent as {
      node: string;
      nameOnNode: string;
      inputSchema: { properties: object };
    };
    assert.equal(tool.node, 'alpha');
    assert.equal(tool.nameOnNode, 'wait');
    assert.ok('seconds' in tool.inputSchema.properties);
  });

  it('restarts a mounted server that dies, and stopping the node leaves no mounted process', async () => {
    const first = await everything.proc.waitFor<{ msg: string; pid: number }>((l) => l.msg === 'mount started');
    process.kill(first.pid, 'SIGKILL');
    const second = await everything.proc.waitFor<{ msg: string; pid: number }>(
      (l) => l.msg === 'mount started' && l.pid !== first.pid,
    );
    await until(async () => {
      const r = await c.client.callTool({ name: 'everything__ev_echo', arguments: { message: 'back' } });
      return r.isError !== true && text(r).includes('back');
    }, 'the remounted server to answer');

    assert.equal(await everything.proc.stop('SIGTERM'), 0);
    assert.equal(alive(second.pid), false, `mounted process ${second.pid} outlived its node`);
  });
});
