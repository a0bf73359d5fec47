import { EventEmitter } from 'node:events';
import {
  AUDIT_COLUMNS,
  type AuditEvent,
  type AuditFields,
  type AuditRow,
  auditHash,
  BrainmeshError,
  type ChainPoint,
  checkChain,
  type Db,
  eventFromRow,
  GENESIS_HASH,
  insertAuditRows,
  type Logger,
  MAX_DURATION_MS,
} from '@brainmesh/shared';
import { AuditJournal } from './journal.js';

/**
 * The node's own audit table, `tool_executions`: one row per tool execution, written before the
 * response leaves the node. Rows carry a per-node sequence and a hash chain, so they are written
 * by one writer in order: calls that finish together are written together, which keeps the
 * write off the critical path's cost without giving up "written before answered".
 *
 * With a journal (embedded storage, journal.ts), "written" is appended to the journal, and the
 * rows move into the table in one statement at most MOVE_MS later; the table is what the shipper
 * reads. Without one (real Postgres), each group is committed to the table.
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
/** Rows moved from the journal into the table in one statement at most. */
const MAX_MOVE = 500;
/**
 * How long journaled rows wait for others before moving into the table. Each move is a PGlite
 * statement and its file writes: measured on 16 callers at 530 calls/s, recording cost 606–777
 * µs of CPU a call straight into the table, 277–329 journaled and moved every 50 ms, 219–295
 * every 200 ms. A row reaches the hub later by as much (the shipper then lingers for others).
 */
const MOVE_MS = 200;

export interface AuditRecorderOptions {
  /** The journal file (embedded storage); without it each group is committed to the table. */
  journalPath?: string;
  /** How long journaled rows wait to be moved into the table, gathering others. */
  moveMs?: number;
}

export class AuditRecorder extends EventEmitter<{ recorded: [number] }> {
  private head: ChainPoint = { seq: 0, hash: GENESIS_HASH };
  /** The newest seq in the table (what the shipper can read). */
  private stored = 0;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private journal: AuditJournal | undefined;
  /** Journaled, not yet in the table. */
  private unmoved: AuditEvent[] = [];
  private moveTimer: NodeJS.Timeout | undefined;
  private moveDue = false;
  private moveFailures = 0;

  constructor(
    private readonly db: Db,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly options: AuditRecorderOptions = {},
  ) {
    super();
  }

  /**
   * Finds where the chain stands, first moving into the table what a journal left by a process
   * that died holds. A node with no rows yet starts after `base`: what the hub already holds of
   * this node's name, when it was enrolled again with a fresh data folder.
   */
  async open(base?: ChainPoint): Promise<void> {
    const start = async () => (await readChainPoint(this.db)) ?? base ?? { seq: 0, hash: GENESIS_HASH };
    if (this.options.journalPath !== undefined && this.journal === undefined) {
      const { journal, left } = await AuditJournal.open(this.options.journalPath);
      this.journal = journal;
      if (left.length > 0) await this.recover(left, await start());
    }
    this.head = await start();
    this.stored = this.head.seq;
  }

  /**
   * Journaled rows the table lacks go in; the ones it has must be the same rows. `last` is where
   * the table's chain ends, or where a node enrolled afresh began it (`base`).
   */
  private async recover(left: AuditEvent[], last: ChainPoint): Promise<void> {
    const missing = left.filter((e) => e.seq > last.seq);
    const same = left.find((e) => e.seq === last.seq);
    const holds =
      (same === undefined || same.hash === last.hash) &&
      checkChain(missing, { seq: last.seq + 1, prevHash: last.hash }) === undefined;
    if (!holds) {
      throw new BrainmeshError(
        'AUDIT_JOURNAL_CORRUPT',
        `${this.journal!.path}: its rows do not follow the audit table (at seq ${last.seq}); move the file aside to start (its rows are then lost)`,
      );
    }
    for (let i = 0; i < missing.length; i += MAX_MOVE) {
      await insertAuditRows(this.db, 'tool_executions', missing.slice(i, i + MAX_MOVE));
    }
    await this.journal!.clear();
    if (missing.length > 0)
      this.logger.info({ rows: missing.length }, 'audit rows moved from the journal after a crash');
  }

  /** The newest seq written. */
  get headSeq(): number {
    return this.head.seq;
  }

  /** The newest seq in the table, which the shipper reads. */
  get storedSeq(): number {
    return this.stored;
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

  /** Waits for every execution handed over so far to be written, and moved into the table. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.unmoved.length > 0) {
      this.moveDue = true;
      this.kick();
      while (this.writing !== undefined) await this.writing;
    }
  }

  /** Moves what waits into the table and lets go of the journal; for shutdown. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.moveTimer);
    await this.journal?.close();
    this.journal = undefined;
  }

  private async drain(): Promise<void> {
    // Let the calls finishing in this same turn join the group.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      if (this.queue.length > 0) await this.writeGroup();
      else if (this.moveDue && this.unmoved.length > 0) await this.move();
      else return;
    }
  }

  private async writeGroup(): Promise<void> {
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
      if (this.journal !== undefined) this.journal.append(events);
      else await insertAuditRows(this.db, 'tool_executions', events);
    } catch (err) {
      // Nothing of the group was written (a journal cuts off a short write); the chain stays
      // where it was.
      this.logger.error({ err, rows: group.length }, 'audit rows could not be written');
      for (const p of group) p.reject(err);
      return;
    }
    this.head = { seq, hash };
    group.forEach((p, i) => {
      p.resolve(events[i]!.seq);
    });
    if (this.journal === undefined) {
      this.stored = seq;
      this.emit('recorded', seq);
      return;
    }
    this.unmoved.push(...events);
    this.moveIn(this.options.moveMs ?? MOVE_MS);
  }

  /** A move after `ms`, unless one is already due. */
  private moveIn(ms: number): void {
    if (this.moveTimer !== undefined) return;
    this.moveTimer = setTimeout(() => {
      this.moveTimer = undefined;
      this.moveDue = true;
      this.kick();
    }, ms);
    // close() moves what waits; the timer alone keeps no process alive.
    this.moveTimer.unref();
  }

  /** Journaled rows into the table, a statement per MAX_MOVE; the journal emptied once all are. */
  private async move(): Promise<void> {
    this.moveDue = false;
    const rows = this.unmoved.slice(0, MAX_MOVE);
    try {
      await insertAuditRows(this.db, 'tool_executions', rows);
    } catch (err) {
      // They are safe in the journal: try again later, less often while it keeps failing.
      this.moveFailures += 1;
      if (this.moveFailures === 1 || this.moveFailures % 10 === 0) {
        this.logger.error({ err, rows: this.unmoved.length }, 'journaled audit rows could not be moved into the table');
      }
      this.moveIn(Math.min(5_000, 100 * 2 ** Math.min(this.moveFailures, 6)));
      return;
    }
    this.moveFailures = 0;
    this.unmoved.splice(0, rows.length);
    this.stored = rows[rows.length - 1]!.seq;
    this.emit('recorded', this.stored);
    if (this.unmoved.length > 0) this.moveDue = true;
    // Every row appended so far is in the table (appends run in this same writer, not meanwhile).
    else await this.journal?.clear();
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
