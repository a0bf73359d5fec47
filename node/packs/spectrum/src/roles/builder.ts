import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { z } from 'zod';
import { draftThroughClient } from './draft.js';
import { rolePrompt } from './prompt.js';
import { ADDS, READS, sharedTools, taskId } from './shared.js';
import { actorOf, type Spectrum } from './spectrum.js';

/** The Builder: specs, deliverables with versions, checklists, QA. */
export function builderTools(spectrum: Spectrum): ToolDefinition[] {
  const { knowledge, board } = spectrum;
  return [
    ...sharedTools('builder', spectrum),
    defineTool({
      name: 'builder_draft_spec',
      description:
        'Drafts a spec for a task from its brief, its linked documents and what the knowledge base says of its subject. With a client that offers sampling, its model writes the draft; otherwise the gathered material comes back for the calling model to draft from.',
      input: z.object({ taskId }),
      annotations: READS,
      handler: async ({ taskId: id }, ctx) => {
        const task = await board.get(id);
        const linked = await Promise.all(task.knowledge.map((d) => knowledge.get(d).catch(() => undefined)));
        return draftThroughClient(ctx, {
          kind: 'spec',
          instructions: `Draft a spec for task ${id} "${task.title}": scope, deliverables, acceptance checks, open questions.`,
          gathered: {
            task,
            linkedDocuments: linked
              .filter((d) => d !== undefined)
              .map((d) => ({ id: d.id, version: d.version, title: d.title, body: d.body })),
            knowledge: (await knowledge.search(`${task.title} ${task.brief}`.slice(0, 500), { limit: 5 })).hits,
          },
        });
      },
    }),
    defineTool({
      name: 'builder_publish_deliverable',
      description:
        "Publishes a task's deliverable as a versioned document (one per task: publishing again makes the next version), links it to the task and says so on the task's channel.",
      input: z.object({
        taskId,
        title: z.string().min(1).max(200),
        body: z.string().min(1).max(200_000),
        tags: z.array(z.string().min(1).max(40)).max(10).default([]),
      }),
      annotations: ADDS,
      handler: async ({ taskId: id, title, body, tags }, ctx) => {
        const actor = actorOf(ctx.principal, 'builder');
        await board.get(id);
        const doc = await knowledge.put(
          { slug: `deliverable-task-${id}`, title, body, tags: ['deliverable', `task-${id}`, ...tags] },
          actor,
        );
        await board.link(id, [doc.id], actor);
        if (doc.changed)
          await board.comment(
            id,
            `Deliverable "${title}" published, version ${doc.version} (spectrum://knowledge/${doc.id}@${doc.version}).`,
            actor,
          );
        return jsonResult({
          deliverable: { ...doc, cite: `spectrum://knowledge/${doc.id}@${doc.version}` },
          task: await board.get(id),
        });
      },
    }),
    defineTool({
      name: 'builder_checklist',
      description:
        "Sets or updates a task's checklist (the whole list each time) and returns how far along it is; without items, returns the current list.",
      input: z.object({
        taskId,
        items: z
          .array(z.object({ item: z.string().min(1).max(300), done: z.boolean().default(false) }))
          .max(100)
          .optional(),
      }),
      annotations: { ...ADDS, idempotentHint: true },
      handler: async ({ taskId: id, items }, ctx) => {
        if (items !== undefined) {
          const done = items.filter((i) => i.done).length;
          await board.record(
            id,
            'checklist',
            `${done} of ${items.length} done`,
            { items },
            actorOf(ctx.principal, 'builder'),
          );
        }
        const latest = await board.latest(id, 'checklist');
        const list = (latest?.detail.items as { item: string; done: boolean }[] | undefined) ?? [];
        const done = list.filter((i) => i.done).length;
        return jsonResult({
          taskId: id,
          items: list,
          done,
          total: list.length,
          remaining: list.filter((i) => !i.done).map((i) => i.item),
        });
      },
    }),
    defineTool({
      name: 'builder_qa',
      description:
        'Records a QA run on a task: each check passed or failed with a note. All passed: the run is recorded as a pass; any failed: as a fail, with the failures put on the task’s channel for whoever picks it up.',
      input: z.object({
        taskId,
        checks: z
          .array(
            z.object({
              check: z.string().min(1).max(300),
              passed: z.boolean(),
              note: z.string().max(2_000).default(''),
            }),
          )
          .min(1)
          .max(100),
      }),
      annotations: ADDS,
      handler: async ({ taskId: id, checks }, ctx) => {
        const actor = actorOf(ctx.principal, 'builder');
        const failed = checks.filter((c) => !c.passed);
        const verdict = failed.length === 0 ? 'pass' : 'fail';
        await board.record(
          id,
          'qa',
          `${verdict}: ${checks.length - failed.length} of ${checks.length} passed`,
          { verdict, checks },
          actor,
        );
        if (failed.length > 0)
          await board.comment(
            id,
            `QA failed:\n${failed.map((f) => `- ${f.check}${f.note === '' ? '' : `: ${f.note}`}`).join('\n')}`,
            actor,
          );
        return jsonResult({ taskId: id, verdict, passed: checks.length - failed.length, total: checks.length, failed });
      },
    }),
  ];
}

export const builderPrompt = rolePrompt('builder', [
  'You build what the plans call for: you draft specs (builder_draft_spec), keep a checklist per task (builder_checklist), publish deliverables as versioned documents (builder_publish_deliverable), and run QA before you call a task done (builder_qa).',
]);
