import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type {
  CallToolResult,
  Prompt,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * MCP conventions hub and node share. The trace id of a proxied call travels in the request's
 * `_meta` under this key, so the hub's record of the call and the node's carry the same id.
 */
export const TRACE_META_KEY = 'io.brainmesh/traceId';

/**
 * In a tool's `_meta`: only principals with the hub's admin scope may see or call it, whatever
 * their other scopes (node:NAME, tools:*, read:*). The node marks it; the hub enforces it.
 */
export const ADMIN_ONLY_META_KEY = 'io.brainmesh/adminOnly';

/** What the hub and every node serve: lists that change and say so, completion, logging. */
export const SERVER_CAPABILITIES: ServerCapabilities = Object.freeze({
  tools: { listChanged: true },
  resources: { listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
});

/** A tool's input schema as MCP lists it: JSON Schema of what a caller may send (defaults optional). */
export function inputJsonSchema(schema: z.ZodObject): Tool['inputSchema'] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return json as Tool['inputSchema'];
}

/** Every problem zod found, as `field: what is wrong`, for a person (or a model) to fix the call. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length === 0 ? '(arguments)' : i.path.join('.')}: ${i.message}`).join('; ');
}

/** The tool error for arguments that fail their schema: an error the model can read and correct. */
export function invalidArguments(error: z.ZodError): CallToolResult {
  return toolError(`invalid arguments: ${describeIssues(error)}`);
}

/** A tool's answer that it failed, in words a person (or a model) can act on. */
export function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** What a client sent, cut for quoting back to it: enough to recognise, never a payload echoed whole. */
export function clip(text: string, max = 64): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

const MCP_ERROR_PREFIX = /^(MCP error -?\d+: )+/;

/**
 * A JSON-RPC error as it goes out through the SDK, which sends an error's `code` and `message`
 * as they are. The SDK's McpError writes "MCP error <code>: " into its message, and the client's
 * McpError writes it again ("MCP error -32602: MCP error -32602: unknown tool"); this one carries
 * the bare words.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** An error a server answered with (a node's, relayed), its "MCP error" prefixes taken off. */
  static relayed(err: { code: number; message: string; data?: unknown }): RpcError {
    return new RpcError(err.code, err.message.replace(MCP_ERROR_PREFIX, ''), err.data);
  }
}

export interface McpLists {
  tools: Tool[];
  resources: Resource[];
  templates: ResourceTemplate[];
  prompts: Prompt[];
}

export const EMPTY_LISTS: McpLists = Object.freeze({ tools: [], resources: [], templates: [], prompts: [] });

/** Everything a server offers, every page of it, asking only for what it declares. */
export async function listEverything(client: Client): Promise<McpLists> {
  const caps = client.getServerCapabilities() ?? {};
  const pages = async <T>(page: (cursor?: string) => Promise<[T[], string | undefined]>): Promise<T[]> => {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const [items, next] = await page(cursor);
      out.push(...items);
      cursor = next;
    } while (cursor !== undefined);
    return out;
  };
  const p = (cursor?: string) => (cursor === undefined ? {} : { cursor });
  const [tools, resources, templates, prompts] = await Promise.all([
    caps.tools ? pages((c) => client.listTools(p(c)).then((r) => [r.tools, r.nextCursor])) : [],
    caps.resources ? pages((c) => client.listResources(p(c)).then((r) => [r.resources, r.nextCursor])) : [],
    caps.resources
      ? pages((c) => client.listResourceTemplates(p(c)).then((r) => [r.resourceTemplates, r.nextCursor]))
      : [],
    caps.prompts ? pages((c) => client.listPrompts(p(c)).then((r) => [r.prompts, r.nextCursor])) : [],
  ]);
  return { tools, resources, templates, prompts };
}

/**
 * Whether a URI fits a resource template, each `{name}` standing for at least one character.
 * Matched by finding the literal parts in order (the glob way), not by a regular expression made
 * of a template a server sent, which could be made to backtrack for ever.
 */
export function fitsTemplate(template: string, uri: string): boolean {
  const parts = template.split(/\{[^}]*\}/);
  if (parts.length === 1) return template === uri;
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (!uri.startsWith(first) || !uri.endsWith(last)) return false;
  let at = first.length;
  const end = uri.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = uri.indexOf(part, at + 1);
    if (found === -1 || found + part.length > end - 1) return false;
    at = found + part.length;
  }
  return end - at >= 1;
}
