import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openEmbeddedDb, openPostgresDb } from '../src/index.js';
import { realServers, tempDir, uniqueName } from '../testing/index.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const migrations = path.join(here, 'fixtures', 'migrations-race');
const child = path.join(here, 'fixtures', 'migrate-child.ts');

/** Starts two migrating processes at the same moment and returns what each reported. */
async function migrateTwiceAtOnce(args: string[]): Promise<Array<{ applied: number[]; current: number }>> {
  const runs = [0, 1].map(() => run(process.execPath, ['--import', 'tsx', child, migrations, ...args]));
  const outputs = await Promise.all(runs);
  return outputs.map((o) => JSON.parse(o.stdout) as { applied: number[]; current: number });
}

function assertRanOnce(results: Array<{ applied: number[]; current: number }>): void {
  // Exactly one process applied everything; the other found it done.
  const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
  assert.deepEqual(applied, [[1, 2], []]);
  assert.ok(results.every((r) => r.current === 2));
}

describe('migrations when two processes start together', () => {
  it('run once on the embedded database', async (t) => {
    const home = tempDir('race');
    t.after(home.remove);
    const dataDir = path.join(home.dir, 'db');
    assertRanOnce(await migrateTwiceAtOnce([dataDir]));
    const db = await openEmbeddedDb({ dataDir });
    t.after(() => db.close());
    const { rows } = await db.query<{ label: string }>('SELECT label FROM migration_effects ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.label),
      ['0001 ran', '0002 ran'],
    );
  });

  const { databaseUrl } = realServers();
  if (databaseUrl !== undefined) {
    it('run once on a real Postgres server', async (t) => {
      const schema = uniqueName('race');
      assertRanOnce(await migrateTwiceAtOnce([databaseUrl, schema]));
      const db = await openPostgresDb({ url: databaseUrl, schema });
      t.after(async () => {
        await db.exec(`DROP SCHEMA ${schema} CASCADE`);
        await db.close();
      });
      const { rows } = await db.query<{ label: string }>('SELECT label FROM migration_effects ORDER BY id');
      assert.deepEqual(
        rows.map((r) => r.label),
        ['0001 ran', '0002 ran'],
      );
    });
  }
});
