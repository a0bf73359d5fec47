import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectClient, type HubProcess, mcpStatus, runCli, startHub, suiteScope, until } from '../support/mesh.js';

interface KeyRow {
  id: string;
  name: string;
  scopes: string[];
  status: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** `brainmesh keys create|list|revoke`, run as an operator runs them. */
describe('brainmesh keys', { timeout: 120_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;

  before(async () => {
    hub = await startHub(scope);
  });

  const brainmesh = (args: string[]) => runCli(hub, args);
  const listed = async () => JSON.parse((await brainmesh(['keys', 'list', '--json'])).stdout) as KeyRow[];

  /** The key opens an MCP session on the hub, and the session answers. */
  const works = async (t: { after(fn: () => unknown): void }, key: string) => {
    const { client } = await connectClient(t, { url: hub.url, key });
    await client.ping();
  };

  it('creates a key shown once, lists it without the secret, and revokes it at once', async (t) => {
    const made = await brainmesh(['keys', 'create', 'claude-desktop', '--scope', 'node:alpha', '--scope', 'read:*']);
    assert.equal(made.code, 0, made.stderr);
    const match =
      /^API key (\w{10}) \(claude-desktop; node:alpha, read:\*\):\n\n {2}(\S+)\n\nIt is shown this once/.exec(
        made.stdout,
      );
    assert.ok(match, made.stdout);
    const [, id, key] = match as unknown as [string, string, string];
    await works(t, key);

    const table = await brainmesh(['keys', 'list']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^ID\s+NAME\s+STATUS\s+SCOPES\s+EXPIRES\s+LAST USED\n/);
    assert.match(table.stdout, new RegExp(`\\n${id}\\s+claude-desktop\\s+active\\s+node:alpha,read:\\*\\s+-\\s+\\S+`));
    assert.ok(!table.stdout.includes(key), 'the list never shows a key');
    const row = await until(
      async () => (await listed()).find((k) => k.id === id && k.lastUsedAt !== null),
      'the key to show its last use',
    );
    assert.deepEqual([row.name, row.status, row.scopes], ['claude-desktop', 'active', ['node:alpha', 'read:*']]);

    const revoked = await brainmesh(['keys', 'revoke', id]);
    assert.deepEqual([revoked.code, revoked.stdout], [0, `${id} revoked\n`]);
    assert.equal(await mcpStatus(hub.url, key), 401);
    assert.equal((await listed()).find((k) => k.id === id)?.status, 'revoked');
  });

  it('creates a key that expires, as JSON for scripts', async (t) => {
    const res = await brainmesh(['keys', 'create', 'nightly', '--scope', 'tools:*', '--expires-in', '2', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const made = JSON.parse(res.stdout) as { id: string; key: string; expiresAt: string };
    const days = (Date.parse(made.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 1.99 && days <= 2, `expires in ${days} days`);
    await works(t, made.key);
  });

  it('exits 2 for bad usage and 1 when the hub refuses', async () => {
    const noScope = await brainmesh(['keys', 'create', 'x']);
    assert.equal(noScope.code, 2);
    assert.match(noScope.stderr, /^brainmesh keys: create needs at least one --scope\nusage: brainmesh keys/);
    assert.equal((await brainmesh(['keys', 'create', 'x', '--scope', 'admin', '--expires-in', 'soon'])).code, 2);
    const badScope = await brainmesh(['keys', 'create', 'x', '--scope', 'everything']);
    assert.equal(badScope.code, 1);
    assert.match(badScope.stderr, /^brainmesh keys: scopes/);
    const unknown = await brainmesh(['keys', 'revoke', 'zzzzzzzzzz']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'brainmesh keys: no API key zzzzzzzzzz\n']);
    const help = await brainmesh(['keys', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /\nexample: brainmesh keys create /);
  });
});
