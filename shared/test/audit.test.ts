import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuditEvent,
  auditedResponse,
  auditedValue,
  auditHash,
  canonicalJson,
  checkChain,
  GENESIS_HASH,
  KeyRing,
  signAuditBatch,
  verifyAuditBatch,
} from '../src/index.js';

const fields = (seq: number) => ({
  nodeId: 'alpha',
  seq,
  at: '2026-11-25T10:00:00.000Z',
  tool: 'echo',
  params: { text: `call ${seq}`, nested: { b: 1, a: [2, 3] } },
  response: null,
  error: null,
  durationMs: 2,
  status: 'ok' as const,
  source: 'live' as const,
  principal: 'key:test',
  traceId: `t${seq}`,
});

function chain(count: number): AuditEvent[] {
  let prev = GENESIS_HASH;
  return Array.from({ length: count }, (_, i) => {
    const f = fields(i + 1);
    const hash = auditHash(prev, f);
    const event = { ...f, prevHash: prev, hash };
    prev = hash;
    return event;
  });
}

describe('audit events', () => {
  it('hash the same whatever the key order, and differently for any change', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    const f = fields(1);
    const reordered = { ...f, params: { nested: { a: [2, 3], b: 1 }, text: 'call 1' } };
    assert.equal(auditHash(GENESIS_HASH, reordered), auditHash(GENESIS_HASH, f));
    assert.notEqual(auditHash(GENESIS_HASH, { ...f, durationMs: 3 }), auditHash(GENESIS_HASH, f));
    assert.notEqual(auditHash('1'.repeat(64), f), auditHash(GENESIS_HASH, f));
  });

  it('checkChain names the first event that is missing, unlinked or changed', () => {
    const events = chain(5);
    const start = { seq: 1, prevHash: GENESIS_HASH };
    assert.equal(checkChain(events, start), undefined);
    assert.deepEqual(checkChain([events[0]!, events[2]!], start)?.seq, 2);
    assert.equal(checkChain([events[0]!, events[2]!], start)?.problem, 'gap');
    const changed = events.map((e) => (e.seq === 3 ? { ...e, params: { text: 'other' } } : e));
    assert.deepEqual([checkChain(changed, start)?.seq, checkChain(changed, start)?.problem], [3, 'hash']);
    const relinked = events.map((e) => (e.seq === 4 ? { ...e, prevHash: GENESIS_HASH } : e));
    assert.deepEqual([checkChain(relinked, start)?.seq, checkChain(relinked, start)?.problem], [4, 'link']);
  });

  it('batch statements verify only with the signer’s keys, for the hub they name', async () => {
    const ring = await KeyRing.ephemeral();
    const claims = { iss: 'alpha', aud: 'hub', first: 1, last: 5, prev: GENESIS_HASH, head: 'f'.repeat(64) };
    const signature = await signAuditBatch(ring, claims);
    const ok = await verifyAuditBatch(signature, { nodeId: 'alpha', hubId: 'hub', keys: ring.jwks() });
    assert.deepEqual([ok.first, ok.last, ok.head], [1, 5, 'f'.repeat(64)]);
    const other = await KeyRing.ephemeral();
    await assert.rejects(verifyAuditBatch(signature, { nodeId: 'alpha', hubId: 'hub', keys: other.jwks() }));
    await assert.rejects(verifyAuditBatch(signature, { nodeId: 'alpha', hubId: 'other-hub', keys: ring.jwks() }));
    await assert.rejects(verifyAuditBatch(signature, { nodeId: 'beta', hubId: 'hub', keys: ring.jwks() }));
  });
});

describe('what reaches an audit row', () => {
  it('redacts secret-shaped fields always, and the fields a tool names', () => {
    const kept = auditedValue(
      { to: 'ann@example.com', password: 'p', headers: { Authorization: 'Bearer abc' }, note: 'Bearer xyz', ssn: '1' },
      { redact: ['SSN'] },
    );
    assert.deepEqual(kept, {
      to: 'ann@example.com',
      password: '[redacted]',
      headers: { Authorization: '[redacted]' },
      note: '[redacted]',
      ssn: '[redacted]',
    });
  });

  it('hashes the fields a tool names: equal values match, the value is not shown', () => {
    const a = auditedValue({ email: 'ann@example.com', list: [{ email: 'bob@example.com' }] }, { hash: ['email'] }) as {
      email: string;
      list: Array<{ email: string }>;
    };
    const b = auditedValue({ email: 'ann@example.com' }, { hash: ['email'] }) as { email: string };
    assert.match(a.email, /^sha256:[0-9a-f]{64}$/);
    assert.equal(a.email, b.email);
    assert.notEqual(a.list[0]!.email, a.email);
    assert.ok(!JSON.stringify(a).includes('example.com'));
  });

  it('hides the same fields in a result’s JSON text as in its structured copy', () => {
    const made = { id: 'k1', key: 'bm_live_secret', token: 't0ken', name: 'reader' };
    const result = {
      content: [
        { type: 'text', text: JSON.stringify(made, null, 2) },
        { type: 'text', text: 'plain words, key bm_live_secret' },
      ],
      structuredContent: made,
    };
    const kept = auditedResponse(result, { redact: ['key'] }) as typeof result;
    assert.deepEqual(JSON.parse(kept.content[0]!.text), {
      id: 'k1',
      key: '[redacted]',
      token: '[redacted]',
      name: 'reader',
    });
    assert.deepEqual(kept.structuredContent, { id: 'k1', key: '[redacted]', token: '[redacted]', name: 'reader' });
    // Prose is not JSON: a tool that writes a secret in words must name no such field, or not write it.
    assert.equal(kept.content[1]!.text, 'plain words, key bm_live_secret');
  });

  it('keeps a large result as its size and digest, and replaces characters Postgres cannot store', () => {
    const big = { content: [{ type: 'text', text: 'x'.repeat(2000) }] };
    const kept = auditedResponse(big, {}, 1024) as { truncated: boolean; bytes: number; digest: string };
    assert.equal(kept.truncated, true);
    assert.ok(kept.bytes > 2000);
    assert.match(kept.digest, /^sha256:/);
    assert.deepEqual(auditedResponse({ ok: 1 }, {}, 1024), { ok: 1 });
    assert.deepEqual(auditedValue({ text: 'a\u0000b' }), { text: 'a\uFFFDb' });
  });
});
