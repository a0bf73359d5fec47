import type { ToolPack } from '../../pack.js';
import type { PackEnv } from '../index.js';
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

/**
 * MedTainer: a small business's CRM (GoHighLevel), domains (GoDaddy) and servers (DigitalOcean),
 * with a sync cache of the CRM and an intelligence layer over it.
 */
export function medtainerPack(env: PackEnv): ToolPack {
  let business: SampleBusiness | undefined;
  // One business for all three emulators, made only if some service runs on it; around the start
  // of the day, so a restart the same day shows the same business.
  const sampleBusiness = () => {
    business ??= generateBusiness({ seed: SAMPLE_SEED, now: startOfUtcDay(env.startedAt) });
    return business;
  };
  const connections = connect(env.medtainer, env.logger.child({ pack: 'medtainer' }), sampleBusiness);
  const ghl = new GoHighLevelApi(connections.gohighlevel.client, connections.gohighlevel.locationId);
  const godaddy = new GoDaddyApi(connections.godaddy.client, connections.godaddy.shopperId);
  const digitalocean = new DigitalOceanApi(connections.digitalocean.client);
  // The cache and its sync job are for a live CRM: the sample business is in memory already.
  const live = connections.gohighlevel.mode === 'live';
  const { schedule, maxAgeMinutes } = env.medtainer.sync;
  const maxAgeMs = maxAgeMinutes * 60_000;
  const cache = live ? new PgGhlCache(env.db, connections.gohighlevel.locationId, maxAgeMs) : null;
  const sync = live ? new GhlSync(env.db, ghl, env.logger.child({ pack: 'medtainer', part: 'sync' })) : null;
  const ghlDeps = { api: ghl, mode: connections.gohighlevel.mode, cache };
  return {
    name: 'medtainer',
    start: async () => sync?.start(schedule, maxAgeMs),
    close: async () => sync?.stop(),
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
