import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { LOCAL_READS } from '@brainmesh/node/kit';
import { BrainmeshError } from '@brainmesh/shared';
import { simpleGit } from 'simple-git';
import { z } from 'zod';
import type { Folders } from './folders.js';

/**
 * Git, read-only, on a repository inside a workspace folder, through simple-git (the git
 * program, driven with argument arrays: nothing a caller writes reaches a shell). Chosen over a
 * JavaScript reimplementation (isomorphic-git) because it reads every repository git itself
 * can: worktrees, packed refs, submodules, any object format.
 */

const MAX_DIFF = 200_000;
const folderName = z.string().min(1).max(32).describe('A workspace folder, by its name');
const repoPath = z.string().min(1).max(4_096).default('.').describe('The repository, a path inside the folder');
/** A revision as a caller may name one: no leading dash, so it can never be read as an option. */
const revision = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_./@^~{}:-]+$/, 'a branch, tag, commit or revision expression')
  .refine((r) => !r.startsWith('-'), 'may not start with a dash');

/**
 * A path in the repository as git reads it (it may name a file deleted since): relative, no `..`
 * step, no pathspec magic (`:`), no leading dash. Git itself keeps pathspecs inside the work tree.
 */
const insidePath = z
  .string()
  .min(1)
  .max(4_096)
  .refine(
    (p) => !p.startsWith('/') && !p.startsWith('-') && !p.includes(':') && !p.split('/').includes('..'),
    'a path inside the repository: relative, without `..`, `:` or a leading dash',
  );

export function gitTools(folders: Folders): ToolDefinition[] {
  const repo = async (folder: string, p: string) => {
    const { real } = await folders.resolve(folder, p);
    const git = simpleGit({ baseDir: real, maxConcurrentProcesses: 2, timeout: { block: 20_000 } });
    if (!(await git.checkIsRepo()))
      throw new BrainmeshError('INVALID_INPUT', `${p} in "${folder}" is not in a git repository`);
    return git;
  };
  return [
    defineTool({
      name: 'git_status',
      description:
        'The repository’s branch, how far it is ahead of or behind its upstream, and its changed, staged and untracked files.',
      input: z.object({ folder: folderName, repo: repoPath }),
      annotations: LOCAL_READS,
      handler: async ({ folder, repo: p }) => {
        const s = await (await repo(folder, p)).status();
        return jsonResult({
          branch: s.current,
          tracking: s.tracking,
          ahead: s.ahead,
          behind: s.behind,
          clean: s.isClean(),
          staged: s.staged,
          modified: s.modified,
          created: s.created,
          deleted: s.deleted,
          renamed: s.renamed.map((r) => ({ from: r.from, to: r.to })),
          untracked: s.not_added,
          conflicted: s.conflicted,
        });
      },
    }),
    defineTool({
      name: 'git_log',
      description: 'Recent commits, newest first: hash, date, author, subject; of a branch or path when named.',
      input: z.object({
        folder: folderName,
        repo: repoPath,
        ref: revision.optional(),
        path: insidePath.optional().describe('Only commits touching this path (inside the repository)'),
        max: z.number().int().min(1).max(500).default(30),
      }),
      annotations: LOCAL_READS,
      handler: async ({ folder, repo: p, ref, path: file, max }) => {
        const git = await repo(folder, p);
        const args = [
          `--max-count=${max}`,
          ...(ref === undefined ? [] : [ref]),
          ...(file === undefined ? [] : ['--', file]),
        ];
        const log = await git.log(args);
        return jsonResult({
          commits: log.all.map((c) => ({ hash: c.hash, date: c.date, author: c.author_name, subject: c.message })),
        });
      },
    }),
    defineTool({
      name: 'git_diff',
      description: `The working tree's changes (or the staged ones, or between two revisions), as a unified diff, cut at ${MAX_DIFF / 1000} kB.`,
      input: z.object({
        folder: folderName,
        repo: repoPath,
        staged: z.boolean().default(false),
        from: revision.optional(),
        to: revision.optional(),
      }),
      annotations: LOCAL_READS,
      handler: async ({ folder, repo: p, staged, from, to }) => {
        const git = await repo(folder, p);
        const args = [
          ...(staged ? ['--cached'] : []),
          ...(from === undefined ? [] : [from]),
          ...(to === undefined ? [] : [to]),
        ];
        const diff = await git.diff(args);
        return jsonResult({ diff: diff.slice(0, MAX_DIFF), truncated: diff.length > MAX_DIFF });
      },
    }),
    defineTool({
      name: 'git_branches',
      description:
        'Local branches (and remote-tracking ones when asked), with the current one marked and each one’s last commit.',
      input: z.object({ folder: folderName, repo: repoPath, remotes: z.boolean().default(false) }),
      annotations: LOCAL_READS,
      handler: async ({ folder, repo: p, remotes }) => {
        const b = await (await repo(folder, p)).branch(remotes ? ['-a'] : []);
        return jsonResult({
          current: b.current,
          branches: Object.values(b.branches).map((x) => ({
            name: x.name,
            current: x.current,
            commit: x.commit,
            subject: x.label,
          })),
        });
      },
    }),
    defineTool({
      name: 'git_show',
      description: `A commit (its message and diff), or a file as it was at a revision (\`path\`), cut at ${MAX_DIFF / 1000} kB.`,
      input: z.object({
        folder: folderName,
        repo: repoPath,
        ref: revision.default('HEAD'),
        path: insidePath.optional(),
      }),
      annotations: LOCAL_READS,
      handler: async ({ folder, repo: p, ref, path: file }) => {
        const git = await repo(folder, p);
        const shown = await git.show(file === undefined ? [ref] : [`${ref}:${file}`]);
        return jsonResult({
          ref,
          ...(file === undefined ? {} : { path: file }),
          text: shown.slice(0, MAX_DIFF),
          truncated: shown.length > MAX_DIFF,
        });
      },
    }),
  ];
}
