import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { jsonResult } from '../pack.js';
import type { CallContext } from '../source.js';

/** Where an answer came from: the service itself, a pack's own copy of it, or sample data. */
export type DataSource =
  | { source: 'live' }
  | { source: 'sample' }
  | { source: 'cached'; syncedAt: Date; ageMs: number };

/**
 * A tool answer that says where its data came from (`source`, and for the cache its age), both to
 * the model and to the audit trail.
 */
export function reply(ctx: CallContext, from: DataSource, value: Record<string, unknown>): CallToolResult {
  if (from.source !== 'live') ctx.markSource(from.source);
  const provenance =
    from.source === 'cached'
      ? {
          source: 'cached',
          syncedAt: from.syncedAt.toISOString(),
          ageSeconds: Math.round(from.ageMs / 1000),
        }
      : { source: from.source };
  return jsonResult({ ...provenance, ...value });
}
