import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The audit event: one tool execution, as the node that ran it wrote it. Hub and node share this
 * shape and the hash that chains a node's events, so either side can check the other's rows.
 *
 * Each event's `hash` is SHA-256 over the previous event's hash and the event's own fields in a
 * canonical JSON form (keys sorted, no whitespace). Changing, removing or inserting a row breaks
 * the chain from there on.
 */

export const AUDIT_STATUSES = ['ok', 'error', 'cancelled'] as const;
export const AUDIT_SOURCES = ['live', 'cached', 'sample'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/** The hash before a node's first event. */
export const GENESIS_HASH = '0'.repeat(64);

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');

/** duration_ms is a Postgres integer: a call longer than 24 days is recorded as that long. */
export const MAX_DURATION_MS = 2_147_483_647;

/** A place in a node's chain: a seq and the hash of the event there (0 and GENESIS_HASH before any). */
export const chainPointSchema = z.object({ seq: z.number().int().min(0), hash: hashSchema });
export type ChainPoint = z.infer<typeof chainPointSchema>;

export const auditEventSchema = z
  .object({
    nodeId: z.string().min(1).max(63),
    seq: z.number().int().positive(),
    at: z.iso.datetime(),
    tool: z.string().min(1).max(200),
    params: z.unknown(),
    response: z.unknown(),
    error: z.string().nullable(),
    durationMs: z.number().int().min(0).max(MAX_DURATION_MS),
    status: z.enum(AUDIT_STATUSES),
    source: z.enum(AUDIT_SOURCES),
    principal: z.string().min(1).max(200),
    traceId: z.string().min(1).max(100),
    prevHash: hashSchema,
    hash: hashSchema,
  })
  .strict();

export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditFields = Omit<AuditEvent, 'prevHash' | 'hash'>;

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
  });
}

export function auditHash(prevHash: string, fields: AuditFields): string {
  const body = canonicalJson({
    nodeId: fields.nodeId,
    seq: fields.seq,
    at: fields.at,
    tool: fields.tool,
    params: fields.params ?? null,
    response: fields.response ?? null,
    error: fields.error,
    durationMs: fields.durationMs,
    status: fields.status,
    source: fields.source,
    principal: fields.principal,
    traceId: fields.traceId,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * A value as it will read back from a jsonb column: plain JSON, with the NUL characters that
 * Postgres text cannot hold replaced. Hashes are taken over this form, so a row hashes the same
 * before it is written and after it is read.
 */
export function storableJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : v,
  );
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

export type ChainBreak = { seq: number; problem: 'gap' | 'link' | 'hash'; detail: string };

/**
 * Checks events that should follow `prevHash` at `firstSeq`: consecutive sequence numbers, each
 * linked to the one before, each hash matching its content. Names the first event that fails.
 */
export function checkChain(
  events: readonly AuditEvent[],
  start: { seq: number; prevHash: string },
): ChainBreak | undefined {
  let expectedSeq = start.seq;
  let prev = start.prevHash;
  for (const event of events) {
    if (event.seq !== expectedSeq) {
      return { seq: expectedSeq, problem: 'gap', detail: `expected seq ${expectedSeq}, found ${event.seq}` };
    }
    if (event.prevHash !== prev) {
      return { seq: event.seq, problem: 'link', detail: 'does not follow the event before it' };
    }
    if (auditHash(prev, event) !== event.hash) {
      return { seq: event.seq, problem: 'hash', detail: 'its content does not match its hash' };
    }
    prev = event.hash;
    expectedSeq += 1;
  }
  return undefined;
}
