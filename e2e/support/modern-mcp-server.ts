import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent,
  createMcpHandler,
  createRequestStateCodec,
  inputRequired,
  McpServer,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/**
 * A small MCP server of the 2026-07-28 revision only (the SDK's v2 server, `legacy: 'reject'`),
 * on a loopback port, for mounting behind a node: what a server written today for the new
 * revision looks like. `deploy` asks its user to confirm the new way, with an `input_required`
 * result and a signed `requestState`; nothing ever asks the old way.
 */
export async function startModernMcpServer(): Promise<{ url: string; close(): Promise<void> }> {
  const codec = createRequestStateCodec({ key: randomBytes(32), ttlSeconds: 600 });
  const build = () => {
    const server = new McpServer(
      { name: 'modern-fixture', version: '1.0.0' },
      { capabilities: { resources: {} }, requestState: { verify: codec.verify } },
    );
    server.registerTool(
      'greet',
      { description: 'Greets someone, from a 2026-07-28 server', inputSchema: z.object({ name: z.string() }) },
      async ({ name }) => ({ content: [{ type: 'text', text: `hello, ${name}, from 2026-07-28` }] }),
    );
    server.registerTool(
      'deploy',
      { description: 'Deploys once the user confirms', inputSchema: z.object({ env: z.string() }) },
      async ({ env }, ctx) => {
        const state = ctx.mcpReq.requestState<{ env: string }>();
        const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', z.object({ confirm: z.boolean() }));
        if (state === undefined)
          return inputRequired({
            inputRequests: {
              confirm: inputRequired.elicit({
                message: `Deploy to ${env}?`,
                requestedSchema: z.object({ confirm: z.boolean() }),
              }),
            },
            requestState: await codec.mint({ env }),
          });
        if (answer?.confirm !== true)
          return { content: [{ type: 'text', text: `not deployed to ${state.env}` }], isError: true };
        return { content: [{ type: 'text', text: `deployed to ${state.env}` }] };
      },
    );
    server.registerResource('config', 'config://app', { mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, text: 'theme=dark' }],
    }));
    return server;
  };
  const handler = createMcpHandler(build, { legacy: 'reject' });
  const serve = toNodeHandler(handler);
  const http = createServer((req, res) => void serve(req as Parameters<typeof serve>[0], res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
