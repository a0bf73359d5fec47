import type { FastifyRequest } from 'fastify';
import type { FormKeys } from '../oauth/form-keys.js';
import type { OAuthService } from '../oauth/service.js';
import { SignedCookie } from '../oauth/signed-cookie.js';
import type { Principal } from '../routes/auth.js';

/**
 * The header every request of the dashboard's script carries. A page of another site cannot
 * send it without the hub's leave (a CORS preflight the hub never grants), so a request with the
 * cookie and without the header is not the dashboard's: the cookie alone signs nothing in.
 */
export const UI_HEADER = 'x-brainmesh-ui';

/** How long a dashboard sign-in lasts. */
export const UI_SIGN_IN_LIFE_MS = 8 * 3_600_000;

/**
 * An operator signed in to the dashboard: a sealed cookie (SameSite=Strict, path /) naming the
 * account, whose scopes are read again on every request, so an account removed or stripped of
 * the admin scope is signed out on its next request.
 */
export class BrowserSessions {
  private readonly cookie: SignedCookie;

  constructor(
    keys: FormKeys,
    private readonly accounts: Pick<OAuthService, 'accountScopes'>,
    private readonly secure: () => boolean,
  ) {
    this.cookie = new SignedCookie(keys, {
      name: 'bm_ui_session',
      purpose: 'ui',
      path: '/',
      sameSite: 'Strict',
      lifeMs: UI_SIGN_IN_LIFE_MS,
    });
  }

  signIn(username: string): Promise<string> {
    return this.cookie.setCookie(username, this.secure());
  }

  signOut(): string {
    return this.cookie.clearCookie(this.secure());
  }

  /** The signed-in operator of a dashboard request (its header, a sealed cookie, an account). */
  async principal(request: FastifyRequest): Promise<Principal | undefined> {
    if (request.headers[UI_HEADER] !== '1') return undefined;
    return this.fromCookie(request.headers.cookie);
  }

  /** The same, for the live tail's WebSocket (which cannot carry the header: its Origin is checked). */
  async fromCookie(cookieHeader: string | undefined): Promise<Principal | undefined> {
    const username = await this.cookie.username(cookieHeader);
    if (username === undefined) return undefined;
    const scopes = await this.accounts.accountScopes(username);
    if (scopes === undefined) return undefined;
    return { principal: `user:${username}`, name: `${username} (dashboard)`, scopes };
  }
}
