import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { base64url, SignJWT } from 'jose';
import {
  createLinkVerifier,
  createMemoryStore,
  isBrainmeshError,
  KeyRing,
  type LinkRefusal,
  LinkTokenError,
  signAuditBatch,
  signLinkToken,
  verifyAuditBatch,
} from '../src/index.js';
import { LINK_CLOCK_SKEW_S } from '../src/link/token.js';
import { tempDir } from '../testing/index.js';

const claims = { iss: 'hub', aud: 'medtainer', sub: 'operator' };

async function setup() {
  const hub = await KeyRing.ephemeral();
  const store = createMemoryStore();
  const verify = createLinkVerifier({ issuer: 'hub', audience: 'medtainer', keys: () => hub.jwks(), replay: store });
  return { hub, store, verify };
}

/** A verifier whose clock the test sets, and a way to sign any claims with the hub's key. */
async function clocked() {
  const hub = await KeyRing.ephemeral();
  const store = createMemoryStore();
  const clock = { now: Date.parse('2026-12-02T12:00:00Z') };
  const verify = createLinkVerifier({
    issuer: 'hub',
    audience: 'medtainer',
    keys: () => hub.jwks(),
    replay: store,
    now: () => clock.now,
  });
  let n = 0;
  const sign = (times: { iat: number; exp: number }, extra: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims, jti: `jti-${++n}`, ...times, ...extra })
      .setProtectedHeader({ alg: 'EdDSA', kid: hub.activeKid })
      .sign(hub.signingKey().key);
  const seconds = () => Math.floor(clock.now / 1000);
  return { hub, store, clock, verify, sign, seconds };
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

  it('are refused when issued further ahead of the receiver’s clock than the skew', async (t) => {
    const { store, verify, sign, seconds } = await clocked();
    t.after(() => store.close());
    const yearAhead = seconds() + 365 * 24 * 3600;
    // Signed with the right key, a 30 s life, and a date next year: good next year, not now.
    assert.equal(await refusal(verify(await sign({ iat: yearAhead, exp: yearAhead + 30 }))), 'future-iat');
    const justOver = seconds() + LINK_CLOCK_SKEW_S + 1;
    assert.equal(await refusal(verify(await sign({ iat: justOver, exp: justOver + 30 }))), 'future-iat');
    // A peer whose clock runs up to the skew ahead is still served.
    const atSkew = seconds() + LINK_CLOCK_SKEW_S;
    const ok = await verify(await sign({ iat: atSkew, exp: atSkew + 30 }));
    assert.equal(ok.iat, atSkew);
  });

  it('are good no longer than their life, never past the longest life plus the skew', async (t) => {
    const { store, clock, verify, sign, seconds } = await clocked();
    t.after(() => store.close());
    const issued = seconds();
    // Tokens of the longest life there is, each shown once the receiver's clock has moved on.
    const tokens = await Promise.all(
      [0, 30, 60, 64, 66, 90, 91, 3600].map(async (age) => ({
        age,
        token: await sign({ iat: issued, exp: issued + 60 }),
      })),
    );
    const start = clock.now;
    for (const { age, token } of tokens) {
      clock.now = start + age * 1000;
      const outcome = await verify(token).then(
        () => 'accepted',
        (err: unknown) => (err instanceof LinkTokenError ? err.reason : String(err)),
      );
      // exp + 5 s of tolerance is the last moment: never past MAX_LINK_TOKEN_TTL_S + skew.
      assert.equal(outcome, age <= 64 ? 'accepted' : 'expired', `a token ${age} s old`);
    }
  });

  it('are refused when sub or jti is not a string', async (t) => {
    const { store, verify, sign, seconds } = await clocked();
    t.after(() => store.close());
    const times = { iat: seconds(), exp: seconds() + 30 };
    assert.equal(await refusal(verify(await sign(times, { sub: { admin: true } }))), 'malformed');
    assert.equal(await refusal(verify(await sign(times, { jti: 42 }))), 'malformed');
    assert.equal(await refusal(verify(await sign(times, { jti: '' }))), 'malformed');
  });

  it('work once: a replayed jti is refused', async (t) => {
    const { hub, store, verify } = await setup();
    t.after(() => store.close());
    const token = await signLinkToken(hub, claims);
    await verify(token);
    assert.equal(await refusal(verify(token)), 'replayed');
  });
});

describe('audit batch signatures', () => {
  const statement = { iss: 'alpha', aud: 'hub', first: 1, last: 2, prev: 'p', head: 'h' };
  const datedBatch = (ring: KeyRing, iat: number) =>
    new SignJWT({ first: 1, last: 2, prev: 'p', head: 'h' })
      .setProtectedHeader({ alg: 'EdDSA', kid: ring.activeKid, typ: 'brainmesh-audit-batch+jwt' })
      .setIssuer('alpha')
      .setAudience('hub')
      .setIssuedAt(iat)
      .sign(ring.signingKey().key);

  it('are refused on arrival when dated further ahead than the skew, and old ones verify for good', async () => {
    const ring = await KeyRing.ephemeral();
    const options = { nodeId: 'alpha', hubId: 'hub', keys: ring.jwks() };
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    const ahead = await datedBatch(ring, nowS + 365 * 24 * 3600);
    await assert.rejects(verifyAuditBatch(ahead, { ...options, receivedAt: now }), (err) => {
      assert.ok(isBrainmeshError(err, 'AUDIT_BATCH_REFUSED'));
      assert.match(err.message, /dated 31536000 s ahead of the hub's clock/);
      return true;
    });
    await assert.rejects(
      verifyAuditBatch(await datedBatch(ring, nowS + LINK_CLOCK_SKEW_S + 1), { ...options, receivedAt: now }),
    );
    await verifyAuditBatch(await datedBatch(ring, nowS + LINK_CLOCK_SKEW_S), { ...options, receivedAt: now });
    // A batch signed a year ago landed then; `audit verify` checks it now, with no clock.
    const yearOld = await datedBatch(ring, nowS - 365 * 24 * 3600);
    assert.equal((await verifyAuditBatch(yearOld, options)).head, 'h');
    // And one signed as the node does, arriving now, lands.
    const fresh = await signAuditBatch(ring, statement);
    assert.equal((await verifyAuditBatch(fresh, { ...options, receivedAt: now })).last, 2);
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

  it('is one ring for processes that share its file and open it at once (hub replicas)', async (t) => {
    const shared = tempDir('keys');
    t.after(shared.remove);
    const file = path.join(shared.dir, 'secrets', 'hub-keys.json');
    const homes = [tempDir('replica'), tempDir('replica'), tempDir('replica')];
    for (const h of homes) t.after(h.remove);
    const rings = await Promise.all(homes.map((h) => KeyRing.open(h.dir, file)));
    assert.equal(new Set(rings.map((r) => r.activeKid)).size, 1, 'every replica signs with the same key');
    assert.deepEqual(readdirSync(path.dirname(file)), ['hub-keys.json'], 'no temporary file left behind');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // What one signs, a verifier pinned to another's JWKS accepts.
    const store = createMemoryStore();
    t.after(() => store.close());
    const verify = createLinkVerifier({
      issuer: 'hub',
      audience: 'medtainer',
      keys: () => rings[2]!.jwks(),
      replay: store,
    });
    assert.equal((await verify(await signLinkToken(rings[0]!, claims))).sub, 'operator');
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
