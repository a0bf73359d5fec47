import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { LinkTokenError } from './token.js';

/**
 * The persistent link between a hub and a node: one WebSocket, whichever side dialled, carrying
 * every hub client session's MCP traffic as JSON-RPC messages in envelopes.
 *
 * Handshake (the same for both sides, so it does not matter who dialled): each side sends
 * `hello` with a fresh random nonce and its id; each answers the other's hello with `auth`, a
 * link token (signed by its pinned key, `aud` the peer, single-use `jti`) that carries the
 * PEER's nonce; each, having verified the other's token, sends `ready`. A token is therefore good
 * for this connection only: replayed onto another, its nonce is not the one that connection's
 * receiver sent. A side takes the link as up only when it has verified the peer AND read the
 * peer's `ready` (the peer verified it), so neither sends a message the other has not agreed to
 * read. Nothing else is read before, and a side not through within 5 s is dropped.
 *
 * Tokens live 30 s: each side sends a fresh `auth` (same nonce, new jti) every `reauthMs`; a
 * connection whose peer's last token has expired is closed. Heartbeats are WebSocket pings.
 *
 * After the handshake every frame is an envelope `{ ch, p?, tr?, re?, m }`: the channel (a hub
 * client session, or `catalog` for the hub's own requests), the principal and trace id of the
 * request it belongs to, the hub-side request a node's own request is made for (`re`), and the
 * JSON-RPC message itself, passed on as it came.
 */

export const LINK_SUBPROTOCOL = 'brainmesh.link.v1';
export const LINK_PATH = '/links/socket';
/** A connection that has not finished the handshake by then is closed. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** The channel of the hub's own requests (lists, pings, key rotation): no client's. */
export const CATALOG_CHANNEL = 'catalog';
/** The channel of what concerns every session (a node's lists changed). */
export const ALL_CHANNELS = '*';
/**
 * In a node's `notifications/resources/updated` (sent on ALL_CHANNELS), a line for the logs of
 * the sessions subscribed to that resource: what changed, in words.
 */
export const RESOURCE_MESSAGE_META = 'brainmesh/message';
/** The hub's own request for a new node key, on the catalog channel only. */
export const ROTATE_KEYS_METHOD = 'brainmesh/rotateKeys';
/** Where a request carries what MCP's 2026-07-28 revision puts on every request. */
export const REQUEST_META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
} as const;

/** The largest frame a side takes: a message of `maxMessageBytes` and its envelope. */
export const linkMaxPayload = (maxMessageBytes: number) => maxMessageBytes + 64 * 1024;

/** Close codes (the 4000–4999 range is the application's). */
export const CLOSE = { unauthenticated: 4401, refused: 4403, replaced: 4409, lapsed: 4408, going: 1001 } as const;

const helloFrame = z
  .object({
    link: z.literal('hello'),
    role: z.enum(['hub', 'node']),
    id: z.string().min(1).max(200),
    nonce: z.string().min(16).max(200),
    /**
     * This process, of the several that may share the id: a hub replica, or a node that
     * restarted. A node that dials keeps one link to each hub process (link-dialer.ts).
     */
    instance: z.string().min(1).max(100).optional(),
  })
  .strict();
const authFrame = z.object({ link: z.literal('auth'), token: z.string().min(1).max(8_000) }).strict();
const readyFrame = z.object({ link: z.literal('ready') }).strict();
export type Hello = z.infer<typeof helloFrame>;

export interface Envelope {
  /** The channel: a hub client session's id, or `catalog`. */
  ch: string;
  /** The principal a request is made for (hub to node). */
  p?: string;
  /** The trace id of the call it belongs to. */
  tr?: string;
  /** A node's request made during a hub request: that request's link id. */
  re?: number;
  m: JSONRPCMessage;
}

export interface LinkIdentity {
  role: 'hub' | 'node';
  id: string;
  /** This process, told in the hello (`Hello.instance`). */
  instance?: string;
  /** A link token for `aud`, carrying `nonce`. */
  sign(aud: string, nonce: string): Promise<string>;
  /**
   * Checks the peer's token (its keys, `aud` us, `nonce` ours, single use). Throws
   * LinkTokenError (or any error) to refuse. The peer's hello says who it claims to be.
   */
  verify(peer: Hello, token: string, nonce: string): Promise<{ exp: number }>;
}

export interface LinkSocketOptions {
  /** Fresh tokens are sent this often; well within their 30 s life. */
  reauthMs?: number;
  /** A ping this often; a peer silent for three in a row is gone. */
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  now?: () => number;
}

export class LinkRefused extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`link refused: ${reason}`);
  }
}

/**
 * Runs the handshake on an open WebSocket. Resolves with the authenticated link, or rejects
 * (having closed the socket) when the peer does not prove who it is in time.
 */
export function openLink(ws: WebSocket, me: LinkIdentity, options: LinkSocketOptions = {}): Promise<LinkSocket> {
  const nonce = randomBytes(24).toString('base64url');
  return new Promise((resolve, reject) => {
    let peer: Hello | undefined;
    let peerExp: number | undefined;
    // Our own token, on its way: `ready` is sent only after it, so the peer reads them in order.
    let authSent: Promise<void> | undefined;
    let peerReady = false;
    let done = false;
    let linked: LinkSocket | undefined;
    const finish = (err?: LinkRefused) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', onClose);
      if (err !== undefined) {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(err.code, err.reason);
        reject(err);
        return;
      }
      linked = new LinkSocket(ws, me, peer!, nonce, peerExp!, options);
      resolve(linked);
    };
    // Both proofs checked, each by its receiver: the peer has verified us (its `ready`), we it.
    const maybeDone = () => {
      if (peerExp !== undefined && peerReady) finish();
    };
    const timer = setTimeout(
      () => finish(new LinkRefused(CLOSE.unauthenticated, 'not authenticated in time')),
      options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    );
    // The peer's own code and reason, when it closed the socket: a refusal says why (its log
    // says more), and a dialling node acts on `already-linked`.
    const onClose = (code?: unknown, reason?: unknown) =>
      finish(
        typeof code === 'number' && Buffer.isBuffer(reason) && reason.length > 0
          ? new LinkRefused(code, reason.toString('utf8'))
          : new LinkRefused(CLOSE.going, 'closed during the handshake'),
      );
    // One frame at a time: a frame may come while the one before is still being verified.
    let queue = Promise.resolve();
    const onMessage = (data: Buffer, isBinary: boolean) => {
      queue = queue.then(() => handle(data, isBinary));
    };
    const handle = async (data: Buffer, isBinary: boolean): Promise<void> => {
      // A frame that came in behind the peer's `ready`: the link's first message, not to be lost.
      if (done) return linked?.receive(data, isBinary);
      const frame = isBinary ? undefined : parseJson(data.toString('utf8'));
      if (peer === undefined) {
        const hello = helloFrame.safeParse(frame);
        if (!hello.success || hello.data.role === me.role) return finish(new LinkRefused(CLOSE.refused, 'bad hello'));
        const who = hello.data;
        peer = who;
        authSent = me.sign(who.id, who.nonce).then(
          (token) => ws.send(JSON.stringify({ link: 'auth', token })),
          () => finish(new LinkRefused(CLOSE.refused, 'cannot sign')),
        );
        return;
      }
      if (peerExp === undefined) {
        const auth = authFrame.safeParse(frame);
        if (!auth.success) return finish(new LinkRefused(CLOSE.unauthenticated, 'expected auth'));
        try {
          ({ exp: peerExp } = await me.verify(peer, auth.data.token, nonce));
        } catch (err) {
          const reason = err instanceof LinkTokenError ? err.reason : 'refused';
          return finish(new LinkRefused(CLOSE.unauthenticated, reason));
        }
        await authSent;
        if (done) return;
        ws.send(JSON.stringify({ link: 'ready' }));
        return maybeDone();
      }
      if (!readyFrame.safeParse(frame).success) return finish(new LinkRefused(CLOSE.refused, 'expected ready'));
      peerReady = true;
      maybeDone();
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onClose);
    ws.send(
      JSON.stringify({
        link: 'hello',
        role: me.role,
        id: me.id,
        nonce,
        ...(me.instance === undefined ? {} : { instance: me.instance }),
      }),
    );
  });
}

/**
 * An authenticated link. `message` fires for each envelope; `close` once, with why. Sends are
 * fire-and-forget: a closed link drops them, and whoever waits on an answer learns of the close.
 */
export class LinkSocket extends EventEmitter<{ message: [Envelope]; close: [number, string] }> {
  private readonly timers: NodeJS.Timeout[] = [];
  /** Messages that came before anyone listened: kept, and given to the first listener. */
  private backlog: Envelope[] = [];
  private peerExpMs: number;
  private missedPongs = 0;
  /** The connection is corked until this turn's I/O is done (`send`). */
  private corked = false;
  closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly me: LinkIdentity,
    readonly peer: Hello,
    private readonly nonce: string,
    peerExp: number,
    options: LinkSocketOptions,
  ) {
    super();
    this.setMaxListeners(0);
    const now = options.now ?? Date.now;
    this.peerExpMs = peerExp * 1000;
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event !== 'message' || this.backlog.length === 0) return;
      // After the listener is added: 'newListener' fires just before.
      queueMicrotask(() => {
        const kept = this.backlog;
        this.backlog = [];
        for (const envelope of kept) this.emit('message', envelope);
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', (code, reason) => this.ended(code, reason.toString('utf8') || 'closed'));
    ws.on('error', () => this.ended(CLOSE.going, 'connection error'));
    ws.on('pong', () => {
      this.missedPongs = 0;
    });
    const reauth = options.reauthMs ?? 10_000;
    this.every(reauth, async () => {
      try {
        this.ws.send(JSON.stringify({ link: 'auth', token: await this.me.sign(this.peer.id, this.peer.nonce) }));
      } catch {
        // A send on a closing socket: the close handler says what happened.
      }
      // The peer's proof has run out: it stopped re-authenticating (or its key was taken away).
      if (now() > this.peerExpMs) this.close(CLOSE.lapsed, 'authentication lapsed');
    });
    this.every(options.heartbeatMs ?? 5_000, () => {
      if (this.missedPongs >= 3) {
        this.ws.terminate();
        this.ended(CLOSE.going, 'peer stopped answering pings');
        return;
      }
      this.missedPongs++;
      this.ws.ping();
    });
  }

  /** The peer's id, as its verified hello says. */
  get peerId(): string {
    return this.peer.id;
  }

  send(envelope: Envelope): void {
    if (this.closed) return;
    this.corkForTurn();
    this.ws.send(JSON.stringify(envelope));
  }

  /**
   * Frames sent while the event loop handles one round of I/O leave together, in one write,
   * rather than one system call each: on loopback each write also runs the receiver's side of
   * TCP, and in a profile of the hub at 64 clients the link's frame writes were 5% of its busy
   * samples (docs/performance.md). ws corks around each frame's own two writes; an outer cork
   * holds them until `setImmediate`, after this round's callbacks, so a lone frame waits for
   * nothing but them. ws keeps its connection as `_socket` (not in its types).
   */
  private corkForTurn(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: Socket | null })._socket;
    if (socket === undefined || socket === null || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  close(code: number = CLOSE.going, reason = 'closing'): void {
    if (this.closed) return;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    this.ended(code, reason);
  }

  private every(ms: number, fn: () => void | Promise<void>): void {
    const timer = setInterval(() => void fn(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private ended(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.emit('close', code, reason);
  }

  /** One frame from the peer (the handshake hands over any that came in behind it). */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.closed || isBinary) return;
    const frame = parseJson(data.toString('utf8'));
    if (typeof frame !== 'object' || frame === null) return;
    const record = frame as Record<string, unknown>;
    if (record.link === 'auth') {
      void this.reauthenticated(record);
      return;
    }
    if (typeof record.ch !== 'string' || typeof record.m !== 'object' || record.m === null) return;
    if (this.listenerCount('message') === 0 || this.backlog.length > 0) this.backlog.push(frame as Envelope);
    else this.emit('message', frame as Envelope);
  }

  private async reauthenticated(frame: Record<string, unknown>): Promise<void> {
    const auth = authFrame.safeParse(frame);
    if (!auth.success) return;
    try {
      const { exp } = await this.me.verify(this.peer, auth.data.token, this.nonce);
      this.peerExpMs = Math.max(this.peerExpMs, exp * 1000);
    } catch (err) {
      // A bad token mid-link is a peer whose key was revoked, or not the peer: the link ends.
      this.close(CLOSE.unauthenticated, err instanceof LinkTokenError ? err.reason : 'refused');
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
