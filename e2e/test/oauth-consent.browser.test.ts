import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { launchChromium } from '../support/browser.js';
import { admin, nodeUp, startHub, startNode } from '../support/mesh.js';

const PASSWORD = 'correct horse battery staple';

describe('the consent page in a real browser', { timeout: 180_000 }, () => {
  it('signs in and allows by keyboard alone, shows a wrong password in words, and then the token calls, refreshes and is revoked', async (t) => {
    const hub = await startHub(t);
    await startNode(t, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    assert.equal((await admin(hub, 'POST', '/admin/users', { username: 'ana', password: PASSWORD })).status, 201);
    // The client's redirect target, listening on loopback as a native app's does.
    let callback: URL | undefined;
    const app = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/callback') callback = url; // browsers ask for /favicon.ico too
      res.end('signed in');
    }).listen(0, '127.0.0.1');
    await once(app, 'listening');
    t.after(() => app.close());
    const REDIRECT = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
    const registered = await fetch(`${hub.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Browser Test', redirect_uris: [REDIRECT] }),
    });
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('/oauth/authorize', hub.url);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'browser-state',
      scope: 'node:alpha',
      resource: `${hub.url}/mcp`,
    })) {
      url.searchParams.set(k, v);
    }

    const browser = await launchChromium(t);
    const page = await browser.newPage();

    await page.goto(url.toString());
    assert.equal(await page.title(), 'Allow Browser Test to use brainmesh?');
    assert.match(await page.locator('main').innerText(), /every tool of the node alpha/);

    // Wrong password first: the page says so in words and keeps the name.
    await page.keyboard.type('ana'); // the name field has focus on arrival
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#error');
    assert.equal(await page.locator('#error').innerText(), 'That operator name and password do not match. Try again.');
    assert.equal(await page.locator('#username').inputValue(), 'ana');

    // Then the right one; the focus is on the password field now, and Enter allows.
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${REDIRECT}**`);
    assert.ok(callback, 'the browser was sent back to the client');
    assert.equal(callback.searchParams.get('state'), 'browser-state');
    assert.equal(callback.searchParams.get('iss'), hub.url);

    const tokens = await fetch(`${hub.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }).toString(),
    });
    assert.equal(tokens.status, 200);
    const first = (await tokens.json()) as { access_token: string; refresh_token: string };

    // A real MCP client with the token calls a tool as the user who allowed it.
    const callWith = async (accessToken: string) => {
      const client = new Client({ name: 'browser-test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
          requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
        }),
      );
      try {
        return await client.callTool({ name: 'alpha__node_info', arguments: {} });
      } finally {
        await client.close();
      }
    };
    assert.equal(
      ((await callWith(first.access_token)).structuredContent as { principal: string }).principal,
      'user:ana',
    );

    const form = (path: string, fields: Record<string, string>) =>
      fetch(`${hub.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, ...fields }).toString(),
      });
    const refreshed = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(refreshed.status, 200);
    const second = (await refreshed.json()) as { access_token: string; refresh_token: string };
    assert.equal(
      ((await callWith(second.access_token)).structuredContent as { principal: string }).principal,
      'user:ana',
    );

    assert.equal((await form('/oauth/revoke', { token: second.refresh_token })).status, 200);
    await assert.rejects(callWith(second.access_token), /401|Unauthorized|not valid/);
  });
});
