import {
  type AuditBatch,
  type AuditEvent,
  BrainmeshError,
  type ChainPoint,
  checkChain,
  type Db,
  insertAuditRows,
  isBrainmeshError,
  type Logger,
  type Queryable,
  type Store,
  verifyAuditBatch,
} from '@brainmesh/shared';
import type { JSONWebKeySet } from 'jose';
import type { NodeRecord } from '../registry.js';

/**
 * Audit batches landing in the central table. A batch is taken only whole and only when it
 * holds: the node's signature over its range and last hash, each event chained to the one
 * before, and the first one following what the hub already has of that node. A batch the hub
 * has (partly) seen lands once: rows it already holds must be the same rows, and are skipped.
 */

export const AUDIT_CHANNEL = 'audit';
/**
 * Holds, to the transaction's end, the lock under which central audit rows are written: one
 * batch (or one retention step) at a time, whichever node it is for.
 */
export async function lockAuditWrites(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('brainmesh.audit_ingest'))");
}

/** Where the hub's chain of a node ends, so a node enrolled afresh under that name goes on from there. */
export async function chainEnd(db: Queryable, nodeId: string): Promise<ChainPoint | undefined> {
  const { rows } = await db.query<{ last_seq: string | number; last_hash: string }>(
    'SELECT last_seq, last_hash FROM audit_chains WHERE node_id = $1',
    [nodeId],
  );
  return rows[0] === undefined ? undefined : { seq: Number(rows[0].last_seq), hash: rows[0].last_hash };
}

interface ChainRow {
  last_seq: string | number;
  last_hash: string;
}

export class AuditIngest {
  /** Told of each batch that added rows: its node, how many, and how late its newest landed (the metrics). */
  onIngested: ((node: string, rows: number, lagMs: number) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly store: Store,
    private readonly hubId: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async ingest(node: NodeRecord, batch: AuditBatch): Promise<{ next: number; inserted: number }> {
    const events = batch.events as AuditEvent[];
    const first = events[0]!;
    const last = events[events.length - 1]!;
    let claims: Awaited<ReturnType<typeof verifyAuditBatch>>;
    try {
      claims = await verifyAuditBatch(batch.signature, {
        nodeId: node.id,
        hubId: this.hubId,
        keys: node.jwks as JSONWebKeySet,
        // Dated ahead of our clock is refused here, once; stored batches never expire.
        receivedAt: this.now(),
      });
    } catch (cause) {
      if (isBrainmeshError(cause, 'AUDIT_BATCH_REFUSED')) throw refused(node.id, cause.message, { cause });
      throw refused(node.id, `its signature does not verify with the node's keys`, { cause });
    }
    if (
      claims.first !== first.seq ||
      claims.last !== last.seq ||
      claims.prev !== first.prevHash ||
      claims.head !== last.hash
    ) {
      throw refused(node.id, 'the signed range does not match the events sent');
    }
    const foreign = events.find((e) => e.nodeId !== node.id);
    if (foreign !== undefined) throw refused(node.id, `event ${foreign.seq} names node ${foreign.nodeId}`);
    const broken = checkChain(events, { seq: first.seq, prevHash: first.prevHash });
    if (broken !== undefined) throw refused(node.id, `the chain breaks at seq ${broken.seq}: ${broken.detail}`);

    const result = await this.db.transaction(async (tx) => {
      // Batches land one at a time, whichever node they come from, so row ids commit in order
      // and a tail that has read up to id N never misses a row below N committed later.
      await lockAuditWrites(tx);
      await tx.query(
        `INSERT INTO audit_chains (node_id, first_seq, first_prev_hash, last_seq, last_hash)
         VALUES ($1, $2, $3, $4, $3) ON CONFLICT (node_id) DO NOTHING`,
        [node.id, first.seq, first.prevHash, first.seq - 1],
      );
      // One batch of a node at a time, across every hub replica.
      const { rows } = await tx.query<ChainRow>(
        'SELECT last_seq, last_hash FROM audit_chains WHERE node_id = $1 FOR UPDATE',
        [node.id],
      );
      const chain = rows[0]!;
      const have = Number(chain.last_seq);
      if (first.seq > have + 1) {
        throw new BrainmeshError(
          'CONFLICT',
          `audit rows of ${node.id} must follow seq ${have}; send from ${have + 1}`,
          {
            details: { next: have + 1 },
          },
        );
      }
      const fresh = events.filter((e) => e.seq > have);
      // What the hub already holds must be what was sent: the last row it holds is the check,
      // because the chain ties every row before it.
      const seen = events.filter((e) => e.seq <= have);
      if (seen.length > 0) {
        const newestSeen = seen[seen.length - 1]!;
        const stored = await storedHash(tx, node.id, newestSeen.seq, have, chain.last_hash);
        if (stored !== undefined && stored !== newestSeen.hash) {
          throw refused(node.id, `seq ${newestSeen.seq} differs from the row the hub already holds`);
        }
      } else if (fresh.length > 0 && fresh[0]!.prevHash !== chain.last_hash) {
        throw refused(node.id, `seq ${fresh[0]!.seq} does not follow the last row the hub holds (seq ${have})`);
      }
      if (fresh.length === 0) return { next: have + 1, inserted: 0 };
      await insertAuditRows(tx, 'audit_events', fresh, {
        withNode: true,
        suffix: 'ON CONFLICT (node_id, seq) DO NOTHING',
      });
      const newest = fresh[fresh.length - 1]!;
      await tx.query(
        `UPDATE audit_chains SET last_seq = $2::bigint, last_hash = $3, node_head_seq = GREATEST($4::bigint, $2::bigint),
           last_event_at = $5, last_batch_at = now(), last_lag_ms = $6
         WHERE node_id = $1`,
        [node.id, newest.seq, newest.hash, batch.nodeHead, newest.at, Math.max(0, this.now() - Date.parse(newest.at))],
      );
      await tx.query(
        `INSERT INTO audit_batches (node_id, first_seq, last_seq, last_hash, signature)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node_id, last_seq) DO NOTHING`,
        [node.id, first.seq, last.seq, last.hash, batch.signature],
      );
      return { next: newest.seq + 1, inserted: fresh.length, lagMs: Math.max(0, this.now() - Date.parse(newest.at)) };
    });
    if (result.inserted > 0) {
      this.onIngested?.(node.id, result.inserted, 'lagMs' in result ? result.lagMs : 0);
      this.logger.debug({ node: node.id, rows: result.inserted, next: result.next }, 'audit rows landed');
      // The tail wakes on this; the rows themselves are read from the table.
      await this.store.publish(AUDIT_CHANNEL, node.id).catch(() => {});
    }
    return result;
  }
}

function refused(node: string, why: string, options: { cause?: unknown } = {}): BrainmeshError {
  return new BrainmeshError('AUDIT_BATCH_REFUSED', `audit batch from ${node} refused: ${why}`, options);
}

async function storedHash(
  tx: Queryable,
  nodeId: string,
  seq: number,
  lastSeq: number,
  lastHash: string,
): Promise<string | undefined> {
  if (seq === lastSeq) return lastHash;
  const { rows } = await tx.query<{ hash: string }>('SELECT hash FROM audit_events WHERE node_id = $1 AND seq = $2', [
    nodeId,
    seq,
  ]);
  // Gone to retention: nothing left to compare with.
  return rows[0]?.hash;
}
