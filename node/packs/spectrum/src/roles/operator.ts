import { defineTool, jsonResult, type ToolDefinition, textResult } from '@brainmesh/node';
import { z } from 'zod';
import { ROLES } from '../board/board.js';
import { rolePrompt } from './prompt.js';
import { ADDS, READS, sharedTools } from './shared.js';
import { actorOf, type Spectrum } from './spectrum.js';

/** The Operator: schedules, SLAs, board reports, runbooks, the incident log, the daily digest. */

/** Hours a task of each priority may wait open before it breaks its SLA. */
export type Slas = Record<'1' | '2' | '3' | '4' | '5', number>;

export function operatorTools(spectrum: Spectrum, options: { slaHours: Slas }): ToolDefinition[] {
  const { knowledge, board } = spectrum;
  return [
    ...sharedTools('operator', spectrum),
    defineTool({
      name: 'operator_log_incident',
      description:
        'Logs an incident: a document in the incident log (tagged incident and its severity) and an Operator task to resolve it, sev1 most urgent.',
      input: z.object({
        title: z.string().min(1).max(200),
        severity: z.enum(['sev1', 'sev2', 'sev3']),
        details: z.string().min(1).max(20_000),
      }),
      annotations: ADDS,
      handler: async ({ title, severity, details }, ctx) => {
        const actor = actorOf(ctx.principal, 'operator');
        const at = new Date().toISOString();
        const doc = await knowledge.put(
          {
            slug: `incident-${at.slice(0, 10)}-${Date.now().toString(36)}`,
            title: `Incident (${severity}): ${title}`,
            body: `Logged ${at} by ${ctx.principal}.\n\n${details}`,
            tags: ['incident', severity],
          },
          actor,
        );
        const task = await board.create(
          {
            title: `Resolve incident: ${title}`,
            brief: details,
            role: 'operator',
            priority: severity === 'sev1' ? 1 : severity === 'sev2' ? 2 : 3,
            knowledge: [doc.id],
          },
          actor,
        );
        return jsonResult({ incident: { ...doc, cite: `spectrum://knowledge/${doc.id}@${doc.version}` }, task });
      },
    }),
    defineTool({
      name: 'operator_sla_report',
      description:
        'Checks the board against the SLAs (hours a task of each priority may wait before someone claims it): what breaks them now, what is overdue, and how long done tasks took from creation to done, per role.',
      input: z.object({}),
      annotations: READS,
      handler: async () => {
        const waiting = await spectrum.db.query<{
          id: number;
          title: string;
          role: string;
          priority: number;
          hours: number;
        }>(
          `SELECT id, title, role, priority, extract(epoch FROM now() - created_at)::float8 / 3600 AS hours
             FROM tasks WHERE status = 'open' ORDER BY created_at`,
        );
        const breaches = waiting.rows
          .filter((t) => t.hours > options.slaHours[String(t.priority) as keyof Slas])
          .map((t) => ({
            ...t,
            hours: Math.round(t.hours * 10) / 10,
            slaHours: options.slaHours[String(t.priority) as keyof Slas],
          }));
        const cycle = await spectrum.db.query<{ role: string; done: number; avg_hours: number; max_hours: number }>(
          `SELECT t.role, count(*)::int AS done,
                  avg(extract(epoch FROM e.at - t.created_at))::float8 / 3600 AS avg_hours,
                  max(extract(epoch FROM e.at - t.created_at))::float8 / 3600 AS max_hours
             FROM tasks t JOIN LATERAL (
               SELECT at FROM task_events WHERE task_id = t.id AND kind = 'done' ORDER BY id DESC LIMIT 1) e ON true
            WHERE t.status = 'done' GROUP BY t.role ORDER BY t.role`,
        );
        const summary = await board.summary();
        return jsonResult({
          slaHours: options.slaHours,
          breaches,
          overdue: summary.overdue,
          cycleTime: ROLES.map((role) => {
            const c = cycle.rows.find((r) => r.role === role);
            return {
              role,
              done: c?.done ?? 0,
              avgHours: c === undefined ? null : Math.round(c.avg_hours * 10) / 10,
              maxHours: c === undefined ? null : Math.round(c.max_hours * 10) / 10,
            };
          }),
        });
      },
    }),
    defineTool({
      name: 'operator_find_runbook',
      description:
        'Finds the runbook for a situation: the best passages from documents tagged runbook, with citations.',
      input: z.object({ situation: z.string().min(1).max(500) }),
      annotations: READS,
      handler: async ({ situation }) =>
        jsonResult({ ...(await knowledge.search(situation, { limit: 5, tags: ['runbook'] })) }),
    }),
    defineTool({
      name: 'operator_mesh_health',
      description:
        "The mesh's health as the hub sees it (mesh__list_nodes, called through the hub as you): each node's status, link direction, circuit, last seen, tools and latency, with the nodes that are not up named first.",
      input: z.object({}),
      annotations: READS,
      handler: async (_args, ctx) => {
        const listed = await ctx.callMesh('mesh__list_nodes', {});
        const text = listed.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
        if (listed.isError === true) return textResult(`the hub could not list the nodes: ${text}`, true);
        const body = (listed.structuredContent ?? JSON.parse(text)) as { nodes?: { node?: string; status?: string }[] };
        const nodes = body.nodes ?? [];
        const notUp = nodes.filter((n) => n.status !== 'up');
        return jsonResult({
          healthy: notUp.length === 0,
          notUp: notUp.map((n) => n.node),
          nodes: [...notUp, ...nodes.filter((n) => n.status === 'up')],
        });
      },
    }),
    defineTool({
      name: 'operator_write_digest',
      description:
        "Writes today's digest into the knowledge base now (the schedule also writes it each morning): the board at a glance and the documents changed in the last day. Writing it again the same day makes a new version.",
      input: z.object({}),
      annotations: { ...ADDS, idempotentHint: true },
      handler: async (_args, ctx) =>
        jsonResult({ ...(await writeDigest(spectrum, actorOf(ctx.principal, 'operator'))) }),
    }),
  ];
}

/** The daily digest: the board and the last day's documents, as a document of its own (one per day). */
export async function writeDigest(spectrum: Spectrum, actor: { principal: string; role: string }) {
  const { knowledge, board } = spectrum;
  const summary = await board.summary();
  const since = Date.now() - 86_400_000;
  const changed = (await knowledge.list({ limit: 200 })).filter(
    (d) => Date.parse(d.updatedAt) >= since && !d.tags.includes('digest'),
  );
  const day = new Date().toISOString().slice(0, 10);
  const lines = [
    `# Digest ${day}`,
    '',
    '## Board',
    ...ROLES.map((role) => {
      const c = summary.counts[role];
      return `- ${role}: ${c.open} open, ${c.claimed + c.in_progress} in hand, ${c.blocked} blocked, ${c.done} done`;
    }),
    '',
    '## Blocked',
    ...(summary.blocked.length === 0
      ? ['- nothing']
      : summary.blocked.map(
          (b) => `- #${b.id} ${b.title} (${b.role}) waits for ${b.waitingFor.map((w) => `#${w}`).join(', ')}`,
        )),
    '',
    '## Overdue',
    ...(summary.overdue.length === 0
      ? ['- nothing']
      : summary.overdue.map((o) => `- #${o.id} ${o.title} (${o.role}), due ${o.dueAt}`)),
    '',
    '## Knowledge changed in the last day',
    ...(changed.length === 0
      ? ['- nothing']
      : changed.map((d) => `- ${d.title} (spectrum://knowledge/${d.id}@${d.version})`)),
  ];
  const doc = await knowledge.put(
    { slug: `digest-${day}`, title: `Digest ${day}`, body: lines.join('\n'), tags: ['digest'] },
    actor,
  );
  return { digest: { ...doc, cite: `spectrum://knowledge/${doc.id}@${doc.version}` }, text: lines.join('\n') };
}

export const operatorPrompt = rolePrompt('operator', [
  'You keep the agency running: you watch the board against its SLAs (operator_sla_report) and the mesh (operator_mesh_health), log incidents (operator_log_incident), find and follow runbooks (operator_find_runbook), and write the daily digest (operator_write_digest).',
]);
