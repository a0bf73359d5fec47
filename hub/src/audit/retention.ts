import type { Db, Logger } from '@brainmesh/shared';
import cron, { type ScheduledTask } from 'node-cron';
import { lockAuditWrites } from './ingest.js';

/**
 * The retention job: removes central audit rows older than the retention period, oldest first
 * and a node's chain from its start, so what stays is still one unbroken chain: the chain's
 * recorded start moves up to the first row kept (and the hash it follows), and `audit verify`
 * checks from there. The hub's own call records older than the period go too.
 */

const CHUNK = 10_000;

export async function pruneAudit(db: Db, cutoff: Date): Promise<{ events: number; calls: number }> {
  let events = 0;
  const { rows: chains } = await db.query<{ node_id: string }>('SELECT node_id FROM audit_chains ORDER BY node_id');
  for (const { node_id: node } of chains) {
    for (;;) {
      const removed = await db.transaction(async (tx) => {
        // Not while a batch lands: the chain's start and end move under one lock.
        await lockAuditWrites(tx);
        const { rows } = await tx.query<{ first_seq: string; last_seq: string; keep_from: string | null }>(
          `SELECT c.first_seq, c.last_seq,
             (SELECT min(seq) FROM audit_events e WHERE e.node_id = c.node_id AND e.at >= $2) AS keep_from
           FROM audit_chains c WHERE c.node_id = $1`,
          [node, cutoff.toISOString()],
        );
        const chain = rows[0];
        if (chain === undefined) return 0;
        const first = Number(chain.first_seq);
        // Everything before the oldest row still inside the period, and nothing after it.
        const cut = Math.min(
          chain.keep_from === null ? Number(chain.last_seq) : Number(chain.keep_from) - 1,
          first + CHUNK - 1,
        );
        if (cut < first) return 0;
        const { rows: at } = await tx.query<{ hash: string }>(
          'SELECT hash FROM audit_events WHERE node_id = $1 AND seq = $2',
          [node, cut],
        );
        if (at[0] === undefined) return 0;
        const gone = await tx.query('DELETE FROM audit_events WHERE node_id = $1 AND seq BETWEEN $2 AND $3', [
          node,
          first,
          cut,
        ]);
        await tx.query('DELETE FROM audit_batches WHERE node_id = $1 AND last_seq <= $2', [node, cut]);
        await tx.query('UPDATE audit_chains SET first_seq = $2, first_prev_hash = $3 WHERE node_id = $1', [
          node,
          cut + 1,
          at[0].hash,
        ]);
        return gone.rowCount ?? 0;
      });
      events += removed;
      if (removed < CHUNK) break;
    }
  }
  const calls = await db.query('DELETE FROM hub_calls WHERE at < $1', [cutoff.toISOString()]);
  return { events, calls: calls.rowCount ?? 0 };
}

/** Runs `pruneAudit` on the configured schedule; stop() ends it. */
export function scheduleRetention(
  db: Db,
  logger: Logger,
  settings: { retentionDays: number; retentionSchedule: string },
): { stop(): Promise<void> } {
  if (settings.retentionDays === 0) return { stop: async () => {} };
  const task: ScheduledTask = cron.schedule(
    settings.retentionSchedule,
    async () => {
      const cutoff = new Date(Date.now() - settings.retentionDays * 86_400_000);
      try {
        const removed = await pruneAudit(db, cutoff);
        logger.info({ ...removed, cutoff: cutoff.toISOString() }, 'audit retention ran');
      } catch (err) {
        logger.error({ err }, 'audit retention failed; it runs again at the next schedule');
      }
    },
    { name: 'audit-retention', noOverlap: true },
  );
  return { stop: async () => void (await task.destroy()) };
}
