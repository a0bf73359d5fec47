import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { BrainmeshError } from '../errors.js';
import type { Db } from './db.js';

/**
 * Numbered SQL migrations: files named `NNNN_what.sql` in one folder, applied in order, each in
 * its own transaction together with its row in `schema_migrations`. A whole run holds a lock, so
 * processes that start together migrate once. A file changed after it was applied is refused:
 * the database would no longer match what the code believes it is.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (m === null) {
        throw new BrainmeshError('DB_MIGRATION_FAILED', `${path.join(dir, file)}: name must look like 0001_what.sql`);
      }
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2] as string,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]?.version === m.version) {
      throw new BrainmeshError('DB_MIGRATION_FAILED', `${dir}: two migrations share version ${m.version}`);
    }
  });
  return migrations;
}

export interface MigrateResult {
  applied: number[];
  current: number;
}

export async function migrate(db: Db, dir: string, logger?: Logger): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  return db.withLock('schema_migrations', async (session) => {
    await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await session.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: number[] = [];
    for (const m of migrations) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new BrainmeshError(
            'DB_MIGRATION_FAILED',
            `migration ${m.version} (${m.name}) was changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      try {
        await session.transaction(async (tx) => {
          await tx.exec(m.sql);
          await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
        });
      } catch (cause) {
        throw new BrainmeshError(
          'DB_MIGRATION_FAILED',
          `migration ${m.version} (${m.name}) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      }
      applied.push(m.version);
      logger?.info({ version: m.version, migration: m.name }, 'migration applied');
    }
    const current = Math.max(0, ...migrations.map((m) => m.version), ...done.keys());
    return { applied, current };
  });
}
