import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBrainmeshError, migrate } from '../src/index.js';
import { dbBackends, tempDir } from '../testing/index.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

for (const backend of dbBackends()) {
  describe(`Db on ${backend.name}`, () => {
    it('runs parameterised queries and returns int8 and int8[] as numbers', async (t) => {
      const { value: db, dispose } = await backend.open();
      t.after(dispose);
      await db.exec('CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL)');
      const inserted = await db.query<{ id: number }>('INSERT INTO items (name) VALUES ($1), ($2) RETURNING id', [
        'a',
        'b',
      ]);
      assert.equal(inserted.rowCount, 2);
      assert.deepEqual(
        inserted.rows.map((r) => r.id),
        [1, 2],
      );
      // And int8[] as numbers, a null kept.
      const agg = await db.query<{ ids: (number | null)[] }>(
        'SELECT array_agg(id ORDER BY id) || ARRAY[NULL::bigint] AS ids FROM items',
      );
      assert.deepEqual(agg.rows[0]!.ids, [1, 2, null]);
      const { rows } = await db.query<{ n: number; name: string }>(
        'SELECT count(*) AS n, max(name) AS name FROM items WHERE name <> $1',
        ['zzz'],
      );
      assert.deepEqual(rows, [{ n: 2, name: 'b' }]);
    });

    it('writes rows in one statement exactly as given, whatever quotes and backslashes they hold', async (t) => {
      const { value: db, dispose } = await backend.open();
      t.after(dispose);
      await db.exec('CREATE TABLE notes (id bigserial PRIMARY KEY, name text, body jsonb NOT NULL, n integer)');
      const hostile = [
        "it's",
        "'); DROP TABLE notes; --",
        "back\\slash \\' and \\",
        "E'\\x27'",
        '$$ dollar $tag$',
        'line\nbreak\ttab "quoted" \u2028 ünïcödé 🙂',
      ];
      const rows = hostile.map((name, i) => ({ name, body: [{ name, list: [name, null], i }], n: i }));
      const spec = {
        table: 'notes',
        columns: 'name, body, n',
        select: 'name, body->0, n',
        record: 'name text, body jsonb, n integer',
      };
      // Half on the database, the rest one by one in a transaction: on a real server the same
      // named statement, prepared once per connection, serves every one of them.
      await db.insertRows({ ...spec, rows: rows.slice(0, 3) });
      await db.transaction(async (tx) => {
        for (const row of rows.slice(3)) await tx.insertRows({ ...spec, rows: [row] });
      });
      const { rows: read } = await db.query<{ name: string; body: unknown; n: number }>(
        'SELECT name, body, n FROM notes ORDER BY id',
      );
      assert.deepEqual(
        read,
        rows.map((r) => ({ name: r.name, body: r.body[0], n: r.n })),
      );
    });

    it('commits a transaction that resolves', async (t) => {
      const { value: db, dispose } = await backend.open();
      t.after(dispose);
      await db.exec('CREATE TABLE ledger (amount int NOT NULL)');
      const result = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO ledger VALUES ($1)', [5]);
        await tx.query('INSERT INTO ledger VALUES ($1)', [7]);
        return 'done';
      });
      assert.equal(result, 'done');
      const { rows } = await db.query<{ total: number }>('SELECT sum(amount)::int AS total FROM ledger');
      assert.equal(rows[0]?.total, 12);
    });

    it('leaves nothing behind when a transaction throws', async (t) => {
      const { value: db, dispose } = await backend.open();
      t.after(dispose);
      await db.exec('CREATE TABLE ledger (amount int NOT NULL)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO ledger VALUES (1)');
          await tx.exec('CREATE TABLE made_inside (x int)');
          throw new Error('boom');
        }),
        /boom/,
      );
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM ledger');
      assert.equal(rows[0]?.n, 0);
      const tables = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'made_inside'");
      assert.equal(tables.rowCount, 0);
      // The connection is usable afterwards (not stuck in an aborted transaction).
      await db.query('INSERT INTO ledger VALUES (2)');
      assert.equal((await db.query('SELECT * FROM ledger')).rowCount, 1);
    });

    it('applies migrations in order, once, and records them', async (t) => {
      const { value: db, dispose } = await backend.open();
      t.after(dispose);
      const first = await migrate(db, path.join(fixtures, 'migrations-race'));
      assert.deepEqual(first, { applied: [1, 2], current: 2 });
      const again = await migrate(db, path.join(fixtures, 'migrations-race'));
      assert.deepEqual(again, { applied: [], current: 2 });
      const { rows } = await db.query<{ label: string }>('SELECT label FROM migration_effects ORDER BY id');
      assert.deepEqual(
        rows.map((r) => r.label),
        ['0001 ran', '0002 ran'],
      );
    });

    it('rolls back a failing migration whole and refuses an edited one', async (t) => {
      const { value: db, dispose } = await backend.open();
      const dir = tempDir('migrations');
      t.after(async () => {
        await dispose();
        dir.remove();
      });
      cpSync(path.join(fixtures, 'migrations-bad'), dir.dir, { recursive: true });
      await assert.rejects(migrate(db, dir.dir), (err) => {
        assert.ok(isBrainmeshError(err, 'DB_MIGRATION_FAILED'));
        assert.match(err.message, /migration 2 \(broken\) failed/);
        return true;
      });
      // 0001 stays applied; nothing of 0002 (its first statement succeeded) survives.
      const partial = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_made'");
      assert.equal(partial.rowCount, 0);
      const versions = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        [1],
      );

      writeFileSync(path.join(dir.dir, '0001_good.sql'), 'CREATE TABLE good (id int, extra int);');
      await assert.rejects(migrate(db, dir.dir), /migration 1 \(good\) was changed after it was applied/);
    });
  });
}
