import type { Store } from '@brainmesh/shared';
import { z } from 'zod';

/**
 * What a 2025-era session is, kept in the store so that any hub replica can serve it: whose it
 * is and the `initialize` it opened with (the client's capabilities, name and protocol version).
 * A replica that gets a request for a session it has never seen makes the session again from
 * this, by giving its own SDK server that same `initialize` (http.ts), so a client whose
 * requests land on another replica, or whose replica died, goes on without initialising again.
 *
 * Kept for a day after the session opened (`LIFE_MS`); a DELETE ends it on every replica, through
 * the store's pub/sub (`ENDED_CHANNEL`). What is not here stays with the replica that has it: a
 * GET stream (notifications reach it from the replica holding it, which hears the mesh as every
 * replica does), a request's own stream (a call's progress and a node's questions), resource
 * subscriptions.
 */

const LIFE_MS = 24 * 60 * 60_000;
export const ENDED_CHANNEL = 'mcp-session-ended';

const recordSchema = z.object({
  principal: z.string(),
  initialize: z.record(z.string(), z.unknown()),
});
export type SessionRecord = z.infer<typeof recordSchema>;

export class SessionRecords {
  constructor(private readonly store: Store) {}

  async save(id: string, record: SessionRecord): Promise<void> {
    await this.store.set(key(id), JSON.stringify(record), LIFE_MS);
  }

  /** The session's record, or undefined when there is none (never opened, ended, or expired). */
  async find(id: string): Promise<SessionRecord | undefined> {
    const text = await this.store.get(key(id));
    if (text === null) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = recordSchema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  }

  /** Ends the session on every replica. */
  async end(id: string): Promise<void> {
    await this.store.del(key(id));
    await this.store.publish(ENDED_CHANNEL, id);
  }

  /** Calls `ended` with each session ended anywhere (this replica included). */
  onEnded(ended: (id: string) => void): Promise<() => Promise<void>> {
    return this.store.subscribe(ENDED_CHANNEL, ended);
  }
}

const key = (id: string) => `mcp-session:${id}`;
