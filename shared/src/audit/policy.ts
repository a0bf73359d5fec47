import { createHash } from 'node:crypto';
import { z } from 'zod';
import { redactSecrets } from '../redact.js';
import { canonicalJson, storableJson } from './event.js';

/**
 * What of a call's arguments and result may reach an audit row. Secret-shaped fields (tokens,
 * keys, passwords…) are always redacted; a tool names more fields to redact, or to hash (so two
 * rows can be seen to carry the same value without showing it, an email address say).
 */

const fieldName = z.string().min(1).max(100);

export const auditPolicySchema = z
  .object({
    redact: z.array(fieldName).max(100).default([]),
    hash: z.array(fieldName).max(100).default([]),
  })
  .strict();

export type AuditPolicy = z.input<typeof auditPolicySchema>;

/** A result larger than this (as JSON) is kept as its size and digest, not its content. */
export const DEFAULT_MAX_AUDIT_RESPONSE_BYTES = 64 * 1024;

const digest = (value: unknown) => `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;

export function auditedValue(value: unknown, policy: AuditPolicy = {}): unknown {
  const hashed = new Set((policy.hash ?? []).map((k) => k.toLowerCase()));
  const withHashes = hashed.size === 0 ? value : hashFields(value, hashed, 0);
  return storableJson(redactSecrets(withHashes, policy.redact ?? []));
}

/**
 * The result as a row keeps it: whole when small, else its size and digest. A text block that is
 * JSON (as most tools write their results for a model to read beside `structuredContent`) is read
 * as JSON and kept with the same fields hidden, so a secret a tool returns to its caller (a new
 * API key, say) is no more in the row's text than in its structured copy.
 */
export function auditedResponse(
  value: unknown,
  policy: AuditPolicy = {},
  maxBytes = DEFAULT_MAX_AUDIT_RESPONSE_BYTES,
): unknown {
  const kept = auditedValue(withJsonTexts(value, policy, maxBytes), policy);
  const bytes = Buffer.byteLength(JSON.stringify(kept) ?? '');
  return bytes <= maxBytes ? kept : { truncated: true, bytes, digest: digest(kept) };
}

function withJsonTexts(value: unknown, policy: AuditPolicy, maxBytes: number): unknown {
  const content = (value as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return value;
  let changed = false;
  const blocks = content.map((block: unknown) => {
    const text = (block as { type?: unknown; text?: unknown }).text;
    // Cheap first: only what looks like a JSON object or array, and is small enough to be kept.
    if ((block as { type?: unknown }).type !== 'text' || typeof text !== 'string' || text.length > maxBytes)
      return block;
    const first = text.trimStart()[0];
    if (first !== '{' && first !== '[') return block;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return block;
    }
    changed = true;
    return { ...(block as object), text: JSON.stringify(auditedValue(parsed, policy)) };
  });
  return changed ? { ...(value as object), content: blocks } : value;
}

function hashFields(value: unknown, keys: ReadonlySet<string>, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 12) return value;
  if (Array.isArray(value)) return value.map((v) => hashFields(v, keys, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, keys.has(k.toLowerCase()) ? digest(v) : hashFields(v, keys, depth + 1)]),
  );
}
