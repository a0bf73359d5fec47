import { BrainmeshError, newTraceId, SERVER_CAPABILITIES, TRACE_META_KEY } from '@brainmesh/shared';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { NodeService, RequestEnv } from './node-service.js';

export interface NodeServerDeps {
  nodeName: string;
  service: NodeService;
  /** The client principal this session was opened for (the link token's `sub`). */
  principal: string;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * One MCP server per Streamable HTTP session on the node's `/mcp`: the SDK keeps the session,
 * the node's service answers each request. The hub uses the persistent link instead
 * (link-server.ts); this endpoint stays for direct use with a hub-signed token.
 */
export function createNodeServer(deps: NodeServerDeps): Server {
  const server = new Server(
    { name: `brainmesh-node-${deps.nodeName}`, version: '0.1.0' },
    { capabilities: SERVER_CAPABILITIES },
  );

  const env = (extra: Extra): RequestEnv => {
    const traceId =
      typeof extra._meta?.[TRACE_META_KEY] === 'string' ? (extra._meta[TRACE_META_KEY] as string) : newTraceId();
    const progressToken = extra._meta?.progressToken;
    const caps = server.getClientCapabilities() ?? {};
    return {
      principal: deps.principal,
      traceId,
      signal: extra.signal,
      clientCapabilities: { sampling: caps.sampling !== undefined, elicitation: caps.elicitation !== undefined },
      progress: async (update) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } });
      },
      sample: (params) => extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema),
      elicit: (params) => extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema),
      callMesh: async () => {
        throw new BrainmeshError(
          'UPSTREAM_UNAVAILABLE',
          'calls to other nodes go through the hub’s link, and this call did not come over it',
        );
      },
    };
  };

  // The SDK has checked each request against its schema; the service checks again, cheaply, as
  // it must for the link, where no SDK stands in front of it.
  for (const schema of [
    ListToolsRequestSchema,
    CallToolRequestSchema,
    ListResourcesRequestSchema,
    ListResourceTemplatesRequestSchema,
    ReadResourceRequestSchema,
    ListPromptsRequestSchema,
    GetPromptRequestSchema,
    CompleteRequestSchema,
    SetLevelRequestSchema,
  ]) {
    const method = schema.shape.method.value;
    server.setRequestHandler(
      schema,
      // biome-ignore lint/suspicious/noExplicitAny: each result is the one its method answers
      async (request: { params?: unknown }, extra: Extra): Promise<any> =>
        deps.service.handle(method, request.params, env(extra)),
    );
  }
  return server;
}
