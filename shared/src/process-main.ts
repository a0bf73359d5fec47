import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isBrainmeshError } from './errors.js';

/**
 * The shape every long-running brainmesh process shares: parse flags (exit 2 with usage on a bad
 * one), start, run until SIGINT/SIGTERM, close everything, exit 0. An expected failure is one
 * line on stderr and exit 1; only a real bug prints a stack. Shutdown has a deadline: whatever
 * a close step waits for (a child that ignores signals, a request that never ends), the process
 * is gone soon after it is told to go.
 */

/** How long closing may take before the process says so and exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 8_000;

export interface Service {
  close(): Promise<void>;
  /**
   * Called when `close()` has not finished by the deadline, just before the process exits
   * anyway: ends at once what must not outlive it (a node's mounted servers).
   */
  abandon?(): void;
}

export type ParsedFlags = Record<string, string | boolean | undefined>;

export interface ProcessSpec {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  start(flags: ParsedFlags): Promise<Service>;
  /** Overrides SHUTDOWN_DEADLINE_MS (tests). */
  shutdownDeadlineMs?: number;
}

/** What a process started by `brainmesh up` tells it over their IPC channel. */
export type SupervisorMessage =
  /** Started on this storage, listening at `url` (none for a node that only dials the hub). */
  | { type: 'ready'; url: string | undefined; storage: { database: string; store: string } }
  /** (The hub.) Its link to `node` came up: the node's tools are served. */
  | { type: 'node-up'; node: string };

/**
 * Tells the supervisor how this process is doing, when there is one. Readiness travels here
 * rather than in log lines, which a log level or format may hide.
 */
export function tellSupervisor(message: SupervisorMessage): void {
  if (process.send === undefined || !process.connected) return;
  // A channel closing under a send is the supervisor going away, which `run` handles.
  process.send(message, undefined, {}, () => {});
}

export function runProcess(spec: ProcessSpec, argv: string[] = process.argv.slice(2)): void {
  run(spec, argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (isBrainmeshError(err)) process.stderr.write(`${spec.name}: ${err.message}\n`);
      else
        process.stderr.write(
          `${spec.name}: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
      process.exitCode = 1;
    },
  );
}

async function run(spec: ProcessSpec, argv: string[]): Promise<number> {
  let flags: ParsedFlags;
  try {
    flags = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values as ParsedFlags;
  } catch (err) {
    process.stderr.write(`${spec.name}: ${(err as Error).message}\n${spec.usage}\n`);
    return 2;
  }
  if (flags.help === true) {
    process.stdout.write(`${spec.usage}\n`);
    return 0;
  }
  let service: Service;
  try {
    service = await spec.start(flags);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\n${spec.usage}\n`);
    return 2;
  }
  const told = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // Started by a supervisor (`brainmesh up`) over an IPC channel: when the supervisor goes,
    // however it went, this process goes too, so nothing is left behind listening.
    if (process.channel !== undefined) {
      process.channel.unref();
      process.once('disconnect', () => resolve('its supervisor went away'));
    }
  });
  const deadlineMs = spec.shutdownDeadlineMs ?? SHUTDOWN_DEADLINE_MS;
  let closed = false;
  const deadline = setTimeout(() => {
    const after = `${deadlineMs / 1000} s after ${told}`;
    if (closed) {
      // Everything it knows of is closed, yet something (a timer, a socket, a child) holds it.
      process.stderr.write(`${spec.name}: closed, but still held open ${after}; exiting\n`);
      process.exit(process.exitCode ?? 0);
    }
    process.stderr.write(`${spec.name}: still closing ${after}; exiting without waiting further\n`);
    service.abandon?.();
    process.exit(1);
  }, deadlineMs);
  try {
    await service.close();
  } finally {
    closed = true;
    // From here the process ends as soon as nothing holds it; the deadline only if something does.
    deadline.unref();
  }
  return 0;
}

/** Reads a `--port` flag; a bad one is a usage error. */
export function portFlag(value: string | boolean | undefined, name = '--port'): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`${name} must be a number from 0 to 65535, got "${value}"`);
  return port;
}

export class UsageError extends Error {}
