import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db, Logger, Store } from '@brainmesh/shared';

/**
 * API keys: `bm_<id>_<secret>`. The id is public and finds the row; only a SHA-256 of the whole
 * key is stored, compared in constant time. A key is shown once, when it is made.
 */

export interface ApiKeyPrincipal {
  /** Stable and unique: `key:<id>`. It is the link token's `sub` and the audit's principal. */
  principal: string;
  id: string;
  name: string;
  scopes: string[];
}

interface KeyRow {
  id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** What an operator may see of a key: never the key, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: 'active' | 'expired' | 'revoked';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const KEY = /^bm_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

const digest = (key: string) => createHash('sha256').update(key).digest();

/** How long a verified key is taken on trust before the database is asked again. */
const CACHE_MS = 30_000;
/** `last_used_at` is written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;
/** Where every hub replica hears of a revoked key, and forgets it at once. */
const REVOKED_CHANNEL = 'api-keys:revoked';

interface Cached {
  hash: Buffer;
  principal: ApiKeyPrincipal;
  /** Until when it is taken without asking the database. */
  until: number;
  /** The key's own expiry, if it has one. */
  expiresAt: number | undefined;
}

/**
 * API keys: made once (the key shown once, its SHA-256 kept), verified on every request. A key
 * verified is cached for 30 s, so the request path reads no storage; revoking one forgets it here
 * at once and tells every other hub through the store's pub/sub, so a revoked key fails on its
 * very next request on this hub, and within a message's delay on the others. `last_used_at` is
 * written at most once a minute per key, in the background.
 */
export class ApiKeys {
  private readonly cache = new Map<string, Cached>();
  private readonly lastUsedWritten = new Map<string, number>();
  /** Bumped by every revocation: a lookup that began before one does not fill the cache. */
  private revocations = 0;

  constructor(
    private readonly db: Db,
    private readonly store?: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Listens for revocations from other hubs; resolves once it hears them. */
  async start(): Promise<() => Promise<void>> {
    if (this.store === undefined) return async () => {};
    return this.store.subscribe(REVOKED_CHANNEL, (id) => this.forget(id));
  }

  async create(input: { name: string; scopes: string[]; expiresAt?: Date }): Promise<{ id: string; key: string }> {
    const id = randomBytes(16)
      .toString('base64url')
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()
      .slice(0, 10)
      .padEnd(10, '0');
    const key = `bm_${id}_${randomBytes(32).toString('base64url')}`;
    await this.db.query('INSERT INTO api_keys (id, name, key_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      input.name,
      digest(key).toString('hex'),
      JSON.stringify(input.scopes),
      input.expiresAt ?? null,
    ]);
    return { id, key };
  }

  async list(): Promise<ApiKeyView[]> {
    const { rows } = await this.db.query<KeyRow>(
      'SELECT id, name, scopes, created_at, expires_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at, id',
    );
    const now = Date.now();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      prefix: `bm_${r.id}_`,
      scopes: r.scopes,
      status:
        r.revoked_at !== null
          ? 'revoked'
          : r.expires_at !== null && r.expires_at.getTime() <= now
            ? 'expired'
            : 'active',
      createdAt: r.created_at.toISOString(),
      expiresAt: r.expires_at?.toISOString() ?? null,
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
      revokedAt: r.revoked_at?.toISOString() ?? null,
    }));
  }

  /** Revokes a key; the next request that presents it is refused. False if there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1',
      [id],
    );
    this.forget(id);
    await this.store?.publish(REVOKED_CHANNEL, id);
    return rowCount > 0;
  }

  /** The principal behind a key, or undefined for an unknown, wrong, revoked or expired one. */
  async verify(key: string): Promise<ApiKeyPrincipal | undefined> {
    const match = KEY.exec(key);
    if (match === null) return undefined;
    const id = match[1]!;
    const now = this.now();
    let entry = this.cache.get(id);
    if (entry === undefined || entry.until <= now) {
      this.cache.delete(id);
      const revocations = this.revocations;
      const { rows } = await this.db.query<{
        id: string;
        name: string;
        key_hash: string;
        scopes: string[];
        expires_at: Date | null;
      }>(
        `SELECT id, name, key_hash, scopes, expires_at FROM api_keys
         WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [id],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      entry = {
        hash: Buffer.from(row.key_hash, 'hex'),
        principal: { principal: `key:${row.id}`, id: row.id, name: row.name, scopes: row.scopes },
        until: now + CACHE_MS,
        expiresAt: row.expires_at?.getTime(),
      };
      if (revocations === this.revocations) this.cache.set(id, entry);
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) return undefined;
    // Compared every time, cached or not: the cache holds the digest, never trusts the id alone.
    if (!timingSafeEqual(entry.hash, digest(key))) return undefined;
    this.touch(id, now);
    return entry.principal;
  }

  private forget(id: string): void {
    this.revocations += 1;
    this.cache.delete(id);
  }

  private touch(id: string, now: number): void {
    if (now - (this.lastUsedWritten.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(id, now);
    void this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]).catch(() => {});
  }

  /**
   * On a hub's first start there is no key at all: one operator key with the admin scope is
   * made and written to `<home>/operator-key`, readable by the owner only, never logged.
   */
  async ensureOperatorKey(home: string, logger: Logger): Promise<void> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    if ((rows[0]?.n ?? 0) > 0) return;
    const { id, key } = await this.create({ name: 'operator', scopes: ['admin'] });
    const file = path.join(home, 'operator-key');
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    logger.info({ keyId: id, file }, 'operator API key created');
  }
}

/** The key in `Authorization: Bearer …` or `X-API-Key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : undefined;
}
