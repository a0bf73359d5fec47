import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeBackends } from '@brainmesh/shared/testing';
import { RateLimiter, toolClass } from '../src/rate-limit.js';

for (const backend of storeBackends()) {
  describe(`rate limiter on ${backend.name}`, () => {
    it('allows the limit in a window, refuses the rest with the time to wait, and opens the next window', async (t) => {
      const { value: store, dispose } = await backend.open();
      t.after(dispose);
      let now = 1_800_000_000_000 + 10_000; // 10 s into a minute
      const limiter = new RateLimiter(store, () => now);
      const verdicts = await Promise.all(Array.from({ length: 5 }, () => limiter.take('key:a', 3, 60_000)));
      assert.equal(verdicts.filter((v) => v.ok).length, 3);
      assert.deepEqual(
        verdicts.filter((v) => !v.ok),
        [
          { ok: false, retryAfterMs: 50_000 },
          { ok: false, retryAfterMs: 50_000 },
        ],
      );
      assert.equal((await limiter.take('key:b', 3, 60_000)).ok, true, 'buckets are separate');
      now += 50_000;
      assert.deepEqual(await limiter.take('key:a', 3, 60_000), { ok: true, remaining: 2 });
    });
  });
}

describe('tool classes', () => {
  it('follow the annotations, with MCP’s defaults', () => {
    assert.equal(toolClass({ readOnlyHint: true }), 'read');
    assert.equal(toolClass({ readOnlyHint: false, destructiveHint: false }), 'write');
    assert.equal(toolClass({}), 'destructive');
    assert.equal(toolClass(undefined), 'destructive');
  });
});
