import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FormKeys } from '../oauth/form-keys.js';
import type { OAuthService } from '../oauth/service.js';
import { SignedCookie } from '../oauth/signed-cookie.js';
import type { Principal } from '../routes/auth.js';

/**
 * The header each request of the dashboard's script carries: the secret its sign-in returned,
 * kept in the page's localStorage (its origin's alone, port included).
 */
export const UI_HEADER = 'x-brainmesh-ui';

/** How long a dashboard sign-in lasts. */
export const UI_SIGN_IN_LIFE_MS = 8 * 3_600_000;

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/**
 * An operator signed in to the dashboard, proved by two halves that only the hub's own page holds
 * together: a sealed cookie (HttpOnly, SameSite=Strict) naming the account and the digest of a
 * secret, and the secret itself in a header. The cookie alone is not enough: browsers send it to
 * every port of the host (a node, a mounted server, any local dev server), and another site's page
 * can make the browser send it but cannot read the secret or set the header. The account's scopes
 * are read again on every request, and every 15 s on the live tail.
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

  /** The Set-Cookie header, and the secret the page keeps and sends with every request. */
  async signIn(username: string): Promise<{ setCookie: string; secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    return { setCookie: await this.cookie.setCookie(`${username}\n${digest(secret)}`, this.secure()), secret };
  }

  signOut(): string {
    return this.cookie.clearCookie(this.secure());
  }

  /** The signed-in operator of a dashboard request (its header's secret, a sealed cookie, an account). */
  principal(request: { headers: Record<string, string | string[] | undefined> }): Promise<Principal | undefined> {
    const secret = request.headers[UI_HEADER];
    return this.check(request.headers.cookie as string | undefined, typeof secret === 'string' ? secret : undefined);
  }

  /** The same from its parts: the live tail's WebSocket sends its secret as its first message. */
  async check(cookieHeader: string | undefined, secret: string | undefined): Promise<Principal | undefined> {
    if (secret === undefined || !SECRET.test(secret)) return undefined;
    const sealed = await this.cookie.username(cookieHeader);
    const newline = sealed?.lastIndexOf('\n') ?? -1;
    if (sealed === undefined || newline < 1) return undefined;
    const expected = Buffer.from(sealed.slice(newline + 1));
    const given = Buffer.from(digest(secret));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const username = sealed.slice(0, newline);
    const scopes = await this.accounts.accountScopes(username);
    if (scopes === undefined) return undefined;
    return { principal: `user:${username}`, name: `${username} (dashboard)`, scopes };
  }
}
