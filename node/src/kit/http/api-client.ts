import { BrainmeshError, type ErrorCode, inSpan, type Logger, SpanKind } from '@brainmesh/shared';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { type Limiter, LimiterWaitExceeded, NOTHING_TO_DO } from './limiter.js';

/**
 * The one way a pack talks to a third-party API: auth headers, the service's outbound limiter,
 * its rate-limit signals, retries for what is safe to repeat, and errors a person can act on.
 * Each service describes itself with a `ServicePolicy`; the connectors only say what to send.
 */

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface ServicePolicy {
  /** The service as a user knows it, for messages ("GoDaddy"). */
  title: string;
  /**
   * From any response: how long the service wants further requests held back, in ms, if at all
   * (a 429's retry time, or a rate-limit header saying the budget is spent).
   */
  holdFor(res: { status: number; headers: Headers; body: unknown }, now: number): number | undefined;
  /** The service's own words for what went wrong, from an error body. */
  describeError(body: unknown): string | undefined;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below the base URL, with ids already encoded (`/contacts/${encodeURIComponent(id)}`). */
  path: string;
  /** Arrays are sent comma-separated; undefined values are left out. */
  query?: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;
  body?: unknown;
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Safe to send again: a read, or a write whose repeat changes nothing more. Everything else is
   * sent once, whatever happens to it.
   */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiClientOptions {
  policy: ServicePolicy;
  baseUrl: string;
  /** Called per request, so a rotated credential is picked up; never logged. */
  auth: () => Readonly<Record<string, string>>;
  /**
   * The service's outbound budget, in process (`OutboundLimiter`) or shared by every node using
   * one credential (`SharedLimiter`). Null in sample mode: there is no service to spare.
   */
  limiter: Limiter | null;
  logger: Logger;
  fetch?: Fetch;
  /** Attempts for an idempotent request, the first included. */
  attempts?: number;
  /**
   * A wait longer than this (a hold, or the queue ahead) is not waited out: the call fails and
   * says when to try again.
   */
  maxWaitMs?: number;
  timeoutMs?: number;
  now?: () => number;
  /**
   * Told how long each request waited for the limiter, and whether it was then sent or refused
   * (a wait longer than `maxWaitMs`): a pack's metrics. Not told when there is no limiter.
   */
  onLimiterWait?: (waitedMs: number, outcome: 'sent' | 'refused') => void;
}

/** An error the retry policy may try again; carries the error the caller sees if it gives up. */
class Retryable extends Error {
  constructor(readonly final: BrainmeshError) {
    super(final.message);
  }
}

export class ApiClient {
  private readonly fetch: Fetch;
  private readonly now: () => number;
  private readonly maxWaitMs: number;
  private readonly timeoutMs: number;
  private readonly retryPolicy;

  constructor(private readonly options: ApiClientOptions) {
    this.fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.now = options.now ?? Date.now;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retryPolicy = retry(
      handleWhen((err) => err instanceof Retryable),
      {
        maxAttempts: (options.attempts ?? 4) - 1,
        backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 5_000 }),
      },
    );
  }

  async request<T = unknown>(req: ApiRequest): Promise<ApiResponse<T>> {
    if (!req.idempotent) return this.send<T>(req).catch(unwrap);
    try {
      return await this.retryPolicy.execute(() => this.send<T>(req), req.signal);
    } catch (err) {
      return unwrap(err);
    }
  }

  private async send<T>(req: ApiRequest): Promise<ApiResponse<T>> {
    const { policy, limiter } = this.options;
    let taken = NOTHING_TO_DO;
    if (limiter !== null) {
      const waited = this.waited();
      const held = await limiter.holdRemainingMs();
      if (held > this.maxWaitMs) {
        waited('refused');
        throw rateLimited(policy.title, held);
      }
      try {
        taken = await limiter.take(this.maxWaitMs, req.signal);
      } catch (err) {
        if (!(err instanceof LimiterWaitExceeded)) throw err;
        waited('refused');
        // The line ahead (or a hold set while waiting) is longer than a call should wait.
        throw rateLimited(policy.title, Math.max(await limiter.holdRemainingMs(), 1_000));
      }
      waited('sent');
    }
    req.signal?.throwIfAborted();
    const url = this.url(req);
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.auth(), ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    // A span when tracing is on (inSpan only runs the work when it is off).
    return inSpan(
      `${req.method} ${policy.title}`,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': req.method, 'server.address': new URL(url).host } },
      async (span) => {
        const answer = await this.exchange<T>(req, url, headers, taken);
        span?.setAttribute('http.response.status_code', answer.status);
        return answer;
      },
    );
  }

  /** Tells `onLimiterWait` how long since this was made, once asked. */
  private waited(): (outcome: 'sent' | 'refused') => void {
    const { onLimiterWait } = this.options;
    if (onLimiterWait === undefined) return () => {};
    const started = performance.now();
    return (outcome) => {
      // The metrics' business: a fault there must not fail the request.
      try {
        onLimiterWait(performance.now() - started, outcome);
      } catch {}
    };
  }

  private async exchange<T>(
    req: ApiRequest,
    url: string,
    headers: Record<string, string>,
    taken: { answered(): void },
  ): Promise<ApiResponse<T>> {
    const { policy, limiter } = this.options;
    const started = this.now();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    let body: unknown;
    // The body is read under the same timeout: an answer that stops half-way is a lost one.
    try {
      res = await this.fetch(url, {
        method: req.method,
        headers,
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        signal: req.signal === undefined ? timeout : AbortSignal.any([req.signal, timeout]),
      });
      body = await readBody(res);
    } catch (err) {
      taken.answered();
      if (req.signal?.aborted) throw err;
      const why = timeout.aborted ? `did not answer within ${this.timeoutMs / 1000} s` : 'could not be reached';
      throw this.failure(req, 'UPSTREAM_UNAVAILABLE', `${policy.title} ${why}`, err);
    }
    taken.answered();
    this.options.logger.debug(
      { service: policy.title, method: req.method, path: req.path, status: res.status, ms: this.now() - started },
      'upstream request',
    );
    const hold = policy.holdFor({ status: res.status, headers: res.headers, body }, this.now());
    if (hold !== undefined && hold > 0 && limiter !== null) await limiter.hold(hold);
    if (res.ok) return { status: res.status, headers: res.headers, body: body as T };

    const said = policy.describeError(body);
    const what = `${policy.title} answered ${res.status}${said === undefined ? '' : `: ${said}`}`;
    if (res.status === 429) {
      const waitMs = hold ?? 1_000;
      if (!req.idempotent || waitMs > this.maxWaitMs) throw rateLimited(policy.title, waitMs, !req.idempotent);
      throw new Retryable(rateLimited(policy.title, waitMs));
    }
    if (res.status >= 500) throw this.failure(req, 'UPSTREAM_UNAVAILABLE', what);
    throw new BrainmeshError(clientErrorCode(res.status), what, { details: { status: res.status } });
  }

  /** A server fault or a lost connection: retried when safe, otherwise reported as possibly done. */
  private failure(req: ApiRequest, code: ErrorCode, message: string, cause?: unknown): Error {
    if (req.idempotent) return new Retryable(new BrainmeshError(code, message, { cause }));
    return new BrainmeshError(
      code,
      `${message}. It was sent once and not retried, as it may have taken effect: check before trying again.`,
      { cause },
    );
  }

  private url(req: ApiRequest): string {
    const url = new URL(this.options.baseUrl.replace(/\/$/, '') + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value === undefined) continue;
      url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    return url.toString();
  }
}

function unwrap(err: unknown): never {
  throw err instanceof Retryable ? err.final : err;
}

function rateLimited(title: string, waitMs: number, notRetried = false): BrainmeshError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new BrainmeshError(
    'RATE_LIMITED',
    `${title}'s rate limit is reached: try again in ${seconds} s${notRetried ? ' (this call is never retried automatically)' : ''}`,
    { details: { retryAfterSeconds: seconds } },
  );
}

function clientErrorCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  return 'INVALID_INPUT';
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  if (!(res.headers.get('content-type') ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Seconds from a `Retry-After` header (delta seconds or an HTTP date), as ms. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
