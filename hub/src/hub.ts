import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Closer,
  KeyRing,
  type Logger,
  listenForMetrics,
  listeningUrl,
  listenOrExplain,
  migrate,
  openDb,
  openStore,
  resolveHome,
  startTracing,
} from '@brainmesh/shared';
import { ApiKeys } from './api-keys.js';
import { buildHubApp } from './app.js';
import { HubCallLog } from './audit/hub-calls.js';
import { AuditIngest } from './audit/ingest.js';
import { scheduleRetention } from './audit/retention.js';
import type { HubConfig } from './config.js';
import { Mesh } from './mesh/mesh.js';
import { HubMetrics } from './metrics.js';
import { watchNodesUp } from './nodes-up.js';
import { Registry } from './registry.js';

export const HUB_MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface RunningHub {
  url: string;
  storage: { database: string; store: string };
  /** Calls `listener` with each node linked now, then with each node as its link comes up (again). */
  onNodeUp(listener: (node: string) => void): () => void;
  close(): Promise<void>;
}

/** Opens storage, brings the schema up to date, loads the registry and links to every node, and serves. */
export async function startHub(config: Readonly<HubConfig>, logger: Logger): Promise<RunningHub> {
  const started = Date.now();
  const home = resolveHome(config);
  const closer = new Closer(logger);
  try {
    // First in, so last out: spans of the shutdown are flushed too. Off without OTEL_* settings.
    closer.add(await startTracing('brainmesh-hub'));
    const ring = await KeyRing.open(home, config.hub.keysFile);
    const db = await openDb({ databaseUrl: config.storage.databaseUrl, home, name: 'hub-db' });
    closer.add(() => db.close());
    const store = await openStore({ redisUrl: config.storage.redisUrl, keyPrefix: `brainmesh:${config.hub.id}:` });
    closer.add(() => store.close());
    logger.info({ database: db.kind, store: store.kind, home }, 'storage open');
    const migrated = await migrate(db, HUB_MIGRATIONS, logger);
    logger.info({ schemaVersion: migrated.current, applied: migrated.applied.length }, 'schema ready');

    const keys = new ApiKeys(db, store);
    closer.add(await keys.start());
    await keys.ensureOperatorKey(home, logger);
    const registry = new Registry(db, store);
    const mesh = new Mesh({ registry, ring, store, hubId: config.hub.id, logger, settings: config.links });
    await mesh.start();
    closer.add(() => mesh.stop());
    logger.info({ nodes: mesh.links.size }, 'registry loaded');

    const metrics = config.metrics.enabled ? new HubMetrics(mesh) : undefined;
    const calls = new HubCallLog(db, logger);
    if (metrics !== undefined)
      calls.onRecord = (call) => metrics.call(call.node, call.tool, call.outcome, call.durationMs);
    // Added after the database, so it is written out before the database closes.
    closer.add(() => calls.close());
    const ingest = new AuditIngest(db, store, config.hub.id, logger);
    if (metrics !== undefined) ingest.onIngested = (node, rows, lagMs) => metrics.ingested(node, rows, lagMs);
    const retention = scheduleRetention(db, logger, config.audit);
    closer.add(() => retention.stop());
    const app = await buildHubApp({
      config,
      db,
      store,
      logger,
      ring,
      registry,
      keys,
      mesh,
      calls,
      ingest,
      ...(metrics === undefined ? {} : { metrics }),
    });
    closer.add(() => app.close());
    await listenOrExplain(app, {
      host: config.server.host,
      port: config.server.port,
      what: 'the hub',
      hint: 'stop what uses it, or choose another port with --port N (or server.port in the hub config)',
    });
    const url = listeningUrl(app.server.address(), config.server.host, config.server.port);
    if (metrics !== undefined && config.metrics.port !== undefined) {
      const listener = await listenForMetrics(metrics, {
        host: config.metrics.host,
        port: config.metrics.port,
        what: 'the hub',
        logger,
      });
      closer.add(() => listener.close());
    }
    logger.info({ url, ms: Date.now() - started }, 'hub listening');
    return {
      url,
      storage: { database: db.kind, store: store.kind },
      onNodeUp: (listener) => watchNodesUp(mesh, listener),
      close: async () => {
        logger.info('shutting down');
        await closer.closeAll();
        logger.info('stopped');
      },
    };
  } catch (err) {
    await closer.closeAll();
    throw err;
  }
}
