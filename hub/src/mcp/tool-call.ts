import {
  type Bounds,
  BrainmeshError,
  callTraceId,
  clip,
  type Db,
  describeExcess,
  exceeds,
  inSpan,
  isBrainmeshError,
  JsonRpcCode,
  type Logger,
  NAMESPACE_SEPARATOR,
  newTraceId,
  parentFrom,
  RpcError,
  type Span,
  SpanKind,
  TRACE_META_KEY,
  toolError,
  traceparentOf,
  tracing,
} from '@brainmesh/shared';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolRequest,
  CallToolResult,
  ServerNotification,
  ServerRequest,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { AdminOperations } from '../admin/operations.js';
import type { HubCallLog } from '../audit/hub-calls.js';
import type { Mesh } from '../mesh/mesh.js';
import { MESH_NAMESPACE, type MeshTool, meshTool } from '../mesh/mesh-tools.js';
import type { NodeLink, SessionPeer } from '../mesh/node-link.js';
import { type RateLimiter, type ToolClass, toolClass } from '../rate-limit.js';
import { requestLimitOf } from '../routes/auth.js';
import { Access } from '../scopes.js';

/**
 * The one path of a tool call through the hub, for the nodes' tools and the hub's own alike:
 *
 *   route → refuse → limit → run (on the node, or the hub's own) → record
 *
 * "Limit" is the call's own counter (per tool class) and the verdict on the request rate of the
 * HTTP request that carries it, which the request's handler left to the call (routes/auth.ts):
 * both counters go to the store in one round trip. A refusal of any kind waits for that verdict
 * first, so a principal over its request rate hears that, whatever else it asked for.
 *
 * Input is bounded before any of it, at the edge (`edge.ts`), since the SDK reads a message
 * before a handler sees it and an `initialize` or a sampling answer can carry the same nesting
 * a call's arguments can. What comes back from a node is bounded here, before the SDK writes it
 * out to the client. Every call that names a tool is recorded (hub_calls), whatever its end;
 * the hub's own tools under the node `mesh`, as their names say (`mesh__audit_search`).
 */

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolCallDeps {
  principal: string;
  access: Access;
  limiter: RateLimiter;
  toolCalls: Readonly<Record<ToolClass, number>>;
  limitWindowMs: number;
  mesh: Mesh;
  db: Db;
  calls: HubCallLog;
  admin: AdminOperations;
  logger: Logger;
  bounds: Bounds;
  /** The session's side of its clients to nodes. */
  peer: SessionPeer;
}

/** Where a tool name leads: the hub's own tool, a node's, a node that cannot say, or nowhere. */
type Route =
  | { kind: 'hub'; node: string; tool: string; own: MeshTool; item: Tool }
  | { kind: 'node'; node: string; tool: string; link: NodeLink; item: Tool }
  | { kind: 'unroutable'; link: NodeLink }
  | { kind: 'unknown' };

/**
 * A call a node makes through the hub during one of the hub's calls to it (`ctx.callMesh`): made
 * as the session that made the outer call, with its principal's scopes and limits, under the
 * outer call's trace id; never to a node it came through.
 */
export interface InnerCall {
  /** The nodes it came through, outermost first; the asking node last. */
  chain: readonly string[];
  traceId?: string | undefined;
}

/** How deep calls through the hub may nest (a node's call of a node's call of …). */
export const MAX_INNER_DEPTH = 4;

export function toolCallPipeline(
  deps: ToolCallDeps,
): (params: CallToolRequest['params'], extra: Extra, inner?: InnerCall) => Promise<CallToolResult> {
  const { access, principal, logger: log } = deps;

  // With tracing on, each call is a span: its client's `traceparent` (in `_meta`, or the HTTP
  // request's header) continued, or a trace of its own; the call's trace id is the span's.
  const traced = (params: CallToolRequest['params'], extra: Extra, inner?: InnerCall) => {
    if (!tracing.on || inner !== undefined) return run(params, extra, inner, undefined);
    return inSpan(
      `tools/call ${clip(params.name, 64)}`,
      { kind: SpanKind.SERVER, parent: parentOf(extra), attributes: { 'mcp.method.name': 'tools/call' } },
      (span) => run(params, extra, inner, span),
    );
  };
  const run = async (
    params: CallToolRequest['params'],
    extra: Extra,
    inner: InnerCall | undefined,
    span: Span | undefined,
  ): Promise<CallToolResult> => {
    const { name } = params;
    const args = params.arguments ?? {};
    const requestLimit = requestLimitOf(extra.requestInfo?.headers);

    // Route.
    const route = routeOf(deps.mesh, access, name);

    // Refuse: a name that leads nowhere for this principal is unknown; a node that cannot serve
    // says why; a tool outside the principal's scopes says which scope it needs (and is recorded).
    if (route.kind !== 'hub' && route.kind !== 'node') {
      const overRate = await requestLimit;
      if (overRate !== undefined) return toolError(overRate);
    }
    if (route.kind === 'unknown') {
      throw new RpcError(JsonRpcCode.InvalidParams, `unknown tool ${clip(name)}; mesh__search_tools lists what exists`);
    }
    if (route.kind === 'unroutable') {
      const refusal = route.link.unavailable();
      if (refusal !== undefined) return toolError(refusal.message);
      throw new RpcError(JsonRpcCode.InvalidParams, `unknown tool ${clip(name)}; mesh__search_tools lists what exists`);
    }
    const traceId = inner?.traceId ?? callTraceId(span, clientTraceparent(extra));
    span?.setAttributes({ 'brainmesh.node': route.node, 'brainmesh.tool': route.tool });
    const at = new Date();
    const started = performance.now();
    let outcome = 'ok';
    try {
      if (route.kind === 'node' && !access.allowsTool(name, route.node, route.item)) {
        const overRate = await requestLimit;
        if (overRate !== undefined) {
          outcome = 'rate-limited';
          return toolError(overRate);
        }
        outcome = 'refused';
        log.warn({ tool: name, node: route.node }, 'tool call refused: scope');
        return toolError(
          `not allowed: calling ${name} needs the scope ${Access.neededFor(name, route.node, route.item)}`,
        );
      }
      if (inner !== undefined && route.kind === 'node' && inner.chain.includes(route.node)) {
        outcome = 'refused';
        log.warn({ tool: name, chain: inner.chain }, 'tool call refused: a loop through the hub');
        return toolError(
          `not allowed: ${name} is a tool of node ${route.node}, which this call came through (${inner.chain.join(' → ')}); a node's tools do not call back into it through the hub`,
        );
      }
      if (inner !== undefined && inner.chain.length > MAX_INNER_DEPTH) {
        outcome = 'refused';
        return toolError(
          `not allowed: calls through the hub nest at most ${MAX_INNER_DEPTH} deep (${inner.chain.join(' → ')})`,
        );
      }

      // Limit, by what the tool says it does.
      const kind = toolClass(route.item.annotations);
      const allowance = deps.toolCalls[kind];
      // Taken in the same turn as the request's counter, so both go in one round trip; a call
      // over the request rate counts against its class too, as a request over it counts.
      const [overRate, verdict] = await Promise.all([
        requestLimit,
        deps.limiter.take(`tool:${kind}:${principal}`, allowance, deps.limitWindowMs),
      ]);
      if (overRate !== undefined) {
        outcome = 'rate-limited';
        log.warn({ tool: name }, 'tool call refused: request rate');
        return toolError(overRate);
      }
      if (!verdict.ok) {
        outcome = 'rate-limited';
        log.warn({ tool: name, class: kind }, 'tool call refused: rate limit');
        return toolError(
          `rate limited: at most ${allowance} ${kind} tool calls per ${deps.limitWindowMs / 1000} s for this principal; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`,
        );
      }

      // Run: the hub's own tool here, a node's on its node.
      const result =
        route.kind === 'hub'
          ? await route.own.run(args, deps.mesh, access, { db: deps.db, admin: deps.admin, principal })
          : toolResult(
              route.link.id,
              await proxy(
                deps,
                route.link,
                extra,
                'tools/call',
                { name: route.tool, arguments: args },
                traceId,
                inner?.chain,
              ),
            );
      if (result.isError === true) outcome = 'tool-error';
      return result;
    } catch (err) {
      outcome = extra.signal.aborted ? 'cancelled' : 'failed';
      if (err instanceof RpcError) throw err;
      if (isBrainmeshError(err)) return toolError(err.message);
      log.error({ err, traceId, tool: name }, 'tool call failed');
      return toolError(`the call to ${route.node} failed: internal error (trace ${traceId})`);
    } finally {
      // Record, however it ended.
      const ms = performance.now() - started;
      // Per call at debug: the call record (hub_calls) and the node's audit row are the record.
      log.debug(
        { traceId, node: route.node, tool: route.tool, outcome, ms: Math.round(ms) },
        route.kind === 'hub' ? 'hub tool call' : 'proxied call',
      );
      deps.calls.record({ at, traceId, principal, node: route.node, tool: route.tool, durationMs: ms, outcome });
      span?.setAttribute('brainmesh.outcome', outcome);
    }
  };
  return traced;
}

/** The `traceparent` a client sent with its call: in the request's `_meta`, or as an HTTP header. */
function clientTraceparent(extra: Extra): unknown {
  const meta = (extra._meta as Record<string, unknown> | undefined)?.traceparent;
  if (meta !== undefined) return meta;
  const headers = extra.requestInfo?.headers as Record<string, unknown> | undefined;
  return headers?.traceparent;
}

/** The client's span, as the parent of the hub's span for its request; undefined when it sent none. */
export function parentOf(extra: Extra) {
  return parentFrom(clientTraceparent(extra));
}

/**
 * A node's tool result, passed on as it came once its shape is one a client can read: content
 * a list of typed blocks, isError a boolean. Checked by hand rather than by the SDK's schema:
 * this runs on every call, and what is inside each block is the client's to read.
 */
function toolResult(node: string, result: unknown): CallToolResult {
  const r = result as { content?: unknown; isError?: unknown };
  const ok =
    Array.isArray(r.content) &&
    r.content.every((c) => typeof c === 'object' && c !== null && typeof (c as { type?: unknown }).type === 'string') &&
    (r.isError === undefined || typeof r.isError === 'boolean');
  if (!ok)
    throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${node} answered with something that is not a tool result`);
  return result as CallToolResult;
}

function routeOf(mesh: Mesh, access: Access, name: string): Route {
  const own = meshTool(name, access);
  if (own !== undefined) {
    const tool = name.slice(MESH_NAMESPACE.length + NAMESPACE_SEPARATOR.length);
    return { kind: 'hub', node: MESH_NAMESPACE, tool, own, item: own.tool };
  }
  const routed = mesh.catalog.resolveTool(name);
  if (routed !== undefined)
    return { kind: 'node', node: routed.link.id, tool: routed.name, link: routed.link, item: routed.item };
  const owner = mesh.catalog.ownerByNamespace(name);
  // A node the principal cannot reach is as unknown to it as one that does not exist.
  if (owner !== undefined && access.allowsNode(owner.id)) return { kind: 'unroutable', link: owner };
  return { kind: 'unknown' };
}

/**
 * A request to a node on the session's behalf, over the node's link: the client's cancellation
 * and progress carried on, the answer bounded before it goes back out, and otherwise passed on
 * as the node sent it. Errors leave as the link made them (BrainmeshError in words, the node's
 * own RpcError, or a fault).
 */
export async function proxy(
  deps: Pick<ToolCallDeps, 'peer' | 'bounds'>,
  link: NodeLink,
  extra: Extra,
  method: string,
  params: Record<string, unknown>,
  traceId: string = newTraceId(),
  chain?: readonly string[],
): Promise<unknown> {
  const progressToken = extra._meta?.progressToken;
  if (tracing.on) {
    return inSpan(
      `${method} ${link.id}`,
      { kind: SpanKind.CLIENT, attributes: { 'brainmesh.node': link.id } },
      (span) => proxyOnce(deps, link, extra, method, params, traceId, chain, progressToken, span),
    );
  }
  return proxyOnce(deps, link, extra, method, params, traceId, chain, progressToken, undefined);
}

async function proxyOnce(
  deps: Pick<ToolCallDeps, 'peer' | 'bounds'>,
  link: NodeLink,
  extra: Extra,
  method: string,
  params: Record<string, unknown>,
  traceId: string,
  chain: readonly string[] | undefined,
  progressToken: string | number | undefined,
  span: Span | undefined,
): Promise<unknown> {
  // Progress goes out in order and is flushed before the answer (the SDK drops progress handled
  // after its response: typescript-sdk #2580).
  let progress = Promise.resolve();
  const meta: Record<string, unknown> = { [TRACE_META_KEY]: traceId };
  if (span !== undefined) meta.traceparent = traceparentOf(span);
  const result = await link.call(
    deps.peer,
    method,
    { ...params, _meta: meta },
    {
      signal: extra.signal,
      relatedRequestId: extra.requestId,
      traceId,
      chain,
      onprogress:
        progressToken === undefined
          ? undefined
          : (p) => {
              progress = progress
                .then(() =>
                  extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }),
                )
                .catch(() => {});
            },
    },
  );
  await progress;
  // V8 writes JSON recursively: an answer nested deep enough would throw when the SDK sends it,
  // and leave the client waiting for an answer that never comes.
  const excess = exceeds(result, { maxDepth: deps.bounds.maxDepth, maxBytes: Number.POSITIVE_INFINITY });
  if (excess !== undefined) {
    throw new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      `node ${link.id} answered badly: ${describeExcess(excess, deps.bounds, 'its answer')}`,
    );
  }
  if (typeof result !== 'object' || result === null) {
    throw new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      `node ${link.id} answered with something that is not an MCP result`,
    );
  }
  return result;
}

/**
 * For requests other than tools/call (prompts, resources, completion): the same proxy, with our
 * errors as JSON-RPC errors in their own words, and nothing internal let out.
 */
export async function relay(
  deps: Pick<ToolCallDeps, 'peer' | 'bounds' | 'logger'>,
  link: NodeLink,
  extra: Extra,
  method: string,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  try {
    return (await proxy(deps, link, extra, method, params)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof RpcError) throw err;
    if (isBrainmeshError(err)) throw new RpcError(err.rpcCode, err.message, err.details);
    deps.logger.error({ err, node: link.id }, 'relayed request failed');
    throw new RpcError(JsonRpcCode.InternalError, 'internal error');
  }
}
