import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Spawned, spawnTs, tempDir } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify } from 'yaml';
import { admin, BRAINMESH, connectClient, nodeUp, runCli, suiteScope, text, until } from '../support/mesh.js';
import { alive, commandLine, descendants } from '../support/processes.js';

const CONFIGS = path.resolve(BRAINMESH, '..', '..', 'configs');

/**
 * `brainmesh up` as a new user runs it: the real program, the real reference configs (only the
 * ports are chosen at run time), an empty data folder, and Claude Desktop's side played by an MCP
 * client that starts the bridge exactly as the printed snippet says.
 */
describe('brainmesh up', { timeout: 240_000 }, () => {
  const dir = tempDir('up');
  after(() => dir.remove());
  const home = path.join(dir.dir, 'home');
  const meshFile = path.join(dir.dir, 'mesh.yaml');

  before(() => {
    // A node of its own beside the reference devmcp, medtainer and spectrum nodes (medtainer on its sample
    // business, as a fresh machine has no credentials), so "every node" means several.
    writeFileSync(
      path.join(dir.dir, 'alpha.yaml'),
      stringify({ node: { name: 'alpha' }, hub: { url: 'http://127.0.0.1:8080' }, packs: ['devtools'] }),
    );
    writeFileSync(
      meshFile,
      stringify({
        hub: { config: path.join(CONFIGS, 'hub.yaml') },
        nodes: [
          // DevMCP dials the hub and opens no port: the mesh file gives it none.
          { config: path.join(CONFIGS, 'devmcp.yaml') },
          { config: path.join(CONFIGS, 'medtainer.yaml'), port: 0 },
          { config: path.join(CONFIGS, 'spectrum.yaml'), port: 0 },
          { config: 'alpha.yaml' },
        ],
      }),
    );
  });

  const env = () => ({ PATH: process.env.PATH, HOME: dir.dir });
  const up = (args: string[] = []) => spawnTs(BRAINMESH, ['up', '--home', home, '--mesh', meshFile, ...args], env());
  const ready = (proc: Spawned) =>
    proc.waitFor<string>((l) => typeof l === 'string' && l.includes('stop: Ctrl-C'), 120_000);
  const hubUrlOf = (proc: Spawned) => {
    const line = proc.stdout.find((l) => l.includes('MCP endpoint'));
    return line!.match(/(http:\/\/127\.0\.0\.1:\d+)\/mcp/)![1]!;
  };
  const snippetOf = (proc: Spawned) => {
    const out = proc.stdout.join('\n');
    const start = out.indexOf('{', out.indexOf('claude_desktop_config.json'));
    const end = out.indexOf('\nlogs: ');
    return JSON.parse(out.slice(start, end)) as {
      mcpServers: { brainmesh: { command: string; args: string[]; env: Record<string, string> } };
    };
  };

  let firstKey: string;
  let firstHubKid: string;

  it('comes up on an empty home, says what it does, and prints the key once and the Claude Desktop snippet', async (t) => {
    const proc = up(['--port', '0']);
    t.after(() => proc.stop('SIGKILL'));
    await ready(proc);
    const out = proc.stdout.join('\n');
    assert.match(out, /^brainmesh up: a new mesh in /);
    assert.match(out, /hub {7}ready at http:\/\/127\.0\.0\.1:\d+, storage embedded\/memory \(\d+\.\d s\)/);
    assert.match(out, /devmcp {4}starting and enrolling \(first run\)/);
    assert.match(out, /alpha {5}ready \(\d+\.\d s\)/);
    assert.match(
      out,
      /dashboard {5}http:\/\/127\.0\.0\.1:\d+\/ui\/\n {16}\(sign in with an operator account: npx brainmesh users create NAME\)/,
    );
    // The node table: every node linked, with its tool counts (devtools has 8; DevMCP's packs
    // and mounted servers make 70 or more).
    assert.match(out, /alpha +up +8\n/);
    const devmcpTools = Number(out.match(/devmcp +up +(\d+)\n/)?.[1]);
    assert.ok(devmcpTools >= 70, out);
    assert.match(out, /medtainer +up +31\n/);
    // Four roles of 18 tools each, and the Operator's mesh health.
    assert.match(out, /spectrum +up +73\n/);

    const keyFile = path.join(home, 'operator-key');
    firstKey = readFileSync(keyFile, 'utf8').trim();
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(out.includes(`    ${firstKey}`), 'the key is printed');
    firstHubKid = JSON.parse(readFileSync(path.join(home, 'keys.json'), 'utf8')).keys[0].kid;

    // DevMCP dialled the hub; the others were dialled by it.
    const listed = await runCli({ url: hubUrlOf(proc), key: firstKey }, ['nodes', 'list']);
    assert.match(listed.stdout, /^devmcp +enabled +up +dial-out +\d+ +\S+ +-$/m, listed.stdout);
    assert.match(listed.stdout, /^alpha +enabled +up +dial-in +8 +\S+ +http:\/\/127\.0\.0\.1:\d+$/m, listed.stdout);

    // Claude Desktop's part: start the bridge as the snippet says, with its environment only.
    const entry = snippetOf(proc).mcpServers.brainmesh;
    assert.deepEqual(entry.args.slice(1), ['connect', '--hub', hubUrlOf(proc)]);
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: entry.env,
      stderr: 'pipe',
    });
    await client.connect(transport);
    t.after(() => client.close());
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(
      names.includes('alpha__echo') && names.includes('devmcp__echo') && names.includes('devmcp__everything_echo'),
    );
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'hi alpha' } })), 'hi alpha');
    assert.equal(text(await client.callTool({ name: 'devmcp__echo', arguments: { text: 'hi devmcp' } })), 'hi devmcp');
    // DevMCP's workspace and the mounted filesystem server, both on the folder up runs in.
    const folders = JSON.parse(text(await client.callTool({ name: 'devmcp__workspace_folders', arguments: {} }))) as {
      folders: { name: string }[];
    };
    assert.deepEqual(
      folders.folders.map((f) => f.name),
      ['brainmesh'],
    );
    assert.ok(names.includes('devmcp__git_status') && names.includes('devmcp__fs_read_text_file'), names.join());
    assert.match(
      text(await client.callTool({ name: 'devmcp__everything_echo', arguments: { message: 'hi everything' } })),
      /hi everything/,
    );
    // Without credentials, MedTainer answers from its sample business, and says so.
    const insights = JSON.parse(
      text(await client.callTool({ name: 'medtainer__gohighlevel_get_insights', arguments: {} })),
    ) as { source: string; totals: { contacts: number } };
    assert.equal(insights.source, 'sample');
    assert.ok(insights.totals.contacts > 1_000);
    // Spectrum runs on its sample agency.
    const board = JSON.parse(
      text(await client.callTool({ name: 'spectrum__operator_board_summary', arguments: {} })),
    ) as { counts: Record<string, Record<string, number>> };
    assert.equal(board.counts.strategist!.open, 1);
    assert.equal(board.counts.builder!.blocked, 1);
    await client.close();

    // Ctrl-C: every process it started goes, and nothing is left listening.
    const family = descendants(proc.child.pid!);
    assert.ok(family.length >= 6, `hub, four nodes and a mounted server, got ${family.length}`);
    const ports = listeningPorts(proc);
    proc.child.kill('SIGINT');
    assert.equal(await proc.exited, 0);
    assert.match(proc.stdout.join('\n'), /stopping\nstopped$/);
    assert.deepEqual(family.filter(alive), [], 'no process left behind');
    for (const port of ports) assert.equal(await accepts(port), false, `port ${port} still listening`);
  });

  it('reuses everything on a second run: same keys, same nodes, no new enrolment, no key printed', async (t) => {
    const proc = up(['--port', '0']);
    t.after(() => proc.stop('SIGKILL'));
    await ready(proc);
    const out = proc.stdout.join('\n');
    assert.match(out, /^brainmesh up: the mesh in /);
    assert.doesNotMatch(out, /enrolling/);
    assert.doesNotMatch(out, /operator API key/);
    assert.ok(!out.includes(firstKey));
    assert.equal(readFileSync(path.join(home, 'operator-key'), 'utf8').trim(), firstKey);
    assert.equal(JSON.parse(readFileSync(path.join(home, 'keys.json'), 'utf8')).keys[0].kid, firstHubKid);
    assert.match(out, /alpha +up +8\n/);

    // The bridge with the key given outright rather than found in the data folder.
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BRAINMESH, 'connect', '--hub', hubUrlOf(proc)],
        env: { BRAINMESH_API_KEY: firstKey },
        stderr: 'pipe',
      }),
    );
    t.after(() => client.close());
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'again' } })), 'again');
    await client.close();
    proc.child.kill('SIGINT');
    assert.equal(await proc.exited, 0);
  });

  it('says which port is taken and how to choose another', async (t) => {
    const blocker = await listen();
    t.after(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const proc = up(['--port', String(port)]);
    t.after(() => proc.stop('SIGKILL'));
    assert.equal(await proc.exited, 2);
    assert.equal(
      proc.stderr.join('\n'),
      `brainmesh up: port ${port} (the hub) is taken by another program; stop it, or choose another port: brainmesh up --port ${port + 1}`,
    );
    assert.deepEqual(descendants(proc.child.pid!), []);
  });

  it('says in one line what failed and what to do, never a stack trace', async (t) => {
    // A data folder that cannot be made: the home given is a file.
    const file = path.join(dir.dir, 'not-a-folder');
    writeFileSync(file, '');
    const notAFolder = spawnTs(BRAINMESH, ['up', '--home', file, '--mesh', meshFile, '--port', '0'], env());
    t.after(() => notAFolder.stop('SIGKILL'));
    assert.equal(await notAFolder.exited, 1);
    assert.deepEqual(notAFolder.stderr, [
      `brainmesh up: cannot use ${file} as the data folder (ENOTDIR); choose another with --home DIR`,
    ]);

    // A hub that refuses its config: its own reason, and where its log is.
    writeFileSync(path.join(dir.dir, 'bad-hub.yaml'), stringify({ server: { port: 0 }, limits: { requests: 'lots' } }));
    const badMesh = path.join(dir.dir, 'bad-mesh.yaml');
    writeFileSync(badMesh, stringify({ hub: { config: 'bad-hub.yaml' }, nodes: [] }));
    const badHome = path.join(dir.dir, 'bad-home');
    const badHub = spawnTs(BRAINMESH, ['up', '--home', badHome, '--mesh', badMesh], env());
    t.after(() => badHub.stop('SIGKILL'));
    assert.equal(await badHub.exited, 1);
    assert.equal(badHub.stderr.length, 1, badHub.stderr.join('\n'));
    assert.match(
      badHub.stderr[0]!,
      /^brainmesh up: hub stopped \(exit code 1\): brainmesh hub: .*bad-hub\.yaml: limits\.requests: .* \(its log: .*hub\.log\)$/,
    );
    assert.deepEqual(descendants(badHub.child.pid!), []);
  });

  it('has help with an example, and exits 2 on a bad flag', async () => {
    const help = spawnTs(BRAINMESH, ['up', '--help'], env());
    assert.equal(await help.exited, 0);
    assert.match(help.stdout.join('\n'), /^usage: brainmesh up/);
    assert.match(help.stdout.join('\n'), /example: brainmesh up --port 8081/);
    const bad = spawnTs(BRAINMESH, ['up', '--port', 'eighty'], env());
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr[0] ?? '', /--port must be a number/);
  });
});

/**
 * A mesh whose hub logs only warnings (so `up` cannot learn anything from its log lines), run
 * once for several tests: it comes up, and a crashed node or hub is brought back.
 */
describe('brainmesh up, hub at log level warn', { timeout: 300_000 }, () => {
  const dir = tempDir('up-warn');
  const scope = suiteScope();
  const home = path.join(dir.dir, 'home');
  const alphaConfig = path.join(dir.dir, 'alpha.yaml');
  let proc: Spawned;
  let hub: { url: string; key: string };

  before(async () => {
    writeFileSync(path.join(dir.dir, 'hub.yaml'), stringify({ server: { port: 0 }, log: { level: 'warn' } }));
    writeFileSync(
      alphaConfig,
      stringify({ node: { name: 'alpha' }, hub: { url: 'http://127.0.0.1:9' }, packs: ['devtools'] }),
    );
    const meshFile = path.join(dir.dir, 'mesh.yaml');
    writeFileSync(meshFile, stringify({ hub: { config: 'hub.yaml' }, nodes: [{ config: 'alpha.yaml' }] }));
    proc = spawnTs(BRAINMESH, ['up', '--home', home, '--mesh', meshFile], { PATH: process.env.PATH, HOME: dir.dir });
    // Ctrl-C, and wait: every process it started is gone before the folder is removed.
    scope.after(() => proc.stop('SIGINT'));
    await proc.waitFor<string>((l) => l.includes('stop: Ctrl-C'), 120_000);
    const url = proc.stdout.find((l) => l.includes('MCP endpoint'))!.match(/(http:\/\/127\.0\.0\.1:\d+)\/mcp/)![1]!;
    hub = { url, key: readFileSync(path.join(home, 'operator-key'), 'utf8').trim() };
  });
  after(async () => {
    await scope.dispose();
    dir.remove();
  });

  /** The running process started with `args` (its full command line holds them), under `up`. */
  const childRunning = (args: string) => {
    const found = descendants(proc.child.pid!).filter((pid) => commandLine(pid).endsWith(args));
    assert.equal(found.length, 1, `one process running ${args}`);
    return found[0]!;
  };
  const lineAfter = (from: number, pattern: RegExp) =>
    proc.waitFor<string>((l) => typeof l === 'string' && proc.stdout.indexOf(l) >= from && pattern.test(l), 90_000);

  it('comes up, the hub ready and the node linked, though neither logs that it is', async () => {
    const out = proc.stdout.join('\n');
    assert.match(out, /hub {7}ready at http:\/\/127\.0\.0\.1:\d+, storage embedded\/memory/);
    assert.match(out, /alpha {5}ready \(\d+\.\d s\)/);
    assert.match(out, /alpha +up +8\n/);
    assert.doesNotMatch(readFileSync(path.join(home, 'logs', 'hub.log'), 'utf8'), /"hub listening"/);
  });

  it('brings back a node killed outright, says so, and the node serves again through the hub', async (t) => {
    const before = childRunning(`node --config ${alphaConfig}`);
    const from = proc.stdout.length;
    process.kill(before, 'SIGKILL');
    await lineAfter(from, /^alpha stopped \(signal SIGKILL\): .*; restarting in 1 s$/);
    await lineAfter(from, /^alpha ready again \(\d+\.\d s\)$/);
    assert.notEqual(childRunning(`node --config ${alphaConfig}`), before);
    const res = await admin(hub, 'GET', '/admin/nodes/alpha');
    assert.equal(((await res.json()) as { link: string }).link, 'up');
    const { client } = await connectClient(t, hub);
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'back' } })), 'back');
  });

  it('brings back the hub killed outright, at the same address, and the node links to it again', async (t) => {
    const before = childRunning(`hub --config ${path.join(dir.dir, 'hub.yaml')} --port 0`);
    const from = proc.stdout.length;
    process.kill(before, 'SIGKILL');
    await lineAfter(from, /^the hub stopped \(signal SIGKILL\): .*; restarting in 1 s$/);
    const again = await lineAfter(from, /^the hub ready again at /);
    assert.ok(again.includes(`at ${hub.url} `), again);
    await nodeUp(hub, 'alpha', 60_000);
    const { client } = await connectClient(t, hub);
    await until(
      async () => (await client.listTools()).tools.some((tool) => tool.name === 'alpha__echo'),
      'alpha’s tools',
    );
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'hub back' } })), 'hub back');
  });
});

/** The ports the mesh listens on, as its processes logged them: the hub's, and each node's. */
function listeningPorts(proc: Spawned): number[] {
  const home = proc.stdout[0]!.replace(/^brainmesh up: .* in /, '');
  const ports: number[] = [];
  for (const log of readdirSync(path.join(home, 'logs'))) {
    for (const line of readFileSync(path.join(home, 'logs', log), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'hub listening' || entry.msg === 'node listening') ports.push(Number(new URL(entry.url!).port));
    }
  }
  return [...new Set(ports)];
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}
