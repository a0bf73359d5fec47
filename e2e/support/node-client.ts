import { type KeyRing, signLinkToken } from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

export interface NodeClientOptions {
  url: string;
  nodeId: string;
  hubId: string;
  ring: KeyRing;
  /** Who the calls are made for: the link token's `sub`. */
  principal: string;
  capabilities: ClientCapabilities;
}

/**
 * An MCP client straight to one node's Streamable HTTP endpoint, as the hub would be (the hub
 * itself uses the persistent link): every HTTP request carries a fresh link token signed with the
 * hub's key, for this node and principal, good once and for 30 seconds. For tests and benchmarks
 * that call a node directly.
 */
export function createNodeClient(options: NodeClientOptions): {
  client: Client;
  transport: StreamableHTTPClientTransport;
} {
  const linkedFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const token = await signLinkToken(options.ring, {
      iss: options.hubId,
      aud: options.nodeId,
      sub: options.principal,
    });
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', options.url), {
    fetch: linkedFetch,
    reconnectionOptions: {
      initialReconnectionDelay: 500,
      maxReconnectionDelay: 2_000,
      reconnectionDelayGrowFactor: 2,
      maxRetries: 1,
    },
  });
  const client = new Client({ name: 'brainmesh-hub', version: '0.1.0' }, { capabilities: options.capabilities });
  return { client, transport };
}
