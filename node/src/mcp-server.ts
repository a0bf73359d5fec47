import {
  type AuditSource,
  auditedResponse,
  auditedValue,
  clip,
  isBrainmeshError,
  type Logger,
  newTraceId,
  SERVER_CAPABILITIES,
  TRACE_META_KEY,
} from '@brainmesh/shared';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuditRecorder } from './audit/recorder.js';
import type { SourceDirectory } from './directory.js';
import type { CallContext, Source } from './source.js';

export interface NodeServerDeps {
  nodeName: string;
  /** Every source of the node, and which serves each name. */
  directory: SourceDirectory;
  logger: Logger;
  /** The client principal this session was opened for (the link token's `sub`). */
  principal: string;
  audit: AuditRecorder;
  maxAuditResponseBytes: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * One MCP server per session, over every source of the node. A tool or prompt is found by the
 * node's name map (SourceDirectory), built from the lists the sources publish, so a name always
 * reaches the source that listed it without asking every source on every call.
 */
export function createNodeServer(deps: NodeServerDeps): Server {
  const server = new Server(
    { name: `brainmesh-node-${deps.nodeName}`, version: '0.1.0' },
    { capabilities: SERVER_CAPABILITIES },
  );

  const sources = deps.directory.sources;
  const owner = async (kind: 'tool' | 'prompt', name: string): Promise<Source> => {
    const source = await deps.directory.owner(kind, name);
    if (source !== undefined) return source;
    // Quoted cut: a name of any length may come, and the answer is no place to echo it whole.
    throw new McpError(ErrorCode.InvalidParams, `unknown ${kind} ${clip(name)} on node ${deps.nodeName}`);
  };

  const resourceOwner = async (uri: string): Promise<Source> => {
    for (const source of sources) {
      if ((await source.listResources()).some((r) => r.uri === uri)) return source;
    }
    // A URI that matches no listed resource may still match a template: the first source with
    // templates is asked, and says so if it does not know it.
    for (const source of sources) {
      if ((await source.listResourceTemplates()).length > 0) return source;
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown resource ${clip(uri)} on node ${deps.nodeName}`);
  };

  const context = (extra: Extra, onSource: (source: AuditSource) => void = () => {}): CallContext => {
    const traceId =
      typeof extra._meta?.[TRACE_META_KEY] === 'string' ? (extra._meta[TRACE_META_KEY] as string) : newTraceId();
    const progressToken = extra._meta?.progressToken;
    const caps = server.getClientCapabilities() ?? {};
    return {
      principal: deps.principal,
      traceId,
      logger: deps.logger.child({ traceId, principal: deps.principal }),
      signal: extra.signal,
      clientCapabilities: { sampling: caps.sampling !== undefined, elicitation: caps.elicitation !== undefined },
      progress: async (update) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } });
      },
      sample: (params) => extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema),
      elicit: (params) => extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema),
      markSource: onSource,
    };
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: firstOfEachName(await Promise.all(sources.map((s) => s.listTools())), deps.logger),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    const source = await owner('tool', name);
    let answeredFrom: AuditSource = 'live';
    const ctx = context(extra, (from) => {
      answeredFrom = from;
    });
    const at = new Date();
    const started = performance.now();
    let status: 'ok' | 'error' | 'cancelled' = 'ok';
    let result: CallToolResult | undefined;
    let failure: unknown;
    try {
      result = await source.callTool(name, args, ctx);
      if (result.isError === true) status = 'error';
    } catch (err) {
      status = 'error';
      if (err instanceof McpError) failure = err;
      else {
        if (!isBrainmeshError(err)) ctx.logger.error({ err, tool: name }, 'tool failed');
        result = {
          content: [
            { type: 'text', text: isBrainmeshError(err) ? err.message : `tool ${name} failed: internal error` },
          ],
          isError: true,
        };
      }
    }
    if (extra.signal.aborted) status = 'cancelled';
    const ms = performance.now() - started;
    ctx.logger.info({ tool: name, source: source.name, status, ms: Math.round(ms) }, 'tool call');
    // The row is written before the answer leaves: a call that cannot be recorded is not
    // answered as if it had been, though what it did is done.
    const policy = source.auditPolicy(name);
    try {
      await deps.audit.record({
        at,
        tool: name,
        params: auditedValue(args, policy),
        response: result === undefined ? null : auditedResponse(result, policy, deps.maxAuditResponseBytes),
        error: failure instanceof Error ? failure.message : null,
        durationMs: ms,
        status,
        source: answeredFrom,
        principal: deps.principal,
        traceId: ctx.traceId,
      });
    } catch {
      throw new McpError(
        ErrorCode.InternalError,
        `tool ${name} ran, but its audit record could not be written (trace ${ctx.traceId}); the node's log says why`,
      );
    }
    if (failure !== undefined) throw failure;
    return result!;
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await Promise.all(sources.map((s) => s.listResources()))).flat(),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: (await Promise.all(sources.map((s) => s.listResourceTemplates()))).flat(),
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) =>
    rethrow(async () => (await resourceOwner(request.params.uri)).readResource(request.params.uri, context(extra))),
  );
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: firstOfEachName(await Promise.all(sources.map((s) => s.listPrompts())), deps.logger),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) =>
    rethrow(async () =>
      (await owner('prompt', request.params.name)).getPrompt(
        request.params.name,
        request.params.arguments ?? {},
        context(extra),
      ),
    ),
  );
  server.setRequestHandler(CompleteRequestSchema, async (request, extra) =>
    rethrow(async () => {
      const ref = request.params.ref;
      const source = ref.type === 'ref/prompt' ? await owner('prompt', ref.name) : await resourceOwner(ref.uri);
      return source.complete(request.params, context(extra));
    }),
  );
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));

  return server;
}

/**
 * One item per name across sources, the first source's (packs, then mounts in config order),
 * which is also the one a call reaches. A shadowed name is logged: the fix is a mount `prefix`.
 */
function firstOfEachName<T extends { name: string }>(lists: T[][], logger: Logger): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of lists.flat()) {
    if (seen.has(item.name)) {
      logger.warn({ name: item.name }, 'a name is served by two sources; the first wins (give the mount a prefix)');
      continue;
    }
    seen.add(item.name);
    out.push(item);
  }
  return out;
}

/** Our own errors become JSON-RPC errors a client can read; anything else stays internal. */
async function rethrow<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof McpError) throw err;
    if (isBrainmeshError(err)) throw new McpError(err.rpcCode, err.message);
    throw new McpError(ErrorCode.InternalError, 'internal error');
  }
}
