import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '@brainmesh/shared/testing';
import { admin, startHub } from '../support/mesh.js';
import { consentFields, submitConsent, TEST_PASSWORD } from '../support/oauth.js';

const run = promisify(execFile);
const PASSWORD = TEST_PASSWORD;

/** A self-signed certificate for 127.0.0.1, trusted by the hub through NODE_EXTRA_CA_CERTS. */
async function loopbackCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

describe('OAuth clients that name themselves by a metadata document', { timeout: 120_000 }, () => {
  it('are accepted when the document names its own URL, and refused when it does not', async (t) => {
    const dir = tempDir('cimd');
    t.after(dir.remove);
    const { cert, key } = await loopbackCertificate(dir.dir);
    const documents = new Map<string, object>();
    const site = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      const body = documents.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? {}));
    }).listen(0, '127.0.0.1');
    await once(site, 'listening');
    t.after(() => site.close());
    const base = `https://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const redirect = 'http://127.0.0.1:53683/callback';
    documents.set('/client.json', {
      client_id: `${base}/client.json`,
      client_name: 'Metadata Desktop',
      redirect_uris: [redirect],
    });
    documents.set('/imposter.json', {
      client_id: `${base}/client.json`,
      client_name: 'Imposter',
      redirect_uris: [redirect],
    });

    const hub = await startHub(t, { env: { NODE_EXTRA_CA_CERTS: cert } });
    assert.equal((await admin(hub, 'POST', '/admin/users', { username: 'ana', password: PASSWORD })).status, 201);
    const metadata = (await (await fetch(`${hub.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata.client_id_metadata_document_supported, true);

    const verifier = randomBytes(32).toString('base64url');
    const authorize = (clientId: string) => {
      const url = new URL('/oauth/authorize', hub.url);
      for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirect,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        scope: 'read:*',
      })) {
        url.searchParams.set(k, v);
      }
      return fetch(url, { redirect: 'manual' });
    };

    const page = await authorize(`${base}/client.json`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Allow Metadata Desktop to use brainmesh\?/);
    const hidden = consentFields(html);
    const allowed = await submitConsent(hub.url, { ...hidden, username: 'ana', password: PASSWORD, decision: 'allow' });
    const code = new URL(allowed.headers.get('location')!).searchParams.get('code')!;
    const tokens = await fetch(`${hub.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: `${base}/client.json`,
        code,
        redirect_uri: redirect,
        code_verifier: verifier,
      }).toString(),
    });
    assert.equal(tokens.status, 200, await tokens.clone().text());

    // A document served at one URL that claims to be another client is not that client.
    const imposter = await authorize(`${base}/imposter.json`);
    assert.equal(imposter.status, 400);
    assert.match(await imposter.text(), /This application is not registered with the hub\./);
    const missing = await authorize(`${base}/nowhere.json`);
    assert.equal(missing.status, 400);
  });
});
