import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyRing, type LinkRefusal, signLinkToken } from '@brainmesh/shared';
import { base64url, SignJWT } from 'jose';
import {
  admin,
  connectClient,
  enrolmentToken,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  until,
} from '../support/mesh.js';

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
});

describe('links between hub and node', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let node: NodeProcess;
  let hubKeys: KeyRing;

  before(async () => {
    hub = await startHub(scope);
    node = await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    hubKeys = await KeyRing.open(hub.home); // the hub's own key file: a test may sign as the hub
  });

  /** POSTs an initialize to the node's /mcp with the given bearer token. */
  const probe = (token?: string) =>
    fetch(new URL('/mcp', node.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: initialize,
    });

  const refusedFor = async (token: string | undefined, reason: LinkRefusal) => {
    const res = await probe(token);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { code: 'UNAUTHENTICATED', message: 'a valid hub link token is required' });
    // The node says why in its log, never to the caller.
    await node.proc.waitFor<{ msg: string; reason: string }>(
      (l) => l.msg === 'link token refused' && l.reason === reason,
    );
  };

  const claims = { iss: 'hub', aud: 'alpha', sub: 'operator' };

  it('accepts a fresh token signed by its hub', async () => {
    const res = await probe(await signLinkToken(hubKeys, claims));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  it('refuses a request with no token', async () => {
    await refusedFor(undefined, 'missing');
  });

  it('refuses a token made for another node', async () => {
    await refusedFor(await signLinkToken(hubKeys, { ...claims, aud: 'beta' }), 'wrong-audience');
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: hubKeys.activeKid })
      .setIssuer('hub')
      .setAudience('alpha')
      .setSubject('operator')
      .setJti('expired-1')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(hubKeys.signingKey().key);
    await refusedFor(expired, 'expired');
  });

  it('refuses a token signed by a key it does not know', async () => {
    await refusedFor(await signLinkToken(await KeyRing.ephemeral(), claims), 'unknown-key');
  });

  it('refuses an alg: none token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const body = base64url.encode(JSON.stringify({ ...claims, jti: 'none-1', iat: now, exp: now + 30 }));
    await refusedFor(`${header}.${body}.`, 'bad-alg');
  });

  it('refuses a replayed token', async () => {
    const token = await signLinkToken(hubKeys, claims);
    const first = await probe(token);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await refusedFor(token, 'replayed');
  });

  it('takes an enrolment token once, and only for the node it names', async () => {
    const token = await enrolmentToken(hub, 'gamma');
    const jwks = (await KeyRing.ephemeral()).jwks();
    const enrol = (node: string) =>
      fetch(new URL('/enrol', hub.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, node, url: null, jwks }),
      });
    assert.equal((await enrol('delta')).status, 403);
    const ok = await enrol('gamma');
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys((await ok.json()) as object).sort(), ['hubId', 'jwks', 'nodeId']);
    const again = await enrol('gamma');
    assert.equal(again.status, 401);
    assert.match(((await again.json()) as { message: string }).message, /unknown, used or expired/);
    assert.equal((await admin(hub, 'DELETE', '/admin/nodes/gamma')).status, 204);
  });

  it('refuses enrolment input that is not a public key set, naming the field', async () => {
    const token = await enrolmentToken(hub, 'epsilon');
    const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'private!', kid: 'k' }] };
    const res = await fetch(new URL('/enrol', hub.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, node: 'epsilon', jwks }),
    });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { message: string }).message,
      /^jwks\.keys\.0: a public key set must not carry private keys/,
    );
  });

  it('disables, enables and removes a node, and a removed node’s links stop at once', async (t) => {
    const c = await connectClient(t, hub);
    const hasAlpha = async () => (await c.client.listTools()).tools.some((tool) => tool.name === 'alpha__echo');
    assert.equal((await admin(hub, 'POST', '/admin/nodes/alpha/disable')).status, 200);
    await until(async () => !(await hasAlpha()), 'alpha to leave the catalog');
    const disabled = await c.client.callTool({ name: 'alpha__echo', arguments: { text: 'x' } });
    assert.equal(disabled.isError, true);
    assert.match(JSON.stringify(disabled.content), /node alpha is disabled by an operator/);

    assert.equal((await admin(hub, 'POST', '/admin/nodes/alpha/enable')).status, 200);
    await nodeUp(hub, 'alpha');
    await until(hasAlpha, 'alpha to return');

    assert.equal((await admin(hub, 'DELETE', '/admin/nodes/alpha')).status, 204);
    await until(async () => !(await hasAlpha()), 'alpha to be removed');
    await assert.rejects(
      c.client.callTool({ name: 'alpha__echo', arguments: { text: 'x' } }),
      /unknown tool alpha__echo/,
    );
    assert.equal((await admin(hub, 'GET', '/admin/nodes/alpha')).status, 404);
    // The node's own link to the hub is refused too: its next announcement is turned away.
    const restarted = await node.proc.stop('SIGTERM').then(() => node.start());
    await restarted.proc.waitFor<{ msg: string }>((l) => l.msg.startsWith('the hub refused this node'));
  });
});

describe('admin API', { timeout: 60_000 }, () => {
  it('needs the operator key, and names a bad field', async (t) => {
    const hub = await startHub(t);
    const noKey = await fetch(new URL('/admin/nodes', hub.url));
    assert.equal(noKey.status, 401);
    assert.equal(
      noKey.headers.get('www-authenticate'),
      `Bearer realm="brainmesh", resource_metadata="${hub.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    const wrongKey = await admin({ url: hub.url, key: `${hub.key.slice(0, -4)}AAAA` }, 'GET', '/admin/nodes');
    assert.equal(wrongKey.status, 401);
    const bad = await admin(hub, 'POST', '/admin/enrolments', { node: 'Not Valid!' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^node: lowercase letters, digits and dashes/);
    const reserved = await admin(hub, 'POST', '/admin/enrolments', { node: 'mesh' });
    assert.equal(reserved.status, 400);
  });

  it('refuses a request from a foreign browser origin', async (t) => {
    const hub = await startHub(t);
    const foreign = await fetch(new URL('/mcp', hub.url), {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        authorization: `Bearer ${hub.key}`,
        'content-type': 'application/json',
      },
      body: initialize,
    });
    assert.equal(foreign.status, 403);
    const own = await fetch(new URL('/healthz', hub.url), { headers: { origin: hub.url } });
    assert.equal(own.status, 200);
  });
});
