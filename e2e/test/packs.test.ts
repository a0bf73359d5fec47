import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dropPackStorage, openPostgresDb, packStorage } from '@brainmesh/shared';
import { realServers, tempDir, uniqueName } from '@brainmesh/shared/testing';
import {
  type ConnectedClient,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  openHomeDb,
  startHub,
  startNode,
  suiteScope,
  text,
} from '../support/mesh.js';

/**
 * Issue 13's "done when": a pack built as a package in a folder outside the repository, with its
 * own migration, installed into a node's node_modules (beside its config), named in its yaml, and
 * called through the hub. Its table is in its own schema, owned by its own role, and Postgres
 * refuses it the node's audit trail.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLE = path.join(repo, 'examples', 'notes-pack');
const PACKAGE = '@acme/brainmesh-pack-notes';
const json = (result: Record<string, unknown>) => JSON.parse(text(result)) as Record<string, unknown>;

/** The pack's source in a temporary folder outside the repo: what its author would publish. */
function buildPackage(t: { after(fn: () => unknown): void }): string {
  const src = tempDir('pack-src');
  t.after(src.remove);
  cpSync(EXAMPLE, src.dir, { recursive: true });
  return src.dir;
}

/** `npm install`, by hand: the package into the node's node_modules, and the runtime it peers with. */
function install(pkg: string) {
  return (home: string) => {
    const modules = path.join(home, 'node_modules');
    const target = path.join(modules, ...PACKAGE.split('/'));
    if (existsSync(target)) return;
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(pkg, target, { recursive: true });
    mkdirSync(path.join(modules, '@brainmesh'), { recursive: true });
    symlinkSync(path.join(repo, 'node'), path.join(modules, '@brainmesh', 'node'), 'dir');
  };
}

const { databaseUrl } = realServers();
const backends = [
  { name: 'embedded', databaseUrl: undefined as string | undefined },
  ...(databaseUrl === undefined ? [] : [{ name: 'postgres', databaseUrl }]),
];

for (const backend of backends) {
  describe(`a pack installed from outside the repository (${backend.name})`, { timeout: 120_000 }, () => {
    let hub: HubProcess;
    let node: NodeProcess;
    let c: ConnectedClient;
    const ctx = suiteScope();
    after(() => ctx.dispose());
    // On a shared server the node keeps to node_<name>; its packs to node_<name>__pack_<pack>.
    const name = backend.databaseUrl === undefined ? 'notes' : uniqueName('notes').replaceAll('_', '-');
    const nodeSchema = backend.databaseUrl === undefined ? undefined : `node_${name.replaceAll('-', '_')}`;
    const storage = packStorage('notes', nodeSchema);

    before(async () => {
      if (backend.databaseUrl !== undefined) {
        const url = backend.databaseUrl;
        ctx.after(async () => {
          const db = await openPostgresDb({ url });
          await dropPackStorage(db, storage);
          await db.exec(`DROP SCHEMA IF EXISTS ${nodeSchema} CASCADE`);
          await db.close();
        });
      }
      hub = await startHub(ctx);
      node = await startNode(ctx, hub, {
        name,
        packs: [{ use: PACKAGE, settings: { maxNotes: 2 } }],
        setup: install(buildPackage(ctx)),
        env: backend.databaseUrl === undefined ? {} : { DATABASE_URL: backend.databaseUrl },
      });
      await nodeUp(hub, name);
      c = await connectClient(ctx, hub, {});
    });

    it("calls the pack's tools through the hub, with the settings the yaml gave it", async () => {
      const tool = (t: string) => `${name}__${t}`;
      assert.equal(text(await c.client.callTool({ name: tool('add_note'), arguments: { text: 'first' } })), 'noted');
      await c.client.callTool({ name: tool('add_note'), arguments: { text: 'second' } });
      const full = await c.client.callTool({ name: tool('add_note'), arguments: { text: 'third' } });
      assert.equal(full.isError, true);
      assert.equal(text(full), 'full: 2 notes');
      const listed = json(await c.client.callTool({ name: tool('list_notes'), arguments: {} }));
      assert.deepEqual(
        (listed.notes as Array<{ text: string }>).map((n) => n.text),
        ['second', 'first'],
      );
    });

    it('reaches its own table, and Postgres refuses it the audit trail and the node’s migrations', async () => {
      const peek = async (table: string) =>
        json(await c.client.callTool({ name: `${name}__peek`, arguments: { table } }));
      assert.deepEqual(await peek(`${storage.schema}.notes`), { read: true, rows: 2 });
      const home = nodeSchema ?? 'public';
      for (const table of [`${home}.tool_executions`, `${home}.schema_migrations`, `${home}.audit_outbox`]) {
        const answer = await peek(table);
        assert.equal(answer.read, false, table);
        assert.match(String(answer.error), /permission denied/, table);
      }
      // Unqualified, the audit table is not even on its search_path.
      assert.match(String((await peek('tool_executions')).error), /does not exist/);
    });

    it('keeps its table and its migration history in its own schema, owned by its own role', async () => {
      const inspect = async (query: (sql: string) => Promise<Array<Record<string, unknown>>>) => {
        const tables = await query(
          `SELECT schemaname, tableowner FROM pg_tables WHERE tablename = 'notes' AND schemaname = '${storage.schema}'`,
        );
        assert.deepEqual(tables, [{ schemaname: storage.schema, tableowner: storage.role }]);
        const versions = await query(`SELECT version, name FROM ${storage.schema}.schema_migrations`);
        assert.deepEqual(versions, [{ version: 1, name: 'notes' }]);
        // The pack's own audit policy (`audit: { hash: ['text'] }`): the note's text is a digest in the row.
        const rows = await query(
          `SELECT params->>'text' AS text, principal FROM ${nodeSchema ?? 'public'}.tool_executions
            WHERE tool = 'add_note' ORDER BY seq`,
        );
        assert.equal(rows.length, 3);
        for (const row of rows) assert.match(String(row.text), /^sha256:[0-9a-f]{64}$/);
        const runtime = await query(`SELECT version FROM ${nodeSchema ?? 'public'}.schema_migrations ORDER BY version`);
        assert.deepEqual(
          runtime.map((r) => r.version),
          [2, 4],
          "the runtime's track holds none of the pack's migrations",
        );
      };
      if (backend.databaseUrl === undefined) {
        // The embedded database is the running node's alone: looked at once it stops.
        await node.proc.stop('SIGTERM');
        const db = await openHomeDb(node.home, 'node-db');
        try {
          await inspect(async (sql) => (await db.query(sql)).rows);
        } finally {
          await db.close();
        }
      } else {
        const db = await openPostgresDb({ url: backend.databaseUrl });
        try {
          await inspect(async (sql) => (await db.query(sql)).rows);
        } finally {
          await db.close();
        }
      }
    });
  });
}
