import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { spawnTs } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type Notification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import {
  BRAINMESH,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/**
 * The stdio bridge between a real MCP client (as Claude Desktop runs a local server: a command,
 * stdin and stdout) and a real hub, through a hub crash.
 */
describe('brainmesh connect', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let alpha: NodeProcess;
  let port: number;
  let client: Client;
  const notifications: Notification[] = [];
  const clientErrors: Error[] = [];
  const bridgeLog: string[] = [];

  before(async () => {
    port = await freePort();
    hub = await startHub(scope, { port });
    // Per-call lines are at debug: this test reads the node's line for a cancelled call.
    alpha = await startNode(scope, hub, { name: 'alpha', env: { BRAINMESH_LOG_LEVEL: 'debug' } });
    await nodeUp(hub, 'alpha');
    client = new Client(
      { name: 'e2e-desktop', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    client.fallbackNotificationHandler = async (n) => {
      notifications.push(n);
    };
    client.onerror = (err) => clientErrors.push(err);
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'stand-in',
      content: { type: 'text', text: `you asked: ${(request.params.messages[0]!.content as { text: string }).text}` },
    }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BRAINMESH, 'connect', '--hub', hub.url],
      env: { BRAINMESH_API_KEY: hub.key },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => bridgeLog.push(...chunk.toString().split('\n').filter(Boolean)));
    await client.connect(transport);
    scope.after(() => client.close());
  });

  it('passes requests, progress, sampling and elicitation through, both ways', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('alpha__echo') && names.includes('mesh__search_tools'), names.join(', '));
    assert.equal(
      text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'through stdio' } })),
      'through stdio',
    );

    const progress: Progress[] = [];
    const waited = await client.callTool({ name: 'alpha__wait', arguments: { seconds: 0.2, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    assert.equal(text(waited), 'waited 0.2 s in 3 steps');
    // In order; the last may race the result and be dropped (typescript-sdk #2580, any hop).
    const got = progress.map((p) => p.progress);
    assert.ok(got.length >= 2, `only ${got.length} progress updates`);
    assert.deepEqual(got, [1, 2, 3].slice(0, got.length));

    const sampled = await client.callTool({ name: 'alpha__ask_model', arguments: { question: 'what is 6x7?' } });
    assert.match(text(sampled), /you asked: what is 6x7\?/);
    const confirmed = await client.callTool({ name: 'alpha__confirm', arguments: { question: 'go ahead?' } });
    assert.deepEqual(confirmed.structuredContent, { action: 'accept', ok: true });
  });

  it('carries a cancellation to the node, which stops the handler', async () => {
    const controller = new AbortController();
    let first!: () => void;
    const firstProgress = new Promise<void>((resolve) => {
      first = resolve;
    });
    const call = client.callTool({ name: 'alpha__wait', arguments: { seconds: 60, steps: 100 } }, undefined, {
      signal: controller.signal,
      onprogress: () => first(),
    });
    await firstProgress;
    controller.abort();
    await assert.rejects(call, /abort/i);
    const line = await alpha.proc.waitFor<{ msg: string; tool: string; status: string }>(
      (l) => l.msg === 'tool call' && l.tool === 'wait' && l.status === 'cancelled',
    );
    assert.equal(line.status, 'cancelled');
  });

  it('tells the client when the tool list changes', async () => {
    const before = notifications.filter((n) => n.method === 'notifications/tools/list_changed').length;
    await startNode(scope, hub, { name: 'beta' });
    await until(
      async () => notifications.filter((n) => n.method === 'notifications/tools/list_changed').length > before,
      'tools/list_changed through the bridge',
    );
    await until(
      async () => (await client.listTools()).tools.some((tool) => tool.name === 'beta__echo'),
      'beta__echo listed',
    );
  });

  it('fails the call in flight when the hub dies, reconnects by itself, and later calls work', async () => {
    let first!: () => void;
    const started = new Promise<void>((resolve) => {
      first = resolve;
    });
    const inFlight = client.callTool({ name: 'alpha__wait', arguments: { seconds: 60, steps: 60 } }, undefined, {
      onprogress: () => first(),
      timeout: 120_000,
    });
    await started;
    const changedBefore = notifications.filter((n) => n.method === 'notifications/tools/list_changed').length;
    // The expectation is attached before the kill: the bridge may fail the call before the kill returns.
    const failed = assert.rejects(inFlight, (err: Error) => {
      assert.match(
        err.message,
        /the connection to the hub at http:\/\/127\.0\.0\.1:\d+ was lost while this request was in flight/,
      );
      assert.match(err.message, /the bridge is reconnecting, try again/);
      return true;
    });
    await hub.proc.stop('SIGKILL');
    await failed;

    hub = await startHub(scope, { home: hub.home, port });
    await nodeUp(hub, 'alpha');
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'after' } })), 'after');
    // The new session may see other tools: the client is told to look again.
    assert.ok(notifications.filter((n) => n.method === 'notifications/tools/list_changed').length > changedBefore);
    const logged = bridgeLog.map((l) => JSON.parse(l) as { msg: string });
    assert.ok(logged.some((l) => l.msg === 'lost the hub session'));
    assert.ok(logged.some((l) => l.msg === 'reconnected to the hub'));
  });

  it('refuses to start with a key the hub refuses, saying so', async () => {
    const refused = new Client({ name: 'e2e-wrong-key', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BRAINMESH, 'connect', '--hub', hub.url, '--api-key', 'bm_0000000000_not-a-real-key'],
      stderr: 'pipe',
    });
    await assert.rejects(refused.connect(transport), /the hub refused the bridge's API key \(HTTP 401\)/);
    await refused.close();
  });

  it('has help with an example, and exits 2 on bad usage', async () => {
    const help = spawnTs(BRAINMESH, ['connect', '--help'], { PATH: process.env.PATH });
    assert.equal(await help.exited, 0);
    assert.match(help.stdout.join('\n'), /^usage: brainmesh connect/);
    assert.match(help.stdout.join('\n'), /example \(claude_desktop_config\.json\)/);
    const bad = spawnTs(BRAINMESH, ['connect', '--hub', 'not a url', '--api-key', 'k'], { PATH: process.env.PATH });
    assert.equal(await bad.exited, 2);
    assert.deepEqual(bad.stdout, []);
    assert.match(bad.stderr[0] ?? '', /--hub must be a URL/);
  });

  it('writes nothing but MCP to stdout, and its log to stderr', () => {
    // Any line on stdout that is not a JSON-RPC message is an error in the client's transport.
    // (A progress update that lost its race with the result is reported too; that is the SDK.)
    const late = /progress notification for an unknown token/;
    assert.deepEqual(
      clientErrors.filter((err) => !late.test(err.message)),
      [],
    );
    assert.ok(bridgeLog.some((l) => (JSON.parse(l) as { msg: string }).msg === 'bridge ready on stdio'));
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
