import { EventEmitter } from 'node:events';
import {
  BrainmeshError,
  clip,
  createLinkVerifier,
  EMPTY_LISTS,
  isBrainmeshError,
  type KeyRing,
  LINK_CLOSE,
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkIdentity,
  type LinkSocket,
  LinkTokenError,
  type Logger,
  linkMaxPayload,
  type McpLists,
  openLink,
  ROTATE_KEYS_METHOD,
  RpcError,
  type Store,
  signLinkToken,
} from '@brainmesh/shared';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { WebSocket } from 'ws';
import type { NodeRecord } from '../registry.js';
import { type Admission, Circuit, type CircuitView } from './circuit.js';
import { type ChannelPeer, LinkDropped, LinkRequests, LinkUnsent, type RequestOptions } from './link-requests.js';
import { type NodeKeyRotation, parseRotation } from './node-keys.js';

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

/** Health pings in a row a node may miss before its link is closed as hung. */
const MISSED_PINGS_DOWN = 3;
/** WebSocket pings, for a peer that vanished without closing (a cable pulled, a NAT forgetting). */
const HEARTBEAT_MS = 5_000;
/** Which way the link was opened, seen from the node: the hub dialled in to it (`dial-in`, a node with a URL), or it dialled out to the hub (`dial-out`, a node behind NAT). */
export type LinkDirection = 'dial-out' | 'dial-in';

/** A hub client session, as a node link needs to know it. */
export type SessionPeer = ChannelPeer;

export interface NodeLinkDeps {
  hubId: string;
  /** This hub process (`Mesh.instance`), told to nodes in the hello. */
  instance?: string;
  ring: KeyRing;
  /** Where link tokens' ids are remembered, so none is accepted twice. */
  store: Store;
  logger: Logger;
  settings: LinkSettings;
  now?: () => number;
}

/**
 * The hub's link to one node: one persistent WebSocket (link-requests.ts carries the requests on
 * it), dialled by the hub when the node has a URL, or by the node when it has none. Every hub
 * client session's requests share it, each carrying its principal. The node's lists are fetched
 * when the link comes up and again whenever the node says they changed; a ping on it every
 * health interval measures latency and notices a node that stopped answering. Failures of the
 * link itself (and only those: see `linkFault`) trip the node's circuit.
 */
export class NodeLink extends EventEmitter<{
  changed: [];
  resourceUpdated: [uri: string, message: string | undefined];
}> {
  status: LinkStatus = 'connecting';
  direction: LinkDirection | undefined;
  downSince: Date | undefined;
  lastSeen: Date | undefined;
  latencyMs: number | undefined;
  lists: McpLists = EMPTY_LISTS;
  private socket: LinkSocket | undefined;
  private requests: LinkRequests | undefined;
  private readonly sessions = new Map<string, SessionPeer>();
  private healthTimer: NodeJS.Timeout | undefined;
  private dialing: Promise<void> | undefined;
  private missedPings = 0;
  private readonly circuit: Circuit;
  private closed = false;

  constructor(
    public record: NodeRecord,
    private readonly deps: NodeLinkDeps,
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
    this.closed = false;
    if (this.record.status === 'disabled') {
      this.setStatus('disabled');
      return;
    }
    void this.dial();
    this.healthTimer = setInterval(() => void this.checkHealth(), this.deps.settings.healthIntervalMs);
    this.healthTimer.unref();
  }

  /**
   * The registry changed this node. Disabled, moved or with new keys, its link closes at once
   * (what it proved at the handshake no longer holds) and a fresh one starts.
   */
  update(record: NodeRecord): void {
    const moved = record.url !== this.record.url;
    const toggled = record.status !== this.record.status;
    const rekeyed = JSON.stringify(record.jwks) !== JSON.stringify(this.record.jwks);
    this.record = record;
    if (toggled || moved || rekeyed) {
      // A node disabled and enabled again, or come back elsewhere, starts with a clean slate.
      if (toggled || moved) this.circuit.reset();
      this.stop(toggled ? 'node disabled' : moved ? 'node moved' : 'node keys changed');
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
      if (was !== 'up')
        this.deps.logger.info({ node: this.id, tools: this.lists.tools.length, direction: this.direction }, 'node up');
    }
    // A down or disabled node's last lists are kept: its names still route, to say why not.
    if (was !== status) this.emit('changed');
  }

  /** How the hub proves itself on a link to this node, and checks the node's proof. */
  identity(): LinkIdentity {
    const { hubId, ring, store } = this.deps;
    return {
      role: 'hub',
      id: hubId,
      ...(this.deps.instance === undefined ? {} : { instance: this.deps.instance }),
      sign: (aud, nonce) => signLinkToken(ring, { iss: hubId, aud, sub: `hub:${hubId}`, nonce }),
      verify: async (peer, token, nonce) => {
        if (peer.role !== 'node' || peer.id !== this.id) throw new LinkTokenError('wrong-issuer');
        if (this.record.status === 'disabled' || this.closed) throw new LinkTokenError('wrong-issuer');
        const claims = await createLinkVerifier({
          issuer: this.id,
          audience: hubId,
          keys: () => this.record.jwks,
          replay: store,
        })(token, nonce);
        if (claims.sub !== `node:${this.id}`) throw new LinkTokenError('malformed');
        return claims;
      },
    };
  }

  /**
   * The node process on the other end of this hub's link, when the node dialled and said which
   * (`Hello.instance`): the same process dialling again is refused (`already-linked`), where
   * another (the node restarted) replaces the link.
   */
  dialledBy(): string | undefined {
    if (this.socket === undefined || this.socket.closed || this.direction !== 'dial-out') return undefined;
    return this.socket.peer.instance;
  }

  /** The hub dials a node that has a URL; one that has none dials the hub (`attach`). */
  private dial(): Promise<void> {
    this.dialing ??= this.dialOnce().finally(() => {
      this.dialing = undefined;
    });
    return this.dialing;
  }

  private async dialOnce(): Promise<void> {
    const url = this.record.url;
    if (url === null || this.closed || this.socket !== undefined) return;
    const target = new URL(LINK_PATH, url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    try {
      const socket = await new Promise<LinkSocket>((resolve, reject) => {
        const ws = new WebSocket(target, LINK_SUBPROTOCOL, {
          maxPayload: linkMaxPayload(this.deps.settings.maxMessageBytes),
          handshakeTimeout: this.deps.settings.healthTimeoutMs * 2,
        });
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => {
          ws.terminate();
          reject(new Error(`the node answered HTTP ${res.statusCode}`));
        });
        ws.once('open', () => openLink(ws, this.identity(), this.socketOptions()).then(resolve, reject));
      });
      if (this.closed || this.record.url !== url) {
        socket.close(LINK_CLOSE.going, 'not wanted any more');
        return;
      }
      await this.attach(socket, 'dial-in');
    } catch (err) {
      this.setStatus('down', err);
    }
  }

  socketOptions() {
    return { heartbeatMs: HEARTBEAT_MS, reauthMs: 10_000 };
  }

  /** A link came up (the hub dialled, or the node did): it replaces any other, then lists are fetched. */
  async attach(socket: LinkSocket, direction: LinkDirection): Promise<void> {
    if (this.closed || this.record.status === 'disabled') {
      socket.close(LINK_CLOSE.refused, 'node disabled');
      return;
    }
    const previous = this.socket;
    this.socket = socket;
    this.direction = direction;
    const requests = new LinkRequests(socket, {
      nodeId: this.id,
      channel: (id) => this.sessions.get(id),
      onListChanged: () => void this.refreshLists(),
      onResourceUpdated: (uri, message) => this.emit('resourceUpdated', uri, message),
    });
    this.requests = requests;
    this.missedPings = 0;
    previous?.close(LINK_CLOSE.replaced, 'replaced by a newer link');
    socket.once('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.requests = undefined;
      if (!this.closed) this.setStatus('down', new Error(`link closed (${code}): ${reason}`));
    });
    try {
      const started = performance.now();
      this.lists = await this.fetchLists(requests);
      this.latencyMs = Math.round(performance.now() - started);
      if (this.socket !== socket) return;
      this.lastSeen = new Date();
      this.setStatus('up');
      this.emit('changed');
    } catch (err) {
      socket.close(LINK_CLOSE.going, 'could not list the node');
      this.setStatus('down', err);
    }
  }

  private async fetchLists(requests: LinkRequests): Promise<McpLists> {
    const timeoutMs = this.deps.settings.healthTimeoutMs * 4;
    const all = async <T>(method: string, key: string): Promise<T[]> => {
      const out: T[] = [];
      let cursor: string | undefined;
      do {
        const page = (await requests.request(undefined, method, cursor === undefined ? {} : { cursor }, {
          timeoutMs,
        })) as Record<string, unknown>;
        out.push(...((page[key] as T[] | undefined) ?? []));
        cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
      } while (cursor !== undefined);
      return out;
    };
    const [tools, resources, templates, prompts] = await Promise.all([
      all<Tool>('tools/list', 'tools'),
      all<Resource>('resources/list', 'resources'),
      all<ResourceTemplate>('resources/templates/list', 'resourceTemplates'),
      all<Prompt>('prompts/list', 'prompts'),
    ]);
    return { tools, resources, templates, prompts };
  }

  private async refreshLists(): Promise<void> {
    const requests = this.requests;
    if (requests === undefined) return;
    try {
      this.lists = await this.fetchLists(requests);
      this.emit('changed');
    } catch (err) {
      this.deps.logger.warn({ node: this.id, err }, 'list refresh failed');
    }
  }

  private async checkHealth(): Promise<void> {
    if (this.closed || this.status === 'disabled') return;
    const requests = this.requests;
    if (requests === undefined) {
      await this.dial();
      return;
    }
    const started = performance.now();
    try {
      await requests.request(undefined, 'ping', {}, { timeoutMs: this.deps.settings.healthTimeoutMs });
      this.latencyMs = Math.round(performance.now() - started);
      this.lastSeen = new Date();
      if (this.status !== 'up') this.setStatus('up');
      this.missedPings = 0;
    } catch (err) {
      // A node that dies closes its socket, and is down at once; this is for one that hangs. A
      // node busy for a moment (a long synchronous write) is given a few intervals, since
      // closing the link fails every call in flight on it.
      this.missedPings += 1;
      if (this.missedPings < MISSED_PINGS_DOWN || requests !== this.requests) return;
      // Down first, then close: a call in flight must find the node down and say so.
      this.setStatus('down', err);
      this.socket?.close(LINK_CLOSE.going, 'the node stopped answering');
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
   * Sends one request to this node for a hub client session, through the node's circuit. Only a
   * failure of the link counts against the circuit. What reaches the caller is the node's
   * result as it sent it, a BrainmeshError in words, the node's own JSON-RPC error (`RpcError`),
   * or, for anything else (a fault of the hub's own), the error as it was.
   */
  async call(
    session: SessionPeer,
    method: string,
    params: unknown,
    options: Omit<RequestOptions, 'timeoutMs'>,
  ): Promise<unknown> {
    const refusal = this.unavailable();
    if (refusal !== undefined) throw refusal;
    const admission = this.circuit.admit();
    if (!admission.ok) throw this.circuitRefusal(admission);
    this.sessions.set(session.id, session);
    let result: unknown;
    try {
      // A link being dialled again (the node's keys just changed, say) is waited for, not failed.
      if (this.requests === undefined && this.dialing !== undefined) await this.dialing;
      const requests = this.requests;
      if (requests === undefined) throw new LinkUnsent();
      result = await requests.request(session, method, params, {
        ...options,
        timeoutMs: this.deps.settings.callTimeoutMs,
      });
    } catch (err) {
      throw await this.failure(err, admission.probe, options.signal?.aborted === true);
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
  private async failure(err: unknown, probe: boolean, cancelled: boolean): Promise<unknown> {
    const fault = cancelled ? { kind: 'cancelled' as const } : linkFault(err);
    const failed = () => {
      if (this.circuit.failed(probe)) this.deps.logger.warn({ node: this.id, fault: fault.kind }, 'circuit opened');
    };
    switch (fault.kind) {
      case 'answer':
        this.circuit.succeeded();
        return this.relayed(err as McpError);
      case 'unsent':
        this.circuit.released(probe);
        return (
          this.unavailable() ??
          new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} could not be reached; call again`)
        );
      case 'dropped':
        failed();
        // Whether the node is gone or only the link broke, it is dialled again (or dials) at once.
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
      case 'cancelled':
      case 'other':
        this.circuit.released(probe);
        return err;
    }
  }

  /**
   * Asks the node, over its link, for a new signing key; resolves with its answer, checked. The
   * caller pins the new keys, which closes this link: the next handshake proves the new key.
   */
  async rotateKeys(): Promise<NodeKeyRotation> {
    const requests = this.requests;
    if (requests === undefined || this.status !== 'up')
      throw this.unavailable() ?? new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${this.id} is not linked`);
    try {
      const answer = await requests.request(
        undefined,
        ROTATE_KEYS_METHOD,
        {},
        {
          timeoutMs: this.deps.settings.callTimeoutMs,
        },
      );
      return parseRotation(this.id, answer);
    } catch (err) {
      if (isBrainmeshError(err)) throw err;
      throw new BrainmeshError(
        'UPSTREAM_UNAVAILABLE',
        `node ${this.id} failed to rotate its keys (${err instanceof Error ? clip(err.message, 200) : 'no answer'}); its log says why`,
      );
    }
  }

  /** A hub client session ended: the node's requests for it are dropped. */
  async endSession(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
    this.requests?.endChannel(sessionId);
  }

  stop(reason = 'node removed'): void {
    this.closed = true;
    if (this.healthTimer !== undefined) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.requests = undefined;
    socket?.close(LINK_CLOSE.refused, reason);
  }
}

export type LinkFault =
  /** The node answered, with a JSON-RPC error: the link works. */
  | { kind: 'answer' }
  /** Nothing was sent: there was no link to send on. */
  | { kind: 'unsent' }
  /** The link broke with the request on its way or running. */
  | { kind: 'dropped' }
  | { kind: 'timeout' }
  /** Not the link's doing: the caller cancelled, or a fault of the hub's own (a bug). */
  | { kind: 'cancelled' }
  | { kind: 'other' };

/** A message that reads like a JavaScript fault rather than a refusal meant for the caller. */
const LOOKS_INTERNAL =
  /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|Maximum call stack)\b|node_modules|\.[cm]?[jt]s:\d+/;

/**
 * What a failed request to a node says about the link. Counted against a node's circuit are only
 * its own failures: the link dropped or the node timed out. Anything the hub cannot place (a
 * RangeError from a caller's absurd input, a bug) is `other`, never the node's.
 */
export function linkFault(err: unknown): LinkFault {
  if (err instanceof McpError) {
    if (err.code === ErrorCode.RequestTimeout) return { kind: 'timeout' };
    return { kind: 'answer' };
  }
  if (err instanceof LinkDropped) return { kind: 'dropped' };
  if (err instanceof LinkUnsent) return { kind: 'unsent' };
  return { kind: 'other' };
}
