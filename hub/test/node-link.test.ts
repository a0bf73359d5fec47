import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Envelope, RpcError } from '@brainmesh/shared';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { LinkDropped, LinkUnsent } from '../src/mesh/link-requests.js';
import { linkFault, type SessionPeer } from '../src/mesh/node-link.js';
import { linkPair } from './support/link-pair.js';

const peer: SessionPeer = {
  id: 's1',
  principal: 'key:abc',
  clientMeta: () => ({ capabilities: { sampling: {} }, info: { name: 'test', version: '1' } }),
  request: async () => ({}),
  notify: () => {},
};

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
const echo = (link: Awaited<ReturnType<typeof linkPair>>['link']) =>
  link.call(peer, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, {});

describe('node link', () => {
  it('sends each request with the session’s principal, trace id and client, and passes the result on as sent', async (t) => {
    const { link, seen } = await linkPair(t, () => ({ result: { content: [{ type: 'text', text: 'hi' }], extra: 1 } }));
    const result = await link.call(peer, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, { traceId: 't-1' });
    assert.deepEqual(result, { content: [{ type: 'text', text: 'hi' }], extra: 1 }, 'not rebuilt on the way');
    const sent = seen.find((e) => (e.m as { method?: string }).method === 'tools/call')!;
    assert.equal(sent.ch, 's1');
    assert.equal(sent.p, 'key:abc');
    assert.equal(sent.tr, 't-1');
    const meta = (sent.m as { params: { _meta: Record<string, unknown> } }).params._meta;
    assert.deepEqual(meta['io.modelcontextprotocol/clientCapabilities'], { sampling: {} });
    assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'test', version: '1' });
    assert.equal(typeof meta['io.modelcontextprotocol/protocolVersion'], 'string');
  });

  it('relays the node’s own JSON-RPC error in its bare words, never its internals; the circuit stays closed', async (t) => {
    let answer: { code: number; message: string } = { code: -32602, message: 'unknown prompt x' };
    const { link } = await linkPair(t, () => ({ error: answer }));
    for (let i = 0; i < 10; i++) {
      const r = await outcome(echo(link));
      assert.ok(!r.ok && r.err instanceof RpcError);
      assert.deepEqual([r.err.code, r.err.message], [-32602, 'unknown prompt x']);
    }
    answer = { code: -32603, message: 'TypeError: kept-inside-the-node\n    at call (/srv/node_modules/y/lib.js:3:4)' };
    const internal = await outcome(echo(link));
    assert.ok(!internal.ok && internal.err instanceof RpcError);
    assert.equal(internal.err.message, 'node devmcp failed to serve the request (internal error; see its log)');
    answer = { code: -32602, message: `bad ${'x'.repeat(5_000)}\nmore` };
    const long = await outcome(echo(link));
    assert.ok(!long.ok && long.err instanceof RpcError);
    assert.equal(long.err.message.length, 501, 'the first line, cut');
    assert.deepEqual(link.circuitView(), { state: 'closed' });
  });

  it('timeouts open the circuit; it half-opens on schedule, one trial goes through, and a success closes it', async (t) => {
    let now = Date.parse('2026-12-02T10:00:00.000Z');
    let mode: 'silent' | 'answer' | 'hold' = 'silent';
    let release: () => void = () => {};
    const held: Array<() => void> = [];
    const pair = await linkPair(
      t,
      (_method, _params, envelope) => {
        if (mode === 'answer') return { result: { content: [] } };
        if (mode === 'hold') {
          const id = (envelope.m as { id: number }).id;
          held.push(() => pair.node.send({ ch: envelope.ch, m: { jsonrpc: '2.0', id, result: { content: [] } } }));
        }
        return 'silent';
      },
      { settings: { callTimeoutMs: 50 }, now: () => now },
    );
    const { link } = pair;
    for (let i = 0; i < 5; i++) {
      const r = await outcome(echo(link));
      assert.ok(!r.ok);
      assert.equal((r.err as Error).message, 'node devmcp did not answer within 0.05 s');
    }
    assert.deepEqual(link.circuitView(), {
      state: 'open',
      since: '2026-12-02T10:00:00.000Z',
      retryAt: '2026-12-02T10:00:10.000Z',
    });
    const refused = await outcome(echo(link));
    assert.ok(!refused.ok);
    assert.equal(
      (refused.err as Error).message,
      'node devmcp is failing (circuit open since 2026-12-02T10:00:00.000Z); it will be tried again at 2026-12-02T10:00:10.000Z',
    );
    now += 10_000;
    assert.deepEqual(link.circuitView(), { state: 'half-open', since: '2026-12-02T10:00:00.000Z' });
    mode = 'hold';
    const trial = link.call(peer, 'tools/call', { name: 'echo' }, {});
    const meanwhile = await outcome(echo(link));
    assert.ok(!meanwhile.ok);
    assert.match((meanwhile.err as Error).message, /a trial call is under way/);
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    release = held[0]!;
    release();
    assert.deepEqual(await trial, { content: [] });
    assert.deepEqual(link.circuitView(), { state: 'closed' });
    mode = 'answer';
    assert.deepEqual(await echo(link), { content: [] });
  });

  it('a node that goes down under a call says so at once, and it counts', async (t) => {
    const { link } = await linkPair(t, () => 'drop');
    const r = await outcome(echo(link));
    assert.ok(!r.ok);
    assert.equal((r.err as Error).message, 'node devmcp went down during the call; it may or may not have run');
    assert.equal(link.status, 'down');
    const after = await outcome(echo(link));
    assert.ok(!after.ok);
    assert.match((after.err as Error).message, /^node devmcp is down \(since /);
  });

  it('carries progress back, and a cancelled call tells the node to stop', async (t) => {
    let release: (() => void) | undefined;
    const pair = await linkPair(t, (_m, params, envelope) => {
      const token = (params._meta as { progressToken?: number }).progressToken;
      pair.node.send({
        ch: envelope.ch,
        m: {
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1, total: 2 },
        },
      });
      release = () => {};
      return 'silent';
    });
    const progress: unknown[] = [];
    const controller = new AbortController();
    const call = outcome(
      pair.link.call(
        peer,
        'tools/call',
        { name: 'wait' },
        { signal: controller.signal, onprogress: (p) => progress.push(p) },
      ),
    );
    while (progress.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(progress, [{ progress: 1, total: 2 }]);
    assert.ok(release !== undefined);
    controller.abort(new Error('user pressed stop'));
    const r = await call;
    assert.ok(!r.ok);
    while (!pair.seen.some((e) => (e.m as { method?: string }).method === 'notifications/cancelled'))
      await new Promise((resolve) => setImmediate(resolve));
    const cancel = pair.seen.find((e) => (e.m as { method?: string }).method === 'notifications/cancelled')!;
    assert.equal(cancel.ch, 's1');
    assert.deepEqual(link(pair).circuitView(), { state: 'closed' }, 'a cancelled call is not the node’s failure');
  });

  it('lets a node call through the hub only during a request of that session’s, with its trace and chain', async (t) => {
    const asked: { method: string; trace?: string | undefined; chain: readonly string[] }[] = [];
    const recording: SessionPeer = {
      ...peer,
      request: async (method, _params, context) => {
        asked.push({ method, trace: context.traceId, chain: context.chain });
        return { content: [{ type: 'text', text: 'inner answer' }] };
      },
    };
    const answers = new Map<number, unknown>();
    let during: ((envelope: Envelope) => void) | undefined;
    const pair = await linkPair(t, (_m, _params, envelope) => {
      during?.(envelope);
      return 'silent';
    });
    pair.node.on('message', (e) => {
      const m = e.m as { id?: number; method?: string };
      if (m.method === undefined && typeof m.id === 'number' && m.id >= 900) answers.set(m.id, m);
    });
    const innerCall = (id: number, re?: number) =>
      pair.node.send({
        ch: 's1',
        ...(re === undefined ? {} : { re }),
        m: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'beta__echo', arguments: {} } },
      });
    // During the hub's request: served, as the session, under the outer trace, from this node.
    during = (envelope) => innerCall(901, (envelope.m as { id: number }).id);
    const controller = new AbortController();
    void outcome(
      link(pair).call(recording, 'tools/call', { name: 'ask' }, { traceId: 'outer-trace', signal: controller.signal }),
    );
    while (!answers.has(901)) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(asked, [{ method: 'tools/call', trace: 'outer-trace', chain: ['devmcp'] }]);
    assert.deepEqual((answers.get(901) as { result: unknown }).result, {
      content: [{ type: 'text', text: 'inner answer' }],
    });
    controller.abort();
    // With no request of the hub's in flight (the session known from before): refused.
    during = undefined;
    innerCall(902);
    innerCall(903, 12_345);
    while (!answers.has(902) || !answers.has(903)) await new Promise((resolve) => setImmediate(resolve));
    for (const id of [902, 903]) {
      assert.match(
        (answers.get(id) as { error: { message: string } }).error.message,
        /^a node may call tools through the hub only during a request the hub made to it/,
      );
    }
    assert.equal(asked.length, 1);
  });

  it('an operator’s reset, or the node disabled and enabled again, closes it', async (t) => {
    const { link, record } = await linkPair(t, () => 'silent', { settings: { callTimeoutMs: 20 } });
    const open = async () => {
      for (let i = 0; i < 5; i++) await outcome(echo(link));
      assert.equal(link.circuitView().state, 'open');
    };
    await open();
    link.resetCircuit();
    assert.deepEqual(link.circuitView(), { state: 'closed' });
    await open();
    link.update({ ...record, status: 'disabled' });
    link.update({ ...record, status: 'enabled' });
    assert.deepEqual(link.circuitView(), { state: 'closed' });
  });

  it('closes the link at once when the node is disabled, and refuses calls after', async (t) => {
    const { link, record, node } = await linkPair(t, () => ({ result: { content: [] } }));
    const closed = new Promise<[number, string]>((resolve) => node.once('close', (c, r) => resolve([c, r])));
    link.update({ ...record, status: 'disabled' });
    assert.deepEqual(await closed, [4403, 'node disabled']);
    const r = await outcome(echo(link));
    assert.ok(!r.ok);
    assert.equal((r.err as Error).message, 'node devmcp is disabled by an operator');
  });
});

function link(pair: Awaited<ReturnType<typeof linkPair>>) {
  return pair.link;
}

describe('link faults', () => {
  it('tell the link’s failures from answers and from faults of the hub’s own', () => {
    assert.deepEqual(linkFault(new LinkDropped('x')), { kind: 'dropped' });
    assert.deepEqual(linkFault(new LinkUnsent()), { kind: 'unsent' });
    assert.deepEqual(linkFault(new McpError(ErrorCode.RequestTimeout, 'x')), { kind: 'timeout' });
    assert.deepEqual(linkFault(new McpError(ErrorCode.InvalidParams, 'x')), { kind: 'answer' });
    assert.deepEqual(linkFault(new RangeError('Maximum call stack size exceeded')), { kind: 'other' });
    assert.deepEqual(linkFault(new TypeError('Cannot read properties of undefined')), { kind: 'other' });
  });
});
