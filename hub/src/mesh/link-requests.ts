import {
  CATALOG_CHANNEL,
  clip,
  type Envelope,
  type LinkSocket,
  REQUEST_META,
  RESOURCE_MESSAGE_META,
  RpcError,
} from '@brainmesh/shared';
import {
  ErrorCode,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  McpError,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * The hub's requests to one node over its persistent link, and the node's requests back to the
 * hub's clients. Each request goes in one envelope with everything the node needs to serve it
 * with no state of its own (MCP's 2026-07-28 model): the principal and trace id in the envelope,
 * and, in the request's `_meta`, the protocol version, client info and client capabilities of
 * the session it is made for. Results come back as the node sent them: nothing is re-validated
 * or rebuilt on the way through.
 */

/** A hub client session, as the link needs it: whom requests are for, and where the node's own go. */
export interface ChannelPeer {
  id: string;
  principal: string;
  /** What the node may know of the client: its capabilities (those the hub relays) and its info. */
  clientMeta(): { capabilities: Record<string, unknown>; info?: { name: string; version: string } | undefined };
  /** A request of the node's to this session's client: sampling, elicitation, roots. */
  request(method: string, params: unknown, context: NodeRequestContext): Promise<unknown>;
  /** A notification of node `nodeId`'s for this session's client: a log message. */
  notify(nodeId: string, method: string, params: unknown): void;
}

/** The link closed with the request on its way or running: it may or may not have run. */
export class LinkDropped extends Error {
  constructor(reason: string) {
    super(`the link closed: ${reason}`);
  }
}

/** No link to send on: nothing was sent. */
export class LinkUnsent extends Error {
  constructor() {
    super('Not connected');
  }
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** Progress from the node; each one also restarts the timeout. */
  onprogress?: ((progress: { progress: number; total?: number; message?: string }) => void) | undefined;
  /** The client's own request this is made for: the node's requests during it go back on its stream. */
  relatedRequestId?: RequestId | undefined;
  traceId?: string | undefined;
  /**
   * For a call a node made through the hub (`tools/call` of its own, during a call of ours): the
   * nodes it came through, outermost first, so none of them is called again (no loops).
   */
  chain?: readonly string[] | undefined;
}

/** What the hub knows of the call of its own that a node's request was made during. */
export interface NodeRequestContext {
  signal: AbortSignal;
  /** The client's own request it all began with: the node's requests go back on its stream. */
  relatedRequestId?: RequestId | undefined;
  /** The trace of the call it was made during: an inner call carries it on. */
  traceId?: string | undefined;
  /** The nodes the request came through, outermost first; the asking node last. */
  chain: readonly string[];
}

interface Pending {
  /** The channel it was sent on: an answer on another is not its answer. */
  ch: string;
  resolve(result: unknown): void;
  reject(err: unknown): void;
  onprogress?: RequestOptions['onprogress'];
  relatedRequestId?: RequestId | undefined;
  traceId?: string | undefined;
  chain?: readonly string[] | undefined;
  restart(): void;
}

export class LinkRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The node's own requests being served, so the node can cancel them. */
  private readonly serving = new Map<string, AbortController>();
  private closedWith: string | undefined;

  constructor(
    private readonly socket: LinkSocket,
    private readonly deps: {
      nodeId: string;
      channel(id: string): ChannelPeer | undefined;
      onListChanged(): void;
      /** One of the node's resources changed (its URI as the node names it), with a line to log. */
      onResourceUpdated(uri: string, message: string | undefined): void;
    },
  ) {
    socket.on('message', (envelope) => this.onMessage(envelope));
    socket.on('close', (_code, reason) => {
      this.closedWith = reason;
      for (const p of this.pending.values()) p.reject(new LinkDropped(reason));
      this.pending.clear();
      for (const c of this.serving.values()) c.abort(new LinkDropped(reason));
      this.serving.clear();
    });
  }

  get open(): boolean {
    return this.closedWith === undefined;
  }

  /** Sends a request for `peer` (undefined: the hub's own) and resolves with the node's result. */
  request(peer: ChannelPeer | undefined, method: string, params: unknown, options: RequestOptions): Promise<unknown> {
    if (this.closedWith !== undefined) return Promise.reject(new LinkUnsent());
    const id = this.nextId++;
    const base = (params ?? {}) as { _meta?: Record<string, unknown> };
    const meta: Record<string, unknown> = { ...base._meta, [REQUEST_META.protocolVersion]: LATEST_PROTOCOL_VERSION };
    if (peer !== undefined) {
      const client = peer.clientMeta();
      meta[REQUEST_META.clientCapabilities] = client.capabilities;
      if (client.info !== undefined) meta[REQUEST_META.clientInfo] = client.info;
    }
    if (options.onprogress !== undefined) meta.progressToken = id;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const cancel = (reason: string) =>
        this.socket.send({
          ch: peer?.id ?? CATALOG_CHANNEL,
          m: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } },
        });
      const onAbort = () => {
        done();
        cancel('cancelled by the client');
        reject(signal?.reason);
      };
      const restart = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          done();
          cancel('timed out');
          reject(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: options.timeoutMs }));
        }, options.timeoutMs);
      };
      if (signal?.aborted === true) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      restart();
      this.pending.set(id, {
        ch: peer?.id ?? CATALOG_CHANNEL,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        onprogress: options.onprogress,
        relatedRequestId: options.relatedRequestId,
        traceId: options.traceId,
        chain: options.chain,
        restart,
      });
      const envelope: Envelope = {
        ch: peer?.id ?? CATALOG_CHANNEL,
        m: { jsonrpc: '2.0', id, method, params: { ...base, _meta: meta } } as JSONRPCMessage,
      };
      if (peer !== undefined) envelope.p = peer.principal;
      if (options.traceId !== undefined) envelope.tr = options.traceId;
      this.socket.send(envelope);
    });
  }

  /** Every request in flight for a session that ended is dropped: nobody waits for it. */
  endChannel(peerId: string): void {
    for (const [key, controller] of this.serving) {
      if (key.startsWith(`${peerId}\n`)) controller.abort(new Error('the session ended'));
    }
  }

  private onMessage(envelope: Envelope): void {
    const m = envelope.m as Record<string, unknown>;
    if (typeof m.method !== 'string') {
      const pending = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (pending === undefined || pending.ch !== envelope.ch) return;
      if (m.error !== undefined) {
        const e = m.error as { code?: unknown; message?: unknown; data?: unknown };
        pending.reject(
          new McpError(
            typeof e.code === 'number' ? e.code : ErrorCode.InternalError,
            typeof e.message === 'string' ? e.message : 'error',
            e.data,
          ),
        );
      } else pending.resolve(m.result);
      return;
    }
    if (m.id !== undefined) {
      void this.serve(envelope, m.id as RequestId, m.method, m.params);
      return;
    }
    this.onNotification(envelope, m.method, m.params as Record<string, unknown> | undefined);
  }

  private onNotification(envelope: Envelope, method: string, params: Record<string, unknown> | undefined): void {
    if (method === 'notifications/progress') {
      const token = params?.progressToken;
      const pending = typeof token === 'number' ? this.pending.get(token) : undefined;
      if (pending?.onprogress === undefined || pending.ch !== envelope.ch) return;
      pending.restart();
      const { progressToken: _token, ...progress } = params ?? {};
      pending.onprogress(progress as { progress: number });
      return;
    }
    if (method.endsWith('/list_changed')) {
      this.deps.onListChanged();
      return;
    }
    if (method === 'notifications/resources/updated') {
      // Nodes keep no subscriptions (the link is stateless): the hub knows who subscribed.
      const uri = params?.uri;
      const message = (params?._meta as Record<string, unknown> | undefined)?.[RESOURCE_MESSAGE_META];
      if (typeof uri === 'string' && uri.length <= 2_048)
        this.deps.onResourceUpdated(uri, typeof message === 'string' ? clip(message, 2_000) : undefined);
      return;
    }
    if (method === 'notifications/cancelled') {
      const id = params?.requestId;
      this.serving.get(`${envelope.ch}\n${String(id)}`)?.abort(new Error('cancelled by the node'));
      return;
    }
    this.deps.channel(envelope.ch)?.notify(this.deps.nodeId, method, params);
  }

  /**
   * A request of the node's during one of the hub's: sampling, elicitation and roots for the
   * client of its channel, or a tool call of another node's for the hub to make as that channel's
   * session.
   */
  private async serve(envelope: Envelope, id: RequestId, method: string, params: unknown): Promise<void> {
    const reply = (body: { result: unknown } | { error: { code: number; message: string; data?: unknown } }) =>
      this.socket.send({ ch: envelope.ch, m: { jsonrpc: '2.0', id, ...body } as JSONRPCMessage });
    const peer = this.deps.channel(envelope.ch);
    if (peer === undefined) {
      reply({ error: { code: ErrorCode.InvalidRequest, message: 'the session this request was for has ended' } });
      return;
    }
    const outer = envelope.re === undefined ? undefined : this.pending.get(envelope.re);
    // A call through the hub acts as the session's principal: only while the hub waits on a
    // request of that session's to this node, never on the node's own initiative later.
    if (method === 'tools/call' && (outer === undefined || outer.ch !== envelope.ch)) {
      reply({
        error: {
          code: ErrorCode.InvalidRequest,
          message: 'a node may call tools through the hub only during a request the hub made to it, on its channel',
        },
      });
      return;
    }
    const key = `${envelope.ch}\n${String(id)}`;
    const controller = new AbortController();
    this.serving.set(key, controller);
    try {
      const result = await peer.request(method, params, {
        signal: controller.signal,
        relatedRequestId: outer?.relatedRequestId,
        traceId: outer?.traceId,
        chain: [...(outer?.chain ?? []), this.deps.nodeId],
      });
      reply({ result });
    } catch (err) {
      // The client's error, or the hub's own refusal of a call made through it (an RpcError).
      const e = err instanceof McpError || err instanceof RpcError ? err : undefined;
      reply({
        error: {
          code: e?.code ?? ErrorCode.InternalError,
          message: e === undefined ? 'the client could not answer' : RpcError.relayed(e).message,
          ...(e?.data === undefined ? {} : { data: e.data }),
        },
      });
    } finally {
      this.serving.delete(key);
    }
  }
}
