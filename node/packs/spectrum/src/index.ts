import { definePack, type PackContext, type PackInstance } from '@brainmesh/node';
import { BrainmeshError, type Db, type Logger } from '@brainmesh/shared';
import cron, { type ScheduledTask } from 'node-cron';
import { Board, ROLES, type Role } from './board/board.js';
import { chunkDocument } from './knowledge/chunk.js';
import { Knowledge } from './knowledge/engine.js';
import { ingestFolder } from './knowledge/folder.js';
import { builderPrompt, builderTools } from './roles/builder.js';
import { closerPrompt, closerTools } from './roles/closer.js';
import { operatorPrompt, operatorTools, writeDigest } from './roles/operator.js';
import { ROLE_TITLES, type Spectrum } from './roles/spectrum.js';
import { strategistPrompt, strategistTools } from './roles/strategist.js';
import { seedSampleAgency } from './sample/seed.js';
import { type SpectrumSettings, spectrumSettingsSchema } from './settings.js';

/**
 * Spectrum: a small agency's four cooperating agents (Strategist, Builder, Closer, Operator),
 * each an MCP client session working through its role's tools, over one knowledge engine and
 * one task board in the pack's own schema.
 */
export const pack = definePack({
  name: 'spectrum',
  version: '0.1.0',
  settings: spectrumSettingsSchema,
  migrations: new URL('../migrations/', import.meta.url),
  extensions: ['pg_trgm'],
  create: (ctx) => createSpectrum(ctx),
});

export default pack;

export { Board } from './board/board.js';
export { Knowledge, SEARCH_SQL, searchParams } from './knowledge/engine.js';

/** The folder of Spectrum's migrations, for tests and benchmarks on a database of their own. */
export const SPECTRUM_MIGRATIONS = new URL('../migrations/', import.meta.url);

export const inboxUri = (role: Role) => `spectrum://inbox/${role}`;
export const documentUri = (id: number) => `spectrum://knowledge/${id}`;

const INBOX_EVENTS: Record<string, string> = {
  created: 'arrived in',
  handoff: 'was handed to',
  unblocked: 'was unblocked in',
  returned: 'returned (lease ran out) to',
};

/** Who the board's own moves and the schedule's writes are recorded as. */
const SCHEDULE = { principal: 'schedule', role: 'operator' } as const;

export function createSpectrum(
  ctx: Pick<PackContext<SpectrumSettings>, 'db' | 'logger' | 'settings' | 'resourceUpdated'>,
): PackInstance {
  const { db, logger, settings } = ctx;
  const spectrum: Spectrum = {
    db,
    knowledge: new Knowledge(db, ({ id, title, version }) =>
      ctx.resourceUpdated(documentUri(id), `document ${id} "${title}" is at version ${version}`),
    ),
    board: new Board(db, { leaseSeconds: settings.leaseSeconds }),
  };
  // A role's inbox changes whenever a task lands in it: its subscribed sessions are told at once.
  spectrum.board.listen(({ role, taskId, kind, note }) => {
    const what = INBOX_EVENTS[kind] ?? kind;
    ctx.resourceUpdated(inboxUri(role), `task ${taskId} "${note}" ${what} the ${ROLE_TITLES[role]}'s inbox`);
  });
  let digest: ScheduledTask | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  return {
    tools: [
      ...strategistTools(spectrum),
      ...builderTools(spectrum),
      ...closerTools(spectrum, { crmNode: settings.crmNode }),
      ...operatorTools(spectrum, { slaHours: settings.slaHours }),
    ],
    prompts: [strategistPrompt, builderPrompt, closerPrompt, operatorPrompt],
    resourceTemplates: [
      {
        uriTemplate: 'spectrum://knowledge/{document}',
        name: 'knowledge-document',
        description:
          'A knowledge document, as citations name it: spectrum://knowledge/<id> (current version), <id>@<version>, or <id>@<version>#<chunk> (that chunk). Subscribe to hear of each new version.',
        mimeType: 'text/markdown',
        read: async (uri) => {
          const ref = /^spectrum:\/\/knowledge\/(\d{1,15})(?:@(\d{1,9}))?(?:#(\d{1,6}))?$/.exec(uri);
          if (ref === null)
            throw new BrainmeshError(
              'NOT_FOUND',
              `unknown resource ${uri}: spectrum://knowledge/<id>[@<version>][#<chunk>]`,
            );
          const doc = await spectrum.knowledge.get(Number(ref[1]), ref[2] === undefined ? undefined : Number(ref[2]));
          const text = ref[3] === undefined ? doc.body : (chunkDocument(doc.body)[Number(ref[3])]?.body ?? undefined);
          if (text === undefined)
            throw new BrainmeshError('NOT_FOUND', `document ${doc.id} version ${doc.version} has no chunk ${ref[3]}`);
          return { contents: [{ uri, mimeType: 'text/markdown', text }] };
        },
      },
    ],
    resources: ROLES.map((role) => ({
      uri: inboxUri(role),
      name: `${role}-inbox`,
      description: `The ${ROLE_TITLES[role]}'s inbox: its open tasks, most urgent first. Subscribe to hear of each task that lands in it (created, handed over, unblocked, returned when a lease ran out).`,
      mimeType: 'application/json',
      read: async () => ({
        contents: [
          {
            uri: inboxUri(role),
            mimeType: 'application/json',
            text: JSON.stringify({ role, open: await spectrum.board.list({ role, status: 'open' }) }, null, 2),
          },
        ],
      }),
    })),
    async start() {
      if (settings.seed === 'sample' && (await seedSampleAgency(spectrum))) logger.info('seeded the sample agency');
      if (settings.knowledgeFolder !== undefined) {
        const ingest = await ingestFolder(spectrum.knowledge, settings.knowledgeFolder, SCHEDULE);
        logger.info({ folder: settings.knowledgeFolder, ...ingest }, 'knowledge folder read');
      }
      digest = cron.schedule(settings.digest.schedule, () => void runDigest(spectrum, logger), {
        name: 'spectrum-digest',
        noOverlap: true,
      });
      // Leases that run out go back to the board (and their role is told) without waiting for
      // the next claim to notice.
      sweeper = setInterval(() => void sweep(spectrum, logger), Math.max(1_000, (settings.leaseSeconds * 1000) / 4));
      sweeper.unref();
    },
    async stop() {
      await digest?.destroy();
      clearInterval(sweeper);
    },
  };
}

async function runDigest(spectrum: Spectrum, logger: Logger): Promise<void> {
  try {
    const { digest } = await writeDigest(spectrum, SCHEDULE);
    logger.info({ document: digest.id, version: digest.version }, 'daily digest written');
  } catch (err) {
    logger.error({ err }, 'daily digest failed');
  }
}

async function sweep(spectrum: { board: Board; db: Db }, logger: Logger): Promise<void> {
  try {
    const expired = await spectrum.board.expireLeases();
    if (expired.length > 0) logger.info({ tasks: expired }, 'leases ran out; tasks back on the board');
  } catch (err) {
    logger.warn({ err }, 'lease sweep failed');
  }
}
