import {
  BrainmeshError,
  type Db,
  isBrainmeshError,
  type Logger,
  newTraceId,
  SERVER_CAPABILITIES,
  TRACE_META_KEY,
} from '@brainmesh/shared';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CallToolResultSchema,
  type ClientCapabilities,
  CompleteRequestSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type Progress,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { HubCallLog } from '../audit/hub-calls.js';
import { hubResourceUri, parseHubResourceUri } from '../mesh/catalog.js';
import type { Mesh } from '../mesh/mesh.js';
import { meshTool, meshToolsFor } from '../mesh/mesh-tools.js';
import { createNodeClient } from '../mesh/node-client.js';
import type { NodeLink, SessionPeer } from '../mesh/node-link.js';
import { type RateLimiter, type ToolClass, toolClass } from '../rate-limit.js';
import { Access } from '../scopes.js';
import { HUB_VERSION } from '../version.js';

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
  hubId: string;
  ring: Parameters<typeof createNodeClient>[0]['ring'];
  callTimeoutMs: number;
  db: Db;
  calls: HubCallLog;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * One MCP server per client session. Lists come from the mesh's catalog; calls go to the owning
 * node through that session's own client to it, so progress, cancellation, sampling,
 * elicitation and logging pass through in both directions.
 */
export function createHubSession(deps: HubSessionDeps): { server: Server; close(): Promise<void> } {
  const server = new Server(
    { name: 'brainmesh-hub', version: HUB_VERSION },
    {
      capabilities: SERVER_CAPABILITIES,
      instructions:
        'brainmesh hub: tools are named <node>__<tool>. Use mesh__search_tools to find tools across nodes and mesh__list_nodes to see which nodes are up.',
    },
  );
  const log = deps.logger.child({ session: deps.id, principal: deps.principal });

  const peer: SessionPeer = {
    id: deps.id,
    principal: deps.principal,
    connect: async (link: NodeLink): Promise<Client> => {
      const caps = server.getClientCapabilities() ?? {};
      // The node may ask for what this session's client offers, and nothing more.
      const capabilities: ClientCapabilities = {
        ...(caps.sampling === undefined ? {} : { sampling: caps.sampling }),
        ...(caps.elicitation === undefined ? {} : { elicitation: caps.elicitation }),
        ...(caps.roots === undefined ? {} : { roots: {} }),
      };
      const { client, transport } = createNodeClient({
        url: link.record.url ?? '',
        nodeId: link.id,
        hubId: deps.hubId,
        ring: deps.ring,
        principal: deps.principal,
        capabilities,
      });
      // The SDK refuses a handler for a capability the client does not declare.
      if (capabilities.sampling !== undefined) {
        client.setRequestHandler(CreateMessageRequestSchema, (request, extra) =>
          server.createMessage(request.params, { signal: extra.signal }),
        );
      }
      if (capabilities.elicitation !== undefined) {
        client.setRequestHandler(ElicitRequestSchema, (request, extra) =>
          server.elicitInput(request.params, { signal: extra.signal }),
        );
      }
      if (capabilities.roots !== undefined) {
        client.setRequestHandler(ListRootsRequestSchema, (_request, extra) =>
          server.listRoots(undefined, { signal: extra.signal }),
        );
      }
      client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) =>
        server.sendLoggingMessage({
          ...notification.params,
          logger: `${link.id}${notification.params.logger ? `/${notification.params.logger}` : ''}`,
        }),
      );
      await client.connect(transport, { timeout: deps.callTimeoutMs });
      return client;
    },
  };

  const { access } = deps;
  const allowed = (name: string) => {
    const routed = deps.mesh.catalog.resolveTool(name);
    return routed !== undefined && access.allowsTool(name, routed.link.id, routed.item);
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      ...meshToolsFor(access).map((m) => m.tool),
      ...deps.mesh.catalog.listTools().filter((t) => allowed(t.name)),
    ],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const own = meshTool(name, access);
    if (own !== undefined) {
      return own.run(request.params.arguments ?? {}, deps.mesh, access, { db: deps.db });
    }
    const routed = deps.mesh.catalog.resolveTool(name);
    if (routed === undefined) {
      const owner = deps.mesh.catalog.ownerByNamespace(name);
      const refusal = owner !== undefined && access.allowsNode(owner.id) ? owner.unavailable() : undefined;
      if (refusal !== undefined) return { content: [{ type: 'text', text: refusal.message }], isError: true };
      throw new McpError(ErrorCode.InvalidParams, `unknown tool ${name}; mesh__search_tools lists what exists`);
    }
    if (!access.allowsTool(name, routed.link.id, routed.item)) {
      log.warn({ tool: name, node: routed.link.id }, 'tool call refused: scope');
      return {
        content: [
          {
            type: 'text',
            text: `not allowed: calling ${name} needs the scope ${Access.neededFor(name, routed.link.id)}`,
          },
        ],
        isError: true,
      };
    }
    const kind = toolClass(routed.item.annotations);
    const allowance = deps.toolCalls[kind];
    const verdict = await deps.limiter.take(`tool:${kind}:${deps.principal}`, allowance, deps.limitWindowMs);
    if (!verdict.ok) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      log.warn({ tool: name, class: kind }, 'tool call refused: rate limit');
      return {
        content: [
          {
            type: 'text',
            text: `rate limited: at most ${allowance} ${kind} tool calls per ${deps.limitWindowMs / 1000} s for this principal; try again in ${seconds} s`,
          },
        ],
        isError: true,
      };
    }
    const traceId = newTraceId();
    const at = new Date();
    const started = performance.now();
    let outcome = 'ok';
    try {
      const result = await routed.link.call(peer, (client) =>
        client.request(
          {
            method: 'tools/call',
            params: {
              name: routed.name,
              arguments: request.params.arguments ?? {},
              _meta: { [TRACE_META_KEY]: traceId },
            },
          },
          CallToolResultSchema,
          forwardOptions(extra, deps.callTimeoutMs),
        ),
      );
      if (result.isError === true) outcome = 'tool-error';
      return result as CallToolResult;
    } catch (err) {
      outcome = extra.signal.aborted ? 'cancelled' : 'failed';
      if (err instanceof McpError) throw err;
      if (isBrainmeshError(err)) return { content: [{ type: 'text', text: err.message }], isError: true };
      log.error({ err, traceId, tool: name }, 'proxied call failed');
      return {
        content: [{ type: 'text', text: `the call to ${routed.link.id} failed: internal error (trace ${traceId})` }],
        isError: true,
      };
    } finally {
      const ms = performance.now() - started;
      log.info({ traceId, node: routed.link.id, tool: routed.name, outcome, ms: Math.round(ms) }, 'proxied call');
      deps.calls.record({
        at,
        traceId,
        principal: deps.principal,
        node: routed.link.id,
        tool: routed.name,
        durationMs: ms,
        outcome,
      });
    }
  });

  // Resources and prompts change nothing; a principal sees those of the nodes it may use.
  const nodeOf = (uri: string) => parseHubResourceUri(uri)?.nodeId ?? '';
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: deps.mesh.catalog.listResources().filter((r) => access.allowsNode(nodeOf(r.uri))),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: deps.mesh.catalog
      .listResourceTemplates()
      .filter((t) => access.allowsNode(nodeOf(t.uriTemplate))),
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const routed = deps.mesh.catalog.resolveResource(request.params.uri);
    if (routed === undefined || !access.allowsNode(routed.link.id)) {
      throw new McpError(ErrorCode.InvalidParams, `unknown resource ${request.params.uri}`);
    }
    const result = await forward(() =>
      routed.link.call(peer, (client) =>
        client.readResource({ uri: routed.uri }, forwardOptions(extra, deps.callTimeoutMs)),
      ),
    );
    return { ...result, contents: result.contents.map((c) => ({ ...c, uri: hubResourceUri(routed.link.id, c.uri) })) };
  });

  const promptFor = (name: string) => {
    const routed = deps.mesh.catalog.resolvePrompt(name);
    return routed !== undefined && access.allowsNode(routed.link.id) ? routed : undefined;
  };
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: deps.mesh.catalog.listPrompts().filter((p) => promptFor(p.name) !== undefined),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const routed = promptFor(request.params.name);
    if (routed === undefined) throw new McpError(ErrorCode.InvalidParams, `unknown prompt ${request.params.name}`);
    return forward(() =>
      routed.link.call(peer, (client) =>
        client.getPrompt(
          { name: routed.name, arguments: request.params.arguments ?? {} },
          forwardOptions(extra, deps.callTimeoutMs),
        ),
      ),
    );
  });

  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const ref = request.params.ref;
    if (ref.type === 'ref/prompt') {
      const routed = promptFor(ref.name);
      if (routed === undefined) throw new McpError(ErrorCode.InvalidParams, `unknown prompt ${ref.name}`);
      return forward(() =>
        routed.link.call(peer, (client) =>
          client.complete(
            { ...request.params, ref: { ...ref, name: routed.name } },
            forwardOptions(extra, deps.callTimeoutMs),
          ),
        ),
      );
    }
    const routed = deps.mesh.catalog.resolveResource(ref.uri);
    if (routed === undefined || !access.allowsNode(routed.link.id)) {
      throw new McpError(ErrorCode.InvalidParams, `unknown resource template ${ref.uri}`);
    }
    return forward(() =>
      routed.link.call(peer, (client) =>
        client.complete(
          { ...request.params, ref: { ...ref, uri: routed.uri } },
          forwardOptions(extra, deps.callTimeoutMs),
        ),
      ),
    );
  });

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
      await deps.mesh.endSession(deps.id);
      await server.close().catch(() => {});
    },
  };
}

/** Cancellation and progress of the client's request, carried on to the node. */
function forwardOptions(extra: Extra, timeout: number): RequestOptions {
  const progressToken = extra._meta?.progressToken;
  return {
    signal: extra.signal,
    timeout,
    resetTimeoutOnProgress: true,
    ...(progressToken === undefined
      ? {}
      : {
          onprogress: (p: Progress) => {
            void extra
              .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } })
              .catch(() => {});
          },
        }),
  };
}

/** For requests other than tools/call: our errors become JSON-RPC errors with their words. */
async function forward<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof McpError) throw err;
    if (err instanceof BrainmeshError) throw new McpError(err.rpcCode, err.message, err.details);
    throw new McpError(ErrorCode.InternalError, 'internal error');
  }
}
