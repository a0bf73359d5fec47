import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clip, type Logger, type Store, toolError } from '@brainmesh/shared';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  ErrorCode,
  McpError,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type AuthInfo,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  createMcpHandler,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { hubResourceUri, parseHubResourceUri } from '../mesh/catalog.js';
import type { SessionPeer } from '../mesh/node-link.js';
import { type Principal, requestLimitOf } from '../routes/auth.js';
import { Access } from '../scopes.js';
import { HUB_VERSION } from '../version.js';
import { InputRequiredBridge, type Sink } from './input-required.js';
import { HUB_INSTRUCTIONS, hubSurface, offeredToNodes, type SurfaceDeps } from './surface.js';

/**
 * MCP's 2026-07-28 revision at `/mcp`, beside the 2025-era sessions there (http.ts sends here
 * every POST that neither opens a session nor belongs to one). No session: each request carries
 * its protocol version, the client's capabilities and its name in `_meta`, and is answered by a
 * server made for it and its principal alone.
 *
 * The SDK v2's per-request handler does the revision's own work: `server/discover`, the
 * envelope, the `Mcp-Method`/`Mcp-Name` headers against the body (-32020), unsupported versions
 * (-32022), `resultType` on every result, progress on a stream that starts only when something
 * comes before the answer, cancellation by closing that stream, and `subscriptions/listen`.
 * Everything about the mesh (what a principal sees, the call pipeline, the nodes) is the same
 * `Surface` the sessions use.
 *
 * A node's request to the client during a call (elicitation, sampling, roots: the 2025 way)
 * becomes an `input_required` result, and the client's answer goes back to the node when it
 * calls again (input-required.ts); only what the client declared in its capabilities is offered
 * to the node, as for sessions.
 */

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export type ModernDeps = Omit<SurfaceDeps, 'principal' | 'access'> & {
  /** Where replicas tell each other of a parked call taken over (input-required.ts). */
  store: Store;
  /** The HMAC key of `requestState`: the same in every replica (`KeyRing.derivedSecret`). */
  requestStateSecret: Uint8Array;
};

/** What http.ts hands over with each request: who asked, and the headers its rate verdict hangs on. */
interface Asker {
  who: Principal;
  headers: object;
}

export interface ModernEndpoint {
  serve(req: IncomingMessage, res: ServerResponse, body: unknown, asker: Asker): Promise<void>;
  close(): Promise<void>;
}

export async function modernEndpoint(deps: ModernDeps): Promise<ModernEndpoint> {
  const bridge = new InputRequiredBridge({
    secret: deps.requestStateSecret,
    instance: deps.mesh.instance,
    store: deps.store,
  });
  await bridge.start();
  const handler = createMcpHandler(({ authInfo }) => serverFor(deps, bridge, askerOf(authInfo)), {
    legacy: 'reject',
  });
  const serve = toNodeHandler(handler, { onerror: (err) => deps.logger.error({ err }, 'mcp 2026 request failed') });

  // Subscriptions (`subscriptions/listen`) hear what the sessions hear.
  const onChanged = () => {
    handler.notify.toolsChanged();
    handler.notify.resourcesChanged();
    handler.notify.promptsChanged();
  };
  const onResourceUpdated = (nodeId: string, uri: string) =>
    handler.notify.resourceUpdated(hubResourceUri(nodeId, uri));
  deps.mesh.on('changed', onChanged);
  deps.mesh.on('resourceUpdated', onResourceUpdated);

  return {
    async serve(req, res, body, asker) {
      // The handler passes `req.auth` through to the factory untouched (toNodeHandler).
      const auth: AuthInfo = {
        token: '',
        clientId: asker.who.principal,
        scopes: asker.who.scopes,
        extra: { asker },
      };
      (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
      await serve(req as Parameters<typeof serve>[0], res, narrowListen(body, new Access(asker.who.scopes)));
    },
    async close() {
      deps.mesh.off('changed', onChanged);
      deps.mesh.off('resourceUpdated', onResourceUpdated);
      await bridge.close();
      await handler.close();
    },
  };
}

/**
 * A `subscriptions/listen` asking for updates of resources keeps only those of nodes the principal
 * may read: the SDK's listen router, which serves the stream before any server of ours sees the
 * request, would tell anyone that a resource they named changed. The acknowledgement then shows
 * the client what it was granted.
 */
function narrowListen(body: unknown, access: Access): unknown {
  if (typeof body !== 'object' || body === null || (body as { method?: unknown }).method !== 'subscriptions/listen') {
    return body;
  }
  const params = (body as { params?: { notifications?: { resourceSubscriptions?: unknown } } }).params;
  const wanted = params?.notifications?.resourceSubscriptions;
  if (!Array.isArray(wanted)) return body;
  const allowed = wanted.filter((uri) => {
    const node = typeof uri === 'string' ? parseHubResourceUri(uri)?.nodeId : undefined;
    return node !== undefined && access.allowsNode(node);
  });
  return {
    ...body,
    params: { ...params, notifications: { ...params!.notifications, resourceSubscriptions: allowed } },
  };
}

function askerOf(auth: AuthInfo | undefined): Asker {
  const asker = auth?.extra?.asker as Asker | undefined;
  // Only http.ts calls the handler, always with an asker: anything else is a fault of ours.
  if (asker === undefined) throw new Error('a 2026-era request reached the hub without its principal');
  return asker;
}

/** The server for one request: the hub's surface, as this principal sees it. */
function serverFor(deps: ModernDeps, bridge: InputRequiredBridge, asker: Asker): Server {
  const { who, headers } = asker;
  const server = new Server(
    { name: 'brainmesh-hub', version: HUB_VERSION },
    {
      // As the sessions' (SERVER_CAPABILITIES), but logging, which this revision deprecates.
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        prompts: { listChanged: true },
        completions: {},
      },
      instructions: HUB_INSTRUCTIONS,
      requestState: { verify: bridge.verify },
    },
  );
  // One channel on each node's link for this request (for a call, until the call ends, however
  // many requests continue it), ended with it.
  const id = randomUUID();
  let client: { info?: { name: string; version: string } | undefined; capabilities: Record<string, unknown> } = {
    capabilities: {},
  };
  /** The call this request started, which a node's questions belong to. */
  let asking: ((method: string, params: unknown) => Promise<unknown>) | undefined;
  const peer: SessionPeer = {
    id,
    principal: who.principal,
    clientMeta: () => ({ capabilities: offeredToNodes(client.capabilities), info: client.info }),
    request: (method, params, options) => {
      if (method === 'tools/call') return surface.callInner(params, options);
      const offered = ASKABLE[method];
      if (offered !== undefined && client.capabilities[offered] !== undefined && asking !== undefined)
        return asking(method, params);
      return Promise.reject(new McpError(ErrorCode.MethodNotFound, `the client does not offer ${clip(method, 60)}`));
    },
    notify: () => {},
  };
  const log: Logger = deps.logger.child({ principal: who.principal, era: '2026-07-28' });
  const surface = hubSurface({ ...deps, principal: who.principal, access: new Access(who.scopes), logger: log }, peer);

  const extraOf = (ctx: ServerContext): Extra => {
    // The SDK lifts the revision's own `_meta` keys out of the request into `envelope`.
    const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
    client = {
      info: envelope[CLIENT_INFO_META_KEY] as { name: string; version: string } | undefined,
      capabilities: (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as Record<string, unknown>,
    };
    return {
      signal: ctx.mcpReq.signal,
      requestId: ctx.mcpReq.id,
      _meta: ctx.mcpReq._meta,
      // The rate verdict of this HTTP request hangs on its headers (routes/auth.ts).
      requestInfo: { headers },
      sendNotification: sinkOf(ctx),
      sendRequest: () => Promise.reject(new McpError(ErrorCode.MethodNotFound, 'no requests to a 2026-07-28 client')),
    } as unknown as Extra;
  };
  const ended = <T>(work: Promise<T>): Promise<T> => work.finally(() => void deps.mesh.endSession(id));

  server.setRequestHandler('tools/list', () => surface.listTools() as never);
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const params = request.params as CallToolRequest['params'];
    const extra = extraOf(ctx);
    const state = ctx.mcpReq.requestState();
    // A call continued is not a new call (unless another replica had it): the request's own
    // rate verdict is waited for here, once.
    if (state !== undefined) {
      const overRate = await requestLimitOf(headers);
      if (overRate !== undefined) return toolError(overRate) as never;
    }
    const asked = { principal: who.principal, tool: params.name, state, responses: ctx.mcpReq.inputResponses };
    return (await bridge.call(asked, sinkOf(ctx), ctx.mcpReq.signal, (call) => {
      asking = call.ask;
      return ended(surface.callTool(params, { ...extra, signal: call.signal, sendNotification: call.notify }));
    })) as never;
  });
  server.setRequestHandler('resources/list', () => surface.listResources() as never);
  server.setRequestHandler('resources/templates/list', () => surface.listResourceTemplates() as never);
  server.setRequestHandler(
    'resources/read',
    (request, ctx) => ended(surface.readResource(request.params as never, extraOf(ctx))) as never,
  );
  server.setRequestHandler('prompts/list', () => surface.listPrompts() as never);
  server.setRequestHandler(
    'prompts/get',
    (request, ctx) => ended(surface.getPrompt(request.params as never, extraOf(ctx))) as never,
  );
  server.setRequestHandler(
    'completion/complete',
    (request, ctx) => ended(surface.complete(request.params as never, extraOf(ctx))) as never,
  );
  return server;
}

/** What a node may ask a client during a call, by the capability the client must have declared. */
const ASKABLE: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/**
 * Where a request's notifications go: its own stream. Progress carries the token of the request
 * now waiting, which for a call continued after `input_required` is not the one it began with.
 */
function sinkOf(ctx: ServerContext): Sink {
  const token = ctx.mcpReq._meta?.progressToken;
  return async (n) => {
    if (n.method === 'notifications/progress') {
      if (token === undefined) return;
      await ctx.mcpReq.notify({ ...n, params: { ...n.params, progressToken: token } } as never);
      return;
    }
    await ctx.mcpReq.notify(n as never);
  };
}
