import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatedResponse, Emulator } from '../emulator.js';

/**
 * A third-party API for tests: the service's emulator behind a real HTTP server on 127.0.0.1,
 * with every request it received on record and answers that a test scripts ahead of the
 * emulator (a 429, a 500) for the requests that match.
 */

export interface RecordedRequest {
  /** When it arrived (Date.now()), for tests of how long a client waited. */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
  /** The status it was answered with (set once answered): a test counts 429s by it. */
  status?: number;
}

export interface Scripted {
  method?: string;
  /** The request path must equal this, or match it. */
  path: string | RegExp;
  /** How many matching requests get `answer` (then the emulator answers again). */
  times: number;
  answer: EmulatedResponse;
}

export interface FakeService {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next `times` matching requests with `answer` instead of the emulator. */
  script(rule: Scripted): void;
  /** Requests received for a method and path (exact, or matching). */
  received(method: string, path: string | RegExp): RecordedRequest[];
  close(): Promise<void>;
}

export async function serveFake(emulator: Emulator): Promise<FakeService> {
  const requests: RecordedRequest[] = [];
  const scripts: Scripted[] = [];
  const matches = (rule: { method?: string; path: string | RegExp }, method: string, path: string) =>
    (rule.method === undefined || rule.method === method) &&
    (typeof rule.path === 'string' ? rule.path === path : rule.path.test(path));

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      const headers = toHeaders(req);
      const text = await readText(req);
      const recorded: RecordedRequest = {
        at: Date.now(),
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers,
        body: text === '' ? undefined : JSON.parse(text),
      };
      requests.push(recorded);
      const rule = scripts.find((r) => r.times > 0 && matches(r, recorded.method, recorded.path));
      let answer: EmulatedResponse;
      if (rule !== undefined) {
        rule.times--;
        answer = rule.answer;
      } else {
        answer = await emulator.handle(recorded);
      }
      recorded.status = answer.status;
      res.statusCode = answer.status;
      for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
      if (answer.body === undefined) res.end();
      else {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(answer.body));
      }
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (rule) => scripts.push({ ...rule }),
    received: (method, path) => requests.filter((r) => matches({ method, path }, r.method, r.path)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  return headers;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
