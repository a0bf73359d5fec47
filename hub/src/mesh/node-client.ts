import { type KeyRing, signLinkToken } from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { NodeTransport } from './node-transport.js';

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
 * An MCP client to one node whose every HTTP request carries a fresh link token: signed by the
 * hub, for this node, for this principal, good once and for 30 seconds.
 */
export function createNodeClient(options: NodeClientOptions): { client: Client; transport: NodeTransport } {
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
  const transport = new NodeTransport(new URL('/mcp', options.url), {
    fetch: linkedFetch,
    // Only the standalone GET stream is ever resumed (nodes keep no event store); the hub's
    // health checks decide when a node is back, so the transport only bridges a blip.
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
