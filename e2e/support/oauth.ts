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

/** Registers a public client (RFC 7591) with one redirect URI; resolves with its client_id. */
export async function registerClient(hubUrl: string, redirectUri: string, name = 'Test Desktop'): Promise<string> {
  const res = await fetch(`${hubUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [redirectUri] }),
  });
  if (res.status !== 201) throw new Error(`client registration: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** The authorization request a client sends the browser to. */
export function authorizeUrl(
  hubUrl: string,
  params: { clientId: string; redirectUri: string; challenge: string } & Record<string, string>,
): URL {
  const { clientId, redirectUri, challenge, ...extra } = params;
  const url = new URL('/oauth/authorize', hubUrl);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  })) {
    url.searchParams.set(k, v);
  }
  return url;
}
