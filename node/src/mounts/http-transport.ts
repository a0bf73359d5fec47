import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * The client side of MCP's Streamable HTTP for a mounted server, on node's own http module with a
 * keep-alive agent. The SDK's client transport does the same on fetch and web streams; a profile
 * of a node under load (docs/performance.md) put a third of its CPU there: undici, web stream
 * SSE parsing, and one abort listener per request left on one shared signal, each new one
 * checked against all the others. This one keeps no per-request signal and parses SSE as it
 * arrives.
 *
 * What it does: each message is a POST (`Accept: application/json, text/event-stream`); the
 * answer is 202, a JSON body, or an SSE stream whose events are messages, read until it ends.
 * The session id the server gives is sent back on every request; after the session is set up,
 * a GET opens the server's own stream (list_changed and other notifications), if it offers one.
 * Not done: resuming a broken stream from its last event id (a mounted server that drops a
 * stream fails the requests on it, and the mount's own restart logic takes over).
 */
export class HttpClientTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  sessionId?: string;
  private protocolVersion: string | undefined;
  private readonly agent: http.Agent;
  private readonly open = new Set<http.ClientRequest>();
  private closed = false;
  private listening = false;
  /**
   * Messages are handed on one microtask apart: the SDK runs a notification's handler a
   * microtask after receiving it, so progress delivered in the same turn as its request's answer
   * would find the request already settled, and be dropped.
   */
  private delivering = Promise.resolve();

  constructor(
    private readonly url: URL,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {
    const Agent = url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 64 });
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    const body = JSON.stringify(message);
    const res = await this.request('POST', body);
    const session = res.headers['mcp-session-id'];
    if (typeof session === 'string') this.sessionId = session;
    if (res.statusCode === 202) {
      res.resume();
      // The session is set up once the client says it is initialized: the server's own stream now.
      if ('method' in message && message.method === 'notifications/initialized') this.listen();
      return;
    }
    if (res.statusCode === undefined || res.statusCode >= 400) {
      const text = await readAll(res);
      throw new HttpStatusError(res.statusCode ?? 0, text.slice(0, 500));
    }
    const type = res.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) {
      // Not awaited: the stream's events arrive while the caller goes on, as with any transport.
      this.readEvents(res);
      return;
    }
    const text = await readAll(res);
    if (text === '') return;
    const parsed: unknown = JSON.parse(text);
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(item);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const req of this.open) req.destroy();
    this.open.clear();
    this.agent.destroy();
    this.onclose?.();
  }

  private request(method: 'POST' | 'GET', body?: string): Promise<IncomingMessage> {
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(this.url, {
        method,
        agent: this.agent,
        headers: {
          ...this.headers,
          accept: method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.sessionId === undefined ? {} : { 'mcp-session-id': this.sessionId }),
          ...(this.protocolVersion === undefined ? {} : { 'mcp-protocol-version': this.protocolVersion }),
        },
      });
      this.open.add(req);
      req.once('close', () => this.open.delete(req));
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
  }

  /** The server's own stream, for notifications outside any request; kept open while it lasts. */
  private listen(): void {
    if (this.listening || this.closed) return;
    this.listening = true;
    this.request('GET').then(
      (res) => {
        if (res.statusCode !== 200 || !(res.headers['content-type'] ?? '').includes('text/event-stream')) {
          // 405: the server offers no stream of its own; that is allowed.
          res.resume();
          return;
        }
        this.readEvents(res);
      },
      (err: unknown) => {
        if (!this.closed) this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** Server-sent events as they arrive: each event's data lines joined, each a JSON-RPC message. */
  private readEvents(res: IncomingMessage): void {
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = eventEnd(buffer);
        if (end === undefined) break;
        const event = buffer.slice(0, end.at);
        buffer = buffer.slice(end.at + end.length);
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
          .join('\n');
        if (data === '') continue;
        try {
          this.deliver(JSON.parse(data));
        } catch (err) {
          this.onerror?.(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
    res.on('error', (err) => {
      if (!this.closed) this.onerror?.(err);
    });
  }

  private deliver(value: unknown): void {
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      this.onerror?.(new Error('the mounted server sent something that is not a JSON-RPC message'));
      return;
    }
    this.delivering = this.delivering.then(() => this.onmessage?.(parsed.data));
  }
}

/** A status the mounted server answered with, and the start of what it said. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`the mounted server answered HTTP ${status}${body === '' ? '' : `: ${body}`}`);
  }
}

function eventEnd(buffer: string): { at: number; length: number } | undefined {
  const lf = buffer.indexOf('\n\n');
  const crlf = buffer.indexOf('\r\n\r\n');
  if (lf === -1 && crlf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}
