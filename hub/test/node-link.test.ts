import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createLogger, KeyRing, RpcError } from '@brainmesh/shared';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { linkFault, NodeLink, type SessionPeer } from '../src/mesh/node-link.js';
import type { NodeRecord } from '../src/registry.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const settings = {
  callTimeoutMs: 60_000,
  healthIntervalMs: 600_000,
  healthTimeoutMs: 500,
  breakerFailures: 5,
  breakerHalfOpenMs: 10_000,
  maxMessageDepth: 64,
  maxMessageBytes: 1_000_000,
};
const peer: SessionPeer = { id: 's1', principal: 'key:abc', connect: async () => ({}) as Client };

async function upLink(t: TestContext) {
  const ring = await KeyRing.ephemeral();
  let now = Date.parse('2026-12-02T10:00:00.000Z');
  const record: NodeRecord = {
    id: 'devmcp',
    // Nothing listens on the discard port: a health check finds the node down, never up.
    url: 'http://127.0.0.1:9',
    jwks: ring.jwks(),
    status: 'enabled',
    enrolledAt: new Date(),
    updatedAt: new Date(),
  };
  const link = new NodeLink(record, { hubId: 'hub', ring, logger, settings, now: () => now });
  link.status = 'up';
  t.after(() => link.stop());
  return { link, record, advance: (ms: number) => (now += ms) };
}

const failWith = (err: unknown) => async () => {
  throw err;
};
const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );

describe('node link', () => {
  it('a caller’s absurd input is not the node’s failure: the circuit stays closed', async (t) => {
    const { link } = await upLink(t);
    for (let i = 0; i < 20; i++) {
      const r = await outcome(link.call(peer, failWith(new RangeError('Maximum call stack size exceeded'))));
      assert.ok(!r.ok && r.err instanceof RangeError, 'the fault passes through as it is, for the caller to log');
    }
    assert.deepEqual(link.circuitView(), { state: 'closed' });
    assert.equal((await outcome(link.call(peer, async () => 'answer'))).ok, true);
  });

  it('the node’s own JSON-RPC error is an answer, relayed in its bare words', async (t) => {
    const { link } = await upLink(t);
    for (let i = 0; i < 10; i++) {
      const r = await outcome(link.call(peer, failWith(new McpError(-32602, 'MCP error -32602: unknown prompt x'))));
      assert.ok(!r.ok && r.err instanceof RpcError);
      assert.deepEqual([(r.err as RpcError).code, (r.err as RpcError).message], [-32602, 'unknown prompt x']);
    }
    const stack = new McpError(-32603, 'TypeError: kept-inside-the-node\n    at call (/srv/node_modules/y/lib.js:3:4)');
    const internal = await outcome(link.call(peer, failWith(stack)));
    assert.ok(!internal.ok && internal.err instanceof RpcError);
    assert.equal(internal.err.message, 'node devmcp failed to serve the request (internal error; see its log)');
    const long = await outcome(link.call(peer, failWith(new McpError(-32602, `bad ${'x'.repeat(5_000)}\nmore`))));
    assert.ok(!long.ok && long.err instanceof RpcError);
    assert.equal(long.err.message.length, 501, 'the first line, cut');
    assert.deepEqual(link.circuitView(), { state: 'closed' });
  });

  it('link failures open it; it half-opens on schedule, one trial goes through, and a success closes it', async (t) => {
    const { link, advance } = await upLink(t);
    const timeout = new McpError(ErrorCode.RequestTimeout, 'Request timed out');
    for (let i = 0; i < 5; i++) {
      const r = await outcome(link.call(peer, failWith(timeout)));
      assert.ok(!r.ok);
      assert.equal((r.err as Error).message, 'node devmcp did not answer within 60 s');
    }
    assert.deepEqual(link.circuitView(), {
      state: 'open',
      since: '2026-12-02T10:00:00.000Z',
      retryAt: '2026-12-02T10:00:10.000Z',
    });
    let ran = false;
    const refused = await outcome(
      link.call(peer, async () => {
        ran = true;
      }),
    );
    assert.equal(ran, false, 'refused before anything is sent');
    assert.ok(!refused.ok);
    assert.equal(
      (refused.err as Error).message,
      'node devmcp is failing (circuit open since 2026-12-02T10:00:00.000Z); it will be tried again at 2026-12-02T10:00:10.000Z',
    );

    advance(10_000);
    assert.deepEqual(link.circuitView(), { state: 'half-open', since: '2026-12-02T10:00:00.000Z' });
    let release: () => void = () => {};
    const trial = link.call(peer, () => new Promise<string>((resolve) => (release = () => resolve('back'))));
    const meanwhile = await outcome(link.call(peer, async () => 'other'));
    assert.ok(!meanwhile.ok);
    assert.match((meanwhile.err as Error).message, /a trial call is under way/);
    release();
    assert.equal(await trial, 'back');
    assert.deepEqual(link.circuitView(), { state: 'closed' });
    assert.equal(await link.call(peer, async () => 'open for all'), 'open for all');
  });

  it('a node that went down under a call says so, and it counts', async (t) => {
    const { link } = await upLink(t);
    const r = await outcome(link.call(peer, failWith(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'))));
    assert.ok(!r.ok);
    assert.equal((r.err as Error).message, 'node devmcp went down during the call; it may or may not have run');
  });

  it('only 5xx of the node’s HTTP answers count; a lost session is dropped, not counted', async (t) => {
    const { link } = await upLink(t);
    for (let i = 0; i < 10; i++)
      await outcome(link.call(peer, failWith(new StreamableHTTPError(404, 'Session not found'))));
    for (let i = 0; i < 10; i++) await outcome(link.call(peer, failWith(new StreamableHTTPError(401, 'Unauthorized'))));
    assert.deepEqual(link.circuitView(), { state: 'closed' });
    for (let i = 0; i < 5; i++) await outcome(link.call(peer, failWith(new StreamableHTTPError(502, 'Bad Gateway'))));
    assert.equal(link.circuitView().state, 'open');
  });

  it('an operator’s reset, or the node disabled and enabled again, closes it', async (t) => {
    const { link, record } = await upLink(t);
    const open = async () => {
      for (let i = 0; i < 5; i++) await outcome(link.call(peer, failWith(new StreamableHTTPError(503, 'busy'))));
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
});

describe('link faults', () => {
  it('tell the link’s failures from answers and from faults of the hub’s own', () => {
    const fetchFailed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: { code } });
    assert.deepEqual(linkFault(fetchFailed('ECONNREFUSED')), { kind: 'refused' });
    assert.deepEqual(linkFault(fetchFailed('ECONNRESET')), { kind: 'dropped' });
    assert.deepEqual(linkFault(fetchFailed('UND_ERR_SOCKET')), { kind: 'dropped' });
    assert.deepEqual(linkFault(new McpError(ErrorCode.RequestTimeout, 'x')), { kind: 'timeout' });
    assert.deepEqual(linkFault(new McpError(ErrorCode.ConnectionClosed, 'x')), { kind: 'dropped' });
    assert.deepEqual(linkFault(new McpError(ErrorCode.InvalidParams, 'x')), { kind: 'answer' });
    assert.deepEqual(linkFault(new StreamableHTTPError(500, 'x')), { kind: 'http', status: 500 });
    assert.deepEqual(linkFault(new RangeError('Maximum call stack size exceeded')), { kind: 'other' });
    assert.deepEqual(linkFault(new TypeError('Cannot read properties of undefined')), { kind: 'other' });
  });
});
