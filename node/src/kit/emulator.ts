import type { Fetch } from './http/api-client.js';

/**
 * The base of a service's HTTP API played in process: a small router (`/contacts/:id`), a hook
 * before every route (auth, rate limits) and headers every answer carries. A pack builds its
 * service's routes, auth, paging, rate-limit headers and error bodies on it, over its sample
 * data. Sample mode sends the connectors' real requests here through `fetch`; tests put the same
 * emulator behind a real HTTP server on loopback (`serveFake` in the kit's testing part). One
 * emulation serves both, so what sample mode shows is what the connectors would do.
 */

export interface EmulatedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
  /** The path's named parts (`/contacts/:id` → { id }). */
  params: Record<string, string>;
}

export interface EmulatedResponse {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON; undefined means no body. */
  body?: unknown;
}

export interface EmulatorOptions {
  /** The emulator's clock for its rate-limit windows (tests move it by hand). */
  now?: () => number;
  /**
   * Whether it answers 429 past the service's limits. On for tests; off in sample mode, where no
   * service is spared and a user trying everything at once should not be held back.
   */
  rateLimits?: boolean;
}

export type Handler = (req: EmulatedRequest) => EmulatedResponse | Promise<EmulatedResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export interface EmulatorHooks {
  /** Runs before every route: an answer here (auth refused, rate limited) is final. */
  before?(req: EmulatedRequest, route: string): EmulatedResponse | undefined;
  /** Adds headers every answer carries (rate-limit counters). */
  headers?(req: EmulatedRequest): Record<string, string>;
  notFound(req: EmulatedRequest): EmulatedResponse;
}

export class Emulator {
  private readonly routes: (Route & { template: string })[] = [];

  constructor(private readonly hooks: EmulatorHooks) {}

  route(method: string, template: string, handler: Handler): this {
    const names: string[] = [];
    const source = template
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, template, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  async handle(req: Omit<EmulatedRequest, 'params'>): Promise<EmulatedResponse> {
    const answer = await this.dispatch(req);
    const extra = this.hooks.headers?.({ ...req, params: {} }) ?? {};
    return { ...answer, headers: { ...extra, ...answer.headers } };
  }

  private async dispatch(req: Omit<EmulatedRequest, 'params'>): Promise<EmulatedResponse> {
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const match = route.pattern.exec(req.path);
      if (match === null) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1] ?? '');
      });
      const full = { ...req, params };
      return this.hooks.before?.(full, `${route.method} ${route.template}`) ?? route.handler(full);
    }
    return this.hooks.notFound({ ...req, params: {} });
  }

  /** The emulator as a `fetch`, for sample mode: nothing leaves the process. */
  readonly fetch: Fetch = async (url, init) => {
    const parsed = new URL(url);
    const text = typeof init.body === 'string' ? init.body : undefined;
    const headers = new Headers(init.headers);
    // As an HTTP server would see it: links an API builds (DigitalOcean's pages) use it.
    headers.set('host', parsed.host);
    const answer = await this.handle({
      method: init.method ?? 'GET',
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      body: text === undefined || text === '' ? undefined : JSON.parse(text),
    });
    return toResponse(answer);
  };
}

function toResponse(answer: EmulatedResponse): Response {
  const headers = new Headers(answer.headers);
  if (answer.body === undefined) return new Response(null, { status: answer.status, headers });
  headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
}

/** The sample-mode base URL: never fetched over a network, only parsed. */
export const SAMPLE_ORIGIN = 'http://sample.invalid';
