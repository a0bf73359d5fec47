import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ApiClient, Emulator, OutboundLimiter, type ServicePolicy } from '@brainmesh/node/kit';
import { quietLogger, serveFake } from '@brainmesh/node/kit/testing';
import { isBrainmeshError } from '@brainmesh/shared';
import { digitalOceanPolicy } from '../src/digitalocean/policy.js';
import { goDaddyPolicy } from '../src/godaddy/policy.js';
import { goHighLevelPolicy } from '../src/gohighlevel/policy.js';

/**
 * The outbound side every MedTainer connector shares: the limiter's pace, the services' own
 * rate-limit signals, and waits that end. Against a plain service on loopback that answers
 * GET /thing, with the answers a test scripts ahead of it.
 */

async function service(t: TestContext) {
  const emulator = new Emulator({ notFound: () => ({ status: 404 }) }).route('GET', '/thing', () => ({
    status: 200,
    body: { ok: true },
  }));
  const fake = await serveFake(emulator);
  t.after(() => fake.close());
  return fake;
}

function client(
  url: string,
  policy: ServicePolicy,
  limiter: OutboundLimiter | null,
  options: { maxWaitMs?: number; attempts?: number } = {},
) {
  return new ApiClient({ policy, baseUrl: url, auth: () => ({}), limiter, logger: quietLogger, ...options });
}

const get = (c: ApiClient, signal?: AbortSignal) =>
  c.request({ method: 'GET', path: '/thing', idempotent: true, ...(signal === undefined ? {} : { signal }) });

const gaps = (times: number[]) => times.slice(1).map((at, i) => at - (times[i] as number));

describe('MedTainer outbound requests', () => {
  it("waits out a 429's own retry time before asking again (GoDaddy's retryAfterSec)", async (t) => {
    const fake = await service(t);
    fake.script({
      path: '/thing',
      times: 1,
      answer: { status: 429, body: { code: 'TOO_MANY_REQUESTS', message: 'Too many requests', retryAfterSec: 1 } },
    });
    const c = client(fake.url, goDaddyPolicy, new OutboundLimiter({ points: 60, durationMs: 60_000 }));
    assert.deepEqual((await get(c)).body, { ok: true });
    const [gap] = gaps(fake.requests.map((r) => r.at));
    assert.equal(fake.requests.length, 2);
    assert.ok((gap ?? 0) >= 990, `asked again after ${gap} ms`);
  });

  it('retries a read whose connection was lost, and says a lost call that is not idempotent was sent once', async (t) => {
    let received = 0;
    const server = createServer((req, res) => {
      received++;
      // The first request of each pair loses its connection before any answer.
      if (received % 2 === 1) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = client(url, goHighLevelPolicy, null);
    assert.deepEqual((await get(c)).body, { ok: true });
    assert.equal(received, 2);
    await assert.rejects(
      c.request({ method: 'POST', path: '/thing', body: { text: 'hello' }, idempotent: false }),
      (err) =>
        isBrainmeshError(err, 'UPSTREAM_UNAVAILABLE') &&
        /could not be reached/.test(err.message) &&
        /sent once and not retried/.test(err.message),
    );
    assert.equal(received, 3);
  });

  it('retries a read after a server fault, but never a call that is not idempotent', async (t) => {
    const fake = await service(t);
    const fault = { status: 502, body: { id: 'bad_gateway', message: 'upstream hiccup' } };
    fake.script({ path: '/thing', times: 2, answer: fault });
    const c = client(fake.url, digitalOceanPolicy, new OutboundLimiter({ points: 250, durationMs: 60_000 }));
    assert.deepEqual((await get(c)).body, { ok: true });
    assert.equal(fake.requests.length, 3, 'two faults, then the answer');

    fake.script({ path: '/thing', times: 1, answer: fault });
    await assert.rejects(
      c.request({ method: 'GET', path: '/thing', idempotent: false }),
      (err) =>
        isBrainmeshError(err, 'UPSTREAM_UNAVAILABLE') &&
        /502: bad_gateway: upstream hiccup/.test(err.message) &&
        /sent once and not retried/.test(err.message),
    );
    assert.equal(fake.requests.length, 4);
  });

  it('holds every request once the service says the budget is spent, before any 429 (GoHighLevel)', async (t) => {
    const fake = await service(t);
    fake.script({
      path: '/thing',
      times: 1,
      answer: {
        status: 200,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-interval-milliseconds': '600' },
        body: { ok: true },
      },
    });
    const c = client(fake.url, goHighLevelPolicy, new OutboundLimiter({ points: 100, durationMs: 10_000 }));
    await get(c);
    await Promise.all([get(c), get(c)]);
    const [held, next] = gaps(fake.requests.map((r) => r.at));
    assert.ok((held ?? 0) >= 590, `held ${held} ms`);
    assert.ok((next ?? 0) < 590, 'the hold ends for the queue as a whole');
  });

  it("holds until DigitalOcean's reset once its hourly budget is spent", async (t) => {
    const fake = await service(t);
    const reset = Math.ceil(Date.now() / 1000) + 1;
    fake.script({
      path: '/thing',
      times: 1,
      answer: {
        status: 200,
        headers: { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) },
        body: { ok: true },
      },
    });
    const c = client(fake.url, digitalOceanPolicy, new OutboundLimiter({ points: 250, durationMs: 60_000 }));
    await get(c);
    await get(c);
    assert.ok((fake.requests[1]?.at ?? 0) >= reset * 1000 - 10, 'not before the reset');
  });

  it('fails at once, saying when to retry, when the wait would be longer than a call should wait', async (t) => {
    const fake = await service(t);
    fake.script({
      path: '/thing',
      times: 1,
      answer: { status: 429, body: { code: 'TOO_MANY_REQUESTS', retryAfterSec: 120 } },
    });
    const c = client(fake.url, goDaddyPolicy, new OutboundLimiter({ points: 60, durationMs: 60_000 }));
    const limited = (err: unknown) =>
      isBrainmeshError(err, 'RATE_LIMITED') &&
      /try again in 1(19|20) s/.test(err.message) &&
      Number(err.details?.retryAfterSeconds) >= 119;
    await assert.rejects(get(c), limited);
    assert.equal(fake.requests.length, 1, 'a 429 asking for two minutes is not retried');
    await assert.rejects(get(c), limited);
    assert.equal(fake.requests.length, 1, 'and nothing is sent while the service holds us off');
  });

  it('keeps to the limit it is given, in order, and never sends faster', async (t) => {
    const fake = await service(t);
    const c = client(fake.url, goHighLevelPolicy, new OutboundLimiter({ points: 4, durationMs: 400 }));
    // Measured from before the first request: the first window cannot open earlier than this,
    // whereas the first arrival may come late on a busy machine.
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        c.request({ method: 'GET', path: '/thing', query: { n }, idempotent: true }),
      ),
    );
    assert.equal(fake.requests.length, 10);
    // 4 per window, first come first served: the nth request waits floor(n / 4) windows.
    for (const r of fake.requests) {
      const n = Number(r.query.get('n'));
      const window = Math.floor(n / 4);
      assert.ok(r.at - start >= window * 400 - 10, `request ${n} after ${r.at - start} ms, before window ${window}`);
    }
  });

  it('hands back the slot of a wait that was given up, so the next call does not pay for it', async (t) => {
    const fake = await service(t);
    const c = client(fake.url, goHighLevelPolicy, new OutboundLimiter({ points: 1, durationMs: 2_000 }));
    await get(c);
    const cancelled = new AbortController();
    const given = get(c, cancelled.signal);
    cancelled.abort(new Error('the client cancelled'));
    await assert.rejects(given, /the client cancelled/);
    await get(c);
    const [first, second] = fake.requests.map((r) => r.at);
    // The next window, not the one after it, which the cancelled call would have used.
    assert.ok((second ?? 0) - (first ?? 0) < 3_500, `the next call waited ${(second ?? 0) - (first ?? 0)} ms`);
    assert.equal(fake.requests.length, 2);
  });

  it('gives up a wait in the queue after the longest wait, and at once when the call is cancelled', async (t) => {
    const fake = await service(t);
    const limiter = new OutboundLimiter({ points: 1, durationMs: 1_000 });
    const c = client(fake.url, goHighLevelPolicy, limiter, { maxWaitMs: 200 });
    await get(c);
    await assert.rejects(get(c), (err) => isBrainmeshError(err, 'RATE_LIMITED'));
    const cancelled = new AbortController();
    const waiting = get(c, cancelled.signal);
    cancelled.abort(new Error('the client cancelled'));
    await assert.rejects(waiting, /the client cancelled/);
    assert.equal(fake.requests.length, 1, 'neither waiting call was sent');
  });
});
