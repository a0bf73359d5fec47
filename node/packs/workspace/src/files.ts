import { spawn } from 'node:child_process';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { LOCAL_READS } from '@brainmesh/node/kit';
import { BrainmeshError } from '@brainmesh/shared';
import { z } from 'zod';
import type { Folders } from './folders.js';

/** What one read returns at most; a longer file is read a window of lines at a time. */
const MAX_READ_BYTES = 256 * 1024;
const MAX_LINES = 2_000;

const folderName = z.string().min(1).max(32).describe('A workspace folder, by its name (workspace_folders lists them)');
const relativePath = z.string().min(1).max(4_096).describe('A path inside the folder');

export function fileTools(folders: Folders): ToolDefinition[] {
  return [
    defineTool({
      name: 'workspace_folders',
      description: 'The workspace folders this node may touch, by name, with where they are.',
      input: z.object({}),
      annotations: LOCAL_READS,
      handler: async () => jsonResult({ folders: folders.list().map((f) => ({ name: f.name, path: f.root })) }),
    }),
    defineTool({
      name: 'workspace_list',
      description: 'Lists a folder inside the workspace: names, kinds and sizes, folders first.',
      input: z.object({ folder: folderName, path: relativePath.default('.') }),
      annotations: LOCAL_READS,
      handler: async ({ folder, path: p }) => {
        const { real, inside } = await folders.resolve(folder, p);
        const entries = await readdir(real, { withFileTypes: true }).catch(() => {
          throw new BrainmeshError('INVALID_INPUT', `${p} is not a folder`);
        });
        const listed = entries
          .map((e) => ({
            name: e.name,
            kind: e.isDirectory() ? 'folder' : e.isSymbolicLink() ? 'link' : e.isFile() ? 'file' : 'other',
          }))
          .sort((a, b) => Number(b.kind === 'folder') - Number(a.kind === 'folder') || a.name.localeCompare(b.name));
        return jsonResult({ folder, path: inside, entries: listed.slice(0, 1_000), truncated: listed.length > 1_000 });
      },
    }),
    defineTool({
      name: 'workspace_read',
      description: `Reads a text file inside the workspace by lines: from line \`from\` (1-based), up to ${MAX_LINES} lines or ${MAX_READ_BYTES / 1024} KiB, saying how many lines the file has and where to go on.`,
      input: z.object({
        folder: folderName,
        path: relativePath,
        from: z.number().int().min(1).default(1),
        lines: z.number().int().min(1).max(MAX_LINES).default(400),
      }),
      annotations: LOCAL_READS,
      handler: async ({ folder, path: p, from, lines }) => {
        const { real, inside } = await folders.resolve(folder, p);
        const file = await open(real, 'r').catch(() => {
          throw new BrainmeshError('INVALID_INPUT', `${p} cannot be read`);
        });
        try {
          const info = await file.stat();
          if (!info.isFile()) throw new BrainmeshError('INVALID_INPUT', `${p} is not a file`);
          // Read up to the window's end only: a large log is not loaded whole to show its top.
          const { buffer, bytesRead } = await file.read({
            buffer: Buffer.alloc(Math.min(info.size, 64 * 1024 * 1024)),
            position: 0,
          });
          const bytes = buffer.subarray(0, bytesRead);
          if (bytes.subarray(0, 8_192).includes(0)) throw new BrainmeshError('INVALID_INPUT', `${p} is not text`);
          const all = bytes.toString('utf8').split('\n');
          const window: string[] = [];
          let size = 0;
          for (let i = from - 1; i < all.length && window.length < lines; i++) {
            size += all[i]!.length + 1;
            if (size > MAX_READ_BYTES && window.length > 0) break;
            window.push(all[i]!);
          }
          const next = from + window.length;
          return jsonResult({
            folder,
            path: inside,
            totalLines: all.length,
            from,
            to: from + window.length - 1,
            ...(next <= all.length ? { next } : {}),
            text: window.join('\n'),
          });
        } finally {
          await file.close();
        }
      },
    }),
    defineTool({
      name: 'workspace_search',
      description:
        'Searches the files of a workspace folder for a pattern (extended regular expression, or literal), skipping .git, node_modules and binary files: file, line number and line of each match, up to `max`.',
      input: z.object({
        folder: folderName,
        pattern: z.string().min(1).max(500),
        literal: z.boolean().default(false).describe('Match the text as written, not as a regular expression'),
        ignoreCase: z.boolean().default(false),
        path: relativePath.default('.').describe('Only under this path'),
        max: z.number().int().min(1).max(1_000).default(100),
      }),
      annotations: LOCAL_READS,
      handler: async ({ folder, pattern, literal, ignoreCase, path: p, max }, ctx) => {
        const { folder: f, real } = await folders.resolve(folder, p);
        const matches = await grep(real, { pattern, literal, ignoreCase, max, signal: ctx.signal });
        return jsonResult({
          folder,
          pattern,
          matches: matches.hits.map((m) => ({ ...m, file: path.relative(f.root, path.resolve(real, m.file)) })),
          truncated: matches.truncated,
        });
      },
    }),
  ];
}

/**
 * GNU grep in a process of its own: its matcher does not backtrack for ever on a hostile
 * pattern as JavaScript's can, and the process is killed on cancel or after 20 s. `-r` does not
 * follow symbolic links, so a link out of the folder is not searched through.
 */
async function grep(
  dir: string,
  o: { pattern: string; literal: boolean; ignoreCase: boolean; max: number; signal: AbortSignal },
): Promise<{ hits: { file: string; line: number; text: string }[]; truncated: boolean }> {
  const args = [
    '-r',
    '-I',
    '-n',
    '--exclude-dir=.git',
    '--exclude-dir=node_modules',
    o.literal ? '-F' : '-E',
    ...(o.ignoreCase ? ['-i'] : []),
    '-e',
    o.pattern,
    '--',
    '.',
  ];
  const child = spawn('grep', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const hits: { file: string; line: number; text: string }[] = [];
  let truncated = false;
  let rest = '';
  let stderr = '';
  const stop = () => child.kill('SIGKILL');
  // Out of time: what was found so far, marked as not all.
  const timer = setTimeout(() => {
    truncated = true;
    stop();
  }, 20_000);
  o.signal.addEventListener('abort', stop, { once: true });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\.\/(.*?):(\d+):(.*)$/.exec(line);
      if (m === null) continue;
      if (hits.length >= o.max) {
        truncated = true;
        stop();
        return;
      }
      hits.push({ file: m[1]!, line: Number(m[2]), text: m[3]!.slice(0, 500) });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8').slice(0, 2_000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', stop);
  });
  if (o.signal.aborted) throw o.signal.reason;
  // grep: 0 found, 1 none, 2 trouble (a bad pattern).
  if (code === 2 && !truncated)
    throw new BrainmeshError('INVALID_INPUT', `search failed: ${stderr.trim().split('\n')[0] ?? 'grep failed'}`);
  return { hits, truncated };
}
