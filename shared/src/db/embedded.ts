import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import lockfile from 'proper-lockfile';
import { BrainmeshError } from '../errors.js';
import { type Db, INT8_OID, type Queryable, type QueryResult, type Session } from './db.js';
import { insertRowsSql, type RowsInsert } from './rows-insert.js';

export interface EmbeddedDbOptions {
  /** Folder for the database files; omitted, the database lives in memory and dies with the process. */
  dataDir?: string;
  /** How long to wait for another process to let go of the folder before giving up. */
  lockTimeoutMs?: number;
}

const parsers = { [INT8_OID]: (v: string) => Number(v) };
/**
 * The extensions packs may ask for (pack-db.ts), available to CREATE EXTENSION as on a server.
 * Registering one loads nothing until it is created.
 */
const extensions = { pg_trgm };

export async function openEmbeddedDb(options: EmbeddedDbOptions = {}): Promise<Db> {
  const { dataDir } = options;
  if (dataDir === undefined) return new EmbeddedDb(await PGlite.create({ parsers, extensions }), undefined);

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // PGlite is a single-process database: a second process opening the same files would corrupt
  // them. The folder lock makes a second process wait its turn, then fail with a clear message.
  const release = await acquireFolderLock(dataDir, options.lockTimeoutMs ?? 20_000);
  try {
    return new EmbeddedDb(await PGlite.create(dataDir, { parsers, extensions }), release);
  } catch (cause) {
    await release();
    throw new BrainmeshError('DB_UNAVAILABLE', `cannot open the embedded database in ${dataDir}`, { cause });
  }
}

async function acquireFolderLock(dataDir: string, timeoutMs: number): Promise<() => Promise<void>> {
  const stepMs = 100;
  try {
    return await lockfile.lock(dataDir, {
      stale: 15_000,
      update: 5_000,
      retries: {
        retries: Math.max(1, Math.ceil(timeoutMs / stepMs)),
        factor: 1,
        minTimeout: stepMs,
        maxTimeout: stepMs,
      },
      // The lock is refreshed in the background; if that ever fails the process must not go on
      // writing files another process may now own.
      onCompromised: (err) => {
        process.emitWarning(`embedded database lock on ${dataDir} lost: ${err.message}`);
      },
    });
  } catch (cause) {
    throw new BrainmeshError(
      'DB_DATA_DIR_LOCKED',
      `the embedded database in ${dataDir} is in use by another brainmesh process; stop it, or give this process its own BRAINMESH_HOME`,
      { cause },
    );
  }
}

/**
 * One statement (or transaction) at a time, each in a turn of the event loop of its own. PGlite
 * runs the queries queued on it back to back through promise callbacks, so a queue of them holds
 * the event loop until it is empty: 300 inserts held it 110 ms here, and a node answering 150
 * calls at once on a busy machine missed the hub's health pings for seconds and lost its link
 * with every call on it. Between two statements now, sockets and timers get their turn.
 */
class Turns {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(nextTurn).then(fn);
    this.tail = result.catch(() => {});
    return result;
  }

  /** Resolves once every statement queued so far has run. */
  drained(): Promise<unknown> {
    return this.tail;
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

class EmbeddedDb implements Db {
  readonly kind = 'embedded' as const;
  private readonly turns = new Turns();

  constructor(
    private readonly pg: PGlite,
    private readonly release: (() => Promise<void>) | undefined,
  ) {}

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.turns.run(() => runQuery<R>(this.pg, sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.turns.run(() => this.pg.exec(sql));
  }

  insertRows(spec: RowsInsert): Promise<void> {
    return this.exec(insertRowsSql(spec));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // PGlite serialises every query behind an open transaction, so this is also the isolation;
    // its own statements go to it directly (`tx`), not behind it in the turns.
    return this.turns.run(() => this.pg.transaction((tx) => fn(wrapTx(tx))));
  }

  withLock<T>(_name: string, fn: (session: Session) => Promise<T>): Promise<T> {
    // The folder lock already makes this process the only one using the database.
    return fn(this);
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.pg.closed) return;
    // Statements already asked for are run, not failed against a closed database.
    await this.turns.drained();
    await this.pg.close();
    await this.release?.();
  }
}

function wrapTx(tx: Transaction): Queryable {
  return {
    query: (sql, params) => runQuery(tx, sql, params),
    exec: async (sql) => {
      await tx.exec(sql);
    },
    insertRows: async (spec) => {
      await tx.exec(insertRowsSql(spec));
    },
  };
}

async function runQuery<R>(
  target: PGlite | Transaction,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  const result = await target.query<R>(sql, params as unknown[] | undefined);
  return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
}
