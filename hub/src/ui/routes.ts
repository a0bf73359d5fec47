import { readFileSync } from 'node:fs';
import { BrainmeshError, type Db, type Store } from '@brainmesh/shared';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { auditFilterSchema, newestAuditId } from '../audit/query.js';
import { tailAudit } from '../audit/tail.js';
import { signInRefused } from '../oauth/routes.js';
import type { OAuthService } from '../oauth/service.js';
import type { RateLimiter } from '../rate-limit.js';
import { parse } from '../routes/links.js';
import { Access } from '../scopes.js';
import { type BrowserSessions, UI_HEADER } from './browser-session.js';

export interface UiRouteDeps {
  sessions: BrowserSessions;
  /** Whether an Origin is the hub's own (its public URL, or its loopback address and port). */
  ownOrigin: (origin: string) => boolean;
  oauth: OAuthService;
  limiter: RateLimiter;
  db: Db;
  store: Store;
}

/**
 * Nothing but this hub's own files: no inline script or style, no other site, no frames. The
 * live tail's WebSocket is 'self' too (CSP 3 matches ws: to an http: page's own host).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
// Read once at start: a handful of small files, written with the hub (no build step).
const files = new Map(
  Object.keys(ASSETS).map((name) => [name, readFileSync(new URL(`./assets/${name}`, import.meta.url))]),
);

const signInBody = z.object({ username: z.string().min(1).max(63), password: z.string().min(1).max(1024) }).strict();
const liveQuery = auditFilterSchema.extend({ after: z.coerce.number().int().min(0).optional() }).strict();

/**
 * The operator's dashboard at `/ui`: its page and assets, signing in and out with an operator
 * account, and the audit trail's live tail over a WebSocket. Everything else it shows comes from
 * the admin API, which takes its signed-in cookie with the dashboard's header (auth.ts).
 */
export const uiRoutes: FastifyPluginAsync<UiRouteDeps> = async (app, deps) => {
  const { sessions } = deps;
  const send = (reply: FastifyReply, name: string) =>
    reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type(ASSETS[name]!)
      .send(files.get(name));

  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui/', async (_request, reply) => send(reply, 'index.html'));
  app.get('/ui/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    if (file === 'index.html' || !files.has(file)) throw new BrainmeshError('NOT_FOUND', `no dashboard file ${file}`);
    return send(reply, file);
  });

  // A page of another site cannot set a header without a CORS preflight the hub never grants.
  const dashboardOnly = (headers: Record<string, unknown>) => {
    const value = headers[UI_HEADER];
    if (typeof value !== 'string' || value === '') {
      throw new BrainmeshError('FORBIDDEN', `the dashboard's requests carry its ${UI_HEADER} header`);
    }
  };

  app.post('/ui/session', async (request, reply) => {
    dashboardOnly(request.headers);
    // The consent page's allowance, shared: each attempt costs a memory-hard hash.
    const seconds = await signInRefused(deps.limiter, request.ip);
    if (seconds !== undefined) {
      reply.header('retry-after', String(seconds));
      throw new BrainmeshError(
        'RATE_LIMITED',
        `too many sign-in attempts from this address; try again in ${seconds} s`,
      );
    }
    const { username, password } = parse(signInBody, request.body);
    const scopes = await deps.oauth.checkPassword(username, password);
    if (scopes === undefined) {
      request.log.warn({ username }, 'dashboard sign-in failed');
      throw new BrainmeshError('UNAUTHENTICATED', 'that operator name and password do not match');
    }
    if (!new Access(scopes).isAdmin) {
      request.log.warn({ username }, 'dashboard sign-in refused: no admin scope');
      throw new BrainmeshError('FORBIDDEN', 'this account may not manage the mesh (it has no admin scope)');
    }
    request.log.info({ username }, 'dashboard sign-in');
    const { setCookie, secret } = await sessions.signIn(username);
    return reply.header('set-cookie', setCookie).send({ username, secret });
  });

  app.get('/ui/session', async (request) => {
    const principal = await sessions.principal(request);
    if (principal === undefined || !new Access(principal.scopes).isAdmin) {
      throw new BrainmeshError('UNAUTHENTICATED', 'not signed in');
    }
    return { username: principal.principal.slice('user:'.length) };
  });

  app.delete('/ui/session', async (request, reply) => {
    dashboardOnly(request.headers);
    return reply.header('set-cookie', sessions.signOut()).code(204).send();
  });

  app.get('/ui/live', { websocket: true }, (socket, request) => {
    // A browser always says where a WebSocket's page is from: it must be the hub's own (another
    // port of the same host is the same site, and would be sent the cookie).
    const origin = request.headers.origin;
    if (origin === undefined || !deps.ownOrigin(origin)) {
      socket.close(4403, 'not the dashboard');
      return;
    }
    const query = liveQuery.safeParse(request.query);
    if (!query.success) {
      socket.close(4400, 'bad filter');
      return;
    }
    // The secret comes first, as a message: a WebSocket's handshake carries no header of ours.
    const unauthenticated = setTimeout(() => socket.close(4401, 'not signed in'), 5_000);
    let stop: (() => void) | undefined;
    let closed = false;
    socket.on('close', () => {
      closed = true;
      clearTimeout(unauthenticated);
      stop?.();
    });
    const admitted = async (secret: unknown) => {
      const principal = await sessions.check(request.headers.cookie, typeof secret === 'string' ? secret : undefined);
      return principal !== undefined && new Access(principal.scopes).isAdmin;
    };
    const follow = async (data: unknown) => {
      clearTimeout(unauthenticated);
      let secret: unknown;
      try {
        secret = (JSON.parse(String(data)) as { secret?: unknown }).secret;
      } catch {
        secret = undefined;
      }
      if (!(await admitted(secret))) {
        socket.close(4401, 'not signed in');
        return;
      }
      const { after, ...filter } = query.data;
      let ticks = 0;
      let answered = true;
      const stopTail = await tailAudit({
        db: deps.db,
        store: deps.store,
        filter,
        after: after ?? (await newestAuditId(deps.db)),
        send: (row) => socket.send(JSON.stringify({ type: 'audit', row })),
        // Every 15 s: a browser that went away without closing is let go, and a sign-in that
        // no longer holds (expired, or the account's admin scope gone) ends the tail.
        tick: () => {
          ticks += 1;
          if (ticks % 15 !== 0) return;
          if (!answered) {
            socket.terminate();
            return;
          }
          answered = false;
          socket.ping();
          void admitted(secret).then(
            (ok) => ok || socket.close(4401, 'not signed in'),
            () => {},
          );
        },
        failed: (err) => request.log.warn({ err }, 'dashboard audit tail read failed'),
      });
      socket.on('pong', () => {
        answered = true;
      });
      if (closed) stopTail();
      else stop = stopTail;
      socket.send(JSON.stringify({ type: 'live' }));
    };
    socket.once('message', (data) => {
      follow(data).catch((err: unknown) => {
        request.log.warn({ err }, 'dashboard audit tail could not start');
        socket.close(1011, 'the tail could not start');
      });
    });
  });
};
