/**
 * MedTainer's moving parts, on the sample business (1,200 contacts) served by the GoHighLevel
 * emulator on a loopback HTTP server:
 *  1. a full sync into the cache, on embedded Postgres and on the real one (DATABASE_URL);
 *  2. a read tool answered from the cache (search_contacts), and get_insights over the cache;
 *  3. the outbound limiter: a burst of 250 requests against an emulator that counts GoHighLevel's
 *     window (100 per 10 s), without the limiter and with it.
 *
 *   npm run bench -- medtainer
 */

import { callTool, quietLogger } from '@brainmesh/node/kit/testing';
import { type Db, migrate, openEmbeddedDb, openPostgresDb } from '@brainmesh/shared';
import { uniqueName } from '@brainmesh/shared/testing';
import { GhlSync, PgGhlCache } from '../node/packs/medtainer/src/cache/sync.js';
import { goHighLevelTools } from '../node/packs/medtainer/src/gohighlevel/tools.js';
import { MEDTAINER_MIGRATIONS } from '../node/packs/medtainer/src/index.js';
import { intelligenceTools } from '../node/packs/medtainer/src/intelligence/tools.js';
import { generateBusiness, SAMPLE_SEED } from '../node/packs/medtainer/src/sample/generate.js';
import {
  GHL_CREDENTIALS as credentials,
  emulatedGoHighLevel,
} from '../node/packs/medtainer/test/support/gohighlevel.js';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;

async function run(db: Db, label: string): Promise<void> {
  await migrate(db, MEDTAINER_MIGRATIONS);
  const business = generateBusiness({ seed: SAMPLE_SEED, now: new Date() });
  const { fake, api } = await emulatedGoHighLevel(business);
  try {
    const sync = new GhlSync(db, api, quietLogger);
    const started = performance.now();
    const report = await sync.runOnce();
    const ms = performance.now() - started;
    console.log(
      `${label}: full sync ${Math.round(ms)} ms in ${fake.requests.length} requests (${JSON.stringify(report)})`,
    );

    const cache = new PgGhlCache(db, credentials.locationId, 20 * 60_000);
    const deps = { api, mode: 'live' as const, cache };
    const tools = [...goHighLevelTools(deps), ...intelligenceTools(deps)];
    const reads: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await callTool(tools, 'gohighlevel.search_contacts', { query: business.gohighlevel.contacts[i]?.email ?? '' });
      reads.push(performance.now() - t);
    }
    reads.sort((a, b) => a - b);
    console.log(
      `${label}: search_contacts from the cache p50 ${pct(reads, 50).toFixed(1)} ms, p99 ${pct(reads, 99).toFixed(1)} ms`,
    );
    const insights: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await callTool(tools, 'gohighlevel.get_insights', {});
      insights.push(performance.now() - t);
    }
    insights.sort((a, b) => a - b);
    console.log(
      `${label}: get_insights over the cache p50 ${pct(insights, 50).toFixed(0)} ms, max ${pct(insights, 100).toFixed(0)} ms`,
    );
  } finally {
    await fake.close();
  }
}

async function limiterBurst(limited: boolean): Promise<void> {
  const business = generateBusiness({ seed: SAMPLE_SEED, now: new Date() });
  const { fake, api } = await emulatedGoHighLevel(business, { attempts: 1, limiter: limited });
  try {
    const started = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 250 }, () => api.listPipelines()));
    const ms = performance.now() - started;
    const refused = outcomes.filter((o) => o.status === 'rejected').length;
    console.log(
      `${limited ? 'with' : 'without'} the limiter: 250 requests at once took ${(ms / 1000).toFixed(1)} s ` +
        `(the limit allows 100 per 10 s), ${fake.requests.length} sent, ${refused} refused with 429`,
    );
  } finally {
    await fake.close();
  }
}

const embedded = await openEmbeddedDb();
await run(embedded, 'embedded');
await embedded.close();
const schema = uniqueName('bench');
const pg = await openPostgresDb({ url: DATABASE_URL, schema });
try {
  await run(pg, 'postgres');
} finally {
  await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pg.close();
}
await limiterBurst(false);
await limiterBurst(true);
