/**
 * Starts real hub and node processes on loopback (ports chosen by the OS) and connects real MCP
 * clients to them. Every process and folder a test makes is gone after it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Db, openEmbeddedDb, openPostgresDb } from '@brainmesh/shared';
import { type Spawned, spawnTs, tempDir, uniqueName } from '@brainmesh/shared/testing';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The real program, as an operator runs it. */
export const BRAINMESH = path.join(root, 'scripts', 'brainmesh.mjs');

export interface TestContext {
  after(fn: () => unknown): void;
}

const baseEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  BRAINMESH_HOME: home,
  BRAINMESH_LOG_LEVEL: 'debug',
});

export interface HubProcess {
  url: string;
  home: string;
  key: string;
  proc: Spawned;
  configFile: string;
  /** Stops the hub (SIGTERM, or SIGKILL for a crash) and starts it again: same home and port. */
  restart(signal?: NodeJS.Signals): Promise<HubProcess>;
}

/** Fast health checks, so a dead node is noticed well within the 2 s a client may wait. */
export const FAST_LINKS = {
  healthIntervalMs: 250,
  healthTimeoutMs: 500,
  callTimeoutMs: 30_000,
  breakerFailures: 5,
  breakerHalfOpenMs: 1_000,
};

/**
 * A rate-limit window (seconds, about an hour) whose next boundary is at least `clearSeconds`
 * away. The hub's windows are fixed and aligned to the epoch, so a test that counts exactly
 * must not run across a boundary: an hour's window does at the top of each hour. Shifting the
 * length by a few seconds moves the boundaries by minutes, so one nearby always fits.
 */
export function limitWindowSeconds(clearSeconds = 900): number {
  const now = Date.now() / 1000;
  let window = 3_600;
  while (window - (now % window) < clearSeconds) window += 1;
  return window;
}

export interface HubOptions {
  home?: string;
  port?: number;
  /** Where it listens (default 127.0.0.1): a test host's address, for nodes inside it to reach. */
  host?: string;
  /** `server.allowedHosts`: names it answers to besides its own (a load balancer's). */
  allowedHosts?: string[];
  links?: object;
  limits?: object;
  /** More environment for the hub process. */
  env?: NodeJS.ProcessEnv;
  /** Real Postgres and Redis (a fresh schema, a hub id of its own) instead of embedded storage. */
  real?: { databaseUrl: string; redisUrl: string; schema: string; hubId: string };
  /** The command to run instead of this checkout's: another checkout's, a benchmark's baseline. */
  entry?: string;
  /** Flags for node itself (a benchmark's `--cpu-prof`). */
  nodeArgs?: readonly string[];
}

/** Real storage for one test: its own schema (dropped afterwards) and its own hub id. */
export async function realStorage(
  t: TestContext,
  servers: { databaseUrl: string; redisUrl: string },
): Promise<NonNullable<HubOptions['real']>> {
  const schema = uniqueName('e2e');
  const db = await openPostgresDb({ url: servers.databaseUrl, schema });
  t.after(async () => {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });
  const url = new URL(servers.databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { databaseUrl: url.toString(), redisUrl: servers.redisUrl, schema, hubId: `hub-${schema.slice(-8)}` };
}

export async function startHub(t: TestContext, options: HubOptions = {}): Promise<HubProcess> {
  const dir = options.home === undefined ? tempDir('hub') : undefined;
  if (dir !== undefined) t.after(dir.remove);
  const home = options.home ?? dir!.dir;
  const configFile = path.join(home, 'hub.yaml');
  writeFileSync(
    configFile,
    stringify({
      server: {
        port: options.port ?? 0,
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
      },
      links: { ...FAST_LINKS, ...options.links },
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.real === undefined ? {} : { hub: { id: options.real.hubId } }),
    }),
  );
  const env = {
    ...baseEnv(home),
    ...(options.real === undefined ? {} : { DATABASE_URL: options.real.databaseUrl, REDIS_URL: options.real.redisUrl }),
    ...options.env,
  };
  const proc = spawnTs(options.entry ?? BRAINMESH, ['hub', '--config', configFile], env, {
    nodeArgs: options.nodeArgs,
  });
  t.after(() => proc.stop('SIGKILL'));
  const { url } = await proc.waitFor<{ msg: string; url: string }>((l) => l.msg === 'hub listening', 60_000);
  const key = readFileSync(path.join(home, 'operator-key'), 'utf8').trim();
  return {
    url,
    home,
    key,
    proc,
    configFile,
    restart: async (signal = 'SIGTERM') => {
      await proc.stop(signal);
      return startHub(t, { ...options, home, port: Number(new URL(url).port) });
    },
  };
}

export async function admin(
  hub: { url: string; key: string },
  method: string,
  route: string,
  body?: unknown,
): Promise<Response> {
  return fetch(new URL(route, hub.url), {
    method,
    headers: {
      authorization: `Bearer ${hub.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export async function enrolmentToken(hub: HubProcess, node: string): Promise<string> {
  const res = await admin(hub, 'POST', '/admin/enrolments', { node });
  if (res.status !== 201) throw new Error(`enrolment token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export interface NodeProcess {
  /** Where it listens; undefined for a dialling node with no port. */
  url: string | undefined;
  home: string;
  proc: Spawned;
  start(): Promise<NodeProcess>;
}

export interface NodeOptions {
  name: string;
  /** Pack blocks of its config: a name, or `{ use, settings }`. */
  packs?: Array<string | { use: string; settings?: object }>;
  /** Added to its environment (a pack's overrides, DATABASE_URL). */
  env?: NodeJS.ProcessEnv;
  /** Run on its home before it starts: e.g. put packages in a node_modules beside its config. */
  setup?: (home: string) => void;
  mounts?: object[];
  home?: string;
  port?: number;
  /** A process group of its own, so a test can send it (and its mounted servers) Ctrl-C's SIGINT. */
  detached?: boolean;
  /** The node dials the hub (hub.dial), as one behind NAT does; it then opens no port unless `listen`. */
  dial?: boolean;
  /** A dialling node listens all the same (on 127.0.0.1 and `port`). */
  listen?: boolean;
  /** The one-time token to enrol with, made elsewhere (a tool); otherwise the test makes one. */
  enrolmentToken?: string;
  /**
   * A config file of its own (a reference config) instead of one written from these options;
   * the hub's URL and the enrolment token then reach it through its environment.
   */
  config?: string;
  /** Run it through this command: `ip netns exec <test host>` (e2e/support/netns.ts). */
  prefix?: readonly string[];
  /** The command to run instead of this checkout's: another checkout's, a benchmark's baseline. */
  entry?: string;
  /** Flags for node itself (a benchmark's `--cpu-prof`). */
  nodeArgs?: readonly string[];
}

/** Enrols (first start) and starts a node; `start()` on the result starts it again, same home and port. */
export async function startNode(t: TestContext, hub: HubProcess, options: NodeOptions): Promise<NodeProcess> {
  const dir = options.home === undefined ? tempDir(`node-${options.name}`) : undefined;
  if (dir !== undefined) t.after(dir.remove);
  const home = options.home ?? dir!.dir;
  const configFile = options.config ?? path.join(home, 'node.yaml');
  const enrolled = options.home !== undefined;
  options.setup?.(home);
  const token = enrolled ? undefined : (options.enrolmentToken ?? (await enrolmentToken(hub, options.name)));
  if (options.config === undefined) {
    writeFileSync(
      configFile,
      stringify({
        node: { name: options.name },
        ...(options.dial !== true || options.listen === true || options.port !== undefined
          ? { server: { port: options.port ?? 0 } }
          : {}),
        hub: {
          url: hub.url,
          ...(options.dial === true ? { dial: true } : {}),
          ...(token === undefined ? {} : { enrolmentToken: token }),
        },
        packs: options.packs ?? ['devtools'],
        mounts: options.mounts ?? [],
      }),
    );
  }
  // A config of its own is told the hub and the token the way `brainmesh up` tells it.
  const given =
    options.config === undefined
      ? {}
      : { BRAINMESH_HUB_URL: hub.url, ...(token === undefined ? {} : { BRAINMESH_ENROLMENT_TOKEN: token }) };
  const proc = spawnTs(
    options.entry ?? BRAINMESH,
    ['node', '--config', configFile],
    { ...baseEnv(home), ...given, ...options.env },
    { detached: options.detached, prefix: options.prefix, nodeArgs: options.nodeArgs },
  );
  t.after(() => proc.stop('SIGKILL'));
  const { url } = await proc.waitFor<{ msg: string; url?: string }>(
    (l) => l.msg === 'node listening' || l.msg === 'node started, dialling the hub; no port open',
    60_000,
  );
  return {
    url,
    home,
    proc,
    start: () =>
      startNode(t, hub, { ...options, home, ...(url === undefined ? {} : { port: Number(new URL(url).port) }) }),
  };
}

export interface ConnectedClient {
  client: Client;
  /** Names of list_changed notifications received so far, in order. */
  listChanged: string[];
}

export async function connectClient(
  t: TestContext,
  hub: { url: string; key: string },
  capabilities: ClientCapabilities = {},
): Promise<ConnectedClient> {
  const client = new Client({ name: 'e2e', version: '1.0.0' }, { capabilities });
  const listChanged: string[] = [];
  client.fallbackNotificationHandler = async (n) => {
    if (n.method.endsWith('/list_changed')) listChanged.push(n.method);
  };
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
    requestInit: { headers: { authorization: `Bearer ${hub.key}` } },
  });
  await client.connect(transport);
  t.after(() => client.close());
  return { client, listChanged };
}

/** The revision of MCP without sessions, spoken by the SDK's v2 client when pinned to it. */
export const MODERN_PROTOCOL = '2026-07-28';

/**
 * A client of the 2026-07-28 revision (the SDK's v2 client, pinned: no session, each request
 * carrying its own version, capabilities and client info). `answer` sets its handlers for what a
 * server may ask (elicitation, sampling), which the SDK runs for an `input_required` result
 * before it calls again.
 */
export async function connectModernClient(
  t: TestContext,
  hub: { url: string; key: string },
  options: { capabilities?: Record<string, object>; answer?: (client: ModernClient) => void } = {},
): Promise<{ client: ModernClient; transport: ModernTransport }> {
  const client = new ModernClient(
    { name: 'e2e-modern', version: '1.0.0' },
    { capabilities: options.capabilities ?? {}, versionNegotiation: { mode: { pin: MODERN_PROTOCOL } } },
  );
  options.answer?.(client);
  const transport = new ModernTransport(new URL('/mcp', hub.url), {
    requestInit: { headers: { authorization: `Bearer ${hub.key}` } },
  });
  await client.connect(transport);
  t.after(() => client.close());
  return { client, transport };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real program as an operator would, against `hub` with its operator key (unless `env`
 * says otherwise); resolves with its exit code and output, whatever the code.
 */
export async function runCli(
  hub: { url: string; key: string },
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BRAINMESH, ...args], {
      env: { PATH: process.env.PATH, BRAINMESH_HUB: hub.url, BRAINMESH_API_KEY: hub.key, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * The embedded database a stopped hub (`hub-db`) or node (`node-db`) left in its home, opened
 * to look at (or, in a tamper test, to change) what it holds.
 */
export function openHomeDb(home: string, name: 'hub-db' | 'node-db'): Promise<Db> {
  return openEmbeddedDb({ dataDir: path.join(home, name) });
}

/** Waits until `check` passes, for state that changes on its own (health checks, restarts). */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the hub reports the node linked and up. */
export async function nodeUp(
  hub: { url: string; key: string },
  name: string,
  timeoutMs = 15_000,
): Promise<{ tools: number }> {
  return until(
    async () => {
      const res = await admin(hub, 'GET', `/admin/nodes/${name}`);
      const body = (await res.json()) as { link: string; tools: number };
      return body.link === 'up' ? body : undefined;
    },
    `node ${name} up`,
    timeoutMs,
  );
}

/**
 * For suites that share one mesh across tests: collects cleanups registered in `before` and
 * runs them, newest first, in the suite's `after`.
 */
export function suiteScope(): TestContext & { dispose(): Promise<void> } {
  const cleanups: Array<() => unknown> = [];
  return {
    after: (fn) => {
      cleanups.push(fn);
    },
    dispose: async () => {
      for (const fn of cleanups.reverse()) await fn();
    },
  };
}

/** The text of a tool result, its text parts joined. */
export function text(result: Record<string, unknown>): string {
  return ((result.content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? '').join('');
}

/** The HTTP status of one MCP `ping` POSTed to the hub with a bearer credential (key or token). */
export async function mcpStatus(hubUrl: string, bearer: string): Promise<number> {
  const res = await fetch(`${hubUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await res.body?.cancel();
  return res.status;
}
