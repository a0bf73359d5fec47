import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuditEvent,
  auditHash,
  createLogger,
  GENESIS_HASH,
  KeyRing,
  migrate,
  signAuditBatch,
} from '@brainmesh/shared';
import { dbBackends, storeBackends } from '@brainmesh/shared/testing';
import { AuditIngest } from '../src/audit/ingest.js';
import { pruneAudit } from '../src/audit/retention.js';
import { verifyAudit } from '../src/audit/verify.js';
import { HUB_MIGRATIONS } from '../src/hub.js';
import type { NodeRecord } from '../src/registry.js';

const [storeBackend] = storeBackends();
const DAY = 86_400_000;
const logger = createLogger({ name: 'test', level: 'silent' });

/** A node's chain of `count` events, the first `old` of them `ageDays` old. */
function chain(count: number, old: number, ageDays: number, from = { seq: 1, prevHash: GENESIS_HASH }): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = from.prevHash;
  for (let i = 0; i < count; i++) {
    const fields = {
      nodeId: 'alpha',
      seq: from.seq + i,
      at: new Date(Date.now() - (i < old ? ageDays * DAY : 0) + i).toISOString(),
      tool: 'echo',
      params: { text: `call ${from.seq + i}` },
      response: null,
      error: null,
      durationMs: 1,
      status: 'ok' as const,
      source: 'live' as const,
      principal: 'key:test',
      traceId: `trace-${from.seq + i}`,
    };
    const hash = auditHash(prev, fields);
    events.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

for (const backend of dbBackends()) {
  describe(`audit retention on ${backend.name}`, () => {
    it('removes rows past the period from the start of each chain, and what stays still verifies', async (t) => {
      const db = await backend.open();
      const store = await storeBackend!.open();
      t.after(async () => {
        await store.dispose();
        await db.dispose();
      });
      await migrate(db.value, HUB_MIGRATIONS);
      const ring = await KeyRing.ephemeral();
      const node = { id: 'alpha', jwks: ring.jwks() } as NodeRecord;
      const ingest = new AuditIngest(db.value, store.value, 'hub', logger);
      const send = async (events: AuditEvent[]) => {
        const first = events[0]!;
        const last = events[events.length - 1]!;
        const signature = await signAuditBatch(ring, {
          iss: 'alpha',
          aud: 'hub',
          first: first.seq,
          last: last.seq,
          prev: first.prevHash,
          head: last.hash,
        });
        return ingest.ingest(node, { events, signature, nodeHead: last.seq });
      };
      const events = chain(10, 6, 100);
      await send(events.slice(0, 4));
      await send(events.slice(4));
      await db.value.query(
        `INSERT INTO hub_calls (at, trace_id, principal, node_id, tool, duration_ms, outcome)
         VALUES (now() - interval '100 days', 'old', 'key:test', 'alpha', 'echo', 1, 'ok'),
                (now(), 'new', 'key:test', 'alpha', 'echo', 1, 'ok')`,
      );

      const removed = await pruneAudit(db.value, new Date(Date.now() - 90 * DAY));
      assert.deepEqual(removed, { events: 6, calls: 1 });
      const { rows } = await db.value.query<{ seq: string }>(
        "SELECT seq FROM audit_events WHERE node_id = 'alpha' ORDER BY seq",
      );
      assert.deepEqual(
        rows.map((r) => Number(r.seq)),
        [7, 8, 9, 10],
      );
      const keysOf = async () => ring.jwks();
      const [verdict] = await verifyAudit(db.value, { hubId: 'hub', keysOf });
      assert.equal(verdict?.ok, true, JSON.stringify(verdict));
      assert.deepEqual([verdict?.firstSeq, verdict?.lastSeq], [7, 10]);

      // Nothing to remove a second time; the chain goes on growing after a prune.
      assert.deepEqual(await pruneAudit(db.value, new Date(Date.now() - 90 * DAY)), { events: 0, calls: 0 });
      await send(chain(3, 0, 0, { seq: 11, prevHash: events[9]!.hash }));
      const [after] = await verifyAudit(db.value, { hubId: 'hub', keysOf });
      assert.deepEqual([after?.ok, after?.firstSeq, after?.lastSeq], [true, 7, 13]);

      // A row removed from the kept start is still found.
      await db.value.query("DELETE FROM audit_events WHERE node_id = 'alpha' AND seq = 7");
      const [broken] = await verifyAudit(db.value, { hubId: 'hub', keysOf });
      assert.deepEqual(broken?.problem, { seq: 7, kind: 'removed', detail: 'seq 7 is missing' });
    });
  });
}
