/**
 * Another build of brainmesh to measure beside this one: a git worktree of a revision of this
 * repository, with its own dependencies installed, kept in the system's temporary folder between
 * runs. On a shared machine two builds measured one after the other differ by the machine's
 * drift (±25 % in an afternoon here); started side by side as two paths of one run, their
 * windows interleaved, they meet the same drift.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Baseline {
  /** The revision as given, and the commit it names. */
  rev: string;
  commit: string;
  /** Its `scripts/brainmesh.mjs`. */
  entry: string;
}

/** A worktree of `rev` with `npm ci` done, made once and reused while it stays at that commit. */
export function prepareBaseline(rev: string): Baseline {
  const git = (args: string[], cwd = ROOT) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  } catch {
    throw new Error(`BENCH_BASELINE: ${rev} is not a commit of this repository`);
  }
  const dir = path.join(tmpdir(), `brainmesh-baseline-${commit.slice(0, 12)}`);
  const ready = path.join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(dir)) {
    console.error(`baseline ${rev}: making a worktree at ${dir}`);
    git(['worktree', 'prune']);
    git(['worktree', 'add', '--detach', dir, commit]);
  }
  if (!existsSync(ready)) {
    console.error(`baseline ${rev}: installing its dependencies (npm ci)`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { rev, commit, entry: path.join(dir, 'scripts', 'brainmesh.mjs') };
}
