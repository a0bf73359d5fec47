/**
 * Closed-loop load: `clients` independent MCP sessions, each calling again as soon as its last
 * call answers, for a warm-up and then a measured window. What the window counts is the calls
 * that completed in it, their latencies, and the CPU each watched process spent in it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Connect } from './clients.js';
import { type CpuSource, cpuDelta, snapshot } from './cpu.js';

export interface Window {
  calls: number;
  errors: number;
  /** The first error seen, to say why a row has errors. */
  firstError?: string;
  ms: number;
  /** Latency of each call completed in the window, ms, in completion order. */
  latencies: number[];
  /** CPU milliseconds per watched source over the window. */
  cpuMs: Map<string, number>;
}

export interface LoadOptions {
  connect: Connect;
  /** One call; a result with `isError` counts as an error. */
  call: (client: Client) => Promise<unknown>;
  clients: number;
  warmupMs: number;
  measureMs: number;
  cpu: readonly CpuSource[];
}

/** Backs off a session whose calls fail at once, so that it does not spin. */
const ERROR_PAUSE_MS = 10;

export async function closedLoop(options: LoadOptions): Promise<Window> {
  const sessions = await Promise.all(Array.from({ length: options.clients }, () => options.connect()));
  try {
    let phase: 'warm-up' | 'measure' | 'done' = 'warm-up';
    const window: Window = { calls: 0, errors: 0, ms: 0, latencies: [], cpuMs: new Map() };
    const loops = sessions.map(async (client) => {
      while (phase !== 'done') {
        const t0 = performance.now();
        let error: string | undefined;
        try {
          const result = await options.call(client);
          if ((result as { isError?: unknown }).isError === true)
            error = `tool error: ${JSON.stringify(result).slice(0, 200)}`;
        } catch (err) {
          error = String(err);
        }
        const ms = performance.now() - t0;
        // A call counts where it completes: the window's rate is completions per second.
        if (phase === 'measure') {
          if (error === undefined) {
            window.calls++;
            window.latencies.push(ms);
          } else {
            window.errors++;
            window.firstError ??= error;
          }
        }
        if (error !== undefined) await sleep(ERROR_PAUSE_MS);
      }
    });
    await sleep(options.warmupMs);
    const before = snapshot(options.cpu);
    const start = performance.now();
    phase = 'measure';
    await sleep(options.measureMs);
    phase = 'done';
    window.ms = performance.now() - start;
    window.cpuMs = cpuDelta(before, snapshot(options.cpu));
    await Promise.all(loops);
    return window;
  } finally {
    await Promise.allSettled(sessions.map((client) => client.close()));
  }
}
