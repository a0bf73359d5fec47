/**
 * Link-token attacks on every verifier of the mesh, table-driven: the node's /mcp (tokens the hub
 * signs), and the hub's /links/announce and /links/audit (tokens a node signs). Each attack is
 * refused with the same 401 as any other (nothing says why), the receiver logs why, and a fresh
 * token still works afterwards. Then the audit batch signature itself: one dated ahead of the
 * hub's clock is refused at ingest. On embedded storage, and on real Postgres and Redis (the
 * replay cache across hub replicas) when their URLs are set.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AuditEvent, auditHash, GENESIS_HASH, KeyRing, type LinkRefusal, signLinkToken } from '@brainmesh/shared';
import { realServers, type Spawned } from '@brainmesh/shared/testing';
import { base64url, type CryptoKey, exportSPKI, importJWK, type JWK, SignJWT } from 'jose';
import {
  type HubProcess,
  type NodeProcess,
  nodeUp,
  realStorage,
  startHub,
  startNode,
  suiteScope,
} from '../support/mesh.js';

interface Claims {
  iss: string;
  aud: string;
  sub: string;
}

interface Verifier {
  name: string;
  kind: 'node' | 'hub';
  /** Who signs a good token for it, with which claims. */
  ring: KeyRing;
  claims: Claims;
  /** One request with this bearer token (or none): its status and body. */
  send(token: string | undefined): Promise<{ status: number; body: unknown }>;
  /** The status when the token is accepted (the request may still be refused for its body). */
  accepted: number;
  /** What every refusal answers. */
  refusedBody: unknown;
  /** Where the refusal is logged, and as what. */
  log: { proc: () => Spawned; msg: string };
}

const seconds = () => Math.floor(Date.now() / 1000);

/** A token as a forger makes it: any claims, any header, any key. */
async function forge(
  v: Verifier,
  times: { iat: number; exp: number },
  options: { claims?: Record<string, unknown>; key?: KeyRing } = {},
): Promise<string> {
  const ring = options.key ?? v.ring;
  return new SignJWT({ ...v.claims, jti: randomUUID(), ...times, ...options.claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: ring.activeKid, typ: 'JWT' })
    .sign(ring.signingKey().key);
}

interface Attack {
  name: string;
  /** Why the receiver refuses it, as it logs it. */
  reason: (v: Verifier) => LinkRefusal | 'unknown-node';
  token: (v: Verifier) => Promise<string | undefined>;
}

const ATTACKS: Attack[] = [
  { name: 'no token at all', reason: () => 'missing', token: async () => undefined },
  {
    name: 'alg: none',
    reason: () => 'bad-alg',
    token: async (v) => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      const body = base64url.encode(
        JSON.stringify({ ...v.claims, jti: randomUUID(), iat: seconds(), exp: seconds() + 30 }),
      );
      return `${header}.${body}.`;
    },
  },
  {
    name: 'HS256 with the public key as the secret',
    reason: () => 'bad-alg',
    token: async (v) => {
      const jwk = v.ring.jwks().keys.find((k) => k.kid === v.ring.activeKid) as JWK;
      const pem = await exportSPKI((await importJWK(jwk, 'EdDSA', { extractable: true })) as CryptoKey);
      return new SignJWT({ ...v.claims, jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256', kid: v.ring.activeKid, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime('30s')
        .sign(new TextEncoder().encode(pem));
    },
  },
  {
    name: 'signed by a key the receiver does not know',
    reason: () => 'unknown-key',
    token: async (v) => signLinkToken(await KeyRing.ephemeral(), v.claims),
  },
  {
    name: 'another key’s signature under the known kid',
    reason: () => 'bad-signature',
    token: async (v) => {
      const stranger = await KeyRing.ephemeral();
      return new SignJWT({ ...v.claims, jti: randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA', kid: v.ring.activeKid, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime('30s')
        .sign(stranger.signingKey().key);
    },
  },
  {
    name: 'made for another audience',
    reason: () => 'wrong-audience',
    token: async (v) => signLinkToken(v.ring, { ...v.claims, aud: 'someone-else' }),
  },
  {
    name: 'from another issuer',
    // The hub looks the issuer up among its nodes first: one it does not know has no keys to try.
    reason: (v) => (v.kind === 'node' ? 'wrong-issuer' : 'unknown-node'),
    token: async (v) => signLinkToken(v.ring, { ...v.claims, iss: 'impostor' }),
  },
  {
    name: 'expired',
    reason: () => 'expired',
    token: async (v) => forge(v, { iat: seconds() - 120, exp: seconds() - 60 }),
  },
  {
    name: 'dated a year ahead, with a 30 s life (issue 12, item 2)',
    reason: () => 'future-iat',
    token: async (v) => forge(v, { iat: seconds() + 365 * 86_400, exp: seconds() + 365 * 86_400 + 30 }),
  },
  {
    name: 'dated just past the clock skew ahead',
    reason: () => 'future-iat',
    token: async (v) => forge(v, { iat: seconds() + 45, exp: seconds() + 75 }),
  },
  {
    name: 'a life longer than 60 s',
    reason: () => 'lifetime-too-long',
    token: async (v) => forge(v, { iat: seconds(), exp: seconds() + 3_600 }),
  },
  {
    name: 'a principal that is not a string',
    reason: () => 'malformed',
    token: async (v) => forge(v, { iat: seconds(), exp: seconds() + 30 }, { claims: { sub: { admin: true } } }),
  },
];

/** Resolves with the first line after `mark` of `proc`'s log that `match` accepts. */
async function loggedAfter(proc: Spawned, mark: number, match: (line: Record<string, unknown>) => boolean) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    for (const raw of proc.stdout.slice(mark)) {
      try {
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (match(line)) return line;
      } catch {
        // not a JSON line
      }
    }
    if (Date.now() > deadline) throw new Error('no such log line within 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const { databaseUrl, redisUrl } = realServers();
const storages = [
  { name: 'embedded storage', real: false },
  ...(databaseUrl !== undefined && redisUrl !== undefined ? [{ name: 'real Postgres and Redis', real: true }] : []),
];

for (const storage of storages) {
  describe(`link-token attacks on every verifier (${storage.name})`, { timeout: 120_000 }, () => {
    const scope = suiteScope();
    after(() => scope.dispose());
    let hub: HubProcess;
    let node: NodeProcess;
    let nodeKeys: KeyRing;
    let hubId: string;
    const verifiers: Verifier[] = [];

    before(async () => {
      const real = storage.real
        ? await realStorage(scope, { databaseUrl: databaseUrl!, redisUrl: redisUrl! })
        : undefined;
      hub = await startHub(scope, real === undefined ? {} : { real });
      node = await startNode(scope, hub, { name: 'alpha' });
      await nodeUp(hub, 'alpha');
      const link = JSON.parse(readFileSync(path.join(node.home, 'link.json'), 'utf8')) as {
        hubId: string;
        nodeId: string;
      };
      hubId = link.hubId;
      // The two processes' own key files: the test signs as the hub and as the node.
      const hubKeys = await KeyRing.open(hub.home);
      nodeKeys = await KeyRing.open(node.home);
      const post = async (
        url: string,
        token: string | undefined,
        body: unknown,
        headers: Record<string, string> = {},
      ) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...headers,
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as unknown) : text };
      };
      const nodeClaims = { iss: link.nodeId, aud: hubId, sub: link.nodeId };
      const hubRefusal = { code: 'UNAUTHENTICATED', message: 'a valid link token from an enrolled node is required' };
      verifiers.push(
        {
          name: 'the node’s /mcp',
          kind: 'node',
          ring: hubKeys,
          claims: { iss: hubId, aud: link.nodeId, sub: 'key:attacker' },
          send: (token) =>
            post(
              new URL('/mcp', node.url).href,
              token,
              {
                jsonrpc: '2.0',
                id: 1,
                method: 'initialize',
                params: {
                  protocolVersion: '2025-11-25',
                  capabilities: {},
                  clientInfo: { name: 'probe', version: '1' },
                },
              },
              { accept: 'application/json, text/event-stream' },
            ),
          accepted: 200,
          refusedBody: { code: 'UNAUTHENTICATED', message: 'a valid hub link token is required' },
          log: { proc: () => node.proc, msg: 'link token refused' },
        },
        {
          name: 'the hub’s /links/announce',
          kind: 'hub',
          ring: nodeKeys,
          claims: nodeClaims,
          // What the node itself announces: where it is and its keys, as they are.
          send: (token) =>
            post(new URL('/links/announce', hub.url).href, token, { url: node.url, jwks: nodeKeys.jwks() }),
          accepted: 204,
          refusedBody: hubRefusal,
          log: { proc: () => hub.proc, msg: 'announce refused' },
        },
        {
          name: 'the hub’s /links/audit',
          kind: 'hub',
          ring: nodeKeys,
          claims: nodeClaims,
          // No batch: past the token, the body is refused (400), which shows the token passed.
          send: (token) => post(new URL('/links/audit', hub.url).href, token, {}),
          accepted: 400,
          refusedBody: hubRefusal,
          log: { proc: () => hub.proc, msg: 'audit batch refused' },
        },
      );
    });

    // Verifiers are filled in `before`; the table of tests is made now, by name.
    const NAMES = ['the node’s /mcp', 'the hub’s /links/announce', 'the hub’s /links/audit'];
    const verifier = (name: string) => verifiers.find((v) => v.name === name)!;

    for (const name of NAMES) {
      describe(name, () => {
        it('accepts a fresh token from its peer', async () => {
          const v = verifier(name);
          assert.equal((await v.send(await signLinkToken(v.ring, v.claims))).status, v.accepted);
        });

        for (const attack of ATTACKS) {
          it(`refuses: ${attack.name}`, async () => {
            const v = verifier(name);
            const proc = v.log.proc();
            const mark = proc.stdout.length;
            const answer = await v.send(await attack.token(v));
            assert.equal(answer.status, 401, JSON.stringify(answer.body));
            assert.deepEqual(answer.body, v.refusedBody, 'every refusal answers the same');
            await loggedAfter(proc, mark, (l) => l.msg === v.log.msg && l.reason === attack.reason(v));
          });
        }

        it('refuses a replayed token: a jti is good once', async () => {
          const v = verifier(name);
          const token = await signLinkToken(v.ring, v.claims);
          assert.equal((await v.send(token)).status, v.accepted);
          const proc = v.log.proc();
          const mark = proc.stdout.length;
          const again = await v.send(token);
          assert.equal(again.status, 401);
          assert.deepEqual(again.body, v.refusedBody);
          await loggedAfter(proc, mark, (l) => l.msg === v.log.msg && l.reason === 'replayed');
        });

        it('still accepts a fresh token after every attack', async () => {
          const v = verifier(name);
          assert.equal((await v.send(await signLinkToken(v.ring, v.claims))).status, v.accepted);
        });
      });
    }

    it('refuses at ingest an audit batch signed with a date a year ahead, and only for its date', async () => {
      const fields = {
        nodeId: 'alpha',
        seq: 1,
        at: new Date().toISOString(),
        tool: 'echo',
        params: { text: 'forged' },
        response: null,
        error: null,
        durationMs: 1,
        status: 'ok' as const,
        source: 'live' as const,
        principal: 'key:forger',
        traceId: 'forged',
      };
      const events: AuditEvent[] = [{ ...fields, prevHash: GENESIS_HASH, hash: auditHash(GENESIS_HASH, fields) }];
      // The statement names another head than the events': refused for that, unless refused first.
      const statement = (iat: number) =>
        new SignJWT({ first: 1, last: 1, prev: GENESIS_HASH, head: 'f'.repeat(64) })
          .setProtectedHeader({ alg: 'EdDSA', kid: nodeKeys.activeKid, typ: 'brainmesh-audit-batch+jwt' })
          .setIssuer('alpha')
          .setAudience(hubId)
          .setIssuedAt(iat)
          .sign(nodeKeys.signingKey().key);
      const ship = async (signature: string) => {
        const token = await signLinkToken(nodeKeys, { iss: 'alpha', aud: hubId, sub: 'alpha' });
        const res = await fetch(new URL('/links/audit', hub.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ events, signature, nodeHead: 1 }),
        });
        return { status: res.status, message: ((await res.json()) as { message: string }).message };
      };
      const ahead = await ship(await statement(seconds() + 365 * 86_400));
      assert.equal(ahead.status, 422);
      assert.match(ahead.message, /^audit batch from alpha refused: it is dated \d+ s ahead of the hub's clock$/);
      const now = await ship(await statement(seconds()));
      assert.equal(now.status, 422);
      assert.match(now.message, /the signed range does not match the events sent/);
    });
  });
}
