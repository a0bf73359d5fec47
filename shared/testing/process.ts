import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Spawned {
  child: ChildProcess;
  /** Every stdout line seen so far. */
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line (parsed JSON where possible) for which `match` holds. */
  waitFor<T = Record<string, unknown>>(match: (line: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Runs a TypeScript entry point as a real child process, the way `npm start` would. `detached`
 * gives it a process group of its own, as a terminal does: `process.kill(-pid, 'SIGINT')` is then
 * what Ctrl-C sends, to it and to every child it started.
 */
export function spawnTs(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: {
    detached?: boolean | undefined;
    prefix?: readonly string[] | undefined;
    /** Flags for node itself, before the entry (`--cpu-prof`, which NODE_OPTIONS does not take). */
    nodeArgs?: readonly string[] | undefined;
  } = {},
): Spawned {
  // A prefix runs node through another command (`ip netns exec <host>`), which execs it in turn.
  const [command, ...before] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command!, [...before, ...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...args], {
    env: { ...env, BRAINMESH_LOG_FORMAT: env.BRAINMESH_LOG_FORMAT ?? 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached === true,
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    for (const w of waiters) w(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      return line;
    }
  };

  return {
    child,
    stdout,
    stderr,
    exited,
    waitFor<T>(match: (line: T) => boolean, timeoutMs = 30_000) {
      return new Promise<T>((resolve, reject) => {
        const seen = stdout.map(parse).find((l) => safeMatch(match, l as T));
        if (seen !== undefined) return resolve(seen as T);
        const timer = setTimeout(() => {
          waiters.delete(onLine);
          reject(new Error(`no matching line within ${timeoutMs} ms; stderr:\n${stderr.join('\n')}`));
        }, timeoutMs);
        const onLine = (line: string) => {
          const parsed = parse(line) as T;
          if (!safeMatch(match, parsed)) return;
          clearTimeout(timer);
          waiters.delete(onLine);
          resolve(parsed);
        };
        waiters.add(onLine);
        exited.then((code) => {
          if (!waiters.has(onLine)) return;
          clearTimeout(timer);
          waiters.delete(onLine);
          reject(new Error(`process exited (${code}) before the line came; stderr:\n${stderr.join('\n')}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

function safeMatch<T>(match: (line: T) => boolean, line: T): boolean {
  try {
    return match(line);
  } catch {
    return false;
  }
}
