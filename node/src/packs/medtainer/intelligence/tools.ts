import { z } from 'zod';
import { defineTool, type ToolDefinition, textResult } from '../../../pack.js';
import type { GhlCache } from '../cache/cache.js';
import type { Mode } from '../connections.js';
import type { GoHighLevelApi } from '../gohighlevel/client.js';
import { reply } from '../reply.js';
import { computeInsights, index } from './insights.js';
import { recommend } from './recommendations.js';
import { scoreLead } from './score.js';
import { loadSnapshot } from './snapshot.js';

/**
 * The intelligence layer's tools. Deterministic and explainable: each figure comes with the rule
 * or the rows behind it, computed over the whole CRM (the sync cache when fresh).
 */
export function intelligenceTools(deps: {
  api: GoHighLevelApi;
  mode: Mode;
  cache: GhlCache | null;
  now?: () => number;
}): ToolDefinition[] {
  const now = deps.now ?? Date.now;
  const readOnly = { readOnlyHint: true, idempotentHint: true, openWorldHint: true } as const;
  return [
    defineTool({
      name: 'gohighlevel.get_insights',
      title: 'Business insights',
      description:
        'The state of the CRM at a glance: totals, what needs action now, hot leads, the peak activity window, the best-converting lead source, the stage where most leads drop off, and ranked recommendations. Every figure says how it was computed.',
      input: z.object({}),
      annotations: readOnly,
      handler: async (_args, ctx) => {
        const snapshot = await loadSnapshot(deps);
        const insights = computeInsights(snapshot, now());
        return reply(ctx, snapshot.from, { ...insights, recommendations: recommend(insights) });
      },
    }),
    defineTool({
      name: 'gohighlevel.analyze_contact',
      title: 'Analyze a contact',
      description:
        "A contact's lead score (0–100) with the reason behind every point, when they were last in touch, and the suggested next action with the tools to take it.",
      input: z.object({ contactId: z.string().min(1).max(64).describe('The GoHighLevel contact id') }),
      annotations: readOnly,
      handler: async ({ contactId }, ctx) => {
        const snapshot = await loadSnapshot(deps);
        const contact = snapshot.contacts.find((c) => c.id === contactId);
        if (contact === undefined) return textResult(`no contact ${contactId} in GoHighLevel`, true);
        const related = index(snapshot).byContact.get(contactId);
        const analysis = scoreLead(
          {
            contact,
            opportunities: related?.opportunities ?? [],
            conversations: related?.conversations ?? [],
            pipelines: snapshot.pipelines,
          },
          now(),
        );
        return reply(ctx, snapshot.from, {
          contact: {
            id: contact.id,
            name: contact.name,
            email: contact.email,
            source: contact.source,
            tags: contact.tags,
          },
          ...analysis,
        });
      },
    }),
    defineTool({
      name: 'gohighlevel.get_recommendations',
      title: 'What to do next',
      description:
        'Prioritised actions for the business, each with the figures that justify it and the tools that carry it out.',
      input: z.object({ limit: z.number().int().min(1).max(20).default(10).describe('How many actions at most') }),
      annotations: readOnly,
      handler: async ({ limit }, ctx) => {
        const snapshot = await loadSnapshot(deps);
        const recommendations = recommend(computeInsights(snapshot, now())).slice(0, limit);
        return reply(ctx, snapshot.from, { recommendations });
      },
    }),
  ];
}
