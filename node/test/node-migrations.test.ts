import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { migrate, openEmbeddedDb } from '@brainmesh/shared';
import { NODE_MIGRATIONS } from '../src/node.js';

describe("the runtime's migration track", () => {
  it('starts a data folder that applied the packs’ old migrations (1 and 3) in the runtime track', async (t) => {
    const db = await openEmbeddedDb();
    t.after(() => db.close());
    // As a node left it before packs had storage of their own: 0001 devtools_notes, 0002, 0003 cache.
    const file = path.join(NODE_MIGRATIONS, '0002_tool_executions.sql');
    const sql = readFileSync(file, 'utf8');
    await db.exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
      checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE devtools_notes (key text PRIMARY KEY, text text NOT NULL, updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE medtainer_cache (location_id text, kind text, id text, data jsonb);
      CREATE TABLE medtainer_sync (location_id text, kind text, synced_at timestamptz, items integer);
      INSERT INTO devtools_notes (key, text, updated_by) VALUES ('k', 'kept', 'me');`);
    await db.exec(sql);
    await db.query(
      `INSERT INTO schema_migrations (version, name, checksum) VALUES
         (1, 'devtools_notes', 'old'), (2, 'tool_executions', $1), (3, 'medtainer_cache', 'old')`,
      [createHash('sha256').update(sql).digest('hex')],
    );
    const result = await migrate(db, NODE_MIGRATIONS);
    assert.deepEqual(result.applied, [4]);
    const { rows } = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE '%\\_%' ORDER BY tablename",
    );
    const tables = rows.map((r) => r.tablename);
    assert.ok(!tables.includes('medtainer_cache') && !tables.includes('medtainer_sync'), 'the cache is dropped');
    assert.ok(tables.includes('devtools_notes'), 'the notes are kept, for the operator to copy');
  });
});
