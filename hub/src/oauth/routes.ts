import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { RateLimiter } from '../rate-limit.js';
import { scopeSchema } from '../scopes.js';
import type { FormKeys } from './form-keys.js';
import { consentPage, errorPage } from './page.js';
import { OAuthError, type OAuthService, type TokenSet } from './service.js';
import { SignedCookie } from './signed-cookie.js';

export interface OAuthRouteDeps {
  oauth: OAuthService;
  issuer: () => string;
  limiter: RateLimiter;
  /** Sign the consent form and the sign-in cookie; shared by every replica, kept across restarts. */
  formKeys: FormKeys;
}

/** How long a consent form may be posted after it was shown. */
const FORM_LIFE_MS = 3_600_000;
/** How long a browser stays signed in; the longest life of anything the form keys sign. */
export const SIGN_IN_LIFE_MS = 12 * 3_600_000;

/** Sign-in attempts a client address may make a minute: each costs a memory-hard hash. */
const SIGN_INS_PER_MINUTE = 20;

/**
 * Counts a sign-in attempt from `address` (the consent page's and the dashboard's, together);
 * the seconds to wait when it is one too many, else undefined.
 */
export async function signInRefused(limiter: RateLimiter, address: string): Promise<number | undefined> {
  const verdict = await limiter.take(`signin:${address}`, SIGN_INS_PER_MINUTE, 60_000);
  return verdict.ok ? undefined : Math.ceil(verdict.retryAfterMs / 1000);
}

/** Loopback redirects (native apps, mcp-remote) may be http; anything else must be https. */
const redirectUri = z.url().refine((u) => {
  const url = new URL(u);
  if (url.hash !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}, 'a redirect URI must be https, or http on localhost, and carry no fragment');

const registration = z
  .object({
    redirect_uris: z.array(redirectUri).min(1).max(10),
    client_name: z.string().max(200).optional(),
    token_endpoint_auth_method: z.enum(['none']).optional(),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).optional(),
    response_types: z.array(z.literal('code')).optional(),
    /**
     * What the client is (2026-07-28: clients say so): `native` (a desktop app, mcp-remote: a
     * loopback redirect) or `web` (a redirect on the web, https only). `native` when not said,
     * as MCP clients mostly are.
     */
    application_type: z.enum(['native', 'web']).optional(),
  })
  .passthrough()
  .refine((r) => r.application_type !== 'web' || r.redirect_uris.every((u) => new URL(u).protocol === 'https:'), {
    path: ['redirect_uris'],
    message: 'a web application redirects to https addresses only',
  });

const authorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string().min(1).max(200),
  redirect_uri: z.string().min(1).max(2000),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/, 'code_challenge must be a base64url S256 challenge'),
  code_challenge_method: z.literal('S256', 'only S256 PKCE is supported'),
  state: z.string().max(1000).optional(),
  scope: z.string().max(2000).optional(),
  resource: z.string().max(2000).optional(),
});

// The scopes a client may ask for without knowing the mesh; any admin, node:NAME, tools:GLOB or
// read:GLOB scope is accepted too (see docs/architecture.md).
const SCOPES_SUPPORTED = ['admin', 'read:*'];

/**
 * OAuth 2.1 endpoints (the MCP authorization spec): protected resource metadata (RFC 9728, root
 * and path-aware), authorization server metadata (RFC 8414), dynamic client registration (RFC
 * 7591), the sign-in and consent page, the token endpoint and revocation (RFC 7009).
 */
export const oauthRoutes: FastifyPluginAsync<OAuthRouteDeps> = async (app, deps) => {
  await app.register(formbody);
  const { oauth, issuer, formKeys } = deps;
  // Binds a consent form to the request it was shown for, for an hour.
  const formPayload = (fields: Record<string, string>) => `form:${JSON.stringify(Object.entries(fields).sort())}`;

  const resourceMetadata = () => ({
    resource: oauth.resource,
    authorization_servers: [issuer()],
    bearer_methods_supported: ['header'],
    scopes_supported: SCOPES_SUPPORTED,
    resource_name: 'brainmesh hub',
  });
  app.get('/.well-known/oauth-protected-resource', async () => resourceMetadata());
  app.get('/.well-known/oauth-protected-resource/mcp', async () => resourceMetadata());
  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: issuer(),
    authorization_endpoint: `${issuer()}/oauth/authorize`,
    token_endpoint: `${issuer()}/oauth/token`,
    registration_endpoint: `${issuer()}/oauth/register`,
    revocation_endpoint: `${issuer()}/oauth/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    // Clients that can should name themselves by their metadata document's URL; registration is
    // kept for those that cannot.
    client_id_metadata_document_supported: true,
    // RFC 9207: every authorization response names its issuer (`iss`), so a client talking to
    // several servers can tell a mixed-up answer.
    authorization_response_iss_parameter_supported: true,
    scopes_supported: SCOPES_SUPPORTED,
  }));

  const oauthError = (reply: FastifyReply, err: OAuthError) =>
    reply
      .code(err.error === 'invalid_client' ? 401 : 400)
      .header('cache-control', 'no-store')
      .send({ error: err.error, error_description: err.description });

  app.post('/oauth/register', async (request, reply) => {
    const parsed = registration.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      const error = field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      return oauthError(reply, new OAuthError(error, `${field || '(body)'}: ${issue?.message ?? 'invalid'}`));
    }
    const client = await oauth.registerClient({
      clientName: parsed.data.client_name,
      redirectUris: parsed.data.redirect_uris,
    });
    request.log.info({ clientId: client.clientId, clientName: client.clientName }, 'OAuth client registered');
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        client_id: client.clientId,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_name: client.clientName ?? undefined,
        redirect_uris: client.redirectUris,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        application_type: parsed.data.application_type ?? 'native',
      });
  });

  /** Checks an authorization request; errors the client may hear go to its redirect URI. */
  const checkRequest = async (input: Record<string, unknown>) => {
    const client = typeof input.client_id === 'string' ? await oauth.client(input.client_id) : undefined;
    if (client === undefined) return { fatal: 'This application is not registered with the hub.' } as const;
    if (typeof input.redirect_uri !== 'string' || !client.redirectUris.includes(input.redirect_uri)) {
      // Never redirect to a URI the client did not register: that is how codes get stolen.
      return { fatal: 'The redirect address is not one this application registered.' } as const;
    }
    const parsed = authorizeQuery.safeParse(input);
    const back = (error: string, description: string) => {
      const url = new URL(input.redirect_uri as string);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (typeof input.state === 'string') url.searchParams.set('state', input.state);
      url.searchParams.set('iss', issuer());
      return { redirect: url.toString() } as const;
    };
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return back('invalid_request', `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
    }
    if (parsed.data.resource !== undefined && parsed.data.resource !== oauth.resource) {
      return back('invalid_target', `resource must be ${oauth.resource}`);
    }
    const scopes = (parsed.data.scope ?? '').split(' ').filter(Boolean);
    const badScope = scopes.find((s) => !scopeSchema.safeParse(s).success);
    if (badScope !== undefined) return back('invalid_scope', `unknown scope ${badScope}`);
    return { ok: { client, query: parsed.data, scopes: scopes.length > 0 ? scopes : ['admin'], back } } as const;
  };

  const showPage = async (
    reply: FastifyReply,
    ok: Extract<Awaited<ReturnType<typeof checkRequest>>, { ok: unknown }>['ok'],
    extra: { username?: string; error?: string; remembered: string[] },
  ) => {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(ok.query)) if (typeof v === 'string') fields[k] = v;
    fields.scope = ok.scopes.join(' ');
    fields.csrf = await formKeys.seal(formPayload(fields), FORM_LIFE_MS);
    return (
      reply
        .code(extra.error === undefined ? 200 : 400)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-frame-options', 'DENY')
        // form-action also covers where the form's answer redirects to: the client's own address.
        .header(
          'content-security-policy',
          `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(ok.query.redirect_uri).origin}; frame-ancestors 'none'`,
        )
        .send(
          consentPage({
            clientName: ok.client.clientName ?? 'An application',
            clientId: ok.client.clientId,
            redirectHost: new URL(ok.query.redirect_uri).host,
            scopes: ok.scopes,
            fields,
            rememberedScopes: extra.remembered,
            ...(extra.username === undefined ? {} : { username: extra.username }),
            ...(extra.error === undefined ? {} : { error: extra.error }),
          }),
        )
    );
  };

  // A signed-in browser keeps a session cookie (HttpOnly, SameSite=Lax, 12 h) so that a client
  // the user already allowed, for no more than it asked then, gets its code without a page.
  const session = new SignedCookie(formKeys, {
    name: 'bm_oauth_session',
    purpose: 'session',
    path: '/oauth',
    sameSite: 'Lax',
    lifeMs: SIGN_IN_LIFE_MS,
  });
  const secureCookie = () => issuer().startsWith('https://');

  const grantAndRedirect = async (
    reply: FastifyReply,
    ok: Extract<Awaited<ReturnType<typeof checkRequest>>, { ok: unknown }>['ok'],
    username: string,
  ) => {
    const code = await oauth.issueCode({
      username,
      clientId: ok.client.clientId,
      redirectUri: ok.query.redirect_uri,
      codeChallenge: ok.query.code_challenge,
      scopes: ok.scopes,
    });
    const url = new URL(ok.query.redirect_uri);
    url.searchParams.set('code', code);
    if (ok.query.state !== undefined) url.searchParams.set('state', ok.query.state);
    url.searchParams.set('iss', issuer());
    return reply.redirect(url.toString(), 302);
  };

  app.get('/oauth/authorize', async (request, reply) => {
    const checked = await checkRequest(request.query as Record<string, unknown>);
    if ('fatal' in checked)
      return reply.code(400).type('text/html; charset=utf-8').send(errorPage('Cannot sign in', checked.fatal));
    if ('redirect' in checked) return reply.redirect(checked.redirect, 302);
    const username = await session.username(request.headers.cookie);
    if (username !== undefined) {
      const remembered = await oauth.consentedScopes(username, checked.ok.client.clientId);
      if (checked.ok.scopes.every((scope) => remembered.includes(scope))) {
        request.log.info(
          { username, clientId: checked.ok.client.clientId },
          'OAuth access granted from remembered consent',
        );
        return grantAndRedirect(reply, checked.ok, username);
      }
      return showPage(reply, checked.ok, { username, remembered });
    }
    return showPage(reply, checked.ok, { remembered: [] });
  });

  app.post('/oauth/authorize', async (request, reply) => {
    const seconds = await signInRefused(deps.limiter, request.ip);
    if (seconds !== undefined) {
      return reply
        .code(429)
        .header('retry-after', String(seconds))
        .type('text/html; charset=utf-8')
        .send(
          errorPage(
            'Too many attempts',
            `Too many sign-in attempts from this address. Try again in ${seconds} seconds.`,
          ),
        );
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    const checked = await checkRequest(body);
    if ('fatal' in checked)
      return reply.code(400).type('text/html; charset=utf-8').send(errorPage('Cannot sign in', checked.fatal));
    if ('redirect' in checked) return reply.redirect(checked.redirect, 302);
    const { ok } = checked;
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(ok.query)) if (typeof v === 'string') fields[k] = v;
    fields.scope = ok.scopes.join(' ');
    const signed = typeof body.csrf === 'string' && (await formKeys.check(formPayload(fields), body.csrf));
    if (!signed) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(
          errorPage(
            'Cannot sign in',
            'This form is stale or was not made by the hub. Start again from the application.',
          ),
        );
    }
    if (body.decision === 'deny')
      return reply.redirect(ok.back('access_denied', 'the user denied access').redirect, 302);
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const allowed = username === '' || password === '' ? undefined : await oauth.checkPassword(username, password);
    if (allowed === undefined) {
      request.log.warn({ username }, 'OAuth sign-in failed');
      return showPage(reply, ok, {
        username,
        error: 'That operator name and password do not match. Try again.',
        remembered: [],
      });
    }
    const isAdmin = allowed.includes('admin');
    const beyond = ok.scopes.filter((s) => !isAdmin && !allowed.includes(s));
    if (beyond.length > 0) {
      return showPage(reply, ok, {
        username,
        error: `Your account may not grant: ${beyond.join(', ')}.`,
        remembered: [],
      });
    }
    request.log.info({ username, clientId: ok.client.clientId, scopes: ok.scopes }, 'OAuth access granted');
    reply.header('set-cookie', await session.setCookie(username, secureCookie()));
    return grantAndRedirect(reply, ok, username);
  });

  app.post('/oauth/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const str = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
    try {
      const clientId = str('client_id');
      if (clientId === undefined || (await oauth.client(clientId)) === undefined) {
        throw new OAuthError('invalid_client', 'unknown client_id');
      }
      let tokens: TokenSet;
      if (body.grant_type === 'authorization_code') {
        const [code, redirect, verifier] = [str('code'), str('redirect_uri'), str('code_verifier')];
        if (code === undefined || redirect === undefined || verifier === undefined) {
          throw new OAuthError('invalid_request', 'code, redirect_uri and code_verifier are required');
        }
        tokens = await oauth.exchangeCode({
          code,
          clientId,
          redirectUri: redirect,
          codeVerifier: verifier,
          resource: str('resource'),
        });
      } else if (body.grant_type === 'refresh_token') {
        const refreshToken = str('refresh_token');
        if (refreshToken === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
        const resource = str('resource');
        if (resource !== undefined && resource !== oauth.resource)
          throw new OAuthError('invalid_request', `resource must be ${oauth.resource}`);
        tokens = await oauth.refresh({ refreshToken, clientId });
      } else {
        throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
      }
      return reply.header('cache-control', 'no-store').send(tokens);
    } catch (err) {
      if (err instanceof OAuthError) {
        request.log.warn({ error: err.error, why: err.description }, 'OAuth token refused');
        return oauthError(reply, err);
      }
      throw err;
    }
  });

  app.post('/oauth/revoke', async (request, reply) => {
    const token = (request.body as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string') await oauth.revokeToken(token);
    return reply.code(200).header('cache-control', 'no-store').send({});
  });
};
