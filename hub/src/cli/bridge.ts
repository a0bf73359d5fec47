import type { Logger } from '@brainmesh/shared';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  InitializeResultSchema,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * The stdio bridge: MCP over stdio on one side (Claude Desktop), Streamable HTTP to the hub on
 * the other. Messages pass through unchanged in both directions, so progress, cancellation,
 * list_changed, sampling and elicitation need nothing special here.
 *
 * What the bridge adds is a connection that outlives the hub's: it opens the hub session itself,
 * with the client's own `initialize`, and when the session is lost (hub restarted, network gone)
 * it answers the requests that were in flight with an error, opens a new session with the same
 * `initialize`, tells the client the lists may have changed, and carries on. Requests that arrive
 * while it reconnects wait for it, up to `queueWaitMs`.
 */

export interface BridgeOptions {
  hubUrl: URL;
  apiKey: string;
  downstream: Transport;
  logger: Logger;
  /** How long a request waits for a lost hub to come back before it is answered with an error. */
  queueWaitMs?: number;
  /** How often an idle link is checked with a ping. */
  keepaliveMs?: number;
}

type State = 'waiting' | 'connecting' | 'ready' | 'refused' | 'closed';

/** JSON-RPC code for errors of the connection rather than of the request (the SDK's ConnectionClosed). */
const CONNECTION_ERROR = -32000;
const INTERNAL_ID = 'brainmesh-bridge:';

export class StdioBridge {
  private state: State = 'waiting';
  private upstream: StreamableHTTPClientTransport | undefined;
  private initialize: JSONRPCRequest | undefined;
  /** The client's `initialize`, until the first session answers it. */
  private firstInitializeId: RequestId | undefined;
  /** Client requests sent to the hub and not yet answered. */
  private readonly inFlight = new Set<RequestId>();
  private readonly queue: Array<{ message: JSONRPCMessage; timer?: NodeJS.Timeout }> = [];
  private readonly internal = new Map<string, (message: JSONRPCMessage) => void>();
  private nextInternalId = 0;
  private sessions = 0;
  private lostSince: Date | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private readonly queueWaitMs: number;
  private refusal: string | undefined;
  /** Transports still opening a session: only the bridge's own requests are answered on them. */
  private readonly handshaking = new Set<StreamableHTTPClientTransport>();
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: BridgeOptions) {
    this.queueWaitMs = options.queueWaitMs ?? 15_000;
  }

  async start(): Promise<void> {
    const { downstream } = this.options;
    downstream.onmessage = (message) => this.fromClient(message);
    downstream.onerror = (err) => this.options.logger.warn({ err }, 'stdio message refused');
    await downstream.start();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.keepalive);
    for (const { timer } of this.queue) clearTimeout(timer);
    const upstream = this.upstream;
    this.upstream = undefined;
    if (upstream !== undefined) {
      // Ends the hub session rather than leaving it to time out.
      await upstream.terminateSession().catch(() => {});
      await upstream.close().catch(() => {});
    }
    await this.options.downstream.close().catch(() => {});
  }

  private fromClient(message: JSONRPCMessage): void {
    if (this.state === 'closed') return;
    if (isJSONRPCRequest(message) && message.method === 'initialize') {
      // A client that initializes again starts over: a new session for it.
      if (this.upstream !== undefined) {
        void this.upstream.terminateSession().catch(() => {});
        void this.upstream.close().catch(() => {});
        this.upstream = undefined;
        this.state = 'connecting';
      }
      this.initialize = message;
      this.firstInitializeId = message.id;
      const timer = setTimeout(() => {
        if (this.firstInitializeId !== message.id) return;
        this.firstInitializeId = undefined;
        this.replyError(message.id, `cannot reach the hub at ${this.options.hubUrl.origin}; is it running?`);
      }, this.queueWaitMs);
      timer.unref();
      void this.connect();
      return;
    }
    // The bridge sends `initialized` itself after each handshake; the client's would be a second.
    if (isJSONRPCNotification(message) && message.method === 'notifications/initialized') return;
    if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      const queued = this.queue.findIndex((q) => 'id' in q.message && q.message.id === id);
      if (queued >= 0) {
        clearTimeout(this.queue[queued]!.timer);
        this.queue.splice(queued, 1);
        return;
      }
      if (id !== undefined) this.inFlight.delete(id);
    }
    if (this.state === 'refused') {
      if (isJSONRPCRequest(message)) this.replyError(message.id, this.refusal ?? 'the hub refused the bridge');
      return;
    }
    if (this.state !== 'ready') {
      // An answer to a request of the lost session means nothing to the next one.
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
        this.options.logger.warn({ id: message.id }, 'answer to the hub dropped: its session is gone');
        return;
      }
      this.queueWaiting({ message });
      return;
    }
    this.forward(message);
  }

  private queueWaiting(entry: { message: JSONRPCMessage }): void {
    const { message } = entry;
    const queued: { message: JSONRPCMessage; timer?: NodeJS.Timeout } = { message };
    if (isJSONRPCRequest(message)) {
      queued.timer = setTimeout(() => {
        const at = this.queue.indexOf(queued);
        if (at < 0) return;
        this.queue.splice(at, 1);
        this.replyError(
          message.id,
          `the hub at ${this.options.hubUrl.origin} is unreachable${this.lostSince ? ` (since ${this.lostSince.toISOString()})` : ''}; the bridge keeps trying to reconnect`,
        );
      }, this.queueWaitMs);
    }
    this.queue.push(queued);
  }

  private forward(message: JSONRPCMessage): void {
    const upstream = this.upstream;
    if (upstream === undefined) {
      this.queueWaiting({ message });
      return;
    }
    const isRequest = isJSONRPCRequest(message);
    if (isRequest) this.inFlight.add(message.id);
    upstream.send(message).catch((err: unknown) => {
      if (upstream !== this.upstream) return;
      const status = err instanceof StreamableHTTPError ? err.code : undefined;
      if (isRequest) this.inFlight.delete(message.id);
      // Never reached the hub's MCP handling (session gone, nobody listening): safe to send again
      // once a new session is open.
      if (status === 404 || isRefused(err)) {
        this.queueWaiting({ message });
        this.lose(err);
        return;
      }
      if (status === 401 || status === 403) {
        this.refuse(`the hub refused the bridge's API key (HTTP ${status}); check --api-key or BRAINMESH_API_KEY`);
        if (isRequest) this.replyError(message.id, this.refusal!);
        return;
      }
      if (isRequest) this.replyError(message.id, `the hub could not take the request: ${messageOf(err)}`);
      if (status === undefined) this.lose(err);
    });
  }

  private fromHub(upstream: StreamableHTTPClientTransport, message: JSONRPCMessage): void {
    if (upstream !== this.upstream && !this.handshaking.has(upstream)) return;
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) {
      const waiter = typeof message.id === 'string' ? this.internal.get(message.id) : undefined;
      if (waiter !== undefined) {
        this.internal.delete(message.id as string);
        waiter(message);
        return;
      }
      if (!this.inFlight.delete(message.id)) return;
    }
    void this.options.downstream.send(message).catch((err) => this.options.logger.warn({ err }, 'stdout write failed'));
  }

  /** Opens a hub session, trying again with backoff until it works or the bridge closes. */
  private connect(): Promise<void> {
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    this.state = 'connecting';
    for (let attempt = 0; this.state === 'connecting'; attempt++) {
      try {
        await this.handshake();
        return;
      } catch (err) {
        if (err instanceof Refused) {
          this.refuse(err.message);
          return;
        }
        const delay = Math.min(250 * 2 ** attempt, 5_000);
        this.options.logger.warn(
          { hub: this.options.hubUrl.origin, err: messageOf(err), retryInMs: delay },
          'hub unreachable',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async handshake(): Promise<void> {
    const init = this.initialize!;
    const upstream = new StreamableHTTPClientTransport(this.options.hubUrl, {
      requestInit: { headers: { authorization: `Bearer ${this.options.apiKey}` } },
    });
    this.handshaking.add(upstream);
    upstream.onmessage = (message) => this.fromHub(upstream, message);
    upstream.onerror = (err) => {
      if (upstream === this.upstream) this.lose(err);
    };
    upstream.onclose = () => {
      if (upstream === this.upstream && this.state !== 'closed') this.lose(new Error('connection closed'));
    };
    try {
      await upstream.start();
      const answer = await this.request(upstream, { method: 'initialize', params: init.params });
      if (isJSONRPCErrorResponse(answer)) throw new Refused(`the hub refused to initialize: ${answer.error.message}`);
      const result = InitializeResultSchema.parse((answer as { result: unknown }).result);
      upstream.setProtocolVersion(result.protocolVersion);
      await upstream.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      if (this.state !== 'connecting') {
        await upstream.close();
        return;
      }
      this.upstream = upstream;
      this.sessions++;
      this.state = 'ready';
      this.lostSince = undefined;
      this.options.logger.info(
        { hub: this.options.hubUrl.origin, session: upstream.sessionId, reconnected: this.sessions > 1 },
        this.sessions > 1 ? 'reconnected to the hub' : 'connected to the hub',
      );
      if (this.firstInitializeId !== undefined) {
        const id = this.firstInitializeId;
        this.firstInitializeId = undefined;
        await this.options.downstream.send({ jsonrpc: '2.0', id, result: (answer as JSONRPCResultResponse).result });
      } else {
        // A new session may see other nodes, tools and prompts than the old one did.
        for (const list of ['tools', 'resources', 'prompts'] as const) {
          if (result.capabilities[list]?.listChanged) {
            await this.options.downstream.send({ jsonrpc: '2.0', method: `notifications/${list}/list_changed` });
          }
        }
      }
      this.flushQueue();
      this.startKeepalive(upstream);
    } catch (err) {
      await upstream.close().catch(() => {});
      if (err instanceof StreamableHTTPError && (err.code === 401 || err.code === 403)) {
        throw new Refused(
          `the hub refused the bridge's API key (HTTP ${err.code}); check --api-key or BRAINMESH_API_KEY`,
        );
      }
      throw err;
    } finally {
      this.handshaking.delete(upstream);
    }
  }

  private flushQueue(): void {
    const waiting = this.queue.splice(0);
    for (const { message, timer } of waiting) {
      clearTimeout(timer);
      this.forward(message);
    }
  }

  private startKeepalive(upstream: StreamableHTTPClientTransport): void {
    clearInterval(this.keepalive);
    const every = this.options.keepaliveMs ?? 15_000;
    this.keepalive = setInterval(() => {
      if (upstream !== this.upstream) return;
      this.request(upstream, { method: 'ping' }, every).catch((err: unknown) => {
        if (upstream === this.upstream) this.lose(err);
      });
    }, every);
    this.keepalive.unref();
  }

  /** The session is gone: answer what was in flight, and open a new one. */
  private lose(err: unknown): void {
    if (this.state !== 'ready') return;
    this.state = 'connecting';
    this.lostSince = new Date();
    clearInterval(this.keepalive);
    const old = this.upstream;
    this.upstream = undefined;
    void old?.close().catch(() => {});
    this.options.logger.warn({ hub: this.options.hubUrl.origin, err: messageOf(err) }, 'lost the hub session');
    for (const id of this.inFlight) {
      this.replyError(
        id,
        `the connection to the hub at ${this.options.hubUrl.origin} was lost while this request was in flight (${messageOf(err)}); the bridge is reconnecting, try again`,
      );
    }
    this.inFlight.clear();
    void this.connect();
  }

  private refuse(reason: string): void {
    this.state = 'refused';
    this.refusal = reason;
    this.options.logger.error({ hub: this.options.hubUrl.origin }, reason);
    for (const { message, timer } of this.queue.splice(0)) {
      clearTimeout(timer);
      if (isJSONRPCRequest(message)) this.replyError(message.id, reason);
    }
    if (this.firstInitializeId !== undefined) {
      this.replyError(this.firstInitializeId, reason);
      this.firstInitializeId = undefined;
    }
  }

  private request(
    upstream: StreamableHTTPClientTransport,
    body: { method: string; params?: JSONRPCRequest['params'] },
    timeoutMs = 10_000,
  ): Promise<JSONRPCMessage & { result?: unknown }> {
    const id = `${INTERNAL_ID}${++this.nextInternalId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new Error(`no answer to ${body.method} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.internal.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      upstream
        .send({
          jsonrpc: '2.0',
          id,
          method: body.method,
          ...(body.params === undefined ? {} : { params: body.params }),
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          this.internal.delete(id);
          reject(err);
        });
    });
  }

  private replyError(id: RequestId, message: string): void {
    void this.options.downstream
      .send({ jsonrpc: '2.0', id, error: { code: CONNECTION_ERROR, message } })
      .catch(() => {});
  }
}

class Refused extends Error {}

function isRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(messageOf(err));
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === undefined ? text : `${text} (${code})`;
}
