import { BrainmeshError } from '@brainmesh/shared';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { jwksSchema } from '../registry.js';

/**
 * Rotating a node's keys, asked by the hub over the link: the node makes a new active key and
 * answers with its public keys, which the caller pins in the registry. The key before stays
 * valid beside the new one, so nothing the node signed a moment ago is refused.
 */

const rotationSchema = z.object({
  active: z.string().min(1),
  retired: z.array(z.string()),
  jwks: jwksSchema,
});

export interface NodeKeyRotation {
  active: string;
  retired: string[];
  jwks: JSONWebKeySet;
}

/** The node's answer to `brainmesh/rotateKeys`, checked before anything of it is pinned. */
export function parseRotation(nodeId: string, answer: unknown): NodeKeyRotation {
  const parsed = rotationSchema.safeParse(answer);
  if (!parsed.success) {
    throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${nodeId} answered the key rotation with nonsense`);
  }
  return { ...parsed.data, jwks: parsed.data.jwks as JSONWebKeySet };
}
