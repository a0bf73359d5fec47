import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, connectClient, nodeUp, startHub, startNode, text } from '../support/mesh.js';

// An hour-long window: a test cannot straddle two windows unless it runs across the hour.
const HOUR = 3_600;

describe('rate limits', { timeout: 120_000 }, () => {
  it('limit tool calls per principal and class, with a clear tool error', async (t) => {
    const hub = await startHub(t, {
      limits: { windowSeconds: HOUR, toolCalls: { read: 1000, write: 2, destructive: 1 } },
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
      /^rate limited: at most 2 write tool calls per 3600 s for this principal; try again in \d+ s$/,
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
    const hub = await startHub(t, { limits: { windowSeconds: HOUR, requests: 3 } });
    for (let i = 0; i < 3; i++) assert.equal((await admin(hub, 'GET', '/admin/nodes')).status, 200);
    const over = await admin(hub, 'GET', '/admin/nodes');
    assert.equal(over.status, 429);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= HOUR, `Retry-After: ${retryAfter}`);
    const body = (await over.json()) as { code: string; message: string };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.match(body.message, /^more than 3 requests per 3600 s for this principal; retry in \d+ s$/);
  });
});
