import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { base64url, SignJWT } from 'jose';
import {
  createLinkVerifier,
  createMemoryStore,
  KeyRing,
  type LinkRefusal,
  LinkTokenError,
  signLinkToken,
} from '../src/index.js';
import { tempDir } from '../testing/index.js';

const claims = { iss: 'hub', aud: 'medtainer', sub: 'operator' };

async function setup() {
  const hub = await KeyRing.ephemeral();
  const store = createMemoryStore();
  const verify = createLinkVerifier({ issuer: 'hub', audience: 'medtainer', keys: () => hub.jwks(), replay: store });
  return { hub, store, verify };
}

async function refusal(promise: Promise<unknown>): Promise<LinkRefusal> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof LinkTokenError) return err.reason;
    throw err;
  }
  assert.fail('the token was accepted');
}

describe('link tokens', () => {
  it('carry iss, aud, sub, jti, iat and a short exp', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    const got = await verify(await signLinkToken(hub, claims));
    assert.equal(got.iss, 'hub');
    assert.equal(got.aud, 'medtainer');
    assert.equal(got.sub, 'operator');
    assert.match(got.jti, /^[0-9a-f-]{36}$/);
    assert.ok(got.exp - got.iat <= 60);
  });

  it('are refused without a token, for another node, or from another issuer', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    assert.equal(await refusal(verify(undefined)), 'missing');
    assert.equal(await refusal(verify(await signLinkToken(hub, { ...claims, aud: 'spectrum' }))), 'wrong-audience');
    assert.equal(await refusal(verify(await signLinkToken(hub, { ...claims, iss: 'evil-hub' }))), 'wrong-issuer');
    assert.equal(await refusal(verify('not.a.jwt')), 'malformed');
  });

  it('are refused once expired', async (t) => {
    const hub = await KeyRing.ephemeral();
    const store = createMemoryStore();
    t.after(() => store.close());
    let now = Date.now();
    const verify = createLinkVerifier({
      issuer: 'hub',
      audience: 'medtainer',
      keys: () => hub.jwks(),
      replay: store,
      now: () => now,
    });
    const token = await signLinkToken(hub, claims, 10);
    now += 16_000; // 10 s lifetime + 5 s tolerance, and then some
    assert.equal(await refusal(verify(token)), 'expired');
  });

  it('are refused when signed by a key the receiver does not know', async (t) => {
    const { store, verify } = await setup();
    t.after(() => store.close());
    const stranger = await KeyRing.ephemeral();
    assert.equal(await refusal(verify(await signLinkToken(stranger, claims))), 'unknown-key');
  });

  it('are refused with alg none, or with a forged signature under a known kid', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    const now = Math.floor(Date.now() / 1000);
    const body = base64url.encode(JSON.stringify({ ...claims, jti: 'x', iat: now, exp: now + 30 }));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${body}.`;
    assert.equal(await refusal(verify(none)), 'bad-alg');

    const stranger = await KeyRing.ephemeral();
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: hub.activeKid })
      .setIssuer('hub')
      .setAudience('medtainer')
      .setSubject('operator')
      .setJti('forged')
      .setIssuedAt()
      .setExpirationTime('30s')
      .sign(stranger.signingKey().key);
    assert.equal(await refusal(verify(forged)), 'bad-signature');
  });

  it('are refused when their lifetime is longer than 60 s', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    const long = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: hub.activeKid })
      .setIssuer('hub')
      .setAudience('medtainer')
      .setSubject('operator')
      .setJti('long')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(hub.signingKey().key);
    assert.equal(await refusal(verify(long)), 'lifetime-too-long');
  });

  it('work once: a replayed jti is refused', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    const token = await signLinkToken(hub, claims);
    await verify(token);
    assert.equal(await refusal(verify(token)), 'replayed');
  });
});

describe('key ring', () => {
  it('is created once, owner-only, and the same keys come back on reopen', async (t) => {
    const home = tempDir('keys');
    t.after(home.remove);
    const first = await KeyRing.open(home.dir);
    assert.equal(statSync(path.join(home.dir, 'keys.json')).mode & 0o777, 0o600);
    const again = await KeyRing.open(home.dir);
    assert.equal(again.activeKid, first.activeKid);
    assert.deepEqual(again.jwks(), first.jwks());
    assert.equal(JSON.stringify(first.jwks()).includes('"d"'), false, 'no private part in the JWKS');
  });

  it('rotates without downtime: the old kid verifies until it is retired', async (t) => {
    const home = tempDir('keys');
    t.after(home.remove);
    const store = createMemoryStore();
    t.after(() => store.close());
    const hub = await KeyRing.open(home.dir);
    const verify = createLinkVerifier({ issuer: 'hub', audience: 'medtainer', keys: () => hub.jwks(), replay: store });
    const oldKid = hub.activeKid;
    const [beforeRotation, beforeRetirement] = [await signLinkToken(hub, claims), await signLinkToken(hub, claims)];
    const newKid = await hub.rotate();
    assert.notEqual(newKid, oldKid);
    assert.deepEqual(
      hub.jwks().keys.map((k) => k.kid),
      [oldKid, newKid],
    );
    await verify(beforeRotation);
    const fresh = await verify(await signLinkToken(hub, claims));
    assert.equal(fresh.sub, 'operator');
    assert.equal((await KeyRing.open(home.dir)).activeKid, newKid, 'the rotation is on disk');

    hub.retire(oldKid);
    assert.equal(await refusal(verify(beforeRetirement)), 'unknown-key');
    assert.throws(() => hub.retire(newKid), /is the active key/);
  });
});
