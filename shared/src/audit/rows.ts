import type { Queryable } from '../db/db.js';
import type { AuditEvent, AuditSource, AuditStatus } from './event.js';

/**
 * An audit event as a table row: the node's `tool_executions` and the hub's `audit_events` hold
 * the same columns (the hub's with `node_id` first), written and read the same way here.
 */

export interface AuditRow {
  seq: string | number;
  at: Date | string;
  tool: string;
  params: unknown;
  response: unknown;
  error: string | null;
  duration_ms: number;
  status: AuditStatus;
  source: AuditSource;
  principal: string;
  trace_id: string;
  prev_hash: string;
  hash: string;
}

/** The columns in the order `insertAuditRows` writes them. */
export const AUDIT_COLUMNS =
  'seq, at, tool, params, response, error, duration_ms, status, source, principal, trace_id, prev_hash, hash';

/** bigint comes back as text from `pg`; dates as Date or text. */
export function eventFromRow(row: AuditRow, nodeId: string): AuditEvent {
  return {
    nodeId,
    seq: Number(row.seq),
    at: new Date(row.at).toISOString(),
    tool: row.tool,
    params: row.params,
    response: row.response,
    error: row.error,
    durationMs: row.duration_ms,
    status: row.status,
    source: row.source,
    principal: row.principal,
    traceId: row.trace_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Writes events in one statement. `withNode` puts `node_id` first (the hub's table); `suffix`
 * ends the statement (`ON CONFLICT …`).
 */
export async function insertAuditRows(
  db: Queryable,
  table: string,
  events: readonly AuditEvent[],
  options: { withNode?: boolean; suffix?: string } = {},
): Promise<void> {
  const values: unknown[] = [];
  const tuples = events.map((e) => {
    const row = [
      ...(options.withNode === true ? [e.nodeId] : []),
      e.seq,
      e.at,
      e.tool,
      JSON.stringify(e.params ?? null),
      JSON.stringify(e.response ?? null),
      e.error,
      e.durationMs,
      e.status,
      e.source,
      e.principal,
      e.traceId,
      e.prevHash,
      e.hash,
    ];
    const offset = options.withNode === true ? 1 : 0;
    const jsonb = new Set([3 + offset, 4 + offset]); // params and response
    const placeholders = row.map((value, i) => {
      values.push(value);
      return jsonb.has(i) ? `$${values.length}::jsonb` : `$${values.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  const columns = `${options.withNode === true ? 'node_id, ' : ''}${AUDIT_COLUMNS}`;
  await db.query(`INSERT INTO ${table} (${columns}) VALUES ${tuples.join(', ')} ${options.suffix ?? ''}`, values);
}
