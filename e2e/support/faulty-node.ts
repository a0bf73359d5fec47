/**
 * A node that misbehaves, for the hub's link to face: a small server on 127.0.0.1 that takes the
 * hub's link and completes its handshake (with keys of its own, enrolled like any node's), lists
 * its tools and answers pings as a node should, but answers the tool calls it is told to botch
 * with garbage frames, a stack trace, a wrong id, half a message, a reset, or nothing at all.
 * Or, with `everything`, it botches the link itself, so the hub never gets a catalog from it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Envelope, KeyRing, LINK_SUBPROTOCOL, type LinkSocket, openLink, signLinkToken } from '@brainmesh/shared';
import { type WebSocket, WebSocketServer } from 'ws';
import type { TestContext } from './mesh.js';

/** Text that must never reach a client of the hub: the node's own internals. */
export const NODE_SECRET_TEXT = 'kept-inside-the-node';

interface Call {
  socket: LinkSocket;
  raw: WebSocket;
  envelope: Envelope;
  id: number;
}

type Botch = (call: Call) => void;

const answer = (call: Call, body: Record<string, unknown>) =>
  call.socket.send({ ch: call.envelope.ch, m: { jsonrpc: '2.0', id: call.id, ...body } as Envelope['m'] });

/** Each way of answering a tool call badly, by the tool's name. */
export const BOTCHES: Record<string, Botch> = {
  garbage_frame: ({ raw }) => raw.send(`this is not json ${NODE_SECRET_TEXT}`),
  not_an_envelope: ({ raw }) => raw.send(JSON.stringify({ hello: NODE_SECRET_TEXT })),
  not_jsonrpc: ({ raw, envelope }) => raw.send(JSON.stringify({ ch: envelope.ch, m: { hello: NODE_SECRET_TEXT } })),
  half_a_message: ({ raw, envelope, id }) =>
    raw.send(`{"ch":${JSON.stringify(envelope.ch)},"m":{"jsonrpc":"2.0","id":${id},"result":{"content":[`),
  binary_frame: ({ raw }) => raw.send(Buffer.from(NODE_SECRET_TEXT)),
  wrong_id: (call) => answer({ ...call, id: 987_654 }, { result: { content: [{ type: 'text', text: 'x' }] } }),
  wrong_channel: ({ socket, id }) =>
    socket.send({ ch: 'someone-else', m: { jsonrpc: '2.0', id, result: { content: [] } } as Envelope['m'] }),
  rpc_error_stack: (call) =>
    answer(call, {
      error: {
        code: -32603,
        message: `TypeError: ${NODE_SECRET_TEXT}\n    at call (/srv/node/node_modules/y/lib.js:3:4)`,
      },
    }),
  result_of_wrong_shape: (call) => answer(call, { result: { content: NODE_SECRET_TEXT, isError: 'sometimes' } }),
  result_not_an_object: (call) => answer(call, { result: `${NODE_SECRET_TEXT}` }),
  reset: ({ raw }) => raw.terminate(),
  hang: () => {},
  chatter: ({ socket, envelope }) => {
    // Log lines forever, never an answer: chatter is not progress, and does not hold the call open.
    const timer = setInterval(
      () =>
        socket.send({
          ch: envelope.ch,
          m: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'still thinking' } },
        }),
      200,
    );
    socket.once('close', () => clearInterval(timer));
  },
};

/** How a node can botch the link before any call: at the upgrade, or in the handshake. */
export type LinkBotch = (
  req: http.IncomingMessage,
  socket: Duplex,
  accept: (ws: (ws: WebSocket) => void) => void,
) => void;

export interface FaultyNode {
  url: string;
  /** The public keys to enrol it with. */
  jwks: ReturnType<KeyRing['jwks']>;
  /** Tool calls it has received, by tool name. */
  calls: Map<string, number>;
  /** Times the hub tried to open a link to it. */
  dials(): number;
}

/** Starts a faulty node named `name`; it is closed (hanging answers dropped) after the test. */
export async function startFaultyNode(
  t: TestContext,
  options: { name: string; everything?: LinkBotch },
): Promise<FaultyNode> {
  const ring = await KeyRing.ephemeral();
  const calls = new Map<string, number>();
  let dials = 0;
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const serve = (raw: WebSocket) => {
    openLink(raw, {
      role: 'node',
      id: options.name,
      sign: (aud, nonce) => signLinkToken(ring, { iss: options.name, aud, sub: `node:${options.name}`, nonce }),
      // It believes anyone: what is tested is the hub's side.
      verify: async () => ({ exp: Math.floor(Date.now() / 1000) + 3_600 }),
    }).then(
      (socket) => {
        socket.on('message', (envelope) => {
          const m = envelope.m as { id?: number; method?: string; params?: { name?: string } };
          if (m.method === undefined || m.id === undefined) return;
          const call: Call = { socket, raw, envelope, id: m.id };
          if (m.method === 'tools/list') {
            const tools = ['fine', ...Object.keys(BOTCHES)].map((name) => ({
              name,
              description: `answers ${name}`,
              inputSchema: { type: 'object' },
            }));
            return answer(call, { result: { tools } });
          }
          if (m.method !== 'tools/call') {
            const empty: Record<string, unknown> = {
              ping: {},
              'resources/list': { resources: [] },
              'resources/templates/list': { resourceTemplates: [] },
              'prompts/list': { prompts: [] },
            };
            return answer(call, { result: empty[m.method] ?? {} });
          }
          const name = m.params?.name ?? '';
          calls.set(name, (calls.get(name) ?? 0) + 1);
          const botch = BOTCHES[name];
          if (botch !== undefined) return botch(call);
          return answer(call, { result: { content: [{ type: 'text', text: 'fine' }] } });
        });
      },
      () => {},
    );
  };
  server.on('upgrade', (req, socket, head) => {
    dials += 1;
    const accept = (then: (ws: WebSocket) => void) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        then(ws);
      });
    if (options.everything !== undefined) return options.everything(req, socket, accept);
    if (req.headers['sec-websocket-protocol'] !== LINK_SUBPROTOCOL) return socket.destroy();
    accept(serve);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    jwks: ring.jwks(),
    calls,
    dials: () => dials,
  };
}
