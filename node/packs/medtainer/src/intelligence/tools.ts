import { defineTool, type ToolDefinition, textResult } from '@brainmesh/node';
import { READ_ONLY, reply } from '@brainmesh/node/kit';
import { z } from 'zod';
import { contactName } from '../gohighlevel/match.js';
import { ghlId } from '../gohighlevel/wire.js';
import { computeInsights } from './insights.js';
import { recommend } from './recommendations.js';
import { scoreLead } from './score.js';
import { type CrmDeps, loadContactFacts, loadSnapshot } from './snapshot.js';

/**
 * The intelligence layer's tools. Deterministic and explainable: each figure comes with the rule
 * or the rows behind it, computed over the whole CRM (the sync cache when fresh).
 */
export function intelligenceTools(deps: CrmDeps & { now?: () => number }): ToolDefinition[] {
  const now = deps.now ?? Date.now;
  return [
    defineTool({
      name: 'gohighlevel.get_insights',
      title: 'Business insights',
      description:
        'The state of the CRM at a glance: totals, what needs action now, hot leads, the peak activity window, the best-converting lead source, the stage where most leads drop off, and ranked recommendations. Every figure says how it was computed.',
      input: z.object({}),
      annotations: READ_ONLY,
      handler: async (_args, ctx) => {
        const snapshot = await loadSnapshot(deps, ctx.signal);
        const insights = computeInsights(snapshot, now());
        return reply(ctx, snapshot.from, { ...insights, recommendations: recommend(insights) });
      },
    }),
    defineTool({
      name: 'gohighlevel.analyze_contact',
      title: 'Analyze a contact',
      description:
        "A contact's lead score (0–100) with the reason behind every point, when they were last in touch, and the suggested next action with the tools to take it.",
      input: z.object({ contactId: ghlId('contact') }),
      annotations: READ_ONLY,
      handler: async ({ contactId }, ctx) => {
        const { facts, from } = await loadContactFacts(deps, contactId, ctx.signal);
        if (facts === undefined) return textResult(`no contact ${contactId} in GoHighLevel`, true);
        const { contact } = facts;
        return reply(ctx, from, {
          contact: {
            id: contact.id,
            name: contactName(contact),
            email: contact.email,
            source: contact.source,
            tags: contact.tags,
          },
          ...scoreLead(facts, now()),
        });
      },
    }),
    defineTool({
      name: 'gohighlevel.get_recommendations',
      title: 'What to do next',
      description:
        'Prioritised actions for the business, each with the figures that justify it and the tools that carry it out.',
      input: z.object({ limit: z.number().int().min(1).max(20).default(10).describe('How many actions at most') }),
      annotations: READ_ONLY,
      handler: async ({ limit }, ctx) => {
        const snapshot = await loadSnapshot(deps, ctx.signal);
        const recommendations = recommend(computeInsights(snapshot, now())).slice(0, limit);
        return reply(ctx, snapshot.from, { recommendations });
      },
    }),
  ];
}
