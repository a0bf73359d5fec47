import { AUDIT_COLUMNS, type AuditRow, auditHash, type Db, eventFromRow, verifyAuditBatch } from '@brainmesh/shared';
import type { JSONWebKeySet } from 'jose';

/**
 * Walks the central chain of every node and names the first row that was changed, removed or
 * inserted since the node shipped it. Two checks: each row's hash against its content and the
 * row before (catches an edit, a removal, an insertion), and the hashes the node signed at the
 * end of each batch (catches an edit whose author recomputed every hash after it, which anyone
 * with the table could do; the node's signature no one else can make).
 */

export type TamperKind = 'altered' | 'removed' | 'inserted';

export interface NodeVerdict {
  node: string;
  rows: number;
  firstSeq: number | null;
  lastSeq: number | null;
  batches: number;
  ok: boolean;
  problem?: { seq: number; kind: TamperKind; detail: string };
}

const PAGE = 2000;

export async function verifyAudit(
  db: Db,
  options: { hubId: string; keysOf(node: string): Promise<JSONWebKeySet>; node?: string },
): Promise<NodeVerdict[]> {
  const { rows: chains } = await db.query<{
    node_id: string;
    first_seq: string | number;
    first_prev_hash: string;
    last_seq: string | number;
  }>(
    `SELECT node_id, first_seq, first_prev_hash, last_seq FROM audit_chains
     ${options.node === undefined ? '' : 'WHERE node_id = $1'} ORDER BY node_id`,
    options.node === undefined ? [] : [options.node],
  );
  const verdicts: NodeVerdict[] = [];
  for (const chain of chains) {
    verdicts.push(
      await verifyNode(db, {
        node: chain.node_id,
        firstSeq: Number(chain.first_seq),
        firstPrev: chain.first_prev_hash,
        lastSeq: Number(chain.last_seq),
        hubId: options.hubId,
        keys: await options.keysOf(chain.node_id),
      }),
    );
  }
  // Rows of a node the hub never took a batch from can only have been put there by hand.
  const { rows: strays } = await db.query<{ node_id: string; seq: string | number; n: string | number }>(
    `SELECT e.node_id, min(e.seq) AS seq, count(*) AS n FROM audit_events e
     WHERE NOT EXISTS (SELECT 1 FROM audit_chains c WHERE c.node_id = e.node_id)
     ${options.node === undefined ? '' : 'AND e.node_id = $1'}
     GROUP BY e.node_id ORDER BY e.node_id`,
    options.node === undefined ? [] : [options.node],
  );
  for (const stray of strays) {
    verdicts.push({
      node: stray.node_id,
      rows: Number(stray.n),
      firstSeq: Number(stray.seq),
      lastSeq: null,
      batches: 0,
      ok: false,
      problem: { seq: Number(stray.seq), kind: 'inserted', detail: 'no batch from this node was ever taken' },
    });
  }
  return verdicts;
}

async function verifyNode(
  db: Db,
  c: { node: string; firstSeq: number; firstPrev: string; lastSeq: number; hubId: string; keys: JSONWebKeySet },
): Promise<NodeVerdict> {
  const verdict: NodeVerdict = {
    node: c.node,
    rows: 0,
    firstSeq: null,
    lastSeq: null,
    batches: 0,
    ok: true,
  };
  const fail = (seq: number, kind: TamperKind, detail: string): NodeVerdict => ({
    ...verdict,
    ok: false,
    problem: { seq, kind, detail },
  });

  // What the node signed: the hash its row at each batch's end must have.
  const signed = new Map<number, { hash: string; first: number }>();
  const { rows: batches } = await db.query<{ last_seq: string | number; signature: string }>(
    'SELECT last_seq, signature FROM audit_batches WHERE node_id = $1 ORDER BY last_seq',
    [c.node],
  );
  for (const batch of batches) {
    const lastSeq = Number(batch.last_seq);
    try {
      const claims = await verifyAuditBatch(batch.signature, { nodeId: c.node, hubId: c.hubId, keys: c.keys });
      if (claims.last !== lastSeq) throw new Error('range');
      signed.set(lastSeq, { hash: claims.head, first: claims.first });
    } catch {
      return fail(lastSeq, 'altered', `the signature of the batch ending at seq ${lastSeq} does not verify`);
    }
  }
  verdict.batches = batches.length;

  let expected = c.firstSeq;
  let prev = c.firstPrev;
  for (;;) {
    const { rows } = await db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE node_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
      [c.node, expected, PAGE],
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq > c.lastSeq) {
        return fail(seq, 'inserted', `seq ${seq} is past the last row the node shipped (seq ${c.lastSeq})`);
      }
      if (seq > expected) {
        return fail(
          expected,
          'removed',
          seq - expected === 1 ? `seq ${expected} is missing` : `seqs ${expected}-${seq - 1} are missing`,
        );
      }
      const event = eventFromRow(r, c.node);
      if (auditHash(r.prev_hash, event) !== r.hash) {
        return fail(seq, 'altered', `seq ${seq}: its content does not match its hash`);
      }
      if (r.prev_hash !== prev) {
        return fail(seq, 'altered', `seq ${seq} does not follow seq ${seq - 1}`);
      }
      const checkpoint = signed.get(seq);
      if (checkpoint !== undefined && checkpoint.hash !== r.hash) {
        return fail(
          checkpoint.first,
          'altered',
          `seqs ${checkpoint.first}-${seq} differ from what the node signed; their hashes were recomputed`,
        );
      }
      prev = r.hash;
      expected = seq + 1;
      verdict.rows += 1;
      verdict.firstSeq ??= seq;
      verdict.lastSeq = seq;
    }
    if (rows.length < PAGE) break;
  }
  if (expected <= c.lastSeq) {
    return fail(
      expected,
      'removed',
      expected === c.lastSeq ? `seq ${expected} is missing` : `seqs ${expected}-${c.lastSeq} are missing`,
    );
  }
  return verdict;
}
