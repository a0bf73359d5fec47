/**
 * What the fault and abuse suite needs to throw anything at the mesh's HTTP edges and judge
 * every answer the same way: raw HTTP (any method, header or bytes, which fetch will not send),
 * the checks every answer must pass whatever was asked, hand-made MCP sessions over raw HTTP, and
 * fast-check runs with a fixed seed that a failure names, so it can be replayed:
 * `FUZZ_SEED=<seed> npm test -- <file>` (and `FUZZ_TIMES=10` to search ten times longer).
 */
import http from 'node:http';
import type { Spawned } from '@brainmesh/shared/testing';
import fc from 'fast-check';

/**
 * Link settings for a hub under attack: on a loaded two-core machine a health ping can take
 * longer than FAST_LINKS' 500 ms, and a node marked down for that would read as harm the attack
 * did to another client.
 */
export const PATIENT_HEALTH_CHECKS = { healthTimeoutMs: 3_000 } as const;

/** One seed for every property, so a run is the same run everywhere; FUZZ_SEED picks another. */
export const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? 20_261_202 : Number(process.env.FUZZ_SEED);
/** How many times each property's runs: 1 in `npm test`; more to search longer by hand. */
const FUZZ_TIMES = process.env.FUZZ_TIMES === undefined ? 1 : Number(process.env.FUZZ_TIMES);

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
  /**
   * The request is over a size limit (body or headers): the server may answer and drop the
   * connection before it has read everything, so a reset is an answer too.
   */
  oversized?: boolean;
}

export interface RawAnswer {
  /** 0 when no HTTP answer came (`error` says why). */
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** An event stream the request opened was still open when reading stopped. */
  open: boolean;
  error?: string;
  ms: number;
}

const MAX_READ = 4 * 1024 * 1024;

/**
 * Sends one request as given, on a connection of its own. A response is read to its end, except
 * the event stream of a GET that goes quiet for `idleMs` (a standing stream). No answer within
 * `timeoutMs` is an error: a hang is a failure like any other.
 */
export function send(
  base: string,
  request: RawRequest,
  options: { timeoutMs?: number; idleMs?: number } = {},
): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const idleMs = options.idleMs ?? 400;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const url = new URL(request.path, base);
    // The body is framed by its length, whatever the method: Node would send a DELETE's body
    // unframed, and the server read it as the next request.
    const framed =
      request.body === undefined || Object.keys(request.headers).some((h) => /^content-length$/i.test(h))
        ? request.headers
        : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const req = http.request(url, { method: request.method, headers: framed, agent: false });
    let done = false;
    const finish = (answer: Omit<RawAnswer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...answer, ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${describeRequest(request)}`));
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish({ status: 0, headers: {}, body: '', open: false, error: err.code ?? err.message });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // Only a GET opens a standing stream; a POST's stream ends with its answers, or it hangs.
      const stream =
        request.method === 'GET' && String(res.headers['content-type'] ?? '').includes('text/event-stream');
      let idle: NodeJS.Timeout | undefined;
      const text = () => Buffer.concat(chunks).toString('utf8');
      const quiet = () => {
        if (!stream) return;
        clearTimeout(idle);
        idle = setTimeout(
          () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: text(), open: true }),
          idleMs,
        );
      };
      quiet();
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_READ) chunks.push(chunk);
        quiet();
      });
      res.on('end', () => {
        clearTimeout(idle);
        finish({ status: res.statusCode ?? 0, headers: res.headers, body: text(), open: false });
      });
      res.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(idle);
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text(),
          open: false,
          error: err.code ?? 'ERR',
        });
      });
    });
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** Text that means something internal reached a client. */
const INTERNAL_TEXT: Array<[RegExp, string]> = [
  [/\n\s+at \S/, 'a stack trace'],
  [/\bat (?:async )?\S+ \((?:file:|node:|\/)[^)]*:\d+:\d+\)/, 'a stack frame'],
  [/\.(?:ts|js|mjs|cjs):\d+/, 'a source file position'],
  [/node_modules/, 'a node_modules path'],
  [
    /"code":\s*"(?:invalid_type|invalid_union|invalid_value|invalid_format|too_big|too_small|unrecognized_keys)"/,
    'a zod issue array',
  ],
  [/Maximum call stack/, 'a stack overflow'],
  [/\b(?:TypeError|ReferenceError|RangeError|SyntaxError)\b/, 'a JavaScript error name'],
  [/Streamable HTTP error|Error POSTing to endpoint|SSE error/, "the SDK client's own error text"],
];

/** The longest message a refusal may carry: what it quotes of the request must be cut. */
export const MAX_MESSAGE_CHARS = 1_000;

/** Every JSON document in an answer: the body itself, or each `data:` of an event stream. */
export function documents(answer: Pick<RawAnswer, 'body'>): unknown[] {
  const out: unknown[] = [];
  const tryParse = (text: string) => {
    try {
      out.push(JSON.parse(text));
    } catch {
      // not JSON: the text checks still apply to it
    }
  };
  if (/^\s*[[{]/.test(answer.body)) tryParse(answer.body);
  else {
    for (const line of answer.body.split('\n')) if (line.startsWith('data:')) tryParse(line.slice(5).trim());
  }
  return out;
}

/** The JSON-RPC messages in an answer (a batch answer counts each). */
export function rpcMessages(answer: Pick<RawAnswer, 'body'>): Array<Record<string, unknown>> {
  return documents(answer)
    .flatMap((d) => (Array.isArray(d) ? d : [d]))
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null && 'jsonrpc' in d);
}

function strings(value: unknown, out: string[] = []): string[] {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) stack.push(...v);
    else if (typeof v === 'object' && v !== null) stack.push(...Object.values(v));
  }
  return out;
}

const parsesAsJson = (request: RawRequest) => {
  if (request.body === undefined || request.body.length === 0) return false;
  try {
    JSON.parse(request.body.toString());
    return true;
  } catch {
    return false;
  }
};

/**
 * What is wrong with an answer to anything a client may send: a 5xx, no answer, internal text
 * (stack traces, source paths, zod's issue arrays, a stack overflow), an internal error (-32603)
 * or a parse error (-32700) for a body that parses, or a refusal that quotes more than
 * MAX_MESSAGE_CHARS of what it refuses. Empty when the answer is fine. `callersFault: false`
 * when the request was good and something behind the endpoint failed.
 */
export function answerFaults(
  request: RawRequest,
  answer: RawAnswer,
  options: { callersFault?: boolean } = {},
): string[] {
  // A refusal of what the caller sent must say so (-32600/-32602); a fault upstream may be -32603.
  const callersFault = options.callersFault ?? true;
  const faults: string[] = [];
  if (answer.status >= 500) faults.push(`answered HTTP ${answer.status}`);
  if (answer.status === 0 && !(request.oversized === true && /ECONNRESET|EPIPE/.test(answer.error ?? ''))) {
    faults.push(`no HTTP answer (${answer.error})`);
  }
  const texts = [answer.body, ...strings(documents(answer))];
  for (const [pattern, what] of INTERNAL_TEXT) {
    const hit = texts.find((t) => pattern.test(t));
    if (hit !== undefined) faults.push(`the answer carries ${what}: ${excerpt(hit, pattern)}`);
  }
  for (const message of rpcMessages(answer)) {
    const error = message.error as { code?: unknown; message?: unknown } | undefined;
    if (error !== undefined) {
      if (callersFault && error.code === -32603)
        faults.push(`an internal error (-32603) for the caller's own input: ${cut(error.message)}`);
      if (callersFault && error.code === -32700 && parsesAsJson(request)) {
        faults.push(`a parse error (-32700) for a body that parses as JSON: ${cut(error.message)}`);
      }
      if (typeof error.message === 'string' && error.message.length > MAX_MESSAGE_CHARS) {
        faults.push(`an error message of ${error.message.length} characters: ${cut(error.message)}`);
      }
    }
    const result = message.result as { isError?: unknown; content?: unknown } | undefined;
    if (result?.isError === true) {
      const said = strings(result.content).join('');
      if (said.length > MAX_MESSAGE_CHARS) faults.push(`a tool error of ${said.length} characters: ${cut(said)}`);
    }
  }
  for (const doc of documents(answer)) {
    if (typeof doc !== 'object' || doc === null || 'jsonrpc' in doc) continue;
    const said = (doc as { message?: unknown }).message;
    if (typeof said === 'string' && said.length > MAX_MESSAGE_CHARS) {
      faults.push(`an HTTP error message of ${said.length} characters: ${cut(said)}`);
    }
  }
  return faults;
}

const cut = (value: unknown, max = 160): string => {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s === undefined ? String(s) : s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
};

const excerpt = (text: string, pattern: RegExp): string => {
  const at = text.search(pattern);
  return cut(text.slice(Math.max(0, at - 60), at + 100));
};

/** A request in a line or three, cut to something a failure report can print. */
export function describeRequest(request: RawRequest): string {
  const headers = Object.entries(request.headers)
    .filter(([k]) => k !== 'authorization')
    .map(([k, v]) => `${k}: ${cut(Array.isArray(v) ? v.join(', ') : v, 80)}`);
  const count = Object.keys(request.headers).length;
  const body = request.body === undefined ? '(no body)' : cut(request.body.toString(), 300);
  return `${request.method} ${cut(request.path, 120)} [${headers.slice(0, 8).join('; ')}${count > 9 ? `; … ${count} headers` : ''}] ${body}`;
}

export function describeAnswer(answer: RawAnswer): string {
  return `${answer.status}${answer.error ? ` (${answer.error})` : ''} in ${answer.ms} ms: ${cut(answer.body, 400)}`;
}

/** Faults of the processes themselves: any that exited is named. */
export function deaths(procs: Record<string, Spawned>): string[] {
  return Object.entries(procs)
    .filter(([, p]) => p.child.exitCode !== null || p.child.signalCode !== null)
    .map(([name, p]) => `${name} died (${p.child.exitCode ?? p.child.signalCode}): ${p.stderr.slice(-5).join(' | ')}`);
}

/**
 * Runs `property` on `examples` (the cases known to have done harm: they always run first), then
 * on `numRuns` values of `arbitrary` from the suite's seed. `property` returns what it found
 * wrong: the first line names the request, each further line one fault. Every run is made, since
 * a target that holds state would not replay a shrunk case (unless a process died: then the rest
 * are skipped). It fails naming the seed and each kind of fault once, with its first example and
 * how often it came, so one known defect does not hide the others.
 */
export async function holds<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  property: (value: T, run: number) => Promise<string[]>,
  options: { numRuns: number; examples?: T[] },
): Promise<void> {
  const kinds = new Map<string, { first: string; run: number; count: number }>();
  let run = 0;
  let died = false;
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (value) => {
      run += 1;
      if (died) return;
      const [request, ...faults] = await property(value, run);
      for (const fault of faults) {
        const kind = fault.split(/[:\n]/)[0]!.replace(/\d+/g, 'N');
        const seen = kinds.get(kind);
        if (seen !== undefined) seen.count += 1;
        else kinds.set(kind, { first: `${request}\n    ${fault}`, run, count: 1 });
        if (/ died \(/.test(fault)) died = true;
      }
    }),
    {
      seed: FUZZ_SEED,
      numRuns: options.numRuns * FUZZ_TIMES,
      endOnFailure: true,
      examples: (options.examples ?? []).map((e): [T] => [e]),
    },
  );
  if (details.failed) {
    // Not a fault found but the property's own work failing (a session that would not open, a
    // hang): that stops the run, and is reported like a fault.
    const err = details.errorInstance;
    kinds.set('the run could not go on', {
      first: err instanceof Error ? (err.stack ?? err.message) : String(err),
      run,
      count: 1,
    });
  }
  if (kinds.size === 0) return;
  const report = [...kinds.entries()].map(
    ([kind, { first, run: at, count }]) => `- ${kind}: ${count} time(s), first on run ${at}\n    ${first}`,
  );
  throw new Error(
    `${name}: ${kinds.size} kind(s) of fault in ${run} runs (seed ${FUZZ_SEED}; replay with FUZZ_SEED=${FUZZ_SEED}):\n${report.join('\n')}`,
  );
}

/** Headers that make a request an MCP POST, with `auth` on top. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

export const PROTOCOL_VERSION = '2025-11-25';

export const initializeBody = (id: number | string = 1) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } },
  });

/**
 * An MCP session made by hand over raw HTTP at a Streamable HTTP endpoint, so a property can send
 * anything within it. `current()` gives its id, opening a new session when the last one is gone
 * (a fuzzed DELETE or a refused message may end it).
 */
export class RawSession {
  private id: string | undefined;

  constructor(
    private readonly base: string,
    private readonly path: string,
    private readonly auth: () => Promise<Record<string, string>>,
  ) {}

  async current(): Promise<string> {
    if (this.id !== undefined) {
      const ping = await this.post(JSON.stringify({ jsonrpc: '2.0', id: 'alive', method: 'ping' }), this.id);
      if (ping.status === 200) return this.id;
    }
    const opened = await this.post(initializeBody(), undefined);
    const id = opened.headers['mcp-session-id'];
    if (opened.status !== 200 || typeof id !== 'string') {
      throw new Error(`cannot open a session at ${this.path}: ${describeAnswer(opened)}`);
    }
    const initialized = await this.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), id);
    if (initialized.status !== 202) throw new Error(`initialized refused: ${describeAnswer(initialized)}`);
    this.id = id;
    return id;
  }

  private async post(body: string, sessionId: string | undefined): Promise<RawAnswer> {
    return send(this.base, {
      method: 'POST',
      path: this.path,
      headers: {
        ...MCP_HEADERS,
        ...(await this.auth()),
        'mcp-protocol-version': PROTOCOL_VERSION,
        ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
      },
      body,
    });
  }
}

/**
 * A session of the legacy HTTP+SSE transport made by hand: the GET /sse stream stays open and
 * every event on it is kept, so a property can judge what comes back on the stream for what it
 * POSTs to /messages.
 */
export class LegacySseSession {
  readonly events: string[] = [];
  /** Index of the first event not yet judged. */
  judged = 0;
  closed = false;
  private waiters = new Set<() => void>();

  private constructor(
    private readonly req: http.ClientRequest,
    readonly messagesPath: string,
  ) {}

  static open(base: string, auth: Record<string, string>): Promise<LegacySseSession> {
    return new Promise((resolve, reject) => {
      const req = http.request(new URL('/sse', base), {
        method: 'GET',
        headers: { ...auth, accept: 'text/event-stream' },
        agent: false,
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error('no endpoint event from /sse within 10 s'));
      }, 10_000);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          clearTimeout(timer);
          reject(new Error(`GET /sse answered ${res.statusCode}`));
          res.resume();
          return;
        }
        let session: LegacySseSession | undefined;
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trim())
              .join('\n');
            if (session === undefined && /^event: endpoint/m.test(event)) {
              clearTimeout(timer);
              session = new LegacySseSession(req, data);
              resolve(session);
              continue;
            }
            session?.events.push(data);
            for (const w of session?.waiters ?? []) w();
          }
        });
        res.on('close', () => {
          if (session === undefined) return;
          session.closed = true;
          for (const w of session.waiters) w();
        });
      });
      req.end();
    });
  }

  /** Resolves with the response to request `id` once it has come on the stream. */
  async answer(id: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events
        .map((e) => {
          try {
            return JSON.parse(e) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        })
        .find((m) => m?.id === id);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`the SSE stream closed before the answer to ${id}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer to ${id} on the SSE stream within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  close(): void {
    this.req.destroy();
  }
}
