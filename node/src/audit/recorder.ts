import { EventEmitter } from 'node:events';
import {
  AUDIT_COLUMNS,
  type AuditEvent,
  type AuditFields,
  type AuditRow,
  type AuditSource,
  type AuditStatus,
  auditHash,
  type Db,
  eventFromRow,
  GENESIS_HASH,
  insertAuditRows,
  type Logger,
} from '@brainmesh/shared';

/**
 * The node's own audit table, `tool_executions`: one row per tool execution, written before the
 * response leaves the node. Rows carry a per-node sequence and a hash chain, so they are written
 * by one writer in order: calls that finish together are committed together (one transaction,
 * one fsync), which keeps the write off the critical path's cost without giving up "written
 * before answered".
 */

export interface Execution {
  at: Date;
  tool: string;
  params: unknown;
  response: unknown;
  error: string | null;
  durationMs: number;
  status: AuditStatus;
  source: AuditSource;
  principal: string;
  traceId: string;
}

interface Pending {
  fields: Omit<AuditFields, 'seq'>;
  resolve(seq: number): void;
  reject(err: unknown): void;
}

interface Head {
  seq: number;
  hash: string;
}

/** Rows written in one transaction at most; more wait for the next. */
const MAX_GROUP = 200;
/** duration_ms is a Postgres integer: a call longer than 24 days is recorded as that long. */
const MAX_INT = 2_147_483_647;

export class AuditRecorder extends EventEmitter<{ recorded: [number] }> {
  private head: Head = { seq: 0, hash: GENESIS_HASH };
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  /**
   * Finds where the chain stands. A node with no rows yet starts after `base`: what the hub
   * already holds of this node's name, when it was enrolled again with a fresh data folder.
   */
  async open(base?: Head): Promise<void> {
    const last = await readHead(this.db);
    this.head = last ?? base ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** The newest seq written. */
  get headSeq(): number {
    return this.head.seq;
  }

  /** Writes one execution; resolves with its seq once it is committed. */
  record(execution: Execution): Promise<number> {
    const fields: Omit<AuditFields, 'seq'> = {
      nodeId: this.nodeId,
      at: execution.at.toISOString(),
      tool: execution.tool,
      params: execution.params ?? null,
      response: execution.response ?? null,
      error: execution.error,
      durationMs: Math.min(MAX_INT, Math.max(0, Math.round(execution.durationMs))),
      status: execution.status,
      source: execution.source,
      principal: execution.principal,
      traceId: execution.traceId,
    };
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      this.kick();
    });
  }

  /** Starts the writer unless it runs; a row queued as it finished starts it again. */
  private kick(): void {
    if (this.writing !== undefined) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Waits for every execution handed over so far to be written. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async drain(): Promise<void> {
    // Let the calls finishing in this same turn join the group.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      let { seq, hash } = this.head;
      const events: AuditEvent[] = group.map(({ fields }) => {
        seq += 1;
        const event = { ...fields, seq, prevHash: hash, hash: '' };
        event.hash = auditHash(hash, event);
        hash = event.hash;
        return event;
      });
      try {
        await insertAuditRows(this.db, 'tool_executions', events);
      } catch (err) {
        // Nothing of the group was written; the chain stays where it was.
        this.logger.error({ err, rows: group.length }, 'audit rows could not be written');
        for (const p of group) p.reject(err);
        continue;
      }
      this.head = { seq, hash };
      group.forEach((p, i) => {
        p.resolve(events[i]!.seq);
      });
      this.emit('recorded', seq);
    }
  }
}

async function readHead(db: Db): Promise<Head | undefined> {
  const { rows } = await db.query<{ seq: string | number; hash: string }>(
    'SELECT seq, hash FROM tool_executions ORDER BY seq DESC LIMIT 1',
  );
  return rows[0] === undefined ? undefined : { seq: Number(rows[0].seq), hash: rows[0].hash };
}

/** Rows after `afterSeq`, oldest first, as events. */
export async function readEvents(db: Db, nodeId: string, afterSeq: number, limit: number): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM tool_executions WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  );
  return rows.map((r) => eventFromRow(r, nodeId));
}
