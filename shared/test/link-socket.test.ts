import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import {
  createLinkVerifier,
  createMemoryStore,
  type Envelope,
  KeyRing,
  LINK_SUBPROTOCOL,
  type LinkIdentity,
  type LinkSocket,
  type LinkSocketOptions,
  openLink,
  signLinkToken,
} from '../src/index.js';

/** Two ends of one loopback WebSocket, each with keys of its own, pinned by the other. */
async function pair(
  t: TestContext,
  tweak: { hub?: LinkSocketOptions; nodeSign?: (proper: LinkIdentity['sign']) => LinkIdentity['sign'] } = {},
) {
  const hubRing = await KeyRing.ephemeral();
  const nodeRing = await KeyRing.ephemeral();
  const identity = (role: 'hub' | 'node', id: string, peer: string, ring: KeyRing, peerRing: KeyRing): LinkIdentity => {
    const verify = createLinkVerifier({
      issuer: peer,
      audience: id,
      keys: () => peerRing.jwks(),
      replay: createMemoryStore(),
    });
    return {
      role,
      id,
      sign: (aud, nonce) => signLinkToken(ring, { iss: id, aud, sub: `${role}:${id}`, nonce }),
      verify: (_hello, token, nonce) => verify(token, nonce),
    };
  };
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
  const hubEnd = new Promise<LinkSocket>((resolve, reject) =>
    server.once('connection', (ws) =>
      openLink(ws, identity('hub', 'hub', 'n1', hubRing, nodeRing), tweak.hub).then(resolve, reject),
    ),
  );
  const nodeEnd = new Promise<LinkSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, LINK_SUBPROTOCOL);
    ws.once('open', () =>
      openLink(ws, signedBy(identity('node', 'n1', 'hub', nodeRing, hubRing), tweak.nodeSign)).then(resolve, reject),
    );
  });
  const [hub, node] = await Promise.all([hubEnd, nodeEnd]);
  t.after(() => {
    hub.close();
    node.close();
  });
  return { hub, node };
}

const signedBy = (me: LinkIdentity, wrap?: (proper: LinkIdentity['sign']) => LinkIdentity['sign']): LinkIdentity =>
  wrap === undefined ? me : { ...me, sign: wrap(me.sign) };

const note = (n: number): Envelope => ({ ch: 'c', m: { jsonrpc: '2.0', method: 'notifications/n', params: { n } } });

describe('link socket', () => {
  it('comes up on both ends, each knowing who the other proved to be', async (t) => {
    const { hub, node } = await pair(t);
    assert.deepEqual([hub.peerId, node.peerId], ['n1', 'hub']);
    const got = new Promise<Envelope>((resolve) => node.once('message', resolve));
    hub.send(note(1));
    assert.deepEqual(await got, note(1));
  });

  it('loses nothing sent the moment the link is up, even to an end that listens late', async (t) => {
    const { hub, node } = await pair(t);
    for (let n = 0; n < 100; n++) hub.send(note(n));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const seen: number[] = [];
    await new Promise<void>((resolve) =>
      node.on('message', (e) => {
        seen.push((e.m as unknown as { params: { n: number } }).params.n);
        if (seen.length === 100) resolve();
      }),
    );
    assert.deepEqual(
      seen,
      Array.from({ length: 100 }, (_, n) => n),
    );
  });

  it('refuses at the handshake a peer whose token is signed by a key it does not pin', async (t) => {
    const stranger = await KeyRing.ephemeral();
    await assert.rejects(
      pair(t, { nodeSign: () => (aud, nonce) => signLinkToken(stranger, { iss: 'n1', aud, sub: 'node:n1', nonce }) }),
      /link refused/,
    );
  });

  it('closes a link whose peer stops re-authenticating, once its last token has run out', async (t) => {
    let now = Date.now();
    let stopped = false;
    const { hub } = await pair(t, {
      hub: { reauthMs: 20, now: () => now },
      // As if the node's key were taken away after the handshake: no fresh token comes.
      nodeSign: (proper) => (aud, nonce) => (stopped ? Promise.reject(new Error('no key')) : proper(aud, nonce)),
    });
    const ended = new Promise<[number, string]>((resolve) => hub.once('close', (c, r) => resolve([c, r])));
    stopped = true;
    // Past the life of the node's last token (30 s).
    now += 120_000;
    assert.deepEqual(await ended, [4408, 'authentication lapsed']);
  });

  it('keeps a link while the peer’s last token is still good', async (t) => {
    let now = Date.now();
    const { hub, node } = await pair(t, { hub: { reauthMs: 20, now: () => now } });
    let closed = false;
    hub.once('close', () => {
      closed = true;
    });
    // 20 s on: within the 30 s life of the node's handshake token.
    now += 20_000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, false);
    const got = new Promise<Envelope>((resolve) => hub.once('message', resolve));
    node.send(note(7));
    assert.deepEqual(await got, note(7));
  });
});
