/**
 * How the benchmark's MCP SDK clients reach each gateway. Every client is the SDK's `Client`;
 * only the transport differs, as each endpoint requires.
 */
import { type KeyRing, signLinkToken } from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** Opens one new MCP session. */
export type Connect = () => Promise<Client>;

async function connected(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return client;
}

/** Streamable HTTP, optionally with a bearer credential (the brainmesh hub's API key). */
export function streamableHttp(url: string, bearer?: string): Connect {
  const requestInit = bearer === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${bearer}` } } };
  return () => connected(new StreamableHTTPClientTransport(new URL(url), requestInit));
}

/** The older HTTP+SSE transport: the only one mcp-hub's unified endpoint serves. */
export function httpSse(url: string): Connect {
  return () => connected(new SSEClientTransport(new URL(url)));
}

/**
 * Straight to a brainmesh node, as its hub would call it: every HTTP request carries a fresh
 * link token signed with the hub's key for that node (single-use, so one per request).
 */
export function linkedNode(options: { url: string; ring: KeyRing; hubId: string; nodeId: string }): Connect {
  const signedFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const token = await signLinkToken(options.ring, { iss: options.hubId, aud: options.nodeId, sub: 'operator' });
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  return () => connected(new StreamableHTTPClientTransport(new URL('/mcp', options.url), { fetch: signedFetch }));
}

/** The one tool of `client` whose name satisfies `match`: gateways rename tools, so look it up. */
export async function findTool(client: Client, what: string, match: (name: string) => boolean): Promise<string> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const found = names.filter(match);
  if (found.length !== 1)
    throw new Error(`${what}: expected one matching tool, found [${found.join(', ')}] among ${names.length}`);
  return found[0]!;
}
