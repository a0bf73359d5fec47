import { NAMESPACE_SEPARATOR, namespacedName, sanitizeName } from '@brainmesh/shared';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { NodeLink } from './node-link.js';

/**
 * The hub's view of every node's tools, resources and prompts under client-safe names, and the
 * reverse map back to (node, original name). Built afresh whenever a node changes; never
 * guessed. Two of a node's names that map to one client name are both withheld and reported,
 * not silently overwritten.
 *
 * Resources keep their URI inside a hub URI: `brainmesh://<node>/<original URI>`, so a URI is
 * unambiguous across nodes and reversible without a table.
 */

export interface Routed<T> {
  link: NodeLink;
  /** The name (or URI) on the node. */
  name: string;
  item: T;
}

export interface CatalogProblem {
  node: string;
  message: string;
}

const RESOURCE_SCHEME = 'brainmesh://';

export function hubResourceUri(nodeId: string, uri: string): string {
  return `${RESOURCE_SCHEME}${nodeId}/${uri}`;
}

export function parseHubResourceUri(uri: string): { nodeId: string; uri: string } | undefined {
  if (!uri.startsWith(RESOURCE_SCHEME)) return undefined;
  const rest = uri.slice(RESOURCE_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { nodeId: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}

export class Catalog {
  private readonly tools = new Map<string, Routed<Tool>>();
  private readonly prompts = new Map<string, Routed<Prompt>>();
  readonly problems: CatalogProblem[] = [];

  constructor(private readonly links: ReadonlyMap<string, NodeLink>) {
    for (const link of links.values()) {
      this.add(link, link.lists.tools, this.tools, 'tool');
      this.add(link, link.lists.prompts, this.prompts, 'prompt');
    }
  }

  private add<T extends { name: string }>(
    link: NodeLink,
    items: readonly T[],
    into: Map<string, Routed<T>>,
    kind: string,
  ): void {
    const mine = new Map<string, T[]>();
    for (const item of items) {
      const name = namespacedName(link.id, item.name);
      mine.set(name, [...(mine.get(name) ?? []), item]);
    }
    for (const [name, same] of mine) {
      if (same.length > 1 || into.has(name)) {
        const names = same.map((i) => i.name).join(', ');
        this.problems.push({ node: link.id, message: `${kind}s ${names} all map to ${name}; none of them is served` });
        into.delete(name);
        continue;
      }
      into.set(name, { link, name: same[0]!.name, item: same[0]! });
    }
  }

  private static live(link: NodeLink): boolean {
    return link.status === 'up';
  }

  /** Tools of the nodes that are up, under their client names. */
  listTools(): Tool[] {
    return [...this.tools].filter(([, r]) => Catalog.live(r.link)).map(([name, r]) => ({ ...r.item, name }));
  }

  /** Every routed tool, down nodes' included (for discovery and to say a node is down). */
  allTools(): Array<[string, Routed<Tool>]> {
    return [...this.tools];
  }

  resolveTool(name: string): Routed<Tool> | undefined {
    return this.tools.get(name);
  }

  /**
   * The node a name belongs to by its namespace alone, for names the catalog cannot route
   * (a node that has not been reached since the hub started): the caller can then say the node
   * is down or disabled instead of "unknown tool".
   */
  ownerByNamespace(name: string): NodeLink | undefined {
    for (const link of this.links.values()) {
      if (name.startsWith(`${sanitizeName(link.id)}${NAMESPACE_SEPARATOR}`)) return link;
    }
    return undefined;
  }

  listPrompts(): Prompt[] {
    return [...this.prompts].filter(([, r]) => Catalog.live(r.link)).map(([name, r]) => ({ ...r.item, name }));
  }

  resolvePrompt(name: string): Routed<Prompt> | undefined {
    return this.prompts.get(name);
  }

  listResources(): Resource[] {
    return this.liveLinks().flatMap((link) =>
      link.lists.resources.map((r) => ({ ...r, uri: hubResourceUri(link.id, r.uri) })),
    );
  }

  listResourceTemplates(): ResourceTemplate[] {
    return this.liveLinks().flatMap((link) =>
      link.lists.templates.map((t) => ({ ...t, uriTemplate: hubResourceUri(link.id, t.uriTemplate) })),
    );
  }

  resolveResource(uri: string): { link: NodeLink; uri: string } | undefined {
    const parsed = parseHubResourceUri(uri);
    const link = parsed === undefined ? undefined : this.links.get(parsed.nodeId);
    return link === undefined || parsed === undefined ? undefined : { link, uri: parsed.uri };
  }

  private liveLinks(): NodeLink[] {
    return [...this.links.values()].filter(Catalog.live);
  }
}
