import { inputJsonSchema, invalidArguments } from '@brainmesh/shared';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { HubServices, MeshTool } from '../mesh/mesh-tools.js';
import { HUB_READS, jsonToolResult } from '../mesh/tool-result.js';
import { nodeIdSchema } from '../registry.js';
import type { Access } from '../scopes.js';
import { type AdminOperations, enrolmentInput, keyIdSchema, keyInput, userInput } from './operations.js';

/**
 * The admin API as the hub's own tools, for principals with the admin scope only (listed for no
 * one else): an operator runs the mesh from any MCP client, and DevMCP's mesh pack calls them
 * through the hub as the operator (`ctx.callMesh`), never with a key of its own.
 */

const CHANGES = (destructive: boolean, idempotent: boolean) =>
  ({ readOnlyHint: false, destructiveHint: destructive, idempotentHint: idempotent, openWorldHint: false }) as const;
const admins = (access: Access) => access.isAdmin;

function adminTool<S extends z.ZodObject>(
  name: string,
  description: string,
  input: S,
  annotations: ToolAnnotations,
  run: (args: z.output<S>, admin: AdminOperations, hub: HubServices) => Promise<unknown>,
): [string, MeshTool] {
  return [
    name,
    {
      tool: { name, description, inputSchema: inputJsonSchema(input), annotations },
      visible: admins,
      run: async (args, _mesh, _access, hub) => {
        const parsed = input.safeParse(args);
        if (!parsed.success) return invalidArguments(parsed.error);
        return jsonToolResult(await run(parsed.data, hub.admin, hub));
      },
    },
  ];
}

const node = z.object({ node: nodeIdSchema }).strict();
const none = z.object({}).strict();

export const ADMIN_TOOLS: Readonly<Record<string, MeshTool>> = Object.fromEntries([
  adminTool(
    'mesh__status',
    "The hub (id, version, uptime, storage), how many nodes are up, down, connecting or disabled, how many are up with their circuit open, the mesh's tool count, and every node's state.",
    none,
    HUB_READS,
    (_a, admin) => admin.status(),
  ),
  adminTool(
    'mesh__nodes_show',
    'One node as the registry and its link see it: URL, status, link and direction, circuit, last seen, latency, tools, its pinned key ids.',
    node,
    HUB_READS,
    (a, admin) => admin.node(a.node),
  ),
  adminTool(
    'mesh__nodes_enrol',
    'Makes a one-time enrolment token for a new node (BRAINMESH_ENROLMENT_TOKEN at its first start), valid for `ttlMinutes` (the hub’s default otherwise). The token is shown once.',
    enrolmentInput,
    CHANGES(false, false),
    (a, admin, hub) => admin.enrol(a, hub.principal),
  ),
  adminTool(
    'mesh__nodes_disable',
    'Disables a node: its link is closed at once and its tools refused until it is enabled again.',
    node,
    CHANGES(true, true),
    (a, admin) => admin.setStatus(a.node, 'disabled'),
  ),
  adminTool(
    'mesh__nodes_enable',
    'Enables a disabled node; the hub links to it again.',
    node,
    CHANGES(false, true),
    (a, admin) => admin.setStatus(a.node, 'enabled'),
  ),
  adminTool(
    'mesh__nodes_remove',
    'Removes a node from the registry: its link is closed and it must be enrolled again to come back. Its audit trail stays.',
    node,
    CHANGES(true, true),
    async (a, admin) => {
      await admin.removeNode(a.node);
      return { removed: a.node };
    },
  ),
  adminTool(
    'mesh__nodes_rotate_keys',
    'Has a linked node make a new signing key; the hub pins it at once and the node retires keys older than the one before.',
    node,
    CHANGES(false, false),
    (a, admin) => admin.rotateKeys(a.node),
  ),
  adminTool(
    'mesh__nodes_reset_circuit',
    "Closes a node's circuit on this hub, so calls go to it again at once instead of after the breaker's wait.",
    node,
    CHANGES(false, true),
    (a, admin) => admin.resetCircuit(a.node),
  ),
  adminTool(
    'mesh__keys_create',
    'Makes an API key with the scopes given (admin, audit, node:NAME, tools:GLOB, read:GLOB), optionally expiring. The key is shown once.',
    keyInput,
    CHANGES(false, false),
    (a, admin) => admin.createKey(a),
  ),
  adminTool(
    'mesh__keys_list',
    'The API keys: id, name, scopes, when made, last used, expiry, revoked.',
    none,
    HUB_READS,
    async (_a, admin) => ({
      keys: await admin.listKeys(),
    }),
  ),
  adminTool(
    'mesh__keys_revoke',
    'Revokes an API key: refused from its next request on, on every hub replica.',
    z.object({ id: keyIdSchema }).strict(),
    CHANGES(true, true),
    async (a, admin) => {
      await admin.revokeKey(a.id);
      return { revoked: a.id };
    },
  ),
  adminTool(
    'mesh__audit_verify',
    "Walks every node's audit hash chain and signed batches (or one node's), and names the first row that does not hold: altered, removed or inserted.",
    z.object({ node: nodeIdSchema.optional() }).strict(),
    HUB_READS,
    (a, admin) => admin.auditVerify(a.node),
  ),
  adminTool(
    'mesh__audit_lag',
    "How far behind each node's audit shipping is: rows the node has written that the hub does not hold yet, and the last batch's delay.",
    none,
    HUB_READS,
    (_a, admin) => admin.auditLag(),
  ),
  adminTool(
    'mesh__users_list',
    'The operator accounts that may sign in to the hub (OAuth), with their scopes and when made.',
    none,
    HUB_READS,
    (_a, admin) => admin.users(),
  ),
  adminTool(
    'mesh__users_create',
    'Makes an operator account with the scopes given (admin by default). Without a password the hub makes one and shows it once.',
    userInput,
    CHANGES(false, false),
    (a, admin) => admin.createUser(a),
  ),
]);
