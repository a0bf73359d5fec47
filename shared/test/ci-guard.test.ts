import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { realServers } from '../testing/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('under CI=true, missing real servers fail the run', () => {
  it('realServers() refuses to fall back to embedded storage', () => {
    assert.throws(() => realServers({ CI: 'true', REDIS_URL: 'redis://127.0.0.1:6379' }), /DATABASE_URL is not set/);
    assert.throws(() => realServers({ CI: 'true', DATABASE_URL: 'postgres://x@127.0.0.1/x' }), /REDIS_URL is not set/);
    assert.deepEqual(realServers({}), {});
  });

  it('npm test names the server that does not answer', async () => {
    const [pgPort, redisPort] = [await closedPort(), await closedPort()];
    const env = {
      PATH: process.env.PATH,
      CI: 'true',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/test`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    };
    const failed = await run(process.execPath, ['scripts/run-tests.mjs', 'ci-guard'], { cwd: root, env }).then(
      () => assert.fail('the run should have failed'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /test setup: PostgreSQL at DATABASE_URL is unreachable/);
    assert.match(failed.stderr, /test setup: Redis at REDIS_URL is unreachable/);
  });
});
