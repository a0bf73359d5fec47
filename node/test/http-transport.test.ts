import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { HttpClientTransport } from '../src/mounts/http-transport.js';

/** A real MCP server (the SDK's, with sessions) on loopback, as a mounted server would be. */
async function serve(t: TestContext) {
  let server: McpServer | undefined;
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const httpServer = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (transport === undefined) {
      if (req.headers.authorization !== 'Bearer mount-secret') {
        res.writeHead(401).end('no');
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports.set(id, transport!);
        },
      });
      server = new McpServer({ name: 'mounted', version: '1.0.0' });
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
      server.registerTool('slow', { inputSchema: {} }, async (_args, extra) => {
        const token = extra._meta?.progressToken;
        for (let i = 1; i <= 3; i++) {
          if (token !== undefined)
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: i, total: 3 },
            });
        }
        return { content: [{ type: 'text', text: 'done' }] };
      });
      await server.connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  );
  const url = new URL(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`);
  return { url, server: () => server! };
}

async function connect(t: TestContext, url: URL, headers = { authorization: 'Bearer mount-secret' }) {
  const client = new Client({ name: 'node', version: '1' });
  const transport = new HttpClientTransport(url, headers);
  await client.connect(transport);
  t.after(() => client.close());
  return { client, transport };
}

describe('the HTTP transport to a mounted server', () => {
  it('sets up a session, lists and calls tools, with the configured headers on every request', async (t) => {
    const { url } = await serve(t);
    const { client, transport } = await connect(t, url);
    assert.ok(transport.sessionId, 'the server’s session id is kept');
    assert.deepEqual(
      (await client.listTools()).tools.map((tool) => tool.name),
      ['echo', 'slow'],
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } })),
    );
    assert.deepEqual(
      answers.map((a) => (a.content as Array<{ text: string }>)[0]?.text),
      Array.from({ length: 20 }, (_, i) => `hi ${i}`),
    );
  });

  it('carries progress on the answer’s stream, before the answer', async (t) => {
    const { url } = await serve(t);
    const { client } = await connect(t, url);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: {} }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'done');
    assert.deepEqual(progress, [1, 2, 3]);
  });

  it('hears the server’s own notifications on its stream', async (t) => {
    const { url, server } = await serve(t);
    const { client } = await connect(t, url);
    let heard = false;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      heard = true;
    });
    // The GET stream opens just after the session is set up, and what the server sends on it
    // before then is not kept: sent again until it is heard.
    await eventually(async () => {
      server().sendToolListChanged();
      return heard;
    });
  });

  it('fails with the server’s status when it refuses', async (t) => {
    const { url } = await serve(t);
    const client = new Client({ name: 'node', version: '1' });
    await assert.rejects(client.connect(new HttpClientTransport(url, {})), /HTTP 401/);
  });
});
