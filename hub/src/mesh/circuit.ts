/**
 * One node's circuit: after `failures` link failures in a row it opens, refusing calls at once;
 * `halfOpenAfterMs` later the next call goes through as the one probe (others are still refused
 * while it runs), and its outcome closes the circuit or opens it again. Only the link's own
 * failures are reported here; whether a failure is one is the caller's call (`NodeLink`).
 *
 * Ours rather than cockatiel's `circuitBreaker`, which this replaced: cockatiel reads `Date.now()`
 * itself (no clock to pass in, so no unit test without faking time), has no reset (`isolate()`
 * then `dispose()` closes it but leaves the consecutive count at the threshold, so the very next
 * failure reopens it), reports `Open` until some call happens to ask after the break (a status
 * page cannot say "half-open"), and queues every caller behind the half-open probe, so one slow
 * probe holds every other caller for the whole call timeout.
 */

export type CircuitView =
  | { state: 'closed' }
  | { state: 'open'; since: string; retryAt: string }
  | { state: 'half-open'; since: string };

export type Admission = { ok: true; probe: boolean } | { ok: false; since: Date; retryAt: Date | undefined };

export interface CircuitOptions {
  failures: number;
  halfOpenAfterMs: number;
  now?: () => number;
}

export class Circuit {
  private consecutive = 0;
  private openedAt: number | undefined;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Would a call be let through now, and as the probe? Changes nothing. */
  peek(): Admission {
    if (this.openedAt === undefined) return { ok: true, probe: false };
    const retryAt = this.openedAt + this.options.halfOpenAfterMs;
    if (this.probing) return { ok: false, since: new Date(this.openedAt), retryAt: undefined };
    if (this.now() < retryAt) return { ok: false, since: new Date(this.openedAt), retryAt: new Date(retryAt) };
    return { ok: true, probe: true };
  }

  /** Lets a call through if it may go, as the probe when one is due; report how it ended. */
  admit(): Admission {
    const admission = this.peek();
    if (admission.ok && admission.probe) this.probing = true;
    return admission;
  }

  /** The node answered: whatever it said, the link works. */
  succeeded(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  /** The link failed (refused, reset, timed out, a 5xx, a stream that broke). True if it opened the circuit. */
  failed(probe: boolean): boolean {
    this.consecutive += 1;
    const opens = probe || (this.openedAt === undefined && this.consecutive >= this.options.failures);
    if (opens) this.openedAt = this.now();
    if (probe) this.probing = false;
    return opens;
  }

  /**
   * The call ended without telling anything about the link (the caller cancelled, the hub
   * refused it, a fault of our own): a probe's turn passes to the next call.
   */
  released(probe: boolean): void {
    if (probe) this.probing = false;
  }

  /** Closed by hand, or because the link starts afresh. */
  reset(): void {
    this.succeeded();
  }

  view(): CircuitView {
    if (this.openedAt === undefined) return { state: 'closed' };
    const since = new Date(this.openedAt).toISOString();
    const retryAt = this.openedAt + this.options.halfOpenAfterMs;
    if (this.probing || this.now() >= retryAt) return { state: 'half-open', since };
    return { state: 'open', since, retryAt: new Date(retryAt).toISOString() };
  }
}
