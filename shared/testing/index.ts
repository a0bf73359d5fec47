/**
 * Test support shared by every package: the storage backends each storage-backed test runs
 * against. Embedded ones always; real Postgres and Redis whenever DATABASE_URL / REDIS_URL are
 * set, each run in its own schema and key prefix so concurrent runs never see each other.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Db } from '../src/db/db.js';
import { openEmbeddedDb } from '../src/db/embedded.js';
import { openPostgresDb } from '../src/db/postgres.js';
import { createMemoryStore, type MemoryStoreOptions } from '../src/store/memory.js';
import { openRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';

export interface Backend<T> {
  name: string;
  /** Opens a fresh, empty instance; `dispose` closes it and removes what it made. */
  open(): Promise<{ value: T; dispose(): Promise<void> }>;
}

/** A name no other run uses: safe as a schema name or a key prefix. */
export function uniqueName(tag: string): string {
  return `t_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Test environments are read here and nowhere else in test code. Under CI a missing server is a
 * failure, never a silent skip: the real-server tests are the ones that find the real bugs.
 */
export function realServers(env: NodeJS.ProcessEnv = process.env): { databaseUrl?: string; redisUrl?: string } {
  const databaseUrl = env.DATABASE_URL || undefined;
  const redisUrl = env.REDIS_URL || undefined;
  if (env.CI === 'true') {
    if (databaseUrl === undefined)
      throw new Error('CI=true but DATABASE_URL is not set: real Postgres tests would not run');
    if (redisUrl === undefined) throw new Error('CI=true but REDIS_URL is not set: real Redis tests would not run');
  }
  return { ...(databaseUrl && { databaseUrl }), ...(redisUrl && { redisUrl }) };
}

export function tempDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `brainmesh-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function dbBackends(): Backend<Db>[] {
  const { databaseUrl } = realServers();
  const backends: Backend<Db>[] = [
    {
      name: 'embedded',
      open: async () => {
        const value = await openEmbeddedDb();
        return { value, dispose: () => value.close() };
      },
    },
  ];
  if (databaseUrl !== undefined) {
    backends.push({
      name: 'postgres',
      open: async () => {
        const schema = uniqueName('db');
        const value = await openPostgresDb({ url: databaseUrl, schema });
        return {
          value,
          dispose: async () => {
            await value.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
            await value.close();
          },
        };
      },
    });
  }
  return backends;
}

export function storeBackends(memory: MemoryStoreOptions = {}): Backend<Store>[] {
  const { redisUrl } = realServers();
  const backends: Backend<Store>[] = [
    {
      name: 'memory',
      open: async () => {
        const value = createMemoryStore(memory);
        return { value, dispose: () => value.close() };
      },
    },
  ];
  if (redisUrl !== undefined) {
    backends.push({
      name: 'redis',
      open: async () => {
        const keyPrefix = `${uniqueName('store')}:`;
        const value = await openRedisStore({ url: redisUrl, keyPrefix });
        return { value, dispose: () => Promise.all([value.close(), deleteKeys(redisUrl, keyPrefix)]).then(() => {}) };
      },
    });
  }
  return backends;
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** Polls `check` until it holds or `timeoutMs` passes; for waiting on time-based effects (TTLs). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 3_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export { type Spawned, spawnTs } from './process.js';

export { type SharedStores, sharedStoreBackends } from './shared-stores.js';
