import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { realServers } from '@brainmesh/shared/testing';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  admin,
  connectModernClient,
  type HubProcess,
  limitWindowSeconds,
  type NodeProcess,
  nodeUp,
  realStorage,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/**
 * Two hub replicas on one Postgres and one Redis, sharing nothing else but their key file: a
 * 2025-era session opened on one is served by the other (its record is in the store), and a
 * 2026-era client needs nothing of either. Only with real Postgres and Redis: two processes on
 * embedded storage share nothing, by design.
 */

const { databaseUrl, redisUrl } = realServers();

if (databaseUrl !== undefined && redisUrl !== undefined) {
  describe('a 2025-era session across hub replicas', { timeout: 180_000 }, () => {
    const ctx = suiteScope();
    after(() => ctx.dispose());
    let a: HubProcess;
    let b: HubProcess;
    let alpha: NodeProcess;

    /** A v1 client on `hub`, continuing `sessionId` if given (no initialize), else opening one. */
    async function sessionOn(hub: HubProcess, sessionId?: string, key = a.key) {
      const client = new Client({ name: 'e2e', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
        ...(sessionId === undefined ? {} : { sessionId }),
      });
      await client.connect(transport);
      ctx.after(() => client.close());
      return { client, transport };
    }

    before(async () => {
      const real = await realStorage(ctx, { databaseUrl, redisUrl });
      // Six writes a window per principal, counted across replicas; a window the tests cannot run across.
      const limits = { windowSeconds: limitWindowSeconds(), toolCalls: { read: 100_000, write: 6, destructive: 30 } };
      a = await startHub(ctx, { real, limits });
      // The second replica: the same storage, and the first one's home for its key file.
      b = await startHub(ctx, { real, limits, home: a.home });
      alpha = await startNode(ctx, a, { name: 'alpha' });
      await Promise.all([nodeUp(a, 'alpha'), nodeUp(b, 'alpha')]);
    });

    it('serves a session opened on one replica from the other, with the client it declared', async () => {
      const opened = await sessionOn(a);
      const sessionId = opened.transport.sessionId;
      assert.ok(sessionId);
      assert.equal(text(await opened.client.callTool({ name: 'alpha__echo', arguments: { text: 'on a' } })), 'on a');

      const elsewhere = await sessionOn(b, sessionId);
      const { tools } = await elsewhere.client.listTools();
      assert.ok(tools.some((t) => t.name === 'alpha__echo'));
      assert.equal(text(await elsewhere.client.callTool({ name: 'alpha__echo', arguments: { text: 'on b' } })), 'on b');
      // The session's client said at initialize (on a) that it can be asked: b asks it.
      const confirmed = await elsewhere.client.callTool({ name: 'alpha__confirm', arguments: { question: 'ok?' } });
      assert.deepEqual(JSON.parse(text(confirmed)), { action: 'accept', ok: true });
      // And b took it up from the store; it did not open another.
      await b.proc.waitFor<{ msg: string; session: string }>(
        (l) => l.msg === 'session taken up from the store' && l.session === sessionId,
      );
    });

    it('goes on from the other replica when the one that opened it is killed', async () => {
      const opened = await sessionOn(a);
      const sessionId = opened.transport.sessionId!;
      await opened.client.callTool({ name: 'alpha__echo', arguments: { text: 'before' } });
      await a.proc.stop('SIGKILL');
      const after = await sessionOn(b, sessionId);
      assert.equal(text(await after.client.callTool({ name: 'alpha__echo', arguments: { text: 'after' } })), 'after');
      a = await a.restart();
      await nodeUp(a, 'alpha');
    });

    /** Opens a session on `hub` with a raw initialize (2025-11-25), as a client would. */
    async function rawSession(hub: HubProcess): Promise<string> {
      const res = await fetch(new URL('/mcp', hub.url), {
        method: 'POST',
        headers: sessionHeaders(hub.key),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        }),
      });
      assert.equal(res.status, 200);
      await res.text();
      const sessionId = res.headers.get('mcp-session-id');
      assert.ok(sessionId);
      return sessionId;
    }

    it('takes up a call’s cut stream on the other replica and delivers the rest, result included', async () => {
      const sessionId = await rawSession(a);
      const controller = new AbortController();
      const call = await fetch(new URL('/mcp', a.url), {
        method: 'POST',
        headers: { ...sessionHeaders(a.key), 'mcp-session-id': sessionId },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'alpha__wait', arguments: { seconds: 2, steps: 4 }, _meta: { progressToken: 'p' } },
        }),
        signal: controller.signal,
      });
      assert.equal(call.headers.get('content-type'), 'text/event-stream');
      const first = sseEvents(call.body!);
      const priming = (await first.next()).value as SseEvent;
      assert.ok(priming.id, 'the stream starts with an event id');
      assert.equal(priming.data, '', 'and no data');
      const progress = (await first.next()).value as SseEvent;
      assert.equal(JSON.parse(progress.data).method, 'notifications/progress');
      // The client's connection breaks with the call still running.
      controller.abort();

      const resumed = await fetch(new URL('/mcp', b.url), {
        headers: {
          ...sessionHeaders(b.key),
          'mcp-session-id': sessionId,
          'last-event-id': progress.id!,
        },
        signal: AbortSignal.timeout(20_000),
      });
      assert.equal(resumed.status, 200);
      const seen: Array<{ id: string | undefined; message: Record<string, unknown> }> = [];
      for await (const event of sseEvents(resumed.body!)) {
        const message = JSON.parse(event.data) as Record<string, unknown>;
        seen.push({ id: event.id, message });
        if (message.id === 7) break;
      }
      const steps = seen
        .filter((e) => e.message.method === 'notifications/progress')
        .map((e) => (e.message.params as { progress: number }).progress);
      assert.deepEqual(steps, [2, 3, 4], 'the progress after the last event seen, none twice');
      const answer = seen.at(-1)!.message as { result: { content: Array<{ text: string }> } };
      assert.equal(answer.result.content[0]!.text, 'waited 2 s in 4 steps');
      assert.ok(new Set(seen.map((e) => e.id)).size === seen.length, 'each event its own id');
    });

    it('replays a stream that ended, from its replica’s memory, to a client that asks on the other; and says so of one it no longer has', async () => {
      const sessionId = await rawSession(a);
      const call = await fetch(new URL('/mcp', a.url), {
        method: 'POST',
        headers: { ...sessionHeaders(a.key), 'mcp-session-id': sessionId },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 9,
          method: 'tools/call',
          // Slow enough to be made a resumable stream.
          params: { name: 'alpha__wait', arguments: { seconds: 1, steps: 1 } },
        }),
      });
      const events: SseEvent[] = [];
      for await (const event of sseEvents(call.body!)) events.push(event);
      assert.equal(events.length, 2, 'the priming event and the answer');
      // As if the answer had not arrived: ask the other replica for what followed the priming event.
      const resume = async (lastEventId: string) => {
        const controller = new AbortController();
        const res = await fetch(new URL('/mcp', b.url), {
          headers: { ...sessionHeaders(b.key), 'mcp-session-id': sessionId, 'last-event-id': lastEventId },
          signal: controller.signal,
        });
        const event = (await sseEvents(res.body!).next()).value as SseEvent;
        controller.abort();
        return { id: event.id, message: JSON.parse(event.data) as Record<string, unknown> };
      };
      const replayed = await resume(events[0]!.id!);
      assert.equal(replayed.id, events[1]!.id, 'the same event, with its id');
      assert.deepEqual(replayed.message, JSON.parse(events[1]!.data));
      // A stream its (living) owner does not have: ended too long ago, say.
      const [owner, , ids] = events[0]!.id!.split('.');
      const gone = await resume(`${owner}.unknownnonce.${ids}.0`);
      assert.equal(gone.message.id, 9);
      assert.match((gone.message.error as { message: string }).message, /no longer keeps this stream.*try again/);
    });

    it('answers "try again" on the other replica for a call whose replica was killed under it', async () => {
      const sessionId = await rawSession(a);
      const call = await fetch(new URL('/mcp', a.url), {
        method: 'POST',
        headers: { ...sessionHeaders(a.key), 'mcp-session-id': sessionId },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'long',
          method: 'tools/call',
          params: { name: 'alpha__wait', arguments: { seconds: 60, steps: 2 } },
        }),
      });
      const priming = (await sseEvents(call.body!).next()).value as SseEvent;
      await a.proc.stop('SIGKILL');
      const controller = new AbortController();
      const resumed = await fetch(new URL('/mcp', b.url), {
        headers: { ...sessionHeaders(b.key), 'mcp-session-id': sessionId, 'last-event-id': priming.id! },
        signal: controller.signal,
      });
      const event = (await sseEvents(resumed.body!).next()).value as SseEvent;
      controller.abort();
      const message = JSON.parse(event.data) as { id: unknown; error: { message: string } };
      assert.equal(message.id, 'long', 'the answer to the request the stream carried');
      assert.match(message.error.message, /stopped before it answered.*try again/);
      a = await a.restart();
      await nodeUp(a, 'alpha');
    });

    it('refuses a Last-Event-ID that names no stream', async () => {
      const sessionId = await rawSession(b);
      const res = await fetch(new URL('/mcp', b.url), {
        headers: { ...sessionHeaders(b.key), 'mcp-session-id': sessionId, 'last-event-id': 'not-ours' },
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /Last-Event-ID/);
    });

    it('ends a session on every replica, and keeps it its principal’s', async () => {
      const opened = await sessionOn(a);
      const sessionId = opened.transport.sessionId!;
      const res = await admin(a, 'POST', '/admin/keys', { name: 'other', scopes: ['read:*'] });
      const { key: otherKey } = (await res.json()) as { key: string };
      const post = (hub: HubProcess, key: string) =>
        fetch(new URL('/mcp', hub.url), {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': sessionId,
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
      assert.equal((await post(b, otherKey)).status, 403, 'another principal, on a replica that never saw it');
      assert.equal((await post(b, a.key)).status, 200);
      await opened.transport.terminateSession();
      for (const hub of [a, b]) assert.equal((await post(hub, a.key)).status, 404, `ended on ${hub.url}`);
    });

    it('counts a principal’s calls once across replicas', async () => {
      const res = await admin(a, 'POST', '/admin/keys', { name: 'writer', scopes: ['node:alpha'] });
      const { key } = (await res.json()) as { key: string };
      const clients = [
        await connectModernClient(ctx, { url: a.url, key }),
        await connectModernClient(ctx, { url: b.url, key }),
      ];
      const answers: string[] = [];
      for (let n = 0; n < 10; n++) {
        const { client } = clients[n % 2]!;
        const result = await client.callTool({
          name: 'alpha__remember',
          arguments: { key: `k${n}`, text: `note ${n}` },
        });
        answers.push(result.isError === true ? text(result as Record<string, unknown>) : 'ok');
      }
      assert.deepEqual(
        answers.map((a) => (a === 'ok' ? 'ok' : a.startsWith('rate limited') ? 'limited' : a)),
        ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'limited', 'limited', 'limited', 'limited'],
        answers.join('\n'),
      );
    });

    it('continues a 2026-era call on the other replica when the client’s answer lands there', async () => {
      // The client's requests alternate between the replicas, as a load balancer may send them:
      // the call (asking for confirmation) on one, the answer on the other.
      let turn = 0;
      const replicas = [a, b];
      const client = new ModernClient(
        { name: 'e2e-modern', version: '1.0.0' },
        { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: true } }));
      const transport = new ModernTransport(new URL('/mcp', a.url), {
        requestInit: { headers: { authorization: `Bearer ${a.key}` } },
        fetch: (url: string | URL, init?: RequestInit) => {
          const hub = replicas[turn++ % 2]!;
          return fetch(new URL(new URL(url).pathname, hub.url), init);
        },
      });
      await client.connect(transport);
      ctx.after(() => client.close());
      const marker = `across-${Date.now()}`;
      const from = alpha.proc.stdout.length;
      const confirmed = await client.callTool({ name: 'alpha__confirm', arguments: { question: marker } });
      assert.deepEqual(JSON.parse(text(confirmed as Record<string, unknown>)), { action: 'accept', ok: true });
      // The replica that parked the call let it go when the other took it over: the node's first
      // run of it ended cancelled, its second answered.
      const runs = await until(async () => {
        const lines = alpha.proc.stdout
          .slice(from)
          .filter((l) => l.includes('"tool":"confirm"') && l.includes('"msg":"tool call"'));
        return lines.length >= 2 ? lines : undefined;
      }, 'both runs of the call on the node');
      assert.deepEqual(runs.map((l) => (JSON.parse(l) as { status: string }).status).sort(), ['cancelled', 'ok']);
    });

    it('serves 2026-era clients from either replica', async () => {
      for (const hub of [a, b]) {
        const { client } = await connectModernClient(ctx, hub);
        const echoed = await client.callTool({ name: 'alpha__echo', arguments: { text: hub.url } });
        assert.equal(text(echoed as Record<string, unknown>), hub.url);
      }
    });
  });
}

function sessionHeaders(key: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  };
}

interface SseEvent {
  id?: string;
  data: string;
}

/** The events of a server-sent event stream, comments left out, as they arrive. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let buffer = '';
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const lines = block.split('\n').filter((l) => !l.startsWith(':'));
      if (lines.length === 0) continue;
      const id = lines
        .find((l) => l.startsWith('id:'))
        ?.slice(3)
        .trim();
      const data = lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      yield id === undefined ? { data } : { id, data };
    }
  }
}
