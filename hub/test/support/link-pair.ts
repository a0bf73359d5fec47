import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import {
  createLinkVerifier,
  createLogger,
  createMemoryStore,
  type Envelope,
  KeyRing,
  LINK_SUBPROTOCOL,
  type LinkSocket,
  openLink,
  signLinkToken,
} from '@brainmesh/shared';
import { WebSocket, WebSocketServer } from 'ws';
import { type LinkSettings, NodeLink } from '../../src/mesh/node-link.js';
import type { NodeRecord } from '../../src/registry.js';

export const quiet = createLogger({ name: 'test', level: 'silent' });

export const SETTINGS: LinkSettings = {
  callTimeoutMs: 60_000,
  healthIntervalMs: 600_000,
  healthTimeoutMs: 500,
  breakerFailures: 5,
  breakerHalfOpenMs: 10_000,
  maxMessageDepth: 64,
  maxMessageBytes: 1_000_000,
};

/** What the fake node does with a request: answer it (result or error), or leave it unanswered. */
export type Script = (
  method: string,
  params: Record<string, unknown>,
  envelope: Envelope,
) => { result: unknown } | { error: { code: number; message: string } } | 'silent' | 'drop';

/**
 * A NodeLink over a real WebSocket on loopback, its node end a script: real handshake (keys,
 * nonces), real frames, and a node whose every answer a test decides. Lists are empty; pings
 * are answered unless the script says otherwise.
 */
export async function linkPair(
  t: TestContext,
  script: Script,
  options: { settings?: Partial<LinkSettings>; now?: () => number } = {},
): Promise<{ link: NodeLink; record: NodeRecord; node: LinkSocket; seen: Envelope[] }> {
  const hubRing = await KeyRing.ephemeral();
  const nodeRing = await KeyRing.ephemeral();
  const record: NodeRecord = {
    id: 'devmcp',
    // No URL: the hub does not dial; the node's end is attached as if it had dialled in.
    url: null,
    jwks: nodeRing.jwks(),
    status: 'enabled',
    enrolledAt: new Date(),
    updatedAt: new Date(),
  };
  const link = new NodeLink(record, {
    hubId: 'hub',
    ring: hubRing,
    store: createMemoryStore(),
    logger: quiet,
    settings: { ...SETTINGS, ...options.settings },
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  t.after(() => link.stop());
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        // The server's close waits for its connections: they end first.
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, LINK_SUBPROTOCOL);
  await new Promise((resolve) => ws.once('open', resolve));
  const verifyHub = createLinkVerifier({
    issuer: 'hub',
    audience: 'devmcp',
    keys: () => hubRing.jwks(),
    replay: createMemoryStore(),
  });
  const [hubEnd, node] = await Promise.all([
    accepted.then((socket) => openLink(socket, link.identity())),
    openLink(ws, {
      role: 'node',
      id: 'devmcp',
      sign: (aud, nonce) => signLinkToken(nodeRing, { iss: 'devmcp', aud, sub: 'node:devmcp', nonce }),
      verify: (_peer, token, nonce) => verifyHub(token, nonce),
    }),
  ]);
  t.after(() => node.close());
  const seen: Envelope[] = [];
  node.on('message', (envelope) => {
    seen.push(envelope);
    const m = envelope.m as { id?: number; method?: string; params?: Record<string, unknown> };
    if (m.method === undefined || m.id === undefined) return;
    const lists: Record<string, string> = {
      'tools/list': 'tools',
      'resources/list': 'resources',
      'resources/templates/list': 'resourceTemplates',
      'prompts/list': 'prompts',
    };
    const answer =
      m.method in lists ? { result: { [lists[m.method]!]: [] } } : script(m.method, m.params ?? {}, envelope);
    if (answer === 'silent') return;
    if (answer === 'drop') {
      node.close(1001, 'node died');
      return;
    }
    node.send({ ch: envelope.ch, m: { jsonrpc: '2.0', id: m.id, ...answer } as Envelope['m'] });
  });
  await link.attach(hubEnd, 'dial-out');
  return { link, record, node, seen };
}
