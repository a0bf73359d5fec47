import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnTs, tempDir } from '@brainmesh/shared/testing';
import { stringify } from 'yaml';

const brainmesh = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'brainmesh.mjs');

function nodeConfig(t: { after(fn: () => void): void }, config: object): { home: string; file: string } {
  const home = tempDir('node');
  t.after(home.remove);
  const file = path.join(home.dir, 'node.yaml');
  writeFileSync(file, stringify(config));
  return { home: home.dir, file };
}

describe('node process', () => {
  it('starts without waiting for a mount that cannot start, and says what to do before enrolment', async (t) => {
    const { home, file } = nodeConfig(t, {
      node: { name: 'lonely' },
      hub: { url: 'http://127.0.0.1:9' },
      packs: ['devtools'],
      mounts: [{ transport: 'stdio', name: 'ghost', command: 'no-such-mcp-server-anywhere' }],
    });
    const node = spawnTs(brainmesh, ['node', '--config', file], { PATH: process.env.PATH, BRAINMESH_HOME: home });
    t.after(() => node.stop('SIGKILL'));
    await node.waitFor<{ msg: string; mount: string }>(
      (l) => l.msg.startsWith('mount failed to start') && l.mount === 'ghost',
    );
    const listening = await node.waitFor<{ msg: string; url: string; tools: number }>(
      (l) => l.msg === 'node listening',
    );
    assert.equal(listening.tools, 8, 'the devtools pack is served');
    await node.waitFor<{ msg: string }>((l) => l.msg.startsWith('not enrolled: get a token'));
    // Without a hub's keys, it refuses every MCP request.
    const res = await fetch(new URL('/mcp', listening.url), { method: 'POST', body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(await node.stop('SIGTERM'), 0);
  });

  it('refuses a config that names a mount twice, naming the field', async (t) => {
    const mount = { transport: 'stdio', name: 'twin', command: 'x' };
    const { home, file } = nodeConfig(t, {
      node: { name: 'n' },
      hub: { url: 'http://127.0.0.1:9' },
      mounts: [mount, mount],
    });
    const node = spawnTs(brainmesh, ['node', '--config', file], { PATH: process.env.PATH, BRAINMESH_HOME: home });
    assert.equal(await node.exited, 1);
    assert.deepEqual(node.stderr, [`brainmesh node: ${file}: mounts.1.name: mount "twin" appears twice`]);
  });

  it('refuses a pack it cannot find, in one line naming the file, the pack and where it looked', async (t) => {
    const { home, file } = nodeConfig(t, { node: { name: 'n' }, hub: { url: 'http://127.0.0.1:9' }, packs: ['nope'] });
    const node = spawnTs(brainmesh, ['node', '--config', file], { PATH: process.env.PATH, BRAINMESH_HOME: home });
    assert.equal(await node.exited, 1);
    assert.equal(node.stderr.length, 1);
    assert.match(
      node.stderr[0]!,
      new RegExp(
        `^brainmesh node: ${file}: packs\\[0\\] \\(nope\\): no such pack \\(looked for @brainmesh/pack-nope and nope in node_modules from ${path.dirname(file)} and `,
      ),
    );
  });

  it("refuses a setting its pack's schema refuses, in one line naming the file, the pack and the field", async (t) => {
    const { home, file } = nodeConfig(t, {
      node: { name: 'n' },
      hub: { url: 'http://127.0.0.1:9' },
      packs: ['devtools', { use: 'medtainer', settings: { sync: { maxAgeMinutes: 'soon' } } }],
    });
    const node = spawnTs(brainmesh, ['node', '--config', file], { PATH: process.env.PATH, BRAINMESH_HOME: home });
    assert.equal(await node.exited, 1);
    assert.deepEqual(node.stderr, [
      `brainmesh node: ${file}: packs[1] (medtainer).settings.sync.maxAgeMinutes: Invalid input: expected number, received string`,
    ]);
  });
});
