import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realServers } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  admin,
  connectClient,
  limitWindowSeconds,
  nodeUp,
  realStorage,
  startHub,
  startNode,
  text,
} from '../support/mesh.js';

describe('rate limits', { timeout: 120_000 }, () => {
  it('limit tool calls per principal and class, with a clear tool error', async (t) => {
    // A window the test cannot run across (its counts would start again half-way).
    const window = limitWindowSeconds();
    const hub = await startHub(t, {
      limits: { windowSeconds: window, toolCalls: { read: 1000, write: 2, destructive: 1 } },
    });
    await startNode(t, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    const { client } = await connectClient(t, hub);
    const remember = (i: number) =>
      client.callTool({ name: 'alpha__remember', arguments: { key: `k${i}`, text: 'v' } });
    assert.equal(text(await remember(1)), 'remembered k1');
    assert.equal(text(await remember(2)), 'remembered k2');
    const third = await remember(3);
    assert.equal(third.isError, true);
    assert.match(
      text(third),
      new RegExp(`^rate limited: at most 2 write tool calls per ${window} s for this principal; try again in \\d+ s$`),
    );
    // Another class has its own allowance.
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'read' } })), 'read');
  });

  it('slow down sign-in attempts from one address, each of which costs a memory-hard hash', async (t) => {
    const hub = await startHub(t);
    // 45 attempts: even if a minute boundary falls among them, one window sees more than 20.
    const answers = [];
    for (let i = 0; i < 45; i++) {
      answers.push(
        await fetch(`${hub.url}/oauth/authorize`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'client_id=nobody&username=ana&password=guess',
        }),
      );
    }
    const refused = answers.filter((r) => r.status === 429);
    assert.ok(refused.length >= 3, `${refused.length} attempts refused`);
    assert.ok(answers.every((r) => r.status === 429 || r.status === 400));
    assert.ok(Number(refused[0]!.headers.get('retry-after')) > 0);
    assert.match(await refused[0]!.text(), /Too many sign-in attempts from this address\. Try again in \d+ seconds\./);
  });

  it('answer HTTP requests over the limit with 429 and Retry-After', async (t) => {
    const window = limitWindowSeconds();
    const hub = await startHub(t, { limits: { windowSeconds: window, requests: 3 } });
    for (let i = 0; i < 3; i++) assert.equal((await admin(hub, 'GET', '/admin/nodes')).status, 200);
    const over = await admin(hub, 'GET', '/admin/nodes');
    assert.equal(over.status, 429);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= window, `Retry-After: ${retryAfter}`);
    const body = (await over.json()) as { code: string; message: string };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.match(
      body.message,
      new RegExp(`^more than 3 requests per ${window} s for this principal; retry in \\d+ s$`),
    );
  });

  // A tool call's request is judged on the request rate with the call's own counter (one round
  // trip to the store), so what the client hears when it is over that rate is a tool error
  // rather than an HTTP 429: told first, whatever else the call would have been refused for.
  const { databaseUrl, redisUrl } = realServers();
  const storages = [
    { name: 'embedded storage', real: false },
    ...(databaseUrl !== undefined && redisUrl !== undefined ? [{ name: 'real Postgres and Redis', real: true }] : []),
  ];
  for (const storage of storages) {
    it(`refuse a tool call over the request rate, and any call after it (${storage.name})`, async (t) => {
      const real = storage.real ? await realStorage(t, { databaseUrl: databaseUrl!, redisUrl: redisUrl! }) : undefined;
      // Room for the admin key's polls while the node comes up (each principal has its own count).
      const LIMIT = 200;
      const window = limitWindowSeconds();
      const hub = await startHub(t, {
        limits: { windowSeconds: window, requests: LIMIT },
        ...(real === undefined ? {} : { real }),
      });
      // A key of its own, whose every request this test counts.
      const created = await admin(hub, 'POST', '/admin/keys', { name: 'caller', scopes: ['node:alpha'] });
      assert.equal(created.status, 201, await created.clone().text());
      const { key } = (await created.json()) as { key: string };
      let requests = 0;
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
          fetch: (input, init) => {
            requests += 1;
            return fetch(input, init);
          },
        }),
      );
      t.after(() => client.close());
      await startNode(t, hub, { name: 'alpha' });
      await nodeUp(hub, 'alpha');
      const before = requests;
      const answers: string[] = [];
      for (let i = 0; i < LIMIT - before + 3; i++) {
        const result = await client.callTool({ name: 'alpha__echo', arguments: { text: `call ${i}` } });
        answers.push(result.isError === true ? `refused: ${text(result)}` : text(result));
      }
      // Exactly the calls within the limit were served, every one after refused.
      const served = answers.slice(0, LIMIT - before);
      assert.deepEqual(
        served,
        served.map((_, i) => `call ${i}`),
      );
      assert.equal(answers.length - served.length, 3);
      for (const refused of answers.slice(served.length)) {
        assert.match(
          refused,
          new RegExp(
            `^refused: rate limited: more than 200 requests per ${window} s for this principal; try again in \\d+ s$`,
          ),
        );
      }
      for (const name of ['alpha__no_such_tool', 'nowhere__echo']) {
        const result = await client.callTool({ name, arguments: {} });
        assert.equal(result.isError, true);
        assert.match(text(result), /^rate limited: more than 200 requests/);
      }
      // Requests that are not tool calls still hear 429.
      await assert.rejects(client.listTools(), /"code":"RATE_LIMITED"/);
    });
  }
});
