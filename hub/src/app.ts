import type { Db, KeyRing, Logger, Store } from '@brainmesh/shared';
import { httpErrorResponse, linkMaxPayload, listeningUrl, notFoundResponse } from '@brainmesh/shared';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { AdminOperations } from './admin/operations.js';
import type { ApiKeys } from './api-keys.js';
import type { HubCallLog } from './audit/hub-calls.js';
import type { AuditIngest } from './audit/ingest.js';
import type { HubConfig } from './config.js';
import { mcpRoutes } from './mcp/http.js';
import type { Mesh } from './mesh/mesh.js';
import { MESH_TOOLS } from './mesh/mesh-tools.js';
import type { HubMetrics } from './metrics.js';
import { FormKeys } from './oauth/form-keys.js';
import { oauthRoutes, SIGN_IN_LIFE_MS } from './oauth/routes.js';
import { OAuthService } from './oauth/service.js';
import { RateLimiter } from './rate-limit.js';
import type { Registry } from './registry.js';
import { adminRoutes } from './routes/admin.js';
import { type Credentials, requirePrincipal } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { checksHost, hostGuard } from './routes/host.js';
import { linkSocketRoutes } from './routes/link-socket.js';
import { linkRoutes } from './routes/links.js';
import { originGuard } from './routes/origin.js';
import { BrowserSessions } from './ui/browser-session.js';
import { uiRoutes } from './ui/routes.js';

export interface HubDeps {
  config: Readonly<HubConfig>;
  db: Db;
  store: Store;
  logger: Logger;
  ring: KeyRing;
  registry: Registry;
  keys: ApiKeys;
  mesh: Mesh;
  calls: HubCallLog;
  ingest: AuditIngest;
  /** Served at `/metrics` to the admin scope, and told of rate-limit refusals. */
  metrics?: HubMetrics;
}

/** Builds the hub's HTTP app from its dependencies; listening is the caller's business. */
export async function buildHubApp(deps: HubDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Each MCP call is logged once, with its outcome and trace id, by the code that serves it;
    // per-request lines would double every log for nothing.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
  });
  app.setErrorHandler((err, request, reply) => {
    const { status, body, internal } = httpErrorResponse(err);
    if (internal) request.log.error({ err }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(notFoundResponse(request.method, request.url)));

  // The hub's own origin and URL are known only once it listens (port 0 in tests).
  const origins = new Set(deps.config.server.allowedOrigins.map((o) => new URL(o).origin));
  // The hub's own, without the other sites allowed: the dashboard's live tail takes only these.
  const own = new Set<string>();
  let listening = deps.config.hub.publicUrl;
  if (listening !== undefined) {
    own.add(new URL(listening).origin);
    origins.add(new URL(listening).origin);
  }
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (typeof address === 'object' && address !== null) {
      for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
        own.add(`http://${host}:${address.port}`);
        origins.add(`http://${host}:${address.port}`);
      }
      listening ??= listeningUrl(address, deps.config.server.host, address.port);
    }
  });
  const issuer = () => (listening ?? '').replace(/\/$/, '');
  const oauth = new OAuthService(deps.db, deps.ring, issuer);
  const formKeys = new FormKeys(deps.db, {
    rotateMs: deps.config.oauth.formKeyRotationHours * 3_600_000,
    maxLifeMs: SIGN_IN_LIFE_MS,
  });
  const sessions = new BrowserSessions(formKeys, oauth, () => issuer().startsWith('https://'));
  // MCP takes tokens and keys only; the admin API (and /metrics) also the dashboard's sign-in.
  const mcpCredentials: Credentials = {
    keys: deps.keys,
    oauth,
    resourceMetadataUrl: () => `${issuer()}/.well-known/oauth-protected-resource/mcp`,
  };
  const credentials: Credentials = { ...mcpCredentials, browser: (request) => sessions.principal(request) };
  const { server } = deps.config;
  if (!checksHost({ bindHost: server.host, allowedHosts: server.allowedHosts })) {
    deps.logger.warn(
      { host: server.host },
      'listening beyond loopback with no server.allowedHosts: the Host header is not checked',
    );
  }
  app.addHook(
    'onRequest',
    hostGuard({
      bindHost: server.host,
      allowedHosts: server.allowedHosts,
      publicUrl: deps.config.hub.publicUrl,
      address: () => app.server.address(),
    }),
  );
  app.addHook(
    'onRequest',
    originGuard(() => origins),
  );

  const { limits } = deps.config;
  const limit = {
    limiter: new RateLimiter(deps.store),
    requests: limits.requests,
    windowMs: limits.windowSeconds * 1000,
  };
  const { metrics } = deps;
  if (metrics !== undefined) {
    limit.limiter.onRefused = (bucket) => metrics.refused(bucket);
    await app.register(async (scoped) => {
      scoped.addHook('preHandler', requirePrincipal(credentials, limit, { scope: 'admin' }));
      scoped.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
    });
  }
  await app.register(healthRoutes, { db: deps.db, store: deps.store });
  await app.register(linkRoutes, {
    hubId: deps.config.hub.id,
    ring: deps.ring,
    registry: deps.registry,
    store: deps.store,
    ingest: deps.ingest,
    db: deps.db,
  });
  // One WebSocket server for the app: nodes dialling in, and the dashboard's live tail.
  await app.register(fastifyWebsocket, {
    options: { maxPayload: linkMaxPayload(deps.config.links.maxMessageBytes) },
  });
  await app.register(linkSocketRoutes, { mesh: deps.mesh });
  await app.register(oauthRoutes, { oauth, issuer, limiter: limit.limiter, formKeys });
  const admin = new AdminOperations({
    registry: deps.registry,
    mesh: deps.mesh,
    keys: deps.keys,
    enrolmentTtlMs: deps.config.enrolment.ttlMinutes * 60_000,
    hubId: deps.config.hub.id,
    startedAt: new Date(),
    storage: { database: deps.db.kind, store: deps.store.kind },
    hubTools: () => Object.keys(MESH_TOOLS).length,
    db: deps.db,
    accounts: oauth,
  });
  await app.register(uiRoutes, {
    sessions,
    ownOrigin: (origin) => own.has(origin),
    oauth,
    limiter: limit.limiter,
    db: deps.db,
    store: deps.store,
  });
  await app.register(adminRoutes, {
    admin,
    registry: deps.registry,
    mesh: deps.mesh,
    credentials,
    oauth,
    limit,
    hubId: deps.config.hub.id,
    db: deps.db,
    store: deps.store,
  });
  await app.register(mcpRoutes, {
    mesh: deps.mesh,
    store: deps.store,
    requestStateSecret: deps.ring.derivedSecret('mcp request state'),
    credentials: mcpCredentials,
    logger: deps.logger,
    limit,
    toolCalls: limits.toolCalls,
    db: deps.db,
    calls: deps.calls,
    admin,
  });
  return app;
}
