import pg from 'pg';
import { BrainmeshError } from '../errors.js';
import { safeUrl } from '../safe-url.js';
import { type Db, INT8_OID, type Queryable, type QueryResult, type Session } from './db.js';
import { insertRowsStatement, type RowsInsert } from './rows-insert.js';

export interface PostgresDbOptions {
  url: string;
  /**
   * Schema used for every statement (search_path), created if missing. Lets several test runs or
   * deployments share one database without seeing each other's tables.
   */
  schema?: string;
  max?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `bigint[]`: pg's own parser gives strings; as numbers, like a lone bigint and like PGlite. */
const INT8_ARRAY_OID = 1016;
const builtIn = pg.types.getTypeParser as (oid: number, format: 'text') => (v: string) => unknown;
const parseInt8Array = (v: string) =>
  (builtIn(INT8_ARRAY_OID, 'text')(v) as (string | null)[]).map((x) => (x === null ? null : Number(x)));

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : oid === INT8_ARRAY_OID
        ? parseInt8Array
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new BrainmeshError('INVALID_INPUT', `schema name "${options.schema}" must match ${SCHEMA_NAME}`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would crash.
  pool.on('error', () => {});
  try {
    if (options.schema !== undefined) await createSchema(pool, options.schema);
    else await pool.query('SELECT 1');
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new BrainmeshError(
      'DB_UNAVAILABLE',
      `cannot reach Postgres at ${safeUrl(options.url)}: ${messageOf(cause)}`,
      {
        cause,
      },
    );
  }
  return new PostgresDb(pool, options.schema);
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | undefined,
  ) {}

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.pool, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  insertRows(spec: RowsInsert): Promise<void> {
    return insertRows(this.pool, spec);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(client, fn);
    } finally {
      client.release();
    }
  }

  async withLock<T>(name: string, fn: (session: Session) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // Scoped by schema, so runs in different schemas of one database do not wait on each other.
    const key = `${this.schema ?? 'public'}:${name}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      try {
        const session: Session = { ...on(client), transaction: (inner) => inTransaction(client, inner) };
        return await fn(session);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    // Two processes creating the same schema at once: IF NOT EXISTS does not cover that race,
    // and losing it means the schema is there, which is all that was asked.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

async function runQuery<R>(
  target: pg.Pool | pg.PoolClient,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  const result = await target.query(sql, params as unknown[] | undefined);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
}

/** Names of the statements `insertRows` has prepared, by their text: the same text, the same name. */
const statementNames = new Map<string, string>();

async function insertRows(target: pg.Pool | pg.PoolClient, spec: RowsInsert): Promise<void> {
  const { text, value } = insertRowsStatement(spec);
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `brainmesh_rows_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  await target.query({ name, text, values: [value] });
}

/** Queries on one connection of the pool (a transaction's, or a lock's). */
function on(client: pg.PoolClient): Queryable {
  return {
    query: (sql, params) => runQuery(client, sql, params),
    exec: async (sql) => {
      await client.query(sql);
    },
    insertRows: (spec) => insertRows(client, spec),
  };
}

async function inTransaction<T>(client: pg.PoolClient, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(on(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return messageOf(err.errors[0]);
  return err instanceof Error ? err.message || err.name : String(err);
}
