/** What the OAuth tests do over and over: PKCE pairs, the consent form's fields, signing in on it. */
import { createHash, randomBytes } from 'node:crypto';

export const TEST_PASSWORD = 'correct horse battery staple';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The hidden fields of the consent page's form: the authorization request and its signature. */
export function consentFields(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>'),
    ]),
  );
}

/** Posts the consent form as the browser would (same origin), without following the redirect. */
export function submitConsent(hubUrl: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${hubUrl}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hubUrl },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}
