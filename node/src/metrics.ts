import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A node's Prometheus metrics (prom-client, as the hub's). Labels are bounded: the tools this node
 * serves (a call reaches the counter only once its name was found), statuses and sources from
 * fixed lists. Never a principal or an argument. The audit gauges are read when Prometheus
 * scrapes.
 */

const CALL_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface AuditProgress {
  /** Rows this node has written (the chain's head). */
  recorded(): number;
  /** Rows written but not yet committed by the hub; undefined while not enrolled. */
  backlog(): number | undefined;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'tool' | 'status' | 'source'>;
  private readonly callSeconds: Histogram<'tool'>;

  constructor(audit: AuditProgress) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'brainmesh_node_' });
    this.calls = new Counter({
      name: 'brainmesh_node_tool_calls_total',
      help: 'Tool calls this node ran, by tool, status (ok, error, cancelled) and source (live, cached, sample).',
      labelNames: ['tool', 'status', 'source'],
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'brainmesh_node_tool_call_duration_seconds',
      help: 'How long each tool ran on this node, by tool.',
      labelNames: ['tool'],
      buckets: CALL_SECONDS,
      registers,
    });
    new Gauge({
      name: 'brainmesh_node_audit_rows_recorded',
      help: 'Audit rows this node has written (the head of its chain).',
      registers,
      collect() {
        this.set(audit.recorded());
      },
    });
    new Gauge({
      name: 'brainmesh_node_audit_rows_unshipped',
      help: 'Audit rows written here and not yet committed by the hub.',
      registers,
      collect() {
        const backlog = audit.backlog();
        if (backlog !== undefined) this.set(backlog);
      },
    });
  }

  toolCall(tool: string, status: string, source: string, ms: number): void {
    this.calls.inc({ tool, status, source });
    this.callSeconds.observe({ tool }, ms / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
