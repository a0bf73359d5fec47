import type { GhlCache, SyncKind } from '../cache/cache.js';
import type { Mode } from '../connections.js';
import type { GoHighLevelApi } from '../gohighlevel/client.js';
import type { GhlContact, GhlConversation, GhlOpportunity, GhlPipeline } from '../gohighlevel/wire.js';
import type { DataSource } from '../reply.js';

/** Everything the intelligence layer reasons over, and where it came from. */
export interface Snapshot {
  contacts: GhlContact[];
  opportunities: GhlOpportunity[];
  pipelines: GhlPipeline[];
  conversations: GhlConversation[];
  from: DataSource;
}

/**
 * The CRM as a whole: from the sync cache when every kind is fresh there (one consistent age to
 * report: the oldest), otherwise fetched whole from the service (or the sample business).
 */
export async function loadSnapshot(deps: {
  api: GoHighLevelApi;
  mode: Mode;
  cache: GhlCache | null;
}): Promise<Snapshot> {
  if (deps.cache !== null) {
    const cache = deps.cache;
    const read = async <K extends SyncKind>(kind: K) => cache.read(kind);
    const [contacts, opportunities, pipelines, conversations] = await Promise.all([
      read('contacts'),
      read('opportunities'),
      read('pipelines'),
      read('conversations'),
    ]);
    if (contacts && opportunities && pipelines && conversations) {
      const copies = [contacts, opportunities, pipelines, conversations];
      const oldest = copies.reduce((a, b) => (b.syncedAt < a.syncedAt ? b : a));
      return {
        contacts: contacts.items,
        opportunities: opportunities.items,
        pipelines: pipelines.items,
        conversations: conversations.items,
        from: { source: 'cached', syncedAt: oldest.syncedAt, ageMs: oldest.ageMs },
      };
    }
  }
  const [contacts, opportunities, pipelines, conversations] = await Promise.all([
    deps.api.allContacts(),
    deps.api.allOpportunities(),
    deps.api.listPipelines(),
    deps.api.allConversations(),
  ]);
  return { contacts, opportunities, pipelines, conversations, from: { source: deps.mode } };
}
