import {
  type AuditSource,
  auditedResponse,
  auditedValue,
  clip,
  fitsTemplate,
  inSpan,
  isBrainmeshError,
  type Logger,
  parentFrom,
  SpanKind,
  SpanStatusCode,
  tracing,
} from '@brainmesh/shared';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CompleteRequestSchema,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  PingRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { AuditRecorder } from './audit/recorder.js';
import type { SourceDirectory } from './directory.js';
import type { CallContext, Source } from './source.js';

/**
 * What the node does with one MCP request, whatever carried it (the hub's persistent link, or a
 * Streamable HTTP session): everything it needs comes with the request (`RequestEnv`), so it
 * keeps no session state. A tool or prompt is found by the node's name map (SourceDirectory);
 * every tool call is written to the audit trail before its answer leaves.
 */

/** What comes with a request: who it is for, what the client can do, and how to reach it. */
export interface RequestEnv {
  principal: string;
  traceId: string;
  /** The hub's span of this request (its `_meta.traceparent`), when it traces. */
  traceparent?: string | undefined;
  signal: AbortSignal;
  clientCapabilities: { sampling: boolean; elicitation: boolean };
  /** Reports progress on this request; a no-op when the client asked for none. */
  progress(update: { progress: number; total?: number; message?: string }): Promise<void>;
  sample(params: CreateMessageRequest['params']): Promise<CreateMessageResult>;
  elicit(params: ElicitRequest['params']): Promise<ElicitResult>;
  callMesh(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
}

export interface NodeServiceDeps {
  nodeName: string;
  directory: SourceDirectory;
  logger: Logger;
  audit: AuditRecorder;
  maxAuditResponseBytes: number;
  /** Told of each call as it ends (the metrics). */
  onToolCall?: ((tool: string, status: string, source: string, ms: number) => void) | undefined;
}

type Handler = (params: unknown, env: RequestEnv) => Promise<unknown>;

export class NodeService {
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly deps: NodeServiceDeps) {
    const sources = deps.directory.sources;
    // Each method's params are checked by the SDK's own schema for the request, at the edge.
    const on = <S extends z.ZodType<{ method: string; params?: unknown }>>(
      schema: S,
      method: string,
      run: (params: NonNullable<z.output<S>['params']>, env: RequestEnv) => Promise<unknown>,
    ) => {
      this.handlers.set(method, async (params, env) => {
        const parsed = schema.safeParse({ method, params: params ?? {} });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new McpError(
            ErrorCode.InvalidParams,
            `invalid ${method} params${issue === undefined ? '' : `: ${issue.path.join('.')}: ${issue.message}`}`,
          );
        }
        return run((parsed.data.params ?? {}) as NonNullable<z.output<S>['params']>, env);
      });
    };

    on(PingRequestSchema, 'ping', async () => ({}));
    on(SetLevelRequestSchema, 'logging/setLevel', async () => ({}));
    on(ListToolsRequestSchema, 'tools/list', async () => ({
      tools: firstOfEachName(await Promise.all(sources.map((s) => s.listTools())), deps.logger),
    }));
    on(CallToolRequestSchema, 'tools/call', (params, env) => this.callTool(params, env));
    on(ListResourcesRequestSchema, 'resources/list', async () => ({
      resources: (await Promise.all(sources.map((s) => s.listResources()))).flat(),
    }));
    on(ListResourceTemplatesRequestSchema, 'resources/templates/list', async () => ({
      resourceTemplates: (await Promise.all(sources.map((s) => s.listResourceTemplates()))).flat(),
    }));
    on(ReadResourceRequestSchema, 'resources/read', (params, env) =>
      rethrow(async () => (await this.resourceOwner(params.uri)).readResource(params.uri, this.context(env))),
    );
    on(ListPromptsRequestSchema, 'prompts/list', async () => ({
      prompts: firstOfEachName(await Promise.all(sources.map((s) => s.listPrompts())), deps.logger),
    }));
    on(GetPromptRequestSchema, 'prompts/get', (params, env) =>
      rethrow(async () =>
        (await this.owner('prompt', params.name)).getPrompt(params.name, params.arguments ?? {}, this.context(env)),
      ),
    );
    on(CompleteRequestSchema, 'completion/complete', (params, env) =>
      rethrow(async () => {
        const ref = params.ref;
        const source =
          ref.type === 'ref/prompt' ? await this.owner('prompt', ref.name) : await this.resourceOwner(ref.uri);
        return source.complete(params, this.context(env));
      }),
    );
  }

  /** Serves one request; a method the node does not serve is a JSON-RPC "method not found". */
  handle(method: string, params: unknown, env: RequestEnv): Promise<unknown> {
    const handler = this.handlers.get(method);
    if (handler === undefined) return Promise.reject(new McpError(ErrorCode.MethodNotFound, 'Method not found'));
    return handler(params, env);
  }

  /** Fires when any source's lists may have changed. */
  onListChanged(listener: () => void): void {
    for (const source of this.deps.directory.sources) source.onListChanged(listener);
  }

  private async owner(kind: 'tool' | 'prompt', name: string): Promise<Source> {
    const source = await this.deps.directory.owner(kind, name);
    if (source !== undefined) return source;
    // Quoted cut: a name of any length may come, and the answer is no place to echo it whole.
    throw new McpError(ErrorCode.InvalidParams, `unknown ${kind} ${clip(name)} on node ${this.deps.nodeName}`);
  }

  private async resourceOwner(uri: string): Promise<Source> {
    const sources = this.deps.directory.sources;
    for (const source of sources) {
      if ((await source.listResources()).some((r) => r.uri === uri)) return source;
    }
    // A URI that matches no listed resource may fit a template: the first source with one it
    // fits is asked, and says so if it does not know it.
    for (const source of sources) {
      if ((await source.listResourceTemplates()).some((t) => fitsTemplate(t.uriTemplate, uri))) return source;
    }
    // Templates with RFC 6570 operators (`{?query}`, `{/path*}`) may fit where the plain scan
    // says not: the first source with templates is asked then.
    for (const source of sources) {
      if ((await source.listResourceTemplates()).length > 0) return source;
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown resource ${clip(uri)} on node ${this.deps.nodeName}`);
  }

  private context(env: RequestEnv, onSource: (source: AuditSource) => void = () => {}): CallContext {
    return {
      principal: env.principal,
      traceId: env.traceId,
      logger: this.deps.logger.child({ traceId: env.traceId, principal: env.principal }),
      signal: env.signal,
      clientCapabilities: env.clientCapabilities,
      progress: (update) => env.progress(update),
      sample: (params) => env.sample(params),
      elicit: (params) => env.elicit(params),
      callMesh: (name, args) => env.callMesh(name, args),
      markSource: onSource,
    };
  }

  private async callTool(
    params: { name: string; arguments?: Record<string, unknown> | undefined },
    env: RequestEnv,
  ): Promise<CallToolResult> {
    const { name } = params;
    const args = params.arguments ?? {};
    const source = await this.owner('tool', name);
    let answeredFrom: AuditSource = 'live';
    const ctx = this.context(env, (from) => {
      answeredFrom = from;
    });
    const at = new Date();
    const started = performance.now();
    let status: 'ok' | 'error' | 'cancelled' = 'ok';
    let result: CallToolResult | undefined;
    let failure: unknown;
    try {
      // With tracing on, the tool runs in a span under the hub's, and what it calls out to (the
      // kit's API client) under that.
      result = tracing.on
        ? await inSpan(
            `tool ${name}`,
            {
              kind: SpanKind.SERVER,
              parent: parentFrom(env.traceparent),
              attributes: { 'brainmesh.tool': name, 'brainmesh.source': source.name },
            },
            async (span) => {
              const answer = await source.callTool(name, args, ctx);
              if (answer.isError === true) span?.setStatus({ code: SpanStatusCode.ERROR, message: 'tool error' });
              return answer;
            },
          )
        : await source.callTool(name, args, ctx);
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
    if (env.signal.aborted) status = 'cancelled';
    const ms = performance.now() - started;
    // Per call at debug: the audit row is the record of it.
    ctx.logger.debug({ tool: name, source: source.name, status, ms: Math.round(ms) }, 'tool call');
    this.deps.onToolCall?.(name, status, answeredFrom, ms);
    // The row is written before the answer leaves: a call that cannot be recorded is not
    // answered as if it had been, though what it did is done.
    const policy = source.auditPolicy(name);
    try {
      await this.deps.audit.record({
        at,
        tool: name,
        params: auditedValue(args, policy),
        response: result === undefined ? null : auditedResponse(result, policy, this.deps.maxAuditResponseBytes),
        error: failure instanceof Error ? failure.message : null,
        durationMs: ms,
        status,
        source: answeredFrom,
        principal: env.principal,
        traceId: env.traceId,
      });
    } catch {
      throw new McpError(
        ErrorCode.InternalError,
        `tool ${name} ran, but its audit record could not be written (trace ${env.traceId}); the node's log says why`,
      );
    }
    if (failure !== undefined) throw failure;
    return result!;
  }
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
