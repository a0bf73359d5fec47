/**
 * DevMCP as the operator runs it: the reference config (configs/devmcp.yaml) unchanged, a node
 * that dials the hub and opens no port, its packs and mounted servers reached only through the
 * hub, and a real container engine (podman's Docker-compatible service) under its containers
 * pack. CI installs the engine; where it cannot start, this fails with the reason.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestEngine, type TestEngine } from '@brainmesh/pack-containers/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import {
  admin,
  BRAINMESH,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
} from '../support/mesh.js';
import { listeningPorts } from '../support/processes.js';

const DEVMCP = path.resolve(BRAINMESH, '..', '..', 'configs', 'devmcp.yaml');
const json = (result: Record<string, unknown>) =>
  (result.structuredContent as Record<string, unknown> | undefined) ??
  (JSON.parse(text(result)) as Record<string, unknown>);

describe('DevMCP from its reference config, behind NAT', { timeout: 300_000 }, () => {
  const scope = suiteScope();
  let engine: TestEngine;
  let hub: HubProcess;
  let node: NodeProcess;
  let client: Client;
  let answer: 'accept' | 'decline' = 'accept';
  const asked: string[] = [];

  const connect = async (to: HubProcess) => {
    const { client: c } = await connectClient(scope, to, { elicitation: { form: {} } });
    c.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    });
    return c;
  };
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name: `devmcp__${name}`, arguments: args });
    assert.notEqual(result.isError, true, `${name}: ${text(result)}`);
    return result;
  };

  before(async () => {
    engine = await startTestEngine();
    scope.after(() => engine.close());
    hub = await startHub(scope);
    node = await startNode(scope, hub, { name: 'devmcp', config: DEVMCP, env: { DOCKER_HOST: engine.host } });
    await nodeUp(hub, 'devmcp', 60_000);
    client = await connect(hub);
  });
  after(() => scope.dispose());

  it('opens no port, dials the hub, and serves 70 or more tools, each described, annotated and with a schema', async () => {
    assert.equal(node.url, undefined);
    assert.deepEqual(listeningPorts(node.proc.child.pid!), [], 'the node and its mounted servers listen on nothing');
    const view = (await (await admin(hub, 'GET', '/admin/nodes/devmcp')).json()) as { url: unknown; direction: string };
    assert.deepEqual([view.url, view.direction], [null, 'dial-out']);

    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const devmcp = tools.filter((tool) => tool.name.startsWith('devmcp__'));
    assert.ok(devmcp.length >= 70, `${devmcp.length} devmcp tools`);
    // The packs' tools say all three; a mounted server's say what that server says.
    const mounted = /^devmcp__(everything|fs|memory)_/;
    for (const tool of devmcp) {
      assert.ok((tool.description ?? '').length > 0, `${tool.name} has a description`);
      assert.equal(tool.inputSchema.type, 'object', `${tool.name} has an input schema`);
      const a = tool.annotations ?? {};
      const said = ['readOnlyHint', 'destructiveHint', 'idempotentHint'].filter(
        (k) => typeof a[k as keyof typeof a] === 'boolean',
      );
      if (!mounted.test(tool.name)) assert.equal(said.length, 3, `${tool.name}: ${JSON.stringify(a)}`);
    }
    // Every pack and every mount is there.
    for (const name of [
      'echo',
      'mesh_status',
      'workspace_read',
      'container_list',
      'everything_echo',
      'fs_read_text_file',
      'memory_read_graph',
    ]) {
      assert.ok(
        devmcp.some((tool) => tool.name === `devmcp__${name}`),
        name,
      );
    }
  });

  it('serves a tool of each pack and each mounted server through the hub', async () => {
    assert.equal(text(await call('echo', { text: 'from the laptop' })), 'from the laptop');
    assert.equal((json(await call('mesh_status')).nodes as { up: number }).up, 1);
    const readme = json(await call('workspace_read', { folder: 'brainmesh', path: 'README.md', lines: 1 }));
    assert.match(readme.text as string, /^# brainmesh/);
    assert.match(json(await call('engine_info')).engine as string, /podman/i);
    assert.match(text(await call('everything_echo', { message: 'mounted' })), /mounted/);
    assert.match(
      text(await call('fs_list_allowed_directories')),
      new RegExp(path.resolve(BRAINMESH, '..', '..').replaceAll('/', '\\/')),
    );
    await call('memory_create_entities', {
      entities: [{ name: 'brainmesh', entityType: 'project', observations: ['a mesh of MCP servers'] }],
    });
    assert.match(text(await call('memory_search_nodes', { query: 'brainmesh' })), /a mesh of MCP servers/);
    // The memory server keeps its graph in the node's data folder, not in its package.
    const graph = path.join(node.home, 'mounts', 'memory', 'memory.jsonl');
    assert.ok(existsSync(graph) && readFileSync(graph, 'utf8').includes('a mesh of MCP servers'), graph);
  });

  it("runs a container's life from the client: create, start, logs as progress, exec, a refused stop, stop, remove", async () => {
    const created = json(
      await call('container_create', {
        image: engine.image,
        name: 'web',
        command: ['sh', '-c', 'i=0; while true; do echo request $i; i=$((i+1)); sleep 0.1; done'],
      }),
    );
    assert.equal((created.state as { status: string }).status, 'created');
    assert.equal(
      (json(await call('container_start', { container: 'web' })).state as { running: boolean }).running,
      true,
    );

    const progress: string[] = [];
    const logs = await client.callTool(
      { name: 'devmcp__container_logs', arguments: { container: 'web', follow: true, followSeconds: 1, tail: 0 } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? '') },
    );
    assert.equal(json(logs).ended, 'time up', text(logs));
    assert.ok(progress.length >= 2, `progress messages: ${progress.length}`);
    assert.match(progress.join('\n'), /^request \d+$/m);

    asked.length = 0;
    const execProgress: string[] = [];
    const exec = await client.callTool(
      {
        name: 'devmcp__container_exec',
        arguments: { container: 'web', command: ['sh', '-c', 'echo inside; hostname'] },
      },
      undefined,
      { onprogress: (p) => execProgress.push(p.message ?? '') },
    );
    assert.equal(json(exec).exitCode, 0, text(exec));
    assert.match(execProgress.join('\n'), /inside/);
    assert.deepEqual(asked, ['Confirm: run `sh -c echo inside; hostname` in container web?']);

    answer = 'decline';
    const refused = await client.callTool({ name: 'devmcp__container_stop', arguments: { container: 'web' } });
    assert.equal(refused.isError, true);
    assert.equal(text(refused), 'Not done: the user did not confirm (decline). Nothing was changed.');
    const still = json(await call('container_inspect', { container: 'web' }));
    assert.equal((still.state as { running: boolean }).running, true, 'a refused stop leaves it running');

    answer = 'accept';
    const stopped = json(await call('container_stop', { container: 'web', graceSeconds: 1 }));
    assert.equal((stopped.state as { running: boolean }).running, false);
    assert.equal(json(await call('container_remove', { container: 'web' })).removed, 'web');
    assert.deepEqual(json(await call('container_list', { all: true })).containers, []);
  });

  it('comes back by itself when the hub is killed and started again', async () => {
    const pid = node.proc.child.pid;
    hub = await hub.restart('SIGKILL');
    await nodeUp(hub, 'devmcp', 60_000);
    client = await connect(hub);
    assert.equal(text(await call('echo', { text: 'back again' })), 'back again');
    assert.match(text(await call('everything_echo', { message: 'still mounted' })), /still mounted/);
    assert.equal(node.proc.child.pid, pid);
    assert.equal(node.proc.child.exitCode, null, 'the node was not restarted: it dialled again by itself');
  });
});
