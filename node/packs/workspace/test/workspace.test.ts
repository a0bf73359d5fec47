import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { PackInstance } from '@brainmesh/node';
import { callTool } from '@brainmesh/node/kit/testing';
import { createWorkspace } from '../src/index.js';
import { workspaceSettingsSchema } from '../src/settings.js';

/** A workspace folder `work` beside a folder `outside` it must never reach, with a link out. */
function setup(t: TestContext): { base: string; work: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'workspace-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const work = path.join(base, 'work');
  mkdirSync(path.join(work, 'src'), { recursive: true });
  mkdirSync(path.join(base, 'outside'));
  writeFileSync(path.join(base, 'outside', 'secret.txt'), 'the outside secret\n');
  writeFileSync(path.join(work, 'README.md'), '# Work\n\nline two\nline three\n');
  writeFileSync(path.join(work, 'src', 'app.ts'), 'export const answer = 42;\n// TODO: more\n');
  symlinkSync(path.join(base, 'outside'), path.join(work, 'link-out'));
  symlinkSync(path.join(base, 'outside', 'secret.txt'), path.join(work, 'secret-link.txt'));
  return { base, work };
}

async function workspace(work: string, commands?: Record<string, unknown>): Promise<PackInstance> {
  return createWorkspace({
    settings: workspaceSettingsSchema.parse({
      folders: [{ name: 'work', path: work }],
      ...(commands === undefined ? {} : { commands }),
    }),
  });
}

const OUTSIDE = /is outside the workspace folder "work"; paths are relative to it$/;

describe('the workspace pack', () => {
  it('reads and lists inside its folder, and refuses every way out: absolute, .., a link', async (t) => {
    const { base, work } = setup(t);
    const { tools } = await workspace(work);
    const read = await callTool(tools, 'workspace_read', { folder: 'work', path: 'README.md', from: 2, lines: 2 });
    assert.deepEqual([read.json.text, read.json.totalLines, read.json.next], ['\nline two', 5, 4]);
    const listed = await callTool(tools, 'workspace_list', { folder: 'work' });
    assert.deepEqual(
      (listed.json.entries as { name: string; kind: string }[]).map((e) => `${e.kind} ${e.name}`),
      ['folder src', 'link link-out', 'file README.md', 'link secret-link.txt'],
    );
    for (const way of [
      path.join(base, 'outside', 'secret.txt'),
      '../outside/secret.txt',
      'src/../../outside/secret.txt',
      'link-out/secret.txt',
      'secret-link.txt',
      '/etc/passwd',
    ]) {
      await assert.rejects(callTool(tools, 'workspace_read', { folder: 'work', path: way }), OUTSIDE, way);
    }
    await assert.rejects(callTool(tools, 'workspace_list', { folder: 'work', path: 'link-out' }), OUTSIDE);
    await assert.rejects(
      callTool(tools, 'workspace_read', { folder: 'elsewhere', path: 'x' }),
      /no workspace folder "elsewhere"; have work/,
    );
  });

  it('searches its folder, never through a link out', async (t) => {
    const { work } = setup(t);
    const { tools } = await workspace(work);
    const found = await callTool(tools, 'workspace_search', { folder: 'work', pattern: 'answer = [0-9]+' });
    assert.deepEqual(found.json.matches, [{ file: 'src/app.ts', line: 1, text: 'export const answer = 42;' }]);
    const literal = await callTool(tools, 'workspace_search', { folder: 'work', pattern: '[0-9]+', literal: true });
    assert.deepEqual(literal.json.matches, []);
    const secret = await callTool(tools, 'workspace_search', { folder: 'work', pattern: 'secret', ignoreCase: true });
    assert.deepEqual(secret.json.matches, [], 'the links out are not followed');
    await assert.rejects(
      callTool(tools, 'workspace_search', { folder: 'work', pattern: 'a(' }),
      /^BrainmeshError: search failed: grep: /,
    );
  });

  it('reads a repository: status, log, diff, branches, a file at a revision', async (t) => {
    const { work } = setup(t);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'op@example.com');
    git('config', 'user.name', 'Operator');
    git('add', 'README.md', 'src');
    git('commit', '-q', '-m', 'first commit');
    git('branch', 'feature');
    writeFileSync(path.join(work, 'src', 'app.ts'), 'export const answer = 43;\n');
    const { tools } = await workspace(work);
    const status = (await callTool(tools, 'git_status', { folder: 'work' })).json;
    assert.deepEqual([status.branch, status.clean, status.modified], ['main', false, ['src/app.ts']]);
    assert.deepEqual(status.untracked, ['link-out', 'secret-link.txt']);
    const log = (await callTool(tools, 'git_log', { folder: 'work' })).json;
    assert.deepEqual(
      (log.commits as { subject: string; author: string }[]).map((c) => [c.subject, c.author]),
      [['first commit', 'Operator']],
    );
    const diff = (await callTool(tools, 'git_diff', { folder: 'work' })).json;
    assert.match(diff.diff as string, /-export const answer = 42;\n-\/\/ TODO: more\n\+export const answer = 43;/);
    const branches = (await callTool(tools, 'git_branches', { folder: 'work' })).json;
    assert.deepEqual(
      (branches.branches as { name: string; current: boolean }[]).map((b) => [b.name, b.current]),
      [
        ['feature', false],
        ['main', true],
      ],
    );
    const shown = (await callTool(tools, 'git_show', { folder: 'work', ref: 'HEAD', path: 'src/app.ts' })).json;
    assert.equal(shown.text, 'export const answer = 42;\n// TODO: more\n');
    await assert.rejects(callTool(tools, 'git_log', { folder: 'work', ref: '--output=/tmp/x' }), /invalid arguments/);
    await assert.rejects(callTool(tools, 'git_show', { folder: 'work', path: '../outside' }), /invalid arguments/);
  });

  it('runs an allowed command with its output as progress, and stops it and its children on cancel', async (t) => {
    const { base, work } = setup(t);
    const pidFile = path.join(base, 'child.pid');
    const script = path.join(base, 'noisy.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
let n = 0;
setInterval(() => console.log('tick ' + ++n), 50);`,
    );
    const { tools } = await workspace(work, {
      noisy: { run: [process.execPath, script], timeoutSeconds: 60 },
      quick: {
        run: [
          process.execPath,
          '-e',
          'console.log(process.cwd()); console.log(Object.keys(process.env).sort().join())',
        ],
      },
    });
    const quick = await callTool(tools, 'run_command', { folder: 'work', command: 'quick', path: 'src' });
    assert.equal(quick.json.exitCode, 0);
    const [cwd, env] = (quick.json.tail as string).trim().split('\n');
    assert.equal(cwd, path.join(work, 'src'));
    assert.ok(
      env!.split(',').every((name) => ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER'].includes(name)),
      env,
    );

    const controller = new AbortController();
    const progress: string[] = [];
    const running = callTool(
      tools,
      'run_command',
      { folder: 'work', command: 'noisy' },
      {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.message ?? '');
          if (progress.length === 3) controller.abort(new Error('the user pressed stop'));
        },
      },
    );
    await assert.rejects(running, /the user pressed stop/);
    assert.match(progress.join('\n'), /tick 1\b/);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    // TERM reached the whole group: the command's own child is gone too.
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(alive(), false, `process ${grandchild} outlived the cancelled command`);

    await assert.rejects(callTool(tools, 'run_command', { folder: 'work', command: 'rm' }), /invalid arguments/);
  });

  it('stops a command at its timeout and says so', async (t) => {
    const { work } = setup(t);
    const { tools } = await workspace(work, {
      slow: { run: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutSeconds: 1 },
    });
    const result = await callTool(tools, 'run_command', { folder: 'work', command: 'slow' });
    assert.equal(result.result.isError, true);
    assert.deepEqual([result.json.stopped, result.json.signal], ['timed out', 'SIGTERM']);
  });
});
