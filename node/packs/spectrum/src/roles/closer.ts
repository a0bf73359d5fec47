import { type CallContext, defineTool, jsonResult, type ToolDefinition, textResult } from '@brainmesh/node';
import { BrainmeshError } from '@brainmesh/shared';
import { z } from 'zod';
import { draftThroughClient } from './draft.js';
import { rolePrompt } from './prompt.js';
import { ADDS, READS, sharedTools } from './shared.js';
import { actorOf, type Spectrum } from './spectrum.js';

/**
 * The Closer: leads and deals, proposals, follow-up sequences, objections answered from
 * knowledge. Leads come from MedTainer's CRM through the hub when that node is in the mesh and
 * the caller may use it (the hub decides, with the caller's own scopes), and from Spectrum's own
 * list (`leads`) otherwise.
 */

interface Lead {
  id: number;
  name: string;
  company: string;
  email: string;
  stage: string;
  valueUsd: number;
  source: string;
  notes: string;
  lastContactAt: string | null;
  hot: boolean;
}

/** A lead is hot when it is worth something and was in touch within two weeks, and not closed. */
const HOT = `(stage NOT IN ('won', 'lost') AND value_usd >= 2000 AND last_contact_at > now() - interval '14 days')`;

/** A deal in the CRM is hot on the same terms: open, worth $2,000 or more, moved within two weeks. */
const HOT_VALUE = 2_000;
const HOT_DAYS = 14;

export function closerTools(spectrum: Spectrum, options: { crmNode: string }): ToolDefinition[] {
  const crmTool = `${options.crmNode}__gohighlevel_search_opportunities`;
  const { knowledge, board, db } = spectrum;
  const lead = async (id: number): Promise<Lead> => {
    const row = (await readLeads(spectrum, 'WHERE id = $1', [id]))[0];
    if (row === undefined) throw new BrainmeshError('NOT_FOUND', `no lead ${id}`);
    return row;
  };
  return [
    ...sharedTools('closer', spectrum),
    defineTool({
      name: 'closer_list_leads',
      description: `The Closer's leads, hottest first (open, worth $${HOT_VALUE.toLocaleString('en-US')} or more, in touch within ${HOT_DAYS} days). From MedTainer's CRM through the hub (${crmTool}, with your own rights) when it is in the mesh and you may use it; from Spectrum's own list otherwise, saying why.`,
      input: z.object({
        source: z
          .enum(['auto', 'crm', 'spectrum'])
          .default('auto')
          .describe(
            "auto: the CRM when reachable, else Spectrum's list; crm: the CRM or an error; spectrum: Spectrum's list",
          ),
        stage: z
          .enum(['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'])
          .optional()
          .describe("Spectrum's list only"),
        hotOnly: z.boolean().default(false),
        limit: z.number().int().min(1).max(100).default(25),
      }),
      annotations: READS,
      handler: async ({ source, stage, hotOnly, limit }, ctx) => {
        let crmRefusal: string | undefined;
        if (source !== 'spectrum') {
          const crm = await crmLeads(ctx, crmTool, limit);
          if (crm.ok) {
            const leads = hotOnly ? crm.leads.filter((l) => l.hot) : crm.leads;
            return jsonResult({ source: 'crm', via: crmTool, leads: leads.slice(0, limit) });
          }
          crmRefusal = crm.reason;
          if (source === 'crm')
            return textResult(`MedTainer's CRM could not be read through the hub: ${crm.reason}`, true);
        }
        const leads = await readLeads(
          spectrum,
          `WHERE ($1::text IS NULL OR stage = $1) AND (NOT $2 OR ${HOT})
           ORDER BY ${HOT} DESC, value_usd DESC, last_contact_at DESC NULLS LAST, id LIMIT $3`,
          [stage ?? null, hotOnly, limit],
        );
        return jsonResult({
          source: 'spectrum',
          ...(crmRefusal === undefined ? {} : { crm: `not used: ${crmRefusal}` }),
          leads,
        });
      },
    }),
    defineTool({
      name: 'closer_draft_proposal',
      description:
        "Drafts a proposal for a lead from what the agency knows: the lead, the facts on its company, and the knowledge base's services, pricing and case studies. With a client that offers sampling, its model writes the draft; otherwise the gathered material comes back for the calling model to draft from.",
      input: z.object({ leadId: z.number().int().positive(), angle: z.string().max(500).optional() }),
      annotations: READS,
      handler: async ({ leadId, angle }, ctx) => {
        const l = await lead(leadId);
        return draftThroughClient(ctx, {
          kind: 'proposal',
          instructions: `Draft a proposal for ${l.name} at ${l.company} (${l.stage}, about $${l.valueUsd}).${angle === undefined ? '' : ` Angle: ${angle}.`} Scope, price, timeline, next step.`,
          gathered: {
            lead: l,
            facts: (await knowledge.recall(l.company)) ?? null,
            knowledge: (await knowledge.search(`${l.company} ${l.notes} pricing services`.slice(0, 500), { limit: 6 }))
              .hits,
          },
        });
      },
    }),
    defineTool({
      name: 'closer_answer_objection',
      description:
        'Finds how the agency answers an objection (price, timing, trust…): the best passages from objection playbooks first, then anything else in the knowledge base, each with its citation.',
      input: z.object({ objection: z.string().min(1).max(1_000) }),
      annotations: READS,
      handler: async ({ objection }) => {
        const playbook = await knowledge.search(objection, { limit: 3, tags: ['objection'] });
        const elsewhere = await knowledge.search(objection, { limit: 3 });
        const seen = new Set(playbook.hits.map((h) => h.cite));
        return jsonResult({
          objection,
          mode: playbook.mode,
          playbook: playbook.hits,
          alsoRelevant: elsewhere.hits.filter((h) => !seen.has(h.cite)),
          found: playbook.hits.length + elsewhere.hits.length > 0,
        });
      },
    }),
    defineTool({
      name: 'closer_plan_follow_ups',
      description:
        'Plans a follow-up sequence for a lead: one Closer task per touch, each due some days after the one before and waiting for it, so they come up one at a time.',
      input: z.object({
        leadId: z.number().int().positive(),
        touches: z.number().int().min(1).max(10).default(3),
        everyDays: z.number().int().min(1).max(60).default(3),
        channel: z.enum(['email', 'call', 'linkedin']).default('email'),
      }),
      annotations: ADDS,
      handler: async ({ leadId, touches, everyDays, channel }, ctx) => {
        const l = await lead(leadId);
        const actor = actorOf(ctx.principal, 'closer');
        const tasks = [];
        let previous: number | undefined;
        const from = Date.now();
        for (let i = 1; i <= touches; i++) {
          const due = new Date(from + i * everyDays * 86_400_000).toISOString();
          const task = await board.create(
            {
              title: `Follow up ${l.name} (${l.company}): ${channel} ${i} of ${touches}`,
              brief: `Lead ${l.id}, ${l.stage}, about $${l.valueUsd}. ${l.notes}`,
              role: 'closer',
              priority: i === 1 ? 2 : 3,
              dueAt: due,
              dependsOn: previous === undefined ? [] : [previous],
            },
            actor,
          );
          previous = task.id;
          tasks.push(task);
        }
        await db.query(
          "UPDATE leads SET stage = CASE WHEN stage = 'new' THEN 'contacted' ELSE stage END WHERE id = $1",
          [leadId],
        );
        return jsonResult({ lead: await lead(leadId), tasks });
      },
    }),
  ];
}

interface CrmLead {
  id: string;
  name: string;
  contact: string | null;
  valueUsd: number;
  status: string;
  updatedAt: string | null;
  hot: boolean;
}

/** Open deals from the CRM node, through the hub, as the caller; hottest first. */
async function crmLeads(
  ctx: CallContext,
  tool: string,
  limit: number,
): Promise<{ ok: true; leads: CrmLead[] } | { ok: false; reason: string }> {
  let result: Awaited<ReturnType<CallContext['callMesh']>>;
  try {
    result = await ctx.callMesh(tool, { status: 'open', limit: 100 });
  } catch (err) {
    // The hub answers a tool the caller may not see, or that is not in the mesh, as unknown.
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  if (result.isError === true) return { ok: false, reason: text };
  const body = (result.structuredContent ?? JSON.parse(text)) as { opportunities?: Record<string, unknown>[] };
  const since = Date.now() - HOT_DAYS * 86_400_000;
  const leads = (body.opportunities ?? []).map((o): CrmLead => {
    const value = typeof o.monetaryValue === 'number' ? o.monetaryValue : 0;
    const updatedAt = typeof o.updatedAt === 'string' ? o.updatedAt : null;
    return {
      id: String(o.id),
      name: String(o.name ?? ''),
      contact: typeof o.contactName === 'string' ? o.contactName : null,
      valueUsd: value,
      status: String(o.status ?? ''),
      updatedAt,
      hot: value >= HOT_VALUE && updatedAt !== null && Date.parse(updatedAt) > since,
    };
  });
  leads.sort((a, b) => Number(b.hot) - Number(a.hot) || b.valueUsd - a.valueUsd || a.id.localeCompare(b.id));
  return { ok: true, leads: leads.slice(0, Math.max(limit, 1)) };
}

async function readLeads(spectrum: Spectrum, where: string, params: unknown[]): Promise<Lead[]> {
  const { rows } = await spectrum.db.query<{
    id: number;
    name: string;
    company: string;
    email: string;
    stage: string;
    value_usd: number;
    source: string;
    notes: string;
    last_contact_at: Date | null;
    hot: boolean;
  }>(`SELECT *, ${HOT} AS hot FROM leads ${where}`, params);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    company: r.company,
    email: r.email,
    stage: r.stage,
    valueUsd: r.value_usd,
    source: r.source,
    notes: r.notes,
    lastContactAt: r.last_contact_at?.toISOString() ?? null,
    hot: r.hot,
  }));
}

export const closerPrompt = rolePrompt('closer', [
  'You win and keep clients: you work the leads (closer_list_leads), draft proposals from what the agency knows (closer_draft_proposal), answer objections from the playbooks (closer_answer_objection), and plan follow-up sequences (closer_plan_follow_ups).',
]);
