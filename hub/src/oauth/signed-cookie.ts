import type { FormKeys } from './form-keys.js';

export interface SignedCookieOptions {
  /** The cookie's name. */
  name: string;
  /** What the seal is for: a cookie sealed for one purpose is refused for another. */
  purpose: string;
  path: string;
  sameSite: 'Lax' | 'Strict';
  lifeMs: number;
}

/**
 * A browser's signed-in operator: `<username, base64url>.<kid>.<until>.<mac>`, sealed with the
 * form keys (so any replica, and a restarted hub, verifies it) and never holding a secret of its
 * own. HttpOnly always; Secure when the hub is served over https.
 */
export class SignedCookie {
  constructor(
    private readonly keys: FormKeys,
    private readonly options: SignedCookieOptions,
  ) {}

  /** The Set-Cookie header value that signs `username` in. */
  async setCookie(username: string, secure: boolean): Promise<string> {
    const { purpose, lifeMs } = this.options;
    const encoded = Buffer.from(username).toString('base64url');
    const value = `${encoded}.${await this.keys.seal(`${purpose}:${encoded}`, lifeMs)}`;
    return this.header(value, lifeMs / 1000, secure);
  }

  /** The Set-Cookie header value that signs the browser out. */
  clearCookie(secure: boolean): string {
    return this.header('', 0, secure);
  }

  /** The signed-in username the request's Cookie header carries, if its seal holds. */
  async username(cookieHeader: string | undefined): Promise<string | undefined> {
    const { name, purpose } = this.options;
    const raw = cookieHeader
      ?.split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${name}=`))
      ?.slice(name.length + 1);
    const dot = raw?.indexOf('.') ?? -1;
    if (raw === undefined || dot < 1) return undefined;
    const encoded = raw.slice(0, dot);
    const signed = await this.keys.check(`${purpose}:${encoded}`, raw.slice(dot + 1));
    return signed ? Buffer.from(encoded, 'base64url').toString() : undefined;
  }

  private header(value: string, maxAgeSeconds: number, secure: boolean): string {
    const { name, path, sameSite } = this.options;
    return `${name}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
  }
}
