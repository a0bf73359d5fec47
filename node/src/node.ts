import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Closer,
  createLinkVerifier,
  KeyRing,
  type LinkIdentity,
  LinkTokenError,
  type Logger,
  linkMaxPayload,
  listenForMetrics,
  listeningUrl,
  listenOrExplain,
  migrate,
  openDb,
  openStore,
  resolveHome,
  scopedStore,
  signLinkToken,
  startTracing,
} from '@brainmesh/shared';
import { buildNodeApp, NODE_BOUNDS } from './app.js';
import { AuditRecorder } from './audit/recorder.js';
import { AuditShipper } from './audit/shipper.js';
import { listenAddress, type NodeConfig } from './config.js';
import { HubLink } from './hub-link.js';
import { LinkDialer } from './link-dialer.js';
import { NodeMetrics } from './metrics.js';
import { MountSource } from './mounts/mount-source.js';
import { makePacks } from './pack-host.js';
import type { LoadedPack } from './pack-loader.js';
import { PackSource } from './pack-source.js';
import type { Source } from './source.js';

export const NODE_MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface RunningNode {
  /** Where it listens; undefined for a node that only dials the hub. */
  url: string | undefined;
  storage: { database: string; store: string };
  close(): Promise<void>;
  /** For a shutdown out of time: kills the mounted servers' processes at once. */
  abandon(): void;
}

/**
 * Starts a node with the packs `loadPacks` found for its config: keys, storage, packs and mounts, the HTTP server, then enrolment (first start)
 * and an announcement to the hub. A failed start closes what it opened, mounted processes
 * included.
 */
export async function startNode(
  config: Readonly<NodeConfig>,
  logger: Logger,
  loaded: readonly LoadedPack[],
): Promise<RunningNode> {
  const started = Date.now();
  const home = resolveHome(config);
  const closer = new Closer(logger);
  const mounts: MountSource[] = [];
  try {
    // First in, so last out: spans of the shutdown are flushed too. Off without OTEL_* settings.
    closer.add(await startTracing(`brainmesh-node-${config.node.name}`));
    const ring = await KeyRing.open(home);
    const link = new HubLink(home, ring, logger);
    // On a shared server a node keeps to a schema of its own, so its tables and its migration
    // history never meet the hub's or another node's.
    const schema = config.storage.databaseUrl === undefined ? undefined : nodeSchema(config.node.name);
    const db = await openDb({ databaseUrl: config.storage.databaseUrl, home, name: 'node-db', schema });
    closer.add(() => db.close());
    await migrate(db, NODE_MIGRATIONS, logger);
    // On embedded storage rows are journaled first (audit/journal.ts says why); on a Postgres
    // server each group's commit is the durable point.
    const audit = new AuditRecorder(db, config.node.name, logger, {
      ...(db.kind === 'embedded' ? { journalPath: path.join(home, 'audit-journal.jsonl') } : {}),
    });
    // Made once enrolled; a link to the hub coming up before then has nothing to wake.
    let shipper: AuditShipper | undefined;
    await audit.open(link.enrolled?.auditBase);
    // Runs before the database closes (steps close last-added first): no row is left half-written.
    closer.add(() => audit.close());
    // One connection at the mesh's prefix: the node's keys in its own view of it, each pack's in
    // a view shared by that pack across nodes (pack-host.ts).
    const meshStore = await openStore({ redisUrl: config.storage.redisUrl, keyPrefix: 'brainmesh:' });
    closer.add(() => meshStore.close());
    const store = scopedStore(meshStore, `node:${config.node.name}:`);

    // Made before the packs, which add their own; the audit gauges are read only when scraped.
    const metrics = config.metrics.enabled
      ? new NodeMetrics({ recorded: () => audit.headSeq, backlog: () => shipper?.backlog })
      : undefined;
    // Packs' resources changing, on their way to the hub over whichever links are open.
    const resourceUpdates = new EventEmitter<{ updated: [uri: string, message: string | undefined] }>();
    const packs = await makePacks(loaded, {
      nodeName: config.node.name,
      startedAt: new Date(started),
      db,
      schema,
      meshStore,
      logger,
      resourceUpdated: (uri, message) => resourceUpdates.emit('updated', uri, message),
      metrics: metrics?.registry,
    });
    const sources: Source[] = [new PackSource(packs)];
    // Closed together: a mounted server slow to stop does not make the next one wait its turn.
    closer.add(async () => {
      await Promise.all(mounts.map((m) => m.close()));
    });
    for (const mount of config.mounts) {
      const source = new MountSource(mount, logger, path.join(home, 'mounts', mount.name));
      mounts.push(source);
      await source.start();
      sources.push(source);
    }

    // The hub's tokens, checked against the keys pinned at enrolment; one verifier per identity.
    const hubVerifier = (hubId: string, nodeId: string) =>
      createLinkVerifier({ issuer: hubId, audience: nodeId, keys: () => link.hubKeys(), replay: store });
    // Until enrolment, the verifier has no hub keys and refuses everything.
    let verify = hubVerifier(link.enrolled?.hubId ?? 'hub', link.enrolled?.nodeId ?? config.node.name);
    // Who this node is on the persistent link: it signs with its own key, and accepts only the
    // hub it enrolled with, whose token must carry this connection's nonce.
    // This process, told to hubs in the hello: a dialling node keeps one link to each hub process.
    const instance = randomUUID();
    const linkIdentity = (): LinkIdentity | undefined => {
      const state = link.enrolled;
      if (state === undefined) return undefined;
      const verifyHub = hubVerifier(state.hubId, state.nodeId);
      return {
        role: 'node',
        id: state.nodeId,
        instance,
        sign: (aud, nonce) => signLinkToken(ring, { iss: state.nodeId, aud, sub: `node:${state.nodeId}`, nonce }),
        verify: async (peer, token, nonce) => {
          if (peer.role !== 'hub' || peer.id !== state.hubId) throw new LinkTokenError('wrong-issuer');
          const claims = await verifyHub(token, nonce);
          if (claims.sub !== `hub:${state.hubId}`) throw new LinkTokenError('malformed');
          return claims;
        },
      };
    };
    const { app, closeSessions, serveLink } = await buildNodeApp({
      ...(metrics === undefined ? {} : { metrics }),
      nodeName: config.node.name,
      sources,
      db,
      store,
      logger,
      verifyLink: (token) => verify(token),
      jwks: () => ring.jwks(),
      linkIdentity,
      hubPrincipal: () => `hub:${link.enrolled?.hubId ?? 'hub'}`,
      onLinkUp: () => shipper?.wake(),
      resourceUpdates,
      audit,
      maxAuditResponseBytes: config.audit.maxResponseBytes,
      rotateKeys: async () => {
        // The key before this rotation stays valid (tokens signed with it may be in flight);
        // keys older than that are retired, so a ring holds at most two.
        const retired = ring.kids().filter((kid) => kid !== ring.activeKid);
        const active = await ring.rotate();
        for (const kid of retired) ring.retire(kid);
        return { active, retired, jwks: ring.jwks() };
      },
    });
    closer.add(() => app.close());
    closer.add(closeSessions);
    // A node that dials the hub may open no port at all: nothing reaches it but its own link.
    const listen = listenAddress(config);
    let url: string | undefined;
    if (listen === undefined) {
      await app.ready();
    } else {
      await listenOrExplain(app, {
        host: listen.host,
        port: listen.port,
        what: `node ${config.node.name}`,
        hint: 'stop what uses it, or choose another port (server.port in the node config, or BRAINMESH_NODE_PORT)',
      });
      url = listen.publicUrl ?? listeningUrl(app.server.address(), listen.host, listen.port);
    }

    if (link.enrolled === undefined) {
      if (config.hub.enrolmentToken === undefined) {
        logger.warn(
          { node: config.node.name },
          'not enrolled: get a token with `brainmesh nodes enroll <name>` and start again with BRAINMESH_ENROLMENT_TOKEN set',
        );
      } else {
        const state = await link.enrol({
          hubUrl: config.hub.url,
          token: config.hub.enrolmentToken,
          nodeName: config.node.name,
          url: config.hub.dial ? null : (url ?? null),
        });
        verify = hubVerifier(state.hubId, state.nodeId);
        // No call was taken before enrolment, so the chain is still empty: it goes on from
        // where the hub's record of this node's name ends, if it has one.
        if (audit.headSeq === 0) await audit.open(state.auditBase);
      }
    }
    const announcing = new AbortController();
    closer.add(async () => announcing.abort());
    const enrolled = link.enrolled;
    if (enrolled !== undefined) {
      if (config.hub.dial) {
        const dialer = new LinkDialer({
          hubUrl: config.hub.url,
          identity: linkIdentity,
          onLink: serveLink,
          logger: logger.child({ part: 'link' }),
          maxPayload: linkMaxPayload(NODE_BOUNDS.maxBytes),
        });
        const dialing = dialer.run();
        closer.add(async () => {
          dialer.stop();
          await dialing;
        });
      }
      // A node that dials tells the hub no URL: the hub must not try to reach it.
      link.announce(config.hub.dial ? null : (url ?? null), config.hub.url, announcing.signal).catch((err) => {
        if (!announcing.signal.aborted) logger.error({ err }, 'announce abandoned');
      });
      shipper = new AuditShipper({
        db,
        ring,
        recorder: audit,
        logger: logger.child({ part: 'audit' }),
        nodeId: enrolled.nodeId,
        hubId: enrolled.hubId,
        hubUrl: config.hub.url,
      });
      const shipping = shipper.run(announcing.signal);
      closer.add(async () => {
        announcing.abort();
        await shipping;
      });
    }
    for (const pack of packs) {
      if (pack.start === undefined) continue;
      // Added before starting: a start that fails half-way still has its close run.
      if (pack.stop !== undefined) closer.add(() => pack.stop?.() ?? Promise.resolve());
      await pack.start();
    }
    if (metrics !== undefined && config.metrics.port !== undefined) {
      const listener = await listenForMetrics(metrics, {
        host: config.metrics.host,
        port: config.metrics.port,
        what: `node ${config.node.name}`,
        logger,
      });
      closer.add(() => listener.close());
    }
    const tools = (await Promise.all(sources.map((s) => s.listTools()))).flat().length;
    if (url === undefined) {
      logger.info(
        { node: config.node.name, hub: config.hub.url, tools, ms: Date.now() - started },
        'node started, dialling the hub; no port open',
      );
    } else {
      logger.info({ node: config.node.name, url, tools, ms: Date.now() - started }, 'node listening');
    }
    return {
      url,
      storage: { database: db.kind, store: store.kind },
      close: async () => {
        // First, before anything closes: a mounted server that exits now (Ctrl-C reaches every
        // process of the group) is not started again.
        for (const mount of mounts) mount.stopRestarts();
        logger.info('shutting down');
        await closer.closeAll();
      },
      abandon: () => {
        for (const mount of mounts) mount.kill();
      },
    };
  } catch (err) {
    await closer.closeAll();
    throw err;
  }
}

/** `node_<name>` as a Postgres identifier: dashes become _, and a long one is cut and hashed. */
function nodeSchema(name: string): string {
  const schema = `node_${name.replaceAll('-', '_')}`;
  if (schema.length <= 63) return schema;
  return `${schema.slice(0, 54)}_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}
