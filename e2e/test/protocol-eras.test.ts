import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  admin,
  type ConnectedClient,
  connectClient,
  connectModernClient,
  type HubProcess,
  MODERN_PROTOCOL,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/**
 * One `/mcp` for both protocol eras: a 2025-11-25 client (the SDK's v1 line, a session) and a
 * 2026-07-28 client (the SDK's v2 packages pinned to that revision: no session, every request
 * carrying its own version, capabilities and client info) on the same hub and the same nodes.
 */

const MODERN = MODERN_PROTOCOL;
const connectModern = (
  t: Parameters<typeof connectModernClient>[0],
  hub: HubProcess,
  key = hub.key,
  capabilities: Record<string, object> = {},
  answer?: NonNullable<Parameters<typeof connectModernClient>[2]>['answer'],
) => connectModernClient(t, { url: hub.url, key }, { capabilities, ...(answer === undefined ? {} : { answer }) });

/** A raw 2026-era POST, for what a client library would never send. */
async function post(hub: HubProcess, headers: Record<string, string>, body: unknown) {
  const res = await fetch(new URL('/mcp', hub.url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${hub.key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: number; message: string } } };
}

const envelope = (version = MODERN) => ({
  'io.modelcontextprotocol/protocolVersion': version,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
});

describe('both protocol eras at one endpoint', { timeout: 180_000 }, () => {
  let hub: HubProcess;
  let alpha: NodeProcess;
  let legacy: ConnectedClient;
  let modern: Awaited<ReturnType<typeof connectModern>>;
  const ctx = suiteScope();
  after(() => ctx.dispose());

  before(async () => {
    hub = await startHub(ctx, { env: { BRAINMESH_LOG_LEVEL: 'debug' } });
    alpha = await startNode(ctx, hub, { name: 'alpha', env: { BRAINMESH_LOG_LEVEL: 'debug' } });
    await nodeUp(hub, 'alpha');
    legacy = await connectClient(ctx, hub);
    modern = await connectModern(ctx, hub);
  });

  it('speaks 2026-07-28 to a client that asks for it, with no session, and 2025-11-25 to one that does not', async () => {
    assert.equal(modern.client.getProtocolEra(), 'modern');
    assert.equal(modern.client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(modern.transport.sessionId, undefined, 'no session was made for the 2026 client');
    assert.ok(legacy.client.getServerVersion()?.name === 'brainmesh-hub');
    const discovered = modern.client.getDiscoverResult();
    assert.ok(discovered?.supportedVersions.includes(MODERN), JSON.stringify(discovered));
    assert.ok(discovered?.capabilities.tools !== undefined);
  });

  it('lists the same tools to both and calls a node for each, as the same principal', async () => {
    const [mine, theirs] = await Promise.all([modern.client.listTools(), legacy.client.listTools()]);
    const names = (r: { tools: Array<{ name: string }> }) => r.tools.map((t) => t.name).sort();
    assert.deepEqual(names(mine), names(theirs));
    assert.ok(names(mine).includes('alpha__echo'));
    const echoed = await modern.client.callTool({ name: 'alpha__echo', arguments: { text: 'from 2026' } });
    assert.equal(text(echoed as Record<string, unknown>), 'from 2026');
    const info = await modern.client.callTool({ name: 'alpha__node_info', arguments: {} });
    const body = info.structuredContent as { principal: string; traceId: string };
    assert.match(body.principal, /^key:[a-z0-9]{10}$/, 'the key that made the call');
    // The hub recorded it like any other call, under the same trace id the node saw.
    await hub.proc.waitFor<{ msg: string; traceId: string }>(
      (l) => l.msg === 'proxied call' && l.traceId === body.traceId,
    );
  });

  it('passes a node’s progress to a 2026 client, and stops the node’s handler when it cancels', async () => {
    const updates: number[] = [];
    const done = await modern.client.callTool(
      { name: 'alpha__wait', arguments: { seconds: 0.3, steps: 3 } },
      { onprogress: (p: { progress: number }) => updates.push(p.progress) },
    );
    assert.ok(!done.isError, JSON.stringify(done));
    assert.ok(updates.length >= 2, `progress seen: ${updates.join(', ')}`);
    assert.deepEqual(
      updates,
      [...updates].sort((a, b) => a - b),
      'in order',
    );

    const abort = new AbortController();
    let progressed: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    const call = modern.client.callTool(
      { name: 'alpha__wait', arguments: { seconds: 60, steps: 100 } },
      { signal: abort.signal, onprogress: () => progressed() },
    );
    await first;
    abort.abort('user pressed stop');
    await assert.rejects(call);
    const line = await alpha.proc.waitFor<{ msg: string; tool: string; status: string; ms: number }>(
      (l) => l.msg === 'tool call' && l.tool === 'wait' && l.status === 'cancelled',
    );
    assert.ok(line.ms < 30_000, `the handler ran ${line.ms} ms`);
  });

  it('serves resources and prompts to a 2026 client under the same names', async () => {
    const { resources } = await modern.client.listResources();
    const about = resources.find((r) => r.uri === 'brainmesh://alpha/devtools://about');
    assert.ok(about, `resources: ${resources.map((r) => r.uri).join(', ')}`);
    const read = await modern.client.readResource({ uri: about.uri });
    assert.equal((read.contents[0] as { text: string }).text, 'brainmesh node alpha');
    assert.equal(read.contents[0]?.uri, about.uri, 'the hub name, not the node one');
    const prompt = await modern.client.getPrompt({
      name: 'alpha__review_change',
      arguments: { summary: 'adds retries' },
    });
    assert.match(JSON.stringify(prompt.messages), /adds retries/);
  });

  it('gives a 2026 client what its key allows and no more, and revokes it at once', async () => {
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'modern-reader', scopes: ['read:*'] });
    const { id, key } = (await res.json()) as { id: string; key: string };
    const reader = await connectModern(ctx, hub, key);
    const names = (await reader.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('alpha__echo'), 'a read-only tool is listed');
    assert.ok(!names.includes('alpha__remember'), 'a tool that writes is not');
    const refused = await reader.client.callTool({ name: 'alpha__remember', arguments: { key: 'k', text: 'v' } });
    assert.equal(refused.isError, true);
    assert.match(text(refused as Record<string, unknown>), /^not allowed: calling alpha__remember needs the scope/);
    assert.equal((await admin(hub, 'DELETE', `/admin/keys/${id}`)).status, 204);
    await assert.rejects(reader.client.callTool({ name: 'alpha__echo', arguments: { text: 'after' } }));
  });

  it('asks a 2026 client what a node asks (elicitation, sampling) through input_required, and takes its answers back to the node', async () => {
    const asked: string[] = [];
    const { client } = await connectModern(ctx, hub, hub.key, { elicitation: { form: {} }, sampling: {} }, (c) => {
      c.setRequestHandler('elicitation/create', async (request) => {
        asked.push(request.params.message);
        return { action: request.params.message.includes('deploy') ? 'accept' : 'decline', content: { ok: true } };
      });
      c.setRequestHandler('sampling/createMessage', async () => ({
        role: 'assistant',
        content: { type: 'text', text: 'forty-two' },
        model: 'e2e',
      }));
    });
    const yes = await client.callTool({ name: 'alpha__confirm', arguments: { question: 'deploy to prod?' } });
    assert.deepEqual(JSON.parse(text(yes as Record<string, unknown>)), { action: 'accept', ok: true });
    const no = await client.callTool({ name: 'alpha__confirm', arguments: { question: 'drop the table?' } });
    assert.deepEqual(JSON.parse(text(no as Record<string, unknown>)), { action: 'decline', ok: false });
    assert.deepEqual(asked, ['deploy to prod?', 'drop the table?'], 'the node’s own words reached the client');
    const sampled = await client.callTool({ name: 'alpha__ask_model', arguments: { question: 'six times seven?' } });
    assert.equal(text(sampled as Record<string, unknown>), 'forty-two');
    // One call each in the hub's record, however many requests it took.
    const records = (tool: string) =>
      hub.proc.stdout.filter((line) => line.includes('"proxied call"') && line.includes(`"tool":"${tool}"`)).length;
    await until(async () => records('confirm') >= 2 && records('ask_model') >= 1, 'the calls recorded');
    assert.equal(records('confirm'), 2);
    assert.equal(records('ask_model'), 1);
  });

  it('offers a node nothing a 2026 client did not declare, and refuses a requestState it did not make', async () => {
    const plain = await modern.client.callTool({ name: 'alpha__confirm', arguments: { question: 'deploy?' } });
    assert.equal(text(plain as Record<string, unknown>), 'the connected client does not support elicitation');
    const forged = await post(
      hub,
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'alpha__confirm' },
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: {
          name: 'alpha__confirm',
          arguments: { question: 'deploy?' },
          inputResponses: { q1: { action: 'accept', content: { ok: true } } },
          requestState: 'v1.eyJjYWxsIjoieCJ9.forged',
          _meta: envelope(),
        },
      },
    );
    assert.equal(forged.body.error?.code, -32602, JSON.stringify(forged.body));
  });

  it('tells a 2026 client listening for changes, and a 2025 session, when a node joins', async () => {
    const heard: string[] = [];
    modern.client.setNotificationHandler('notifications/tools/list_changed', () => {
      heard.push('tools');
    });
    const subscription = await modern.client.listen({ toolsListChanged: true });
    ctx.after(() => subscription.close());
    assert.equal(subscription.honoredFilter.toolsListChanged, true);
    const before = legacy.listChanged.length;
    await startNode(ctx, hub, { name: 'beta' });
    await nodeUp(hub, 'beta');
    await until(async () => heard.length > 0 && legacy.listChanged.length > before, 'both heard the change');
    const { tools } = await modern.client.listTools({}, { cacheMode: 'bypass' } as never);
    assert.ok(tools.some((t) => t.name === 'beta__echo'));
  });

  it('listens for updates only of resources on nodes the principal may read', async () => {
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'alpha-reader', scopes: ['node:alpha'] });
    const { key } = (await res.json()) as { key: string };
    const { client } = await connectModernClient(ctx, { url: hub.url, key });
    const mine = 'brainmesh://alpha/devtools://about';
    const theirs = 'brainmesh://beta/devtools://about';
    const subscription = await client.listen({ resourceSubscriptions: [mine, theirs, 'file:///etc/passwd'] });
    ctx.after(() => subscription.close());
    assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, [mine]);
  });

  it('refuses a request whose headers disagree with its body, and a revision it does not speak', async () => {
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'alpha__echo', arguments: { text: 'x' }, _meta: envelope() },
    };
    const mismatch = await post(
      hub,
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list', 'mcp-name': 'alpha__echo' },
      call,
    );
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error?.code, -32020, JSON.stringify(mismatch.body));

    const future = await post(
      hub,
      { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/call', 'mcp-name': 'alpha__echo' },
      { ...call, params: { ...call.params, _meta: envelope('2099-01-01') } },
    );
    assert.equal(future.body.error?.code, -32022, JSON.stringify(future.body));

    // And a request with no key at all is refused before any of it.
    const anonymous = await fetch(new URL('/mcp', hub.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope() } }),
    });
    assert.equal(anonymous.status, 401);
  });
});
