import type { GhlContact, GhlConversation, GhlOpportunity, GhlPipeline } from '../gohighlevel/wire.js';

/** What the sync job keeps of GoHighLevel, by kind. */
export interface CachedKinds {
  contacts: GhlContact[];
  opportunities: GhlOpportunity[];
  pipelines: GhlPipeline[];
  conversations: GhlConversation[];
}

export type SyncKind = keyof CachedKinds;

/** A kind's cached items, when they were synced, and how old that is by the cache's clock. */
export interface CachedCopy<T> {
  syncedAt: Date;
  ageMs: number;
  items: T;
}

/** The read side of the sync cache, as the GoHighLevel tools use it. */
export interface GhlCache {
  /**
   * Every cached item of a kind and when it was synced, or undefined when that kind has never
   * been synced or its copy is older than the configured maximum age (the tool then goes live).
   */
  read<K extends SyncKind>(kind: K): Promise<CachedCopy<CachedKinds[K]> | undefined>;
  /**
   * An item as this node just changed it, kept in the copy until the next sync replaces the whole
   * kind: a read right after a write shows the write.
   */
  remember<K extends SyncKind>(kind: K, item: CachedKinds[K][number]): Promise<void>;
}
