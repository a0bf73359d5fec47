import {
  AUDIT_SOURCES,
  AUDIT_STATUSES,
  type AuditSource,
  type AuditStatus,
  BrainmeshError,
  type Db,
  type AuditRow as EventRow,
  eventFromRow,
  NAMESPACE_SEPARATOR,
} from '@brainmesh/shared';
import { z } from 'zod';

/**
 * Reading the central audit trail: filtered search, newest first, with a keyset cursor; and
 * the rows that arrived after a given one, for the tail. Each row carries the hub's own record
 * of the call under the same trace id, when the call came through the hub.
 */

const when = z.iso.datetime({ offset: true });

export const auditFilterSchema = z
  .object({
    node: z.string().min(1).max(63).optional(),
    /** A node's own tool name, or the hub's `<node>__<tool>`. */
    tool: z.string().min(1).max(200).optional(),
    status: z.enum(AUDIT_STATUSES).optional(),
    source: z.enum(AUDIT_SOURCES).optional(),
    principal: z.string().min(1).max(200).optional(),
    traceId: z.string().min(1).max(100).optional(),
    since: when.optional(),
    until: when.optional(),
    /** Words to find anywhere in the call's arguments. */
    text: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const auditSearchSchema = auditFilterSchema
  .extend({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AuditSearch = z.infer<typeof auditSearchSchema>;

/** A central audit event as the admin API and mesh__audit_search give it. */
export interface AuditEntry {
  id: number;
  node: string;
  seq: number;
  at: string;
  tool: string;
  params: unknown;
  response: unknown;
  error: string | null;
  durationMs: number;
  status: AuditStatus;
  source: AuditSource;
  principal: string;
  traceId: string;
  receivedAt: string;
  /** The hub's record of the same call: absent for calls that did not come through a hub. */
  hub: { principal: string; durationMs: number; outcome: string } | null;
}

/** A central row as the search reads it: the event's columns, its arrival, and the hub's record. */
interface Row extends EventRow {
  id: string | number;
  node_id: string;
  received_at: Date | string;
  hub_principal: string | null;
  hub_duration_ms: number | null;
  hub_outcome: string | null;
}

function toEntry(r: Row): AuditEntry {
  const { nodeId, prevHash: _prev, hash: _hash, ...event } = eventFromRow(r, r.node_id);
  return {
    id: Number(r.id),
    node: nodeId,
    ...event,
    receivedAt: new Date(r.received_at).toISOString(),
    hub:
      r.hub_outcome === null
        ? null
        : { principal: r.hub_principal ?? '', durationMs: r.hub_duration_ms ?? 0, outcome: r.hub_outcome },
  };
}

// A trace id may be shared by several calls (a client's `traceparent` is continued, and a client
// may send one for many calls, or another's): a row's hub record is the one of its node, tool and
// principal nearest in time, never another principal's.
const SELECT = `SELECT e.id, e.node_id, e.seq, e.at, e.tool, e.params, e.response, e.error, e.duration_ms, e.status,
    e.source, e.principal, e.trace_id, e.prev_hash, e.hash, e.received_at,
    h.principal AS hub_principal, h.duration_ms AS hub_duration_ms, h.outcome AS hub_outcome
  FROM audit_events e
  LEFT JOIN LATERAL (
    SELECT principal, duration_ms, outcome FROM hub_calls
    WHERE trace_id = e.trace_id AND node_id = e.node_id AND tool = e.tool AND principal = e.principal
    ORDER BY abs(extract(epoch FROM at - e.at)) LIMIT 1
  ) h ON true`;

/** The WHERE conditions for a filter, with their parameters numbered from `params.length + 1`. */
function where(filter: AuditFilter, params: unknown[]): string[] {
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    return sql(`$${params.length}`);
  };
  const conditions: string[] = [];
  let { node, tool } = filter;
  let hubName = false;
  // `devmcp__everything_echo` is tool `everything_echo` of node `devmcp`.
  if (tool?.includes(NAMESPACE_SEPARATOR)) {
    const at = tool.indexOf(NAMESPACE_SEPARATOR);
    const named = tool.slice(0, at);
    if (node !== undefined && node !== named) conditions.push('false');
    node = named;
    tool = tool.slice(at + NAMESPACE_SEPARATOR.length);
    hubName = true;
  }
  if (node !== undefined) conditions.push(add((p) => `e.node_id = ${p}`, node));
  // A hub name has the node's characters that clients refuse turned into `_`
  // (`medtainer__gohighlevel_get_insights` is the node's `gohighlevel.get_insights`).
  if (tool !== undefined && hubName)
    conditions.push(add((p) => `(e.tool = ${p} OR regexp_replace(e.tool, '[^A-Za-z0-9_-]', '_', 'g') = ${p})`, tool));
  else if (tool !== undefined) conditions.push(add((p) => `e.tool = ${p}`, tool));
  if (filter.status !== undefined) conditions.push(add((p) => `e.status = ${p}`, filter.status));
  if (filter.source !== undefined) conditions.push(add((p) => `e.source = ${p}`, filter.source));
  if (filter.principal !== undefined) conditions.push(add((p) => `e.principal = ${p}`, filter.principal));
  if (filter.traceId !== undefined) conditions.push(add((p) => `e.trace_id = ${p}`, filter.traceId));
  if (filter.since !== undefined) conditions.push(add((p) => `e.at >= ${p}`, filter.since));
  if (filter.until !== undefined) conditions.push(add((p) => `e.at < ${p}`, filter.until));
  if (filter.text !== undefined) {
    const pattern = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(add((p) => `e.params::text ILIKE ${p}`, pattern));
  }
  return conditions;
}

const cursorSchema = z.tuple([when, z.number().int().positive()]);

function decodeCursor(cursor: string): [string, number] {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new BrainmeshError('INVALID_INPUT', 'cursor: not a cursor this hub gave out');
  }
}

const encodeCursor = (row: AuditEntry) => Buffer.from(JSON.stringify([row.at, row.id])).toString('base64url');

export async function searchAudit(
  db: Db,
  search: AuditSearch,
): Promise<{ events: AuditEntry[]; nextCursor: string | null }> {
  const params: unknown[] = [];
  const conditions = where(search, params);
  if (search.cursor !== undefined) {
    const [at, id] = decodeCursor(search.cursor);
    params.push(at, id);
    conditions.push(`(e.at, e.id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(search.limit + 1);
  const { rows } = await db.query<Row>(
    `${SELECT} ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY e.at DESC, e.id DESC LIMIT $${params.length}`,
    params,
  );
  const events = rows.slice(0, search.limit).map(toEntry);
  return { events, nextCursor: rows.length > search.limit ? encodeCursor(events[events.length - 1]!) : null };
}

/** Rows that arrived after row `afterId`, in arrival order. */
export async function auditAfter(db: Db, filter: AuditFilter, afterId: number, limit: number): Promise<AuditEntry[]> {
  const params: unknown[] = [afterId];
  const conditions = ['e.id > $1', ...where(filter, params)];
  params.push(limit);
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE ${conditions.join(' AND ')} ORDER BY e.id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEntry);
}

/** The id of the newest row: a tail starts after it. */
export async function newestAuditId(db: Db): Promise<number> {
  const { rows } = await db.query<{ id: string | number | null }>('SELECT max(id) AS id FROM audit_events');
  return Number(rows[0]?.id ?? 0);
}

export interface AuditLag {
  node: string;
  /** The newest seq the hub holds. */
  committedSeq: number;
  /** The newest seq the node said it had written, with its last batch. */
  nodeHeadSeq: number;
  backlog: number;
  lastEventAt: string | null;
  lastBatchAt: string | null;
  /** From the newest event of the last batch being written on its node to landing here. */
  lastLagMs: number | null;
}

export async function auditLag(db: Db): Promise<AuditLag[]> {
  const { rows } = await db.query<{
    node_id: string;
    last_seq: string | number;
    node_head_seq: string | number;
    last_event_at: Date | null;
    last_batch_at: Date | null;
    last_lag_ms: string | number | null;
  }>('SELECT * FROM audit_chains ORDER BY node_id');
  return rows.map((r) => ({
    node: r.node_id,
    committedSeq: Number(r.last_seq),
    nodeHeadSeq: Number(r.node_head_seq),
    backlog: Math.max(0, Number(r.node_head_seq) - Number(r.last_seq)),
    lastEventAt: r.last_event_at === null ? null : new Date(r.last_event_at).toISOString(),
    lastBatchAt: r.last_batch_at === null ? null : new Date(r.last_batch_at).toISOString(),
    lastLagMs: r.last_lag_ms === null ? null : Number(r.last_lag_ms),
  }));
}
