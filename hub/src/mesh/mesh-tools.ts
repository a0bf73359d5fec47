import { type Db, inputJsonSchema, invalidArguments, isBrainmeshError } from '@brainmesh/shared';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AdminOperations } from '../admin/operations.js';
import { ADMIN_TOOLS } from '../admin/tools.js';
import { auditSearchSchema, searchAudit } from '../audit/query.js';
import type { Access } from '../scopes.js';
import type { Mesh } from './mesh.js';
import { HUB_READS, jsonToolResult } from './tool-result.js';

/**
 * The hub's own tools, beside the nodes': discovery across the whole mesh, and the admin API
 * (admin/tools.ts). They live in the
 * `mesh` namespace, which no node can take (node names cannot contain `__`, and `mesh` is
 * reserved at enrolment).
 */

export { MESH_NAMESPACE } from './namespace.js';

import { MESH_NAMESPACE } from './namespace.js';

const searchInput = z
  .object({
    query: z.string().min(1).max(200).describe('Words to look for in tool names, descriptions and node names'),
    node: z.string().optional().describe('Only tools of this node'),
    readOnly: z.boolean().optional().describe('Only tools that do not change anything (readOnlyHint)'),
    limit: z.number().int().min(1).max(100).default(20),
  })
  .strict();
// The admin API's filters, with numbers as numbers (they come as JSON here, not a query string).
const auditSearchInput = auditSearchSchema.extend({
  limit: z.number().int().min(1).max(100).default(20).describe('How many events, at most'),
});
const describeInput = z.object({ name: z.string().min(1).describe('The tool name as listed by the hub') }).strict();
const listInput = z.object({}).strict();

/** What the hub's own tools run with, beside the mesh and the caller's access. */
export interface HubServices {
  db: Db;
  admin: AdminOperations;
  /** Who is calling, for what the tools record. */
  principal: string;
}

export interface MeshTool {
  tool: Tool;
  /** Listed and callable only for principals this allows; absent, for everyone. */
  visible?(access: Access): boolean;
  run(
    args: Record<string, unknown>,
    mesh: Mesh,
    access: Access,
    hub: HubServices,
  ): CallToolResult | Promise<CallToolResult>;
}

const DISCOVERY_TOOLS: Readonly<Record<string, MeshTool>> = {
  mesh__search_tools: {
    tool: {
      name: 'mesh__search_tools',
      description:
        'Searches every node of the mesh for tools by name, description and node, best matches first. Use it to find the right tool before calling it.',
      inputSchema: inputJsonSchema(searchInput),
      annotations: HUB_READS,
    },
    run: (args, mesh, access) => {
      const parsed = searchInput.safeParse(args);
      if (!parsed.success) return invalidArguments(parsed.error);
      return jsonToolResult({ results: searchTools(mesh, parsed.data, access) });
    },
  },
  mesh__list_nodes: {
    tool: {
      name: 'mesh__list_nodes',
      description:
        'Lists the nodes of the mesh: status, which side dials its link (dial-in: the hub reaches it; dial-out: it reaches the hub from behind NAT), its circuit (closed, or open since when and until when: calls refused meanwhile), when each was last seen, how many tools it has, and its latency.',
      inputSchema: inputJsonSchema(listInput),
      annotations: HUB_READS,
    },
    run: (args, mesh, access) => {
      const parsed = listInput.safeParse(args);
      if (!parsed.success) return invalidArguments(parsed.error);
      const visible = [...mesh.links.values()].filter((link) => access.allowsNode(link.id));
      const nodes = visible.map((link) => ({
        node: link.id,
        status: link.status,
        direction: link.direction ?? null,
        lastSeen: link.lastSeen?.toISOString() ?? null,
        downSince: link.downSince?.toISOString() ?? null,
        circuit: link.circuitView(),
        tools: link.status === 'up' ? link.lists.tools.length : 0,
        latencyMs: link.latencyMs ?? null,
      }));
      return jsonToolResult({ nodes });
    },
  },
  mesh__audit_search: {
    tool: {
      name: 'mesh__audit_search',
      description:
        'Searches the audit trail of every node: who called which tool, with which arguments, what came back, how long it took. Newest first; filters combine; pass nextCursor back as cursor for more.',
      inputSchema: inputJsonSchema(auditSearchInput),
      annotations: HUB_READS,
    },
    visible: (access) => access.readsAudit,
    run: async (args, _mesh, _access, hub) => {
      const parsed = auditSearchInput.safeParse(args);
      if (!parsed.success) return invalidArguments(parsed.error);
      try {
        return jsonToolResult(await searchAudit(hub.db, parsed.data));
      } catch (err) {
        if (isBrainmeshError(err, 'INVALID_INPUT'))
          return { content: [{ type: 'text', text: err.message }], isError: true };
        throw err;
      }
    },
  },
  mesh__describe_tool: {
    tool: {
      name: 'mesh__describe_tool',
      description: "Shows one tool's full input schema, annotations and the node it comes from.",
      inputSchema: inputJsonSchema(describeInput),
      annotations: HUB_READS,
    },
    run: (args, mesh, access) => {
      const parsed = describeInput.safeParse(args);
      if (!parsed.success) return invalidArguments(parsed.error);
      const own = meshTool(parsed.data.name, access);
      if (own !== undefined)
        return jsonToolResult({ ...own.tool, node: MESH_NAMESPACE, nameOnNode: own.tool.name, nodeStatus: 'up' });
      const routed = mesh.catalog.resolveTool(parsed.data.name);
      // A tool outside the principal's scopes is described as if it did not exist.
      if (routed === undefined || !access.allowsTool(parsed.data.name, routed.link.id, routed.item)) {
        return {
          content: [{ type: 'text', text: `no tool named ${parsed.data.name}; try mesh__search_tools` }],
          isError: true,
        };
      }
      return jsonToolResult({
        ...routed.item,
        name: parsed.data.name,
        node: routed.link.id,
        nameOnNode: routed.name,
        nodeStatus: routed.link.status,
      });
    },
  },
};

/** The hub's own tools: discovery for everyone (as scopes allow), and the admin API for admins. */
export const MESH_TOOLS: Readonly<Record<string, MeshTool>> = { ...DISCOVERY_TOOLS, ...ADMIN_TOOLS };

/** The hub's own tools this principal may see and call. */
export function meshToolsFor(access: Access): MeshTool[] {
  return Object.values(MESH_TOOLS).filter((m) => m.visible?.(access) ?? true);
}

/** One of the hub's own tools, if it exists and this principal may see it. */
export function meshTool(name: string, access: Access): MeshTool | undefined {
  const own = Object.hasOwn(MESH_TOOLS, name) ? MESH_TOOLS[name] : undefined;
  return own !== undefined && (own.visible?.(access) ?? true) ? own : undefined;
}

interface SearchHit {
  name: string;
  node: string;
  title?: string;
  description: string;
  readOnly: boolean;
  nodeStatus: string;
  score: number;
}

/**
 * A small ranked search: each query word scores by where it is found (the tool's own name
 * weighs most, then its node, then its description), whole-word matches above partial ones.
 */
export function searchTools(mesh: Mesh, query: z.output<typeof searchInput>, access: Access): SearchHit[] {
  const words = query.query
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const hits: SearchHit[] = [];
  const candidates: Array<[string, string, Tool, string]> = [
    ...meshToolsFor(access).map((m): [string, string, Tool, string] => [m.tool.name, MESH_NAMESPACE, m.tool, 'up']),
    ...mesh.catalog
      .allTools()
      .filter(([name, r]) => access.allowsTool(name, r.link.id, r.item))
      .map(([name, r]): [string, string, Tool, string] => [name, r.link.id, r.item, r.link.status]),
  ];
  for (const [name, node, tool, status] of candidates) {
    if (query.node !== undefined && node !== query.node) continue;
    const readOnly = tool.annotations?.readOnlyHint === true;
    if (query.readOnly === true && !readOnly) continue;
    const fields = {
      name: tool.name.toLowerCase().split(/[^a-z0-9]+/),
      node: node.toLowerCase().split(/[^a-z0-9]+/),
      text: `${tool.title ?? ''} ${tool.description ?? ''}`.toLowerCase().split(/[^a-z0-9]+/),
    };
    let score = 0;
    for (const word of words) {
      score += weigh(fields.name, word, 10) + weigh(fields.node, word, 4) + weigh(fields.text, word, 2);
    }
    // An empty query: the whole catalog (the dashboard's list), in name order. A query of no
    // words (punctuation) still finds nothing.
    if (score === 0 && query.query.trim() !== '') continue;
    hits.push({
      name,
      node,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description ?? '',
      readOnly,
      nodeStatus: status,
      score,
    });
  }
  return hits.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)).slice(0, query.limit);
}

/** One tool as the caller may see it, whole (schemas and annotations), or undefined. */
export function describeTool(mesh: Mesh, name: string, access: Access): { node: string; tool: Tool } | undefined {
  const own = meshToolsFor(access).find((m) => m.tool.name === name);
  if (own !== undefined) return { node: MESH_NAMESPACE, tool: own.tool };
  const routed = mesh.catalog.resolveTool(name);
  if (routed === undefined || !access.allowsTool(name, routed.link.id, routed.item)) return undefined;
  return { node: routed.link.id, tool: { ...routed.item, name } };
}

function weigh(tokens: string[], word: string, weight: number): number {
  if (tokens.includes(word)) return weight;
  if (word.length >= 3 && tokens.some((t) => t.startsWith(word) || (t.length >= 4 && word.startsWith(t))))
    return weight / 2;
  return 0;
}
