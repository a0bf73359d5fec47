import { BrainmeshError, type Db, type Store } from '@brainmesh/shared';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ApiKeys } from '../api-keys.js';
import type { Mesh } from '../mesh/mesh.js';
import { MESH_NAMESPACE, MESH_TOOLS, searchTools } from '../mesh/mesh-tools.js';
import type { OAuthService } from '../oauth/service.js';
import { type NodeRecord, nodeIdSchema, type Registry } from '../registry.js';
import { Access, scopesSchema } from '../scopes.js';
import { HUB_VERSION } from '../version.js';
import { auditRoutes } from './audit.js';
import { type Credentials, type HttpLimit, requirePrincipal } from './auth.js';
import { parse } from './links.js';

export interface AdminRouteDeps {
  registry: Registry;
  mesh: Mesh;
  keys: ApiKeys;
  credentials: Credentials;
  oauth: OAuthService;
  enrolmentTtlMs: number;
  limit: HttpLimit;
  hubId: string;
  startedAt: Date;
  storage: { database: string; store: string };
  db: Db;
  store: Store;
}

const enrolmentBody = z
  .object({
    node: nodeIdSchema.refine((n) => n !== MESH_NAMESPACE, `"${MESH_NAMESPACE}" is reserved for the hub's own tools`),
    ttlMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  })
  .strict();
const nodeParams = z.object({ id: nodeIdSchema }).strict();
const keyBody = z
  .object({
    name: z.string().min(1).max(100),
    scopes: scopesSchema,
    /** When the key stops working; absent, it works until revoked. */
    expiresAt: z.iso
      .datetime({ offset: true })
      .refine((d) => Date.parse(d) > Date.now(), 'must be in the future')
      .optional(),
  })
  .strict();
const userBody = z
  .object({
    username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, . _ and -'),
    password: z.string().min(12, 'at least 12 characters').max(1024),
    scopes: scopesSchema.default(['admin']),
  })
  .strict();
const toolQuery = z
  .object({
    query: z.string().min(1, 'say what to look for').max(200),
    node: nodeIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
const keyParams = z
  .object({ id: z.string().regex(/^[a-z0-9]{10}$/, 'a key id is 10 lowercase letters and digits') })
  .strict();

/** The operator's API: enrolment tokens and the node registry. Admin scope only. */
export const adminRoutes: FastifyPluginAsync<AdminRouteDeps> = async (app, deps) => {
  app.addHook('preHandler', requirePrincipal(deps.credentials, deps.limit, { scope: 'admin' }));
  await app.register(auditRoutes, { db: deps.db, store: deps.store, registry: deps.registry, hubId: deps.hubId });

  const view = (node: NodeRecord) => {
    const link = deps.mesh.links.get(node.id);
    return {
      id: node.id,
      url: node.url,
      status: node.status,
      link: link?.status ?? 'unknown',
      direction: link?.direction ?? null,
      enrolledAt: node.enrolledAt.toISOString(),
      lastSeen: link?.lastSeen?.toISOString() ?? null,
      downSince: link?.downSince?.toISOString() ?? null,
      circuit: link?.circuitView() ?? { state: 'closed' },
      latencyMs: link?.latencyMs ?? null,
      tools: link?.status === 'up' ? link.lists.tools.length : 0,
      keys: node.jwks.keys.map((k) => k.kid),
    };
  };

  app.post('/admin/enrolments', async (request, reply) => {
    const body = parse(enrolmentBody, request.body);
    const ttl = body.ttlMinutes === undefined ? deps.enrolmentTtlMs : body.ttlMinutes * 60_000;
    const { token, expiresAt } = await deps.registry.createEnrolmentToken(
      body.node,
      request.principal?.principal ?? 'unknown',
      ttl,
    );
    request.log.info({ node: body.node, expiresAt }, 'enrolment token created');
    return reply.code(201).send({ node: body.node, token, expiresAt: expiresAt.toISOString() });
  });

  app.get('/admin/nodes', async () => ({ nodes: (await deps.registry.list()).map(view) }));

  app.get('/admin/nodes/:id', async (request) =>
    view(await deps.registry.require(parse(nodeParams, request.params).id)),
  );

  app.post('/admin/nodes/:id/disable', async (request) =>
    view(await deps.registry.setStatus(parse(nodeParams, request.params).id, 'disabled')),
  );

  app.post('/admin/nodes/:id/enable', async (request) =>
    view(await deps.registry.setStatus(parse(nodeParams, request.params).id, 'enabled')),
  );

  // Circuits live in each hub process: this closes the one of the replica that answers.
  app.post('/admin/nodes/:id/reset-circuit', async (request) => {
    const node = await deps.registry.require(parse(nodeParams, request.params).id);
    deps.mesh.links.get(node.id)?.resetCircuit();
    return view(node);
  });

  app.post('/admin/nodes/:id/rotate-keys', async (request) => {
    const node = await deps.registry.require(parse(nodeParams, request.params).id);
    if (node.status === 'disabled') {
      throw new BrainmeshError('CONFLICT', `node ${node.id} is disabled; enable it before rotating its keys`);
    }
    const link = deps.mesh.links.get(node.id);
    if (link === undefined || link.status !== 'up') {
      throw new BrainmeshError('CONFLICT', `node ${node.id} is not linked to the hub now; start it first`);
    }
    const previous = node.jwks.keys.map((k) => k.kid);
    const rotation = await link.rotateKeys();
    // Pinned at once: the node signs with the new key from now on.
    await deps.registry.updateLink(node.id, node.url, rotation.jwks);
    request.log.info({ node: node.id, active: rotation.active, retired: rotation.retired }, 'node keys rotated');
    return {
      node: node.id,
      active: rotation.active,
      retired: rotation.retired,
      previous,
      ...view(await deps.registry.require(node.id)),
    };
  });

  app.get('/admin/tools', async (request) => {
    const query = parse(toolQuery, request.query);
    return { tools: searchTools(deps.mesh, query, new Access(request.principal?.scopes ?? [])) };
  });

  app.get('/admin/status', async () => {
    const nodes = (await deps.registry.list()).map(view);
    const count = (link: string) => nodes.filter((n) => n.link === link).length;
    return {
      hub: {
        id: deps.hubId,
        version: HUB_VERSION,
        startedAt: deps.startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
        storage: deps.storage,
      },
      nodes: {
        total: nodes.length,
        up: count('up'),
        connecting: count('connecting'),
        down: count('down'),
        disabled: nodes.filter((n) => n.status === 'disabled').length,
        /** Of those up, the ones whose circuit is not closed: linked, yet refusing calls. */
        circuitOpen: nodes.filter((n) => n.link === 'up' && n.circuit.state !== 'closed').length,
      },
      tools: Object.keys(MESH_TOOLS).length + nodes.reduce((sum, n) => sum + n.tools, 0),
      list: nodes,
    };
  });

  app.post('/admin/keys', async (request, reply) => {
    const body = parse(keyBody, request.body);
    const made = await deps.keys.create({
      name: body.name,
      scopes: body.scopes,
      ...(body.expiresAt === undefined ? {} : { expiresAt: new Date(body.expiresAt) }),
    });
    request.log.info({ keyId: made.id, name: body.name, scopes: body.scopes }, 'API key created');
    return reply.code(201).send({ ...made, name: body.name, scopes: body.scopes, expiresAt: body.expiresAt ?? null });
  });

  app.post('/admin/users', async (request, reply) => {
    const body = parse(userBody, request.body);
    await deps.oauth.createAccount(body.username, body.password, body.scopes);
    request.log.info({ username: body.username, scopes: body.scopes }, 'operator account created');
    return reply.code(201).send({ username: body.username, scopes: body.scopes });
  });

  app.get('/admin/keys', async () => ({ keys: await deps.keys.list() }));

  app.delete('/admin/keys/:id', async (request, reply) => {
    const { id } = parse(keyParams, request.params);
    if (!(await deps.keys.revoke(id))) throw new BrainmeshError('NOT_FOUND', `no API key ${id}`);
    request.log.info({ keyId: id }, 'API key revoked');
    return reply.code(204).send();
  });

  app.delete('/admin/nodes/:id', async (request, reply) => {
    await deps.registry.remove(parse(nodeParams, request.params).id);
    return reply.code(204).send();
  });
};
