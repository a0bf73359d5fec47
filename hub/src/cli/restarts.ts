/**
 * When `brainmesh up` starts a crashed process again: 1 s after the first crash, then twice as
 * long after each crash that follows soon after a start (at most 30 s). A process that ran a
 * while before it crashed starts over from 1 s. After five fast crashes in a row it is left
 * down: whatever breaks it will not mend by itself, and an endless loop would hide it.
 */

export interface RestartLimits {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A crash this long after the start or later is not "fast": the count starts over. */
  stableMs: number;
  /** This many fast crashes in a row, and it is not restarted. */
  maxFastCrashes: number;
}

export const RESTART_LIMITS: Readonly<RestartLimits> = Object.freeze({
  firstDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableMs: 60_000,
  maxFastCrashes: 5,
});

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; why: string };

export class RestartPolicy {
  private fastCrashes = 0;

  constructor(
    private readonly limits: Readonly<RestartLimits> = RESTART_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A crash of the process started at `startedAt` (ms since the epoch): when to start it again, if at all. */
  crashed(startedAt: number): RestartDecision {
    if (this.now() - startedAt >= this.limits.stableMs) this.fastCrashes = 0;
    this.fastCrashes += 1;
    if (this.fastCrashes >= this.limits.maxFastCrashes) {
      return {
        restart: false,
        why: `it crashed ${this.fastCrashes} times in a row, each within ${this.limits.stableMs / 1000} s of starting`,
      };
    }
    const delayMs = Math.min(this.limits.maxDelayMs, this.limits.firstDelayMs * 2 ** (this.fastCrashes - 1));
    return { restart: true, delayMs };
  }
}
