import { EventEmitter } from 'node:events';
import {
  AUDIT_COLUMNS,
  type AuditEvent,
  type AuditFields,
  type AuditRow,
  auditHash,
  type ChainPoint,
  type Db,
  eventFromRow,
  GENESIS_HASH,
  insertAuditRows,
  type Logger,
  MAX_DURATION_MS,
} from '@brainmesh/shared';

/**
 * The node's own audit table, `tool_executions`: one row per tool execution, written before the
 * response leaves the node. Rows carry a per-node sequence and a hash chain, so they are written
 * by one writer in order: calls that finish together are committed together (one transaction,
 * one fsync), which keeps the write off the critical path's cost without giving up "written
 * before answered".
 */

/** What the node's MCP server hands over for one call; the recorder adds node, seq and hashes. */
export type Execution = Omit<AuditFields, 'nodeId' | 'seq' | 'at'> & { at: Date };

interface Pending {
  fields: Omit<AuditFields, 'seq'>;
  resolve(seq: number): void;
  reject(err: unknown): void;
}

/** Rows written in one transaction at most; more wait for the next. */
const MAX_GROUP = 200;

export class AuditRecorder extends EventEmitter<{ recorded: [number] }> {
  private head: ChainPoint = { seq: 0, hash: GENESIS_HASH };
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
  async open(base?: ChainPoint): Promise<void> {
    const last = await readChainPoint(this.db);
    this.head = last ?? base ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** The newest seq written. */
  get headSeq(): number {
    return this.head.seq;
  }

  /** Writes one execution; resolves with its seq once it is committed. */
  record(execution: Execution): Promise<number> {
    const fields: Omit<AuditFields, 'seq'> = {
      ...execution,
      nodeId: this.nodeId,
      at: execution.at.toISOString(),
      durationMs: Math.min(MAX_DURATION_MS, Math.max(0, Math.round(execution.durationMs))),
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

async function readChainPoint(db: Db): Promise<ChainPoint | undefined> {
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
