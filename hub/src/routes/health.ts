import type { Db, Store } from '@brainmesh/shared';
import type { FastifyPluginAsync } from 'fastify';

export interface HealthDeps {
  db: Db;
  store: Store;
}

/**
 * `/healthz`: the process is alive and serving. `/readyz`: it can do its work, meaning storage
 * answers. Neither names hosts, sessions or error text: probes are often public.
 */
export const healthRoutes: FastifyPluginAsync<HealthDeps> = async (app, { db, store }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const checks = await Promise.all([probe(() => db.ping()), probe(() => store.ping())]);
    const [database, cache] = checks;
    const ready = checks.every((c) => c === 'ok');
    if (!ready) request.log.warn({ database, store: cache }, 'not ready');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', checks: { database, store: cache } });
  });
};

async function probe(check: () => Promise<void>): Promise<'ok' | 'failing'> {
  try {
    await check();
    return 'ok';
  } catch {
    return 'failing';
  }
}
