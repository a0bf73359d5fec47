import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '../testing/index.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'process-child.ts');

/** Starts the fixture, waits until it serves, sends SIGTERM; its exit code, output and how long it took. */
async function stop(t: TestContext, mode: string) {
  const child = spawnTs(CHILD, [mode], { PATH: process.env.PATH });
  t.after(() => child.stop('SIGKILL'));
  await child.waitFor<string>((l) => l === 'ready');
  const signalled = performance.now();
  child.child.kill('SIGTERM');
  const code = await child.exited;
  return { code, ms: performance.now() - signalled, stdout: child.stdout, stderr: child.stderr };
}

describe('process shutdown', { timeout: 30_000 }, () => {
  it('exits 0 once everything is closed, saying nothing', async (t) => {
    const { code, stderr } = await stop(t, 'quick');
    assert.equal(code, 0);
    assert.deepEqual(stderr, []);
  });

  it('exits at its deadline when close() does not finish, says so, and abandons what it runs', async (t) => {
    const { code, ms, stdout, stderr } = await stop(t, 'hang');
    assert.equal(code, 1);
    assert.deepEqual(stderr, ['fixture: still closing 0.5 s after SIGTERM; exiting without waiting further']);
    assert.deepEqual(stdout, ['ready', 'abandoned']);
    assert.ok(ms >= 450 && ms < 5_000, `${Math.round(ms)} ms`);
  });

  it('exits at its deadline when something still holds it after closing', async (t) => {
    const { code, stdout, stderr } = await stop(t, 'held');
    assert.equal(code, 0);
    assert.deepEqual(stderr, ['fixture: closed, but still held open 0.5 s after SIGTERM; exiting']);
    assert.deepEqual(stdout, ['ready'], 'nothing abandoned: close() finished');
  });
});
