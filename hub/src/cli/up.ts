import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isBrainmeshError, portFlag, UsageError } from '@brainmesh/shared';
import { adminRequest, type HubTarget } from './admin-client.js';
import type { Io } from './command.js';
import { loadMeshLayout, type MeshLayout } from './mesh-layout.js';
import { NotReady, Supervised } from './supervisor.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The program itself, for the processes `up` starts and for the Claude Desktop snippet. */
export const PROGRAM = path.join(ROOT, 'scripts', 'brainmesh.mjs');

export const UP_USAGE = `usage: brainmesh up [--port N] [--mesh FILE] [--home DIR]

Runs the whole local mesh: the hub and every node in the mesh file, on loopback, with embedded
storage in the data folder (or the real Postgres and Redis that DATABASE_URL and REDIS_URL
name). The first run enrols the nodes and creates the operator API key; later runs reuse both.
Ctrl-C stops everything.

flags:
  --port N      the hub's port (default: the hub config's, 8080; 0 picks a free one)
  --mesh FILE   which hub and nodes to run (default: configs/mesh.yaml)
  --home DIR    the data folder (default: $BRAINMESH_HOME, else ./.brainmesh)

example: brainmesh up --port 8081`;

/** How long a process may take to come up before `up` gives up on it. */
const START_TIMEOUT_MS = 60_000;

/**
 * Variables that would point a child elsewhere than the local mesh `up` is building.
 * DATABASE_URL and REDIS_URL do pass: they choose real storage for every process.
 */
const NOT_INHERITED = [
  'BRAINMESH_API_KEY',
  'BRAINMESH_HUB',
  'BRAINMESH_HUB_URL',
  'BRAINMESH_HUB_HOST',
  'BRAINMESH_HUB_PORT',
  'BRAINMESH_NODE_HOST',
  'BRAINMESH_NODE_PORT',
  'BRAINMESH_ENROLMENT_TOKEN',
  'BRAINMESH_LOG_FORMAT',
];

interface NodeView {
  id: string;
  status: string;
  link: string;
  tools: number;
  url: string | null;
}

export async function upCommand(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  let flags: { port?: string; mesh?: string; home?: string; help?: boolean };
  let port: number | undefined;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        mesh: { type: 'string' },
        home: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
    port = portFlag(flags.port);
  } catch (err) {
    io.err(`brainmesh up: ${(err as Error).message}\n${UP_USAGE}\n`);
    return 2;
  }
  if (flags.help === true) {
    io.out(`${UP_USAGE}\n`);
    return 0;
  }
  const cwd = process.cwd();
  const home = path.resolve(cwd, flags.home ?? (env.BRAINMESH_HOME || '.brainmesh'));
  const meshFile = path.resolve(
    cwd,
    flags.mesh ??
      (existsSync(path.join(cwd, 'configs', 'mesh.yaml'))
        ? 'configs/mesh.yaml'
        : path.join(ROOT, 'configs', 'mesh.yaml')),
  );
  const up = new LocalMesh(io, env, home);
  try {
    const layout = loadMeshLayout(meshFile);
    if (port !== undefined) layout.hub.port = port;
    await up.start(layout);
  } catch (err) {
    await up.stop();
    if (err instanceof UsageError) {
      io.err(`brainmesh up: ${err.message}\n`);
      return 2;
    }
    if (isBrainmeshError(err) || err instanceof NotReady) {
      io.err(`brainmesh up: ${err.message}\n`);
      if (err instanceof NotReady) io.err(`logs: ${path.join(home, 'logs')}\n`);
      return 1;
    }
    throw err;
  }
  return up.runUntilStopped(signals);
}

/** The hub and nodes `up` runs, and what it tells the operator about them. */
class LocalMesh {
  private hub: Supervised | undefined;
  private readonly nodes = new Map<string, Supervised>();
  private stopping = false;

  constructor(
    private readonly io: Io,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly home: string,
  ) {}

  private say(line: string): void {
    this.io.out(`${line}\n`);
  }

  async start(layout: MeshLayout): Promise<void> {
    const began = Date.now();
    await checkPorts(layout);
    mkdirSync(path.join(this.home, 'logs'), { recursive: true, mode: 0o700 });
    const keyFile = path.join(this.home, 'operator-key');
    const firstRun = !existsSync(keyFile);
    this.say(`brainmesh up: ${firstRun ? 'a new mesh' : 'the mesh'} in ${this.home}`);

    this.say('  hub       starting');
    const hubStarted = Date.now();
    this.hub = this.spawn('hub', ['hub', '--config', layout.hub.config, '--port', String(layout.hub.port)], {
      BRAINMESH_HOME: this.home,
    });
    const nodesUp = new Map(
      layout.nodes.map((n) => [
        n.name,
        this.hub!.waitFor((l) => l.msg === 'node up' && l.node === n.name, `${n.name} linked`, START_TIMEOUT_MS),
      ]),
    );
    for (const wait of nodesUp.values()) wait.catch(() => {});
    const storage = this.hub.waitFor((l) => l.msg === 'storage open', 'storage open', START_TIMEOUT_MS);
    const listening = await this.hub.waitFor((l) => l.msg === 'hub listening', 'listening', START_TIMEOUT_MS);
    const hubUrl = String(listening.url);
    const { database, store } = await storage;
    this.say(`  hub       ready at ${hubUrl}, storage ${database}/${store} (${seconds(hubStarted)})`);
    const target: HubTarget = { hub: hubUrl, apiKey: readFileSync(keyFile, 'utf8').trim() };

    await Promise.all(
      layout.nodes.map(async (node) => {
        const started = Date.now();
        const nodeHome = path.join(this.home, 'nodes', node.name);
        const token = await this.enrolmentFor(target, node.name, nodeHome);
        this.say(`  ${node.name.padEnd(9)} ${token === undefined ? 'starting' : 'starting and enrolling (first run)'}`);
        this.nodes.set(
          node.name,
          this.spawn(node.name, ['node', '--config', node.config], {
            BRAINMESH_HOME: nodeHome,
            BRAINMESH_HUB_URL: hubUrl,
            BRAINMESH_NODE_PORT: String(node.port),
            ...(token === undefined ? {} : { BRAINMESH_ENROLMENT_TOKEN: token }),
          }),
        );
        const failed = this.nodes.get(node.name)!.failure();
        failed.catch(() => {});
        await Promise.race([nodesUp.get(node.name)!, failed]).catch((err: unknown) => {
          if (!(err instanceof NotReady) || !this.nodes.get(node.name)!.running) throw err;
          const said = this.nodes.get(node.name)!.lastComplaint();
          throw new NotReady(
            `node ${node.name} started, but the hub could not link to it within ${START_TIMEOUT_MS / 1000} s${said === undefined ? '' : ` (it last said: ${said})`}`,
          );
        });
        this.say(`  ${node.name.padEnd(9)} ready (${seconds(started)})`);
      }),
    );

    const { nodes } = await adminRequest<{ nodes: NodeView[] }>(target, 'GET', '/admin/nodes');
    const shown = nodes.filter((n) => layout.nodes.some((l) => l.name === n.id));
    this.say(`\nbrainmesh is up (${seconds(began)})\n`);
    this.say(`  MCP endpoint  ${hubUrl}/mcp`);
    this.say(table(shown));
    if (firstRun) {
      this.say(`  operator API key (admin; saved in ${keyFile}, shown only this once):\n\n    ${target.apiKey}\n`);
    }
    this.say(`Claude Desktop: put this in claude_desktop_config.json (the bridge reads the key from ${this.home}):\n`);
    this.say(JSON.stringify(claudeDesktopConfig(hubUrl, this.home), null, 2));
    this.say(`\nlogs: ${path.join(this.home, 'logs')}    stop: Ctrl-C`);
  }

  /**
   * A one-time token for a node the hub does not know yet, or none. A node whose data folder
   * is pinned to a hub that no longer knows it (the hub's data was wiped) is enrolled anew.
   */
  private async enrolmentFor(target: HubTarget, name: string, nodeHome: string): Promise<string | undefined> {
    const linkFile = path.join(nodeHome, 'link.json');
    const known = await adminRequest(target, 'GET', `/admin/nodes/${encodeURIComponent(name)}`).then(
      () => true,
      (err: unknown) => {
        if (isBrainmeshError(err) && err.code === 'NOT_FOUND') return false;
        throw err;
      },
    );
    if (known && existsSync(linkFile)) return undefined;
    if (existsSync(linkFile)) {
      this.say(`  ${name.padEnd(9)} the hub does not know this node (its data was reset?); enrolling it again`);
      rmSync(linkFile);
    }
    const made = await adminRequest<{ token: string }>(target, 'POST', '/admin/enrolments', { node: name });
    return made.token;
  }

  private spawn(name: string, args: string[], extra: Record<string, string>): Supervised {
    const env: NodeJS.ProcessEnv = { ...this.env };
    for (const key of NOT_INHERITED) delete env[key];
    return new Supervised(name, {
      program: PROGRAM,
      args,
      env: { ...env, ...extra, BRAINMESH_LOG_FORMAT: 'json' },
      logFile: path.join(this.home, 'logs', `${name}.log`),
    });
  }

  /** Serves until SIGINT or SIGTERM (or the hub dies), then stops every process. */
  async runUntilStopped(signals: NodeJS.EventEmitter): Promise<number> {
    for (const [name, node] of this.nodes) {
      void node.exited.then(({ code, signal }) => {
        if (!this.stopping) {
          this.say(`${name} stopped (${signal ?? `exit code ${code}`}): ${node.reason()}; the rest keeps running`);
        }
      });
    }
    const outcome = await new Promise<number>((resolve) => {
      signals.once('SIGINT', () => resolve(0));
      signals.once('SIGTERM', () => resolve(0));
      void this.hub!.exited.then(({ code, signal }) => {
        if (this.stopping) return;
        this.say(`the hub stopped (${signal ?? `exit code ${code}`}): ${this.hub!.reason()}`);
        resolve(1);
      });
    });
    this.say('stopping');
    const forced = () => {
      for (const child of [...this.nodes.values(), this.hub]) child?.stop(0);
    };
    signals.once('SIGINT', forced);
    await this.stop();
    signals.off('SIGINT', forced);
    this.say('stopped');
    return outcome;
  }

  /** Nodes first, so none of them is left calling a hub that is gone; then the hub. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    await this.hub?.stop();
  }
}

/** Every port the mesh is configured to take, checked before anything starts. */
async function checkPorts(layout: MeshLayout): Promise<void> {
  if (layout.hub.port !== 0 && !(await portFree(layout.hub.port))) {
    throw new UsageError(
      `port ${layout.hub.port} (the hub) is taken by another program; stop it, or choose another port: brainmesh up --port ${layout.hub.port + 1}`,
    );
  }
  for (const node of layout.nodes) {
    if (node.port !== 0 && !(await portFree(node.port))) {
      throw new UsageError(
        `port ${node.port} (node ${node.name}) is taken by another program; stop it, or give the node another port (server.port in ${node.config}, or port: in ${layout.file})`,
      );
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * The entry for Claude Desktop: the stdio bridge, by absolute paths (Claude Desktop starts it
 * with neither this folder as working directory nor this shell's PATH). The key stays in its file.
 */
export function claudeDesktopConfig(hubUrl: string, home: string) {
  return {
    mcpServers: {
      brainmesh: {
        command: process.execPath,
        args: [PROGRAM, 'connect', '--hub', hubUrl],
        env: { BRAINMESH_HOME: home },
      },
    },
  };
}

function table(nodes: NodeView[]): string {
  if (nodes.length === 0) return '  nodes         none (add some to the mesh file)\n';
  const width = Math.max(4, ...nodes.map((n) => n.id.length));
  const rows = nodes.map(
    (n) => `                ${n.id.padEnd(width)}  ${n.link.padEnd(10)} ${String(n.tools).padStart(5)}`,
  );
  return `  nodes         ${'NAME'.padEnd(width)}  ${'LINK'.padEnd(10)} ${'TOOLS'.padStart(5)}\n${rows.join('\n')}\n`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
