import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realServers } from '@brainmesh/shared/testing';
import { admin, type HubProcess, openHomeDb, realStorage, startHub } from '../support/mesh.js';
import { authorizeUrl, consentFields, pkce, registerClient, submitConsent, TEST_PASSWORD } from '../support/oauth.js';

/**
 * The consent form and the sign-in cookie are signed with keys the hubs keep in their database:
 * a hub restarted in the middle of a sign-in, or another replica behind the same address, takes
 * what the first one handed the browser.
 */

const REDIRECT = 'http://127.0.0.1:53682/callback';

/** Shows the consent page; resolves with its hidden fields. */
async function consentForm(hub: { url: string }, clientId: string, challenge: string): Promise<Record<string, string>> {
  const page = await fetch(
    authorizeUrl(hub.url, { clientId, redirectUri: REDIRECT, challenge, scope: 'read:*', state: 's1' }),
  );
  assert.equal(page.status, 200);
  return consentFields(await page.text());
}

/** Posts the form as the user allowing; asserts the answer is a code for the client. */
async function allow(hub: { url: string }, fields: Record<string, string>): Promise<{ code: string; cookie: string }> {
  const res = await submitConsent(hub.url, { ...fields, username: 'ana', password: TEST_PASSWORD, decision: 'allow' });
  assert.equal(res.status, 302, res.status === 400 ? await res.text() : undefined);
  const back = new URL(res.headers.get('location')!);
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  assert.equal(back.searchParams.get('state'), 's1');
  const code = back.searchParams.get('code');
  assert.ok(code);
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie);
  return { code, cookie };
}

/** Exchanges a code for tokens at `hub`. */
async function exchange(hub: { url: string }, clientId: string, code: string, verifier: string): Promise<number> {
  const res = await fetch(`${hub.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }).toString(),
  });
  await res.body?.cancel();
  return res.status;
}

/** With a sign-in cookie and consent remembered, a browser gets the next code without a page. */
async function signedIn(hub: { url: string }, clientId: string, cookie: string): Promise<boolean> {
  const res = await fetch(
    authorizeUrl(hub.url, {
      clientId,
      redirectUri: REDIRECT,
      challenge: pkce().challenge,
      scope: 'read:*',
      state: 's1',
    }),
    { headers: { cookie }, redirect: 'manual' },
  );
  await res.body?.cancel();
  return res.status === 302 && new URL(res.headers.get('location')!).searchParams.has('code');
}

async function prepare(hub: HubProcess): Promise<string> {
  assert.equal((await admin(hub, 'POST', '/admin/users', { username: 'ana', password: TEST_PASSWORD })).status, 201);
  return registerClient(hub.url, REDIRECT);
}

describe('OAuth sign-in across hub restarts and replicas', { timeout: 180_000 }, () => {
  it('a consent form shown before a hub crash posts after it, and the sign-in cookie still signs in', async (t) => {
    const first = await startHub(t);
    const clientId = await prepare(first);
    const earlier = await allow(first, await consentForm(first, clientId, pkce().challenge));
    const { verifier, challenge } = pkce();
    const fields = await consentForm(first, clientId, challenge);

    const hub = await first.restart('SIGKILL');
    assert.equal(hub.url, first.url);
    const { code } = await allow(hub, fields);
    assert.equal(await exchange(hub, clientId, code, verifier), 200);
    assert.equal(await signedIn(hub, clientId, earlier.cookie), true, 'the cookie from before the crash');

    // The keys are in the database, and in no log line of either process.
    await hub.proc.stop();
    const db = await openHomeDb(hub.home, 'hub-db');
    t.after(() => db.close());
    const { rows } = await db.query<{ secret: string }>('SELECT secret FROM oauth_form_keys');
    assert.ok(rows.length > 0);
    const logs = [...first.proc.stdout, ...first.proc.stderr, ...hub.proc.stdout, ...hub.proc.stderr].join('\n');
    for (const { secret } of rows) assert.equal(logs.includes(secret), false, 'a form key in the log');
  });

  // Replicas need a server both can reach; without DATABASE_URL and REDIS_URL (a laptop run) the
  // test is not registered, as with the other real-storage tests, and CI always has them.
  const { databaseUrl, redisUrl } = realServers();
  if (databaseUrl !== undefined && redisUrl !== undefined) {
    it('two hubs on one Postgres: a form shown by one posts to the other, and one’s cookie signs in at the other', async (t) => {
      const real = await realStorage(t, { databaseUrl: databaseUrl!, redisUrl: redisUrl! });
      const a = await startHub(t, { real });
      // A replica: the same storage and home (its key ring and operator key), its own process and port.
      const b = await startHub(t, { real, home: a.home });
      assert.notEqual(a.url, b.url);
      const clientId = await prepare(a);

      // Behind one public address the browser would not know which replica it reached; here the
      // form is posted to the other one by name (and with its origin).
      const one = pkce();
      const fromA = await allow(b, await consentForm(a, clientId, one.challenge));
      assert.equal(await exchange(b, clientId, fromA.code, one.verifier), 200);
      const two = pkce();
      const fromB = await allow(a, await consentForm(b, clientId, two.challenge));
      assert.equal(await exchange(a, clientId, fromB.code, two.verifier), 200);

      assert.equal(await signedIn(a, clientId, fromA.cookie), true, 'b’s cookie at a');
      assert.equal(await signedIn(b, clientId, fromB.cookie), true, 'a’s cookie at b');
    });
  }
});
