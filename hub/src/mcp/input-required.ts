import { createHash, randomUUID } from 'node:crypto';
import { JsonRpcCode, RpcError, type Store } from '@brainmesh/shared';
import type { CallToolResult, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { createRequestStateCodec, type InputRequiredResult, inputRequired } from '@modelcontextprotocol/server';
import { z } from 'zod';

/**
 * A node's question to a 2026-07-28 client, bridged. That revision has no requests from server
 * to client: a server that needs the user (elicitation), the model (sampling) or the client's
 * roots answers the call with `input_required`, naming what it needs, and an opaque
 * `requestState`; the client asks its user, and calls again with the answers and that state.
 * Nodes (and the servers they mount) ask the 2025 way, in the middle of a call. So the hub keeps
 * the node's call going, parked, while the client answers:
 *
 *   call → the node asks → `input_required` {the question, requestState} … the client calls
 *   again with the answer → the node gets it → its result (or its next question)
 *
 * `requestState` is HMAC-signed (the SDK's codec) over the parked call's id, the principal and
 * the tool, so a client cannot continue another principal's call, or another tool's, or forge
 * one; the SDK refuses a state that does not verify, or has expired, before a handler sees it.
 * A parked call nobody continues within `idleMs` is cancelled, and the node told.
 *
 * Behind a load balancer the retry may reach another replica. The state's key is derived from the
 * hub's key ring, which replicas share, so any of them verifies it; one that does not hold the
 * parked call runs the call again from the start, answering from the client's answers each
 * question the state says was asked (by a digest of what was asked), and tells the replica that
 * parked it (the store's pub/sub) to cancel its copy. So a node's tool asks before it acts, as
 * confirmations do: what it did before asking, it does again.
 */

/** How long a parked call waits for the client to come back with its answers. */
const IDLE_MS = 10 * 60_000;

const stateSchema = z.object({
  call: z.string(),
  principal: z.string(),
  tool: z.string(),
  /** The hub process holding the call. */
  instance: z.string(),
  /** Each question asked: its key in `inputRequests`, and a digest of what was asked. */
  asked: z.array(z.object({ key: z.string(), digest: z.string() })).max(100),
});
type State = z.infer<typeof stateSchema>;

/** Where a replica that takes over a parked call tells the one holding it to let it go. */
const TAKEN_CHANNEL = 'mcp-input-required-taken';

const digestOf = (method: string, params: unknown) =>
  createHash('sha256')
    .update(method)
    .update('\n')
    .update(JSON.stringify(params ?? null))
    .digest('base64url');

/** Where the current round's progress goes (the stream of the request now waiting), or nowhere. */
export type Sink = (notification: ServerNotification) => Promise<void>;

interface Question {
  method: string;
  params: unknown;
  digest: string;
  answer(result: unknown): void;
  fail(err: unknown): void;
}

/** What the node is given to run a call that may ask its client something. */
export type RunCall = (call: {
  signal: AbortSignal;
  notify: Sink;
  ask(method: string, params: unknown): Promise<unknown>;
}) => Promise<CallToolResult>;

class Parked {
  readonly id = randomUUID();
  readonly controller = new AbortController();
  readonly questions = new Map<string, Question>();
  result!: Promise<CallToolResult>;
  /** Tells the round in progress that the node asked something. */
  wake: (() => void) | undefined;
  running = false;
  timer: NodeJS.Timeout | undefined;
  private asked = 0;

  /** Every question asked so far, answered or not, as the state lists them. */
  readonly history: Array<{ key: string; digest: string }> = [];

  constructor(
    readonly principal: string,
    readonly tool: string,
    public sink: Sink | undefined,
    /** Answers the client gave on another replica, by the digest of what was asked. */
    private readonly answered: Map<string, unknown> = new Map(),
  ) {}

  ask(method: string, params: unknown): Promise<unknown> {
    const digest = digestOf(method, params);
    if (this.answered.has(digest)) {
      const answer = this.answered.get(digest);
      this.answered.delete(digest);
      return Promise.resolve(answer);
    }
    return new Promise((answer, fail) => {
      this.asked += 1;
      const key = `q${this.asked}`;
      this.questions.set(key, { method, params, digest, answer, fail });
      this.history.push({ key, digest });
      this.wake?.();
    });
  }
}

export class InputRequiredBridge {
  private readonly codec;
  private readonly parked = new Map<string, Parked>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly options: {
      /** The state's HMAC key: the same in every replica (`KeyRing.derivedSecret`). */
      secret: Uint8Array;
      /** This hub process (`Mesh.instance`). */
      instance: string;
      /** Where replicas tell each other of a call taken over. */
      store?: Store;
      idleMs?: number;
    },
  ) {
    this.codec = createRequestStateCodec({
      key: options.secret,
      ttlSeconds: Math.ceil((options.idleMs ?? IDLE_MS) / 1000),
    });
  }

  /** Listens for calls of this process's that another replica has taken over. */
  async start(): Promise<void> {
    this.unsubscribe = await this.options.store?.subscribe(TAKEN_CHANNEL, (id) => {
      const p = this.parked.get(id);
      if (p !== undefined && !p.running) this.expire(p, 'the call was continued on another hub replica');
    });
  }

  /** For the SDK server's `requestState.verify`: a state is checked before any handler runs. */
  get verify() {
    return this.codec.verify;
  }

  /**
   * A call that may ask its client something: new (`state` undefined), or continued with the
   * client's answers (`inputResponses`, by question) and the state it was given. Resolves with
   * the result, or with `input_required` when the node asks first.
   */
  async call(
    request: { principal: string; tool: string; state?: unknown; responses?: Record<string, unknown> | undefined },
    sink: Sink | undefined,
    signal: AbortSignal,
    run: RunCall,
  ): Promise<CallToolResult | InputRequiredResult> {
    if (request.state === undefined) return this.begin(new Parked(request.principal, request.tool, sink), signal, run);
    const parsed = stateSchema.safeParse(request.state);
    if (!parsed.success || parsed.data.principal !== request.principal || parsed.data.tool !== request.tool)
      throw new RpcError(JsonRpcCode.InvalidParams, 'this requestState is not of this call');
    const state = parsed.data;
    const p = this.parked.get(state.call);
    if (p === undefined) return this.takeOver(state, request, sink, signal, run);
    if (p.running) throw new RpcError(JsonRpcCode.InvalidRequest, 'this call is already being continued');
    p.sink = sink;
    for (const [key, question] of p.questions) {
      if (request.responses === undefined || !(key in request.responses)) continue;
      p.questions.delete(key);
      question.answer(request.responses[key]);
    }
    return this.round(p, signal);
  }

  private begin(p: Parked, signal: AbortSignal, run: RunCall): Promise<CallToolResult | InputRequiredResult> {
    p.result = run({
      signal: p.controller.signal,
      notify: (n) => p.sink?.(n) ?? Promise.resolve(),
      ask: (method, params) => p.ask(method, params),
    });
    return this.round(p, signal);
  }

  /**
   * A call parked by another replica (or by this process before it restarted): run again from
   * the start, each question the client has answered answered at once.
   */
  private async takeOver(
    state: State,
    request: { principal: string; tool: string; responses?: Record<string, unknown> | undefined },
    sink: Sink | undefined,
    signal: AbortSignal,
    run: RunCall,
  ): Promise<CallToolResult | InputRequiredResult> {
    const answered = new Map<string, unknown>();
    for (const { key, digest } of state.asked)
      if (request.responses !== undefined && key in request.responses) answered.set(digest, request.responses[key]);
    if (state.instance !== this.options.instance)
      await this.options.store?.publish(TAKEN_CHANNEL, state.call).catch(() => {});
    return this.begin(new Parked(request.principal, request.tool, sink, answered), signal, run);
  }

  /** Waits for the call's result, or for a question to hand to the client. */
  private async round(p: Parked, signal: AbortSignal): Promise<CallToolResult | InputRequiredResult> {
    clearTimeout(p.timer);
    p.running = true;
    // The client gave up on this round (closed its stream): the call ends, and the node is told.
    const onAbort = () => p.controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const asked = new Promise<'asked'>((resolve) => {
        p.wake = () => resolve('asked');
        if (p.questions.size > 0) resolve('asked');
      });
      const outcome = await Promise.race([p.result, asked]);
      if (outcome !== 'asked') {
        this.parked.delete(p.id);
        return outcome;
      }
      this.parked.set(p.id, p);
      p.timer = setTimeout(() => this.expire(p), this.options.idleMs ?? IDLE_MS);
      p.timer.unref();
      return inputRequired({
        inputRequests: Object.fromEntries(
          [...p.questions].map(([key, q]) => [key, { method: q.method, params: q.params }]),
        ) as never,
        requestState: await this.codec.mint({
          call: p.id,
          principal: p.principal,
          tool: p.tool,
          instance: this.options.instance,
          asked: p.history,
        } satisfies State),
      });
    } catch (err) {
      this.parked.delete(p.id);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      p.wake = undefined;
      p.running = false;
      p.sink = undefined;
    }
  }

  private expire(p: Parked, reason = 'the client did not answer in time'): void {
    this.parked.delete(p.id);
    const why = new RpcError(JsonRpcCode.InvalidRequest, reason);
    for (const q of p.questions.values()) q.fail(why);
    p.questions.clear();
    p.controller.abort(why);
    p.result.catch(() => {});
  }

  /** Every parked call ends (the hub is stopping). */
  async close(): Promise<void> {
    await this.unsubscribe?.();
    for (const p of this.parked.values()) this.expire(p, 'the hub is stopping');
  }
}
