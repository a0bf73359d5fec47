import { BrainmeshError, type KeyRing, signLinkToken } from '@brainmesh/shared';
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

export async function rotateNodeKeys(options: {
  nodeId: string;
  url: string;
  hubId: string;
  ring: KeyRing;
  timeoutMs: number;
}): Promise<NodeKeyRotation> {
  const token = await signLinkToken(options.ring, {
    iss: options.hubId,
    aud: options.nodeId,
    sub: `hub:${options.hubId}`,
  });
  let res: Response;
  try {
    res = await fetch(new URL('/links/rotate', options.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    throw new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      `node ${options.nodeId} could not be reached at ${options.url} to rotate its keys; is it running?`,
      { cause },
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      `node ${options.nodeId} refused the hub's request (HTTP ${res.status}); it may be enrolled with another hub`,
    );
  }
  if (!res.ok) {
    throw new BrainmeshError(
      'UPSTREAM_UNAVAILABLE',
      `node ${options.nodeId} failed to rotate its keys (HTTP ${res.status}); its log says why`,
    );
  }
  const parsed = rotationSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) {
    throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `node ${options.nodeId} answered the key rotation with nonsense`);
  }
  return { ...parsed.data, jwks: parsed.data.jwks as JSONWebKeySet };
}
