import type { DataSource } from '@brainmesh/node/kit';
import type { GhlCache } from '../cache/cache.js';
import type { Mode } from '../connections.js';
import type { GoHighLevelApi } from '../gohighlevel/client.js';
import type { GhlContact, GhlConversation, GhlOpportunity, GhlPipeline } from '../gohighlevel/wire.js';
import type { LeadFacts } from './score.js';

/** Everything the intelligence layer reasons over, and where it came from. */
export interface Snapshot {
  contacts: GhlContact[];
  opportunities: GhlOpportunity[];
  pipelines: GhlPipeline[];
  conversations: GhlConversation[];
  from: DataSource;
}

export interface CrmDeps {
  api: GoHighLevelApi;
  mode: Mode;
  cache: GhlCache | null;
}

/**
 * The CRM as the sync cache holds it, when every kind is fresh there (reporting the oldest copy's
 * age, so the answer never claims more freshness than its stalest part has).
 */
async function cachedSnapshot(cache: GhlCache): Promise<Snapshot | undefined> {
  const [contacts, opportunities, pipelines, conversations] = await Promise.all([
    cache.read('contacts'),
    cache.read('opportunities'),
    cache.read('pipelines'),
    cache.read('conversations'),
  ]);
  if (!contacts || !opportunities || !pipelines || !conversations) return undefined;
  const oldest = [contacts, opportunities, pipelines, conversations].reduce((a, b) =>
    b.syncedAt < a.syncedAt ? b : a,
  );
  return {
    contacts: contacts.items,
    opportunities: opportunities.items,
    pipelines: pipelines.items,
    conversations: conversations.items,
    from: { source: 'cached', syncedAt: oldest.syncedAt, ageMs: oldest.ageMs },
  };
}

/** The CRM as a whole: the fresh cache, otherwise fetched whole (from the service or the sample). */
export async function loadSnapshot(deps: CrmDeps, signal?: AbortSignal): Promise<Snapshot> {
  const cached = deps.cache === null ? undefined : await cachedSnapshot(deps.cache);
  if (cached !== undefined) return cached;
  const [contacts, opportunities, pipelines, conversations] = await Promise.all([
    deps.api.allContacts(signal),
    deps.api.allOpportunities({}, signal),
    deps.api.listPipelines(signal),
    deps.api.allConversations(signal),
  ]);
  return { contacts, opportunities, pipelines, conversations, from: { source: deps.mode } };
}

/**
 * What is known of one contact: from the fresh cache when there is one, otherwise asked of the
 * service for that contact alone, so scoring one person never fetches the whole CRM, and a
 * contact added since the last sync is found.
 */
export async function loadContactFacts(
  deps: CrmDeps,
  contactId: string,
  signal?: AbortSignal,
): Promise<{ facts: LeadFacts | undefined; from: DataSource }> {
  const cached = deps.cache === null ? undefined : await cachedSnapshot(deps.cache);
  if (cached !== undefined) {
    const contact = cached.contacts.find((c) => c.id === contactId);
    const facts =
      contact === undefined
        ? undefined
        : {
            contact,
            opportunities: cached.opportunities.filter((o) => o.contactId === contactId),
            conversations: cached.conversations.filter((c) => c.contactId === contactId),
            pipelines: cached.pipelines,
          };
    return { facts, from: cached.from };
  }
  const [contact, opportunities, conversations, pipelines] = await Promise.all([
    deps.api.getContact(contactId, signal),
    deps.api.allOpportunities({ contactId }, signal),
    deps.api.searchConversations({ contactId, limit: 100 }, signal),
    deps.api.listPipelines(signal),
  ]);
  return {
    from: { source: deps.mode },
    facts: { contact, opportunities, conversations: conversations.conversations, pipelines },
  };
}
