import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  runCli,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/** `brainmesh status`, `brainmesh tools search` and `brainmesh nodes rotate-keys`, run as an operator runs them. */
describe('brainmesh status, tools and key rotation', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let alpha: NodeProcess;
  let beta: NodeProcess;

  before(async () => {
    hub = await startHub(scope);
    [alpha, beta] = await Promise.all([
      startNode(scope, hub, { name: 'alpha' }),
      startNode(scope, hub, { name: 'beta' }),
    ]);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);
  });

  const brainmesh = (args: string[]) => runCli(hub, args);
  const kids = async (node: string) =>
    (JSON.parse((await brainmesh(['nodes', 'show', node, '--json'])).stdout) as { keys: string[] }).keys;
  const activeOnDisk = (node: NodeProcess) =>
    (
      JSON.parse(readFileSync(path.join(node.home, 'keys.json'), 'utf8')) as {
        keys: Array<{ kid: string; status: string }>;
      }
    ).keys.find((k) => k.status === 'active')?.kid;

  it('status shows the hub, its storage and every node, and exits 0 when all are up', async () => {
    const res = await brainmesh(['status']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.split('\n');
    assert.match(lines[0] ?? '', /^hub {6}\S+ \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+, up \d+[dhms]( \d+[hms])?$/);
    assert.match(lines[1] ?? '', /^storage {2}(embedded Postgres|Postgres), (in-process store|Redis)$/);
    assert.equal(lines[2], 'nodes    2 (2 up, 0 down, 0 disabled)');
    // Each devtools node has 8 tools; the hub adds its own 19 (4 for discovery, 15 for admins).
    assert.equal(lines[3], 'tools    35');
    assert.match(
      res.stdout,
      /\nNAME\s+STATUS\s+LINK\s+TOOLS\s+URL\nalpha\s+enabled\s+up\s+8\s+http:\/\/127\.0\.0\.1:\d+\nbeta\s+enabled\s+up\s+8\s+http/,
    );

    const json = JSON.parse((await brainmesh(['status', '--json'])).stdout) as {
      hub: { version: string };
      nodes: { total: number; up: number };
      list: Array<{ id: string }>;
    };
    assert.deepEqual([json.nodes.total, json.nodes.up], [2, 2]);
    assert.deepEqual(
      json.list.map((n) => n.id),
      ['alpha', 'beta'],
    );
  });

  it('tools search finds tools across nodes, narrows to a node, and says when nothing matches', async () => {
    const res = await brainmesh(['tools', 'search', 'note']);
    assert.equal(res.code, 0, res.stderr);
    const [header, ...rows] = res.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+NODE\s+EFFECT\s+DESCRIPTION$/);
    const names = rows.map((r) => r.split(/\s+/)[0]).sort();
    assert.deepEqual(names, ['alpha__recall', 'alpha__remember', 'beta__recall', 'beta__remember']);
    assert.match(res.stdout, /\nalpha__remember\s+alpha\s+changes\s+Keeps a short note under a key/);
    assert.match(res.stdout, /\nalpha__recall\s+alpha\s+reads\s+Returns the note kept/);

    // Several words are one query; --node and --limit narrow it; --json gives the ranked hits.
    const json = await brainmesh(['tools', 'search', 'short', 'note', '--node', 'beta', '--limit', '1', '--json']);
    const hits = JSON.parse(json.stdout) as Array<{ name: string; node: string; readOnly: boolean }>;
    assert.deepEqual(
      hits.map((h) => [h.name, h.node, h.readOnly]),
      [['beta__remember', 'beta', false]],
    );

    const none = await brainmesh(['tools', 'search', 'kubernetes']);
    assert.deepEqual([none.code, none.stdout], [0, 'no tools match "kubernetes"\n']);
  });

  it('tools search and status refuse bad usage with exit 2', async () => {
    const noQuery = await brainmesh(['tools', 'search']);
    assert.equal(noQuery.code, 2);
    assert.match(noQuery.stderr, /^brainmesh tools: search needs QUERY\.\.\.\nusage: brainmesh tools search/);
    const badLimit = await brainmesh(['tools', 'search', 'note', '--limit', '0']);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit must be a whole number from 1 to 100, got "0"/);
    assert.equal((await brainmesh(['status', 'now'])).code, 2);
    for (const command of ['status', 'tools']) {
      const help = await brainmesh([command, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^usage: brainmesh /);
      assert.match(help.stdout, /\nexample: brainmesh /);
    }
  });

  it('rotate-keys gives a node a new key, keeps the one before, and calls keep working', async (t) => {
    const first = await kids('alpha');
    assert.equal(first.length, 1);
    const { client } = await connectClient(t, hub);

    const res = await brainmesh(['nodes', 'rotate-keys', 'alpha']);
    assert.equal(res.code, 0, res.stderr);
    const active = activeOnDisk(alpha);
    assert.ok(active !== undefined && active !== first[0], 'the node signs with a new key');
    assert.equal(
      res.stdout,
      `alpha signs with a new key: ${active}\nstill valid until the next rotation: ${first[0]}\n`,
    );
    assert.deepEqual(await kids('alpha'), [first[0], active], 'the hub pins both keys');
    const echo = await client.callTool({ name: 'alpha__echo', arguments: { text: 'after rotation' } });
    assert.equal(text(echo), 'after rotation');

    // A second rotation retires the first key: a ring holds at most two.
    const again = JSON.parse((await brainmesh(['nodes', 'rotate-keys', 'alpha', '--json'])).stdout) as {
      active: string;
      retired: string[];
      keys: string[];
    };
    assert.deepEqual(again.retired, [first[0]]);
    assert.deepEqual(again.keys, [active, again.active]);
    assert.equal(activeOnDisk(alpha), again.active);

    // Restarted, the node announces itself signed with its new key, and the hub takes it.
    await alpha.proc.stop();
    await until(
      async () => JSON.parse((await brainmesh(['nodes', 'show', 'alpha', '--json'])).stdout).link === 'down',
      'alpha seen down',
    );
    alpha = await alpha.start();
    await alpha.proc.waitFor<{ msg: string }>((l) => l.msg === 'announced to the hub');
    await nodeUp(hub, 'alpha');
    const later = await client.callTool({ name: 'alpha__echo', arguments: { text: 'after restart' } });
    assert.equal(text(later), 'after restart');
  });

  it('rotate-keys says why it cannot: an unknown node, a disabled one', async () => {
    const unknown = await brainmesh(['nodes', 'rotate-keys', 'nosuch']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'brainmesh nodes: no node named nosuch\n']);
    assert.equal((await brainmesh(['nodes', 'disable', 'beta'])).code, 0);
    const disabled = await brainmesh(['nodes', 'rotate-keys', 'beta']);
    assert.deepEqual(
      [disabled.code, disabled.stderr],
      [1, 'brainmesh nodes: node beta is disabled; enable it before rotating its keys\n'],
    );
    assert.equal((await brainmesh(['nodes', 'enable', 'beta'])).code, 0);
    await nodeUp(hub, 'beta');
  });

  it('status exits 1 and says since when, once a node is down; its keys cannot rotate then', async () => {
    await beta.proc.stop();
    const res = await until(async () => {
      const r = await brainmesh(['status']);
      return r.code === 1 ? r : undefined;
    }, 'status to report beta down');
    assert.match(res.stdout, /\nnodes {4}2 \(1 up, 1 down, 0 disabled\)\n/);
    const rotate = await brainmesh(['nodes', 'rotate-keys', 'beta']);
    assert.equal(rotate.code, 1);
    assert.match(rotate.stderr, /^brainmesh nodes: node beta is not linked to the hub now; start it first\n$/);
    assert.match(res.stdout, /\nbeta\s+enabled\s+down since \d{4}-\d\d-\d\dT\S+Z\s+0\s+http/);
  });
});
