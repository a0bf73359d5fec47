import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { NodeTransport, STREAM_DROPPED_MESSAGE } from '../src/mesh/node-transport.js';

/**
 * A node reduced to what the transport sees: Streamable HTTP answers on each POST's own SSE
 * stream, and tools that die, hang up, or answer and hang up at once.
 */
async function fakeNode(t: TestContext): Promise<string> {
  const event = (res: ServerResponse, message: unknown) =>
    res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number; method: string; params?: { name?: string } };
      if (message.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'session-1' });
      const answer = { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: 'done' }] } };
      if (message.method === 'initialize') {
        event(res, {
          jsonrpc: '2.0',
          id: message.id,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 'fake', version: '1' },
          },
        });
        res.end();
        return;
      }
      const how = message.params?.name;
      if (how === 'die') {
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (how === 'hang-up') {
        setTimeout(() => res.end(), 20);
      } else if (how === 'answer-and-hang-up') {
        res.end(`event: message\ndata: ${JSON.stringify(answer)}\n\n`);
      } else {
        event(res, answer);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  server.on('connection', (socket) => t.after(() => socket.destroy()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function connect(t: TestContext, url: string): Promise<Client> {
  const transport = new NodeTransport(new URL('/mcp', url), {
    fetch: (input, init) => fetch(input, init),
    reconnectionOptions: {
      initialReconnectionDelay: 100,
      maxReconnectionDelay: 100,
      reconnectionDelayGrowFactor: 1,
      maxRetries: 0,
    },
  });
  const client = new Client({ name: 'test', version: '1' });
  client.onerror = () => {};
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

const call = (client: Client, name: string) =>
  client.request({ method: 'tools/call', params: { name, arguments: {} } }, CallToolResultSchema, { timeout: 20_000 });

describe('node transport', () => {
  for (const how of ['die', 'hang-up']) {
    it(`fails a request at once when its answer stream ends without the answer (${how})`, async (t) => {
      const client = await connect(t, await fakeNode(t));
      const started = performance.now();
      const err = await call(client, how).then(
        () => assert.fail('the call should have failed'),
        (e: unknown) => e,
      );
      const elapsed = performance.now() - started;
      assert.ok(err instanceof McpError, String(err));
      assert.equal(err.code, ErrorCode.ConnectionClosed);
      assert.match(err.message, new RegExp(STREAM_DROPPED_MESSAGE));
      assert.ok(elapsed < 2_000, `failed after ${Math.round(elapsed)} ms, not at once`);
      // The client is still usable for the next call.
      assert.deepEqual((await call(client, 'answer')).content, [{ type: 'text', text: 'done' }]);
    });
  }

  it('keeps an answer that arrives in the stream’s last bytes', async (t) => {
    const client = await connect(t, await fakeNode(t));
    const results = await Promise.all(Array.from({ length: 50 }, () => call(client, 'answer-and-hang-up')));
    for (const result of results) assert.deepEqual(result.content, [{ type: 'text', text: 'done' }]);
  });
});
