import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectClient, nodeUp, startHub, startNode } from '../support/mesh.js';

const everything = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('a node mounting an MCP server by URL', { timeout: 120_000 }, () => {
  it('serves the remote server’s tools through the hub', async (t) => {
    const port = await freePort();
    const remote = spawn(process.execPath, [everything, 'streamableHttp'], {
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.after(() => remote.kill('SIGKILL'));
    const lines = createInterface({ input: remote.stderr! });
    for await (const line of lines) if (line.includes('listening on port')) break;

    const hub = await startHub(t);
    await startNode(t, hub, {
      name: 'remote',
      packs: [],
      mounts: [{ transport: 'http', name: 'everything', url: `http://127.0.0.1:${port}/mcp` }],
    });
    await nodeUp(hub, 'remote');
    const { client } = await connectClient(t, hub);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'remote__get-sum'));
    const sum = await client.callTool({ name: 'remote__get-sum', arguments: { a: 20, b: 22 } });
    assert.match(JSON.stringify(sum.content), /42/);
  });
});
