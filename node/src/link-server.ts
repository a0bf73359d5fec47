import {
  ALL_CHANNELS,
  type Bounds,
  CATALOG_CHANNEL,
  describeExcess,
  type Envelope,
  exceeds,
  isBrainmeshError,
  JsonRpcCode,
  type LinkSocket,
  type Logger,
  newTraceId,
  REQUEST_META,
  RESOURCE_MESSAGE_META,
  ROTATE_KEYS_METHOD,
  RpcError,
  TRACE_META_KEY,
  toolError,
} from '@brainmesh/shared';
import {
  CallToolResultSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  type JSONRPCMessage,
  McpError,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { NodeService, RequestEnv } from './node-service.js';

/**
 * The node's end of the persistent link: the hub's requests, from any of its client sessions
 * (channels), served by the node's service with nothing kept between them. Each request says who
 * it is for (the envelope's principal, which only the authenticated hub can set), its trace id,
 * and, in its `_meta` as MCP's stateless revision has it, the client's capabilities.
 * Progress, sampling and elicitation travel back on the request's channel; a cancellation aborts
 * the request it names; the node's lists changing is told on channel `*`.
 */

interface Pending {
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

export class LinkServer {
  /** Requests in flight from the hub, by their link id. */
  private readonly running = new Map<RequestId, AbortController>();
  /** The node's own requests to the hub's clients (sampling, elicitation), by id. */
  private readonly asked = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly socket: LinkSocket,
    private readonly service: NodeService,
    private readonly deps: {
      logger: Logger;
      bounds: Bounds;
      hubPrincipal: string;
      /** The hub's own request for a new signing key (`brainmesh/rotateKeys`, channel `catalog`). */
      rotateKeys: () => Promise<unknown>;
    },
  ) {
    socket.on('message', (envelope) => this.onMessage(envelope));
    socket.on('close', () => {
      for (const controller of this.running.values()) controller.abort(new Error('the link to the hub closed'));
      this.running.clear();
      for (const pending of this.asked.values()) pending.reject(new McpError(-32000, 'the link to the hub closed'));
      this.asked.clear();
    });
  }

  /** Tells the hub that the node's lists changed. */
  listChanged(): void {
    for (const kind of ['tools', 'resources', 'prompts'])
      this.socket.send({ ch: ALL_CHANNELS, m: { jsonrpc: '2.0', method: `notifications/${kind}/list_changed` } });
  }

  /** Tells the hub that a resource changed, for the sessions it knows subscribed to it. */
  resourceUpdated(uri: string, message: string | undefined): void {
    this.socket.send({
      ch: ALL_CHANNELS,
      m: {
        jsonrpc: '2.0',
        method: 'notifications/resources/updated',
        params: { uri, ...(message === undefined ? {} : { _meta: { [RESOURCE_MESSAGE_META]: message } }) },
      },
    });
  }

  private onMessage(envelope: Envelope): void {
    const m = envelope.m as Record<string, unknown>;
    if (typeof m.method === 'string') {
      if (m.id === undefined) this.onNotification(m.method, m.params);
      else void this.serve(envelope, m.id as RequestId, m.method, m.params);
      return;
    }
    // An answer to one of the node's own requests.
    const pending = typeof m.id === 'number' ? this.asked.get(m.id) : undefined;
    if (pending === undefined) return;
    this.asked.delete(m.id as number);
    if (m.error !== undefined) {
      const error = m.error as { code: number; message: string; data?: unknown };
      pending.reject(new McpError(error.code, error.message, error.data));
    } else pending.resolve(m.result);
  }

  private onNotification(method: string, params: unknown): void {
    if (method !== 'notifications/cancelled') return;
    const id = (params as { requestId?: RequestId } | undefined)?.requestId;
    if (id !== undefined) this.running.get(id)?.abort(new Error('cancelled by the client'));
  }

  private async serve(envelope: Envelope, id: RequestId, method: string, params: unknown): Promise<void> {
    const answer = (body: { result: unknown } | { error: { code: number; message: string; data?: unknown } }) =>
      this.socket.send({ ch: envelope.ch, m: { jsonrpc: '2.0', id, ...body } as JSONRPCMessage });
    const excess = exceeds(params, this.deps.bounds);
    if (excess !== undefined) {
      answer({ error: { code: JsonRpcCode.InvalidParams, message: describeExcess(excess, this.deps.bounds) } });
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      // Only the hub itself may ask for a new key: on its own channel, for no client.
      const result =
        method === ROTATE_KEYS_METHOD && envelope.ch === CATALOG_CHANNEL && envelope.p === undefined
          ? await this.deps.rotateKeys()
          : await this.service.handle(method, params, this.env(envelope, id, params, controller.signal));
      answer({ result });
    } catch (err) {
      answer({ error: errorOf(err, this.deps.logger) });
    } finally {
      this.running.delete(id);
    }
  }

  private env(envelope: Envelope, id: RequestId, params: unknown, signal: AbortSignal): RequestEnv {
    const meta = ((params as { _meta?: Record<string, unknown> } | undefined)?._meta ?? {}) as Record<string, unknown>;
    const caps = (meta[REQUEST_META.clientCapabilities] ?? {}) as Record<string, unknown>;
    const progressToken = meta.progressToken as string | number | undefined;
    const traceId =
      envelope.tr ?? (typeof meta[TRACE_META_KEY] === 'string' ? (meta[TRACE_META_KEY] as string) : newTraceId());
    const ch = envelope.ch;
    return {
      principal: envelope.p ?? this.deps.hubPrincipal,
      traceId,
      traceparent: typeof meta.traceparent === 'string' ? meta.traceparent : undefined,
      signal,
      clientCapabilities: { sampling: caps.sampling !== undefined, elicitation: caps.elicitation !== undefined },
      progress: async (update) => {
        if (progressToken === undefined) return;
        this.socket.send({
          ch,
          m: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, ...update } },
        });
      },
      sample: (p) => this.ask(ch, id, 'sampling/createMessage', p, CreateMessageResultSchema, signal),
      elicit: (p) => this.ask(ch, id, 'elicitation/create', p, ElicitResultSchema, signal),
      // The hub runs it as this channel's session, for the principal that made this call. Its
      // refusal (an unknown tool) comes back as a tool error, as a model would read it.
      callMesh: (name, args) =>
        this.ask(ch, id, 'tools/call', { name, arguments: args }, CallToolResultSchema, signal).catch(
          (err: unknown) => {
            if (err instanceof McpError) return toolError(RpcError.relayed(err).message);
            throw err;
          },
        ),
    };
  }

  /** A request of the node's own to the client behind a channel, made during the hub's request `re`. */
  private ask<S extends z.ZodType>(
    ch: string,
    re: RequestId,
    method: string,
    params: unknown,
    schema: S,
    signal: AbortSignal,
  ): Promise<z.output<S>> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        this.asked.delete(id);
        this.socket.send({ ch, m: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } } });
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.asked.set(id, {
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.socket.send({
        ch,
        ...(typeof re === 'number' ? { re } : {}),
        m: { jsonrpc: '2.0', id, method, params } as JSONRPCMessage,
      });
    }).then((result) => {
      // What comes back from a client is input like any other: checked before a tool reads it.
      const parsed = schema.safeParse(result);
      if (!parsed.success) throw new McpError(JsonRpcCode.InvalidParams, `the client answered ${method} badly`);
      return parsed.data;
    });
  }
}

function errorOf(err: unknown, logger: Logger): { code: number; message: string; data?: unknown } {
  if (err instanceof McpError) {
    // McpError prefixes "MCP error <code>: "; the peer gets the words alone.
    const bare = RpcError.relayed(err);
    return { code: bare.code, message: bare.message, ...(bare.data === undefined ? {} : { data: bare.data }) };
  }
  if (isBrainmeshError(err)) return { code: err.rpcCode, message: err.message };
  logger.error({ err }, 'link request failed');
  return { code: JsonRpcCode.InternalError, message: 'internal error' };
}
