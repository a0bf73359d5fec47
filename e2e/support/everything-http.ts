import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A loopback port free a moment ago, for a process that takes its port as an argument. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const everything = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

/**
 * The reference server-everything over Streamable HTTP (a 2025-era server, with sessions) on a
 * loopback port, killed after the test; resolves with its MCP URL once it listens.
 */
export async function startEverythingHttp(t: { after(fn: () => unknown): void }): Promise<{ url: string }> {
  const port = await freePort();
  const remote = spawn(process.execPath, [everything, 'streamableHttp'], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => remote.kill('SIGKILL'));
  for await (const line of createInterface({ input: remote.stderr! })) if (line.includes('listening on port')) break;
  return { url: `http://127.0.0.1:${port}/mcp` };
}
