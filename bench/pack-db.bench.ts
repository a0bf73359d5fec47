/**
 * What a pack's restricted database handle costs per query: every statement in a transaction
 * that first takes the pack's role and search_path (shared/src/db/pack-db.ts), against the same
 * query on the node's own handle. On embedded Postgres and on the real one (DATABASE_URL).
 *
 *   npm run bench -- pack-db
 */
import { type Db, dropPackStorage, openEmbeddedDb, openPackDb, openPostgresDb, packStorage } from '@brainmesh/shared';
import { uniqueName } from '@brainmesh/shared/testing';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const N = 2_000;

async function perQuery(db: Db, sql: string, params: unknown[]): Promise<number> {
  for (let i = 0; i < 200; i++) await db.query(sql, params);
  const started = performance.now();
  for (let i = 0; i < N; i++) await db.query(sql, params);
  return ((performance.now() - started) / N) * 1000;
}

async function run(label: string, db: Db, nodeSchema?: string): Promise<void> {
  const storage = packStorage('bench', nodeSchema);
  const pack = await openPackDb(db, storage);
  try {
    await pack.exec('CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v text)');
    await pack.query("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO NOTHING");
    const sql = `SELECT v FROM ${storage.schema}.kv WHERE k = $1`;
    const node = await perQuery(db, sql, ['a']);
    const scoped = await perQuery(pack, sql, ['a']);
    console.log(
      `${label}: node handle ${node.toFixed(0)} µs/query, pack handle ${scoped.toFixed(0)} µs/query (+${(scoped - node).toFixed(0)} µs)`,
    );
  } finally {
    await dropPackStorage(db, storage);
  }
}

const embedded = await openEmbeddedDb();
await run('embedded', embedded);
await embedded.close();
const schema = uniqueName('bench');
const pg = await openPostgresDb({ url: DATABASE_URL, schema });
try {
  await run('postgres', pg, schema);
} finally {
  await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pg.close();
}
