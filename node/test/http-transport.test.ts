import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from '@brainmesh/shared/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { HttpClientTransport } from '../src/mounts/http-transport.js';
import { serveMounted } from './support/mounted-server.js';

async function connect(t: TestContext, url: URL, headers = { authorization: 'Bearer mount-secret' }) {
  const client = new Client({ name: 'node', version: '1' });
  const transport = new HttpClientTransport(url, headers);
  await client.connect(transport);
  t.after(() => client.close());
  return { client, transport };
}

describe('the HTTP transport to a mounted server', () => {
  it('sets up a session, lists and calls tools, with the configured headers on every request', async (t) => {
    const { url } = await serveMounted(t);
    const { client, transport } = await connect(t, url);
    assert.ok(transport.sessionId, 'the server’s session id is kept');
    assert.deepEqual(
      (await client.listTools()).tools.map((tool) => tool.name),
      ['echo', 'slow', 'hold', 'ask'],
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } })),
    );
    assert.deepEqual(
      answers.map((a) => (a.content as Array<{ text: string }>)[0]?.text),
      Array.from({ length: 20 }, (_, i) => `hi ${i}`),
    );
  });

  it('carries progress on the answer’s stream, before the answer', async (t) => {
    const { url } = await serveMounted(t);
    const { client } = await connect(t, url);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: {} }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'done');
    assert.deepEqual(progress, [1, 2, 3]);
  });

  it('hears the server’s own notifications on its stream', async (t) => {
    const { url, server } = await serveMounted(t);
    const { client } = await connect(t, url);
    let heard = false;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      heard = true;
    });
    // The GET stream opens just after the session is set up, and what the server sends on it
    // before then is not kept: sent again until it is heard.
    await eventually(async () => {
      server().sendToolListChanged();
      return heard;
    });
  });

  it('fails with the server’s status when it refuses', async (t) => {
    const { url } = await serveMounted(t);
    const client = new Client({ name: 'node', version: '1' });
    await assert.rejects(client.connect(new HttpClientTransport(url, {})), /HTTP 401/);
  });
});
