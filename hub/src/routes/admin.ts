import { BrainmeshError, type Db, type Store } from '@brainmesh/shared';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { type AdminOperations, enrolmentInput, keyIdSchema, keyInput, userInput } from '../admin/operations.js';
import type { Mesh } from '../mesh/mesh.js';
import { describeTool, searchTools } from '../mesh/mesh-tools.js';
import type { OAuthService } from '../oauth/service.js';
import { nodeIdSchema, type Registry } from '../registry.js';
import { Access } from '../scopes.js';
import { auditRoutes } from './audit.js';
import { type Credentials, type HttpLimit, requirePrincipal } from './auth.js';
import { parse } from './links.js';

export interface AdminRouteDeps {
  admin: AdminOperations;
  registry: Registry;
  mesh: Mesh;
  credentials: Credentials;
  oauth: OAuthService;
  limit: HttpLimit;
  hubId: string;
  db: Db;
  store: Store;
}

const toolQuery = z
  .object({
    /** Absent or empty: every tool, in name order. */
    query: z.string().max(200).default(''),
    node: nodeIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(20),
  })
  .strict();
const toolParams = z.object({ name: z.string().min(1).max(200) }).strict();
const activityQuery = z.object({ minutes: z.coerce.number().int().min(1).max(120).default(15) }).strict();
const nodeParams = z.object({ id: nodeIdSchema }).strict();
const keyParams = z.object({ id: keyIdSchema }).strict();

/** The operator's API: enrolment tokens and the node registry. Admin scope only. */
export const adminRoutes: FastifyPluginAsync<AdminRouteDeps> = async (app, deps) => {
  app.addHook('preHandler', requirePrincipal(deps.credentials, deps.limit, { scope: 'admin' }));
  await app.register(auditRoutes, { db: deps.db, store: deps.store, admin: deps.admin });

  const { admin } = deps;
  const nodeId = (request: { params: unknown }) => parse(nodeParams, request.params).id;

  app.post('/admin/enrolments', async (request, reply) => {
    const made = await admin.enrol(parse(enrolmentInput, request.body), request.principal?.principal ?? 'unknown');
    request.log.info({ node: made.node, expiresAt: made.expiresAt }, 'enrolment token created');
    return reply.code(201).send(made);
  });

  app.get('/admin/nodes', async () => ({ nodes: await admin.nodes() }));
  app.get('/admin/nodes/:id', async (request) => admin.node(nodeId(request)));
  app.post('/admin/nodes/:id/disable', async (request) => admin.setStatus(nodeId(request), 'disabled'));
  app.post('/admin/nodes/:id/enable', async (request) => admin.setStatus(nodeId(request), 'enabled'));
  app.post('/admin/nodes/:id/reset-circuit', async (request) => admin.resetCircuit(nodeId(request)));
  app.post('/admin/nodes/:id/rotate-keys', async (request) => {
    const rotated = await admin.rotateKeys(nodeId(request));
    request.log.info({ node: rotated.node, active: rotated.active, retired: rotated.retired }, 'node keys rotated');
    return rotated;
  });

  app.get('/admin/tools', async (request) => {
    const query = parse(toolQuery, request.query);
    return { tools: searchTools(deps.mesh, query, new Access(request.principal?.scopes ?? [])) };
  });

  app.get('/admin/tools/:name', async (request) => {
    const { name } = parse(toolParams, request.params);
    const found = describeTool(deps.mesh, name, new Access(request.principal?.scopes ?? []));
    if (found === undefined) throw new BrainmeshError('NOT_FOUND', `no tool ${name}`);
    return found;
  });

  app.get('/admin/status', async () => admin.status());

  app.get('/admin/activity', async (request) => admin.activity(parse(activityQuery, request.query).minutes));

  app.post('/admin/keys', async (request, reply) => {
    const made = await admin.createKey(parse(keyInput, request.body));
    request.log.info({ keyId: made.id, name: made.name, scopes: made.scopes }, 'API key created');
    return reply.code(201).send(made);
  });

  app.post('/admin/users', async (request, reply) => {
    const made = await admin.createUser(parse(userInput, request.body));
    request.log.info({ username: made.username, scopes: made.scopes }, 'operator account created');
    return reply.code(201).send(made);
  });

  app.get('/admin/users', async () => admin.users());

  app.get('/admin/keys', async () => ({ keys: await admin.listKeys() }));

  app.delete('/admin/keys/:id', async (request, reply) => {
    const { id } = parse(keyParams, request.params);
    await admin.revokeKey(id);
    request.log.info({ keyId: id }, 'API key revoked');
    return reply.code(204).send();
  });

  app.delete('/admin/nodes/:id', async (request, reply) => {
    await admin.removeNode(nodeId(request));
    return reply.code(204).send();
  });
};
