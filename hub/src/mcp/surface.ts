import { clip, inSpan, JsonRpcCode, RpcError, SpanKind, tracer, tracing } from '@brainmesh/shared';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  type CompleteRequest,
  type CompleteResult,
  ErrorCode,
  type GetPromptRequest,
  type GetPromptResult,
  type ListPromptsResult,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ListToolsResult,
  McpError,
  type ReadResourceRequest,
  type ReadResourceResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { hubResourceUri, parseHubResourceUri } from '../mesh/catalog.js';
import type { NodeRequestContext } from '../mesh/link-requests.js';
import { meshToolsFor } from '../mesh/mesh-tools.js';
import type { SessionPeer } from '../mesh/node-link.js';
import { type InnerCall, parentOf, relay, type ToolCallDeps, toolCallPipeline } from './tool-call.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * With tracing on, a server span for a request the hub relays to a node (its client's
 * `traceparent` continued, as a tool call's is); off, the request itself. Named for the method
 * alone: a resource URI may hold a record's id, so it is an attribute, not the span's name.
 */
function traced<T>(
  method: string,
  attributes: Record<string, string>,
  extra: Extra,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracing.on) return work();
  return inSpan(
    method,
    {
      kind: SpanKind.SERVER,
      parent: parentOf(extra),
      attributes: { 'mcp.method.name': method, ...attributes },
    },
    () => work(),
  );
}

/** With tracing on, a server span for a list the hub answers from its catalog at once. */
function listed<T>(method: string, answer: () => T): T {
  if (!tracing.on) return answer();
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { 'mcp.method.name': method } });
  try {
    return answer();
  } finally {
    span.end();
  }
}

export type SurfaceDeps = Omit<ToolCallDeps, 'peer'>;

/**
 * What the hub answers a client, whichever protocol era it speaks: the lists a principal may
 * see and the requests it may make, routed to the nodes as `peer` (a 2025-era session, or one
 * 2026-era request). The session (session.ts) and the per-request server (modern.ts) register
 * these as their handlers; neither decides anything of its own about access.
 */
export interface Surface {
  listTools(): ListToolsResult;
  callTool(params: CallToolRequest['params'], extra: Extra, inner?: InnerCall): Promise<CallToolResult>;
  listResources(): ListResourcesResult;
  listResourceTemplates(): ListResourceTemplatesResult;
  readResource(params: ReadResourceRequest['params'], extra: Extra): Promise<ReadResourceResult>;
  listPrompts(): ListPromptsResult;
  getPrompt(params: GetPromptRequest['params'], extra: Extra): Promise<GetPromptResult>;
  complete(params: CompleteRequest['params'], extra: Extra): Promise<CompleteResult>;
  /**
   * A node's call of another node's tool, during a call this client made (`ctx.callMesh`): the
   * same pipeline, as this client, so with its principal's scopes and limits and nothing more.
   * Its progress is not relayed (the outer call's own is what the client follows).
   */
  callInner(params: unknown, context: NodeRequestContext): Promise<CallToolResult>;
}

/** What the hub tells every client, of either era, about itself. */
export const HUB_INSTRUCTIONS =
  'brainmesh hub: tools are named <node>__<tool>. Use mesh__search_tools to find tools across nodes and mesh__list_nodes to see which nodes are up.';

/**
 * What a node may ask of a client: the sampling, elicitation and roots it declared, and nothing
 * more (whatever else a client declares is between it and the hub).
 */
export function offeredToNodes(caps: {
  sampling?: unknown;
  elicitation?: unknown;
  roots?: unknown;
}): Record<string, object> {
  return {
    ...(caps.sampling === undefined ? {} : { sampling: caps.sampling as object }),
    ...(caps.elicitation === undefined ? {} : { elicitation: caps.elicitation as object }),
    ...(caps.roots === undefined ? {} : { roots: {} }),
  };
}

export function hubSurface(deps: SurfaceDeps, peer: SessionPeer): Surface {
  const { access } = deps;
  const allowed = (name: string) => {
    const routed = deps.mesh.catalog.resolveTool(name);
    return routed !== undefined && access.allowsTool(name, routed.link.id, routed.item);
  };
  const callTool = toolCallPipeline({ ...deps, peer });

  // Resources and prompts change nothing; a principal sees those of the nodes it may use.
  const nodeOf = (uri: string) => parseHubResourceUri(uri)?.nodeId ?? '';
  const relayed = { peer, bounds: deps.bounds, logger: deps.logger };
  const unknown = (what: string, name: string) =>
    new RpcError(JsonRpcCode.InvalidParams, `unknown ${what} ${clip(name)}`);
  const promptFor = (name: string) => {
    const routed = deps.mesh.catalog.resolvePrompt(name);
    return routed !== undefined && access.allowsNode(routed.link.id) ? routed : undefined;
  };

  return {
    async callInner(params, context) {
      const parsed = CallToolRequestSchema.safeParse({ method: 'tools/call', params });
      if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, 'invalid tools/call params from the node');
      const extra = {
        signal: context.signal,
        requestId: context.relatedRequestId,
        sendNotification: async () => {},
        sendRequest: async () => {
          throw new McpError(ErrorCode.MethodNotFound, 'not during a call through the hub');
        },
      } as unknown as Extra;
      return callTool(parsed.data.params, extra, { chain: context.chain, traceId: context.traceId });
    },
    listTools: () =>
      listed('tools/list', () => ({
        tools: [
          ...meshToolsFor(access).map((m) => m.tool),
          ...deps.mesh.catalog.listTools().filter((t) => allowed(t.name)),
        ],
      })),
    callTool,
    listResources: () =>
      listed('resources/list', () => ({
        resources: deps.mesh.catalog.listResources().filter((r) => access.allowsNode(nodeOf(r.uri))),
      })),
    listResourceTemplates: () =>
      listed('resources/templates/list', () => ({
        resourceTemplates: deps.mesh.catalog
          .listResourceTemplates()
          .filter((t) => access.allowsNode(nodeOf(t.uriTemplate))),
      })),
    readResource: (params, extra) =>
      traced('resources/read', { 'mcp.resource.uri': clip(params.uri, 200) }, extra, () => readResource(params, extra)),
    listPrompts: () =>
      listed('prompts/list', () => ({
        prompts: deps.mesh.catalog.listPrompts().filter((p) => promptFor(p.name) !== undefined),
      })),
    getPrompt: (params, extra) =>
      traced('prompts/get', { 'mcp.prompt.name': clip(params.name, 64) }, extra, () => getPrompt(params, extra)),
    complete: (params, extra) =>
      traced('completion/complete', { 'mcp.completion.ref': params.ref.type }, extra, () => complete(params, extra)),
  };

  async function readResource(params: ReadResourceRequest['params'], extra: Extra): Promise<ReadResourceResult> {
    const routed = deps.mesh.catalog.resolveResource(params.uri);
    if (routed === undefined || !access.allowsNode(routed.link.id)) throw unknown('resource', params.uri);
    const result = (await relay(relayed, routed.link, extra, 'resources/read', {
      uri: routed.uri,
    })) as ReadResourceResult;
    return {
      ...result,
      contents: result.contents.map((c) => ({ ...c, uri: hubResourceUri(routed.link.id, c.uri) })),
    };
  }

  async function getPrompt(params: GetPromptRequest['params'], extra: Extra): Promise<GetPromptResult> {
    const routed = promptFor(params.name);
    if (routed === undefined) throw unknown('prompt', params.name);
    return (await relay(relayed, routed.link, extra, 'prompts/get', {
      name: routed.name,
      arguments: params.arguments ?? {},
    })) as GetPromptResult;
  }

  async function complete(params: CompleteRequest['params'], extra: Extra): Promise<CompleteResult> {
    const ref = params.ref;
    if (ref.type === 'ref/prompt') {
      const routed = promptFor(ref.name);
      if (routed === undefined) throw unknown('prompt', ref.name);
      return (await relay(relayed, routed.link, extra, 'completion/complete', {
        ...params,
        ref: { ...ref, name: routed.name },
      })) as CompleteResult;
    }
    const routed = deps.mesh.catalog.resolveResource(ref.uri);
    if (routed === undefined || !access.allowsNode(routed.link.id)) throw unknown('resource template', ref.uri);
    return (await relay(relayed, routed.link, extra, 'completion/complete', {
      ...params,
      ref: { ...ref, uri: routed.uri },
    })) as CompleteResult;
  }
}
