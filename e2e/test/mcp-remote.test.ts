import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { nodeUp, startHub, startNode } from '../support/mesh.js';

const mcpRemote = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/mcp-remote');

describe('Claude Desktop through mcp-remote, with an API key', { timeout: 120_000 }, () => {
  it('lists and calls the mesh’s tools over the bridge Claude Desktop runs', async (t) => {
    const hub = await startHub(t);
    await startNode(t, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    const config = tempDir('mcp-remote');
    t.after(config.remove);
    // Exactly the command and arguments of the README's claude_desktop_config.json snippet.
    const transport = new StdioClientTransport({
      command: mcpRemote,
      args: [`${hub.url}/mcp`, '--header', `Authorization: Bearer ${hub.key}`],
      env: { PATH: process.env.PATH ?? '', HOME: config.dir, MCP_REMOTE_CONFIG_DIR: config.dir },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1' });
    await client.connect(transport);
    t.after(() => client.close());
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'alpha__echo'));
    const result = await client.callTool({ name: 'alpha__echo', arguments: { text: 'via mcp-remote' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'via mcp-remote' }]);
  });
});
