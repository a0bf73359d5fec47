import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { realServers, spawnTs, tempDir, uniqueName } from '@brainmesh/shared/testing';

const brainmesh = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'brainmesh.mjs');

function env(home: string): NodeJS.ProcessEnv {
  // The hub under test gets only what the test gives it: no stray DATABASE_URL from the shell.
  return { PATH: process.env.PATH, BRAINMESH_HOME: home };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('hub process', () => {
  it('starts on embedded storage, serves health, and stops cleanly on SIGINT', async (t) => {
    const home = tempDir('hub');
    t.after(home.remove);
    const hub = spawnTs(brainmesh, ['hub', '--port', '0'], env(home.dir));
    t.after(() => hub.stop('SIGKILL'));
    const { url } = await hub.waitFor<{ msg: string; url: string }>((l) => l.msg === 'hub listening');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ready');

    assert.equal(await hub.stop('SIGINT'), 0);
    assert.ok(await portIsFree(Number(new URL(url).port)), 'nothing is left listening');
  });

  const { databaseUrl, redisUrl } = realServers();
  if (databaseUrl !== undefined && redisUrl !== undefined) {
    it('runs on real Postgres and Redis when DATABASE_URL and REDIS_URL are set', async (t) => {
      const home = tempDir('hub');
      t.after(home.remove);
      const schema = uniqueName('hub');
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      // The schema is the test's own; the hub migrates into it and the test drops it afterwards.
      const { openPostgresDb } = await import('@brainmesh/shared');
      const admin = await openPostgresDb({ url: databaseUrl, schema });
      t.after(async () => {
        await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
        await admin.close();
      });
      const hub = spawnTs(brainmesh, ['hub', '--port', '0'], {
        ...env(home.dir),
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl,
      });
      t.after(() => hub.stop('SIGKILL'));
      const storage = await hub.waitFor<{ msg: string; database: string; store: string }>(
        (l) => l.msg === 'storage open',
      );
      assert.deepEqual([storage.database, storage.store], ['postgres', 'redis']);
      await hub.waitFor<{ msg: string }>((l) => l.msg === 'hub listening');
      const { rows } = await admin.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.ok(rows.length > 0, 'the hub migrated the real database');
      assert.equal(await hub.stop('SIGTERM'), 0);
    });
  }

  it('refuses a bad config with one line naming the file and field, and no stack trace', async (t) => {
    const home = tempDir('hub');
    t.after(home.remove);
    const file = path.join(home.dir, 'hub.yaml');
    writeFileSync(file, 'server:\n  port: high\n');
    const hub = spawnTs(brainmesh, ['hub', '--config', file], env(home.dir));
    assert.equal(await hub.exited, 1);
    assert.deepEqual(hub.stderr, [
      `brainmesh hub: ${file}: server.port: Invalid input: expected number, received string`,
    ]);
  });

  it('says how to use it when a flag is wrong', async (t) => {
    const home = tempDir('hub');
    t.after(home.remove);
    const hub = spawnTs(brainmesh, ['hub', '--prot', '80'], env(home.dir));
    assert.equal(await hub.exited, 2);
    assert.match(hub.stderr[0] ?? '', /^brainmesh hub: Unknown option '--prot'/);
    assert.ok(hub.stderr.some((l) => l.startsWith('usage: brainmesh hub')));
  });
});
