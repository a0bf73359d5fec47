import { fileURLToPath } from 'node:url';
import { type Db, type Logger, migrate, openPackDb, packStorage, type Store, scopedStore } from '@brainmesh/shared';
import type { Registry } from 'prom-client';
import { packMetrics } from './kit/metrics.js';
import type { ToolPack } from './pack.js';
import type { LoadedPack } from './pack-loader.js';

export interface PackHostDeps {
  nodeName: string;
  startedAt: Date;
  /** The node's own database handle; each pack gets a restricted one over it. */
  db: Db;
  /** The node's schema on a shared server (undefined on its own embedded database). */
  schema: string | undefined;
  /** The store at the mesh's prefix (`brainmesh:`), not the node's own view of it. */
  meshStore: Store;
  logger: Logger;
  /** Where a pack's `resourceUpdated` goes: to the hub, over every open link. */
  resourceUpdated(uri: string, message: string | undefined): void;
  /** The node's metrics registry; undefined with metrics off. */
  metrics: Registry | undefined;
}

/**
 * Makes the packs a config named, in order: for each, its storage (schema, role, migrations on
 * its own track), then `create` with everything it is given. A pack's store keys live under
 * `pack:<name>:` across the mesh, so the same pack on two nodes on one Redis shares them: that is
 * how two MedTainer nodes with one credential share the service's budget. A pack that wants keys
 * of one node's own puts `nodeName` in them.
 */
export async function makePacks(loaded: readonly LoadedPack[], deps: PackHostDeps): Promise<ToolPack[]> {
  const packs: ToolPack[] = [];
  for (const { definition, settings } of loaded) {
    const logger = deps.logger.child({ pack: definition.name });
    const db = await openPackDb(deps.db, packStorage(definition.name, deps.schema), {
      extensions: definition.extensions ?? [],
    });
    if (definition.migrations !== undefined) {
      const dir = definition.migrations;
      await migrate(db, typeof dir === 'string' ? dir : fileURLToPath(dir), logger);
    }
    const made = await definition.create({
      nodeName: deps.nodeName,
      startedAt: deps.startedAt,
      logger,
      settings,
      db,
      store: scopedStore(deps.meshStore, `pack:${definition.name}:`),
      resourceUpdated: (uri, message) => deps.resourceUpdated(uri, message),
      metrics: packMetrics(deps.metrics, definition.name),
    });
    packs.push({ name: definition.name, ...made });
  }
  return packs;
}
