import { AsyncLocalStorage } from 'node:async_hooks';
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPReconnectionOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/** What a request whose answer stream broke is failed with; `NodeLink` turns it into words. */
export const STREAM_DROPPED_MESSAGE = 'the stream of this request ended before its answer';

/**
 * Streamable HTTP to a node: the SDK's client transport, plus one thing it does not do. A
 * request whose answer stream breaks, or ends, before the answer fails at once, instead of
 * waiting out its timeout.
 *
 * Why the SDK's transport waits: the answer to a POSTed request comes on that POST's own SSE
 * stream. When the stream breaks (the node died), `_handleSseStream` tells `onerror` and
 * reconnects only a stream that carried an event id, that is, one a server with an event store
 * can resume; nodes keep no event store, so nothing reconnects and nothing fails the request: it
 * waits for the call timeout (60 s). A stream that ends cleanly without the answer is not even
 * reported. So each request's POST is tied to its id (an AsyncLocalStorage around `send`, which
 * the fetch runs within), its stream is watched, and when it ends with the id still unanswered
 * the request gets a JSON-RPC error, as if the node had sent one, with the code the SDK uses for
 * a closed connection.
 */
export class NodeTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  private readonly inner: StreamableHTTPClientTransport;
  private readonly unanswered = new Set<RequestId>();
  private readonly sending = new AsyncLocalStorage<RequestId>();
  private closed = false;

  constructor(url: URL, options: { fetch: FetchLike; reconnectionOptions: StreamableHTTPReconnectionOptions }) {
    this.inner = new StreamableHTTPClientTransport(url, {
      reconnectionOptions: options.reconnectionOptions,
      fetch: (input, init) => this.fetchWatched(options.fetch, input, init),
    });
    this.inner.onmessage = (message: JSONRPCMessage) => {
      if (isResponse(message)) this.unanswered.delete(message.id);
      this.onmessage?.(message);
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onclose = () => {
      this.closed = true;
      this.unanswered.clear();
      this.onclose?.();
    };
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion(version);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // A request given up on (cancelled, timed out) has no one waiting for its answer any more.
    if (isCancellation(message)) this.unanswered.delete(message.params.requestId);
    if (!isRequest(message)) return this.inner.send(message, resumption(options));
    const id = message.id;
    this.unanswered.add(id);
    try {
      await this.sending.run(id, () => this.inner.send(message, resumption(options)));
    } catch (err) {
      this.unanswered.delete(id);
      throw err;
    }
  }

  private async fetchWatched(fetch: FetchLike, input: string | URL, init?: RequestInit): Promise<Response> {
    const id = this.sending.getStore();
    const response = await fetch(input, init);
    const type = response.headers.get('content-type') ?? '';
    if (id === undefined || init?.method !== 'POST' || response.body === null || !type.includes('text/event-stream')) {
      return response;
    }
    const reader = response.body.getReader();
    const watched = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            this.streamEnded(id);
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          controller.error(err);
          this.streamEnded(id);
        }
      },
      // The SDK gave up on the stream itself (the transport closed): not a drop to report.
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(watched, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  private streamEnded(id: RequestId): void {
    // What came before the end is still in the SDK's parsing pipeline, which runs on promise
    // jobs; one turn of the event loop later an answer that was in the stream has been seen.
    setImmediate(() => {
      if (this.closed || !this.unanswered.delete(id)) return;
      this.onmessage?.({
        jsonrpc: '2.0',
        id,
        error: { code: ErrorCode.ConnectionClosed, message: STREAM_DROPPED_MESSAGE },
      });
    });
  }
}

/** The options the SDK's transport reads, without the keys left undefined. */
function resumption(options: TransportSendOptions | undefined): Parameters<StreamableHTTPClientTransport['send']>[1] {
  if (options?.resumptionToken === undefined) return undefined;
  return {
    resumptionToken: options.resumptionToken,
    ...(options.onresumptiontoken === undefined ? {} : { onresumptiontoken: options.onresumptiontoken }),
  };
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId; method: string } =>
  'method' in m && 'id' in m && m.id !== undefined;

const isResponse = (m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } =>
  !('method' in m) && 'id' in m && m.id !== undefined;

const isCancellation = (m: JSONRPCMessage): m is JSONRPCMessage & { params: { requestId: RequestId } } =>
  'method' in m &&
  m.method === 'notifications/cancelled' &&
  typeof (m.params as { requestId?: unknown } | undefined)?.requestId !== 'undefined';
