/** Figures of one path at one concurrency, from the windows (interleaved rounds) it was measured in. */
import type { Window } from './load.js';

export interface Figures {
  callsPerSecond: number;
  p50: number;
  p99: number;
  calls: number;
  errors: number;
  firstError?: string;
  /** CPU milliseconds per completed call, per watched source. */
  cpuPerCall: Map<string, number>;
  /** CPU milliseconds per second of the windows, per watched source: 1000 is one core kept busy. */
  cpuPerSecond: Map<string, number>;
}

export function figures(windows: readonly Window[]): Figures {
  const calls = windows.reduce((n, w) => n + w.calls, 0);
  const ms = windows.reduce((n, w) => n + w.ms, 0);
  const latencies = windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const cpu = new Map<string, number>();
  for (const w of windows) for (const [label, used] of w.cpuMs) cpu.set(label, (cpu.get(label) ?? 0) + used);
  const firstError = windows.find((w) => w.firstError !== undefined)?.firstError;
  return {
    callsPerSecond: ms === 0 ? 0 : (calls / ms) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls,
    errors: windows.reduce((n, w) => n + w.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
    cpuPerCall: new Map([...cpu].map(([label, used]) => [label, calls === 0 ? Number.NaN : used / calls])),
    cpuPerSecond: new Map([...cpu].map(([label, used]) => [label, ms === 0 ? Number.NaN : (used / ms) * 1000])),
  };
}

/** Nearest-rank percentile of ascending `sorted`; NaN when there is nothing to rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
