import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * One brainmesh process run by `brainmesh up`: its JSON log lines are appended to a log file and
 * watched for the lines that say it is ready; it is tied to this process by an IPC channel, so it
 * exits when `up` does, even when `up` is killed outright.
 */

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

/** A supervised process stopped, or never got where it should, before a wait was over. */
export class NotReady extends Error {}

export class Supervised {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly watchers = new Set<(line: LogLine) => void>();
  /** What the process said on stderr (its own one-line reason when it fails to start). */
  private readonly stderr: string[] = [];
  /** Its warnings and errors, for when it gives no reason of its own. */
  private readonly errors: string[] = [];

  constructor(
    readonly name: string,
    options: { program: string; args: string[]; env: NodeJS.ProcessEnv; logFile: string },
  ) {
    this.log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
    this.child = spawn(process.execPath, [options.program, ...options.args], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      this.log.write(`${text}\n`);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      if ((line.level ?? 0) >= 40 && typeof line.msg === 'string') {
        const err = (line.err as { message?: string } | string | undefined) ?? undefined;
        const detail = typeof err === 'string' ? err : err?.message;
        this.errors.push(detail === undefined ? line.msg : `${line.msg}: ${detail}`);
      }
      for (const watch of this.watchers) watch(line);
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      this.log.write(`${text}\n`);
      this.stderr.push(text);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last warning or error it logged, if any. */
  lastComplaint(): string | undefined {
    return this.errors.at(-1);
  }

  /** Why it stopped, in its own words where it gave any. */
  reason(): string {
    const said = this.stderr.filter((l) => l.trim() !== '').at(-1) ?? this.errors.at(-1);
    return said ?? 'it gave no reason';
  }

  /** The first log line for which `match` holds; fails if the process exits or `timeoutMs` passes first. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs: number): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.watchers.delete(watch);
        clearTimeout(timer);
      };
      const watch = (line: LogLine) => {
        if (!match(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new NotReady(`${this.name} did not get to "${what}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      timer.unref();
      this.watchers.add(watch);
      void this.exited.then(({ code }) => {
        if (!this.watchers.has(watch)) return;
        done();
        reject(new NotReady(`${this.name} stopped (exit code ${code}): ${this.reason()}`));
      });
    });
  }

  /** Rejects when the process stops, saying why; for racing against what it should get to. */
  async failure(): Promise<never> {
    const { code, signal } = await this.exited;
    throw new NotReady(`${this.name} stopped (${signal ?? `exit code ${code}`}): ${this.reason()}`);
  }

  /** Asks it to stop (SIGTERM), and insists (SIGKILL) after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
