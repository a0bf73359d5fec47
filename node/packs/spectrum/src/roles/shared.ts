import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { LOCAL_READS } from '@brainmesh/node/kit';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ROLES, type Role } from '../board/board.js';
import { actorOf, ROLE_TITLES, type Spectrum } from './spectrum.js';

/**
 * The coordination and knowledge tools every role has, each under the role's own name
 * (`closer_search_knowledge`), so a key scoped to one role (`tools:spectrum__closer_*`) reaches
 * that role's tools and no other's, and every write is recorded as made by that role.
 */

/** Spectrum's reads touch its own tables only. */
export const READS = LOCAL_READS;
export const ADDS = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const satisfies ToolAnnotations;
export const CHANGES = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: false,
} as const satisfies ToolAnnotations;

export const taskId = z.number().int().positive().describe('The task id');
const tag = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-zA-Z0-9 _-]+$/, 'letters, digits, spaces, _ and -');
export const roleName = z.enum(ROLES);

export function sharedTools(role: Role, spectrum: Spectrum): ToolDefinition[] {
  const { knowledge, board } = spectrum;
  const me = ROLE_TITLES[role];
  const named = (name: string) => `${role}_${name}`;
  return [
    defineTool({
      name: named('search_knowledge'),
      description: `Searches the agency's shared knowledge (ranked full text, and names close to the words) and returns the best passages, each with the document, version and chunk to cite. Search is lexical: no embedding model is configured.`,
      input: z.object({
        query: z
          .string()
          .min(1)
          .max(500)
          .describe('What to look for, in plain words; "quotes" for a phrase, -word to exclude'),
        limit: z.number().int().min(1).max(20).default(5).describe('How many passages'),
        tags: z.array(tag).max(10).default([]).describe('Only documents with all of these tags'),
      }),
      annotations: READS,
      handler: async ({ query, limit, tags }) => jsonResult({ ...(await knowledge.search(query, { limit, tags })) }),
    }),
    defineTool({
      name: named('read_document'),
      description: 'Reads a knowledge document whole, by id or slug; an older version when asked for.',
      input: z.object({
        document: z.union([z.number().int().positive(), z.string().min(1).max(120)]).describe('Its id or slug'),
        version: z.number().int().positive().optional().describe('A past version (default: the current one)'),
      }),
      annotations: READS,
      handler: async ({ document, version }) => {
        const doc = await knowledge.get(document, version);
        return jsonResult({ ...doc, cite: `spectrum://knowledge/${doc.id}@${doc.version}` });
      },
    }),
    defineTool({
      name: named('write_document'),
      description: `Adds a document to the shared knowledge as the ${me}, or a new version of the one with the same slug (writing what is there already changes nothing). Markdown or plain text.`,
      input: z.object({
        title: z.string().min(1).max(200),
        body: z.string().min(1).max(200_000),
        tags: z.array(tag).max(20).default([]),
        slug: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'lowercase letters, digits and dashes')
          .optional()
          .describe('A stable name; from the title when left out'),
      }),
      annotations: ADDS,
      handler: async (args, ctx) => jsonResult({ ...(await knowledge.put(args, actorOf(ctx.principal, role))) }),
    }),
    defineTool({
      name: named('remember_fact'),
      description:
        'Records a fact in the shared graph: an entity (a client, a person, a product…), an observation about it, and/or a typed relation to another entity, with who recorded it and from which document.',
      input: z.object({
        entity: z.string().min(1).max(200),
        kind: z.string().min(1).max(40).default('thing').describe('client, person, product, competitor…'),
        observation: z.string().min(1).max(2_000).optional(),
        relation: z
          .object({
            type: z.string().min(1).max(60).describe('works_at, wants, competes_with…'),
            to: z.string().min(1).max(200),
            toKind: z.string().min(1).max(40).optional(),
          })
          .optional(),
        documentId: z.number().int().positive().optional().describe('The document this came from'),
      }),
      annotations: ADDS,
      handler: async (args, ctx) => jsonResult({ ...(await knowledge.remember(args, actorOf(ctx.principal, role))) }),
    }),
    defineTool({
      name: named('recall_facts'),
      description:
        'What the shared graph knows of an entity (by name, or the closest name): its observations and relations, each with who recorded it and when. Without a name, lists entities like the words given.',
      input: z.object({ entity: z.string().min(1).max(200) }),
      annotations: READS,
      handler: async ({ entity }) => {
        const fact = await knowledge.recall(entity);
        if (fact !== undefined) return jsonResult({ ...fact });
        return jsonResult({ found: false, similar: await knowledge.findEntities(entity) });
      },
    }),
    defineTool({
      name: named('create_task'),
      description: `Puts a task on the board for a role (this ${me}'s or another's), with a brief, priority (1 most urgent to 5), due date, tasks it waits for and documents it links to. A task that waits for unfinished ones starts blocked and opens when they are done.`,
      input: z.object({
        title: z.string().min(1).max(200),
        brief: z.string().max(10_000).default(''),
        role: roleName.default(role),
        priority: z.number().int().min(1).max(5).default(3),
        dueAt: z.iso.datetime({ offset: true }).optional().describe('ISO 8601'),
        dependsOn: z.array(taskId).max(50).default([]),
        knowledge: z.array(z.number().int().positive()).max(50).default([]).describe('Document ids'),
      }),
      annotations: ADDS,
      handler: async (args, ctx) => jsonResult({ ...(await board.create(args, actorOf(ctx.principal, role))) }),
    }),
    defineTool({
      name: named('list_tasks'),
      description: `Tasks on the board, most urgent first: by default the ${me}'s open and active ones.`,
      input: z.object({
        role: z.union([roleName, z.literal('all')]).default(role),
        status: z.enum(['open', 'claimed', 'in_progress', 'blocked', 'done', 'cancelled']).optional(),
        mine: z.boolean().default(false).describe('Only tasks I hold'),
        limit: z.number().int().min(1).max(200).default(50),
      }),
      annotations: READS,
      handler: async (args, ctx) =>
        jsonResult({
          tasks: await board.list({
            role: args.role === 'all' ? undefined : args.role,
            status: args.status,
            claimedBy: args.mine ? ctx.principal : undefined,
            limit: args.limit,
          }),
        }),
    }),
    defineTool({
      name: named('claim_next_task'),
      description: `Claims the ${me}'s most urgent open task under a lease (renew it with ${named('renew_lease')} while working; a lease left to run out returns the task to the board). Says so when nothing is open.`,
      input: z.object({}),
      annotations: ADDS,
      handler: async (_args, ctx) => {
        const task = await board.claimNext(role, actorOf(ctx.principal, role));
        return jsonResult(
          task === undefined
            ? { claimed: false, message: `no open task for the ${me}` }
            : { claimed: true, leaseSeconds: board.leaseSeconds, task, history: await board.history(task.id) },
        );
      },
    }),
    defineTool({
      name: named('renew_lease'),
      description: 'Extends the lease on a task you hold, so it stays yours while you work on it.',
      input: z.object({ taskId }),
      annotations: { ...ADDS, idempotentHint: true },
      handler: async ({ taskId: id }, ctx) => jsonResult({ task: await board.renew(id, actorOf(ctx.principal, role)) }),
    }),
    defineTool({
      name: named('update_task'),
      description:
        'Moves a task on: in_progress or blocked (stuck; you keep it) while you hold it; done or cancelled. Done opens the tasks that waited only for it.',
      input: z.object({
        taskId,
        status: z.enum(['in_progress', 'blocked', 'done', 'cancelled']),
        note: z.string().max(5_000).default('').describe('What happened'),
      }),
      annotations: CHANGES,
      handler: async ({ taskId: id, status, note }, ctx) =>
        jsonResult({ task: await board.setStatus(id, status, note, actorOf(ctx.principal, role)) }),
    }),
    defineTool({
      name: named('hand_off'),
      description: `Hands a task to another role with a note of what is done and what is needed; it lands open in that role's inbox at once, and that role's subscribed sessions are told.`,
      input: z.object({
        taskId,
        to: roleName,
        done: z.string().min(1).max(5_000).describe('What is done'),
        needed: z.string().min(1).max(5_000).describe('What the other role needs to do'),
      }),
      annotations: ADDS,
      handler: async ({ taskId: id, to, done, needed }, ctx) =>
        jsonResult({ task: await board.handOff(id, to, { done, needed }, actorOf(ctx.principal, role)) }),
    }),
    defineTool({
      name: named('comment_on_task'),
      description: "Adds a comment to a task's shared channel; returns the channel.",
      input: z.object({ taskId, text: z.string().min(1).max(5_000) }),
      annotations: ADDS,
      handler: async ({ taskId: id, text }, ctx) =>
        jsonResult({ comments: await board.comment(id, text, actorOf(ctx.principal, role)) }),
    }),
    defineTool({
      name: named('read_task'),
      description:
        'A task in full: its brief, state, what it waits for, linked documents, and its whole history and comments.',
      input: z.object({ taskId }),
      annotations: READS,
      handler: async ({ taskId: id }) => {
        const task = await board.get(id);
        const documents = await Promise.all(
          task.knowledge.map(async (d) => {
            try {
              const doc = await knowledge.get(d);
              return {
                id: doc.id,
                title: doc.title,
                version: doc.version,
                cite: `spectrum://knowledge/${doc.id}@${doc.version}`,
              };
            } catch {
              return { id: d, missing: true };
            }
          }),
        );
        return jsonResult({ task, documents, history: await board.history(id) });
      },
    }),
    defineTool({
      name: named('board_summary'),
      description:
        'The board at a glance: tasks per role and state, what is blocked and on what, what is overdue, and who holds what.',
      input: z.object({}),
      annotations: READS,
      handler: async () => jsonResult({ ...(await board.summary()) }),
    }),
  ];
}
