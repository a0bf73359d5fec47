import type { RowsInsert } from './rows-insert.js';

/**
 * One interface over a real Postgres server (`pg`) and embedded Postgres (PGlite). Both speak the
 * same SQL dialect, so the schema and every query are written once; the differences (connection
 * pools, cross-process locks, type parsing) stay inside the two adapters.
 */

export interface QueryResult<R> {
  rows: R[];
  /** Rows returned or affected. */
  rowCount: number;
}

export interface Queryable {
  /** One statement, `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements, no parameters (migrations, schema scripts). */
  exec(sql: string): Promise<void>;
  /** Rows in one statement, in the form this database takes best (rows-insert.ts). */
  insertRows(spec: RowsInsert): Promise<void>;
}

export interface Session extends Queryable {
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (and the
   * error rethrown). Nested calls are not supported; pass the `tx` down instead.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Db extends Session {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Runs `fn` holding a lock named `name` that excludes every other process using the same
   * database (a Postgres advisory lock; the embedded database is already owned by one process).
   */
  withLock<T>(name: string, fn: (session: Session) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Postgres' own int8 comes back as a string from `pg`; both adapters parse it to a number. */
export const INT8_OID = 20;
