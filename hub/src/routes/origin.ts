import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Refuses requests whose Origin header names a site that is not allowed: browsers send it on
 * cross-site calls, and a hub on 127.0.0.1 must not be drivable from any page a user opens.
 * Requests without Origin (programs, not browsers) pass.
 */
export function originGuard(allowed: () => ReadonlySet<string>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined || allowed().has(origin)) return;
    request.log.warn({ origin }, 'foreign origin refused');
    return reply.code(403).send({ code: 'FORBIDDEN', message: 'this origin is not allowed' });
  };
}
