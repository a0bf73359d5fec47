import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { artifactsDir, launchChromium, seriousA11yViolations } from '../support/browser.js';
import { admin, nodeUp, startHub, startNode, text } from '../support/mesh.js';

const PASSWORD = 'correct horse battery staple';

/**
 * The operator's dashboard in real Chromium, against a real hub with two real nodes: signing in
 * with an operator account, the nodes on the overview, the catalog, a call made by another
 * client reaching the live audit tail, the chain check, and a key revoked from the page refused
 * on its next call. Each page is checked with axe-core and photographed.
 */
describe('the dashboard in a real browser', { timeout: 180_000 }, () => {
  it('signs in, shows both nodes, tails a call live, and revokes a key that is then refused', async (t) => {
    const hub = await startHub(t);
    await startNode(t, hub, { name: 'alpha' });
    await startNode(t, hub, { name: 'beta' });
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
    assert.equal(
      (await admin(hub, 'POST', '/admin/users', { username: 'ops', password: PASSWORD, scopes: ['admin'] })).status,
      201,
    );
    assert.equal(
      (await admin(hub, 'POST', '/admin/users', { username: 'reader', password: PASSWORD, scopes: ['read:*'] })).status,
      201,
    );
    // Another client, with a key of its own: its calls are what the dashboard watches.
    const created = await admin(hub, 'POST', '/admin/keys', { name: 'caller', scopes: ['node:alpha'] });
    const caller = (await created.json()) as { id: string; key: string };
    const client = new Client({ name: 'another-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { authorization: `Bearer ${caller.key}` } },
      }),
    );
    t.after(() => client.close());

    const shots = artifactsDir('dashboard');
    const browser = await launchChromium(t);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const checkPage = async (name: string, on: Page = page) => {
      const file = path.join(shots, `${name}.png`);
      await on.screenshot({ path: file, fullPage: true });
      t.diagnostic(`screenshot: ${file}`);
      assert.deepEqual(
        (await seriousA11yViolations(on)).map((v) => `${v.id}: ${v.help} (${JSON.stringify(v.nodes[0]?.target)})`),
        [],
        `${name}: no serious accessibility violations`,
      );
    };

    const response = await page.goto(`${hub.url}/ui`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);

    // Signing in: an account without the admin scope is told so; an operator gets in.
    await page.waitForSelector('#username');
    await checkPage('sign-in');
    await page.keyboard.type('reader'); // the name field has focus on arrival
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signin-error:not([hidden])');
    assert.match(await page.locator('#signin-error').innerText(), /may not manage the mesh/);
    await page.fill('#username', 'ops');
    await page.fill('#password', PASSWORD);
    await page.keyboard.press('Enter');

    // Overview: both nodes, up, with their tools.
    await page.waitForSelector('#nodes tr[data-node="beta"]');
    for (const node of ['alpha', 'beta']) {
      const cells = await page.locator(`#nodes tr[data-node="${node}"] > *`).allInnerTexts();
      assert.equal(cells[0], node);
      assert.equal(cells[1], 'up');
      assert.equal(cells[3], 'closed');
      assert.ok(Number(cells[4]) > 0, `${node} has tools: ${cells.join(' | ')}`);
    }
    assert.match(await page.locator('dl.facts').innerText(), /database embedded, store memory/);
    await checkPage('overview');
    // Readable at a phone's width: nothing wider than the screen but the tables' own scrollers.
    const narrow = await context.newPage(); // the same sign-in
    await narrow.setViewportSize({ width: 360, height: 800 });
    await narrow.goto(`${hub.url}/ui/#overview`);
    await narrow.waitForSelector('#nodes tr[data-node="beta"]');
    assert.equal(await narrow.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true);
    await checkPage('overview-narrow', narrow);
    await narrow.close();

    // Tools: the ranked search, and one tool whole.
    await page.getByRole('link', { name: 'Tools' }).click();
    await page.waitForSelector('#tool-list li');
    await page.fill('#tool-query', 'echo');
    await page.keyboard.press('Enter');
    // The page's policy allows no eval, so waits are on selectors, not functions.
    await page.waitForSelector('#tool-list li:first-child code:text-is("alpha__echo")');
    await page.locator('#tool-list li summary').first().click();
    await page.waitForSelector('#tool-list li pre');
    assert.match(await page.locator('#tool-list li pre').first().innerText(), /"text"/);
    await checkPage('tools');

    // Audit: a call by the other client reaches the live tail within 2 s.
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.waitForSelector('#live-state:text("Live:")');
    // Markup in an argument is shown as text, never made into elements.
    const marker = `<img src=x id=injected> seen live ${Date.now()}`;
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: marker } })), marker);
    await page.waitForSelector('#live-rows tr', { timeout: 2_000 });
    const live = await page.locator('#live-rows tr').first().locator('td').allInnerTexts();
    assert.equal(live[1], 'alpha');
    assert.equal(live[2], 'echo');
    assert.equal(live[3], 'ok');
    assert.equal(live[4], `key:${caller.id}`);
    await page.locator('#live-rows tr').first().getByRole('button').click();
    const shown = await page.locator('#shown').innerText();
    assert.ok(shown.includes(marker), shown);
    assert.match(shown, /Trace id\s+[0-9a-f]{32}/);
    assert.equal(await page.locator('#injected').count(), 0, 'no element made from the argument');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.waitForSelector('#verify-result li');
    assert.match(await page.locator('#verify-result').innerText(), /Every chain holds\.[\s\S]*alpha: holds/);
    await checkPage('audit');

    // Keys and nodes: revoking the caller's key, confirmed, refuses its next call.
    await page.getByRole('link', { name: 'Keys and nodes' }).click();
    await page.waitForSelector(`#keys tr[data-key="${caller.id}"]`);
    await checkPage('keys-and-nodes');
    await page.getByRole('button', { name: 'Revoke the key caller' }).click();
    await page.waitForSelector('#confirm[open]');
    assert.match(await page.locator('#confirm-text').innerText(), /Revoke the key “caller”/);
    await page.getByRole('button', { name: 'Yes' }).click();
    await page.waitForSelector(`#keys tr[data-key="${caller.id}"] td.revoked`);
    await assert.rejects(client.callTool({ name: 'alpha__echo', arguments: { text: 'after' } }), /401|not valid/);
  });

  it('takes its sign-in only from its own pages: the cookie is no credential without the secret its page keeps', async (t) => {
    const hub = await startHub(t);
    for (const username of ['ops', 'other'])
      await admin(hub, 'POST', '/admin/users', { username, password: PASSWORD, scopes: ['admin'] });
    const signIn = (headers: Record<string, string>, username = 'ops') =>
      fetch(`${hub.url}/ui/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
    assert.equal((await signIn({})).status, 403);
    assert.equal((await signIn({ 'x-brainmesh-ui': 'sign-in', origin: 'https://evil.example' })).status, 403);
    const signedIn = async (username: string) => {
      const ok = await signIn({ 'x-brainmesh-ui': 'sign-in' }, username);
      assert.equal(ok.status, 200);
      const cookie = ok.headers.get('set-cookie') ?? '';
      assert.match(cookie, /^bm_ui_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      const { secret } = (await ok.json()) as { secret: string };
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      return { cookie: cookie.split(';')[0]!, secret };
    };
    const ops = await signedIn('ops');
    const other = await signedIn('other');
    const keys = (headers: Record<string, string>) => fetch(`${hub.url}/admin/keys`, { headers });
    assert.equal((await keys({ cookie: ops.cookie, 'x-brainmesh-ui': ops.secret })).status, 200);
    // The cookie alone, as a server on another port of the host would receive it.
    assert.equal((await keys({ cookie: ops.cookie })).status, 401);
    assert.equal((await keys({ cookie: ops.cookie, 'x-brainmesh-ui': '1' })).status, 401);
    assert.equal((await keys({ cookie: ops.cookie, 'x-brainmesh-ui': other.secret })).status, 401);
    assert.equal((await keys({ 'x-brainmesh-ui': ops.secret })).status, 401);
    // Nor is it a credential for MCP.
    const mcp = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: {
        cookie: ops.cookie,
        'x-brainmesh-ui': ops.secret,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(mcp.status, 401);

    // The live tail: the hub's own origin, the cookie, and the secret as the first message.
    const own = new URL(hub.url).origin;
    const live = (origin: string | undefined, cookie: string, secret: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ui/live`, {
          headers: { cookie, ...(origin === undefined ? {} : { origin }) },
        });
        ws.on('open', () => ws.send(JSON.stringify({ secret })));
        ws.on('message', (data) => {
          resolve(String((JSON.parse(String(data)) as { type: string }).type));
          ws.close();
        });
        ws.on('close', (code) => resolve(`closed ${code}`));
        ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      });
    assert.equal(await live(own, ops.cookie, ops.secret), 'live');
    assert.equal(await live(undefined, ops.cookie, ops.secret), 'closed 4403');
    assert.equal(await live('http://127.0.0.1:1', ops.cookie, ops.secret), 'HTTP 403');
    assert.equal(await live(own, ops.cookie, other.secret), 'closed 4401');
    assert.equal(await live(own, '', ops.secret), 'closed 4401');

    // A wrong password, in words.
    const wrong = await fetch(`${hub.url}/ui/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-brainmesh-ui': 'sign-in' },
      body: JSON.stringify({ username: 'ops', password: 'not it at all' }),
    });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { message: string }).message, /do not match/);
  });
});
