import { ftruncateSync, writeSync } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { type AuditEvent, auditEventSchema, BrainmeshError } from '@brainmesh/shared';

/**
 * The audit journal of a node on embedded storage: an append-only file of audit events, one JSON
 * line each, beside the database. A call's row is appended here before its answer leaves, and
 * moved into `tool_executions` with others a moment later, in one statement.
 *
 * Why: PGlite spends about 0.15–0.2 ms of CPU on any statement, however small, and calls under
 * load seldom finish close enough together to share one; the node's row cost most of its CPU per
 * call. A line appended to a file costs a write. The durability is the same: PGlite runs with
 * `fsync = off`, so a committed row, like an appended line, is in the operating system's hands
 * and survives the process dying, not the machine losing power. On real Postgres the node commits
 * each group as before (its commit is the durable point there).
 */
export class AuditJournal {
  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    /** Bytes of whole lines in the file. */
    private size: number,
  ) {}

  /**
   * Opens (or creates) the journal and reads what it holds: events a process that died left
   * unmoved. A last line cut short by the crash is dropped: its call was never answered.
   */
  static async open(path: string): Promise<{ journal: AuditJournal; left: AuditEvent[] }> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    // The text after the last newline is a line whose write did not finish: cut off below, so
    // the next append starts a line of its own.
    const torn = lines.pop() ?? '';
    const left = lines.map((line, i) => {
      const parsed = auditEventSchema.safeParse(safeJson(line));
      if (!parsed.success) {
        throw new BrainmeshError(
          'AUDIT_JOURNAL_CORRUPT',
          `${path}: line ${i + 1} is not an audit event; move the file aside to start (its rows are then lost)`,
        );
      }
      return parsed.data;
    });
    const file = await open(path, 'a', 0o600);
    const size = Buffer.byteLength(text) - Buffer.byteLength(torn);
    if (torn !== '') await file.truncate(size);
    return { journal: new AuditJournal(path, file, size), left };
  }

  /**
   * Appends events; returns once the operating system has them. A write that fails or falls
   * short (a full disk) is cut off again, so the next append does not land behind half a line.
   *
   * Written synchronously: a group's line or lines go to the page cache in microseconds, where
   * the asynchronous write hands them to a libuv worker thread and back, two thread wakeups on
   * every call's way out (the answer waits for its row).
   */
  append(events: readonly AuditEvent[]): void {
    let text = '';
    for (const event of events) text += `${JSON.stringify(event)}\n`;
    const bytes = Buffer.from(text);
    try {
      const written = writeSync(this.file.fd, bytes);
      if (written !== bytes.length) throw new Error(`${this.path}: wrote ${written} of ${bytes.length} bytes`);
    } catch (err) {
      try {
        ftruncateSync(this.file.fd, this.size);
      } catch {
        // The write's own error says more.
      }
      throw err;
    }
    this.size += bytes.length;
  }

  /** Empties the journal: everything in it is in the table. */
  async clear(): Promise<void> {
    await this.file.truncate(0);
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
