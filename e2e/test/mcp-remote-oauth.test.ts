import assert from 'node:assert/strict';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { admin, nodeUp, startHub, startNode } from '../support/mesh.js';
import { consentFields, submitConsent, TEST_PASSWORD } from '../support/oauth.js';

const mcpRemote = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/mcp-remote');
const PASSWORD = TEST_PASSWORD;

describe('Claude Desktop’s bridge signing in with OAuth', { timeout: 180_000 }, () => {
  it('mcp-remote discovers the hub’s authorization server, registers, signs in and lists the tools', async (t) => {
    const hub = await startHub(t);
    await startNode(t, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    assert.equal((await admin(hub, 'POST', '/admin/users', { username: 'ana', password: PASSWORD })).status, 201);

    const config = tempDir('mcp-remote-oauth');
    t.after(config.remove);
    // No header: mcp-remote meets a 401 and runs the whole MCP authorization flow.
    const transport = new StdioClientTransport({
      command: mcpRemote,
      args: [`${hub.url}/mcp`],
      env: { PATH: process.env.PATH ?? '', HOME: config.dir, MCP_REMOTE_CONFIG_DIR: config.dir, BROWSER: 'true' },
      stderr: 'pipe',
    });
    const stderr = createInterface({ input: transport.stderr as unknown as NodeJS.ReadableStream });
    const authorizeUrl = new Promise<string>((resolve) => {
      stderr.on('line', (line) => {
        if (line.startsWith(`${hub.url}/oauth/authorize?`)) resolve(line.trim());
      });
    });
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1' });
    const connected = client.connect(transport);
    t.after(() => client.close());

    // The browser step, done by hand: open the page, sign in, allow, follow the redirect home.
    const url = await authorizeUrl;
    const page = await (await fetch(url)).text();
    assert.match(page, /Allow .* to use brainmesh\?/);
    const hidden = consentFields(page);
    const allowed = await submitConsent(hub.url, { ...hidden, username: 'ana', password: PASSWORD, decision: 'allow' });
    assert.equal(allowed.status, 302);
    const callback = new URL(allowed.headers.get('location')!);
    assert.ok(['localhost', '127.0.0.1'].includes(callback.hostname), `callback to ${callback}`);
    await (await fetch(callback)).text();

    await connected;
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'alpha__echo'));
    const info = await client.callTool({ name: 'alpha__node_info', arguments: {} });
    assert.equal((info.structuredContent as { principal: string }).principal, 'user:ana');
  });
});
