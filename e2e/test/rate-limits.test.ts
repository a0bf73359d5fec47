import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realServers } from '@brainmesh/shared/testing';
import { admin, connectClient, nodeUp, realStorage, startHub, startNode, text } from '../support/mesh.js';

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
      const hub = await startHub(t, {
        limits: { windowSeconds: HOUR, requests: 12 },
        ...(real === undefined ? {} : { real }),
      });
      await startNode(t, hub, { name: 'alpha' });
      await nodeUp(hub, 'alpha');
      const { client } = await connectClient(t, hub);
      const answers: string[] = [];
      for (let i = 0; i < 12; i++) {
        const result = await client.callTool({ name: 'alpha__echo', arguments: { text: `call ${i}` } });
        answers.push(result.isError === true ? `refused: ${text(result)}` : text(result));
      }
      // Connecting took a few of the 12 (initialize, initialized, the event stream); every call
      // within the rest was answered, every one after refused.
      const served = answers.filter((a) => !a.startsWith('refused'));
      assert.ok(served.length >= 6 && served.length < 12, answers.join('\n'));
      assert.deepEqual(
        served,
        served.map((_, i) => `call ${i}`),
      );
      for (const refused of answers.slice(served.length)) {
        assert.match(
          refused,
          /^refused: rate limited: more than 12 requests per 3600 s for this principal; try again in \d+ s$/,
        );
      }
      for (const name of ['alpha__no_such_tool', 'nowhere__echo']) {
        const result = await client.callTool({ name, arguments: {} });
        assert.equal(result.isError, true);
        assert.match(text(result), /^rate limited: more than 12 requests/);
      }
      // Requests that are not tool calls still hear 429.
      assert.equal((await admin(hub, 'GET', '/admin/nodes')).status, 429);
    });
  }
});
