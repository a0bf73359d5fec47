import { ADMIN_ONLY_META_KEY } from '@brainmesh/shared';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * What a principal may see and call, from the scopes on its key (or token):
 *
 *   admin            everything, and the admin API
 *   node:NAME        every tool, resource and prompt of one node
 *   tools:GLOB       tools whose hub name matches GLOB (`*` matches any run of name characters),
 *                    e.g. tools:medtainer__gohighlevel_*
 *   read:GLOB        the same, but only tools marked read-only (readOnlyHint)
 *   audit            the whole mesh's audit trail (mesh__audit_search), arguments included
 *
 * A node's tool marked admin-only (`_meta` ADMIN_ONLY_META_KEY: DevMCP's mesh management) is
 * seen and called with `admin` alone.
 * The hub's own discovery tools (mesh__search_tools, mesh__list_nodes, mesh__describe_tool) are
 * open to every principal and show only what it may call; mesh__audit_search needs `audit`.
 * Anything no scope grants is refused.
 */

const NODE = '[a-z0-9][a-z0-9-]{0,62}';
const GLOB = '[A-Za-z0-9_*-]{1,128}';

export const scopeSchema = z
  .string()
  .regex(
    new RegExp(`^(admin|audit|node:${NODE}|tools:${GLOB}|read:${GLOB})$`),
    'a scope is admin, audit, node:NAME, tools:GLOB or read:GLOB',
  );

export const scopesSchema = z.array(scopeSchema).min(1).max(50);

type Grant =
  | { kind: 'admin' }
  | { kind: 'audit' }
  | { kind: 'node'; node: string }
  | { kind: 'tools' | 'read'; pattern: RegExp; glob: string };

const globToRegExp = (glob: string) => new RegExp(`^${glob.split('*').map(escapeRegExp).join('[A-Za-z0-9_-]*')}$`);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Access {
  private readonly grants: Grant[];

  constructor(readonly scopes: readonly string[]) {
    this.grants = scopes.flatMap((scope): Grant[] => {
      const [kind, arg = ''] = scope.split(/:(.*)/s) as [string, string?];
      if (kind === 'admin') return [{ kind: 'admin' }];
      if (kind === 'audit') return [{ kind: 'audit' }];
      if (kind === 'node') return [{ kind: 'node', node: arg }];
      if (kind === 'tools' || kind === 'read') return [{ kind, pattern: globToRegExp(arg), glob: arg }];
      return []; // an unknown scope grants nothing
    });
  }

  get isAdmin(): boolean {
    return this.grants.some((g) => g.kind === 'admin');
  }

  /** May this principal read the audit trail? It shows every call's arguments, so only on purpose. */
  get readsAudit(): boolean {
    return this.grants.some((g) => g.kind === 'admin' || g.kind === 'audit');
  }

  /** May this principal see and call the tool listed as `name` on node `node`? */
  allowsTool(name: string, node: string, tool: Pick<Tool, 'annotations' | '_meta'>): boolean {
    if (tool._meta?.[ADMIN_ONLY_META_KEY] === true) return this.isAdmin;
    return this.grants.some((g) => {
      if (g.kind === 'admin') return true;
      if (g.kind === 'node') return g.node === node;
      if (g.kind === 'audit') return false;
      if (!g.pattern.test(name)) return false;
      return g.kind === 'tools' || tool.annotations?.readOnlyHint === true;
    });
  }

  /** May this principal read the node's resources and prompts (which change nothing)? */
  allowsNode(node: string): boolean {
    return this.grants.some((g) => {
      if (g.kind === 'admin') return true;
      if (g.kind === 'node') return g.node === node;
      if (g.kind === 'audit') return false;
      // A glob that can match some name of the node opens its resources and prompts.
      return g.glob === '*' || g.glob.startsWith(`${node}__`) || globToRegExp(g.glob).test(`${node}__`);
    });
  }

  /** The scope to ask for, said plainly, when a tool is refused. */
  static neededFor(name: string, node: string, tool: Pick<Tool, '_meta'>): string {
    if (tool._meta?.[ADMIN_ONLY_META_KEY] === true) return 'admin';
    return `tools:${name} or node:${node}`;
  }
}
