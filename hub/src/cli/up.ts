import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isBrainmeshError, portFlag, type SupervisorMessage, UsageError } from '@brainmesh/shared';
import { adminRequest, type HubTarget } from './admin-client.js';
import type { Io } from './command.js';
import { loadMeshLayout, type MeshLayout } from './mesh-layout.js';
import { RestartPolicy } from './restarts.js';
import { type Exit, howItStopped, NotReady, Supervised } from './supervisor.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The program itself, for the processes `up` starts and for the Claude Desktop snippet. */
export const PROGRAM = path.join(ROOT, 'scripts', 'brainmesh.mjs');

export const UP_USAGE = `usage: brainmesh up [--port N] [--mesh FILE] [--home DIR]

Runs the whole local mesh: the hub and every node in the mesh file, on loopback, with embedded
storage in the data folder (or the real Postgres and Redis that DATABASE_URL and REDIS_URL
name). The first run enrols the nodes and creates the operator API key; later runs reuse both.
A process that crashes is started again. Ctrl-C stops everything.

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
    return await up.runUntilStopped(signals);
  } catch (err) {
    // Whatever went wrong, the operator reads one line saying what and what to do: never a stack.
    await up.stop().catch(() => {});
    io.err(`brainmesh up: ${explain(err, home).replace(/\s*\n\s*/g, '; ')}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/** A failure `up` foresaw, with a message that says what to do. */
class UpFailure extends Error {}

/** One line for any failure of `up`: what failed, and how to fix it or where to read more. */
function explain(err: unknown, home: string): string {
  if (err instanceof NotReady) return `${err.message} (its log: ${err.logFile})`;
  if (err instanceof UsageError || err instanceof UpFailure || isBrainmeshError(err)) return err.message;
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `unexpected failure: ${message} (the logs are in ${path.join(home, 'logs')})`;
}

type Ready = Extract<SupervisorMessage, { type: 'ready' }>;
const isReady = (m: SupervisorMessage): m is Ready => m.type === 'ready';
/** The hub always listens, so its "ready" has a URL. */
const isListening = (m: SupervisorMessage): m is Ready & { url: string } => isReady(m) && m.url !== undefined;

type Kind = 'hub' | 'node';

/** The hub and nodes `up` runs, and what it tells the operator about them. */
class LocalMesh {
  private layout: MeshLayout | undefined;
  private hub: Supervised | undefined;
  private hubUrl = '';
  private target: HubTarget | undefined;
  private readonly nodes = new Map<string, Supervised>();
  private readonly restarts = new Map<string, RestartPolicy>();
  /** The hub's word, from whichever hub process runs, that a node's link came up. */
  private readonly linked = new EventEmitter<{ up: [node: string] }>();
  private stopping = false;
  private readonly stopped = new AbortController();
  /** Crashes are handled once the mesh is up; during start a crash fails the start. */
  private readonly serving: Promise<void>;
  private beginServing: () => void = () => {};
  /** Ends `runUntilStopped` with an exit code. */
  private finish: (code: number) => void = () => {};

  constructor(
    private readonly io: Io,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly home: string,
  ) {
    this.serving = new Promise((resolve) => {
      this.beginServing = resolve;
    });
    this.linked.setMaxListeners(0);
  }

  private say(line: string): void {
    this.io.out(`${line}\n`);
  }

  async start(layout: MeshLayout): Promise<void> {
    this.layout = layout;
    const began = Date.now();
    await checkPorts(layout);
    try {
      mkdirSync(path.join(this.home, 'logs'), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new UpFailure(
        `cannot use ${this.home} as the data folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another with --home DIR`,
      );
    }
    const keyFile = path.join(this.home, 'operator-key');
    const firstRun = !existsSync(keyFile);
    this.say(`brainmesh up: ${firstRun ? 'a new mesh' : 'the mesh'} in ${this.home}`);

    this.say('  hub       starting');
    const hubStarted = Date.now();
    const hub = await this.startHub(layout.hub.port);
    this.hubUrl = hub.url;
    this.say(
      `  hub       ready at ${hub.url}, storage ${hub.storage.database}/${hub.storage.store} (${seconds(hubStarted)})`,
    );
    const target: HubTarget = { hub: hub.url, apiKey: readFileSync(keyFile, 'utf8').trim() };
    this.target = target;

    await Promise.all(
      layout.nodes.map(async (node) => {
        const started = Date.now();
        const token = await this.enrolmentFor(node.name);
        this.say(`  ${node.name.padEnd(9)} ${token === undefined ? 'starting' : 'starting and enrolling (first run)'}`);
        await this.startNode(node, token);
        this.say(`  ${node.name.padEnd(9)} ready (${seconds(started)})`);
      }),
    );

    const { nodes } = await adminRequest<{ nodes: NodeView[] }>(target, 'GET', '/admin/nodes');
    const shown = nodes.filter((n) => layout.nodes.some((l) => l.name === n.id));
    this.say(`\nbrainmesh is up (${seconds(began)})\n`);
    this.say(`  MCP endpoint  ${hub.url}/mcp`);
    this.say(`  dashboard     ${hub.url}/ui/`);
    const { users } = await adminRequest<{ users: unknown[] }>(target, 'GET', '/admin/users');
    if (users.length === 0) {
      this.say(`                (sign in with an operator account: npx brainmesh users create NAME)`);
    }
    this.say(table(shown));
    if (firstRun) {
      this.say(`  operator API key (admin; saved in ${keyFile}, shown only this once):\n\n    ${target.apiKey}\n`);
    }
    this.say(`Claude Desktop: put this in claude_desktop_config.json (the bridge reads the key from ${this.home}):\n`);
    this.say(JSON.stringify(claudeDesktopConfig(hub.url, this.home), null, 2));
    this.say(`\nlogs: ${path.join(this.home, 'logs')}    stop: Ctrl-C`);
  }

  /** Starts the hub process; resolves when it listens, with its URL and storage. */
  private startHub(port: number): Promise<Ready & { url: string }> {
    const hub = this.spawn('hub', 'hub', ['hub', '--config', this.layout!.hub.config, '--port', String(port)], {
      BRAINMESH_HOME: this.home,
    });
    this.hub = hub;
    hub.onMessage((m) => {
      if (m.type === 'node-up') this.linked.emit('up', m.node);
    });
    return hub.waitFor(isListening, 'listening', START_TIMEOUT_MS);
  }

  /** Starts a node process; resolves once the hub has linked to it ("ready" means linked, not merely started). */
  private async startNode(node: MeshLayout['nodes'][number], token: string | undefined): Promise<void> {
    const child = this.spawn('node', node.name, ['node', '--config', node.config], {
      BRAINMESH_HOME: this.nodeHome(node.name),
      BRAINMESH_HUB_URL: this.hubUrl,
      // A node that only dials the hub gets no port unless the mesh file gives it one.
      ...(node.port === undefined ? {} : { BRAINMESH_NODE_PORT: String(node.port) }),
      ...(token === undefined ? {} : { BRAINMESH_ENROLMENT_TOKEN: token }),
    });
    this.nodes.set(node.name, child);
    // Listened for from before the node starts, so its link cannot come up unseen.
    const linked = this.nextLink(node.name, child.logFile);
    linked.catch(() => {});
    let listening: string | undefined;
    child.waitFor(isReady, 'listening', START_TIMEOUT_MS).then(
      (m) => {
        listening = m.url;
      },
      () => {},
    );
    const failed = child.failure();
    failed.catch(() => {});
    await Promise.race([linked, failed]).catch((err: unknown) => {
      if (!(err instanceof NotReady) || !child.running) throw err;
      const said = child.lastComplaint();
      throw new NotReady(
        `node ${node.name} started${listening === undefined ? '' : ` (listening at ${listening})`}, but the hub could not link to it within ${START_TIMEOUT_MS / 1000} s${said === undefined ? '' : ` (it last said: ${said})`}`,
        child.logFile,
      );
    });
  }

  /** Resolves the next time the hub says `node`'s link came up; fails after START_TIMEOUT_MS. */
  private nextLink(node: string, logFile: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.linked.off('up', onUp);
        clearTimeout(timer);
      };
      const onUp = (name: string) => {
        if (name !== node) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new NotReady(`node ${node} was not linked within ${START_TIMEOUT_MS / 1000} s`, logFile));
      }, START_TIMEOUT_MS);
      timer.unref();
      this.linked.on('up', onUp);
    });
  }

  private nodeHome(name: string): string {
    return path.join(this.home, 'nodes', name);
  }

  /**
   * A one-time token for a node the hub does not know yet, or none. A node whose data folder
   * is pinned to a hub that no longer knows it (the hub's data was wiped) is enrolled anew.
   */
  private async enrolmentFor(name: string): Promise<string | undefined> {
    const target = this.target!;
    const linkFile = path.join(this.nodeHome(name), 'link.json');
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

  private spawn(kind: Kind, name: string, args: string[], extra: Record<string, string>): Supervised {
    if (this.stopping) throw new UpFailure(`not starting ${name}: the mesh is stopping`);
    const env: NodeJS.ProcessEnv = { ...this.env };
    for (const key of NOT_INHERITED) delete env[key];
    const child = new Supervised(name, {
      program: PROGRAM,
      args,
      env: { ...env, ...extra, BRAINMESH_LOG_FORMAT: 'json' },
      logFile: path.join(this.home, 'logs', `${name}.log`),
    });
    void Promise.all([child.exited, this.serving]).then(([exit]) => {
      if (this.stopping || this.current(kind, name) !== child) return;
      this.crashed(kind, name, child, exit).catch((err: unknown) => {
        if (!this.stopping)
          this.say(`${kind === 'hub' ? 'the hub' : name} could not be restarted: ${explain(err, this.home)}`);
      });
    });
    return child;
  }

  private current(kind: Kind, name: string): Supervised | undefined {
    return kind === 'hub' ? this.hub : this.nodes.get(name);
  }

  /**
   * A process stopped while the mesh runs. A crash (a signal, or an exit code other than 0) is
   * restarted with backoff, until it crashes too often too soon; an exit 0 is a shutdown someone
   * asked for (a SIGTERM), which is respected. The nodes keep running whatever happens to the
   * hub; while it restarts, their links are down.
   */
  private async crashed(kind: Kind, name: string, child: Supervised, exit: Exit): Promise<void> {
    await child.stop();
    const label = kind === 'hub' ? 'the hub' : name;
    const what = `${label} stopped (${howItStopped(exit)}): ${child.reason()}`;
    if (exit.code === 0) {
      if (kind === 'hub') {
        this.say(`${what}; stopping the mesh`);
        this.finish(1);
      } else {
        this.say(`${what}; it was stopped from outside brainmesh up, so it stays stopped; the rest keeps running`);
      }
      return;
    }
    const policy = this.restarts.get(`${kind}:${name}`) ?? new RestartPolicy();
    this.restarts.set(`${kind}:${name}`, policy);
    const next = policy.crashed(child.startedAt);
    if (!next.restart) {
      this.say(
        `${what}; not restarting it: ${next.why} (its log: ${child.logFile}); ${kind === 'hub' ? 'stopping the mesh' : 'the rest keeps running'}`,
      );
      if (kind === 'hub') this.finish(1);
      return;
    }
    this.say(`${what}; restarting in ${next.delayMs / 1000} s`);
    await sleep(next.delayMs, undefined, { signal: this.stopped.signal }).catch(() => {});
    if (this.stopping) return;
    const started = Date.now();
    try {
      if (kind === 'hub') {
        const hub = await this.startHub(Number(new URL(this.hubUrl).port));
        this.say(`${label} ready again at ${hub.url} (${seconds(started)})`);
      } else {
        const node = this.layout!.nodes.find((n) => n.name === name)!;
        // Enrolled unless it crashed during its first enrolment.
        const token = existsSync(path.join(this.nodeHome(name), 'link.json'))
          ? undefined
          : await this.enrolmentFor(name);
        await this.startNode(node, token);
        this.say(`${label} ready again (${seconds(started)})`);
      }
    } catch (err) {
      if (this.stopping) return;
      const now = this.current(kind, name);
      // A new process that stopped before it was ready is a crash like any other: handled as one.
      if (now !== undefined && !now.running) return;
      this.say(`${label} restarted, but ${explain(err, this.home)}`);
    }
  }

  /** Serves until SIGINT or SIGTERM (or the hub stops for good), then stops every process. */
  async runUntilStopped(signals: NodeJS.EventEmitter): Promise<number> {
    const outcome = new Promise<number>((resolve) => {
      this.finish = resolve;
    });
    const stop = () => this.finish(0);
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
    this.beginServing();
    const code = await outcome;
    signals.off('SIGINT', stop);
    signals.off('SIGTERM', stop);
    this.say('stopping');
    const forced = () => {
      for (const child of [...this.nodes.values(), this.hub]) void child?.stop(0);
    };
    signals.once('SIGINT', forced);
    await this.stop();
    signals.off('SIGINT', forced);
    this.say('stopped');
    return code;
  }

  /** Nodes first, so none of them is left calling a hub that is gone; then the hub. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
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
    if (node.port !== undefined && node.port !== 0 && !(await portFree(node.port))) {
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
