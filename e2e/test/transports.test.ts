import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { type HubProcess, nodeUp, startHub, startNode, suiteScope } from '../support/mesh.js';

describe('the hub’s MCP endpoints', { timeout: 120_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;

  before(async () => {
    hub = await startHub(scope);
    await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(new URL('/mcp', hub.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${hub.key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });

  /** The JSON-RPC message in an SSE or JSON response body. */
  const message = async (res: Response) => {
    const body = await res.text();
    const data = body.startsWith('{')
      ? body
      : body
          .split('\n')
          .find((l) => l.startsWith('data: '))
          ?.slice(6);
    return JSON.parse(data ?? 'null') as { result?: { protocolVersion: string }; error?: { message: string } };
  };

  it('serves older clients over the legacy HTTP+SSE transport', async () => {
    const auth = { authorization: `Bearer ${hub.key}` };
    const transport = new SSEClientTransport(new URL('/sse', hub.url), {
      requestInit: { headers: auth },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...auth } }) },
    });
    const client = new Client({ name: 'legacy', version: '1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'alpha__echo'));
      const result = await client.callTool({ name: 'alpha__echo', arguments: { text: 'over sse' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'over sse' }]);
    } finally {
      await client.close();
    }
  });

  it('negotiates an older protocol version a client asks for, and the current one by default', async () => {
    const init = (protocolVersion: string) => ({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    });
    assert.equal((await message(await post(init('2025-03-26')))).result?.protocolVersion, '2025-03-26');
    assert.equal((await message(await post(init('2025-11-25')))).result?.protocolVersion, '2025-11-25');
  });

  it('answers 400 without a session id, 404 for an unknown one, 401 without a key', async () => {
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    const missing = await fetch(new URL('/mcp', hub.url), { headers: { authorization: `Bearer ${hub.key}` } });
    assert.equal(missing.status, 400);
    const unknown = await post(ping, { 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
    const noKey = await fetch(new URL('/mcp', hub.url), { method: 'POST', body: JSON.stringify(ping) });
    assert.equal(noKey.status, 401);
    assert.equal(
      noKey.headers.get('www-authenticate'),
      `Bearer realm="brainmesh", resource_metadata="${hub.url}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('answers a quick call of a 2025-11-25 session as JSON, primes a slow one’s stream with event ids, and takes a cut one up again with Last-Event-ID', async () => {
    const opened = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    });
    const session = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };

    const quick = await post(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'alpha__echo', arguments: { text: 'hi' } } },
      headers,
    );
    assert.equal(quick.headers.get('content-type'), 'application/json', 'answered before it was worth a stream');
    await quick.text();
    // A call with nothing to say for a second: its answer becomes a stream while it runs.
    const slow = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'alpha__wait', arguments: { seconds: 1, steps: 1 } },
      },
      headers,
    );
    assert.equal(slow.headers.get('content-type'), 'text/event-stream');
    const blocks = (await slow.text()).split('\n\n').filter((b) => b !== '');
    assert.match(blocks[0]!, /^id: \S+\ndata: $/, 'a priming event: an id, no data');
    assert.match(blocks[1]!, /^event: message\nid: \S+\ndata: \{.*"id":2/, 'the answer, with an id of its own');

    const waiting = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'alpha__wait', arguments: { seconds: 1, steps: 2 }, _meta: { progressToken: 'p' } },
      },
      headers,
    ).then((res) => res.body!.pipeThrough(new TextDecoderStream()).getReader());
    const primed = (await waiting.read()).value!;
    const lastEventId = /^id: (\S+)/.exec(primed)![1]!;
    // The client's connection breaks with the call still running.
    await waiting.cancel();

    const resumed = await fetch(new URL('/mcp', hub.url), {
      headers: {
        authorization: `Bearer ${hub.key}`,
        accept: 'text/event-stream',
        'last-event-id': lastEventId,
        ...headers,
      },
    });
    assert.equal(resumed.status, 200);
    const reader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"id":3')) text += (await reader.read()).value ?? '';
    await reader.cancel();
    const messages = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map(
        (l) =>
          JSON.parse(l.slice(6)) as { method?: string; id?: number; result?: { content: Array<{ text: string }> } },
      );
    assert.deepEqual(
      messages.map((m) => m.method ?? `answer ${m.id}`),
      ['notifications/progress', 'notifications/progress', 'answer 3'],
      'everything after the priming event, though the client left before any of it',
    );
    assert.equal(messages.at(-1)!.result!.content[0]!.text, 'waited 1 s in 2 steps');
  });

  it('answers a call of a session before 2025-11-25 as JSON when nothing comes before the answer, on a stream when progress does, and ends a session on DELETE', async () => {
    const opened = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    });
    const session = opened.headers.get('mcp-session-id');
    assert.ok(session !== null, 'an initialize opens a session');
    await opened.text();
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    assert.equal(initialized.status, 202, 'notifications alone are accepted with no body');

    const plain = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'alpha__echo', arguments: { text: 'hi' } } },
      headers,
    );
    assert.equal(plain.headers.get('content-type'), 'application/json');
    assert.equal(plain.headers.get('mcp-session-id'), session);
    const answer = (await plain.json()) as { id: number; result: { content: Array<{ text: string }> } };
    assert.deepEqual([answer.id, answer.result.content[0]?.text], [2, 'hi']);

    const waited = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'alpha__wait', arguments: { seconds: 0, steps: 2 }, _meta: { progressToken: 'p' } },
      },
      headers,
    );
    assert.equal(waited.headers.get('content-type'), 'text/event-stream');
    const events = (await waited.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { method?: string; id?: number });
    assert.deepEqual(
      events.map((e) => e.method ?? `answer ${e.id}`),
      ['notifications/progress', 'notifications/progress', 'answer 3'],
    );

    const stream = await fetch(new URL('/mcp', hub.url), {
      headers: { authorization: `Bearer ${hub.key}`, accept: 'text/event-stream', ...headers },
    });
    assert.equal(stream.status, 200);
    const second = await fetch(new URL('/mcp', hub.url), {
      headers: { authorization: `Bearer ${hub.key}`, accept: 'text/event-stream', ...headers },
    });
    assert.equal(second.status, 409, 'one GET stream per session');
    await second.text();

    const ended = await fetch(new URL('/mcp', hub.url), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${hub.key}`, ...headers },
    });
    assert.equal(ended.status, 200);
    assert.equal(await stream.text(), '', 'the GET stream ends with the session');
    const gone = await post({ jsonrpc: '2.0', id: 4, method: 'ping' }, headers);
    assert.equal(gone.status, 404);
  });
});
