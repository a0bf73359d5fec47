import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BrainmeshError, type Db, type KeyRing, LINK_ALG } from '@brainmesh/shared';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { hashPassword, verifyPassword } from './passwords.js';

/**
 * The hub as an OAuth 2.1 authorization server for its own MCP endpoint: public clients
 * registered dynamically, authorization code with PKCE (S256 only), the `resource` bound into
 * every token, refresh tokens that rotate, and a grant behind every token so that revoking it, or
 * replaying a code or a refresh token, ends them all. Access tokens are short JWTs signed with
 * the hub's own key ring; each request still checks that their grant stands.
 */

export const ACCESS_TOKEN_TTL_S = 15 * 60;
const CODE_TTL_MS = 60_000;
const REFRESH_TTL_MS = 30 * 86_400_000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const secret = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** An OAuth error as the spec names it (RFC 6749 §5.2), with words a person can act on. */
export class OAuthError extends Error {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_scope'
      | 'access_denied'
      | 'invalid_client_metadata'
      | 'invalid_redirect_uri',
    readonly description: string,
  ) {
    super(description);
  }
}

export interface Client {
  clientId: string;
  clientName: string | null;
  redirectUris: string[];
}

export interface TokenSet {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface OAuthPrincipal {
  principal: string;
  username: string;
  clientId: string;
  scopes: string[];
}

export class OAuthService {
  constructor(
    private readonly db: Db,
    private readonly ring: KeyRing,
    /** The hub's public URL: the issuer, and `<issuer>/mcp` is the one resource tokens are for. */
    private readonly issuer: () => string,
  ) {}

  get resource(): string {
    return `${this.issuer()}/mcp`;
  }

  async createAccount(username: string, password: string, scopes: string[]): Promise<void> {
    const { rowCount } = await this.db.query(
      `INSERT INTO operator_accounts (username, password_hash, scopes) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING`,
      [username, await hashPassword(password), JSON.stringify(scopes)],
    );
    if (rowCount === 0) throw new BrainmeshError('CONFLICT', `an account named ${username} exists already`);
  }

  /** The account's scopes when the password is right; undefined otherwise (same time either way). */
  async checkPassword(username: string, password: string): Promise<string[] | undefined> {
    const { rows } = await this.db.query<{ password_hash: string; scopes: string[] }>(
      'SELECT password_hash, scopes FROM operator_accounts WHERE username = $1',
      [username],
    );
    // An unknown name still costs one hash, so timing does not tell names apart.
    const stored = rows[0]?.password_hash ?? (await hashPassword(randomUUID()));
    const ok = await verifyPassword(password, stored);
    return ok && rows[0] !== undefined ? rows[0].scopes : undefined;
  }

  /** An account's scopes, or undefined when there is no such account (any more). */
  async accountScopes(username: string): Promise<string[] | undefined> {
    const { rows } = await this.db.query<{ scopes: string[] }>(
      'SELECT scopes FROM operator_accounts WHERE username = $1',
      [username],
    );
    return rows[0]?.scopes;
  }

  async registerClient(input: { clientName?: string | undefined; redirectUris: string[] }): Promise<Client> {
    const clientId = `bmc_${randomBytes(16).toString('base64url')}`;
    await this.db.query('INSERT INTO oauth_clients (client_id, client_name, redirect_uris) VALUES ($1, $2, $3)', [
      clientId,
      input.clientName ?? null,
      JSON.stringify(input.redirectUris),
    ]);
    return { clientId, clientName: input.clientName ?? null, redirectUris: input.redirectUris };
  }

  /**
   * A registered client, or one that names itself by a URL: a client ID metadata document,
   * fetched over https (5 s, 64 KiB, no redirects), whose `client_id` must be that very URL. It is
   * kept in the clients table, refreshed at most every 5 minutes, so grants can refer to it.
   */
  async client(clientId: string): Promise<Client | undefined> {
    if (clientId.startsWith('https://')) return this.metadataClient(clientId);
    return this.registeredClient(clientId);
  }

  private readonly fetchedAt = new Map<string, number>();

  private async metadataClient(url: string): Promise<Client | undefined> {
    const fresh = (this.fetchedAt.get(url) ?? 0) > Date.now() - 5 * 60_000;
    if (fresh) return this.registeredClient(url);
    const document = await fetchClientMetadata(url);
    if (document === undefined) return undefined;
    await this.db.query(
      `INSERT INTO oauth_clients (client_id, client_name, redirect_uris) VALUES ($1, $2, $3)
       ON CONFLICT (client_id) DO UPDATE SET client_name = EXCLUDED.client_name, redirect_uris = EXCLUDED.redirect_uris`,
      [url, document.client_name ?? null, JSON.stringify(document.redirect_uris)],
    );
    if (this.fetchedAt.size > 1_000) this.fetchedAt.clear();
    this.fetchedAt.set(url, Date.now());
    return { clientId: url, clientName: document.client_name ?? null, redirectUris: document.redirect_uris };
  }

  private async registeredClient(clientId: string): Promise<Client | undefined> {
    const { rows } = await this.db.query<{ client_id: string; client_name: string | null; redirect_uris: string[] }>(
      'SELECT client_id, client_name, redirect_uris FROM oauth_clients WHERE client_id = $1',
      [clientId],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { clientId: row.client_id, clientName: row.client_name, redirectUris: row.redirect_uris };
  }

  async consentedScopes(username: string, clientId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ scopes: string[] }>(
      'SELECT scopes FROM oauth_consents WHERE username = $1 AND client_id = $2',
      [username, clientId],
    );
    return rows[0]?.scopes ?? [];
  }

  /** The user allowed the client: a grant and a one-time code (60 s) for it. */
  async issueCode(input: {
    username: string;
    clientId: string;
    redirectUri: string;
    codeChallenge: string;
    scopes: string[];
  }): Promise<string> {
    const code = secret('bmo_');
    const grantId = randomUUID();
    await this.db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO oauth_grants (id, client_id, username, scopes, resource) VALUES ($1, $2, $3, $4, $5)',
        [grantId, input.clientId, input.username, JSON.stringify(input.scopes), this.resource],
      );
      await tx.query(
        'INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [sha256(code), grantId, input.redirectUri, input.codeChallenge, new Date(Date.now() + CODE_TTL_MS)],
      );
      await tx.query(
        `INSERT INTO oauth_consents (username, client_id, scopes) VALUES ($1, $2, $3)
         ON CONFLICT (username, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, granted_at = now()`,
        [input.username, input.clientId, JSON.stringify(input.scopes)],
      );
    });
    return code;
  }

  async exchangeCode(input: {
    code: string;
    clientId: string;
    redirectUri: string;
    codeVerifier: string;
    resource?: string | undefined;
  }): Promise<TokenSet> {
    // Spent only if unspent: of two racing uses, one wins and the other is a replay.
    const { rows } = await this.db.query<{
      grant_id: string;
      redirect_uri: string;
      code_challenge: string;
      expired: boolean;
      client_id: string;
      scopes: string[];
      username: string;
    }>(
      `UPDATE oauth_codes c SET used_at = now()
       FROM oauth_grants g
       WHERE c.code_hash = $1 AND c.used_at IS NULL AND g.id = c.grant_id
       RETURNING c.grant_id, c.redirect_uri, c.code_challenge, c.expires_at <= now() AS expired,
                 g.client_id, g.scopes, g.username`,
      [sha256(input.code)],
    );
    const grant = rows[0];
    if (grant === undefined) {
      throw await this.refuseReuse('oauth_codes', 'code_hash', input.code, {
        unknown: 'unknown authorization code',
        replayed: 'this authorization code was used already; the tokens it gave are revoked',
      });
    }
    if (grant.expired) throw new OAuthError('invalid_grant', 'the authorization code expired');
    if (grant.client_id !== input.clientId)
      throw new OAuthError('invalid_grant', 'the code was issued to another client');
    if (grant.redirect_uri !== input.redirectUri)
      throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
    const challenge = createHash('sha256').update(input.codeVerifier).digest('base64url');
    if (challenge !== grant.code_challenge)
      throw new OAuthError('invalid_grant', 'the PKCE code_verifier does not match the code_challenge');
    if (input.resource !== undefined && input.resource !== this.resource) {
      throw new OAuthError('invalid_request', `resource must be ${this.resource}`);
    }
    return this.tokensFor(grant.grant_id, {
      username: grant.username,
      clientId: grant.client_id,
      scopes: grant.scopes,
    });
  }

  async refresh(input: { refreshToken: string; clientId: string }): Promise<TokenSet> {
    const { rows } = await this.db.query<{
      grant_id: string;
      expired: boolean;
      client_id: string;
      username: string;
      scopes: string[];
      revoked: boolean;
    }>(
      `UPDATE oauth_refresh_tokens r SET used_at = now()
       FROM oauth_grants g
       WHERE r.token_hash = $1 AND r.used_at IS NULL AND g.id = r.grant_id
       RETURNING r.grant_id, r.expires_at <= now() AS expired, g.client_id, g.username, g.scopes,
                 g.revoked_at IS NOT NULL AS revoked`,
      [sha256(input.refreshToken)],
    );
    const row = rows[0];
    if (row === undefined) {
      throw await this.refuseReuse('oauth_refresh_tokens', 'token_hash', input.refreshToken, {
        unknown: 'unknown refresh token',
        replayed: 'this refresh token was used already; every token of its grant is revoked',
      });
    }
    if (row.revoked) throw new OAuthError('invalid_grant', 'this grant was revoked');
    if (row.expired) throw new OAuthError('invalid_grant', 'the refresh token expired');
    if (row.client_id !== input.clientId)
      throw new OAuthError('invalid_grant', 'the refresh token belongs to another client');
    return this.tokensFor(row.grant_id, { username: row.username, clientId: row.client_id, scopes: row.scopes });
  }

  /**
   * A code or refresh token that could not be spent: unknown, or spent before. Used twice means
   * it leaked (rotation makes each good once), so the grant and everything it issued is revoked.
   */
  private async refuseReuse(
    table: 'oauth_codes' | 'oauth_refresh_tokens',
    column: 'code_hash' | 'token_hash',
    secretValue: string,
    words: { unknown: string; replayed: string },
  ): Promise<OAuthError> {
    const { rows } = await this.db.query<{ grant_id: string }>(`SELECT grant_id FROM ${table} WHERE ${column} = $1`, [
      sha256(secretValue),
    ]);
    if (rows[0] === undefined) return new OAuthError('invalid_grant', words.unknown);
    await this.revokeGrant(rows[0].grant_id);
    return new OAuthError('invalid_grant', words.replayed);
  }

  private async tokensFor(
    grantId: string,
    who: { username: string; clientId: string; scopes: string[] },
  ): Promise<TokenSet> {
    const refreshToken = secret('bmr_');
    await this.db.query('INSERT INTO oauth_refresh_tokens (token_hash, grant_id, expires_at) VALUES ($1, $2, $3)', [
      sha256(refreshToken),
      grantId,
      new Date(Date.now() + REFRESH_TTL_MS),
    ]);
    const { kid, key } = this.ring.signingKey();
    const accessToken = await new SignJWT({ scope: who.scopes.join(' '), client_id: who.clientId, gid: grantId })
      .setProtectedHeader({ alg: LINK_ALG, kid, typ: 'at+jwt' })
      .setIssuer(this.issuer())
      .setAudience(this.resource)
      .setSubject(`user:${who.username}`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_TTL_S}s`)
      .sign(key);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_S,
      refresh_token: refreshToken,
      scope: who.scopes.join(' '),
    };
  }

  async revokeGrant(grantId: string): Promise<void> {
    await this.db.query('UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [grantId]);
  }

  /** RFC 7009: revokes the grant behind a refresh or access token; unknown tokens are ignored. */
  async revokeToken(token: string): Promise<void> {
    const { rows } = await this.db.query<{ grant_id: string }>(
      'SELECT grant_id FROM oauth_refresh_tokens WHERE token_hash = $1',
      [sha256(token)],
    );
    const grantId = rows[0]?.grant_id ?? (await this.accessTokenGrant(token));
    if (grantId !== undefined) await this.revokeGrant(grantId);
  }

  private async accessTokenGrant(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.ring.jwks()), {
        issuer: this.issuer(),
        algorithms: [LINK_ALG],
      });
      return typeof payload.gid === 'string' ? payload.gid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The principal behind an access token, or undefined: wrong signature or issuer, another
   * resource's token (audience), expired, or its grant revoked.
   */
  async verifyAccessToken(token: string): Promise<OAuthPrincipal | undefined> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(this.ring.jwks()), {
        issuer: this.issuer(),
        audience: this.resource,
        algorithms: [LINK_ALG],
        typ: 'at+jwt',
      }));
    } catch {
      return undefined;
    }
    if (typeof payload.gid !== 'string' || typeof payload.sub !== 'string') return undefined;
    const { rows } = await this.db.query<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM oauth_grants WHERE id = $1',
      [payload.gid],
    );
    if (rows[0] === undefined || rows[0].revoked) return undefined;
    return {
      principal: payload.sub,
      username: payload.sub.replace(/^user:/, ''),
      clientId: String(payload.client_id),
      scopes: typeof payload.scope === 'string' && payload.scope !== '' ? payload.scope.split(' ') : [],
    };
  }
}

const metadataDocument = z.object({
  client_id: z.url(),
  client_name: z.string().max(200).optional(),
  redirect_uris: z.array(z.url()).min(1).max(10),
  token_endpoint_auth_method: z.enum(['none']).optional(),
});

async function fetchClientMetadata(url: string): Promise<z.infer<typeof metadataDocument> | undefined> {
  try {
    const res = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(5_000),
      headers: { accept: 'application/json' },
    });
    if (!res.ok || res.body === null) return undefined;
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > 64 * 1024) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
    const parsed = metadataDocument.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    // The document must name itself: anyone can serve a document, not for anyone else's URL.
    return parsed.success && parsed.data.client_id === url ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
