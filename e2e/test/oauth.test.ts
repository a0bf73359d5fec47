import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyRing } from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { admin, type HubProcess, mcpStatus, nodeUp, startHub, startNode, suiteScope } from '../support/mesh.js';
import { consentFields, pkce, TEST_PASSWORD } from '../support/oauth.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const PASSWORD = TEST_PASSWORD;

describe('OAuth 2.1 for MCP clients', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let clientId: string;

  before(async () => {
    hub = await startHub(scope);
    await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    const user = await admin(hub, 'POST', '/admin/users', { username: 'ana', password: PASSWORD, scopes: ['admin'] });
    assert.equal(user.status, 201);
    const registered = await fetch(`${hub.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Test Desktop', redirect_uris: [REDIRECT] }),
    });
    assert.equal(registered.status, 201);
    clientId = ((await registered.json()) as { client_id: string }).client_id;
  });

  const form = (url: string, fields: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.url },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });

  const authorizeUrl = (challenge: string, extra: Record<string, string> = {}) => {
    const url = new URL('/oauth/authorize', hub.url);
    const params = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-123',
      scope: 'node:alpha',
      resource: `${hub.url}/mcp`,
      ...extra,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url;
  };

  /** Shows the consent page, signs in and allows; returns the redirect's query. */
  const signIn = async (challenge: string, password = PASSWORD) => {
    const page = await fetch(authorizeUrl(challenge));
    assert.equal(page.status, 200);
    const html = await page.text();
    const hidden = consentFields(html);
    const res = await form(`${hub.url}/oauth/authorize`, { ...hidden, username: 'ana', password, decision: 'allow' });
    return res;
  };

  const token = (fields: Record<string, string>) => form(`${hub.url}/oauth/token`, { client_id: clientId, ...fields });

  const fullFlow = async () => {
    const { verifier, challenge } = pkce();
    const redirected = await signIn(challenge);
    assert.equal(redirected.status, 302);
    const code = new URL(redirected.headers.get('location')!).searchParams.get('code')!;
    const res = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      resource: `${hub.url}/mcp`,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return {
      code,
      verifier,
      tokens: (await res.json()) as { access_token: string; refresh_token: string; scope: string },
    };
  };

  it('publishes protected resource and authorization server metadata', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const prm = (await (await fetch(`${hub.url}${path}`)).json()) as {
        resource: string;
        authorization_servers: string[];
      };
      assert.equal(prm.resource, `${hub.url}/mcp`);
      assert.deepEqual(prm.authorization_servers, [hub.url]);
    }
    const as = (await (await fetch(`${hub.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(as.issuer, hub.url);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.equal(as.registration_endpoint, `${hub.url}/oauth/register`);
    assert.equal(as.authorization_response_iss_parameter_supported, true, 'RFC 9207');
    assert.equal(as.client_id_metadata_document_supported, true);
  });

  it('registers a client as what it says it is: native by default, and a web one only with https redirects', async () => {
    const register = (body: object) =>
      fetch(`${hub.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const native = await register({ redirect_uris: ['http://127.0.0.1:9999/callback'] });
    assert.equal(native.status, 201);
    assert.equal(((await native.json()) as { application_type: string }).application_type, 'native');
    const web = await register({ redirect_uris: ['https://app.example/callback'], application_type: 'web' });
    assert.equal(((await web.json()) as { application_type: string }).application_type, 'web');
    const loopbackWeb = await register({ redirect_uris: ['http://127.0.0.1:9999/cb'], application_type: 'web' });
    assert.equal(loopbackWeb.status, 400);
    assert.equal(((await loopbackWeb.json()) as { error: string }).error, 'invalid_redirect_uri');
    const unknown = await register({ redirect_uris: ['https://app.example/cb'], application_type: 'robot' });
    assert.equal(((await unknown.json()) as { error: string }).error, 'invalid_client_metadata');
  });

  it('runs the whole flow: consent, code, token, MCP calls as the user, refresh that rotates, revocation', async (t) => {
    const { tokens } = await fullFlow();
    assert.equal(tokens.scope, 'node:alpha');
    const client = new Client({ name: 'oauth-client', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } },
      }),
    );
    t.after(() => client.close());
    const info = await client.callTool({ name: 'alpha__node_info', arguments: {} });
    assert.equal((info.structuredContent as { principal: string }).principal, 'user:ana');

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    assert.notEqual(next.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    assert.notEqual(await mcpStatus(hub.url, next.access_token), 401);

    const revoked = await form(`${hub.url}/oauth/revoke`, { token: next.refresh_token, client_id: clientId });
    assert.equal(revoked.status, 200);
    assert.equal(await mcpStatus(hub.url, next.access_token), 401, 'a token after revocation is refused');
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: next.refresh_token })).status, 400);
  });

  it('remembers consent per client: a signed-in browser gets the next code without a page, for no more scopes', async () => {
    const signedIn = await signIn(pkce().challenge);
    const cookie = signedIn.headers.get('set-cookie')?.split(';')[0];
    assert.match(signedIn.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Lax/);
    assert.ok(cookie);
    const { verifier, challenge } = pkce();
    const again = await fetch(authorizeUrl(challenge), { headers: { cookie }, redirect: 'manual' });
    assert.equal(again.status, 302, 'no page this time');
    const code = new URL(again.headers.get('location')!).searchParams.get('code')!;
    const tokens = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    assert.equal(tokens.status, 200);
    // Asking for more than was allowed shows the page again, with the name filled in.
    const more = await fetch(authorizeUrl(pkce().challenge, { scope: 'node:alpha admin' }), { headers: { cookie } });
    assert.equal(more.status, 200);
    assert.match(await more.text(), /value="ana"/);
    // Another browser (no cookie) sees the page.
    assert.equal((await fetch(authorizeUrl(pkce().challenge), { redirect: 'manual' })).status, 200);
  });

  it('shows a wrong password in words, and a deny goes back as access_denied', async () => {
    const { challenge } = pkce();
    const wrong = await signIn(challenge, 'not the password');
    assert.equal(wrong.status, 400);
    assert.match(
      await wrong.text(),
      /role="alert" id="error">That operator name and password do not match\. Try again\./,
    );
    const page = await (await fetch(authorizeUrl(challenge))).text();
    const hidden = consentFields(page);
    const denied = await form(`${hub.url}/oauth/authorize`, { ...hidden, decision: 'deny' });
    const back = new URL(denied.headers.get('location')!);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'st-123');
  });

  it('refuses a reused code, and revokes what the code gave', async () => {
    const { code, verifier, tokens } = await fullFlow();
    const again = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    assert.equal(again.status, 400);
    assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
    assert.equal(await mcpStatus(hub.url, tokens.access_token), 401);
  });

  it('refuses a PKCE verifier that does not match, and plain PKCE', async () => {
    const { challenge } = pkce();
    const redirected = await signIn(challenge);
    const code = new URL(redirected.headers.get('location')!).searchParams.get('code')!;
    const wrong = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: pkce().verifier,
    });
    assert.deepEqual(await wrong.json(), {
      error: 'invalid_grant',
      error_description: 'the PKCE code_verifier does not match the code_challenge',
    });

    const plain = await fetch(authorizeUrl('x'.repeat(43), { code_challenge_method: 'plain' }), { redirect: 'manual' });
    assert.equal(plain.status, 302);
    const back = new URL(plain.headers.get('location')!);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /only S256 PKCE is supported/);
  });

  it('never redirects to a URI the client did not register', async () => {
    const res = await fetch(authorizeUrl(pkce().challenge, { redirect_uri: 'https://evil.example/steal' }), {
      redirect: 'manual',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /The redirect address is not one this application registered\./);
  });

  it('refuses a token made for another resource', async () => {
    const ring = await KeyRing.open(hub.home);
    const { kid, key } = ring.signingKey();
    const foreign = await new SignJWT({ scope: 'admin', client_id: clientId, gid: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(hub.url)
      .setAudience('https://other-hub.example/mcp')
      .setSubject('user:ana')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    assert.equal(await mcpStatus(hub.url, foreign), 401);
    const other = await fetch(authorizeUrl(pkce().challenge, { resource: 'https://other-hub.example/mcp' }), {
      redirect: 'manual',
    });
    assert.equal(new URL(other.headers.get('location')!).searchParams.get('error'), 'invalid_target');
  });

  it('answers 403 insufficient_scope when a token lacks the admin scope', async () => {
    const { tokens } = await fullFlow();
    const res = await fetch(`${hub.url}/admin/nodes`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", scope="admin"/);
  });
});
