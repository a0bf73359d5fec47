import type { Db, Logger } from '@brainmesh/shared';
import cron, { type ScheduledTask } from 'node-cron';
import type { z } from 'zod';
import type { GoHighLevelApi } from '../gohighlevel/client.js';
import { ghlContact, ghlConversation, ghlOpportunity, ghlPipeline } from '../gohighlevel/wire.js';
import type { CachedCopy, CachedKinds, GhlCache, SyncKind } from './cache.js';

/**
 * The sync job: every kind of GoHighLevel data the read tools serve is fetched whole, on a
 * schedule, into the node's Postgres. A kind's copy is stamped with the moment its fetch began
 * (what it shows is at least that fresh), and replaced in one transaction.
 */

const SCHEMAS: { [K in SyncKind]: z.ZodType<CachedKinds[K][number]> } = {
  contacts: ghlContact,
  opportunities: ghlOpportunity,
  pipelines: ghlPipeline,
  conversations: ghlConversation,
};

export type SyncReport = { [K in SyncKind]?: number | { error: string } };

export class GhlSync {
  private running: Promise<SyncReport> | undefined;
  private task: ScheduledTask | undefined;
  /** Aborted by stop(): a sync in flight gives up at its next request instead of holding shutdown. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Db,
    private readonly api: GoHighLevelApi,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One sync of every kind. A sync asked for while one runs joins it rather than starting a
   * second: the schedule never overlaps itself, nor a sync started by hand.
   */
  runOnce(): Promise<SyncReport> {
    this.running ??= this.sync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs on `schedule`, and once now if the cache is older than `maxAgeMs` (or empty). */
  async start(schedule: string, maxAgeMs: number): Promise<void> {
    this.task = cron.schedule(schedule, () => this.runLogged(), { name: 'medtainer-sync', noOverlap: true });
    const { rows } = await this.db.query<{ oldest: Date | null; kinds: number }>(
      'SELECT min(synced_at) AS oldest, count(*)::int AS kinds FROM medtainer_sync WHERE location_id = $1',
      [this.api.locationId],
    );
    const first = rows[0];
    const stale =
      first === undefined ||
      first.kinds < Object.keys(SCHEMAS).length ||
      first.oldest === null ||
      this.now() - new Date(first.oldest).getTime() > maxAgeMs;
    // In the background: a node answers at once, live, until the first copy lands.
    if (stale) void this.runLogged();
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.stopping.abort();
    await this.running;
  }

  private async runLogged(): Promise<SyncReport> {
    const report = await this.runOnce();
    this.logger.info({ report }, 'gohighlevel sync ran');
    return report;
  }

  private async sync(): Promise<SyncReport> {
    const report: SyncReport = {};
    const signal = this.stopping.signal;
    const fetchers: { [K in SyncKind]: () => Promise<CachedKinds[K]> } = {
      pipelines: () => this.api.listPipelines(signal),
      contacts: () => this.api.allContacts(signal),
      opportunities: () => this.api.allOpportunities({}, signal),
      conversations: () => this.api.allConversations(signal),
    };
    for (const kind of Object.keys(fetchers) as SyncKind[]) {
      if (signal.aborted) break;
      const began = new Date(this.now());
      try {
        const items = await fetchers[kind]();
        await this.store(kind, items, began);
        report[kind] = items.length;
      } catch (err) {
        if (signal.aborted) break;
        // One kind failing keeps its previous copy (which ages into going live) and the rest go on.
        this.logger.warn({ err, kind }, 'gohighlevel sync of one kind failed; its previous copy stays');
        report[kind] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    return report;
  }

  private async store(kind: SyncKind, items: readonly { id: string }[], at: Date): Promise<void> {
    const location = this.api.locationId;
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM medtainer_cache WHERE location_id = $1 AND kind = $2', [location, kind]);
      // One statement for the whole kind: a round trip per row would make a sync of thousands slow.
      await tx.query(
        `INSERT INTO medtainer_cache (location_id, kind, id, data)
         SELECT $1, $2, e->>'id', e FROM jsonb_array_elements($3::jsonb) AS e`,
        [location, kind, JSON.stringify(items)],
      );
      await tx.query(
        `INSERT INTO medtainer_sync (location_id, kind, synced_at, items) VALUES ($1, $2, $3, $4)
         ON CONFLICT (location_id, kind) DO UPDATE SET synced_at = EXCLUDED.synced_at, items = EXCLUDED.items`,
        [location, kind, at.toISOString(), items.length],
      );
    });
  }
}

/** The cache as the read tools see it: a kind's copy while it is younger than `maxAgeMs`. */
export class PgGhlCache implements GhlCache {
  constructor(
    private readonly db: Db,
    private readonly locationId: string,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async read<K extends SyncKind>(kind: K): Promise<CachedCopy<CachedKinds[K]> | undefined> {
    const { rows: synced } = await this.db.query<{ synced_at: Date }>(
      'SELECT synced_at FROM medtainer_sync WHERE location_id = $1 AND kind = $2',
      [this.locationId, kind],
    );
    const at = synced[0]?.synced_at;
    if (at === undefined) return undefined;
    const syncedAt = new Date(at);
    const ageMs = Math.max(0, this.now() - syncedAt.getTime());
    if (ageMs > this.maxAgeMs) return undefined;
    const { rows } = await this.db.query<{ data: unknown }>(
      'SELECT data FROM medtainer_cache WHERE location_id = $1 AND kind = $2 ORDER BY id',
      [this.locationId, kind],
    );
    const schema = SCHEMAS[kind];
    const items: unknown[] = [];
    for (const row of rows) {
      const parsed = schema.safeParse(typeof row.data === 'string' ? JSON.parse(row.data) : row.data);
      // A row an older version kept in another shape: the copy is no good, the service is asked.
      if (!parsed.success) return undefined;
      items.push(parsed.data);
    }
    return { syncedAt, ageMs, items: items as CachedKinds[K] };
  }

  /** How old each kind's copy is (seconds), kept or not: the metrics' sync cache age. */
  async ages(): Promise<Array<{ kind: string; seconds: number }>> {
    const { rows } = await this.db.query<{ kind: string; synced_at: Date }>(
      'SELECT kind, synced_at FROM medtainer_sync WHERE location_id = $1',
      [this.locationId],
    );
    return rows.map((r) => ({
      kind: r.kind,
      seconds: Math.max(0, this.now() - new Date(r.synced_at).getTime()) / 1000,
    }));
  }

  async remember<K extends SyncKind>(kind: K, item: CachedKinds[K][number]): Promise<void> {
    await this.db.query(
      `INSERT INTO medtainer_cache (location_id, kind, id, data) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (location_id, kind, id) DO UPDATE SET data = EXCLUDED.data`,
      [this.locationId, kind, item.id, JSON.stringify(item)],
    );
  }
}
