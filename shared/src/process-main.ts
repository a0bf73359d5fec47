import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isBrainmeshError } from './errors.js';

/**
 * The shape every long-running brainmesh process shares: parse flags (exit 2 with usage on a bad
 * one), start, run until SIGINT/SIGTERM, close everything, exit 0. An expected failure is one
 * line on stderr and exit 1; only a real bug prints a stack.
 */

export interface Service {
  close(): Promise<void>;
}

export type ParsedFlags = Record<string, string | boolean | undefined>;

export interface ProcessSpec {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  start(flags: ParsedFlags): Promise<Service>;
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    // Started by a supervisor (`brainmesh up`) over an IPC channel: when the supervisor goes,
    // however it went, this process goes too, so nothing is left behind listening.
    if (process.channel !== undefined) {
      process.channel.unref();
      process.once('disconnect', () => resolve());
    }
  });
  await service.close();
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
