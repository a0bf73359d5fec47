import {
  auditBatchSchema,
  BrainmeshError,
  createLinkVerifier,
  type Db,
  isBrainmeshError,
  type KeyRing,
  LinkTokenError,
  type Store,
} from '@brainmesh/shared';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { type AuditIngest, chainEnd } from '../audit/ingest.js';
import { jwksSchema, type NodeRecord, nodeIdSchema, type Registry } from '../registry.js';

export interface LinkRouteDeps {
  hubId: string;
  ring: KeyRing;
  registry: Registry;
  store: Store;
  db: Db;
  ingest: AuditIngest;
}

const enrolBody = z
  .object({
    token: z.string().min(1).max(200),
    node: nodeIdSchema,
    url: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional(),
    jwks: jwksSchema,
  })
  .strict();

const announceBody = z.object({ url: z.url({ protocol: /^https?$/ }).nullable(), jwks: jwksSchema }).strict();

/**
 * What nodes call: enrolment (with a one-time token), announcements and audit batches (signed by
 * the node's own pinned key), and the hub's public keys.
 */
export const linkRoutes: FastifyPluginAsync<LinkRouteDeps> = async (app, deps) => {
  app.get('/.well-known/jwks.json', async () => deps.ring.jwks());

  app.post('/enrol', async (request) => {
    const body = parse(enrolBody, request.body);
    const node = await deps.registry.enrol({
      token: body.token,
      nodeId: body.node,
      url: body.url ?? null,
      jwks: body.jwks,
    });
    request.log.info({ node: node.id, url: node.url }, 'node enrolled');
    const audit = await chainEnd(deps.db, node.id);
    return { hubId: deps.hubId, nodeId: node.id, jwks: deps.ring.jwks(), ...(audit === undefined ? {} : { audit }) };
  });

  /** The enrolled node that signed this request's link token; refused otherwise. */
  const signingNode = async (request: FastifyRequest, what: string): Promise<NodeRecord> => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    let issuer: string | undefined;
    try {
      issuer = token === undefined ? undefined : decodeJwt(token).iss;
    } catch {
      issuer = undefined;
    }
    const node = issuer === undefined ? undefined : await deps.registry.get(issuer);
    if (node === undefined) {
      request.log.warn({ issuer }, `${what} refused: unknown node`);
      throw new BrainmeshError('UNAUTHENTICATED', 'a link token from an enrolled node is required');
    }
    const verify = createLinkVerifier({
      issuer: node.id,
      audience: deps.hubId,
      keys: () => node.jwks,
      replay: deps.store,
    });
    try {
      await verify(token);
    } catch (err) {
      request.log.warn(
        { node: node.id, reason: err instanceof LinkTokenError ? err.reason : 'error' },
        `${what} refused`,
      );
      throw new BrainmeshError('UNAUTHENTICATED', 'a valid link token is required');
    }
    return node;
  };

  app.post('/links/announce', async (request, reply) => {
    const node = await signingNode(request, 'announce');
    const body = parse(announceBody, request.body);
    await deps.registry.updateLink(node.id, body.url, body.jwks);
    return reply.code(204).send();
  });

  // A disabled node still ships: what it did before it was disabled belongs in the record.
  app.post('/links/audit', async (request) => {
    const node = await signingNode(request, 'audit batch');
    const batch = parse(auditBatchSchema, request.body);
    try {
      return await deps.ingest.ingest(node, batch);
    } catch (err) {
      if (isBrainmeshError(err, 'AUDIT_BATCH_REFUSED')) request.log.warn({ node: node.id, err }, 'audit batch refused');
      throw err;
    }
  });
};

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.join('.');
    throw new BrainmeshError('INVALID_INPUT', `${field}: ${issue?.message ?? 'invalid'}`, { details: { field } });
  }
  return parsed.data;
}
