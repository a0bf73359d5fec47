import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  ApiClient,
  type EmulatedResponse,
  Emulator,
  type Limit,
  limiterKey,
  retryAfterMs,
  type ServicePolicy,
  SharedLimiter,
} from '@brainmesh/node/kit';
import { quietLogger, serveFake, sharedStoreBackends } from '@brainmesh/node/kit/testing';
import { createMemoryStore, type Store } from '@brainmesh/shared';

/**
 * The kit's shared limiter: two clients with one credential, each on its own store connection
 * (two nodes), share one budget and one hold. Against a service on loopback that counts its own
 * fixed window from its first request, as GoHighLevel's headers describe theirs, and answers 429
 * past it.
 */

const LIMIT: Limit = { points: 5, durationMs: 400 };

/** The service's own count: its window, the most it saw in one, and the 429s it sent. */
function windowedService(limit: Limit) {
  const seen = { windows: [] as number[], refused: 0 };
  let windowStart = 0;
  let inWindow = 0;
  const emulator = new Emulator({
    before() {
      const now = Date.now();
      if (now - windowStart >= limit.durationMs) {
        windowStart = now;
        inWindow = 0;
        seen.windows.push(0);
      }
      inWindow++;
      seen.windows[seen.windows.length - 1] = inWindow;
      if (inWindow > limit.points) {
        seen.refused++;
        return { status: 429, body: { message: 'Too Many Requests' } } satisfies EmulatedResponse;
      }
      return undefined;
    },
    headers: () => ({
      'x-ratelimit-remaining': String(Math.max(0, limit.points - inWindow)),
      'x-ratelimit-interval-milliseconds': String(limit.durationMs),
    }),
    notFound: () => ({ status: 404 }),
  }).route('GET', '/thing', () => ({ status: 200, body: { ok: true } }));
  return { emulator, seen };
}

/** Holds as GoHighLevel's policy does: a spent window whole, a 429 for its Retry-After. */
const policy: ServicePolicy = {
  title: 'Service',
  holdFor({ status, headers }, now) {
    const window = Number(headers.get('x-ratelimit-interval-milliseconds') ?? LIMIT.durationMs);
    if (status === 429) return retryAfterMs(headers, now) ?? window;
    if (headers.get('x-ratelimit-remaining') === '0') return window;
    return undefined;
  },
  describeError: () => undefined,
};

async function service(t: TestContext, limit: Limit) {
  const { emulator, seen } = windowedService(limit);
  const fake = await serveFake(emulator);
  t.after(() => fake.close());
  return { fake, seen };
}

const clientOn = (store: Store, url: string, credential: string) =>
  new ApiClient({
    policy,
    baseUrl: url,
    auth: () => ({ authorization: `Bearer ${credential}` }),
    limiter: new SharedLimiter(store, limiterKey('Service', credential), LIMIT),
    logger: quietLogger,
  });

const get = (c: ApiClient, n: number) => c.request({ method: 'GET', path: '/thing', query: { n }, idempotent: true });

describe('limiter keys', () => {
  it('name the service and a hash of the credential, never the credential', () => {
    const key = limiterKey('GoHighLevel', 'pit-secret-token');
    assert.match(key, /^outbound:gohighlevel:[0-9a-f]{32}$/);
    assert.ok(!key.includes('secret'));
    assert.equal(key, limiterKey('GoHighLevel', 'pit-secret-token'), 'the same credential, the same budget');
    assert.notEqual(key, limiterKey('GoHighLevel', 'pit-other-token'), 'another credential, another budget');
    assert.notEqual(key, limiterKey('GoDaddy', 'pit-secret-token'), 'another service, another budget');
  });
});

for (const backend of sharedStoreBackends()) {
  describe(`shared limiter on ${backend.name}`, () => {
    it('keeps two clients with one credential, driven at once, inside the service window together', async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const { fake, seen } = await service(t, LIMIT);
      const [a, b] = stores.map((store) => clientOn(store, fake.url, 'token-1')) as [ApiClient, ApiClient];
      await Promise.all(Array.from({ length: 24 }, (_, n) => get(n % 2 === 0 ? a : b, n)));
      assert.equal(fake.requests.length, 24, 'every call sent once: none refused, none retried');
      assert.equal(seen.refused, 0, 'the service sent no 429');
      assert.ok(
        seen.windows.every((count) => count <= LIMIT.points),
        `requests per window: ${seen.windows.join(', ')}`,
      );
      assert.ok(seen.windows.length >= 5, `24 requests at 5 a window take 5 windows (saw ${seen.windows.length})`);
    });

    it('keeps a window open a whole window after its first request is answered, however late that arrived', async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const { fake, seen } = await service(t, LIMIT);
      const [a, b] = stores.map((store) => clientOn(store, fake.url, 'token-6')) as [ApiClient, ApiClient];
      // A node still starting (its event loop busy) sends a window's worth that reach the
      // service 250 ms after they were counted, far past the window's guard, so the service's
      // window opens that much later than ours; the last one later still, so no answer has
      // said "none left" when our window would end.
      let sent = 0;
      const late = new ApiClient({
        policy,
        baseUrl: fake.url,
        auth: () => ({ authorization: 'Bearer token-6' }),
        limiter: new SharedLimiter(stores[0]!, limiterKey('Service', 'token-6'), LIMIT),
        logger: quietLogger,
        fetch: async (url, init) => {
          sent += 1;
          await new Promise((resolve) => setTimeout(resolve, sent < LIMIT.points ? 250 : 480));
          return globalThis.fetch(url, init);
        },
      });
      const firstWindow = Array.from({ length: LIMIT.points }, (_, n) => get(late, n));
      // The next window's requests, from the other node, as soon as ours would let them go.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const next = Array.from({ length: LIMIT.points }, (_, n) => get(n % 2 === 0 ? a : b, LIMIT.points + n));
      await Promise.all([...firstWindow, ...next]);
      assert.equal(seen.refused, 0, `the service sent no 429 (requests per window: ${seen.windows.join(', ')})`);
      assert.equal(fake.requests.length, 2 * LIMIT.points);
    });

    it("keeps a request that arrives after the service's window ended out of the next window's count", async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const { fake, seen } = await service(t, LIMIT);
      const [a, b] = stores.map((store) => clientOn(store, fake.url, 'token-7')) as [ApiClient, ApiClient];
      // Counted late in a window, it reaches the service only after the service's window has
      // ended (a slow connection), so it falls into the service's next window, which our next
      // window's requests open too.
      const slow = new ApiClient({
        policy,
        baseUrl: fake.url,
        auth: () => ({ authorization: 'Bearer token-7' }),
        limiter: new SharedLimiter(stores[0]!, limiterKey('Service', 'token-7'), LIMIT),
        logger: quietLogger,
        fetch: async (url, init) => {
          await new Promise((resolve) => setTimeout(resolve, LIMIT.durationMs / 2));
          return globalThis.fetch(url, init);
        },
      });
      await Promise.all(Array.from({ length: LIMIT.points - 1 }, (_, n) => get(a, n)));
      await new Promise((resolve) => setTimeout(resolve, (LIMIT.durationMs * 3) / 4));
      const late = get(slow, LIMIT.points);
      const next = Array.from({ length: LIMIT.points }, (_, n) => get(n % 2 === 0 ? a : b, LIMIT.points + 1 + n));
      await Promise.all([late, ...next]);
      assert.equal(seen.refused, 0, `the service sent no 429 (requests per window: ${seen.windows.join(', ')})`);
      assert.equal(fake.requests.length, 2 * LIMIT.points);
    });

    it("holds every client when one of them is told to wait (a 429's Retry-After)", async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const { fake } = await service(t, { points: 100, durationMs: 10_000 });
      fake.script({ path: '/thing', times: 1, answer: { status: 429, headers: { 'retry-after': '1' } } });
      const [a, b] = stores.map((store) => clientOn(store, fake.url, 'token-2')) as [ApiClient, ApiClient];
      // Not idempotent, so A gives up at once, having learned the hold.
      await assert.rejects(a.request({ method: 'POST', path: '/thing', idempotent: false }), /try again in 1 s/);
      await get(b, 1);
      const [refused, sent] = fake.requests;
      assert.equal(fake.requests.length, 2);
      assert.equal(refused?.status, 429);
      // B never saw the 429; it waited for the hold A learned, through the store.
      const gap = (sent?.at ?? 0) - (refused?.at ?? 0);
      assert.ok(gap >= 990, `B asked ${gap} ms after the 429`);
    });

    it('lets a cancelled waiter leave at once, costing the next one nothing', async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const [a, b] = stores.map(
        (store) => new SharedLimiter(store, limiterKey('Service', 'token-5'), { points: 1, durationMs: 1_000 }),
      ) as [SharedLimiter, SharedLimiter];
      const start = Date.now();
      (await a.take(5_000)).answered();
      const cancelled = new AbortController();
      const given = b.take(5_000, cancelled.signal);
      cancelled.abort(new Error('the client cancelled'));
      await assert.rejects(given, /the client cancelled/);
      await b.take(5_000);
      const waited = Date.now() - start;
      // The next window, not the one after it, which the cancelled take would have used.
      assert.ok(waited >= 1_000 && waited < 2_000, `the next take came after ${waited} ms`);
    });

    it('gives each credential its own budget', async (t) => {
      const { stores, dispose } = await backend.open();
      t.after(dispose);
      const [store] = stores;
      const one = new SharedLimiter(store, limiterKey('Service', 'token-3'), { points: 1, durationMs: 5_000 });
      const two = new SharedLimiter(store, limiterKey('Service', 'token-4'), { points: 1, durationMs: 5_000 });
      await one.take(100);
      await two.take(100);
      await assert.rejects(one.take(100), /waited 100 ms/);
    });
  });
}

describe('shared limiter leases', () => {
  it('hold a request with no answer yet past its window, and free it a window after its answer', async (t) => {
    const store = createMemoryStore();
    t.after(() => store.close());
    const limit = { points: 1, durationMs: 200 };
    const [a, b] = [0, 1].map(
      () => new SharedLimiter(store, limiterKey('Service', 'token-9'), limit, { answerWithinMs: 5_000 }),
    ) as [SharedLimiter, SharedLimiter];
    const first = await a.take(100);
    // Its answer is not back: the service may not have counted it yet, so the window waits.
    await assert.rejects(b.take(600), /waited 600 ms/);
    first.answered();
    const start = Date.now();
    await b.take(2_000);
    const waited = Date.now() - start;
    assert.ok(waited >= 150 && waited < 1_000, `let go ${waited} ms after the answer, a window (and its guard) later`);
  });
});
