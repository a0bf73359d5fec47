import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SupervisorMessage } from '@brainmesh/shared';

/**
 * One brainmesh process run by `brainmesh up`. It is tied to this process by an IPC channel: it
 * says over the channel when it is ready (and the hub, when a node's link comes up), whatever
 * its log level, and it exits when `up` does, even when `up` is killed outright. Its output is
 * appended to a log file; its warnings, errors and stderr are kept to say why it stopped.
 */

/** A supervised process stopped, or never got where it should, before a wait was over. */
export class NotReady extends Error {
  constructor(
    message: string,
    /** The log file to read for more. */
    readonly logFile: string,
  ) {
    super(message);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Supervised {
  readonly exited: Promise<Exit>;
  /** When it was started (ms since the epoch). */
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private logClosed: Promise<void> | undefined;
  private readonly listeners = new Set<(message: SupervisorMessage) => void>();
  /** What the process said on stderr (its own one-line reason when it fails to start). */
  private readonly stderr: string[] = [];
  /** Its warnings and errors, for when it gives no reason of its own. */
  private readonly errors: string[] = [];

  constructor(
    readonly name: string,
    private readonly options: { program: string; args: string[]; env: NodeJS.ProcessEnv; logFile: string },
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
    this.child.on('message', (message: unknown) => {
      if (typeof message !== 'object' || message === null || typeof (message as { type?: unknown }).type !== 'string')
        return;
      for (const listener of this.listeners) listener(message as SupervisorMessage);
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      this.append(text);
      let line: { level?: number; msg?: string; err?: { message?: string } | string };
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      if ((line.level ?? 0) >= 40 && typeof line.msg === 'string') {
        const detail = typeof line.err === 'string' ? line.err : line.err?.message;
        this.errors.push(detail === undefined ? line.msg : `${line.msg}: ${detail}`);
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      this.append(text);
      this.stderr.push(text);
    });
  }

  /** Output can trail the exit; once the log is closed, it is dropped. */
  private append(text: string): void {
    if (!this.log.writableEnded) this.log.write(`${text}\n`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last warning or error it logged, if any. */
  lastComplaint(): string | undefined {
    return this.errors.at(-1);
  }

  /** Why it stopped, in its own words where it gave any (its last line on stderr), else its last complaint. */
  reason(): string {
    const said = this.stderr.filter((l) => l.trim() !== '').at(-1);
    if (said !== undefined) return said;
    const logged = this.errors.at(-1);
    return logged === undefined ? 'it gave no reason' : `it gave no reason (it last logged: ${logged})`;
  }

  /** Every message it sends from now on; returns how to stop listening. */
  onMessage(listener: (message: SupervisorMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first message it sends for which `match` holds; fails if it exits or `timeoutMs` passes first. */
  waitFor<T extends SupervisorMessage>(
    match: (message: SupervisorMessage) => message is T,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        stop();
        clearTimeout(timer);
      };
      const stop = this.onMessage((message) => {
        if (!match(message)) return;
        done();
        resolve(message);
      });
      const timer = setTimeout(() => {
        done();
        reject(new NotReady(`${this.name} did not get to "${what}" within ${timeoutMs / 1000} s`, this.logFile));
      }, timeoutMs);
      timer.unref();
      this.failure().catch((err: unknown) => {
        done();
        reject(err);
      });
    });
  }

  /** Rejects when the process stops, saying why; for racing against what it should get to. */
  async failure(): Promise<never> {
    const exit = await this.exited;
    throw new NotReady(`${this.name} stopped (${howItStopped(exit)}): ${this.reason()}`, this.logFile);
  }

  /** Asks it to stop (SIGTERM), and insists (SIGKILL) after `graceMs`; then closes its log. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.logClosed ??= new Promise<void>((resolve) => this.log.end(resolve));
    await this.logClosed;
  }
}

export function howItStopped({ code, signal }: Exit): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}
