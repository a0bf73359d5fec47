import { Readable } from 'node:stream';
import { type CallContext, defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { confirmField, LOCAL_READS } from '@brainmesh/node/kit';
import { z } from 'zod';
import { confirmed, container } from './containers.js';
import { type Engine, type OutputLine, readLines } from './engine.js';
import type { ContainersSettings } from './settings.js';

/**
 * Output that goes on for a while (logs followed, a command run in a container) reaches the
 * client as progress while it runs, and the last of it in the answer.
 */

/** At most one progress message this often, so a chatty container does not flood the client. */
const PROGRESS_EVERY_MS = 250;
/** The lines kept for the answer. */
const KEEP_LINES = 500;

type Ended = 'all shown' | 'container stopped' | 'time up';

class Collector {
  readonly kept: OutputLine[] = [];
  count = 0;
  private pending: string[] = [];
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CallContext) {}

  /** Kept for the answer only. */
  record = (line: OutputLine) => {
    this.count++;
    this.kept.push(line);
    if (this.kept.length > KEEP_LINES) this.kept.shift();
  };

  /** Kept, and sent as progress. */
  add = (line: OutputLine) => {
    this.record(line);
    this.pending.push(line.stream === 'stderr' ? `[stderr] ${line.text}` : line.text);
    const wait = PROGRESS_EVERY_MS - (Date.now() - this.lastSent);
    if (wait <= 0) this.flush();
    // Lines that came too soon go with the next message, or after a short wait if none follows.
    else this.timer ??= setTimeout(() => this.flush(), wait);
  };

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.lastSent = Date.now();
    const message = this.pending.join('\n').slice(-2_000);
    this.pending = [];
    void this.ctx.progress({ progress: this.count, message }).catch(() => {});
  }
}

/**
 * Reads `stream` line by line into `collector` (as progress) until it ends, `seconds` pass, or
 * the call is cancelled; then stops it. Says which cut it short, if either did; a cancelled call
 * throws, as its client has gone.
 */
async function readUntil(
  docker: Engine['docker'],
  stream: Readable,
  tty: boolean,
  collector: Collector,
  seconds: number,
  signal: AbortSignal,
): Promise<'timed out' | undefined> {
  let stopped: 'timed out' | 'cancelled' | undefined;
  const stop = (why: NonNullable<typeof stopped>) => {
    stopped = why;
    stream.destroy();
  };
  const timer = setTimeout(() => stop('timed out'), seconds * 1000);
  const onAbort = () => stop('cancelled');
  signal.addEventListener('abort', onAbort, { once: true });
  await readLines(docker, stream, tty, collector.add);
  clearTimeout(timer);
  signal.removeEventListener('abort', onAbort);
  collector.flush();
  const why = stopped as typeof stopped;
  if (why === 'cancelled') throw signal.reason ?? new Error('cancelled');
  return why;
}

export function streamTools(engine: Engine, settings: ContainersSettings): ToolDefinition[] {
  const docker = engine.docker;
  const seconds = (what: string, fallback: number) =>
    z
      .number()
      .int()
      .min(1)
      .max(settings.maxStreamSeconds)
      .default(Math.min(fallback, settings.maxStreamSeconds))
      .describe(what);
  return [
    defineTool({
      name: 'container_logs',
      description:
        "A container's output: the last lines, or followed as it comes (streamed as progress) until it stops, the time given runs out, or the call is cancelled.",
      input: z.object({
        container,
        tail: z.number().int().min(0).max(10_000).default(100).describe('Lines from the end to start with'),
        follow: z.boolean().default(false),
        followSeconds: seconds('How long to follow, at most', 30),
        timestamps: z.boolean().default(false),
      }),
      annotations: LOCAL_READS,
      handler: async ({ container: ref, tail, follow, followSeconds, timestamps }, ctx) => {
        const info = await engine.run(`container ${ref}`, () => docker.getContainer(ref).inspect());
        const tty = info.Config.Tty;
        const collector = new Collector(ctx);
        const options = { stdout: true, stderr: true, tail, timestamps };
        let ended: Ended = 'all shown';
        if (!follow) {
          const buffer = await engine.run(`logs of ${ref}`, () =>
            docker.getContainer(ref).logs({ ...options, follow: false }),
          );
          await readLines(docker, Readable.from([buffer]), tty, collector.record);
        } else {
          // An HTTP response underneath, whatever dockerode's types say.
          const stream = (await engine.run(`logs of ${ref}`, () =>
            docker.getContainer(ref).logs({ ...options, follow: true }),
          )) as unknown as Readable;
          const cut = await readUntil(docker, stream, tty, collector, followSeconds, ctx.signal);
          ended = cut === 'timed out' ? 'time up' : 'container stopped';
        }
        return jsonResult({
          container: info.Name.replace(/^\//, ''),
          ended,
          lines: collector.count,
          ...(collector.count > collector.kept.length
            ? { shownFrom: collector.count - collector.kept.length + 1 }
            : {}),
          output: collector.kept,
        });
      },
    }),
    defineTool({
      name: 'container_exec',
      description:
        'Runs a command in a running container (no shell unless you run one), its output streamed as progress; answers with its exit code and the last of its output. Cancelling or running out of time stops the wait, not the command, which the engine cannot stop alone. Asks the user to confirm first.',
      input: z.object({
        container,
        command: z.array(z.string().max(8_192)).min(1).max(256),
        workingDir: z.string().regex(/^\//).max(4_096).optional(),
        user: z.string().min(1).max(64).optional(),
        timeoutSeconds: seconds('How long to wait for it', 60),
        confirm: confirmField,
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      handler: async ({ container: ref, command, workingDir, user, timeoutSeconds, confirm }, ctx) => {
        const info = await engine.run(`container ${ref}`, () => docker.getContainer(ref).inspect());
        const name = info.Name.replace(/^\//, '');
        return confirmed(ctx, confirm, `run \`${command.join(' ')}\` in container ${name}`, async () => {
          const exec = await engine.run(`exec in ${ref}`, () =>
            docker.getContainer(ref).exec({
              Cmd: command,
              AttachStdout: true,
              AttachStderr: true,
              ...(workingDir === undefined ? {} : { WorkingDir: workingDir }),
              ...(user === undefined ? {} : { User: user }),
            }),
          );
          const started = Date.now();
          const stream = await engine.run(`exec in ${ref}`, () => exec.start({ hijack: true, stdin: false }));
          const collector = new Collector(ctx);
          const stopped = await readUntil(docker, stream, false, collector, timeoutSeconds, ctx.signal);
          const done = await engine.run(`exec in ${ref}`, () => exec.inspect());
          const result = {
            container: name,
            command,
            exitCode: stopped === undefined ? done.ExitCode : null,
            ...(stopped === undefined ? {} : { stopped, stillRunning: done.Running }),
            seconds: Math.round((Date.now() - started) / 100) / 10,
            lines: collector.count,
            output: collector.kept,
          };
          const failed = stopped !== undefined || done.ExitCode !== 0;
          return failed ? { ...jsonResult(result), isError: true } : jsonResult(result);
        });
      },
    }),
  ];
}
