import type { Db, Store } from '@brainmesh/shared';
import { AUDIT_CHANNEL } from './ingest.js';
import { type AuditEntry, type AuditFilter, auditAfter } from './query.js';

const PAGE = 500;

export interface AuditTailOptions {
  db: Db;
  store: Store;
  filter: AuditFilter;
  /** The last row the reader has: rows after it are sent. */
  after: number;
  /** Each new row that passes the filter, in order. */
  send: (row: AuditEntry) => void;
  /** Every second: a stream's keep-alive, if it needs one. */
  tick?: () => void;
  /** A read that failed (the next wake-up reads again from the same row). */
  failed: (err: unknown) => void;
}

/**
 * Follows the central audit trail from a row on: read when the ingest says rows landed (the
 * store's channel, from any replica), and every second besides, so a wake-up lost with a Redis
 * reconnect costs a second, not a row. A wake-up during a read asks for one more read. The SSE
 * tail of the admin API and the dashboard's WebSocket both run on it. Resolves with its stop.
 */
export async function tailAudit(options: AuditTailOptions): Promise<() => void> {
  const { db, filter, send } = options;
  let last = options.after;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const pump = (): void => {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        for (;;) {
          const rows = await auditAfter(db, filter, last, PAGE);
          for (const row of rows) {
            if (stopped) return;
            send(row);
            last = row.id;
          }
          if (rows.length < PAGE || stopped) break;
        }
      } while (again && !stopped);
    })()
      .catch(options.failed)
      .finally(() => {
        running = undefined;
      });
  };
  const unsubscribe = await options.store.subscribe(AUDIT_CHANNEL, pump);
  const timer = setInterval(() => {
    options.tick?.();
    pump();
  }, 1_000);
  pump();
  return () => {
    stopped = true;
    clearInterval(timer);
    void unsubscribe();
  };
}
