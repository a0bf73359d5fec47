import { randomBytes, randomUUID } from 'node:crypto';
import { JsonRpcCode, RpcError } from '@brainmesh/shared';
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
 * The parked call lives in this hub process: the state's key is this process's own, and a
 * retry must reach the process that holds the call (replicas, issue 17's second part, need the
 * key shared and the call found across them).
 */

/** How long a parked call waits for the client to come back with its answers. */
const IDLE_MS = 10 * 60_000;

const stateSchema = z.object({ call: z.string(), principal: z.string(), tool: z.string() });

/** Where the current round's progress goes (the stream of the request now waiting), or nowhere. */
export type Sink = (notification: ServerNotification) => Promise<void>;

interface Question {
  method: string;
  params: unknown;
  answer(result: unknown): void;
  fail(err: unknown): void;
}

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

  constructor(
    readonly principal: string,
    readonly tool: string,
    public sink: Sink | undefined,
  ) {}

  ask(method: string, params: unknown): Promise<unknown> {
    return new Promise((answer, fail) => {
      this.asked += 1;
      this.questions.set(`q${this.asked}`, { method, params, answer, fail });
      this.wake?.();
    });
  }
}

export class InputRequiredBridge {
  private readonly codec;
  private readonly parked = new Map<string, Parked>();

  constructor(private readonly idleMs = IDLE_MS) {
    this.codec = createRequestStateCodec({ key: randomBytes(32), ttlSeconds: Math.ceil(idleMs / 1000) });
  }

  /** For the SDK server's `requestState.verify`: a state is checked before any handler runs. */
  get verify() {
    return this.codec.verify;
  }

  /**
   * Starts a call that may ask its client something: `run` gets the call's signal, how to send
   * progress, and how to ask (elicitation, sampling, roots). Resolves with the result, or with
   * `input_required` when the node asks first.
   */
  start(
    principal: string,
    tool: string,
    sink: Sink | undefined,
    signal: AbortSignal,
    run: (call: {
      signal: AbortSignal;
      notify: Sink;
      ask(method: string, params: unknown): Promise<unknown>;
    }) => Promise<CallToolResult>,
  ): Promise<CallToolResult | InputRequiredResult> {
    const p = new Parked(principal, tool, sink);
    p.result = run({
      signal: p.controller.signal,
      notify: (n) => p.sink?.(n) ?? Promise.resolve(),
      ask: (method, params) => p.ask(method, params),
    });
    return this.round(p, signal);
  }

  /** Continues a parked call with the client's answers (`inputResponses`, by question). */
  async resume(
    state: unknown,
    principal: string,
    tool: string,
    responses: Record<string, unknown> | undefined,
    sink: Sink | undefined,
    signal: AbortSignal,
  ): Promise<CallToolResult | InputRequiredResult> {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success || parsed.data.principal !== principal || parsed.data.tool !== tool)
      throw new RpcError(JsonRpcCode.InvalidParams, 'this requestState is not of this call');
    const p = this.parked.get(parsed.data.call);
    if (p === undefined)
      throw new RpcError(
        JsonRpcCode.InvalidParams,
        'the call this requestState continues has ended (answered, not continued in time, or the hub restarted); call the tool again',
      );
    if (p.running) throw new RpcError(JsonRpcCode.InvalidRequest, 'this call is already being continued');
    p.sink = sink;
    for (const [key, question] of p.questions) {
      if (responses === undefined || !(key in responses)) continue;
      p.questions.delete(key);
      question.answer(responses[key]);
    }
    return this.round(p, signal);
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
      p.timer = setTimeout(() => this.expire(p), this.idleMs);
      p.timer.unref();
      return inputRequired({
        inputRequests: Object.fromEntries(
          [...p.questions].map(([key, q]) => [key, { method: q.method, params: q.params }]),
        ) as never,
        requestState: await this.codec.mint({ call: p.id, principal: p.principal, tool: p.tool }),
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

  private expire(p: Parked): void {
    this.parked.delete(p.id);
    const why = new RpcError(JsonRpcCode.InvalidRequest, 'the client did not answer in time');
    for (const q of p.questions.values()) q.fail(why);
    p.questions.clear();
    p.controller.abort(why);
    p.result.catch(() => {});
  }

  /** Every parked call ends (the hub is stopping). */
  close(): void {
    for (const p of this.parked.values()) this.expire(p);
  }
}
