import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { KeyRing, Logger, Store } from '@brainmesh/shared';
import type { Registry } from '../registry.js';
import { Catalog } from './catalog.js';
import { type LinkSettings, NodeLink } from './node-link.js';

/**
 * Every registered node's link, kept in step with the registry, and the catalog built over
 * them. `changed` fires (coalesced) whenever what clients can list may have changed;
 * `resourceUpdated` when a node says one of its resources changed (for the sessions subscribed).
 */
export class Mesh extends EventEmitter<{
  changed: [];
  resourceUpdated: [nodeId: string, uri: string, message: string | undefined];
}> {
  readonly links = new Map<string, NodeLink>();
  catalog: Catalog = new Catalog(this.links);
  private unwatch: (() => Promise<void>) | undefined;
  private pending = false;

  constructor(
    private readonly deps: {
      registry: Registry;
      ring: KeyRing;
      hubId: string;
      logger: Logger;
      settings: LinkSettings;
      /** Link token ids are remembered here, so none is accepted twice. */
      store: Store;
    },
  ) {
    super();
    this.setMaxListeners(0);
  }

  get hubId(): string {
    return this.deps.hubId;
  }

  /** This hub process, of the replicas that share the hub's id: a dialling node links to each. */
  readonly instance = randomUUID();

  /** How the hub reaches nodes, and the bounds of what it passes on to them. */
  get settings(): Readonly<LinkSettings> {
    return this.deps.settings;
  }

  async start(): Promise<void> {
    this.deps.registry.on('change', (event) => {
      this.sync(event.nodeId).catch((err) =>
        this.deps.logger.error({ err, node: event.nodeId }, 'registry reload failed'),
      );
    });
    this.unwatch = await this.deps.registry.watch();
    for (const record of await this.deps.registry.list()) this.add(record);
    this.rebuild();
  }

  private add(record: Parameters<NodeLink['update']>[0]): void {
    const link = new NodeLink(record, {
      hubId: this.deps.hubId,
      instance: this.instance,
      ring: this.deps.ring,
      store: this.deps.store,
      logger: this.deps.logger,
      settings: this.deps.settings,
    });
    link.on('changed', () => this.rebuild());
    link.on('resourceUpdated', (uri, message) => this.emit('resourceUpdated', record.id, uri, message));
    this.links.set(record.id, link);
    link.start();
  }

  /** Brings one node's link in line with the registry. */
  private async sync(nodeId: string): Promise<void> {
    const record = await this.deps.registry.get(nodeId);
    const link = this.links.get(nodeId);
    if (record === undefined) {
      if (link !== undefined) {
        link.stop();
        this.links.delete(nodeId);
        this.deps.logger.info({ node: nodeId }, 'node removed');
      }
    } else if (link === undefined) {
      this.add(record);
    } else {
      link.update(record);
    }
    this.rebuild();
  }

  private rebuild(): void {
    if (this.pending) return;
    this.pending = true;
    // Several links often change in one tick (a restart, a registry reload): one rebuild, one event.
    setImmediate(() => {
      this.pending = false;
      this.catalog = new Catalog(this.links);
      for (const problem of this.catalog.problems) this.deps.logger.error(problem, 'catalog conflict');
      this.emit('changed');
    });
  }

  async endSession(sessionId: string): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.endSession(sessionId)));
  }

  async stop(): Promise<void> {
    await this.unwatch?.();
    for (const link of this.links.values()) link.stop();
    this.links.clear();
  }
}
