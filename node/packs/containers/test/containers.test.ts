import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callTool } from '@brainmesh/node/kit/testing';
import { createContainers } from '../src/index.js';
import { containersSettingsSchema } from '../src/settings.js';

/** What the pack does with no engine at all: it starts, and each call says what is missing. */
describe('the containers pack without an engine', () => {
  it('starts, and each call says the engine cannot be reached and how to start one', async () => {
    const settings = containersSettingsSchema.parse({ host: 'unix:///nonexistent/docker.sock' });
    const { tools } = createContainers({ settings, nodeName: 'devmcp' });
    assert.equal(tools.length, 17);
    await assert.rejects(
      callTool(tools, 'container_list', {}),
      (err: Error) =>
        err.message ===
        'the container engine at unix:///nonexistent/docker.sock cannot be reached (ENOENT: nothing answers there); start Docker, or `podman system service --time=0 unix:///nonexistent/docker.sock`, or set DOCKER_HOST',
    );
  });

  it('takes only a unix socket', () => {
    const settings = containersSettingsSchema.parse({ host: 'tcp://10.0.0.1:2375' });
    assert.throws(
      () => createContainers({ settings, nodeName: 'devmcp' }),
      /containers: host "tcp:\/\/10\.0\.0\.1:2375" is not a unix socket \(unix:\/\/\/path\); a TCP engine API is not supported/,
    );
  });

  it('describes and annotates every tool truthfully: reads are read-only, what destroys or runs asks first', async () => {
    const settings = containersSettingsSchema.parse({});
    const { tools } = createContainers({ settings, nodeName: 'devmcp' });
    for (const tool of tools) {
      assert.ok(tool.description.length > 20, tool.name);
      const a = tool.annotations!;
      const confirms = 'confirm' in tool.input.shape;
      if (a.readOnlyHint) assert.equal(confirms, false, `${tool.name} reads, asks nothing`);
      if (a.destructiveHint) assert.equal(confirms, true, `${tool.name} destroys, so asks`);
    }
    const destructive = tools.filter((t) => t.annotations?.destructiveHint).map((t) => t.name);
    assert.deepEqual(destructive.sort(), ['container_exec', 'container_remove', 'container_restart', 'container_stop']);
  });
});
