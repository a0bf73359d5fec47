import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../src/cli/restarts.js';

describe('restarts of a crashed process (brainmesh up)', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('waits 1 s, then twice as long after each fast crash, and gives up at the fifth, saying why', () => {
    const time = clock();
    const policy = new RestartPolicy(undefined, time.now);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = time.now();
      time.advance(5_000);
      const next = policy.crashed(started);
      assert.equal(next.restart, true);
      if (next.restart) delays.push(next.delayMs);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000]);
    assert.deepEqual(policy.crashed(time.now() - 1_000), {
      restart: false,
      why: 'it crashed 5 times in a row, each within 60 s of starting',
    });
  });

  it('starts over from 1 s after a process that ran a while', () => {
    const time = clock();
    const policy = new RestartPolicy(undefined, time.now);
    for (let i = 0; i < 4; i++) policy.crashed(time.now());
    const started = time.now();
    time.advance(60_000);
    assert.deepEqual(policy.crashed(started), { restart: true, delayMs: 1_000 });
  });

  it('never waits longer than its cap', () => {
    const time = clock();
    const policy = new RestartPolicy(
      { firstDelayMs: 1_000, maxDelayMs: 3_000, stableMs: 60_000, maxFastCrashes: 10 },
      time.now,
    );
    const delays = Array.from({ length: 4 }, () => {
      const next = policy.crashed(time.now());
      return next.restart ? next.delayMs : -1;
    });
    assert.deepEqual(delays, [1_000, 2_000, 3_000, 3_000]);
  });
});
