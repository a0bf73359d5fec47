import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { BrainmeshError } from '@brainmesh/shared';
import { z } from 'zod';
import { draftThroughClient } from './draft.js';
import { rolePrompt } from './prompt.js';
import { ADDS, READS, roleName, sharedTools, taskId } from './shared.js';
import { actorOf, type Spectrum } from './spectrum.js';

/** The Strategist: briefs, plans broken into tasks for the other roles, priorities by a stated score, reviews. */
export function strategistTools(spectrum: Spectrum): ToolDefinition[] {
  const { knowledge, board } = spectrum;
  return [
    ...sharedTools('strategist', spectrum),
    defineTool({
      name: 'strategist_prioritise',
      description:
        'Ranks work by RICE (reach × impact × confidence ÷ effort) with every number shown; for items that are tasks, sets their board priority from the rank when asked (top fifth 1 … bottom fifth 5).',
      input: z.object({
        items: z
          .array(
            z.object({
              title: z.string().min(1).max(200),
              taskId: taskId.optional(),
              reach: z.number().min(0).describe('People or accounts affected per quarter'),
              impact: z.number().min(0.25).max(3).describe('0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive'),
              confidence: z.number().min(0).max(1).describe('0 to 1'),
              effort: z.number().positive().describe('Person-weeks'),
            }),
          )
          .min(1)
          .max(100),
        apply: z.boolean().default(false).describe('Set the tasks’ priorities from the ranking'),
      }),
      annotations: { ...ADDS, idempotentHint: true },
      handler: async ({ items, apply }, ctx) => {
        const ranked = items
          .map((item) => {
            const score = (item.reach * item.impact * item.confidence) / item.effort;
            return {
              ...item,
              score: Math.round(score * 100) / 100,
              formula: `${item.reach} × ${item.impact} × ${item.confidence} ÷ ${item.effort}`,
            };
          })
          .sort((a, b) => b.score - a.score || a.title.localeCompare(b.title))
          .map((item, i, all) => ({
            rank: i + 1,
            ...item,
            priority: Math.min(5, 1 + Math.floor((i * 5) / all.length)),
          }));
        const applied: number[] = [];
        if (apply) {
          for (const item of ranked) {
            if (item.taskId === undefined) continue;
            await spectrum.db.query('UPDATE tasks SET priority = $2, updated_at = now() WHERE id = $1', [
              item.taskId,
              item.priority,
            ]);
            await board.record(
              item.taskId,
              'prioritised',
              `RICE ${item.score} (${item.formula}), rank ${item.rank}`,
              { ...item },
              actorOf(ctx.principal, 'strategist'),
            );
            applied.push(item.taskId);
          }
        }
        return jsonResult({ method: 'RICE = reach × impact × confidence ÷ effort', ranked, applied });
      },
    }),
    defineTool({
      name: 'strategist_plan',
      description:
        'Breaks a goal into tasks for the roles, in one go: each step names its role and the steps it comes after; steps that wait start blocked and open as their predecessors finish. A brief document for the goal is written and linked to every task.',
      input: z.object({
        goal: z.string().min(1).max(200),
        brief: z.string().min(1).max(20_000).describe('The brief: why, for whom, what done looks like'),
        steps: z
          .array(
            z.object({
              key: z.string().min(1).max(40).describe('A short name other steps can refer to'),
              title: z.string().min(1).max(200),
              role: roleName,
              brief: z.string().max(5_000).default(''),
              after: z.array(z.string().min(1).max(40)).max(20).default([]),
              priority: z.number().int().min(1).max(5).default(3),
              dueAt: z.iso.datetime({ offset: true }).optional(),
            }),
          )
          .min(1)
          .max(50),
      }),
      annotations: ADDS,
      handler: async ({ goal, brief, steps }, ctx) => {
        const actor = actorOf(ctx.principal, 'strategist');
        const keys = new Set<string>();
        for (const step of steps) {
          if (keys.has(step.key)) throw new BrainmeshError('INVALID_INPUT', `step key "${step.key}" is used twice`);
          for (const k of step.after)
            if (!keys.has(k))
              throw new BrainmeshError(
                'INVALID_INPUT',
                `step "${step.key}" comes after "${k}", which is not an earlier step`,
              );
          keys.add(step.key);
        }
        const doc = await knowledge.put({ title: `Brief: ${goal}`, body: brief, tags: ['brief', 'plan'] }, actor);
        const ids = new Map<string, number>();
        const tasks = [];
        for (const step of steps) {
          const task = await board.create(
            {
              title: step.title,
              brief: step.brief,
              role: step.role,
              priority: step.priority,
              dueAt: step.dueAt,
              dependsOn: step.after.map((k) => ids.get(k)!),
              knowledge: [doc.id],
            },
            actor,
          );
          ids.set(step.key, task.id);
          tasks.push(task);
        }
        return jsonResult({ brief: { ...doc, cite: `spectrum://knowledge/${doc.id}@${doc.version}` }, tasks });
      },
    }),
    defineTool({
      name: 'strategist_draft_plan',
      description:
        "Drafts a plan for a goal from what the agency knows (knowledge search, related facts, the board's state). With a client that offers sampling, its model writes the draft; otherwise the gathered material comes back for the calling model to draft from.",
      input: z.object({ goal: z.string().min(1).max(500) }),
      annotations: READS,
      handler: async ({ goal }, ctx) =>
        draftThroughClient(ctx, {
          kind: 'plan',
          instructions: `Draft a plan for: ${goal}. Break it into steps for the Strategist, Builder, Closer and Operator, with what each step waits for.`,
          gathered: {
            goal,
            knowledge: (await knowledge.search(goal, { limit: 6 })).hits,
            board: await board.summary(),
          },
        }),
    }),
    defineTool({
      name: 'strategist_review',
      description:
        'Reviews finished work: accepts it, or asks for rework, which opens a follow-up task for the role that did it. The verdict goes on the task’s channel.',
      input: z.object({
        taskId,
        verdict: z.enum(['accept', 'rework']),
        notes: z.string().min(1).max(5_000),
      }),
      annotations: ADDS,
      handler: async ({ taskId: id, verdict, notes }, ctx) => {
        const actor = actorOf(ctx.principal, 'strategist');
        const task = await board.get(id);
        await board.comment(id, `Review: ${verdict}. ${notes}`, actor);
        await board.record(id, 'review', notes, { verdict }, actor);
        const followUp =
          verdict === 'rework'
            ? await board.create(
                {
                  title: `Rework: ${task.title}`,
                  brief: `From the Strategist's review of task ${id}:\n${notes}`,
                  role: task.role,
                  priority: Math.max(1, task.priority - 1),
                  knowledge: task.knowledge,
                },
                actor,
              )
            : undefined;
        return jsonResult({ task: await board.get(id), verdict, followUp: followUp ?? null });
      },
    }),
  ];
}

export const strategistPrompt = rolePrompt('strategist', [
  'You turn goals into briefs and plans, break plans into tasks for the other roles (strategist_plan), rank work by RICE with the numbers shown (strategist_prioritise), draft plans from what the agency knows (strategist_draft_plan), and review finished work (strategist_review).',
]);
