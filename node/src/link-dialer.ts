import { setTimeout as delay } from 'node:timers/promises';
import {
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkIdentity,
  LinkRefused,
  type LinkSocket,
  type LinkSocketOptions,
  type Logger,
  openLink,
} from '@brainmesh/shared';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { WebSocket } from 'ws';

/**
 * For a node the hub cannot reach (a laptop behind NAT): the node dials the hub and keeps the
 * link up, dialling again with backoff (cockatiel's, with jitter, so nodes cut off together do
 * not return together) whenever it drops. The link is the same as when the hub dials.
 *
 * Behind the hub's address there may be several hub processes (replicas behind a load balancer,
 * each serving clients of its own), so the node keeps a link to each: having linked, it dials
 * again at once, and a hub process it already has a link to refuses the new one
 * (`already-linked`); two such refusals in a row and it has found them all, for now. It looks
 * again every `SEARCH_EVERY_MS` (a replica added, or back), and at once when a link drops.
 */
const SEARCH_EVERY_MS = 10_000;

export class LinkDialer {
  private readonly stopping = new AbortController();
  private readonly links = new Set<LinkSocket>();
  /** Ends the current pause early: a link dropped. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly deps: {
      hubUrl: string;
      identity: () => LinkIdentity | undefined;
      onLink: (socket: LinkSocket) => void;
      logger: Logger;
      maxPayload: number;
      options?: LinkSocketOptions;
    },
  ) {}

  /** Runs until `stop`: dial, and again, until every hub process has a link; then wait and look again. */
  async run(): Promise<void> {
    const fresh = () => new ExponentialBackoff({ initialDelay: 250, maxDelay: 15_000 }).next();
    let state: IBackoff<unknown> = fresh();
    let alreadyInARow = 0;
    const url = new URL(LINK_PATH, this.deps.hubUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    while (!this.stopping.signal.aborted) {
      const identity = this.deps.identity();
      let waitMs: number;
      if (identity === undefined) {
        waitMs = state.duration;
        state = state.next(undefined);
      } else {
        try {
          this.keep(await this.dial(url, identity));
          alreadyInARow = 0;
          state = fresh();
          waitMs = 0;
        } catch (err) {
          if (err instanceof LinkRefused && err.reason === 'already-linked') {
            alreadyInARow += 1;
            waitMs = alreadyInARow >= 2 ? SEARCH_EVERY_MS : 0;
          } else {
            this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'dialling the hub failed');
            // With a link up, the hub is there: look again later rather than back off hard.
            waitMs = this.links.size > 0 ? SEARCH_EVERY_MS : state.duration;
            if (this.links.size === 0) state = state.next(undefined);
          }
        }
      }
      await this.pause(waitMs);
    }
  }

  private keep(socket: LinkSocket): void {
    this.links.add(socket);
    this.deps.onLink(socket);
    this.deps.logger.info({ hubInstance: socket.peer.instance, links: this.links.size }, 'linked to the hub');
    socket.once('close', (code, reason) => {
      this.links.delete(socket);
      if (this.stopping.signal.aborted) return;
      this.deps.logger.warn({ code, reason, links: this.links.size }, 'link to the hub dropped; dialling again');
      this.wake?.();
    });
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping.signal.aborted) return;
    const woken = new AbortController();
    this.wake = () => woken.abort();
    const signal = AbortSignal.any([this.stopping.signal, woken.signal]);
    await delay(ms, undefined, { signal }).catch(() => {});
    this.wake = undefined;
  }

  private dial(url: URL, identity: LinkIdentity): Promise<LinkSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, LINK_SUBPROTOCOL, { maxPayload: this.deps.maxPayload, handshakeTimeout: 5_000 });
      const abort = () => ws.terminate();
      this.stopping.signal.addEventListener('abort', abort, { once: true });
      ws.once('error', (err) => reject(err));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`the hub answered HTTP ${res.statusCode}`));
      });
      ws.once('open', () => {
        openLink(ws, identity, this.deps.options).then((socket) => {
          this.stopping.signal.removeEventListener('abort', abort);
          resolve(socket);
        }, reject);
      });
    });
  }

  stop(): void {
    this.stopping.abort();
    for (const socket of this.links) socket.close(1001, 'node stopping');
  }
}
