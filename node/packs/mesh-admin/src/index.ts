import { type CallContext, definePack, defineTool, type PackInstance, type ToolDefinition } from '@brainmesh/node';
import { confirmChange, confirmField, READ_ONLY } from '@brainmesh/node/kit';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * The operator's surface on DevMCP: the hub's admin tools (`mesh__status`, `mesh__nodes_*`,
 * `mesh__keys_*`), discovery and the audit trail, called through the hub as the caller
 * (`ctx.callMesh`). Every tool is admin-only: the hub shows them to admins alone, and refuses the
 * hub tools they call to anyone else as well; this node holds no key of its own. Every change asks the user first (elicitation), or needs
 * `confirm: true` where the client cannot ask.
 */
export const pack = definePack({
  name: 'mesh-admin',
  version: '0.1.0',
  create: () => meshAdmin(),
});

export default pack;

const changes = (destructive: boolean, idempotent: boolean) =>
  ({ readOnlyHint: false, destructiveHint: destructive, idempotentHint: idempotent, openWorldHint: true }) as const;
const node = z.string().min(1).max(63).describe('The node, by name');

/** A read: the hub's tool, called as the caller, its answer passed on as it came. */
function read<S extends z.ZodObject>(name: string, hubTool: string, description: string, input: S): ToolDefinition {
  return defineTool({
    name,
    description,
    input,
    annotations: READ_ONLY,
    adminOnly: true,
    handler: async (args, ctx) => ctx.callMesh(hubTool, args as Record<string, unknown>),
  });
}

/** A change: asked of the user first; its `confirm` field is this pack's, not the hub's. */
function change<S extends z.ZodObject>(
  name: string,
  hubTool: string,
  description: string,
  input: S,
  annotations: ToolAnnotations,
  what: (args: z.output<S>) => string,
  audit?: ToolDefinition['audit'],
): ToolDefinition {
  return defineTool({
    name,
    description: `${description} Asks the user to confirm first.`,
    input: input.extend({ confirm: confirmField }),
    annotations,
    adminOnly: true,
    ...(audit === undefined ? {} : { audit }),
    handler: async (args, ctx: CallContext): Promise<CallToolResult> => {
      const { confirm, ...rest } = args as z.output<S> & { confirm?: boolean };
      const asked = await confirmChange(ctx, confirm, what(rest as z.output<S>));
      if (!asked.ok) return { content: [{ type: 'text', text: asked.reason }], isError: true };
      return ctx.callMesh(hubTool, rest);
    },
  });
}

function meshAdmin(): PackInstance {
  return {
    tools: [
      read(
        'mesh_status',
        'mesh__status',
        "The mesh at a glance: the hub, every node's state, how many are up.",
        z.object({}),
      ),
      read(
        'mesh_nodes_list',
        'mesh__list_nodes',
        'The nodes: status, link direction, circuit, last seen, tools, latency.',
        z.object({}),
      ),
      read('mesh_nodes_show', 'mesh__nodes_show', 'One node in full, with its pinned key ids.', z.object({ node })),
      read(
        'mesh_tools_search',
        'mesh__search_tools',
        'Searches every node for tools by name, description and node.',
        z.object({ query: z.string().min(1).max(200), limit: z.number().int().min(1).max(100).default(20) }),
      ),
      read(
        'mesh_audit_search',
        'mesh__audit_search',
        'Searches the audit trail of every node (the caller needs the audit or admin scope): by node, tool, status, principal, trace id, time or words in the arguments.',
        z.object({
          node: z.string().min(1).max(63).optional(),
          tool: z.string().min(1).max(200).optional(),
          traceId: z.string().min(1).max(100).optional(),
          text: z.string().min(1).max(200).optional(),
          limit: z.number().int().min(1).max(100).default(20),
        }),
      ),
      read(
        'mesh_keys_list',
        'mesh__keys_list',
        'The API keys: id, name, scopes, last used, expiry, revoked.',
        z.object({}),
      ),
      change(
        'mesh_nodes_enrol',
        'mesh__nodes_enrol',
        'Makes a one-time enrolment token for a new node (shown once).',
        z.object({ node, ttlMinutes: z.number().int().min(1).max(1_440).optional() }),
        changes(false, false),
        (a) => `make an enrolment token for a new node "${a.node}"`,
        { redact: ['token'] },
      ),
      change(
        'mesh_nodes_disable',
        'mesh__nodes_disable',
        'Disables a node: its link closes at once and its tools are refused until enabled.',
        z.object({ node }),
        changes(true, true),
        (a) => `disable node "${a.node}" (its tools stop answering)`,
      ),
      change(
        'mesh_nodes_enable',
        'mesh__nodes_enable',
        'Enables a disabled node.',
        z.object({ node }),
        changes(false, true),
        (a) => `enable node "${a.node}"`,
      ),
      change(
        'mesh_nodes_remove',
        'mesh__nodes_remove',
        'Removes a node from the registry; it must be enrolled again to come back.',
        z.object({ node }),
        changes(true, true),
        (a) => `remove node "${a.node}" from the mesh`,
      ),
      change(
        'mesh_nodes_rotate_keys',
        'mesh__nodes_rotate_keys',
        'Has a node make a new signing key, pinned by the hub at once.',
        z.object({ node }),
        changes(false, false),
        (a) => `rotate the signing keys of node "${a.node}"`,
      ),
      change(
        'mesh_nodes_reset_circuit',
        'mesh__nodes_reset_circuit',
        "Closes a node's circuit so calls go to it again at once.",
        z.object({ node }),
        changes(false, true),
        (a) => `reset the circuit of node "${a.node}"`,
      ),
      change(
        'mesh_keys_create',
        'mesh__keys_create',
        'Makes an API key with the scopes given (shown once).',
        z.object({
          name: z.string().min(1).max(100),
          scopes: z.array(z.string().min(1).max(200)).min(1).max(50),
          expiresAt: z.iso.datetime({ offset: true }).optional(),
        }),
        changes(false, false),
        (a) => `create an API key "${a.name}" with ${a.scopes.join(', ')}`,
        { redact: ['key'] },
      ),
      change(
        'mesh_keys_revoke',
        'mesh__keys_revoke',
        'Revokes an API key, refused from its next request on.',
        z.object({ id: z.string().regex(/^[a-z0-9]{10}$/) }),
        changes(true, true),
        (a) => `revoke API key ${a.id}`,
      ),
      read(
        'mesh_audit_verify',
        'mesh__audit_verify',
        "Checks every node's audit hash chain and signed batches (or one node's) and names the first row that does not hold.",
        z.object({ node: node.optional() }),
      ),
      read(
        'mesh_audit_lag',
        'mesh__audit_lag',
        "How far behind each node's audit shipping is: rows not at the hub yet, and the last batch's delay.",
        z.object({}),
      ),
      read(
        'mesh_users_list',
        'mesh__users_list',
        'The operator accounts that may sign in to the hub, with their scopes.',
        z.object({}),
      ),
      change(
        'mesh_users_create',
        'mesh__users_create',
        'Makes an operator account (admin scope unless others are given); the hub makes its password and shows it once.',
        z.object({
          username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, . _ and -'),
          scopes: z.array(z.string().min(1).max(200)).min(1).max(50).default(['admin']),
        }),
        changes(false, false),
        (a) => `create an operator account "${a.username}" with ${a.scopes.join(', ')}`,
        { redact: ['password'] },
      ),
    ],
  };
}
