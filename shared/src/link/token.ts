import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { BrainmeshError } from '../errors.js';
import type { Store } from '../store/store.js';
import { type KeyRing, LINK_ALG } from './keyring.js';

/**
 * Link tokens: short JWTs that every hub-to-node (and node-to-hub) request carries. The claims
 * are fixed by the design: iss, aud, sub (the principal the call is made for), iat, exp (at most
 * 60 s after iat), jti (single use).
 */

export const MAX_LINK_TOKEN_TTL_S = 60;
/**
 * How far ahead of the receiver's clock a token may be issued (two machines' clocks differ). One
 * dated further ahead is refused: a token dated next year passes every `exp` check until then.
 */
export const LINK_CLOCK_SKEW_S = 30;

export interface LinkClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  /** On a persistent link's handshake: the nonce the receiver sent on this connection. */
  nonce?: string;
}

export async function signLinkToken(
  ring: KeyRing,
  claims: { iss: string; aud: string; sub: string; nonce?: string },
  ttlSeconds = 30,
): Promise<string> {
  const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), MAX_LINK_TOKEN_TTL_S);
  const { kid, key } = ring.signingKey();
  return new SignJWT(claims.nonce === undefined ? {} : { nonce: claims.nonce })
    .setProtectedHeader({ alg: LINK_ALG, kid, typ: 'JWT' })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(key);
}

export interface LinkVerifierOptions {
  issuer: string;
  audience: string;
  /** The peer's pinned public keys; read on every verification, so a key update applies at once. */
  keys: () => JSONWebKeySet | undefined;
  /** Where used `jti`s are remembered until their token would have expired. */
  replay: Store;
  now?: () => number;
}

/** Why a token was refused: logged by the receiver, never sent back in detail. */
export type LinkRefusal =
  | 'missing'
  | 'malformed'
  | 'bad-alg'
  | 'unknown-key'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'future-iat'
  | 'lifetime-too-long'
  | 'replayed'
  | 'wrong-nonce'
  | 'no-peer-keys'
  /** A node that proved itself, dialling a hub process it already has a link to (link-dialer.ts). */
  | 'already-linked';

export class LinkTokenError extends BrainmeshError {
  constructor(readonly reason: LinkRefusal) {
    super('UNAUTHENTICATED', `link token refused: ${reason}`, { details: { reason } });
  }
}

/**
 * Checks a link token. With `nonce`, the token must carry exactly that nonce: a persistent link's
 * handshake binds each side's token to the connection it was made for.
 */
export function createLinkVerifier(
  options: LinkVerifierOptions,
): (token: string | undefined, nonce?: string) => Promise<LinkClaims> {
  const now = options.now ?? Date.now;
  return async (token, nonce) => {
    if (token === undefined || token === '') throw new LinkTokenError('missing');
    const keys = options.keys();
    if (keys === undefined || keys.keys.length === 0) throw new LinkTokenError('no-peer-keys');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(keys), {
        algorithms: [LINK_ALG],
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(now()),
        requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'],
        clockTolerance: 5,
      }));
    } catch (err) {
      throw new LinkTokenError(refusalOf(err));
    }
    const claims = payload as unknown as LinkClaims;
    if (typeof claims.aud !== 'string') throw new LinkTokenError('wrong-audience');
    // jose checks that iat and exp are numbers, not what sub and jti are: the principal and the
    // replay key must be strings.
    if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || claims.jti === '') {
      throw new LinkTokenError('malformed');
    }
    // jose checks iat only against a maximum age, never that it is not in the future. No token
    // is older than its allowed life either: exp (checked, 5 s tolerance) is at most 60 s after
    // iat, so now - iat <= 65 s, within MAX_LINK_TOKEN_TTL_S + LINK_CLOCK_SKEW_S.
    if (claims.iat > Math.floor(now() / 1000) + LINK_CLOCK_SKEW_S) throw new LinkTokenError('future-iat');
    if (claims.exp - claims.iat > MAX_LINK_TOKEN_TTL_S) throw new LinkTokenError('lifetime-too-long');
    if (nonce !== undefined && claims.nonce !== nonce) throw new LinkTokenError('wrong-nonce');
    // A token is good once. Remember its id for as long as it could still verify.
    const remainingMs = (claims.exp + 5) * 1000 - now();
    const first = await options.replay.setIfAbsent(
      `link-jti:${claims.iss}:${claims.jti}`,
      '1',
      Math.max(1_000, remainingMs),
    );
    if (!first) throw new LinkTokenError('replayed');
    return claims;
  };
}

function refusalOf(err: unknown): LinkRefusal {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'bad-alg';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown-key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong-issuer';
    if (err.claim === 'aud') return 'wrong-audience';
    if (err.claim === 'exp') return 'expired';
    return 'malformed';
  }
  return 'malformed';
}
