import { EventEmitter } from 'node:events';
import {
  BrainmeshError,
  EMPTY_LISTS,
  type KeyRing,
  type Logger,
  listEverything,
  type McpLists,
} from '@brainmesh/shared';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import type { NodeRecord } from '../registry.js';
import { createNodeClient } from './node-client.js';

export interface LinkSettings {
  callTimeoutMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
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
 * Failures trip a circuit breaker; a failed health check marks the node down, and a successful
 * one (or the node announcing itself) brings it back.
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
  private brokenAt: Date | undefined;
  private readonly breaker;
  private closed = false;

  constructor(
    public record: NodeRecord,
    private readonly deps: { hubId: string; ring: KeyRing; logger: Logger; settings: LinkSettings },
  ) {
    super();
    // Only the node failing counts: its tools' own errors and refusals are answers, not faults.
    this.breaker = circuitBreaker(handleWhen(isLinkFailure), {
      halfOpenAfter: deps.settings.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(deps.settings.breakerFailures),
    });
    this.breaker.onBreak(() => {
      this.brokenAt = new Date();
      this.deps.logger.warn({ node: this.id }, 'circuit opened');
    });
    this.breaker.onReset(() => {
      this.brokenAt = undefined;
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
      this.stop();
      this.closed = false;
      this.start();
    }
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

  /** The next time a down node or an open circuit will be tried. */
  nextRetryAt(): Date {
    if (this.brokenAt !== undefined) return new Date(this.brokenAt.getTime() + this.deps.settings.breakerHalfOpenMs);
    const base = this.lastSeen ?? this.downSince ?? new Date();
    const interval = this.deps.settings.healthIntervalMs;
    const next = base.getTime() + Math.ceil((Date.now() - base.getTime() + 1) / interval) * interval;
    return new Date(next);
  }

  /** Why this node cannot take a call right now, in words a person can act on; or undefined. */
  unavailable(): BrainmeshError | undefined {
    if (this.status === 'disabled')
      return new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} is disabled by an operator`);
    if (this.status === 'up' && this.breaker.state !== 0 /* closed */ && this.brokenAt !== undefined) {
      return new BrainmeshError(
        'UPSTREAM_UNAVAILABLE',
        `node ${this.id} is failing (circuit open since ${this.brokenAt.toISOString()}); it will be tried again at ${this.nextRetryAt().toISOString()}`,
        { details: { node: this.id, since: this.brokenAt.toISOString(), retryAt: this.nextRetryAt().toISOString() } },
      );
    }
    if (this.status !== 'up') {
      const since = (this.downSince ?? new Date()).toISOString();
      return new BrainmeshError(
        'UPSTREAM_UNAVAILABLE',
        `node ${this.id} is down (since ${since}); it will be tried again at ${this.nextRetryAt().toISOString()}`,
        { details: { node: this.id, since, retryAt: this.nextRetryAt().toISOString() } },
      );
    }
    return undefined;
  }

  /**
   * Runs `work` against this node for a hub client session, through the circuit breaker. A link
   * failure marks the node down at once rather than waiting for the next health check.
   */
  async call<T>(session: SessionPeer, work: (client: Client) => Promise<T>): Promise<T> {
    const refusal = this.unavailable();
    if (refusal !== undefined) throw refusal;
    try {
      return await this.breaker.execute(async () => work(await this.clientFor(session)));
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw this.unavailable() ?? err;
      if (isLinkFailure(err)) {
        this.sessions.delete(session.id);
        // A health check may have found the node gone while this call was on its way.
        if (this.status !== 'up') throw this.unavailable() ?? err;
        if (isConnectionRefused(err)) {
          this.catalog = undefined;
          this.setStatus('down', err);
          await this.dropClients();
          throw this.unavailable() ?? err;
        }
        if (isTimeout(err)) {
          throw new BrainmeshError(
            'UPSTREAM_TIMEOUT',
            `node ${this.id} did not answer within ${this.deps.settings.callTimeoutMs / 1000} s`,
          );
        }
        throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} could not be reached: ${messageOf(err)}`);
      }
      throw err;
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

/** A fault of the link or the node process, as opposed to an answer from the node. */
export function isLinkFailure(err: unknown): boolean {
  if (err instanceof McpError) return err.code === ErrorCode.RequestTimeout || err.code === ErrorCode.ConnectionClosed;
  if (err instanceof BrainmeshError) return false;
  return err instanceof Error && err.name !== 'AbortError';
}

function isTimeout(err: unknown): boolean {
  return err instanceof McpError && err.code === ErrorCode.RequestTimeout;
}

function isConnectionRefused(err: unknown): boolean {
  const text = `${messageOf(err)} ${messageOf((err as { cause?: unknown })?.cause)}`;
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|other side closed/i.test(text);
}

function messageOf(err: unknown): string {
  if (err === undefined || err === null) return '';
  const cause = (err as { cause?: { code?: string } }).cause;
  return `${err instanceof Error ? err.message : String(err)}${cause?.code ? ` (${cause.code})` : ''}`;
}
