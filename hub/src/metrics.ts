import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Mesh } from './mesh/mesh.js';

/**
 * The hub's Prometheus metrics (prom-client: the maintained client, with the process metrics and
 * the text format done). Every label comes from a bounded set: node ids of the registry, tool
 * names of the catalog (a name that routes nowhere is counted as `unknown`), outcomes, limit
 * classes and link states from fixed lists. Never a principal, a key or an argument.
 *
 * Counting is a few map lookups and additions on the call's path; the link gauges are read from
 * the mesh only when Prometheus scrapes.
 */

/** How a call ended, as the hub's call record says (`hub_calls.outcome`). */
export type CallOutcome = 'ok' | 'tool-error' | 'rate-limited' | 'cancelled' | 'failed' | 'refused';

const CALL_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;

export class HubMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'node' | 'tool' | 'outcome'>;
  private readonly callSeconds: Histogram<'node'>;
  private readonly refusals: Counter<'limit' | 'class'>;
  private readonly auditRows: Counter<'node'>;
  private readonly auditLag: Gauge<'node'>;

  constructor(mesh: Mesh) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'brainmesh_hub_' });
    this.calls = new Counter({
      name: 'brainmesh_hub_tool_calls_total',
      help: 'Tool calls the hub served, by node (mesh: its own tools), tool and outcome.',
      labelNames: ['node', 'tool', 'outcome'],
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'brainmesh_hub_tool_call_duration_seconds',
      help: 'Time from a tool call reaching the hub to its answer, by node.',
      labelNames: ['node'],
      buckets: CALL_SECONDS,
      registers,
    });
    this.refusals = new Counter({
      name: 'brainmesh_hub_rate_limit_refusals_total',
      help: 'Refusals by a rate limit: limit is requests, tool-calls or sign-in; class the tool class.',
      labelNames: ['limit', 'class'],
      registers,
    });
    this.auditRows = new Counter({
      name: 'brainmesh_hub_audit_rows_ingested_total',
      help: 'Audit rows from nodes written to the central audit, by node.',
      labelNames: ['node'],
      registers,
    });
    this.auditLag = new Gauge({
      name: 'brainmesh_hub_audit_shipping_lag_seconds',
      help: 'For the last batch a node shipped: how long after its newest row was written it landed here.',
      labelNames: ['node'],
      registers,
    });
    new Gauge({
      name: 'brainmesh_hub_node_up',
      help: 'Whether the link to a node is up (1) or not (0), by node and direction as the node sees it: dial-in (the hub dialled it) or dial-out (it dialled the hub).',
      labelNames: ['node', 'direction'],
      registers,
      collect() {
        this.reset();
        for (const [id, link] of mesh.links) {
          this.set({ node: id, direction: link.direction ?? 'none' }, link.status === 'up' ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'brainmesh_hub_node_circuit_state',
      help: 'Each node’s circuit breaker: 1 for the state it is in, 0 for the others.',
      labelNames: ['node', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [id, link] of mesh.links) {
          const now = link.circuitView().state;
          for (const state of CIRCUIT_STATES) this.set({ node: id, state }, state === now ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'brainmesh_hub_node_tools',
      help: 'Tools a node serves through its link (0 while it is down).',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const [id, link] of mesh.links) this.set({ node: id }, link.status === 'up' ? link.lists.tools.length : 0);
      },
    });
    new Gauge({
      name: 'brainmesh_hub_node_latency_seconds',
      help: 'Each node’s last health-check round trip over its link.',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const [id, link] of mesh.links)
          if (link.latencyMs !== undefined) this.set({ node: id }, link.latencyMs / 1000);
      },
    });
  }

  call(node: string, tool: string, outcome: string, ms: number): void {
    this.calls.inc({ node, tool, outcome });
    this.callSeconds.observe({ node }, ms / 1000);
  }

  /**
   * A rate limiter's refusal, by its bucket's kind (`http:<principal>` is the requests limit,
   * `tool:<class>:<principal>` a tool class's, `signin:<address>` the sign-in form's): only the
   * kind and the class become labels, never the principal or address after them.
   */
  refused(bucket: string): void {
    const [kind = '', toolClass = ''] = bucket.split(':');
    const limit =
      kind === 'http' ? 'requests' : kind === 'tool' ? 'tool-calls' : kind === 'signin' ? 'sign-in' : 'other';
    this.refusals.inc({ limit, class: limit === 'tool-calls' ? toolClass : '' });
  }

  ingested(node: string, rows: number, lagMs: number): void {
    this.auditRows.inc({ node }, rows);
    this.auditLag.set({ node }, lagMs / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
