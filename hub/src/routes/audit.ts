import type { Db, Store } from '@brainmesh/shared';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AdminOperations } from '../admin/operations.js';
import { auditFilterSchema, auditSearchSchema, newestAuditId, searchAudit } from '../audit/query.js';
import { tailAudit } from '../audit/tail.js';
import { parse } from './links.js';

export interface AuditRouteDeps {
  db: Db;
  store: Store;
  admin: AdminOperations;
}

const tailQuery = auditFilterSchema
  .extend({
    /** Start after this row (a reconnecting tail says where it was); absent, from now. */
    after: z.coerce.number().int().min(0).optional(),
  })
  .strict();
const verifyQuery = z.object({ node: z.string().min(1).max(63).optional() }).strict();

/**
 * The audit trail, for operators (registered inside the admin routes, so admin scope only):
 * search, a live tail (server-sent events), the chain check, and each node's shipping lag.
 */
export const auditRoutes: FastifyPluginAsync<AuditRouteDeps> = async (app, deps) => {
  app.get('/admin/audit', async (request) => searchAudit(deps.db, parse(auditSearchSchema, request.query)));

  app.get('/admin/audit/lag', async () => deps.admin.auditLag());

  app.get('/admin/audit/verify', async (request) => deps.admin.auditVerify(parse(verifyQuery, request.query).node));

  app.get('/admin/audit/tail', async (request, reply) => {
    const { after, ...filter } = parse(tailQuery, request.query);
    let last = after ?? (await newestAuditId(deps.db));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // A first line at once, so the client knows the tail is live.
    res.write(`: tailing after ${last}\n\n`);
    let ticks = 0;
    const stop = await tailAudit({
      db: deps.db,
      store: deps.store,
      filter,
      after: last,
      send: (row) => {
        res.write(`id: ${row.id}\nevent: audit\ndata: ${JSON.stringify(row)}\n\n`);
        last = row.id;
      },
      tick: () => {
        ticks += 1;
        if (ticks % 15 === 0) res.write(': keep-alive\n\n');
      },
      failed: (err) => request.log.warn({ err }, 'audit tail read failed'),
    });
    // The response's close, not the request's: a GET's request is complete as soon as it is read,
    // while the response closes only when the client goes.
    const end = () => {
      stop();
      request.log.debug({ last }, 'audit tail ended');
    };
    // A client gone while the tail subscribed has closed already.
    if (res.destroyed) end();
    else res.on('close', end);
  });
};
