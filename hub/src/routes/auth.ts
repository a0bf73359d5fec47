import { BrainmeshError } from '@brainmesh/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ApiKeys, presentedKey } from '../api-keys.js';
import type { OAuthService } from '../oauth/service.js';
import type { RateLimiter } from '../rate-limit.js';
import { Access } from '../scopes.js';

/** Whoever a request is made for: an API key (`key:<id>`) or a user through an OAuth client (`user:<name>`). */
export interface Principal {
  principal: string;
  name: string;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface HttpLimit {
  limiter: RateLimiter;
  requests: number;
  windowMs: number;
}

export interface Credentials {
  keys: ApiKeys;
  oauth: OAuthService;
  /** Where clients learn how to get a token (RFC 9728), named in every 401. */
  resourceMetadataUrl: () => string;
}

/**
 * A preHandler that admits a request only with a valid API key or OAuth access token for this
 * hub (and, if named, the admin scope), within the principal's request rate.
 */
export function requirePrincipal(credentials: Credentials, limit: HttpLimit, scope?: 'admin') {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = presentedKey(request.headers);
    let principal: Principal | undefined;
    if (presented?.startsWith('bm_')) {
      principal = await credentials.keys.verify(presented);
    } else if (presented !== undefined) {
      const who = await credentials.oauth.verifyAccessToken(presented);
      principal =
        who === undefined
          ? undefined
          : { principal: who.principal, name: `${who.username} via ${who.clientId}`, scopes: who.scopes };
    }
    if (principal === undefined) {
      reply.header(
        'www-authenticate',
        `Bearer realm="brainmesh", resource_metadata="${credentials.resourceMetadataUrl()}"`,
      );
      throw new BrainmeshError(
        'UNAUTHENTICATED',
        presented === undefined ? 'an API key or access token is required' : 'the API key or access token is not valid',
      );
    }
    if (scope === 'admin' && !new Access(principal.scopes).isAdmin) {
      reply.header(
        'www-authenticate',
        `Bearer error="insufficient_scope", scope="admin", resource_metadata="${credentials.resourceMetadataUrl()}"`,
      );
      throw new BrainmeshError('FORBIDDEN', 'insufficient_scope: this needs the admin scope', {
        details: { missingScope: scope },
      });
    }
    const verdict = await limit.limiter.take(`http:${principal.principal}`, limit.requests, limit.windowMs);
    if (!verdict.ok) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      reply.header('retry-after', String(seconds));
      throw new BrainmeshError(
        'RATE_LIMITED',
        `more than ${limit.requests} requests per ${limit.windowMs / 1000} s for this principal; retry in ${seconds} s`,
        { details: { retryAfterMs: verdict.retryAfterMs } },
      );
    }
    request.principal = principal;
  };
}
