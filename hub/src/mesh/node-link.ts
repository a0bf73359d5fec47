import { EventEmitter } from 'node:events';
import {
  BrainmeshError,
  clip,
  EMPTY_LISTS,
  type KeyRing,
  type Logger,
  listEverything,
  type McpLists,
  RpcError,
} from '@brainmesh/shared';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { NodeRecord } from '../registry.js';
import { type Admission, Circuit, type CircuitView } from './circuit.js';
import { createNodeClient } from './node-client.js';

export interface LinkSettings {
  callTimeoutMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  maxMessageDepth: number;
  maxMessageBytes: number;
}

export type LinkStatus = 'connecting' | 'up' | 'down' | 'disabled';

/** A hub client session, as a node link needs to know it: whom to call for, what it can do. */
export interface SessionPeer {
  id: string;
  principal: string;
  /** Builds a client to a node wired to this session (sampling, elicitation, logging go back to it). */
  connect(link: NodeLink): Promise<Client>;
}

/**
 * The hub's link to one node. A catalog client (principal: the hub itself) keeps the node's
 * lists and answers health checks; each hub client session gets its own client, so calls carry
 * that client's principal and the node's requests (sampling, elicitation) reach that client.
 * Failures of the link itself (and only those: see `linkFault`) trip the node's circuit; a failed
 * health check marks the node down, and a successful one (or the node announcing itself) brings
 * it back.
 */
export class NodeLink extends EventEmitter<{ changed: [] }> {
  status: LinkStatus = 'connecting';
  downSince: Date | undefined;
  lastSeen: Date | undefined;
  latencyMs: number | undefined;
  lists: McpLists = EMPTY_LISTS;
  private catalog: Client | undefined;
  private readonly sessions = new Map<string, Promise<Client>>();
  private healthTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private readonly circuit: Circuit;
  private closed = false;

  constructor(
    public record: NodeRecord,
    private readonly deps: {
      hubId: string;
      ring: KeyRing;
      logger: Logger;
      settings: LinkSettings;
      now?: () => number;
    },
  ) {
    super();
    this.circuit = new Circuit({
      failures: deps.settings.breakerFailures,
      halfOpenAfterMs: deps.settings.breakerHalfOpenMs,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    });
  }

  get id(): string {
    return this.record.id;
  }

  start(): void {
    if (this.record.status === 'disabled') {
      this.setStatus('disabled');
      return;
    }
    void this.reconnect();
    this.healthTimer = setInterval(() => void this.checkHealth(), this.deps.settings.healthIntervalMs);
    this.healthTimer.unref();
  }

  /**
   * The registry changed this node: a new URL means a fresh connection. New node keys do not:
   * the hub signs what it sends with its own key, so a rotation leaves open sessions alone.
   */
  update(record: NodeRecord): void {
    const moved = record.url !== this.record.url;
    const toggled = record.status !== this.record.status;
    this.record = record;
    if (toggled || moved) {
      // A node disabled and enabled again, or come back elsewhere, starts with a clean slate.
      this.circuit.reset();
      this.stop();
      this.closed = false;
      this.start();
    }
  }

  /** The circuit closed by hand (an operator's `nodes reset-circuit`). */
  resetCircuit(): void {
    this.circuit.reset();
    this.deps.logger.info({ node: this.id }, 'circuit reset by an operator');
  }

  circuitView(): CircuitView {
    return this.circuit.view();
  }

  private setStatus(status: LinkStatus, err?: unknown): void {
    // A disabled node stays disabled, whatever a health check or connection still in flight says.
    if (this.record.status === 'disabled' && status !== 'disabled') return;
    const was = this.status;
    this.status = status;
    if (status === 'down' && was !== 'down') {
      this.downSince = new Date();
      this.deps.logger.warn({ node: this.id, err: err instanceof Error ? err.message : err }, 'node down');
    }
    if (status === 'up') {
      this.downSince = undefined;
      if (was !== 'up') this.deps.logger.info({ node: this.id, tools: this.lists.tools.length }, 'node up');
    }
    // A down or disabled node's last lists are kept: its names still route, to say why not.
    if (was !== status) this.emit('changed');
  }

  private reconnect(): Promise<void> {
    this.connecting ??= this.connectCatalog().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectCatalog(): Promise<void> {
    if (this.record.url === null || this.closed) return;
    await this.dropClients();
    const { client, transport } = createNodeClient({
      url: this.record.url,
      nodeId: this.id,
      hubId: this.deps.hubId,
      ring: this.deps.ring,
      principal: `hub:${this.deps.hubId}`,
      capabilities: {},
    });
    try {
      const started = performance.now();
      await client.connect(transport, { timeout: this.deps.settings.healthTimeoutMs * 2 });
      this.latencyMs = Math.round(performance.now() - started);
      const refresh = () => void this.refreshLists(client);
      client.setNotificationHandler(ToolListChangedNotificationSchema, refresh);
      client.setNotificationHandler(ResourceListChangedNotificationSchema, refresh);
      client.setNotificationHandler(PromptListChangedNotificationSchema, refresh);
      this.lists = await listEverything(client);
      if (this.closed) {
        await client.close();
        return;
      }
      this.catalog = client;
      this.lastSeen = new Date();
      this.setStatus('up');
      this.emit('changed');
    } catch (err) {
      await client.close().catch(() => {});
      this.setStatus('down', err);
    }
  }

  private async refreshLists(client: Client): Promise<void> {
    try {
      this.lists = await listEverything(client);
      this.emit('changed');
    } catch (err) {
      this.deps.logger.warn({ node: this.id, err }, 'list refresh failed');
    }
  }

  private async checkHealth(): Promise<void> {
    if (this.closed || this.status === 'disabled') return;
    const client = this.catalog;
    if (client === undefined || this.status !== 'up') {
      await this.reconnect();
      return;
    }
    const started = performance.now();
    try {
      await client.ping({ timeout: this.deps.settings.healthTimeoutMs });
      this.latencyMs = Math.round(performance.now() - started);
      this.lastSeen = new Date();
    } catch (err) {
      // Down first, then close: a call whose client closes under it must find the node down and
      // say so, rather than report a bare "connection closed".
      this.catalog = undefined;
      this.setStatus('down', err);
      await client.close().catch(() => {});
      await this.dropClients();
    }
  }

  /** The next time a down node will be tried: its next health check. */
  nextRetryAt(): Date {
    const base = this.lastSeen ?? this.downSince ?? new Date();
    const interval = this.deps.settings.healthIntervalMs;
    const next = base.getTime() + Math.ceil((Date.now() - base.getTime() + 1) / interval) * interval;
    return new Date(next);
  }

  /** Why this node cannot take a call right now, in words a person can act on; or undefined. */
  unavailable(): BrainmeshError | undefined {
    if (this.status === 'disabled')
      return new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} is disabled by an operator`);
    if (this.status !== 'up') {
      const since = (this.downSince ?? new Date()).toISOString();
      return new BrainmeshError(
        'UPSTREAM_UNAVAILABLE',
        `node ${this.id} is down (since ${since}); it will be tried again at ${this.nextRetryAt().toISOString()}`,
        { details: { node: this.id, since, retryAt: this.nextRetryAt().toISOString() } },
      );
    }
    const admission = this.circuit.peek();
    return admission.ok ? undefined : this.circuitRefusal(admission);
  }

  private circuitRefusal(admission: Extract<Admission, { ok: false }>): BrainmeshError {
    const since = admission.since.toISOString();
    const retryAt = admission.retryAt?.toISOString();
    return new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      retryAt === undefined
        ? `node ${this.id} is failing (circuit open since ${since}); a trial call is under way, try again in a moment`
        : `node ${this.id} is failing (circuit open since ${since}); it will be tried again at ${retryAt}`,
      { details: { node: this.id, since, ...(retryAt === undefined ? {} : { retryAt }) } },
    );
  }

  /**
   * Runs `work` against this node for a hub client session, through the node's circuit. Only a
   * failure of the link counts against the circuit; a connection refused marks the node down at
   * once rather than waiting for the next health check. What reaches the caller is a
   * BrainmeshError in words, the node's own JSON-RPC error (`RpcError`), or, for anything else
   * (a fault of the hub's own), the error as it was.
   */
  async call<T>(session: SessionPeer, work: (client: Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const refusal = this.unavailable();
    if (refusal !== undefined) throw refusal;
    const admission = this.circuit.admit();
    if (!admission.ok) throw this.circuitRefusal(admission);
    let result: T;
    try {
      result = await work(await this.clientFor(session));
    } catch (err) {
      throw await this.failure(err, session, admission.probe, signal?.aborted === true);
    }
    this.circuit.succeeded();
    return result;
  }

  /**
   * The node's JSON-RPC error, for the client: its words when it refuses the request (first line,
   * cut), never its internal faults, which may carry its stack.
   */
  private relayed(err: McpError): RpcError {
    const relayed = RpcError.relayed(err);
    const firstLine = relayed.message.split('\n', 1)[0] ?? '';
    if (err.code === ErrorCode.InternalError || LOOKS_INTERNAL.test(firstLine)) {
      this.deps.logger.warn(
        { node: this.id, code: err.code, err: relayed.message },
        'node answered with an internal error',
      );
      return new RpcError(
        ErrorCode.InternalError,
        `node ${this.id} failed to serve the request (internal error; see its log)`,
      );
    }
    return new RpcError(relayed.code, clip(firstLine, 500), relayed.data);
  }

  /** What a failed call means for the link, and the error the caller gets for it. */
  private async failure(err: unknown, session: SessionPeer, probe: boolean, cancelled: boolean): Promise<unknown> {
    const fault = cancelled ? { kind: 'cancelled' as const } : linkFault(err);
    const failed = () => {
      if (this.circuit.failed(probe)) this.deps.logger.warn({ node: this.id, fault: fault.kind }, 'circuit opened');
    };
    switch (fault.kind) {
      case 'answer':
        this.circuit.succeeded();
        return this.relayed(err as McpError);
      case 'refused':
        failed();
        if (this.status === 'up') {
          this.catalog = undefined;
          this.setStatus('down', err);
          await this.dropClients();
        }
        return this.unavailable() ?? err;
      case 'unsent':
        this.circuit.released(probe);
        return (
          this.unavailable() ??
          new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} could not be reached; call again`)
        );
      case 'dropped':
        failed();
        // Whether the node is gone or only this stream broke, a health check says at once.
        void this.checkHealth();
        return new BrainmeshError(
          'UPSTREAM_UNAVAILABLE',
          `node ${this.id} went down during the call; it may or may not have run`,
          { cause: err },
        );
      case 'timeout':
        failed();
        return new BrainmeshError(
          'UPSTREAM_TIMEOUT',
          `node ${this.id} did not answer within ${this.deps.settings.callTimeoutMs / 1000} s`,
          { cause: err },
        );
      case 'http':
        if (fault.status >= 500 || fault.status < 0) {
          failed();
          return new BrainmeshError(
            'UPSTREAM_UNAVAILABLE',
            `node ${this.id} failed to answer (${fault.status < 0 ? 'not an MCP answer' : `HTTP ${fault.status}`}); see its log`,
            { cause: err },
          );
        }
        this.circuit.released(probe);
        if (fault.status === 404) {
          // The node restarted and forgot this session; the next call opens a new one.
          await this.endSession(session.id);
          return new BrainmeshError(
            'UPSTREAM_UNAVAILABLE',
            `node ${this.id} restarted and no longer knows this session; call again`,
            { cause: err },
          );
        }
        return new BrainmeshError(
          'UPSTREAM_UNAVAILABLE',
          `node ${this.id} refused the hub (HTTP ${fault.status}); see its log`,
          {
            cause: err,
          },
        );
      case 'bad-answer':
        this.circuit.released(probe);
        return new BrainmeshError(
          'UPSTREAM_UNAVAILABLE',
          `node ${this.id} answered with something that is not an MCP result`,
          {
            cause: err,
          },
        );
      case 'cancelled':
      case 'other':
        this.circuit.released(probe);
        return err;
    }
  }

  private clientFor(session: SessionPeer): Promise<Client> {
    let client = this.sessions.get(session.id);
    if (client === undefined) {
      client = session.connect(this);
      client.catch(() => this.sessions.delete(session.id));
      this.sessions.set(session.id, client);
    }
    return client;
  }

  /** A hub client session ended: its client to this node goes too. */
  async endSession(sessionId: string): Promise<void> {
    const client = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    await client?.then((c) => c.close()).catch(() => {});
  }

  private async dropClients(): Promise<void> {
    const clients = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(clients.map((c) => c.then((x) => x.close()).catch(() => {})));
  }

  stop(): void {
    this.closed = true;
    if (this.healthTimer !== undefined) clearInterval(this.healthTimer);
    const catalog = this.catalog;
    this.catalog = undefined;
    void catalog?.close().catch(() => {});
    void this.dropClients();
  }
}

export type LinkFault =
  /** The node answered, with a JSON-RPC error: the link works. */
  | { kind: 'answer' }
  /** Nothing reached the node: the connection was refused, or no route to it. */
  | { kind: 'refused' }
  /** Nothing was sent: the session's client to the node had been closed (the node went down). */
  | { kind: 'unsent' }
  /** The connection or the answer's stream broke with the request on its way or running. */
  | { kind: 'dropped' }
  | { kind: 'timeout' }
  /** The node answered over HTTP with an error status (or not with MCP at all: -1). */
  | { kind: 'http'; status: number }
  /** The node answered, but not with what MCP says it answers. */
  | { kind: 'bad-answer' }
  /** Not the link's doing: the caller cancelled, or a fault of the hub's own (a bug). */
  | { kind: 'cancelled' }
  | { kind: 'other' };

/** A message that reads like a JavaScript fault rather than a refusal meant for the caller. */
const LOOKS_INTERNAL =
  /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|Maximum call stack)\b|node_modules|\.[cm]?[jt]s:\d+/;

/** Network errors that mean the request never reached the node. */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * What a failed request to a node says about the link. Counted against a node's circuit are only
 * its own failures: refused, dropped, timed out, a 5xx or a broken answer. Anything the hub
 * cannot place (a RangeError from a caller's absurd input, a bug) is `other`, never the node's.
 */
export function linkFault(err: unknown): LinkFault {
  if (err instanceof McpError) {
    if (err.code === ErrorCode.RequestTimeout) return { kind: 'timeout' };
    if (err.code === ErrorCode.ConnectionClosed) return { kind: 'dropped' };
    return { kind: 'answer' };
  }
  if (err instanceof StreamableHTTPError) return { kind: 'http', status: err.code ?? -1 };
  if (err instanceof Error && err.name === 'ZodError') return { kind: 'bad-answer' };
  if (err instanceof Error && err.message === 'Not connected') return { kind: 'unsent' };
  const code = networkCode(err);
  if (code !== undefined) return NEVER_SENT.has(code) ? { kind: 'refused' } : { kind: 'dropped' };
  return { kind: 'other' };
}

/** The system error code of a failed fetch (undici puts it on the cause), if it is one. */
function networkCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (err.name === 'TypeError' && err.message === 'fetch failed') {
    return typeof cause?.code === 'string' ? cause.code : 'UND_ERR_SOCKET';
  }
  const own = (err as { code?: unknown }).code;
  return typeof own === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(own) ? own : undefined;
}
