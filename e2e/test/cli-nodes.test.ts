import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { BRAINMESH, type HubProcess, nodeUp, runCli, startHub, startNode, suiteScope } from '../support/mesh.js';

describe('brainmesh nodes', { timeout: 120_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;

  before(async () => {
    hub = await startHub(scope);
    await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
  });

  const brainmesh = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(hub, args, env);

  it('enrolls: prints a one-time token and how to use it, or JSON', async () => {
    const text = await brainmesh(['nodes', 'enroll', 'gamma']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^enrolment token for gamma \(works once, until .+\):\n\n {2}bme_[\w-]{43}\n/);
    assert.match(text.stdout, /BRAINMESH_ENROLMENT_TOKEN=bme_[\w-]{43} brainmesh node --config configs\/gamma\.yaml/);
    const json = await brainmesh(['nodes', 'enroll', 'gamma', '--ttl', '5', '--json']);
    const made = JSON.parse(json.stdout) as { node: string; token: string; expiresAt: string };
    assert.equal(made.node, 'gamma');
    const minutes = (Date.parse(made.expiresAt) - Date.now()) / 60_000;
    assert.ok(minutes > 4 && minutes <= 5, `expires in ${minutes} minutes`);
  });

  it('lists and shows nodes, as a table or JSON', async () => {
    const table = await brainmesh(['nodes', 'list']);
    assert.equal(table.code, 0);
    const [header, row] = table.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+STATUS\s+LINK\s+DIRECTION\s+TOOLS\s+LAST SEEN\s+URL$/);
    assert.match(row ?? '', /^alpha\s+enabled\s+up\s+dial-in\s+8\s+\S+\s+http:\/\/127\.0\.0\.1:\d+$/);
    const json = JSON.parse((await brainmesh(['nodes', 'show', 'alpha', '--json'])).stdout) as {
      id: string;
      link: string;
    };
    assert.deepEqual([json.id, json.link], ['alpha', 'up']);
  });

  it('disables, enables and removes a node', async () => {
    assert.deepEqual((await brainmesh(['nodes', 'disable', 'alpha'])).stdout, 'alpha disabled\n');
    assert.equal(JSON.parse((await brainmesh(['nodes', 'show', 'alpha', '--json'])).stdout).status, 'disabled');
    assert.deepEqual((await brainmesh(['nodes', 'enable', 'alpha'])).stdout, 'alpha enabled\n');
    assert.deepEqual((await brainmesh(['nodes', 'remove', 'alpha'])).stdout, 'alpha removed\n');
    const gone = await brainmesh(['nodes', 'show', 'alpha']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'brainmesh nodes: no node named alpha\n');
  });

  it('finds the local operator key when given no key', async () => {
    const res = await brainmesh(['nodes', 'list', '--json'], { BRAINMESH_API_KEY: '', BRAINMESH_HOME: hub.home });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(Array.isArray(JSON.parse(res.stdout)));
  });

  it('exits 2 with usage for a bad call, and 1 with a reason when the hub says no', async () => {
    const noAction = await brainmesh(['nodes']);
    assert.equal(noAction.code, 2);
    assert.match(noAction.stderr, /^brainmesh nodes: say what to do\nusage: brainmesh nodes/);
    assert.equal((await brainmesh(['nodes', 'show'])).code, 2);
    assert.equal((await brainmesh(['nodes', 'list', '--bogus'])).code, 2);
    assert.equal((await brainmesh(['nodes', 'list', '--hub', 'not a url'])).code, 2);
    const badKey = await brainmesh(['nodes', 'list'], {
      BRAINMESH_API_KEY: 'bm_0000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    assert.equal(badKey.code, 1);
    assert.equal(
      badKey.stderr,
      'brainmesh nodes: the hub refused the API key: the API key or access token is not valid\n',
    );
    const badName = await brainmesh(['nodes', 'enroll', 'Bad_Name']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /^brainmesh nodes: node: lowercase letters, digits and dashes/);
    const help = await brainmesh(['nodes', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /example: brainmesh nodes enroll medtainer/);
  });

  it('creates an operator account with a password from standard input, who can then sign in', async () => {
    const child = spawn(process.execPath, [BRAINMESH, 'users', 'create', 'bob', '--scope', 'node:alpha'], {
      env: { PATH: process.env.PATH, BRAINMESH_HUB: hub.url, BRAINMESH_API_KEY: hub.key },
    });
    child.stdin.end('a long enough password\n');
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.equal(out, 'operator bob created (node:alpha)\n');
    const again = spawn(process.execPath, [BRAINMESH, 'users', 'create', 'bob'], {
      env: { PATH: process.env.PATH, BRAINMESH_HUB: hub.url, BRAINMESH_API_KEY: hub.key },
    });
    again.stdin.end('short\n');
    let err = '';
    again.stderr.on('data', (d) => {
      err += String(d);
    });
    assert.equal((await once(again, 'exit'))[0], 2);
    assert.match(err, /^brainmesh users: the password needs at least 12 characters\nusage: brainmesh users/);
  });

  it('says when the hub cannot be reached', async () => {
    const res = await brainmesh(['nodes', 'list', '--hub', 'http://127.0.0.1:9']);
    assert.equal(res.code, 1);
    assert.equal(res.stderr, 'brainmesh nodes: cannot reach the hub at http://127.0.0.1:9; is it running?\n');
  });
});
