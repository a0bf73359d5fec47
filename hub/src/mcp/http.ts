import { randomUUID } from 'node:crypto';
import {
  type Bounds,
  type Db,
  inspectBody,
  type Logger,
  type Refusal,
  type Store,
  unsupportedVersion,
} from '@brainmesh/shared';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminOperations } from '../admin/operations.js';
import type { HubCallLog } from '../audit/hub-calls.js';
import type { Mesh } from '../mesh/mesh.js';
import type { ToolClass } from '../rate-limit.js';
import { type Credentials, type HttpLimit, type Principal, requirePrincipal } from '../routes/auth.js';
import { Access } from '../scopes.js';
import { modernEndpoint } from './modern.js';
import { ResumableStreams } from './resumable-streams.js';
import { createHubSession } from './session.js';
import { SessionRecords } from './session-records.js';
import { StreamableHttpSession } from './streamable-http.js';

export interface McpRouteDeps {
  mesh: Mesh;
  /** Where 2025-era sessions are kept for every replica (session-records.ts). */
  store: Store;
  /** The HMAC key of 2026-era `requestState`s, the same in every replica. */
  requestStateSecret: Uint8Array;
  credentials: Credentials;
  logger: Logger;
  limit: HttpLimit;
  toolCalls: Readonly<Record<ToolClass, number>>;
  db: Db;
  calls: HubCallLog;
  /** What an operator may do, for the hub's own admin tools (admin scope only). */
  admin: AdminOperations;
}

interface LiveSession {
  transport: Transport;
  principal: string;
  close(): Promise<void>;
}

/**
 * The hub's MCP endpoints: Streamable HTTP at `/mcp` (the current protocol, and the older
 * versions the SDK negotiates) and the legacy HTTP+SSE pair `/sse` + `/messages` for older
 * clients. Every request needs an API key or an OAuth access token; a session belongs to the
 * principal that opened it.
 * Sessions live in this plugin instance, not in a module, so two hubs in one process (tests)
 * or a restart never share them.
 */
export const mcpRoutes: FastifyPluginAsync<McpRouteDeps> = async (app, deps) => {
  const sessions = new Map<string, LiveSession>();
  const records = new SessionRecords(deps.store);
  const streams = new ResumableStreams(deps.store, deps.mesh.instance, deps.logger);
  await streams.start();
  // A tool call's request waits for its rate verdict together with the call's own (auth.ts).
  const auth = requirePrincipal(deps.credentials, deps.limit, {
    deferLimit: (request) => request.method === 'POST' && isToolCall(request.body),
  });
  const bounds: Bounds = { maxDepth: deps.mesh.settings.maxMessageDepth, maxBytes: deps.mesh.settings.maxMessageBytes };
  const modern = await modernEndpoint({
    mesh: deps.mesh,
    store: deps.store,
    requestStateSecret: deps.requestStateSecret,
    logger: deps.logger,
    limiter: deps.limit.limiter,
    toolCalls: deps.toolCalls,
    limitWindowMs: deps.limit.windowMs,
    db: deps.db,
    calls: deps.calls,
    admin: deps.admin,
    bounds,
  });

  const open = async (who: Principal, transport: Transport, sessionId: () => string | undefined) => {
    const id = randomUUID();
    const principal = who.principal;
    const hub = createHubSession({
      id,
      principal,
      access: new Access(who.scopes),
      limiter: deps.limit.limiter,
      toolCalls: deps.toolCalls,
      limitWindowMs: deps.limit.windowMs,
      mesh: deps.mesh,
      logger: deps.logger,
      db: deps.db,
      calls: deps.calls,
      admin: deps.admin,
      bounds,
    });
    const live: LiveSession = { transport, principal, close: hub.close };
    transport.onclose = () => {
      const sid = sessionId();
      if (sid !== undefined) sessions.delete(sid);
      void hub.close();
    };
    await hub.server.connect(transport);
    return live;
  };

  const rpcError = (reply: FastifyReply, status: number, code: number, message: string) =>
    reply.code(status).send({ jsonrpc: '2.0', error: { code, message }, id: null });

  // The edge (edge.ts): a message refused here never reaches the SDK. A request that can be
  // answered is answered as JSON-RPC, 200, so a client reads the error as the answer to its
  // request; a message that cannot (a bad id, a notification) gets 400.
  const refusalOf = (request: FastifyRequest): Refusal | undefined =>
    request.method === 'POST' ? inspectBody(request.body, bounds) : undefined;
  const answer = (refusal: Refusal) => ({
    jsonrpc: '2.0' as const,
    id: refusal.id as string | number,
    error: { code: refusal.code, message: refusal.message },
  });
  const refuse = (request: FastifyRequest, reply: FastifyReply, refusal: Refusal) => {
    request.log.info({ code: refusal.code, reason: refusal.message }, 'mcp message refused');
    if (refusal.id === null) return rpcError(reply, 400, refusal.code, refusal.message);
    return reply.code(200).send(answer(refusal));
  };

  const streamable = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.principal!.principal;
    const sessionId = request.headers['mcp-session-id'];
    let session: LiveSession | undefined;
    if (typeof sessionId === 'string') {
      session = sessions.get(sessionId);
      // A session opened on another replica (or on this one before it restarted) is made here.
      if (session === undefined) {
        const adopted = await adopt(sessionId, request.principal!);
        if (adopted === 'not-yours') return rpcError(reply, 403, -32600, 'this session belongs to another principal');
        session = adopted;
      }
      if (session === undefined || !(session.transport instanceof StreamableHttpSession)) {
        return rpcError(reply, 404, -32001, 'Session not found');
      }
      if (session.principal !== principal)
        return rpcError(reply, 403, -32600, 'this session belongs to another principal');
      // Ended on every replica, not only on this one (the others hear it from the store).
      if (request.method === 'DELETE') await records.end(sessionId);
      const badVersion = unsupportedVersion(request.headers['mcp-protocol-version']);
      if (badVersion !== undefined) return rpcError(reply, 400, -32000, badVersion);
    }
    const refusal = refusalOf(request);
    if (refusal !== undefined) return refuse(request, reply, refusal);
    if (session === undefined) {
      // A POST that neither opens a session nor belongs to one is of the 2026-07-28 revision,
      // which has none (modern.ts); that endpoint answers one without its envelope with the
      // revision's "unsupported version" error, naming the versions it speaks.
      if (request.method === 'POST' && !opensSession(request.body)) {
        reply.hijack();
        await modern.serve(request.raw, reply.raw, request.body, {
          who: request.principal!,
          headers: request.headers,
        });
        return;
      }
      // Only an initialize opens a session: anything else without one would leave a session
      // behind that no client knows, listening to the mesh until the hub stops.
      if (request.method !== 'POST') {
        return rpcError(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }
      // The session's record is in the store before the client hears its id, so the client's
      // next request finds it on whichever replica it reaches.
      const sid = randomUUID();
      const initialize = initializeOf(request.body);
      if (initialize !== undefined) await records.save(sid, { principal, initialize });
      const transport: StreamableHttpSession = new StreamableHttpSession({
        streams,
        newSessionId: () => sid,
        onSessionInitialized: (id) => {
          sessions.set(id, live);
        },
      });
      const live = await open(request.principal!, transport, () => transport.sessionId);
      reply.hijack();
      transport.handle(request.raw, reply.raw, request.body);
      // An initialize refused (a second one in a batch, say) made no session: let it go.
      if (transport.sessionId === undefined) await transport.close().catch(() => {});
      return;
    }
    reply.hijack();
    (session.transport as StreamableHttpSession).handle(request.raw, reply.raw, request.body);
  };

  /** Sessions being made from their records, so two requests at once make one. */
  const adopting = new Map<string, Promise<LiveSession | 'not-yours' | undefined>>();
  const adopt = (id: string, who: Principal): Promise<LiveSession | 'not-yours' | undefined> => {
    // Ours are UUIDs: anything else is no session, and is not looked up.
    if (!SESSION_ID.test(id)) return Promise.resolve(undefined);
    const making = adopting.get(id);
    if (making !== undefined)
      return making.then((s) =>
        s !== undefined && s !== 'not-yours' && s.principal !== who.principal ? 'not-yours' : s,
      );
    const made = (async () => {
      const record = await records.find(id);
      if (record === undefined) return undefined;
      if (record.principal !== who.principal) return 'not-yours' as const;
      const transport = new StreamableHttpSession({ streams, onSessionInitialized: () => {} });
      const live = await open(who, transport, () => transport.sessionId);
      await transport.adopt(id, record.initialize);
      sessions.set(id, live);
      deps.logger.debug({ session: id }, 'session taken up from the store');
      return live;
    })().finally(() => adopting.delete(id));
    adopting.set(id, made);
    return made;
  };
  const unsubscribe = await records.onEnded((id) => {
    void sessions
      .get(id)
      ?.transport.close()
      .catch(() => {});
  });

  app.route({ method: ['POST', 'GET', 'DELETE'], url: '/mcp', preHandler: auth, handler: streamable });

  // Legacy HTTP+SSE (protocol 2024-11-05): a GET opens the event stream and names the URL
  // that messages are POSTed to.
  app.get('/sse', { preHandler: auth }, async (request, reply) => {
    reply.hijack();
    const transport = new SSEServerTransport('/messages', reply.raw);
    const live = await open(request.principal!, transport, () => transport.sessionId);
    sessions.set(transport.sessionId, live);
  });

  app.post('/messages', { preHandler: auth }, async (request, reply) => {
    const sessionId = (request.query as Record<string, unknown>).sessionId;
    const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (session === undefined || !(session.transport instanceof SSEServerTransport)) {
      return reply.code(404).send({ code: 'NOT_FOUND', message: 'unknown SSE session' });
    }
    if (session.principal !== request.principal!.principal) {
      return reply.code(403).send({ code: 'FORBIDDEN', message: 'this session belongs to another principal' });
    }
    const refusal = refusalOf(request);
    if (refusal !== undefined) {
      if (refusal.id === null) return refuse(request, reply, refusal);
      // On this transport every answer travels on the event stream; the POST only says accepted.
      request.log.info({ code: refusal.code, reason: refusal.message }, 'mcp message refused');
      await session.transport.send(answer(refusal));
      return reply.code(202).send('Accepted');
    }
    // Fastify took the body as JSON already; the transport parses the header again, more
    // strictly, and answers a parameter it cannot read with its own TypeError text.
    request.raw.headers['content-type'] = 'application/json';
    reply.hijack();
    await session.transport.handlePostMessage(request.raw, reply.raw, request.body);
  });

  app.addHook('preClose', async () => {
    await unsubscribe();
    await modern.close();
    await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
    sessions.clear();
    // After the sessions: a client cut off by this close that asks another replica for the rest
    // of its stream hears at once that this one is gone.
    await streams.close();
  });
};

/** One tools/call request, the body of nearly every POST a busy client sends. */
function isToolCall(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    (body as { method?: unknown }).method === 'tools/call' &&
    (body as { id?: unknown }).id !== undefined
  );
}

/** The ids this hub gives sessions. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The params of the initialize request in a message (or batch), as the session's record keeps them. */
function initializeOf(body: unknown): Record<string, unknown> | undefined {
  const found = (Array.isArray(body) ? body : [body]).find((m) => isInitializeRequest(m)) as
    | { params: Record<string, unknown> }
    | undefined;
  return found?.params;
}

/** A message (or batch) that starts a session: an initialize request. */
function opensSession(body: unknown): boolean {
  return Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
}
