import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * A real MCP server (the SDK's, with sessions, answering on SSE streams) on loopback, as a
 * mounted server would be; it wants `Authorization: Bearer mount-secret` to start a session.
 * Tools: `echo`; `slow` (three progress updates, then `done`); `hold` (says it runs through
 * `holding`, then runs until cancelled and says so through `cancelled`); `ask` (asks the
 * client through elicitation, and answers with what the client said).
 */
export async function serveMounted(t: TestContext) {
  let server: McpServer | undefined;
  let markCancelled: (reason: unknown) => void = () => {};
  const cancelled = new Promise<unknown>((resolve) => {
    markCancelled = resolve;
  });
  let markHolding: () => void = () => {};
  const holding = new Promise<void>((resolve) => {
    markHolding = resolve;
  });
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
      const mcp = new McpServer({ name: 'mounted', version: '1.0.0' });
      server = mcp;
      mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
      mcp.registerTool('slow', { inputSchema: {} }, async (_args, extra) => {
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
      mcp.registerTool('hold', { inputSchema: {} }, async (_args, extra) => {
        markHolding();
        await new Promise<void>((resolve) => {
          extra.signal.addEventListener('abort', () => {
            markCancelled(extra.signal.reason);
            resolve();
          });
        });
        return { content: [{ type: 'text', text: 'stopped' }] };
      });
      mcp.registerTool('ask', { inputSchema: {} }, async () => {
        const answer = await mcp.server.elicitInput({
          message: 'go ahead?',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
        });
        return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
      });
      await mcp.connect(transport);
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
  return { url, server: () => server!, holding, cancelled };
}
