import { randomUUID } from 'node:crypto';
import type { Bounds, Db, LinkClaims, Logger, Store } from '@brainmesh/shared';
import {
  httpErrorResponse,
  inspectBody,
  LinkTokenError,
  notFoundResponse,
  unsupportedVersion,
} from '@brainmesh/shared';
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
import { createNodeServer } from './mcp-server.js';
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
const NODE_BOUNDS: Bounds = {
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
): Promise<{ app: FastifyInstance; closeSessions(): Promise<void> }> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Each MCP call is logged once, with its outcome and trace id, by the code that serves it;
    // per-request lines would double every log for nothing.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const sessions = new Map<string, Session>();
  // One name map for the node, shared by every session.
  const directory = new SourceDirectory(deps.sources);

  // One listener per source for the life of the app, fanned out to whichever sessions are open.
  for (const source of deps.sources) {
    source.onListChanged(() => {
      for (const { server } of sessions.values()) {
        void server.sendToolListChanged().catch(() => {});
        void server.sendResourceListChanged().catch(() => {});
        void server.sendPromptListChanged().catch(() => {});
      }
    });
  }

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
    const server = createNodeServer({
      nodeName: deps.nodeName,
      directory,
      logger: deps.logger,
      principal,
      audit: deps.audit,
      maxAuditResponseBytes: deps.maxAuditResponseBytes,
    });
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

  // Only the hub acting for itself may rotate a node's keys, not a call it relays for a client.
  app.post('/links/rotate', { preHandler: authenticate }, async (request, reply) => {
    const claims = request.link!;
    if (claims.sub !== `hub:${claims.iss}`) {
      request.log.warn({ sub: claims.sub }, 'key rotation refused: not asked by the hub itself');
      return reply.code(403).send({ code: 'FORBIDDEN', message: "only the hub may rotate this node's keys" });
    }
    const rotation = await deps.rotateKeys();
    request.log.info({ active: rotation.active, retired: rotation.retired }, 'keys rotated');
    return rotation;
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body, internal } = httpErrorResponse(err);
    if (internal) request.log.error({ err }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(notFoundResponse(request.method, request.url)));

  return {
    app,
    closeSessions: async () => {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      sessions.clear();
    },
  };
}
