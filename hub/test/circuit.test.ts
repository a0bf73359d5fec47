import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Circuit } from '../src/mesh/circuit.js';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');

function circuit() {
  let now = T0;
  const c = new Circuit({ failures: 3, halfOpenAfterMs: 10_000, now: () => now });
  return { c, advance: (ms: number) => (now += ms) };
}

const failTimes = (c: Circuit, n: number) => {
  for (let i = 0; i < n; i++) {
    const a = c.admit();
    assert.ok(a.ok);
    c.failed(a.probe);
  }
};

describe('circuit', () => {
  it('opens after the failures in a row, and a success between them starts the count again', () => {
    const { c } = circuit();
    failTimes(c, 2);
    c.succeeded();
    failTimes(c, 2);
    assert.deepEqual(c.view(), { state: 'closed' });
    failTimes(c, 1);
    assert.deepEqual(c.view(), {
      state: 'open',
      since: '2026-12-02T10:00:00.000Z',
      retryAt: '2026-12-02T10:00:10.000Z',
    });
    const refused = c.admit();
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.retryAt?.toISOString(), '2026-12-02T10:00:10.000Z');
  });

  it('half-opens on schedule: one probe goes through, the others are refused while it runs', () => {
    const { c, advance } = circuit();
    failTimes(c, 3);
    advance(9_999);
    assert.equal(c.admit().ok, false);
    advance(1);
    assert.deepEqual(c.view(), { state: 'half-open', since: '2026-12-02T10:00:00.000Z' });
    assert.deepEqual(c.admit(), { ok: true, probe: true });
    const other = c.admit();
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.retryAt, undefined, 'no time to give while the probe runs');
    c.succeeded();
    assert.deepEqual(c.view(), { state: 'closed' });
    assert.deepEqual(c.admit(), { ok: true, probe: false });
  });

  it('a failed probe opens it again from now; a probe that tells nothing passes its turn on', () => {
    const { c, advance } = circuit();
    failTimes(c, 3);
    advance(10_000);
    const probe = c.admit();
    assert.deepEqual(probe, { ok: true, probe: true });
    c.failed(true);
    assert.deepEqual(c.view(), {
      state: 'open',
      since: '2026-12-02T10:00:10.000Z',
      retryAt: '2026-12-02T10:00:20.000Z',
    });
    advance(10_000);
    assert.deepEqual(c.admit(), { ok: true, probe: true });
    c.released(true);
    assert.deepEqual(c.admit(), { ok: true, probe: true }, 'the next call is the probe');
  });

  it('a late failure of a call admitted before the break does not move the opening time', () => {
    const { c, advance } = circuit();
    const early = c.admit();
    failTimes(c, 3);
    advance(5_000);
    c.failed(early.ok && early.probe);
    assert.equal(c.view().state, 'open');
    assert.equal((c.view() as { since: string }).since, '2026-12-02T10:00:00.000Z');
  });

  it('reset closes it at once', () => {
    const { c } = circuit();
    failTimes(c, 3);
    c.reset();
    assert.deepEqual(c.view(), { state: 'closed' });
    failTimes(c, 2);
    assert.deepEqual(c.view(), { state: 'closed' }, 'the count starts again after a reset');
  });
});
