import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BrainmeshError, type Db, type Queryable, type Store } from '@brainmesh/shared';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';

/**
 * The registry of nodes, in Postgres: enrolment, the node's URL and pinned keys, its status.
 * Every change is announced on the store's `registry` channel, so every hub replica (and this
 * one's mesh) reloads the node at once.
 */

export const nodeIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'lowercase letters, digits and dashes, at most 63, starting with a letter or digit',
  );

export const jwksSchema = z.object({
  keys: z
    .array(
      z
        .object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1), kid: z.string().min(1) })
        .passthrough()
        .refine((k) => !('d' in k), 'a public key set must not carry private keys'),
    )
    .min(1)
    .max(10),
});

export interface NodeRecord {
  id: string;
  url: string | null;
  jwks: JSONWebKeySet;
  status: 'enabled' | 'disabled';
  enrolledAt: Date;
  updatedAt: Date;
}

interface NodeRow {
  id: string;
  url: string | null;
  jwks: JSONWebKeySet;
  status: 'enabled' | 'disabled';
  enrolled_at: Date;
  updated_at: Date;
}

const toRecord = (r: NodeRow): NodeRecord => ({
  id: r.id,
  url: r.url,
  jwks: r.jwks,
  status: r.status,
  enrolledAt: r.enrolled_at,
  updatedAt: r.updated_at,
});

export const REGISTRY_CHANNEL = 'registry';

export type RegistryEvent = { kind: 'upserted' | 'removed'; nodeId: string };

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export class Registry extends EventEmitter<{ change: [RegistryEvent] }> {
  constructor(
    private readonly db: Db,
    private readonly store: Store,
  ) {
    super();
  }

  /** Listens for changes made by any replica; resolves when listening. */
  async watch(): Promise<() => Promise<void>> {
    return this.store.subscribe(REGISTRY_CHANNEL, (message) => {
      const parsed = z
        .object({ kind: z.enum(['upserted', 'removed']), nodeId: z.string() })
        .safeParse(JSON.parse(message));
      if (parsed.success) this.emit('change', parsed.data);
    });
  }

  private async announce(event: RegistryEvent): Promise<void> {
    await this.store.publish(REGISTRY_CHANNEL, JSON.stringify(event));
  }

  async createEnrolmentToken(
    nodeId: string,
    createdBy: string,
    ttlMs: number,
  ): Promise<{ token: string; expiresAt: Date }> {
    nodeIdSchema.parse(nodeId);
    const token = `bme_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + ttlMs);
    await this.db.query(
      'INSERT INTO enrolment_tokens (token_hash, node_id, created_by, expires_at) VALUES ($1, $2, $3, $4)',
      [hash(token), nodeId, createdBy, expiresAt],
    );
    return { token, expiresAt };
  }

  /**
   * Redeems an enrolment token: once, before it expires, for the node it was made for. The
   * token is spent and the node stored in one transaction, so two racing redemptions cannot both
   * succeed.
   */
  async enrol(input: { token: string; nodeId: string; url: string | null; jwks: JSONWebKeySet }): Promise<NodeRecord> {
    const record = await this.db.transaction(async (tx) => {
      const spent = await tx.query<{ node_id: string }>(
        `UPDATE enrolment_tokens SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING node_id`,
        [hash(input.token)],
      );
      const row = spent.rows[0];
      if (row === undefined) throw new BrainmeshError('UNAUTHENTICATED', 'enrolment token is unknown, used or expired');
      if (row.node_id !== input.nodeId) {
        throw new BrainmeshError('FORBIDDEN', `this enrolment token is for node ${row.node_id}, not ${input.nodeId}`);
      }
      const { rows } = await tx.query<NodeRow>(
        `INSERT INTO nodes (id, url, jwks) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, jwks = EXCLUDED.jwks, status = 'enabled', updated_at = now()
         RETURNING *`,
        [input.nodeId, input.url, JSON.stringify(input.jwks)],
      );
      await rememberKeys(tx, input.nodeId, input.jwks);
      return toRecord(rows[0]!);
    });
    await this.announce({ kind: 'upserted', nodeId: record.id });
    return record;
  }

  async list(): Promise<NodeRecord[]> {
    const { rows } = await this.db.query<NodeRow>('SELECT * FROM nodes ORDER BY id');
    return rows.map(toRecord);
  }

  async get(nodeId: string): Promise<NodeRecord | undefined> {
    const { rows } = await this.db.query<NodeRow>('SELECT * FROM nodes WHERE id = $1', [nodeId]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async require(nodeId: string): Promise<NodeRecord> {
    const node = await this.get(nodeId);
    if (node === undefined) throw new BrainmeshError('NOT_FOUND', `no node named ${nodeId}`);
    return node;
  }

  /** A node tells the hub where it listens now (and its current public keys). */
  async updateLink(nodeId: string, url: string | null, jwks: JSONWebKeySet): Promise<void> {
    const { rowCount } = await this.db.query('UPDATE nodes SET url = $2, jwks = $3, updated_at = now() WHERE id = $1', [
      nodeId,
      url,
      JSON.stringify(jwks),
    ]);
    if (rowCount === 0) throw new BrainmeshError('NOT_FOUND', `no node named ${nodeId}`);
    await rememberKeys(this.db, nodeId, jwks);
    await this.announce({ kind: 'upserted', nodeId });
  }

  async setStatus(nodeId: string, status: 'enabled' | 'disabled'): Promise<NodeRecord> {
    const { rows } = await this.db.query<NodeRow>(
      'UPDATE nodes SET status = $2, updated_at = now() WHERE id = $1 RETURNING *',
      [nodeId, status],
    );
    if (rows[0] === undefined) throw new BrainmeshError('NOT_FOUND', `no node named ${nodeId}`);
    await this.announce({ kind: 'upserted', nodeId });
    return toRecord(rows[0]);
  }

  async remove(nodeId: string): Promise<void> {
    const { rowCount } = await this.db.query('DELETE FROM nodes WHERE id = $1', [nodeId]);
    if (rowCount === 0) throw new BrainmeshError('NOT_FOUND', `no node named ${nodeId}`);
    await this.announce({ kind: 'removed', nodeId });
  }
}

/**
 * Every public key a node has shown is kept, so the batches it signed before a rotation can be
 * checked later (`brainmesh audit verify`).
 */
async function rememberKeys(db: Queryable, nodeId: string, jwks: JSONWebKeySet): Promise<void> {
  for (const key of jwks.keys) {
    await db.query(
      'INSERT INTO node_key_history (node_id, kid, jwk) VALUES ($1, $2, $3) ON CONFLICT (node_id, kid) DO NOTHING',
      [nodeId, key.kid, JSON.stringify(key)],
    );
  }
}
