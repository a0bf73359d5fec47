/**
 * A brainmesh hub and one node as real processes, the way e2e/support/mesh.ts starts them, set
 * up for a benchmark: production log level and health-check interval, limits that never refuse,
 * the devtools pack, and an HTTP mount of a running MCP server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dropPackStorage, KeyRing, openPostgresDb, packStorage } from '@brainmesh/shared';
import {
  type HubProcess,
  type NodeProcess,
  nodeUp,
  realStorage,
  startHub,
  startNode,
  type TestContext,
} from '../../e2e/support/mesh.js';
import { type Connect, linkedNode, streamableHttp } from './clients.js';

export interface RealServers {
  databaseUrl: string;
  redisUrl: string;
}

export interface Brainmesh {
  hub: HubProcess;
  node: NodeProcess;
  nodeName: string;
  /** A session with the hub, as an MCP client with the operator key. */
  viaHub: Connect;
  /** Sessions opened through the hub so far: the hub's cost per call can depend on it. */
  hubSessions(): number;
  /** A session with the node itself, signed as its hub. */
  direct: Connect;
  /** Forgets the stdout lines kept so far: the node logs every call at info, and the run is long. */
  dropLogs(): void;
  /**
   * Another hub replica of this mesh (real storage only): the same storage, settings and key
   * file, linked to the same node; up once the node is linked to it too.
   */
  replica(): Promise<HubProcess>;
}

/** The settings a hub ships with (e2e's are faster, to notice a dead node within a test). */
const PRODUCTION_LINKS = {
  callTimeoutMs: 60_000,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  breakerFailures: 5,
  breakerHalfOpenMs: 10_000,
};
// Counting still runs on every request and call; it just never refuses one.
const UNLIMITED = 1_000_000_000;
const LIMITS = { requests: UNLIMITED, toolCalls: { read: UNLIMITED, write: UNLIMITED, destructive: UNLIMITED } };
/** The default, not e2e's debug: what an operator runs, one line per call on the node. */
const LOG = { BRAINMESH_LOG_LEVEL: 'info' };

/**
 * BENCH_CPU_PROF=<folder>: the hub and the node run under V8's sampling profiler and write their
 * profiles there (`<label>-hub`, `<label>-node`, one .cpuprofile per process) when the run ends.
 * A profile is written only on a clean exit, so they are stopped with SIGTERM first.
 */
function profiled(label: string, part: 'hub' | 'node'): { nodeArgs?: string[] } {
  const dir = process.env.BENCH_CPU_PROF;
  if (dir === undefined || dir === '') return {};
  return { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir, `${label}-${part}`)}`] };
}

export async function startBrainmesh(
  scope: TestContext,
  options: {
    mountUrl: string;
    real?: RealServers;
    /** Another checkout's `scripts/brainmesh.mjs` to run instead of this one's (baseline.ts). */
    entry?: string;
    /** Names this mesh's profiles under BENCH_CPU_PROF. */
    label?: string;
    /** More environment for its hub and node (metrics off, a trace exporter). */
    env?: NodeJS.ProcessEnv;
  },
): Promise<Brainmesh> {
  const label = `${options.label ?? 'brainmesh'}-${options.real === undefined ? 'embedded' : 'real'}`;
  const real = options.real === undefined ? undefined : await realStorage(scope, options.real);
  const hubOptions = {
    links: PRODUCTION_LINKS,
    limits: LIMITS,
    env: { ...LOG, ...options.env },
    // A load balancer in front (replicas) passes on the Host its clients name: 127.0.0.1.
    allowedHosts: ['127.0.0.1'],
    ...(real === undefined ? {} : { real }),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
  };
  const hub = await startHub(scope, { ...hubOptions, ...profiled(label, 'hub') });
  // On a shared Postgres a node keeps to node_<name> (and its packs to node_<name>__pack_<pack>),
  // so a name of its own keeps this run apart from any other.
  const nodeName = real === undefined ? 'bench' : `gw-${randomBytes(4).toString('hex')}`;
  if (options.real !== undefined) dropNodeStorage(scope, options.real.databaseUrl, nodeName);
  const node = await startNode(scope, hub, {
    name: nodeName,
    packs: ['devtools'],
    // A prefix, since the pack's `echo` and the mounted server's would otherwise share a name.
    mounts: [{ transport: 'http', name: 'everything', url: options.mountUrl, prefix: 'everything' }],
    ...profiled(label, 'node'),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    env: {
      ...LOG,
      ...options.env,
      ...(options.real === undefined
        ? {}
        : { DATABASE_URL: options.real.databaseUrl, REDIS_URL: options.real.redisUrl }),
    },
  });
  await nodeUp(hub, nodeName, 30_000);
  if (process.env.BENCH_CPU_PROF) {
    // Runs before the SIGKILLs registered at start (cleanups run newest first): node, then hub.
    scope.after(() => hub.proc.stop('SIGTERM'));
    scope.after(() => node.proc.stop('SIGTERM'));
  }
  const link = JSON.parse(readFileSync(path.join(node.home, 'link.json'), 'utf8')) as { hubId: string; nodeId: string };
  const ring = await KeyRing.open(hub.home);
  const connectHub = streamableHttp(new URL('/mcp', hub.url).href, hub.key);
  let hubSessions = 0;
  return {
    hub,
    node,
    nodeName,
    viaHub: () => {
      hubSessions++;
      return connectHub();
    },
    hubSessions: () => hubSessions,
    direct: linkedNode({ url: node.url!, ring, hubId: link.hubId, nodeId: link.nodeId }),
    dropLogs: () => {
      hub.proc.stdout.length = 0;
      node.proc.stdout.length = 0;
    },
    replica: async () => {
      if (real === undefined) throw new Error('hub replicas need real storage');
      const another = await startHub(scope, { ...hubOptions, home: hub.home, ...profiled(`${label}-2`, 'hub') });
      await nodeUp(another, nodeName, 30_000);
      return another;
    },
  };
}

/** Registered before the node starts, so it runs after the node is stopped. */
function dropNodeStorage(scope: TestContext, databaseUrl: string, nodeName: string): void {
  const schema = `node_${nodeName.replaceAll('-', '_')}`;
  scope.after(async () => {
    const db = await openPostgresDb({ url: databaseUrl });
    try {
      await dropPackStorage(db, packStorage('devtools', schema));
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await db.close();
    }
  });
}
