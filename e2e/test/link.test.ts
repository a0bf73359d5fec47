/**
 * The persistent link between hub and node, from outside: a node the hub cannot reach at all
 * dials in and serves through the hub; and the hub's end refuses whatever has not proved, on this
 * connection, to be the node it names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Hello,
  KeyRing,
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkSocket,
  openLink,
  signLinkToken,
} from '@brainmesh/shared';
import { WebSocket } from 'ws';
import {
  admin,
  connectClient,
  enrolmentToken,
  type HubProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';
import { createTestHost } from '../support/netns.js';

const json = (result: Record<string, unknown>) => JSON.parse(text(result)) as Record<string, unknown>;

describe('a node the hub cannot reach', { timeout: 120_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());

  it('dials in from its own network namespace and serves its tools through the hub', async () => {
    // The node's host: its own loopback, which nothing outside can reach, and a link to ours.
    const host = createTestHost();
    scope.after(host.remove);
    const hub = await startHub(scope, { host: host.hostIp });
    // Listening too (it need not), to show that a port it opens is still out of the hub's reach.
    const node = await startNode(scope, hub, { name: 'laptop', dial: true, listen: true, prefix: host.prefix });
    await nodeUp(hub, 'laptop');

    // The node listens on 127.0.0.1 inside its namespace; from here that address is someone else.
    const port = new URL(node.url!).port;
    const probe = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => `answered ${r.status}`,
      (err: Error) => `unreachable (${(err.cause as { code?: string } | undefined)?.code ?? err.message})`,
    );
    assert.match(probe, /^unreachable/, 'the hub cannot reach the node at the address it listens on');

    const { client } = await connectClient(scope, hub);
    assert.equal(
      text(await client.callTool({ name: 'laptop__echo', arguments: { text: 'from behind NAT' } })),
      'from behind NAT',
    );
    const listed = json(await client.callTool({ name: 'mesh__list_nodes', arguments: {} })) as {
      nodes: Array<{ node: string; direction: string }>;
    };
    assert.deepEqual(
      listed.nodes.map((n) => [n.node, n.direction]),
      [['laptop', 'dial-out']],
    );
    const view = (await (await admin(hub, 'GET', '/admin/nodes/laptop')).json()) as { url: unknown; direction: string };
    assert.deepEqual([view.url, view.direction], [null, 'dial-out']);
  });
});

/** A node of the test's own making, enrolled with keys the test holds, that dials the hub by hand. */
async function enrolled(hub: HubProcess, name: string) {
  const ring = await KeyRing.ephemeral();
  const res = await fetch(new URL('/enrol', hub.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: await enrolmentToken(hub, name), node: name, url: null, jwks: ring.jwks() }),
  });
  assert.equal(res.status, 200);
  const { hubId } = (await res.json()) as { hubId: string };
  return { ring, hubId, name };
}

type Node = Awaited<ReturnType<typeof enrolled>>;

const socketUrl = (hub: HubProcess) => {
  const url = new URL(LINK_PATH, hub.url);
  url.protocol = 'ws:';
  return url;
};

/**
 * Dials the hub and runs `then` the moment the socket opens: the hub speaks first, and a frame
 * that comes in the same read as the upgrade is emitted before any later listener is attached.
 */
function dial<T>(hub: HubProcess, then: (ws: WebSocket) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(socketUrl(hub), LINK_SUBPROTOCOL);
    ws.once('open', () => then(ws).then(resolve, reject));
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string; ms: number }>((resolve) => {
    const started = Date.now();
    if (ws.readyState === ws.CLOSED) return resolve({ code: 1006, reason: '', ms: 0 });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), ms: Date.now() - started }));
  });

/** The hub's hello, the first frame on a connection. */
const helloOf = (ws: WebSocket) =>
  new Promise<Hello>((resolve) => ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Hello)));

/** The node's side of a proper handshake, answering the hub's lists; `tokens` collects what it signed. */
async function linkAs(hub: HubProcess, node: Node, tokens: string[] = []): Promise<LinkSocket> {
  const link = await dial(hub, (ws) =>
    openLink(ws, {
      role: 'node',
      id: node.name,
      sign: async (aud, nonce) => {
        const token = await signLinkToken(node.ring, { iss: node.name, aud, sub: `node:${node.name}`, nonce });
        tokens.push(token);
        return token;
      },
      verify: async () => ({ exp: Math.floor(Date.now() / 1000) + 60 }),
    }),
  );
  link.on('message', (envelope) => {
    const m = envelope.m as { id?: number; method?: string };
    if (m.id === undefined || m.method === undefined) return;
    const lists: Record<string, object> = {
      'tools/list': { tools: [] },
      'resources/list': { resources: [] },
      'resources/templates/list': { resourceTemplates: [] },
      'prompts/list': { prompts: [] },
    };
    const result = (lists[m.method] ?? {}) as Record<string, unknown>;
    link.send({ ch: envelope.ch, m: { jsonrpc: '2.0', id: m.id, result } });
  });
  return link;
}

/** A handshake by hand: our hello, then `auth` with the token `make` returns for the hub's hello. */
async function handshakeWith(hub: HubProcess, id: string, make: (hubHello: Hello) => Promise<string>) {
  return dial(hub, async (ws) => {
    const hello = helloOf(ws);
    const end = closed(ws);
    ws.send(JSON.stringify({ link: 'hello', role: 'node', id, nonce: 'x'.repeat(32) }));
    ws.send(JSON.stringify({ link: 'auth', token: await make(await hello) }));
    return end;
  });
}

describe('the hub’s end of the link refuses', { timeout: 60_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let one: Node;
  let two: Node;

  before(async () => {
    hub = await startHub(scope);
    [one, two] = await Promise.all([enrolled(hub, 'one'), enrolled(hub, 'two')]);
  });

  it('takes a proper handshake, and the node is up, dialled in', async () => {
    const link = await linkAs(hub, one);
    await nodeUp(hub, 'one');
    const view = (await (await admin(hub, 'GET', '/admin/nodes/one')).json()) as { direction: string };
    assert.equal(view.direction, 'dial-out');
    link.close();
  });

  it('a replayed handshake: the token of one connection, sent on another', async () => {
    const tokens: string[] = [];
    const link = await linkAs(hub, one, tokens);
    link.close();
    const [token] = tokens;
    assert.ok(token !== undefined);
    const refused = await handshakeWith(hub, 'one', async () => token);
    assert.equal(refused.code, 4401);
  });

  it('a handshake token made for another node, or another hub', async () => {
    // Signed by two, for the hub, claimed by a hello that says one.
    const asTwo = await handshakeWith(hub, 'one', async (h) =>
      signLinkToken(two.ring, { iss: 'two', aud: one.hubId, sub: 'node:two', nonce: h.nonce }),
    );
    assert.equal(asTwo.code, 4401);
    // One's own key and name, but for another hub.
    const elsewhere = await handshakeWith(hub, 'one', async (h) =>
      signLinkToken(one.ring, { iss: 'one', aud: 'another-hub', sub: 'node:one', nonce: h.nonce }),
    );
    assert.equal(elsewhere.code, 4401);
    // One's own, for this hub, with a nonce of its own choosing rather than the hub's.
    const ownNonce = await handshakeWith(hub, 'one', async () =>
      signLinkToken(one.ring, { iss: 'one', aud: one.hubId, sub: 'node:one', nonce: 'y'.repeat(32) }),
    );
    assert.equal(ownNonce.code, 4401);
  });

  it('a connection that does not authenticate within 5 s', async () => {
    const end = await dial(hub, async (ws) => {
      ws.send(JSON.stringify({ link: 'hello', role: 'node', id: 'one', nonce: 'z'.repeat(32) }));
      return closed(ws);
    });
    assert.deepEqual([end.code, end.reason], [4401, 'not authenticated in time']);
    assert.ok(end.ms >= 4_500 && end.ms < 8_000, `closed after ${end.ms} ms`);
  });

  it('anything once the node is disabled: its link is closed at once, and a new one refused', async () => {
    const link = await linkAs(hub, two);
    const ended = new Promise<[number, string]>((resolve) => link.once('close', (c, r) => resolve([c, r])));
    const res = await admin(hub, 'POST', '/admin/nodes/two/disable');
    assert.equal(res.status, 200);
    assert.deepEqual(await ended, [4403, 'node disabled']);
    await assert.rejects(linkAs(hub, two), (err: Error) => /link refused/.test(err.message));
    await until(async () => {
      const view = (await (await admin(hub, 'GET', '/admin/nodes/two')).json()) as { link: string };
      return view.link === 'disabled';
    }, 'the node to show as disabled');
  });
});
