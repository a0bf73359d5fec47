import { spawn } from 'node:child_process';
import { defineTool, jsonResult, type ToolDefinition, textResult } from '@brainmesh/node';
import { z } from 'zod';
import type { Folders } from './folders.js';
import type { WorkspaceSettings } from './settings.js';

/**
 * Runs a command the operator allowed, by its name, in a workspace folder: no shell, the
 * program and arguments exactly as configured. Its output goes to the client as progress while
 * it runs; on cancel or timeout its whole process group is stopped (TERM, then KILL after 2 s),
 * so the test runner's children go with it. Its environment is a short list, not the node's
 * own (which holds the node's secrets).
 */

/** The tail of the output kept for the answer. */
const TAIL_BYTES = 16 * 1024;
/** At most one progress message this often: a chatty build does not flood the client. */
const PROGRESS_EVERY_MS = 250;
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER'];

export function commandTools(folders: Folders, settings: WorkspaceSettings): ToolDefinition[] {
  const names = Object.keys(settings.commands);
  if (names.length === 0) return [];
  return [
    defineTool({
      name: 'run_command',
      description: `Runs an allowed command in a workspace folder, streaming its output as progress; stopped with its children on cancel or after its timeout. Allowed: ${names
        .map((n) => `${n} (${settings.commands[n]!.description ?? settings.commands[n]!.run.join(' ')})`)
        .join(', ')}.`,
      input: z.object({
        folder: z.string().min(1).max(32),
        command: z.enum(names as [string, ...string[]]).describe('An allowed command, by name'),
        path: z.string().min(1).max(4_096).default('.').describe('Where to run it, inside the folder'),
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      handler: async ({ folder, command, path: p }, ctx) => {
        const { real, inside } = await folders.resolve(folder, p);
        const spec = settings.commands[command]!;
        const env: NodeJS.ProcessEnv = {};
        for (const name of [...BASE_ENV, ...settings.commandEnv])
          if (process.env[name] !== undefined) env[name] = process.env[name];
        const started = Date.now();
        const child = spawn(spec.run[0]!, spec.run.slice(1), {
          cwd: real,
          env,
          // Its own process group, so stopping it stops what it started.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let tail = '';
        let lines = 0;
        let pending: string[] = [];
        let lastSent = 0;
        const flush = (force: boolean) => {
          if (pending.length === 0 || (!force && Date.now() - lastSent < PROGRESS_EVERY_MS)) return;
          lastSent = Date.now();
          const message = pending.join('\n').slice(-2_000);
          pending = [];
          void ctx.progress({ progress: lines, message }).catch(() => {});
        };
        const take = (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          tail = (tail + text).slice(-TAIL_BYTES);
          const parts = text.split('\n').filter((l) => l.length > 0);
          lines += parts.length;
          pending.push(...parts);
          flush(false);
        };
        child.stdout.on('data', take);
        child.stderr.on('data', take);
        let stoppedFor: 'cancelled' | 'timed out' | undefined;
        const stop = (why: 'cancelled' | 'timed out') => {
          if (stoppedFor !== undefined || child.pid === undefined) return;
          stoppedFor = why;
          signalGroup(child.pid, 'SIGTERM');
          setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 2_000).unref();
        };
        const timer = setTimeout(() => stop('timed out'), spec.timeoutSeconds * 1000);
        const onAbort = () => stop('cancelled');
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((resolve) => {
          child.on('error', resolve);
          child.on('close', (code, signal) => resolve({ code, signal }));
        });
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        // A group member still holding on after the leader left gets the same end.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        flush(true);
        if (ended instanceof Error) return textResult(`${spec.run[0]} could not start: ${ended.message}`, true);
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        const result = {
          command,
          run: spec.run.join(' '),
          folder,
          path: inside,
          exitCode: ended.code,
          ...(ended.signal === null ? {} : { signal: ended.signal }),
          ...(stoppedFor === undefined ? {} : { stopped: stoppedFor }),
          seconds,
          outputLines: lines,
          tail,
        };
        if (stoppedFor === 'cancelled') throw ctx.signal.reason ?? new Error('cancelled');
        const failed = stoppedFor !== undefined || ended.code !== 0;
        return failed ? { ...jsonResult(result), isError: true } : jsonResult(result);
      },
    }),
  ];
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}
