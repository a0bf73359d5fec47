import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * One client session of MCP's Streamable HTTP transport, served on node's own `http` objects.
 *
 * It answers what the SDK's `StreamableHTTPServerTransport` answers, with the same statuses and
 * messages, but writes straight to the response: the SDK's goes through `@hono/node-server` and
 * web streams, and arms a keep-alive timer for every POST, which the profile put at a fifth of
 * the hub's CPU per proxied call. And a POST whose one request is answered with nothing sent
 * before the answer (most calls: no progress, sampling or elicitation) is answered as
 * `application/json` in one write; the stream (`text/event-stream`) starts only when something
 * is sent ahead of the answer. The protocol lets the server choose either for each POST.
 *
 * Not kept: resumability (no event store; a broken stream is not replayed) and the stateless
 * mode; the hub keeps sessions. What the plug-in around it checks first (the session id, the
 * principal, the protocol version header, the message bounds) is not checked again here.
 */

/** As the SDK's: a batch of more messages than this is refused. */
const MAX_BATCH = 100;
/** A comment line on open streams this often, so proxies do not cut an idle stream. */
const KEEP_ALIVE_MS = 15_000;

const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** One POST that carried requests: where their answers, and what is sent ahead of them, go. */
interface Exchange {
  res: ServerResponse;
  /** The requests still unanswered. */
  waiting: Set<RequestId>;
  /** Whether a single answer may still go as JSON (nothing has been written yet). */
  json: boolean;
  keepAlive?: NodeJS.Timeout;
}

interface Stream {
  res: ServerResponse;
  keepAlive?: NodeJS.Timeout;
}

export interface StreamableHttpSessionOptions {
  /** The id an initialize gives the session (http.ts keeps its record under it first). */
  newSessionId?: () => string;
  /** Told the session id when an initialize opens the session. */
  onSessionInitialized(sessionId: string): void;
}

export class StreamableHttpSession implements Transport {
  sessionId: string | undefined;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private closed = false;
  /** The exchange each unanswered request belongs to. */
  private readonly exchanges = new Map<RequestId, Exchange>();
  /** The GET stream, for what the server sends outside any request. */
  private standalone: Stream | undefined;
  /** Requests given to the server on this side's own account (`adopt`), by id. */
  private readonly replays = new Map<RequestId, { done(): void; failed(err: Error): void }>();

  constructor(private readonly options: StreamableHttpSessionOptions) {}

  async start(): Promise<void> {}

  /**
   * Makes this the session `id`, opened on another replica: the server is given the initialize
   * it opened with (session-records.ts), and its answer, which the client had long ago, is kept
   * here; then the client's `notifications/initialized`, as it sent it then.
   */
  async adopt(id: string, initializeParams: Record<string, unknown>): Promise<void> {
    this.sessionId = id;
    const replayId = `adopt-${randomUUID()}`;
    await new Promise<void>((done, failed) => {
      this.replays.set(replayId, { done, failed });
      this.onmessage?.(
        { jsonrpc: '2.0', id: replayId, method: 'initialize', params: initializeParams } as JSONRPCMessage,
        {
          requestInfo: { headers: {} },
        },
      );
    });
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage, {
      requestInfo: { headers: {} },
    });
  }

  /** Serves one HTTP request of this session; `body` is the POST body, already parsed. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): undefined {
    if (this.closed) return fail(res, 404, -32001, 'Session not found');
    switch (req.method) {
      case 'POST':
        return this.post(req, res, body);
      case 'GET':
        return this.get(req, res);
      case 'DELETE':
        res.writeHead(200).end();
        void this.close();
        return;
      default:
        res.setHeader('allow', 'GET, POST, DELETE');
        return fail(res, 405, -32000, 'Method not allowed.');
    }
  }

  private post(req: IncomingMessage, res: ServerResponse, body: unknown): undefined {
    const accept = req.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return fail(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      return fail(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (Array.isArray(body) && body.length > MAX_BATCH) {
      return fail(res, 400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH} messages`);
    }
    const messages: JSONRPCMessage[] = [];
    for (const raw of Array.isArray(body) ? body : [body]) {
      const parsed = JSONRPCMessageSchema.safeParse(raw);
      if (!parsed.success) return fail(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
      messages.push(parsed.data);
    }
    if (messages.some(isInitializeRequest)) {
      if (this.sessionId !== undefined) return fail(res, 400, -32600, 'Invalid Request: Server already initialized');
      if (messages.length > 1) {
        return fail(res, 400, -32600, 'Invalid Request: Only one initialization request is allowed');
      }
      this.sessionId = this.options.newSessionId?.() ?? randomUUID();
      this.options.onSessionInitialized(this.sessionId);
    } else if (this.sessionId === undefined) {
      return fail(res, 400, -32000, 'Bad Request: Server not initialized');
    }
    const extra = { requestInfo: { headers: req.headers } };
    const requests = messages.filter(isJSONRPCRequest);
    if (requests.length === 0) {
      res.writeHead(202).end();
      for (const message of messages) this.onmessage?.(message, extra);
      return;
    }
    // A batch answers on a stream from the start: its answers come one by one.
    const exchange: Exchange = { res, waiting: new Set(requests.map((r) => r.id)), json: requests.length === 1 };
    for (const request of requests) this.exchanges.set(request.id, exchange);
    // A client that goes away takes its exchange with it: later messages for it are dropped.
    res.once('close', () => {
      clearInterval(exchange.keepAlive);
      for (const id of exchange.waiting) this.exchanges.delete(id);
      exchange.waiting.clear();
    });
    if (!exchange.json) this.startStream(exchange);
    for (const message of messages) this.onmessage?.(message, extra);
  }

  private get(req: IncomingMessage, res: ServerResponse): undefined {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      return fail(res, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    }
    if (this.standalone !== undefined) {
      return fail(res, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    }
    const standalone: Stream = { res };
    this.standalone = standalone;
    res.writeHead(200, this.headers(SSE_HEADERS));
    res.flushHeaders();
    standalone.keepAlive = keepAlive(res);
    res.once('close', () => {
      clearInterval(standalone.keepAlive);
      if (this.standalone === standalone) this.standalone = undefined;
    });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isAnswer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const id = isAnswer ? message.id : options?.relatedRequestId;
    if (id === undefined) {
      // Outside any request: on the GET stream if the client keeps one open, else nowhere.
      if (this.standalone !== undefined) writeEvent(this.standalone.res, message);
      return;
    }
    const replay = isAnswer ? this.replays.get(id) : undefined;
    if (replay !== undefined) {
      this.replays.delete(id);
      if (isJSONRPCErrorResponse(message)) replay.failed(new Error(message.error.message));
      else replay.done();
      return;
    }
    const exchange = this.exchanges.get(id);
    if (exchange === undefined) {
      if (this.closed || !isAnswer) return;
      throw new Error(`No connection established for request ID: ${String(id)}`);
    }
    if (!isAnswer) {
      if (exchange.json) this.startStream(exchange);
      writeEvent(exchange.res, message);
      return;
    }
    exchange.waiting.delete(id);
    this.exchanges.delete(id);
    if (exchange.json) {
      const text = JSON.stringify(message);
      exchange.res
        .writeHead(
          200,
          this.headers({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
        )
        .end(text);
      return;
    }
    writeEvent(exchange.res, message);
    if (exchange.waiting.size === 0) {
      clearInterval(exchange.keepAlive);
      exchange.res.end();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = new Set(this.exchanges.values());
    this.exchanges.clear();
    for (const exchange of open) {
      clearInterval(exchange.keepAlive);
      // As the SDK's: a stream the session ends under its requests ends empty.
      if (exchange.json) this.startStream(exchange);
      exchange.res.end();
    }
    if (this.standalone !== undefined) {
      clearInterval(this.standalone.keepAlive);
      this.standalone.res.end();
      this.standalone = undefined;
    }
    this.onclose?.();
  }

  private startStream(exchange: Exchange): void {
    exchange.json = false;
    if (exchange.res.headersSent || exchange.res.destroyed) return;
    exchange.res.writeHead(200, this.headers(SSE_HEADERS));
    exchange.keepAlive = keepAlive(exchange.res);
  }

  private headers(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    return this.sessionId === undefined ? headers : { ...headers, 'mcp-session-id': this.sessionId };
  }
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
}

function keepAlive(res: ServerResponse): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (!res.writableEnded && !res.destroyed) res.write(': keepalive\n\n');
  }, KEEP_ALIVE_MS);
  timer.unref();
  return timer;
}

/** A JSON-RPC error with no id, as the SDK's transport answers what it refuses. */
function fail(res: ServerResponse, status: number, code: number, message: string): undefined {
  const text = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
