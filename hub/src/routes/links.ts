import {
  auditBatchSchema,
  BrainmeshError,
  createLinkVerifier,
  type Db,
  isBrainmeshError,
  type KeyRing,
  type LinkRefusal,
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

  /**
   * The enrolled node that signed this request's link token; refused otherwise. Every refusal
   * answers the same (whether a node of that name exists is nobody's business); the log says why.
   */
  const signingNode = async (request: FastifyRequest, what: string): Promise<NodeRecord> => {
    const refuse = (reason: LinkRefusal | 'unknown-node', node?: string) => {
      request.log.warn({ ...(node === undefined ? {} : { node }), reason }, `${what} refused`);
      return new BrainmeshError('UNAUTHENTICATED', 'a valid link token from an enrolled node is required');
    };
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (token === undefined || token === '') throw refuse('missing');
    // Read unverified only to find whose keys to check it with; nothing of it is trusted before.
    let claimed: unknown;
    try {
      claimed = decodeJwt(token).iss;
    } catch {
      throw refuse('malformed');
    }
    const issuer = nodeIdSchema.safeParse(claimed).data;
    const node = issuer === undefined ? undefined : await deps.registry.get(issuer);
    if (node === undefined) throw refuse('unknown-node', issuer);
    const verify = createLinkVerifier({
      issuer: node.id,
      audience: deps.hubId,
      keys: () => node.jwks,
      replay: deps.store,
    });
    try {
      await verify(token);
    } catch (err) {
      // A store that cannot say whether the token was used is a fault of ours, not a refusal:
      // a node told 401 stops asking.
      if (!(err instanceof LinkTokenError)) throw err;
      throw refuse(err.reason, node.id);
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
