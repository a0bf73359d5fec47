import type { Db, Logger } from '@brainmesh/shared';

/**
 * The hub's own record of each tool call (who, which node and tool, how long in total, how it
 * ended), under the trace id the node's audit row carries. The hub's own tools are recorded
 * under the node `mesh`; they have no node row, so this is their only trace. Written in the
 * background, a group at a time, so the call's answer never waits on it; a hub killed outright
 * loses at most the last moment's records, while the node's row (the system of record) is
 * already written.
 */

export interface HubCall {
  at: Date;
  traceId: string;
  principal: string;
  node: string;
  tool: string;
  durationMs: number;
  outcome: string;
}

const FLUSH_MS = 200;
const MAX_GROUP = 500;
/** Past this many waiting records (the database is down), the oldest are dropped and counted. */
const MAX_PENDING = 50_000;

export class HubCallLog {
  private pending: HubCall[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  /** Told of each call as it is recorded (the metrics). */
  onRecord: ((call: HubCall) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  record(call: HubCall): void {
    this.onRecord?.(call);
    this.pending.push(call);
    if (this.pending.length > MAX_PENDING) {
      this.dropped += this.pending.length - MAX_PENDING;
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what is waiting; for shutdown. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.write();
  }

  private write(): Promise<void> {
    this.writing = (this.writing ?? Promise.resolve()).then(async () => {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, MAX_GROUP);
        try {
          await insert(this.db, group);
        } catch (err) {
          this.pending.unshift(...group);
          this.logger.warn({ err, waiting: this.pending.length }, 'hub call records could not be written; will retry');
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            void this.write();
          }, 5_000);
          this.timer.unref();
          return;
        }
      }
      if (this.dropped > 0) {
        this.logger.error({ dropped: this.dropped }, 'hub call records were dropped while the database was down');
        this.dropped = 0;
      }
    });
    return this.writing;
  }
}

async function insert(db: Db, calls: readonly HubCall[]): Promise<void> {
  await db.insertRows({
    table: 'hub_calls',
    columns: 'at, trace_id, principal, node_id, tool, duration_ms, outcome',
    record: 'at timestamptz, trace_id text, principal text, node_id text, tool text, duration_ms integer, outcome text',
    rows: calls.map((c) => ({
      at: c.at.toISOString(),
      trace_id: c.traceId,
      principal: c.principal,
      node_id: c.node,
      tool: c.tool,
      duration_ms: Math.round(c.durationMs),
      outcome: c.outcome,
    })),
  });
}
