/**
 * The third-party processes of the gateway benchmark: the reference MCP server
 * (@modelcontextprotocol/server-everything over Streamable HTTP) and the mcp-hub gateway
 * fronting it, both on 127.0.0.1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tempDir } from '@brainmesh/shared/testing';
import { type Child, freePort, startNodeScript } from './children.js';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

export interface Upstream extends Child {
  /** Its MCP endpoint. */
  url: string;
}

/** server-everything's `streamableHttp` entry: one MCP session per client at /mcp, PORT from the environment. */
export async function startEverything(): Promise<Upstream> {
  const child = await startNodeScript({
    label: 'server-everything',
    script: path.join(packageDir('@modelcontextprotocol/server-everything'), 'dist', 'index.js'),
    args: ['streamableHttp'],
    env: { PATH: process.env.PATH, PORT: '0' },
  });
  return { ...child, url: `http://127.0.0.1:${child.port}/mcp` };
}

/**
 * mcp-hub with one server, `everything`, reached by URL (Streamable HTTP). Its unified endpoint
 * is the older HTTP+SSE transport: GET /mcp opens the event stream, messages go to POST /messages.
 * Its home, state and cache folders are a temporary one, seeded with a fresh marketplace
 * catalogue so that it does not fetch one from the internet at start.
 */
export async function startMcpHub(everythingUrl: string): Promise<Upstream> {
  const home = tempDir('mcp-hub');
  try {
    const dirs = {
      HOME: home.dir,
      XDG_CONFIG_HOME: path.join(home.dir, 'config'),
      XDG_DATA_HOME: path.join(home.dir, 'data'),
      XDG_STATE_HOME: path.join(home.dir, 'state'),
    };
    const cache = path.join(dirs.XDG_DATA_HOME, 'mcp-hub', 'cache');
    mkdirSync(cache, { recursive: true });
    writeFileSync(
      path.join(cache, 'registry.json'),
      JSON.stringify({
        registry: {
          version: 'bench',
          generatedAt: Date.now(),
          totalServers: 1,
          servers: [{ id: 'none', name: 'none' }],
        },
        lastFetchedAt: Date.now(),
        serverDocumentation: {},
      }),
    );
    const config = path.join(home.dir, 'mcp-servers.json');
    writeFileSync(config, JSON.stringify({ mcpServers: { everything: { url: everythingUrl } } }));
    const child = await startNodeScript({
      label: 'mcp-hub',
      script: path.join(packageDir('mcp-hub'), 'dist', 'cli.js'),
      args: ['--port', String(await freePort()), '--config', config],
      env: { PATH: process.env.PATH, ...dirs },
      cwd: home.dir,
    });
    const base = `http://127.0.0.1:${child.port}`;
    try {
      await serversConnected(base);
    } catch (err) {
      await child.stop();
      throw err;
    }
    return {
      ...child,
      url: `${base}/mcp`,
      stop: async () => {
        await child.stop();
        home.remove();
      },
    };
  } catch (err) {
    home.remove();
    throw err;
  }
}

/** mcp-hub listens before it has connected its servers; its /api/health says when they are. */
async function serversConnected(base: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/api/health`);
      const body = (await res.json()) as { state: string; servers: Array<{ status: string }> };
      if (body.state === 'ready' && body.servers.length > 0 && body.servers.every((s) => s.status === 'connected'))
        return;
      last = JSON.stringify({ state: body.state, servers: body.servers.map((s) => s.status) });
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`mcp-hub: servers not connected within ${timeoutMs} ms (${last})`);
}
