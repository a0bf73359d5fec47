import { setTimeout as delay } from 'node:timers/promises';
import {
  LINK_PATH,
  LINK_SUBPROTOCOL,
  type LinkIdentity,
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
 */
export class LinkDialer {
  private readonly stopping = new AbortController();
  private current: LinkSocket | undefined;

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

  /** Runs until `stop`: dial, serve until the link drops, wait, dial again. */
  async run(): Promise<void> {
    const fresh = () => new ExponentialBackoff({ initialDelay: 250, maxDelay: 15_000 }).next();
    let state: IBackoff<unknown> = fresh();
    const url = new URL(LINK_PATH, this.deps.hubUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    while (!this.stopping.signal.aborted) {
      const identity = this.deps.identity();
      const started = Date.now();
      if (identity !== undefined) {
        try {
          const socket = await this.dial(url, identity);
          this.current = socket;
          this.deps.onLink(socket);
          const [code, reason] = await new Promise<[number, string]>((resolve) =>
            socket.once('close', (c, r) => resolve([c, r])),
          );
          this.current = undefined;
          this.deps.logger.warn({ code, reason }, 'link to the hub dropped; dialling again');
        } catch (err) {
          this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'dialling the hub failed');
        }
      }
      // A link that held a while starts the backoff over.
      if (Date.now() - started > 30_000) state = fresh();
      const wait = state.duration;
      state = state.next(undefined);
      await delay(wait, undefined, { signal: this.stopping.signal }).catch(() => {});
    }
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
    this.current?.close(1001, 'node stopping');
  }
}
