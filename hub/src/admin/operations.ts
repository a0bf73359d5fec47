import { randomBytes } from 'node:crypto';
import { BrainmeshError, type Db } from '@brainmesh/shared';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { ApiKeys } from '../api-keys.js';
import { auditLag } from '../audit/query.js';
import { verifyAudit } from '../audit/verify.js';
import type { Mesh } from '../mesh/mesh.js';
import { MESH_NAMESPACE } from '../mesh/namespace.js';
import { type NodeRecord, nodeIdSchema, type Registry } from '../registry.js';
import { scopesSchema } from '../scopes.js';
import { HUB_VERSION } from '../version.js';

/**
 * What an operator can do to the mesh, once: the admin API (routes/admin.ts) and the hub's own
 * admin tools (`mesh__nodes_*`, `mesh__keys_*`, mesh/admin-tools.ts) both call these, each after
 * checking the admin scope its own way.
 */

export const enrolmentInput = z
  .object({
    node: nodeIdSchema.refine((n) => n !== MESH_NAMESPACE, `"${MESH_NAMESPACE}" is reserved for the hub's own tools`),
    ttlMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  })
  .strict();

export const keyInput = z
  .object({
    name: z.string().min(1).max(100),
    scopes: scopesSchema,
    /** When the key stops working; absent, it works until revoked. */
    expiresAt: z.iso
      .datetime({ offset: true })
      .refine((d) => Date.parse(d) > Date.now(), 'must be in the future')
      .optional(),
  })
  .strict();

export const userInput = z
  .object({
    username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, . _ and -'),
    /** Absent: the hub makes one (shown once), so no one has to invent it in a chat. */
    password: z.string().min(12, 'at least 12 characters').max(1024).optional(),
    scopes: scopesSchema.default(['admin']),
  })
  .strict();

export const keyIdSchema = z.string().regex(/^[a-z0-9]{10}$/, 'a key id is 10 lowercase letters and digits');

export interface AdminDeps {
  registry: Registry;
  mesh: Mesh;
  keys: ApiKeys;
  enrolmentTtlMs: number;
  hubId: string;
  startedAt: Date;
  storage: { database: string; store: string };
  /** How many tools the hub serves itself, for the status's total. */
  hubTools: () => number;
  db: Db;
  accounts: { createAccount(username: string, password: string, scopes: string[]): Promise<void> };
}

export class AdminOperations {
  constructor(private readonly deps: AdminDeps) {}

  view(node: NodeRecord) {
    const link = this.deps.mesh.links.get(node.id);
    return {
      id: node.id,
      url: node.url,
      status: node.status,
      link: link?.status ?? 'unknown',
      direction: link?.direction ?? null,
      enrolledAt: node.enrolledAt.toISOString(),
      lastSeen: link?.lastSeen?.toISOString() ?? null,
      downSince: link?.downSince?.toISOString() ?? null,
      circuit: link?.circuitView() ?? { state: 'closed' as const },
      latencyMs: link?.latencyMs ?? null,
      tools: link?.status === 'up' ? link.lists.tools.length : 0,
      keys: node.jwks.keys.map((k) => k.kid),
    };
  }

  async nodes() {
    return (await this.deps.registry.list()).map((n) => this.view(n));
  }

  async node(id: string) {
    return this.view(await this.deps.registry.require(id));
  }

  /** A one-time token the new node presents at its first start. */
  async enrol(input: z.output<typeof enrolmentInput>, by: string) {
    const ttl = input.ttlMinutes === undefined ? this.deps.enrolmentTtlMs : input.ttlMinutes * 60_000;
    const { token, expiresAt } = await this.deps.registry.createEnrolmentToken(input.node, by, ttl);
    return { node: input.node, token, expiresAt: expiresAt.toISOString() };
  }

  async setStatus(id: string, status: 'enabled' | 'disabled') {
    return this.view(await this.deps.registry.setStatus(id, status));
  }

  /** Circuits live in each hub process: this closes the one of the replica that is asked. */
  async resetCircuit(id: string) {
    const node = await this.deps.registry.require(id);
    this.deps.mesh.links.get(node.id)?.resetCircuit();
    return this.view(node);
  }

  async rotateKeys(id: string) {
    const node = await this.deps.registry.require(id);
    if (node.status === 'disabled') {
      throw new BrainmeshError('CONFLICT', `node ${node.id} is disabled; enable it before rotating its keys`);
    }
    const link = this.deps.mesh.links.get(node.id);
    if (link === undefined || link.status !== 'up') {
      throw new BrainmeshError('CONFLICT', `node ${node.id} is not linked to the hub now; start it first`);
    }
    const previous = node.jwks.keys.map((k) => k.kid);
    const rotation = await link.rotateKeys();
    // Pinned at once: the node signs with the new key from now on.
    await this.deps.registry.updateLink(node.id, node.url, rotation.jwks);
    return {
      node: node.id,
      active: rotation.active,
      retired: rotation.retired,
      previous,
      ...this.view(await this.deps.registry.require(node.id)),
    };
  }

  async removeNode(id: string): Promise<void> {
    await this.deps.registry.remove(id);
  }

  async status() {
    const nodes = await this.nodes();
    const count = (link: string) => nodes.filter((n) => n.link === link).length;
    const { hubId, startedAt, storage } = this.deps;
    return {
      hub: {
        id: hubId,
        version: HUB_VERSION,
        startedAt: startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        storage,
      },
      nodes: {
        total: nodes.length,
        up: count('up'),
        connecting: count('connecting'),
        down: count('down'),
        disabled: nodes.filter((n) => n.status === 'disabled').length,
        /** Of those up, the ones whose circuit is not closed: linked, yet refusing calls. */
        circuitOpen: nodes.filter((n) => n.link === 'up' && n.circuit.state !== 'closed').length,
      },
      tools: this.deps.hubTools() + nodes.reduce((sum, n) => sum + n.tools, 0),
      list: nodes,
    };
  }

  /**
   * Calls per node in each of the last `minutes` whole minutes and the current one, oldest first,
   * from the hub's call records (every replica's): the dashboard's small charts.
   */
  async activity(minutes: number) {
    const now = Math.floor(Date.now() / 60_000);
    const first = now - minutes;
    const { rows } = await this.deps.db.query<{ node_id: string; minute: string | number; calls: string | number }>(
      `SELECT node_id, floor(extract(epoch FROM at) / 60) AS minute, count(*) AS calls
         FROM hub_calls WHERE at >= $1 GROUP BY 1, 2`,
      [new Date(first * 60_000).toISOString()],
    );
    const nodes: Record<string, number[]> = {};
    for (const row of rows) {
      const slot = Number(row.minute) - first;
      if (slot < 0 || slot > minutes) continue;
      nodes[row.node_id] ??= new Array<number>(minutes + 1).fill(0);
      nodes[row.node_id]![slot] = Number(row.calls);
    }
    return { from: new Date(first * 60_000).toISOString(), minutes: minutes + 1, nodes };
  }

  async createKey(input: z.output<typeof keyInput>) {
    const made = await this.deps.keys.create({
      name: input.name,
      scopes: input.scopes,
      ...(input.expiresAt === undefined ? {} : { expiresAt: new Date(input.expiresAt) }),
    });
    return { ...made, name: input.name, scopes: input.scopes, expiresAt: input.expiresAt ?? null };
  }

  listKeys() {
    return this.deps.keys.list();
  }

  async revokeKey(id: string): Promise<void> {
    if (!(await this.deps.keys.revoke(id))) throw new BrainmeshError('NOT_FOUND', `no API key ${id}`);
  }

  /** Every node's hash chain and signed batches walked; the first row that does not hold, named. */
  async auditVerify(node?: string) {
    const nodes = await verifyAudit(this.deps.db, {
      hubId: this.deps.hubId,
      keysOf: (id) => this.keyHistory(id),
      ...(node === undefined ? {} : { node }),
    });
    return { ok: nodes.every((n) => n.ok), nodes };
  }

  async auditLag() {
    return { nodes: await auditLag(this.deps.db) };
  }

  /** The operator accounts that may sign in (OAuth), with their scopes; never their passwords. */
  async users() {
    const { rows } = await this.deps.db.query<{ username: string; scopes: string[]; created_at: Date }>(
      'SELECT username, scopes, created_at FROM operator_accounts ORDER BY username',
    );
    return {
      users: rows.map((r) => ({
        username: r.username,
        scopes: r.scopes,
        createdAt: new Date(r.created_at).toISOString(),
      })),
    };
  }

  /** Makes an account; a password made here is returned this once and kept only as its hash. */
  async createUser(input: z.output<typeof userInput>) {
    const password = input.password ?? randomBytes(18).toString('base64url');
    await this.deps.accounts.createAccount(input.username, password, input.scopes);
    return {
      username: input.username,
      scopes: input.scopes,
      ...(input.password === undefined ? { password } : {}),
    };
  }

  /** Every key the node has had, so batches signed before a rotation still verify. */
  private async keyHistory(nodeId: string): Promise<JSONWebKeySet> {
    const { rows } = await this.deps.db.query<{ jwk: Record<string, unknown> }>(
      'SELECT jwk FROM node_key_history WHERE node_id = $1',
      [nodeId],
    );
    const current = (await this.deps.registry.get(nodeId))?.jwks.keys ?? [];
    const byKid = new Map<unknown, Record<string, unknown>>();
    for (const key of [...rows.map((r) => r.jwk), ...(current as Array<Record<string, unknown>>)])
      byKid.set(key.kid, key);
    return { keys: [...byKid.values()] } as JSONWebKeySet;
  }
}
