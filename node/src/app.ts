import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Bounds, Db, LinkClaims, LinkIdentity, Logger, Store } from '@brainmesh/shared';
import {
  httpErrorResponse,
  inspectBody,
  LINK_CLOSE,
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkSocket,
  LinkTokenError,
  linkMaxPayload,
  notFoundResponse,
  openLink,
  unsupportedVersion,
} from '@brainmesh/shared';
import fastifyWebsocket from '@fastify/websocket';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { AuditRecorder } from './audit/recorder.js';
import { SourceDirectory } from './directory.js';
import { LinkServer } from './link-server.js';
import { createNodeServer } from './mcp-server.js';
import type { NodeMetrics } from './metrics.js';
import { NodeService } from './node-service.js';
import type { Source } from './source.js';

export interface NodeAppDeps {
  nodeName: string;
  sources: readonly Source[];
  db: Db;
  store: Store;
  logger: Logger;
  /** Checks the hub-signed link token every request must carry. */
  verifyLink: (token: string | undefined) => Promise<LinkClaims>;
  jwks: () => unknown;
  audit: AuditRecorder;
  maxAuditResponseBytes: number;
  /** Makes a new active key, keeping the one before it and retiring older ones; the hub asks. */
  rotateKeys: () => Promise<KeyRotation>;
  /** Who this node is on the persistent link, and how it checks the hub; undefined until enrolled. */
  linkIdentity: () => LinkIdentity | undefined;
  /** The principal of the hub's own requests (`hub:<hubId>`). */
  hubPrincipal: () => string;
  /** Told each time a link to the hub comes up: the hub is there now. */
  onLinkUp?: () => void;
  /** Served at `/metrics` to loopback clients, and told of each call. */
  metrics?: NodeMetrics;
  /** Where the packs' resource updates come from, to be passed to the hub on every open link. */
  resourceUpdates?: EventEmitter<{ updated: [uri: string, message: string | undefined] }>;
}

export interface KeyRotation {
  active: string;
  retired: string[];
  jwks: unknown;
}

/**
 * What the node takes in one message: deeper than any tool's arguments need, and within the
 * body limit (fastify's 1 MiB); the hub's own bounds (links.maxMessage*) are tighter by default.
 */
export const NODE_BOUNDS: Bounds = {
  maxDepth: 128,
  maxBytes: 1_048_576,
  holder: { name: 'the node', depthSetting: 'a fixed limit', bytesSetting: 'a fixed limit' },
};

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  principal: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    link?: LinkClaims;
  }
}

/**
 * The node's HTTP face: `/mcp` (Streamable HTTP, one MCP session per hub client), which only the
 * hub may call, and unauthenticated health probes that say nothing but ok.
 */
export async function buildNodeApp(
  deps: NodeAppDeps,
): Promise<{ app: FastifyInstance; closeSessions(): Promise<void>; serveLink(socket: LinkSocket): void }> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Each MCP call is logged once, with its outcome and trace id, by the code that serves it;
    // per-request lines would double every log for nothing.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const sessions = new Map<string, Session>();
  const links = new Set<LinkServer>();
  // One name map and one service for the node, shared by every session and link.
  const service = new NodeService({
    nodeName: deps.nodeName,
    directory: new SourceDirectory(deps.sources),
    logger: deps.logger,
    audit: deps.audit,
    maxAuditResponseBytes: deps.maxAuditResponseBytes,
    onToolCall: deps.metrics === undefined ? undefined : deps.metrics.toolCall.bind(deps.metrics),
  });
  const { metrics } = deps;
  if (metrics !== undefined) {
    // No credentials here (a node has no operator keys): only a scraper on this machine is
    // answered. One elsewhere uses the metrics listener (config `metrics`), bound where it may.
    app.get('/metrics', async (request, reply) => {
      if (!isLoopback(request.socket.remoteAddress)) {
        return reply.code(403).send({ code: 'FORBIDDEN', message: 'metrics are served to loopback clients only' });
      }
      return reply.type(metrics.contentType).send(await metrics.text());
    });
  }

  // One listener for the life of the app, fanned out to whichever sessions and links are open.
  service.onListChanged(() => {
    for (const { server } of sessions.values()) {
      void server.sendToolListChanged().catch(() => {});
      void server.sendResourceListChanged().catch(() => {});
      void server.sendPromptListChanged().catch(() => {});
    }
    for (const link of links) link.listChanged();
  });
  deps.resourceUpdates?.on('updated', (uri, message) => {
    for (const link of links) link.resourceUpdated(uri, message);
  });

  const serveLink = (socket: LinkSocket) => {
    const server = new LinkServer(socket, service, {
      logger: deps.logger,
      bounds: NODE_BOUNDS,
      hubPrincipal: deps.hubPrincipal(),
      rotateKeys: async () => {
        const rotation = await deps.rotateKeys();
        deps.logger.info({ active: rotation.active, retired: rotation.retired }, 'keys rotated');
        return rotation;
      },
    });
    links.add(server);
    socket.once('close', (code, reason) => {
      links.delete(server);
      deps.logger.info({ code, reason }, 'link to the hub closed');
    });
    deps.logger.info({ hub: socket.peerId }, 'link to the hub up');
    deps.onLinkUp?.();
  };

  // The hub dials in here (a node it can reach); a node it cannot reach dials the hub instead
  // (link-dialer.ts). Either way the handshake proves both sides before anything else is read.
  await app.register(fastifyWebsocket, { options: { maxPayload: linkMaxPayload(NODE_BOUNDS.maxBytes) } });
  app.get(LINK_PATH, { websocket: true }, (socket, request) => {
    const identity = deps.linkIdentity();
    if (identity === undefined || socket.protocol !== LINK_SUBPROTOCOL) {
      request.log.warn({ protocol: socket.protocol }, 'link refused: not enrolled, or not the link protocol');
      socket.close(LINK_CLOSE.refused, 'refused');
      return;
    }
    openLink(socket, identity).then(serveLink, (err: unknown) =>
      request.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'link handshake refused'),
    );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.db.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not ready' });
    }
  });
  app.get('/.well-known/jwks.json', async () => deps.jwks());

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    try {
      request.link = await deps.verifyLink(token);
    } catch (err) {
      const reason = err instanceof LinkTokenError ? err.reason : 'error';
      request.log.warn({ reason, path: request.url }, 'link token refused');
      return reply.code(401).send({ code: 'UNAUTHENTICATED', message: 'a valid hub link token is required' });
    }
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const claims = request.link!;
    const sessionId = request.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof sessionId === 'string') {
      session = sessions.get(sessionId);
      if (session === undefined) {
        return reply
          .code(404)
          .send({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      }
      // A session is bound to the principal it was opened for; another principal's token, even
      // a valid one, cannot ride on it.
      if (session.principal !== claims.sub) {
        return reply
          .code(403)
          .send({ jsonrpc: '2.0', error: { code: -32600, message: 'session belongs to another principal' }, id: null });
      }
      const badVersion = unsupportedVersion(request.headers['mcp-protocol-version']);
      if (badVersion !== undefined) {
        return reply.code(400).send({ jsonrpc: '2.0', error: { code: -32000, message: badVersion }, id: null });
      }
    }
    // The hub checks what its clients send; the node checks again what reaches it, since the
    // SDK would answer a bad id with -32700, bad params with zod's JSON, and pass any depth on.
    const refusal = request.method === 'POST' ? inspectBody(request.body, NODE_BOUNDS) : undefined;
    if (refusal !== undefined) {
      request.log.info({ code: refusal.code, reason: refusal.message }, 'mcp message refused');
      const error = { code: refusal.code, message: refusal.message };
      return refusal.id === null
        ? reply.code(400).send({ jsonrpc: '2.0', error, id: null })
        : reply.code(200).send({ jsonrpc: '2.0', error, id: refusal.id });
    }
    if (session === undefined) {
      // Only an initialize opens a session; anything else would leave one behind that no one knows.
      const opens = Array.isArray(request.body)
        ? request.body.some((m) => isInitializeRequest(m))
        : isInitializeRequest(request.body);
      if (request.method !== 'POST' || !opens) {
        return reply
          .code(400)
          .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Mcp-Session-Id header is required' }, id: null });
      }
      session = await openSession(claims.sub);
      reply.hijack();
      await session.transport.handleRequest(request.raw, reply.raw, request.body);
      if (session.transport.sessionId === undefined) await session.transport.close().catch(() => {});
      return;
    }
    reply.hijack();
    await session.transport.handleRequest(request.raw, reply.raw, request.body);
  };

  const openSession = async (principal: string): Promise<Session> => {
    const server = createNodeServer({ nodeName: deps.nodeName, service, principal });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    const session: Session = { transport, server, principal };
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return session;
  };

  app.route({ method: ['POST', 'GET', 'DELETE'], url: '/mcp', preHandler: authenticate, handler: handle });

  app.setErrorHandler((err, request, reply) => {
    const { status, body, internal } = httpErrorResponse(err);
    if (internal) request.log.error({ err }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(notFoundResponse(request.method, request.url)));

  return {
    app,
    serveLink,
    closeSessions: async () => {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      sessions.clear();
    },
  };
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}
