import path from 'node:path';
import type { Db } from './db.js';
import { openEmbeddedDb } from './embedded.js';
import { openPostgresDb } from './postgres.js';

export interface OpenDbOptions {
  /** Real Postgres when set; otherwise embedded Postgres under `home`. */
  databaseUrl?: string | undefined;
  /** The process's data folder; the embedded database lives in `<home>/<name>`. */
  home: string;
  /** Folder name under home for the embedded database, and the schema on a shared server. */
  name: string;
  /** Schema on the real server (default: the URL's search_path, usually public); unused when embedded. */
  schema?: string | undefined;
}

export function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl !== undefined) {
    return openPostgresDb({
      url: options.databaseUrl,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
    });
  }
  return openEmbeddedDb({ dataDir: path.join(options.home, options.name) });
}
