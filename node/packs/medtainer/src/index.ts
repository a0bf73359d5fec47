import { fileURLToPath } from 'node:url';
import { definePack, type PackContext, type PackInstance, type ToolPack } from '@brainmesh/node';
import type { PackMetrics } from '@brainmesh/node/kit';
import type { Db, Logger, Store } from '@brainmesh/shared';
import { GhlSync, PgGhlCache } from './cache/sync.js';
import { connect } from './connections.js';
import { DigitalOceanApi } from './digitalocean/client.js';
import { digitalOceanTools } from './digitalocean/tools.js';
import { GoDaddyApi } from './godaddy/client.js';
import { goDaddyTools } from './godaddy/tools.js';
import { GoHighLevelApi } from './gohighlevel/client.js';
import { goHighLevelTools } from './gohighlevel/tools.js';
import { intelligenceTools } from './intelligence/tools.js';
import type { SampleBusiness } from './sample/business.js';
import { generateBusiness, SAMPLE_SEED } from './sample/generate.js';
import { type MedtainerSettings, medtainerEnv, medtainerSettingsSchema } from './settings.js';

/**
 * MedTainer: a small business's CRM (GoHighLevel), domains (GoDaddy) and servers (DigitalOcean),
 * with a sync cache of the CRM (in the pack's own schema) and an intelligence layer over it.
 */
export const pack = definePack({
  name: 'medtainer',
  version: '0.1.0',
  settings: medtainerSettingsSchema,
  env: medtainerEnv,
  migrations: new URL('../migrations/', import.meta.url),
  create: (ctx) => createMedtainer(ctx),
});

export default pack;

/** The folder of MedTainer's migrations, for tests that build its cache on a database of their own. */
export const MEDTAINER_MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * The pack made from its parts without a node, for tests: `medtainer` is its settings.
 * A node makes it through `pack` (definePack) instead.
 */
export function medtainerPack(env: {
  nodeName: string;
  startedAt: Date;
  db: Db;
  logger: Logger;
  medtainer: MedtainerSettings;
  store?: Store;
}): ToolPack {
  const { medtainer, store, ...rest } = env;
  return {
    name: 'medtainer',
    ...createMedtainer({ ...rest, settings: medtainer, store }),
  };
}

function createMedtainer(
  ctx: Omit<PackContext<MedtainerSettings>, 'store' | 'resourceUpdated' | 'metrics'> & {
    store?: Store | undefined;
    metrics?: PackMetrics | undefined;
  },
): PackInstance {
  let business: SampleBusiness | undefined;
  // One business for all three emulators, made only if some service runs on it; around the start
  // of the day, so a restart the same day shows the same business.
  const sampleBusiness = () => {
    business ??= generateBusiness({ seed: SAMPLE_SEED, now: startOfUtcDay(ctx.startedAt) });
    return business;
  };
  // With the node's store, two nodes with one credential share the service's budget.
  const connections = connect(ctx.settings, ctx.logger, sampleBusiness, ctx.store, ctx.metrics);
  const ghl = new GoHighLevelApi(connections.gohighlevel.client, connections.gohighlevel.locationId);
  const godaddy = new GoDaddyApi(connections.godaddy.client, connections.godaddy.shopperId);
  const digitalocean = new DigitalOceanApi(connections.digitalocean.client);
  // The cache and its sync job are for a live CRM: the sample business is in memory already.
  const live = connections.gohighlevel.mode === 'live';
  const { schedule, maxAgeMinutes } = ctx.settings.sync;
  const maxAgeMs = maxAgeMinutes * 60_000;
  const cache = live ? new PgGhlCache(ctx.db, connections.gohighlevel.locationId, maxAgeMs) : null;
  const sync = live ? new GhlSync(ctx.db, ghl, ctx.logger.child({ part: 'sync' })) : null;
  const ghlDeps = { api: ghl, mode: connections.gohighlevel.mode, cache };
  if (cache !== null) {
    ctx.metrics?.gauge('sync_age_seconds', {
      help: "How old the sync cache's copy of each GoHighLevel kind is, in seconds (read tools use it while it is younger than sync.maxAgeMinutes).",
      labelNames: ['kind'],
      read: async () => (await cache.ages()).map(({ kind, seconds }) => ({ labels: { kind }, value: seconds })),
    });
  }
  return {
    start: async () => sync?.start(schedule, maxAgeMs),
    stop: async () => sync?.stop(),
    tools: [
      ...goHighLevelTools(ghlDeps),
      ...intelligenceTools(ghlDeps),
      ...goDaddyTools({ api: godaddy, mode: connections.godaddy.mode }),
      ...digitalOceanTools({ api: digitalocean, mode: connections.digitalocean.mode }),
    ],
  };
}

function startOfUtcDay(at: Date): Date {
  const day = new Date(at);
  day.setUTCHours(0, 0, 0, 0);
  return day;
}
