import { definePack, defineTool, jsonResult, textResult, z } from '@brainmesh/node';

/**
 * The example pack of docs/packs.md: a package outside the runtime that keeps notes in a table of
 * its own schema. e2e/test/packs.test.ts copies it into a node's node_modules and calls it
 * through the hub.
 */
export default definePack({
  name: 'notes',
  version: '0.1.0',
  // Its block of the node config: `packs: [{ use: '@acme/brainmesh-pack-notes', settings: { maxNotes: 50 } }]`.
  settings: z.object({ maxNotes: z.coerce.number().int().min(1).max(10_000).default(100) }).strict(),
  // NOTES_MAX=20 in the node's environment sets settings.maxNotes (text, hence z.coerce above).
  env: { NOTES_MAX: 'maxNotes' },
  migrations: new URL('./migrations/', import.meta.url),
  create: ({ db, settings, logger }) => ({
    tools: [
      defineTool({
        name: 'add_note',
        description: 'Keeps a short note.',
        input: z.object({ text: z.string().min(1).max(2_000) }),
        annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
        // The note's text is hashed in the audit trail: who wrote one and when stays visible.
        audit: { hash: ['text'] },
        handler: async ({ text }, ctx) => {
          const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
          if ((rows[0]?.n ?? 0) >= settings.maxNotes) return textResult(`full: ${settings.maxNotes} notes`, true);
          await db.query('INSERT INTO notes (text, author) VALUES ($1, $2)', [text, ctx.principal]);
          logger.info({ principal: ctx.principal }, 'note added');
          return textResult('noted');
        },
      }),
      defineTool({
        name: 'list_notes',
        description: 'Lists the notes, newest first.',
        input: z.object({}),
        annotations: { readOnlyHint: true, openWorldHint: false },
        handler: async () => {
          const { rows } = await db.query<{ text: string; author: string }>(
            'SELECT text, author FROM notes ORDER BY id DESC',
          );
          return jsonResult({ notes: rows });
        },
      }),
      defineTool({
        name: 'peek',
        description: 'Tries to read a table outside the pack (for the isolation test): reports what Postgres says.',
        input: z.object({ table: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/) }),
        annotations: { readOnlyHint: true, openWorldHint: false },
        handler: async ({ table }) => {
          try {
            const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
            return jsonResult({ read: true, rows: rows[0]?.n });
          } catch (err) {
            return jsonResult({ read: false, error: err instanceof Error ? err.message : String(err) });
          }
        },
      }),
    ],
  }),
});
