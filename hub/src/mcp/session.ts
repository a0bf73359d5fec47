import type { Bounds } from '@brainmesh/shared';
import {
  clip,
  type Db,
  fitsTemplate,
  JsonRpcCode,
  type Logger,
  RpcError,
  SERVER_CAPABILITIES,
} from '@brainmesh/shared';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { AdminOperations } from '../admin/operations.js';
import type { HubCallLog } from '../audit/hub-calls.js';
import { hubResourceUri } from '../mesh/catalog.js';
import type { Mesh } from '../mesh/mesh.js';
import type { NodeLink, SessionPeer } from '../mesh/node-link.js';
import type { RateLimiter, ToolClass } from '../rate-limit.js';
import type { Access } from '../scopes.js';
import { HUB_VERSION } from '../version.js';
import { HUB_INSTRUCTIONS, hubSurface, offeredToNodes } from './surface.js';

/** Resources one session may watch at once: each costs a set entry and a check per update. */
const MAX_SUBSCRIPTIONS = 1_000;

export interface HubSessionDeps {
  id: string;
  principal: string;
  /** What this session's principal may see and call. */
  access: Access;
  limiter: RateLimiter;
  toolCalls: Readonly<Record<ToolClass, number>>;
  limitWindowMs: number;
  mesh: Mesh;
  logger: Logger;
  db: Db;
  calls: HubCallLog;
  admin: AdminOperations;
  bounds: Bounds;
}

/**
 * One MCP server per client session. Lists come from the mesh's catalog; requests go to the
 * owning node over its link as this session's channel, so progress, cancellation, sampling,
 * elicitation and logging pass through in both directions.
 */
export function createHubSession(deps: HubSessionDeps): { server: Server; close(): Promise<void> } {
  const server = new Server(
    { name: 'brainmesh-hub', version: HUB_VERSION },
    {
      // The hub keeps resource subscriptions itself (nodes keep none): a node says a resource
      // changed, and the hub tells the sessions that subscribed to it.
      capabilities: { ...SERVER_CAPABILITIES, resources: { ...SERVER_CAPABILITIES.resources, subscribe: true } },
      instructions: HUB_INSTRUCTIONS,
    },
  );
  const log = deps.logger.child({ session: deps.id, principal: deps.principal });

  const peer: SessionPeer = {
    id: deps.id,
    principal: deps.principal,
    clientMeta: () => ({
      capabilities: offeredToNodes(server.getClientCapabilities() ?? {}),
      info: server.getClientVersion(),
    }),
    request: (method, params, options) => {
      if (method === 'tools/call') return surface.callInner(params, options);
      const caps = server.getClientCapabilities() ?? {};
      const sent = { signal: options.signal, relatedRequestId: options.relatedRequestId };
      // Checked here as the SDK checks what a client declares: a node asks only for what it may,
      // and in the shape MCP gives it (these are rare; calls' answers are not re-checked).
      if (method === 'sampling/createMessage' && caps.sampling !== undefined)
        return server.createMessage(checked(CreateMessageRequestSchema, method, params), sent).catch(relayedError);
      if (method === 'elicitation/create' && caps.elicitation !== undefined)
        return server.elicitInput(checked(ElicitRequestSchema, method, params), sent).catch(relayedError);
      if (method === 'roots/list' && caps.roots !== undefined)
        return server.listRoots(undefined, sent).catch(relayedError);
      return Promise.reject(new McpError(ErrorCode.MethodNotFound, `the client does not offer ${clip(method, 60)}`));
    },
    notify: (nodeId, method, params) => {
      if (method !== 'notifications/message') return;
      const parsed = LoggingMessageNotificationSchema.shape.params.safeParse(params);
      if (!parsed.success) return;
      const message = parsed.data;
      void server
        .sendLoggingMessage({ ...message, logger: `${nodeId}${message.logger ? `/${message.logger}` : ''}` })
        .catch(() => {});
    },
  };

  const surface = hubSurface({ ...deps, logger: log }, peer);
  server.setRequestHandler(ListToolsRequestSchema, async () => surface.listTools());
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => surface.callTool(request.params, extra));
  server.setRequestHandler(ListResourcesRequestSchema, async () => surface.listResources());
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => surface.listResourceTemplates());
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => surface.readResource(request.params, extra));
  server.setRequestHandler(ListPromptsRequestSchema, async () => surface.listPrompts());
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) => surface.getPrompt(request.params, extra));
  server.setRequestHandler(CompleteRequestSchema, (request, extra) => surface.complete(request.params, extra));

  const { access } = deps;
  const unknown = (what: string, name: string) =>
    new RpcError(JsonRpcCode.InvalidParams, `unknown ${what} ${clip(name)}`);

  // Subscriptions by hub URI, for this session's life. A URI the session may not read, or that
  // no node serves (as a resource or under a template), is refused as unknown.
  const subscribed = new Set<string>();
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const routed = deps.mesh.catalog.resolveResource(request.params.uri);
    if (routed === undefined || !access.allowsNode(routed.link.id) || !serves(routed.link, routed.uri))
      throw unknown('resource', request.params.uri);
    if (subscribed.size >= MAX_SUBSCRIPTIONS && !subscribed.has(request.params.uri))
      throw new RpcError(JsonRpcCode.InvalidParams, `at most ${MAX_SUBSCRIPTIONS} subscriptions a session`);
    subscribed.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  const onResourceUpdated = (nodeId: string, uri: string, message: string | undefined) => {
    const hubUri = hubResourceUri(nodeId, uri);
    if (!subscribed.has(hubUri) || !access.allowsNode(nodeId)) return;
    void server.sendResourceUpdated({ uri: hubUri }).catch(() => {});
    if (message !== undefined)
      void server.sendLoggingMessage({ level: 'info', logger: nodeId, data: message }).catch(() => {});
  };
  deps.mesh.on('resourceUpdated', onResourceUpdated);

  // The level applies to this session's view; nodes send what they send and the client filters.
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));

  const onChanged = () => {
    void server.sendToolListChanged().catch(() => {});
    void server.sendResourceListChanged().catch(() => {});
    void server.sendPromptListChanged().catch(() => {});
  };
  deps.mesh.on('changed', onChanged);

  return {
    server,
    close: async () => {
      deps.mesh.off('changed', onChanged);
      deps.mesh.off('resourceUpdated', onResourceUpdated);
      await deps.mesh.endSession(deps.id);
      await server.close().catch(() => {});
    },
  };
}

/** Whether the node lists the resource, or a template it fits (`fitsTemplate`). */
function serves(link: NodeLink, uri: string): boolean {
  if (link.lists.resources.some((r) => r.uri === uri)) return true;
  return link.lists.templates.some((t) => fitsTemplate(t.uriTemplate, uri));
}

/** A node's request to a client, its params as MCP shapes them; anything else is refused. */
function checked<S extends typeof CreateMessageRequestSchema | typeof ElicitRequestSchema>(
  schema: S,
  method: string,
  params: unknown,
): z.output<S>['params'] {
  const parsed = schema.safeParse({ method, params });
  if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `invalid ${method} params from the node`);
  return parsed.data.params;
}

/** The client's error answer to a node's request, passed back in the client's own words. */
function relayedError(err: unknown): never {
  throw err instanceof McpError ? RpcError.relayed(err) : err;
}
