import { randomBytes } from 'node:crypto';
import type { Logger, Store } from '@brainmesh/shared';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * Resumable request streams for 2025-era sessions (2025-11-25's Streamable HTTP: a priming event
 * with an id, then `Last-Event-ID`), kept in the store so a stream cut mid-call is taken up on any
 * replica. (The 2026-07-28 revision has no resumability; its clients send the request again.)
 *
 * The replica serving the request (the stream's owner) keeps each event after the priming one in
 * its memory, and for half a minute after the stream ends. Only a stream somebody may come back
 * for goes to the store: one whose client left before it was all written (the owner sees its
 * response close), or one a follower asks for. Then its events so far, and each one after, are
 * appended to a list in the store, announced on a channel of the same name. A client whose stream
 * broke asks again with GET and the last id it saw; whichever replica gets that GET follows the
 * list (what is there after that id, then what is appended) and asks the owner, on the owner's
 * own channel, to put the stream in the store if it has not. If the owner has died (its heartbeat
 * in the store has lapsed), no answer is coming: each request still unanswered is answered with a
 * "try again" error, as HAProxy answers a request whose replica died before it began to answer.
 * The same if the owner no longer has the stream (it ended too long ago).
 *
 * Kept in memory first, not appended as written: with a store write per call, resumable streams
 * cost a sixth more hub CPU per call and up to twice Redis's (docs/performance.md), for a store
 * read that almost never comes. A replica killed outright loses what it kept, which is what a follower needs
 * least: the answer was never coming.
 *
 * An event id is `<owner>.<nonce>.<request ids>.<n>`: the replica that owns the stream, a nonce,
 * the ids of the requests it answers (base64url JSON, so a follower knows what to answer when the
 * owner is gone) and the event's number (the priming event is 0). The ids come back from the
 * client, so nothing in them is trusted beyond the session they are asked within: the list is
 * looked up under the session's id, which the route has already matched to the caller.
 */

/** How long a stream's events are kept in the store after its last one. */
const LOG_TTL_MS = 10 * 60_000;
/** How long an owner keeps a stream that ended, for a client that did not get its end; and how many. */
const KEEP_ENDED_MS = 30_000;
const MAX_ENDED = 5_000;
/** A replica's heartbeat lasts this long, renewed every `BEAT_MS`; so a dead one is known dead within it. */
const ALIVE_TTL_MS = 5_000;
const BEAT_MS = 1_500;
/** How often a follower asks whether the owner is still alive. */
const OWNER_CHECK_MS = 1_000;
/** A stream whose event ids would be longer (many or long request ids) is not made resumable. */
const MAX_EVENT_ID = 512;

export const TRY_AGAIN_MESSAGE =
  'the hub replica that had this request stopped before it answered; the call may or may not have run; try again';
const GONE_MESSAGE =
  'the hub no longer keeps this stream (it ended too long ago); the call may or may not have run; try again';
/** What an owner appends to a stream it does not have, for its follower. */
const UNKNOWN_STREAM = '{"brainmesh":"unknown-stream"}';

export interface StreamRecorder {
  /** The id of the stream's first event, which carries no data. */
  readonly primingId: string;
  /** Keeps `message` for a client that comes back; the id of its event. */
  record(message: JSONRPCMessage): string;
  /** The client left before the stream was all written: keep it in the store, for any replica. */
  detach(): void;
  /** Everything is written: kept a while longer in memory, then let go. */
  finish(): void;
}

/** What the session's transport needs (streamable-http.ts); this module is one. */
export interface StreamLog {
  /** A resumable stream for a POST of `requests`, or undefined when it cannot be one. */
  open(sessionId: string, requests: readonly RequestId[]): StreamRecorder | undefined;
  /**
   * Sends what follows `lastEventId` in its stream, and what is added to it, until every request
   * of the stream is answered; undefined when the id names no stream of this mesh. Returns how to
   * stop early (the client went away).
   */
  follow(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => void,
  ): (() => void) | undefined;
}

/** One stream its owner keeps. */
interface Kept {
  key: string;
  /** Its events after the priming one, as JSON. */
  events: string[];
  /** In the store: what is recorded from now on is appended as it comes. */
  detached: boolean;
  endedAt?: number;
}

interface Position {
  stream: string;
  owner: string;
  requests: RequestId[];
  seq: number;
}

export class ResumableStreams implements StreamLog {
  private beat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  /** Streams still being written, and those ended in the last `KEEP_ENDED_MS` (oldest first), by key. */
  private readonly writing = new Map<string, Kept>();
  private readonly ended = new Map<string, Kept>();

  constructor(
    private readonly store: Store,
    /** This replica (`Mesh.instance`). */
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  /** Starts this replica's heartbeat, and hears followers asking for its streams. */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(flushChannel(this.instance), (key) => this.flushFor(key));
    await this.store.set(aliveKey(this.instance), '1', ALIVE_TTL_MS);
    this.beat = setInterval(() => {
      this.store.set(aliveKey(this.instance), '1', ALIVE_TTL_MS).catch((err: unknown) => {
        this.logger.warn({ err: err instanceof Error ? err.message : err }, 'heartbeat not stored');
      });
    }, BEAT_MS);
    this.beat.unref();
  }

  /** Stops the heartbeat and says so at once: followers of this replica's streams need not wait it out. */
  async close(): Promise<void> {
    clearInterval(this.beat);
    await this.unsubscribe?.().catch(() => {});
    await this.store.del(aliveKey(this.instance)).catch(() => {});
    this.writing.clear();
    this.ended.clear();
  }

  /** A follower asks for stream `key`: into the store with it, or say it is not here. */
  private flushFor(key: string): void {
    this.dropEnded();
    const kept = this.writing.get(key) ?? this.ended.get(key);
    if (kept !== undefined) this.detach(kept);
    else if (key.startsWith('mcp-stream:')) this.append(key, UNKNOWN_STREAM);
  }

  private detach(kept: Kept): void {
    if (kept.detached) return;
    kept.detached = true;
    for (const text of kept.events) this.append(kept.key, text);
  }

  private append(key: string, text: string): void {
    // One connection, so appends land in the order made: a list position is an event's number.
    this.store.append(key, text, { ttlMs: LOG_TTL_MS, channel: key }).catch((err: unknown) => {
      this.logger.warn(
        { stream: key, err: err instanceof Error ? err.message : err },
        'stream event not stored; a client that reconnects will not see it',
      );
    });
  }

  private dropEnded(): void {
    const before = Date.now() - KEEP_ENDED_MS;
    for (const [key, kept] of this.ended) {
      if ((kept.endedAt ?? 0) > before && this.ended.size <= MAX_ENDED) break;
      this.ended.delete(key);
    }
  }

  open(sessionId: string, requests: readonly RequestId[]): StreamRecorder | undefined {
    const ids = Buffer.from(JSON.stringify(requests)).toString('base64url');
    const stream = `${this.instance}.${randomBytes(6).toString('base64url')}.${ids}`;
    if (stream.length + 12 > MAX_EVENT_ID) return undefined;
    const kept: Kept = { key: logKey(sessionId, stream), events: [], detached: false };
    this.writing.set(kept.key, kept);
    return {
      primingId: `${stream}.0`,
      record: (message) => {
        const text = JSON.stringify(message);
        kept.events.push(text);
        if (kept.detached) this.append(kept.key, text);
        return `${stream}.${kept.events.length}`;
      },
      detach: () => this.detach(kept),
      finish: () => {
        if (kept.endedAt !== undefined) return;
        kept.endedAt = Date.now();
        this.writing.delete(kept.key);
        this.ended.set(kept.key, kept);
        this.dropEnded();
      },
    };
  }

  follow(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => void,
  ): (() => void) | undefined {
    const from = parseEventId(lastEventId);
    if (from === undefined) return undefined;
    const key = logKey(sessionId, from.stream);
    const waiting = new Map(from.requests.map((id) => [JSON.stringify(id), id]));
    /** The list position to read next; position p holds event p + 1. */
    let next = 0;
    let stopped = false;
    let reading: Promise<void> | undefined;
    let readAgain = false;
    let unsubscribe: (() => Promise<void>) | undefined;
    let ownerCheck: NodeJS.Timeout | undefined;

    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(ownerCheck);
      void unsubscribe?.().catch(() => {});
    };
    let unknown = false;
    const readOnce = async () => {
      for (const text of await this.store.range(key, next)) {
        const position = next++;
        if (text === UNKNOWN_STREAM) {
          unknown = true;
          continue;
        }
        let message: JSONRPCMessage;
        try {
          message = JSON.parse(text) as JSONRPCMessage;
        } catch {
          continue;
        }
        if ('id' in message && !('method' in message)) waiting.delete(JSON.stringify(message.id));
        if (position + 1 > from.seq && !stopped) send(`${from.stream}.${position + 1}`, message);
      }
    };
    // One read at a time; news that comes during one makes one more after it.
    const read = (): Promise<void> => {
      if (reading !== undefined) {
        readAgain = true;
        return reading;
      }
      reading = (async () => {
        do {
          readAgain = false;
          await readOnce();
        } while (readAgain && !stopped);
      })().finally(() => {
        reading = undefined;
      });
      return reading.then(() => {
        if (waiting.size === 0) stop();
        else if (unknown) answerTheRest(GONE_MESSAGE);
      });
    };
    const answerTheRest = (message: string) => {
      if (stopped) return;
      let seq = next;
      for (const id of waiting.values()) {
        seq += 1;
        send(`${from.stream}.${seq}`, { jsonrpc: '2.0', id, error: { code: -32603, message } });
      }
      waiting.clear();
      stop();
    };
    const checkOwner = async () => {
      if (stopped || (await this.store.get(aliveKey(from.owner))) !== null) return;
      // Gone: what it stored is all there will be.
      await read();
      answerTheRest(TRY_AGAIN_MESSAGE);
    };

    void (async () => {
      // Subscribed before the first read, so nothing appended between them is missed.
      unsubscribe = await this.store.subscribe(key, () => {
        void read().catch(() => {});
      });
      if (stopped) return void unsubscribe().catch(() => {});
      await read();
      if (stopped) return;
      // The owner keeps a stream in its memory until somebody asks.
      await this.store.publish(flushChannel(from.owner), key);
      await checkOwner();
      if (stopped) return;
      ownerCheck = setInterval(() => {
        checkOwner().catch(() => {});
      }, OWNER_CHECK_MS);
      ownerCheck.unref();
    })().catch((err: unknown) => {
      this.logger.warn({ session: sessionId, err: err instanceof Error ? err.message : err }, 'stream not followed');
      stop();
    });
    return stop;
  }
}

function parseEventId(id: string): Position | undefined {
  const parts = id.split('.');
  if (parts.length !== 4) return undefined;
  const [owner, nonce, ids, n] = parts as [string, string, string, string];
  if (!/^[0-9a-f-]{36}$/.test(owner) || !/^[\w-]{1,16}$/.test(nonce) || !/^\d{1,9}$/.test(n)) return undefined;
  let requests: unknown;
  try {
    requests = JSON.parse(Buffer.from(ids, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(requests) || !requests.every((r) => typeof r === 'string' || typeof r === 'number')) {
    return undefined;
  }
  return { stream: `${owner}.${nonce}.${ids}`, owner, requests, seq: Number(n) };
}

const logKey = (sessionId: string, stream: string) => `mcp-stream:${sessionId}:${stream}`;
const aliveKey = (instance: string) => `hub-alive:${instance}`;
const flushChannel = (instance: string) => `mcp-stream-flush:${instance}`;
