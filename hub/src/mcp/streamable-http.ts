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
import type { StreamLog, StreamRecorder } from './resumable-streams.js';

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
 * Resumable (2025-11-25): for a session that speaks that revision or later, a request that sends
 * something before its answer, or has waited `PRIME_AFTER_MS`, is answered on a stream that
 * starts with a priming event carrying an id; every event after it has one and is kept for a
 * client that comes back (resumable-streams.ts), and a GET with `Last-Event-ID` is served on
 * whichever replica it reaches. A client whose replica dies mid-call hears "try again" on
 * reconnecting, and one whose stream was merely cut gets its answer. Older sessions are answered
 * as before.
 *
 * Not kept: the stateless mode; the hub keeps sessions. What the plug-in around it checks first (the session id, the
 * principal, the protocol version header, the message bounds) is not checked again here.
 */

/** As the SDK's: a batch of more messages than this is refused. */
const MAX_BATCH = 100;
/** A comment line on open streams this often, so proxies do not cut an idle stream. */
const KEEP_ALIVE_MS = 15_000;
/** The first revision whose clients are primed to resume a request's stream. */
const RESUMABLE_FROM = '2025-11-25';
/**
 * How long a request of such a session may go unanswered, with nothing sent, before its answer
 * becomes a resumable stream. Most calls answer well within it, as one JSON write: priming every
 * POST cost the clients a sixth more CPU per call in the gateways benchmark (an SSE parse for a
 * one-message answer) for nothing. A request that dies before it is primed still ends in a clean
 * "try again": behind HAProxy each POST is the first on its connection, so HAProxy answers its 502.
 */
const PRIME_AFTER_MS = 500;

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
  /** Whether it may still be made a resumable stream (the session's revision, a store to keep it in; not tried yet). */
  resumable: boolean;
  /** Where a resumable stream's events are kept, once it is one. */
  recorder?: StreamRecorder | undefined;
}

export interface StreamableHttpSessionOptions {
  /** The id an initialize gives the session (http.ts keeps its record under it first). */
  newSessionId?: () => string;
  /** Told the session id when an initialize opens the session. */
  onSessionInitialized(sessionId: string): void;
  /** Where resumable streams are kept; without it none is. */
  streams?: StreamLog;
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
  private standalone: ServerResponse | undefined;
  /** GETs taking up a request's stream again, each with how to stop following it. */
  private readonly resumed = new Map<ServerResponse, () => void>();
  /** Whether the client's revision resumes streams (set by the initialize). */
  private resumable = false;
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
    this.resumable = resumes(initializeParams.protocolVersion);
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
      this.resumable = resumes(initializeVersion(messages));
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
    const exchange: Exchange = {
      res,
      waiting: new Set(requests.map((r) => r.id)),
      json: requests.length === 1,
      resumable: this.resumable && this.options.streams !== undefined && !messages.some(isInitializeRequest),
    };
    for (const request of requests) this.exchanges.set(request.id, exchange);
    res.once('close', () => {
      letGo(res);
      unprimed.delete(exchange);
      // A resumable exchange goes on without its client, its events in the store for a GET that
      // takes it up (also when its end was written but may not have left); any other goes with
      // its client, and later messages for it are dropped.
      if (exchange.recorder !== undefined) {
        if (exchange.waiting.size > 0 || !res.writableFinished) exchange.recorder.detach();
        return;
      }
      for (const id of exchange.waiting) this.exchanges.delete(id);
      exchange.waiting.clear();
    });
    if (exchange.resumable && exchange.json) awaitPriming(exchange, () => this.prime(exchange));
    else if (exchange.resumable) this.prime(exchange);
    else if (!exchange.json) this.startStream(exchange);
    for (const message of messages) this.onmessage?.(message, extra);
  }

  private get(req: IncomingMessage, res: ServerResponse): undefined {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      return fail(res, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    }
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string' && this.options.streams !== undefined && this.sessionId !== undefined) {
      return this.resume(res, this.options.streams, this.sessionId, lastEventId);
    }
    if (this.standalone !== undefined) {
      return fail(res, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    }
    this.standalone = res;
    res.writeHead(200, this.headers(SSE_HEADERS));
    res.flushHeaders();
    keepOpen(res);
    res.once('close', () => {
      letGo(res);
      if (this.standalone === res) this.standalone = undefined;
    });
  }

  /**
   * A request's stream taken up again after `lastEventId`: what followed it, then what is still to
   * come. The GET stays open once its requests are answered, as the SDK's does: a client that
   * heard an error there rather than a result would otherwise come back for more at once.
   */
  private resume(res: ServerResponse, streams: StreamLog, sessionId: string, lastEventId: string): undefined {
    let open = false;
    const stop = streams.follow(sessionId, lastEventId, (eventId, message) => {
      if (open) writeEvent(res, message, eventId);
    });
    if (stop === undefined) {
      return fail(res, 400, -32000, 'Bad Request: Last-Event-ID names no stream of this session');
    }
    open = true;
    this.resumed.set(res, stop);
    res.writeHead(200, this.headers(SSE_HEADERS));
    res.flushHeaders();
    keepOpen(res);
    res.once('close', () => {
      letGo(res);
      stop();
      this.resumed.delete(res);
    });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isAnswer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const id = isAnswer ? message.id : options?.relatedRequestId;
    if (id === undefined) {
      // Outside any request: on the GET stream if the client keeps one open, else nowhere.
      if (this.standalone !== undefined) writeEvent(this.standalone, message);
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
      if (exchange.resumable) this.prime(exchange);
      else if (exchange.json) this.startStream(exchange);
      writeEvent(exchange.res, message, exchange.recorder?.record(message));
      return;
    }
    exchange.waiting.delete(id);
    this.exchanges.delete(id);
    const eventId = exchange.recorder?.record(message);
    if (exchange.json) {
      unprimed.delete(exchange);
      const text = JSON.stringify(message);
      exchange.res
        .writeHead(
          200,
          this.headers({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
        )
        .end(text);
      return;
    }
    writeEvent(exchange.res, message, eventId);
    if (exchange.waiting.size === 0) {
      letGo(exchange.res);
      exchange.recorder?.finish();
      exchange.res.end();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = new Set(this.exchanges.values());
    this.exchanges.clear();
    for (const exchange of open) {
      letGo(exchange.res);
      unprimed.delete(exchange);
      exchange.recorder?.finish();
      // As the SDK's: a stream the session ends under its requests ends empty.
      if (exchange.json) this.startStream(exchange);
      exchange.res.end();
    }
    if (this.standalone !== undefined) {
      letGo(this.standalone);
      this.standalone.end();
      this.standalone = undefined;
    }
    for (const [res, stop] of this.resumed) {
      stop();
      letGo(res);
      res.end();
    }
    this.resumed.clear();
    this.onclose?.();
  }

  /**
   * Makes the exchange a resumable stream: a priming event (an id, no data), and every event after
   * it kept. Once only, and only while something is still to come.
   */
  private prime(exchange: Exchange): void {
    unprimed.delete(exchange);
    if (!exchange.resumable || exchange.waiting.size === 0 || exchange.res.destroyed) return;
    // One try: a stream that cannot be resumable (its event ids would be too long) stays plain.
    exchange.resumable = false;
    exchange.recorder = this.options.streams?.open(this.sessionId!, [...exchange.waiting]);
    this.startStream(exchange);
    if (exchange.recorder !== undefined) exchange.res.write(`id: ${exchange.recorder.primingId}\ndata: \n\n`);
  }

  private startStream(exchange: Exchange): void {
    exchange.json = false;
    if (exchange.res.headersSent || exchange.res.destroyed) return;
    exchange.res.writeHead(200, this.headers(SSE_HEADERS));
    keepOpen(exchange.res);
  }

  private headers(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    return this.sessionId === undefined ? headers : { ...headers, 'mcp-session-id': this.sessionId };
  }
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage, eventId?: string): void {
  if (res.writableEnded || res.destroyed) return;
  const id = eventId === undefined ? '' : `id: ${eventId}\n`;
  res.write(`event: message\n${id}data: ${JSON.stringify(message)}\n\n`);
}

/**
 * Open streams, each written a comment line every `KEEP_ALIVE_MS` by one timer for all of them: a
 * timer per stream, now that most calls' answers are streams, is a timer armed and cleared per
 * call. A stream may go up to twice the interval without one, well within proxies' idle limits.
 */
const openStreams = new Set<ServerResponse>();
let keepAliveTimer: NodeJS.Timeout | undefined;

function keepOpen(res: ServerResponse): void {
  openStreams.add(res);
  if (keepAliveTimer !== undefined) return;
  keepAliveTimer = setInterval(() => {
    for (const open of openStreams) {
      if (open.writableEnded || open.destroyed) openStreams.delete(open);
      else open.write(': keepalive\n\n');
    }
    if (openStreams.size === 0) {
      clearInterval(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  }, KEEP_ALIVE_MS);
  keepAliveTimer.unref();
}

/**
 * Single-request exchanges of resumable sessions still unanswered, each primed (made a resumable
 * stream) once it has waited `PRIME_AFTER_MS` with nothing sent: by one timer for all of them, in
 * the order they came (a Map keeps it), as the keep-alive timer is one for all streams.
 */
const unprimed = new Map<Exchange, { due: number; prime: () => void }>();
let primeTimer: NodeJS.Timeout | undefined;

function awaitPriming(exchange: Exchange, prime: () => void): void {
  unprimed.set(exchange, { due: performance.now() + PRIME_AFTER_MS, prime });
  if (primeTimer !== undefined) return;
  primeTimer = setInterval(() => {
    const now = performance.now();
    for (const waiting of unprimed.values()) {
      if (waiting.due > now) break;
      waiting.prime();
    }
    if (unprimed.size === 0) {
      clearInterval(primeTimer);
      primeTimer = undefined;
    }
  }, PRIME_AFTER_MS / 4);
  primeTimer.unref();
}

function letGo(res: ServerResponse): void {
  openStreams.delete(res);
}

function initializeVersion(messages: readonly JSONRPCMessage[]): unknown {
  const initialize = messages.find((m) => isInitializeRequest(m)) as
    | { params: { protocolVersion?: unknown } }
    | undefined;
  return initialize?.params.protocolVersion;
}

function resumes(protocolVersion: unknown): boolean {
  return typeof protocolVersion === 'string' && protocolVersion >= RESUMABLE_FROM;
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
