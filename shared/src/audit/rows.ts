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

/** Each column and its type, in the order `insertAuditRows` writes them. */
const TYPED_COLUMNS = [
  ['seq', 'bigint'],
  ['at', 'timestamptz'],
  ['tool', 'text'],
  ['params', 'jsonb'],
  ['response', 'jsonb'],
  ['error', 'text'],
  ['duration_ms', 'integer'],
  ['status', 'text'],
  ['source', 'text'],
  ['principal', 'text'],
  ['trace_id', 'text'],
  ['prev_hash', 'text'],
  ['hash', 'text'],
] as const;

/** The columns in the order `insertAuditRows` writes them. */
export const AUDIT_COLUMNS = TYPED_COLUMNS.map(([name]) => name).join(', ');

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

const RECORD = TYPED_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
// jsonb values travel wrapped in an array: a bare JSON null would read as SQL NULL, and the
// columns hold jsonb null.
const SELECT = TYPED_COLUMNS.map(([name, type]) => (type === 'jsonb' ? `${name}->0` : name)).join(', ');

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
  const withNode = options.withNode === true;
  const rows = events.map((e) => ({
    ...(withNode ? { node_id: e.nodeId } : {}),
    seq: e.seq,
    at: e.at,
    tool: e.tool,
    params: [e.params ?? null],
    response: [e.response ?? null],
    error: e.error,
    duration_ms: e.durationMs,
    status: e.status,
    source: e.source,
    principal: e.principal,
    trace_id: e.traceId,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  await db.insertRows({
    table,
    columns: `${withNode ? 'node_id, ' : ''}${AUDIT_COLUMNS}`,
    select: `${withNode ? 'node_id, ' : ''}${SELECT}`,
    record: `${withNode ? 'node_id text, ' : ''}${RECORD}`,
    rows,
    ...(options.suffix === undefined ? {} : { suffix: options.suffix }),
  });
}
