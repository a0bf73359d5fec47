/**
 * The containers pack against a real engine: podman's Docker-compatible service on a socket of
 * the test's own (testing/engine.ts). CI installs podman; where the engine cannot start, these
 * tests fail with the reason rather than pass on a fake.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackInstance } from '@brainmesh/node';
import { callTool } from '@brainmesh/node/kit/testing';
import Docker from 'dockerode';
import { CREATED_BY_LABEL, createContainers } from '../src/index.js';
import { containersSettingsSchema } from '../src/settings.js';
import { startTestEngine, type TestEngine } from '../src/testing/engine.js';

const accept = () => ({ action: 'accept' as const, content: { confirm: true } });
const decline = () => ({ action: 'decline' as const });

describe('the containers pack on a real engine', { timeout: 180_000 }, () => {
  let engine: TestEngine;
  let tools: PackInstance['tools'];
  let docker: Docker;
  const allowed = mkdtempSync(path.join(tmpdir(), 'binds-'));
  before(async () => {
    engine = await startTestEngine();
    const settings = containersSettingsSchema.parse({ host: engine.host, bindRoots: [allowed] });
    tools = createContainers({ settings, nodeName: 'devmcp' }).tools;
    docker = new Docker({ socketPath: engine.host.slice('unix://'.length) });
  });
  after(async () => {
    await engine?.close();
    rmSync(allowed, { recursive: true, force: true });
  });

  const running = async (name: string) => (await docker.getContainer(name).inspect()).State.Running;

  it('creates, starts, shows logs as they come, runs a command, stops and removes', async () => {
    const created = await callTool(tools, 'container_create', {
      image: engine.image,
      name: 'ticker',
      command: [
        'sh',
        '-c',
        'echo started; i=0; while true; do echo tick $i; echo warn $i >&2; i=$((i+1)); sleep 0.1; done',
      ],
      env: { API_TOKEN: 'hunter2-secret' },
      ports: [{ container: 8080 }],
      labels: { team: 'ops' },
    });
    assert.equal(created.json.name, 'ticker');
    assert.equal((created.json.state as { status: string }).status, 'created');
    assert.ok((created.json.envNames as string[]).includes('API_TOKEN'), created.text);
    assert.ok(!created.text.includes('hunter2-secret'), 'environment values are never shown');
    assert.equal((created.json.labels as Record<string, string>)[CREATED_BY_LABEL], 'devmcp');
    assert.match((created.json.ports as string[])[0]!, /^127\.0\.0\.1:\d*->8080\/tcp$/, 'published on loopback');

    const started = await callTool(tools, 'container_start', { container: 'ticker' });
    assert.equal((started.json.state as { running: boolean }).running, true);
    // Starting a running container is not an error: it is running, as asked.
    assert.equal(
      ((await callTool(tools, 'container_start', { container: 'ticker' })).json.state as { running: boolean }).running,
      true,
    );

    const listed = await callTool(tools, 'container_list', { label: 'team=ops' });
    assert.deepEqual(
      (listed.json.containers as Array<{ name: string; state: string }>).map((c) => [c.name, c.state]),
      [['ticker', 'running']],
    );
    assert.deepEqual((await callTool(tools, 'container_list', { label: 'team=dev' })).json.containers, []);

    // Followed: each line reaches the caller as progress while the call runs, both streams.
    const progress: string[] = [];
    const followed = await callTool(
      tools,
      'container_logs',
      { container: 'ticker', follow: true, followSeconds: 1, tail: 0 },
      { onProgress: (p) => progress.push(p.message ?? '') },
    );
    assert.equal(followed.json.ended, 'time up');
    const seen = progress.join('\n');
    assert.match(seen, /^tick \d+$/m);
    assert.match(seen, /^\[stderr\] warn \d+$/m);
    assert.ok((followed.json.lines as number) >= 4, `lines: ${followed.json.lines}`);
    const tail = await callTool(tools, 'container_logs', { container: 'ticker', tail: 3 });
    assert.equal((tail.json.output as unknown[]).length, 3);
    const first = await callTool(tools, 'container_logs', { container: 'ticker', tail: 10_000 });
    assert.deepEqual((first.json.output as unknown[])[0], { stream: 'stdout', text: 'started' });

    const execProgress: string[] = [];
    const exec = await callTool(
      tools,
      'container_exec',
      { container: 'ticker', command: ['sh', '-c', 'echo out-line; echo err-line >&2; exit 3'] },
      { elicit: accept, onProgress: (p) => execProgress.push(p.message ?? '') },
    );
    assert.equal(exec.result.isError, true, 'a non-zero exit is a failed call');
    assert.equal(exec.json.exitCode, 3);
    // Two pipes: the engine keeps each stream's order, not the order between them.
    assert.deepEqual(
      (exec.json.output as Array<{ stream: string; text: string }>).map((l) => `${l.stream} ${l.text}`).sort(),
      ['stderr err-line', 'stdout out-line'],
    );
    assert.match(execProgress.join('\n'), /out-line/);
    assert.match(
      exec.asked[0]!,
      /^Confirm: run `sh -c echo out-line; echo err-line >&2; exit 3` in container ticker\?$/,
    );

    const top = await callTool(tools, 'container_top', { container: 'ticker' });
    assert.ok(
      (top.json.processes as string[]).some((p) => p.includes('while true')),
      top.text,
    );
    const stats = await callTool(tools, 'container_stats', { container: 'ticker' });
    assert.ok(
      (stats.json.pids as number) >= 1 && (stats.json.memory as { usageBytes: number }).usageBytes > 0,
      stats.text,
    );

    // The user says no: nothing happens, and the call says so.
    const refused = await callTool(tools, 'container_stop', { container: 'ticker' }, { elicit: decline });
    assert.equal(refused.result.isError, true);
    assert.match(refused.text, /^Not done: the user did not confirm \(decline\)\. Nothing was changed\.$/);
    assert.equal(await running('ticker'), true, 'still running after a refused stop');
    // A client that cannot ask needs confirm: true, and without it nothing happens either.
    const unconfirmed = await callTool(tools, 'container_remove', { container: 'ticker', force: true });
    assert.match(unconfirmed.text, /^Not done: this would remove container ticker/);
    assert.equal(await running('ticker'), true);
    await assert.rejects(
      callTool(tools, 'container_remove', { container: 'ticker', confirm: true }),
      /container ticker is running: stop it first, or remove with force/,
    );

    const stopped = await callTool(
      tools,
      'container_stop',
      { container: 'ticker', graceSeconds: 1 },
      { elicit: accept },
    );
    assert.equal((stopped.json.state as { running: boolean }).running, false);
    assert.match(
      stopped.asked[0]!,
      /^Confirm: stop container ticker \(localhost\/brainmesh-test-busybox:1, running\)\?$/,
    );
    const removed = await callTool(tools, 'container_remove', { container: 'ticker', confirm: true });
    assert.equal(removed.json.removed, 'ticker');
    await assert.rejects(
      callTool(tools, 'container_inspect', { container: 'ticker' }),
      /^BrainmeshError: container ticker: /,
    );
    assert.deepEqual((await callTool(tools, 'container_list', { all: true, label: 'team=ops' })).json.containers, []);
  });

  it('follows logs until the container stops, and an exec in a stopped container is refused by the engine', async () => {
    await callTool(tools, 'container_create', {
      image: engine.image,
      name: 'brief',
      command: ['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'],
      start: true,
    });
    const followed = await callTool(tools, 'container_logs', {
      container: 'brief',
      follow: true,
      followSeconds: 30,
      tail: 100,
    });
    assert.equal(followed.json.ended, 'container stopped');
    assert.deepEqual(
      (followed.json.output as Array<{ text: string }>).map((l) => l.text),
      ['line 1', 'line 2', 'line 3'],
    );
    await assert.rejects(
      callTool(tools, 'container_exec', { container: 'brief', command: ['true'], confirm: true }),
      /^BrainmeshError: exec in brief: /,
    );
    await callTool(tools, 'container_remove', { container: 'brief', confirm: true });
  });

  it('mounts host folders only inside the allowed ones, named volumes always', async () => {
    const inside = path.join(allowed, 'data');
    mkdirSync(inside);
    writeFileSync(path.join(inside, 'hello.txt'), 'from the host\n');
    const made = await callTool(tools, 'container_create', {
      image: engine.image,
      name: 'mounter',
      command: ['cat', '/data/hello.txt'],
      volumes: [
        { source: inside, target: '/data', readOnly: true },
        { source: 'scratch', target: '/scratch' },
      ],
      start: true,
    });
    const mounts = made.json.mounts as Array<{ type: string; source: string; target: string; readOnly: boolean }>;
    assert.deepEqual(mounts.map((m) => [m.type, m.target, m.readOnly]).sort(), [
      ['bind', '/data', true],
      ['volume', '/scratch', false],
    ]);
    const logs = await callTool(tools, 'container_logs', { container: 'mounter', follow: true, followSeconds: 30 });
    assert.deepEqual(
      (logs.json.output as Array<{ text: string }>).map((l) => l.text),
      ['from the host'],
    );
    const volumes = await callTool(tools, 'volume_list', {});
    assert.ok((volumes.json.volumes as Array<{ name: string }>).some((v) => v.name === 'scratch'));

    for (const source of ['/etc', path.join(allowed, '..'), realpathSync(tmpdir())]) {
      await assert.rejects(
        callTool(tools, 'container_create', { image: engine.image, volumes: [{ source, target: '/x' }] }),
        /^BrainmeshError: host path .* refused: it is outside the folders this node allows/,
        source,
      );
    }
    await callTool(tools, 'container_remove', { container: 'mounter', force: true, volumes: true, confirm: true });
  });

  it('tells about the engine, images, networks and compose projects', async () => {
    const info = await callTool(tools, 'engine_info', {});
    assert.equal(info.json.socket, engine.host);
    assert.match(info.json.engine as string, /podman/i);
    const images = await callTool(tools, 'image_list', {});
    assert.ok(
      (images.json.images as Array<{ tags: string[] }>).some((i) => i.tags.includes(engine.image)),
      images.text,
    );
    const image = await callTool(tools, 'image_inspect', { image: engine.image });
    assert.deepEqual(image.json.command, ['/bin/sh']);
    await assert.rejects(
      callTool(tools, 'image_inspect', { image: 'localhost/no-such:1' }),
      /^BrainmeshError: image localhost\/no-such:1: /,
    );
    const networks = await callTool(tools, 'network_list', {});
    assert.ok((networks.json.networks as unknown[]).length >= 1);

    const service = (project: string, name: string, start: boolean) =>
      callTool(tools, 'container_create', {
        image: engine.image,
        name: `${project}-${name}`,
        command: ['sleep', '300'],
        labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': name },
        start,
      });
    await service('shop', 'web', true);
    await service('shop', 'db', false);
    await service('blog', 'web', true);
    const all = await callTool(tools, 'compose_status', {});
    assert.deepEqual(
      (all.json.projects as Array<{ project: string; status: string; running: number; total: number }>).map((p) => [
        p.project,
        p.status,
        p.running,
        p.total,
      ]),
      [
        ['blog', 'running', 1, 1],
        ['shop', 'partly running', 1, 2],
      ],
    );
    const shop = await callTool(tools, 'compose_status', { project: 'shop' });
    assert.deepEqual(
      (shop.json.services as Array<{ service: string; running: number }>).map((s) => [s.service, s.running]),
      [
        ['db', 0],
        ['web', 1],
      ],
    );
    assert.equal((await callTool(tools, 'compose_status', { project: 'none' })).json.status, 'not found');
  });
});
