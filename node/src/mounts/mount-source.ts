import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  type AuditPolicy,
  BrainmeshError,
  EMPTY_LISTS,
  type Logger,
  listEverything,
  type McpLists,
} from '@brainmesh/shared';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  type CompleteRequest,
  type CompleteResult,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type GetPromptResult,
  type Prompt,
  PromptListChangedNotificationSchema,
  type ReadResourceResult,
  type Resource,
  ResourceListChangedNotificationSchema,
  type ResourceTemplate,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { MountConfig } from '../config.js';
import type { CallContext, Source } from '../source.js';
import { HttpClientTransport } from './http-transport.js';
import { ModernMount } from './modern-mount.js';

/** Stands for the mount's own data folder in its env values (written as is in the YAML). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text a config holds
export const MOUNT_DATA = '${MOUNT_DATA}';

// Commands named in a mount (`mcp-server-everything`) resolve against the project's own
// node_modules/.bin first, so a server installed as a dependency needs no global install.
const PROJECT_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'node_modules',
  '.bin',
);

/**
 * An existing MCP server served as part of this node. One process (or one HTTP session) per
 * mount, shared by every caller; when it dies it is restarted with exponential backoff, and
 * closing the mount stops it for good. Its lists are cached and refreshed when it says they
 * changed.
 *
 * A Ctrl-C reaches a mounted process as it reaches the node (one process group), so a mounted
 * server often exits while the node is shutting down: `stopRestarts()` comes first in the node's
 * shutdown, and a connection still being made when it comes is closed, not kept.
 */
export class MountSource implements Source {
  readonly name: string;
  private client: Client | undefined;
  /** Instead of `client`: an HTTP mount that speaks the 2026-07-28 revision (modern-mount.ts). */
  private modern: ModernMount | undefined;
  /** A connection being made (a process starting), not yet `client`. */
  private pending: { client: Client; transport: Transport } | undefined;
  /** The process of each connected client, until it has exited: what `kill()` ends. */
  private readonly pids = new Map<Client, number>();
  private lists: McpLists = EMPTY_LISTS;
  private closing = false;
  private readonly closed = new AbortController();
  private readonly listeners = new Set<() => void>();
  /** Calls in flight, newest last: where a request from the mounted server is sent on. */
  private readonly inFlight: CallContext[] = [];
  private readonly prefix: string;

  /**
   * @param dataDir A folder of this mount's own in the node's data folder, made on first use:
   *   `${MOUNT_DATA}` in its env values stands for it (where server-memory keeps its graph).
   */
  constructor(
    private readonly config: MountConfig,
    private readonly logger: Logger,
    private readonly dataDir?: string,
  ) {
    this.name = config.name;
    this.prefix = config.prefix === undefined ? '' : `${config.prefix}_`;
  }

  /**
   * Makes the first connection. A mount that cannot start does not hold up the node: it is
   * reported, its tools are absent, and it keeps being retried with backoff.
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      this.logger.warn({ mount: this.name, err }, 'mount failed to start; retrying in the background');
      this.keepTrying();
    }
  }

  /** One policy for every tool of the mount, from its config. */
  auditPolicy(): AuditPolicy | undefined {
    return this.config.audit;
  }

  private keepTrying(): void {
    this.connectWithRetry().catch((err) => {
      if (!this.closing) this.logger.error({ mount: this.name, err }, 'mount restart abandoned');
    });
  }

  /** From now on nothing is restarted or connected; what runs is stopped by `close()`. */
  stopRestarts(): void {
    this.closing = true;
    this.closed.abort();
  }

  get state(): 'up' | 'restarting' | 'closed' {
    if (this.closing) return 'closed';
    return this.client === undefined && this.modern === undefined ? 'restarting' : 'up';
  }

  onListChanged(listener: () => void): void {
    this.listeners.add(listener);
  }

  private emitChanged(): void {
    for (const listener of this.listeners) listener();
  }

  /** Connects until it works or the mount closes; the wait between tries ends when it closes. */
  private async connectWithRetry(): Promise<void> {
    let backoff: IBackoff<unknown> = new ExponentialBackoff({ initialDelay: 200, maxDelay: 30_000 }).next();
    while (!this.closing) {
      try {
        await this.connect();
        return;
      } catch (err) {
        if (this.closing) return;
        backoff = backoff.next(undefined);
        this.logger.warn({ mount: this.name, err, retryInMs: Math.round(backoff.duration) }, 'mount failed to start');
        await sleep(backoff.duration, undefined, { signal: this.closed.signal }).catch(() => {});
      }
    }
  }

  private async connect(): Promise<void> {
    // An HTTP server is asked first whether it speaks 2026-07-28 (`server/discover`); one that
    // does not is connected to the 2025 way below.
    if (this.config.transport === 'http' && (await this.connectModern(this.config))) return;
    const client = new Client(
      { name: 'brainmesh-node', version: '0.1.0' },
      { capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, (request) => this.forward().sample(request.params));
    client.setRequestHandler(ElicitRequestSchema, (request) => this.forward().elicit(request.params));
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refresh());
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.refresh());
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.refresh());
    if (this.closing) return;
    const transport = this.transport();
    this.pending = { client, transport };
    try {
      await client.connect(transport, { timeout: 30_000 });
    } catch (err) {
      // A process that started but never answered must not be left behind.
      await client.close().catch(() => {});
      throw err;
    } finally {
      this.pending = undefined;
    }
    const pid = transport instanceof StdioClientTransport ? transport.pid : null;
    if (pid !== null) this.pids.set(client, pid);
    client.onclose = () => this.onLost(client);
    // Shutdown began while it was starting: it is stopped, not kept (close() did not see it).
    if (this.closing) {
      await client.close().catch(() => {});
      return;
    }
    this.client = client;
    this.lists = await this.fetchLists(client);
    this.logger.info({ mount: this.name, pid, tools: this.lists.tools.length }, 'mount started');
    this.emitChanged();
  }

  private async connectModern(c: { url: string; headers: Record<string, string> }): Promise<boolean> {
    const modern = await ModernMount.connect(new URL(c.url), c.headers, () => this.forward());
    if (modern === undefined) return false;
    if (this.closing) {
      await modern.close().catch(() => {});
      return true;
    }
    this.modern = modern;
    this.lists = this.prefixed(await modern.lists());
    await modern
      .onListChanged(() => void this.refresh())
      .catch((err: unknown) => {
        this.logger.warn({ mount: this.name, err }, 'mount offers list changes but would not send them');
      });
    this.logger.info({ mount: this.name, era: '2026-07-28', tools: this.lists.tools.length }, 'mount started');
    this.emitChanged();
    return true;
  }

  private transport(): Transport {
    const c = this.config;
    if (c.transport === 'http') {
      return new HttpClientTransport(new URL(c.url), c.headers);
    }
    const env = { ...getDefaultEnvironment(), ...this.expand(c.env) };
    if (existsSync(PROJECT_BIN)) env.PATH = `${PROJECT_BIN}${path.delimiter}${env.PATH ?? ''}`;
    const transport = new StdioClientTransport({
      command: c.command,
      args: c.args,
      env,
      stderr: 'pipe',
      ...(c.cwd === undefined ? {} : { cwd: c.cwd }),
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      this.logger.debug({ mount: this.name, stderr: chunk.toString('utf8').trimEnd() }, 'mount stderr');
    });
    return transport;
  }

  /** The env values as given, with `${MOUNT_DATA}` made into the mount's own folder. */
  private expand(env: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (!value.includes(MOUNT_DATA)) {
        out[name] = value;
        continue;
      }
      if (this.dataDir === undefined) {
        throw new BrainmeshError(
          'CONFIG_INVALID',
          `mount ${this.name}: env ${name} uses ${MOUNT_DATA}, but this node has no data folder`,
        );
      }
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      out[name] = value.replaceAll(MOUNT_DATA, this.dataDir);
    }
    return out;
  }

  private onLost(client: Client): void {
    this.pids.delete(client);
    if (this.client !== client) return;
    this.client = undefined;
    this.lists = EMPTY_LISTS;
    if (this.closing) return;
    this.logger.warn({ mount: this.name }, 'mount exited; restarting');
    this.emitChanged();
    this.keepTrying();
  }

  private async refresh(): Promise<void> {
    const client = this.client;
    const modern = this.modern;
    if (client === undefined && modern === undefined) return;
    try {
      this.lists = modern !== undefined ? this.prefixed(await modern.lists()) : await this.fetchLists(client as Client);
      this.emitChanged();
    } catch (err) {
      this.logger.warn({ mount: this.name, err }, 'mount list refresh failed');
    }
  }

  private async fetchLists(client: Client): Promise<McpLists> {
    return this.prefixed(await listEverything(client));
  }

  private prefixed(lists: McpLists): McpLists {
    return {
      ...lists,
      tools: lists.tools.map((t) => ({ ...t, name: this.prefix + t.name })),
      prompts: lists.prompts.map((p) => ({ ...p, name: this.prefix + p.name })),
    };
  }

  /** The caller a request from the mounted server belongs to: the newest call in flight. */
  private forward(): CallContext {
    const ctx = this.inFlight.at(-1);
    if (ctx === undefined)
      throw new BrainmeshError('INVALID_INPUT', `mount ${this.name} asked the client with no call in flight`);
    return ctx;
  }

  private live(): Client {
    if (this.client === undefined) {
      throw new BrainmeshError('UPSTREAM_UNAVAILABLE', `mounted server ${this.name} is restarting; try again shortly`);
    }
    return this.client;
  }

  private unprefixed(name: string): string {
    return this.prefix !== '' && name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
  }

  private async track<T>(ctx: CallContext, work: () => Promise<T>): Promise<T> {
    this.inFlight.push(ctx);
    try {
      return await work();
    } finally {
      this.inFlight.splice(this.inFlight.indexOf(ctx), 1);
    }
  }

  async listTools(): Promise<Tool[]> {
    return this.lists.tools;
  }

  callTool(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult> {
    const modern = this.modern;
    const client = modern === undefined ? this.live() : undefined;
    return this.track(ctx, async () => {
      // Relayed in order and flushed before the result, so no update trails the answer.
      let relayed = Promise.resolve();
      const onprogress = (p: { progress: number; total?: number | undefined; message?: string | undefined }) => {
        const update = {
          progress: p.progress,
          ...(p.total === undefined ? {} : { total: p.total }),
          ...(p.message === undefined ? {} : { message: p.message }),
        };
        relayed = relayed.then(() => ctx.progress(update)).catch(() => {});
      };
      const result =
        modern !== undefined
          ? await modern.callTool(this.unprefixed(name), args, { signal: ctx.signal, onprogress })
          : await (client as Client).request(
              { method: 'tools/call', params: { name: this.unprefixed(name), arguments: args } },
              CallToolResultSchema,
              { signal: ctx.signal, onprogress, resetTimeoutOnProgress: true, timeout: 10 * 60_000 },
            );
      await relayed;
      return result as CallToolResult;
    });
  }

  async listResources(): Promise<Resource[]> {
    return this.lists.resources;
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    return this.lists.templates;
  }

  readResource(uri: string, ctx: CallContext): Promise<ReadResourceResult> {
    const modern = this.modern;
    if (modern !== undefined) return this.track(ctx, () => modern.readResource(uri, ctx.signal));
    const client = this.live();
    return this.track(ctx, () => client.readResource({ uri }, { signal: ctx.signal }));
  }

  async listPrompts(): Promise<Prompt[]> {
    return this.lists.prompts;
  }

  getPrompt(name: string, args: Record<string, string>, ctx: CallContext): Promise<GetPromptResult> {
    const modern = this.modern;
    if (modern !== undefined) return this.track(ctx, () => modern.getPrompt(this.unprefixed(name), args, ctx.signal));
    const client = this.live();
    return this.track(ctx, () =>
      client.getPrompt({ name: this.unprefixed(name), arguments: args }, { signal: ctx.signal }),
    );
  }

  complete(params: CompleteRequest['params'], ctx: CallContext): Promise<CompleteResult> {
    const ref =
      params.ref.type === 'ref/prompt' ? { ...params.ref, name: this.unprefixed(params.ref.name) } : params.ref;
    const modern = this.modern;
    if (modern !== undefined) return this.track(ctx, () => modern.complete({ ...params, ref }, ctx.signal));
    const client = this.live();
    return this.track(ctx, () => client.complete({ ...params, ref }, { signal: ctx.signal }));
  }

  hasResource(uri: string): boolean {
    return this.lists.resources.some((r) => r.uri === uri);
  }

  async close(): Promise<void> {
    this.stopRestarts();
    const client = this.client;
    const pending = this.pending?.client;
    const modern = this.modern;
    this.client = undefined;
    this.modern = undefined;
    await Promise.all([client?.close(), pending?.close().catch(() => {}), modern?.close().catch(() => {})]);
  }

  /**
   * SIGKILL to its process, for a shutdown that has run out of time: a mounted server that
   * ignores the polite ways to stop (stdin closed, SIGTERM) must not outlive the node.
   */
  kill(): void {
    this.stopRestarts();
    const starting = this.pending?.transport;
    const pids = [...this.pids.values(), starting instanceof StdioClientTransport ? starting.pid : null];
    for (const pid of pids) {
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
