import { createHash } from 'node:crypto';
import { BrainmeshError } from '../errors.js';
import type { Db, Queryable, QueryResult, Session } from './db.js';
import { insertRowsSql, type RowsInsert } from './rows-insert.js';

/**
 * A tool pack's own corner of a node's database: a schema owned by a NOLOGIN role of the pack's
 * own, and a handle that runs every statement as that role, with only that schema on its
 * search_path (`SET LOCAL ROLE` and `SET LOCAL search_path` inside a transaction). Postgres
 * itself then refuses the pack anything it does not own: the node's audit trail, another pack's
 * tables. The same on embedded Postgres (PGlite is Postgres) and on a real server.
 *
 * Not a sandbox: a pack is code in the node's process. The role keeps a pack's SQL (a mistake, a
 * query built from a model's words) inside its schema; the handle refuses the statements that
 * would leave the role, but a pack determined to escape (a DO block running dynamic SQL, its own
 * connection) can. Packs are code the operator chose to install.
 */

export interface PackStorage {
  /** Schema holding the pack's tables and its `schema_migrations`. */
  schema: string;
  /** NOLOGIN role owning the schema; every statement of the handle runs as it. */
  role: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Where a pack's tables live: `pack_<name>` in a node's own embedded database; on a shared server,
 * prefixed with the node's schema (`node_alpha__pack_notes`), so two nodes' packs never meet. Role
 * names are global to a Postgres cluster, so the role takes the same, node-qualified, name. Dashes
 * become _, and a name too long for Postgres is cut and hashed.
 */
export function packStorage(pack: string, nodeSchema?: string): PackStorage {
  const base = `pack_${pack.replaceAll('-', '_')}`;
  const full = nodeSchema === undefined ? base : `${nodeSchema}__${base}`;
  const name =
    full.length <= 63 ? full : `${full.slice(0, 54)}_${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
  if (!IDENT.test(name)) throw new BrainmeshError('INVALID_INPUT', `pack storage name "${name}" must match ${IDENT}`);
  return { schema: name, role: name };
}

/**
 * Extensions a pack may ask for: ones both embedded Postgres (PGlite loads them, embedded.ts)
 * and a Postgres server (contrib, trusted) have. A pack's role cannot create an extension; the
 * node's handle does, once per database, and the pack finds its functions and operator classes
 * on its search_path.
 */
export const PACK_EXTENSIONS = ['pg_trgm'] as const;
export type PackExtension = (typeof PACK_EXTENSIONS)[number];

/** Where extensions go when the database has them nowhere yet: a schema of their own, shared by packs. */
const EXTENSIONS_SCHEMA = 'brainmesh_extensions';

/** Installs the extension if the database lacks it; resolves with the schema that holds it. */
async function ensureExtension(db: Db, name: PackExtension): Promise<string> {
  const where = async () =>
    (
      await db.query<{ schema: string }>(
        `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
          WHERE e.extname = $1`,
        [name],
      )
    ).rows[0]?.schema;
  const found = await where();
  if (found !== undefined) return found;
  try {
    // Two nodes starting at once on one server: losing the race means it is there.
    await ignoring(['42P06', '42710', '23505'], () => db.exec(`CREATE SCHEMA IF NOT EXISTS ${EXTENSIONS_SCHEMA}`));
    await ignoring(['42710', '23505'], () =>
      db.exec(`CREATE EXTENSION IF NOT EXISTS ${name} SCHEMA ${EXTENSIONS_SCHEMA}`),
    );
  } catch (cause) {
    throw new BrainmeshError(
      'DB_UNAVAILABLE',
      `the database lacks the extension ${name} and this node may not create it; an administrator can (CREATE EXTENSION ${name})`,
      { cause },
    );
  }
  const made = await where();
  if (made === undefined) throw new BrainmeshError('DB_UNAVAILABLE', `the extension ${name} could not be installed`);
  return made;
}

export interface OpenPackDbOptions {
  /** Extensions the pack uses: installed if missing, their schema put on the pack's search_path. */
  extensions?: readonly PackExtension[];
}

/**
 * Creates the pack's role and schema if missing (the node's own handle does this, once, at start)
 * and returns the pack's restricted handle. The role is granted to the connecting user when that
 * user is not a superuser, so it may SET ROLE to it.
 */
export async function openPackDb(db: Db, storage: PackStorage, options: OpenPackDbOptions = {}): Promise<Db> {
  const { schema, role } = storage;
  if (!IDENT.test(schema) || !IDENT.test(role))
    throw new BrainmeshError('INVALID_INPUT', `pack storage names must match ${IDENT}`);
  const unknown = (options.extensions ?? []).filter((e) => !(PACK_EXTENSIONS as readonly string[]).includes(e));
  if (unknown.length > 0)
    throw new BrainmeshError(
      'INVALID_INPUT',
      `a pack may use the extensions ${PACK_EXTENSIONS.join(', ')}, not ${unknown.join(', ')}`,
    );
  const extensionSchemas: string[] = [];
  for (const extension of options.extensions ?? []) {
    const where = await ensureExtension(db, extension);
    if (!IDENT.test(where))
      throw new BrainmeshError('DB_UNAVAILABLE', `the extension ${extension} lives in a schema named oddly: ${where}`);
    if (!extensionSchemas.includes(where)) extensionSchemas.push(where);
  }
  await db.withLock(`pack-storage:${schema}`, async (session) => {
    const { rows } = await session.query<{ found: boolean; super: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS found,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super`,
      [role],
    );
    if (rows[0]?.found !== true)
      await ignoring(['42710', '23505'], () => session.exec(`CREATE ROLE "${role}" NOLOGIN`));
    if (rows[0]?.super !== true) await session.exec(`GRANT "${role}" TO CURRENT_USER`);
    await ignoring(['42P06', '23505'], () =>
      session.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}" AUTHORIZATION "${role}"`),
    );
    for (const where of extensionSchemas) await session.exec(`GRANT USAGE ON SCHEMA "${where}" TO "${role}"`);
  });
  return new PackDb(db, storage, extensionSchemas);
}

/** Drops a pack's schema (tables and all) and its role: for tests, and for removing a pack for good. */
export async function dropPackStorage(db: Db, storage: PackStorage): Promise<void> {
  await db.exec(`DROP SCHEMA IF EXISTS "${storage.schema}" CASCADE`);
  const { rows } = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [storage.role]);
  // What it was granted (the extensions' schema) goes with it.
  if (rows.length > 0) await db.exec(`DROP OWNED BY "${storage.role}"`);
  await db.exec(`DROP ROLE IF EXISTS "${storage.role}"`);
}

/** Statements that would leave the pack's role for the node's. */
const ESCAPE =
  /(?:^|;)\s*(?:set|reset)\s+(?:session\s+|local\s+)?(?:role|session\s+authorization|all)\b|\bset_config\s*\(\s*'(?:role|session_authorization)'/i;

class PackDb implements Db {
  readonly kind: Db['kind'];
  private readonly enter: string;

  constructor(
    private readonly db: Db,
    private readonly storage: PackStorage,
    extensionSchemas: readonly string[] = [],
  ) {
    this.kind = db.kind;
    const path = [storage.schema, ...extensionSchemas].map((s) => `"${s}"`).join(', ');
    this.enter = `SET LOCAL ROLE "${storage.role}"; SET LOCAL search_path = ${path}`;
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return scoped(this.db, this.enter).query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return scoped(this.db, this.enter).exec(sql);
  }

  insertRows(spec: RowsInsert): Promise<void> {
    return scoped(this.db, this.enter).insertRows(spec);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return scoped(this.db, this.enter).transaction(fn);
  }

  withLock<T>(name: string, fn: (session: Session) => Promise<T>): Promise<T> {
    // Keyed by the pack's schema: two packs migrating at once do not wait on each other.
    return this.db.withLock(`${this.storage.schema}:${name}`, (session) => fn(scoped(session, this.enter)));
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  async close(): Promise<void> {
    // The node's database is the node's to close.
  }
}

/** Every statement in a transaction that first takes the pack's role and search_path. */
function scoped(session: Session, enter: string): Session {
  const inside = <T>(fn: (tx: Queryable) => Promise<T>) =>
    session.transaction(async (tx) => {
      await tx.exec(enter);
      return fn(guarded(tx));
    });
  return {
    query: (sql, params) => inside((tx) => tx.query(sql, params)),
    exec: (sql) => inside((tx) => tx.exec(sql)),
    insertRows: (spec) => inside((tx) => tx.insertRows(spec)),
    transaction: inside,
  };
}

function guarded(tx: Queryable): Queryable {
  return {
    query: (sql, params) => {
      refuseEscape(sql);
      return tx.query(sql, params);
    },
    exec: (sql) => {
      refuseEscape(sql);
      return tx.exec(sql);
    },
    insertRows: (spec) => {
      // The statement is made of the spec's names and types: checked as one text, either form.
      refuseEscape(insertRowsSql({ ...spec, rows: [] }));
      return tx.insertRows(spec);
    },
  };
}

function refuseEscape(sql: string): void {
  if (ESCAPE.test(sql))
    throw new BrainmeshError('FORBIDDEN', 'a pack may not change its database role (SET/RESET ROLE, set_config)');
}

async function ignoring(codes: string[], work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    // Two processes creating the same role or schema at once: losing the race means it is there.
    if (!codes.includes((err as { code?: string }).code ?? '')) throw err;
  }
}
