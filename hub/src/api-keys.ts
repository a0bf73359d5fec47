import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db, Logger } from '@brainmesh/shared';

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

export class ApiKeys {
  constructor(private readonly db: Db) {}

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
    return rowCount > 0;
  }

  /** The principal behind a key, or undefined for an unknown, wrong, revoked or expired one. */
  async verify(key: string): Promise<ApiKeyPrincipal | undefined> {
    const match = KEY.exec(key);
    if (match === null) return undefined;
    const { rows } = await this.db.query<{ id: string; name: string; key_hash: string; scopes: string[] }>(
      `SELECT id, name, key_hash, scopes FROM api_keys
       WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [match[1]],
    );
    const row = rows[0];
    if (row === undefined || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), digest(key))) return undefined;
    // Recorded at most once a minute per key, so a busy key does not write on every request.
    void this.db
      .query(
        `UPDATE api_keys SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [row.id],
      )
      .catch(() => {});
    return { principal: `key:${row.id}`, id: row.id, name: row.name, scopes: row.scopes };
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
