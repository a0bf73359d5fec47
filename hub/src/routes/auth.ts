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
  /** An operator signed in to the dashboard, for a request of its page that has no token. */
  browser?: (request: FastifyRequest) => Promise<Principal | undefined>;
}

export interface PrincipalOptions {
  /** The admin scope, when the route needs it. */
  scope?: 'admin';
  /**
   * Requests whose verdict on the request rate is left to the tool call they carry (see
   * `requestLimitOf`); the others wait for it here.
   */
  deferLimit?: (request: FastifyRequest) => boolean;
}

/**
 * Verdicts on the request rate left to the tool call a request carries: the request's counter
 * is taken before its handler runs, as for any request, but it is the call that waits for the
 * answer, together with its own counter (per tool class). The two increments are asked for in
 * the same turn of the event loop, so the store sends them in one round trip (one Redis
 * pipeline) where they were two, one after the other, on every call's path. Nothing the request
 * does before its call waits (the session's lookup, the message's parse) changes anything.
 * Keyed on the request's headers object, which the MCP transport hands on to the call as
 * `requestInfo.headers`; a request refused before its call reaches the handler (a bad session,
 * an invalid message) was still counted, and its verdict is dropped with it.
 */
const deferredVerdicts = new WeakMap<object, Promise<string | undefined>>();

/**
 * The refusal, if the request that carries this call is over the principal's request rate
 * (undefined when within it, or when the request was judged before its handler ran). Once: a
 * second ask for the same request gets undefined.
 */
export function requestLimitOf(headers: object | undefined): Promise<string | undefined> | undefined {
  if (headers === undefined) return undefined;
  const verdict = deferredVerdicts.get(headers);
  deferredVerdicts.delete(headers);
  return verdict;
}

/**
 * A preHandler that admits a request only with a valid API key or OAuth access token for this
 * hub (and, if named, the admin scope), within the principal's request rate.
 */
export function requirePrincipal(credentials: Credentials, limit: HttpLimit, options: PrincipalOptions = {}) {
  const { scope, deferLimit } = options;
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
    } else if (credentials.browser !== undefined) {
      principal = await credentials.browser(request);
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
    const taking = limit.limiter.take(`http:${principal.principal}`, limit.requests, limit.windowMs);
    const overLimit = (retryAfterMs: number) => {
      const seconds = Math.ceil(retryAfterMs / 1000);
      return {
        seconds,
        message: `more than ${limit.requests} requests per ${limit.windowMs / 1000} s for this principal`,
      };
    };
    if (deferLimit?.(request) === true) {
      const refusal = taking.then((verdict) => {
        if (verdict.ok) return undefined;
        const { seconds, message } = overLimit(verdict.retryAfterMs);
        return `rate limited: ${message}; try again in ${seconds} s`;
      });
      // Asked for only if the request reaches its call; a store failure is the call's to report.
      refusal.catch(() => {});
      deferredVerdicts.set(request.raw.headers, refusal);
    } else {
      const verdict = await taking;
      if (!verdict.ok) {
        const { seconds, message } = overLimit(verdict.retryAfterMs);
        reply.header('retry-after', String(seconds));
        throw new BrainmeshError('RATE_LIMITED', `${message}; retry in ${seconds} s`, {
          details: { retryAfterMs: verdict.retryAfterMs },
        });
      }
    }
    request.principal = principal;
  };
}
