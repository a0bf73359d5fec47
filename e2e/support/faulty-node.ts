/**
 * A node that misbehaves, for the hub's link to face: a small HTTP server on 127.0.0.1 that is a
 * real MCP server (the SDK's, stateless) for everything but the tool calls it is told to botch,
 * which it answers with garbage, a stack trace, a wrong id, half a body, a reset, or nothing at
 * all. Or, with `everything`, it botches every request, so the hub never gets a catalog from it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { TestContext } from './mesh.js';

type Botch = (res: http.ServerResponse, id: unknown) => void;

const json = (res: http.ServerResponse, status: number, body: string, type = 'application/json') => {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** Text that must never reach a client of the hub: the node's own internals. */
export const NODE_SECRET_TEXT = 'kept-inside-the-node';

/** Each way of answering a tool call badly, by the tool's name. */
export const BOTCHES: Record<string, Botch> = {
  garbage_stream: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`event: message\ndata: this is not json ${NODE_SECRET_TEXT}\n\n`);
  },
  not_jsonrpc: (res) => json(res, 200, `{"hello":"${NODE_SECRET_TEXT}"}`),
  half_a_body: (res, id) => json(res, 200, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[`),
  wrong_id: (res) =>
    json(res, 200, JSON.stringify({ jsonrpc: '2.0', id: 987_654, result: { content: [{ type: 'text', text: 'x' }] } })),
  html: (res) => json(res, 200, `<html><body>${NODE_SECRET_TEXT}</body></html>`, 'text/html'),
  http_500_stack: (res) =>
    json(
      res,
      500,
      `Error: ${NODE_SECRET_TEXT}\n    at handler (/srv/node/node_modules/x/index.js:1:2)\n    at run (/srv/node/src/app.ts:12:5)`,
      'text/plain',
    ),
  http_502_json: (res) =>
    json(res, 502, JSON.stringify({ code: 'BOOM', message: `${NODE_SECRET_TEXT} at /srv/app.ts:12` })),
  rpc_error_stack: (res, id) =>
    json(
      res,
      200,
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32603,
          message: `TypeError: ${NODE_SECRET_TEXT}\n    at call (/srv/node/node_modules/y/lib.js:3:4)`,
        },
      }),
    ),
  result_of_wrong_shape: (res, id) =>
    json(res, 200, JSON.stringify({ jsonrpc: '2.0', id, result: { content: NODE_SECRET_TEXT, isError: 'sometimes' } })),
  reset: (res) => res.socket?.destroy(),
  hang: () => {},
  slow_drip: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => res.write(': still thinking\n\n'), 200);
    res.on('close', () => clearInterval(timer));
  },
};

export interface FaultyNode {
  url: string;
  /** Tool calls it has received, by tool name. */
  calls: Map<string, number>;
}

/** Starts a faulty node; it is closed (hanging answers dropped) after the test. */
export async function startFaultyNode(t: TestContext, options: { everything?: Botch } = {}): Promise<FaultyNode> {
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let message: { method?: string; id?: unknown; params?: { name?: string } } | undefined;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        message = undefined;
      }
      if (options.everything !== undefined) return options.everything(res, message?.id);
      const name = message?.method === 'tools/call' ? message.params?.name : undefined;
      if (name !== undefined) calls.set(name, (calls.get(name) ?? 0) + 1);
      const botch = name === undefined ? undefined : BOTCHES[name];
      if (botch !== undefined) return botch(res, message?.id);
      void serveWell(req, res, message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/** A real MCP server for one request (stateless): every botched tool is listed, and `fine` works. */
async function serveWell(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
  const mcp = new McpServer({ name: 'faulty', version: '1.0.0' });
  for (const name of ['fine', ...Object.keys(BOTCHES)]) {
    mcp.registerTool(name, { description: `answers ${name}` }, async () => ({
      content: [{ type: 'text', text: 'fine' }],
    }));
  }
  // No session id generator: stateless, a fresh server for each request.
  const transport = new StreamableHTTPServerTransport({});
  res.on('close', () => {
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, body);
}
