import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { BrainmeshError } from '../errors.js';
import { type KeyRing, LINK_ALG } from '../link/keyring.js';
import { LINK_CLOCK_SKEW_S } from '../link/token.js';
import { auditEventSchema } from './event.js';

/**
 * A batch of audit events on its way from a node to the hub. The node signs a statement of the
 * batch (its range and the hash of its last event, which covers every event before it through
 * the chain), so the hub can prove later that a row is what the node wrote.
 */

export interface BatchClaims {
  /** The node. */
  iss: string;
  /** The hub. */
  aud: string;
  first: number;
  last: number;
  /** The hash the first event follows. */
  prev: string;
  /** The hash of the last event. */
  head: string;
}

export const auditBatchSchema = z
  .object({
    events: z.array(auditEventSchema).min(1).max(1000),
    signature: z.string().min(1).max(2000),
    /** The node's newest seq when it sent this: how far behind the hub is. */
    nodeHead: z.number().int().min(0),
  })
  .strict();
export type AuditBatch = z.infer<typeof auditBatchSchema>;

export async function signAuditBatch(ring: KeyRing, claims: BatchClaims): Promise<string> {
  const { kid, key } = ring.signingKey();
  return new SignJWT({ first: claims.first, last: claims.last, prev: claims.prev, head: claims.head })
    .setProtectedHeader({ alg: LINK_ALG, kid, typ: 'brainmesh-audit-batch+jwt' })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setIssuedAt()
    .sign(key);
}

const claimsSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  first: z.number().int().positive(),
  last: z.number().int().positive(),
  prev: z.string(),
  head: z.string(),
  iat: z.number().optional(),
});

export interface VerifyAuditBatchOptions {
  nodeId: string;
  hubId: string;
  keys: JSONWebKeySet;
  /**
   * When the batch arrives (ms since the epoch). A batch dated more than the clock skew after
   * this is refused. Left out when stored batches are checked again: batches never expire, so
   * `brainmesh audit verify` checks old ones too.
   */
  receivedAt?: number;
}

/** The batch statement, if `signature` was made by one of `keys` for this node and hub; throws otherwise. */
export async function verifyAuditBatch(
  signature: string,
  options: VerifyAuditBatchOptions,
): Promise<BatchClaims & { kid: string }> {
  const { payload, protectedHeader } = await jwtVerify(signature, createLocalJWKSet(options.keys), {
    algorithms: [LINK_ALG],
    issuer: options.nodeId,
    audience: options.hubId,
    typ: 'brainmesh-audit-batch+jwt',
    ...(options.receivedAt === undefined ? {} : { requiredClaims: ['iat'] }),
  });
  const { iat, ...claims } = claimsSchema.parse(payload);
  if (options.receivedAt !== undefined && iat !== undefined) {
    const ahead = iat - Math.floor(options.receivedAt / 1000);
    if (ahead > LINK_CLOCK_SKEW_S) {
      throw new BrainmeshError('AUDIT_BATCH_REFUSED', `it is dated ${ahead} s ahead of the hub's clock`, {
        details: { reason: 'future-iat' },
      });
    }
  }
  return { ...claims, kid: protectedHeader.kid ?? '' };
}
