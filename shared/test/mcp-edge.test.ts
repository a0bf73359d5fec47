import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exceeds, inspectBody, inspectMessage } from '../src/mcp-edge.js';

const bounds = { maxDepth: 64, maxBytes: 10_000 };

/** `{"a":{"a":…1…}}` `levels` objects deep, built as text and parsed, as a body arrives. */
const nested = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

const call = (args: unknown, id: unknown = 7) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'devmcp__echo', arguments: args },
});

describe('edge bounds', () => {
  it('measure depth and JSON size without recursion, at any depth', () => {
    assert.equal(exceeds(nested(64), bounds), undefined, '64 levels, the first being the value itself');
    assert.deepEqual(exceeds(nested(65), bounds), { limit: 'depth', path: `${`${'a.'.repeat(63)}a`.slice(0, 64)}…` });
    // Deep enough to overflow any recursive walk (and JSON.stringify) several times over.
    assert.equal(exceeds(nested(1_000_000), { maxDepth: 2_000_000, maxBytes: 100_000_000 }), undefined);
    assert.equal(exceeds(JSON.parse(`${'['.repeat(500_000)}${']'.repeat(500_000)}`), bounds)?.limit, 'depth');
  });

  it('count size as JSON.stringify writes it, escapes and UTF-8 included', () => {
    for (const value of [
      { text: 'plain', n: 12.5, ok: true, none: null, list: [1, 'two', false] },
      { quote: '"\\\n\t\u0001', emoji: 'naïve ☕ 🚀', nested: [{}, [], { a: [] }] },
    ]) {
      const size = Buffer.byteLength(JSON.stringify(value));
      assert.equal(exceeds(value, { maxDepth: 64, maxBytes: size }), undefined, JSON.stringify(value));
      assert.deepEqual(exceeds(value, { maxDepth: 64, maxBytes: size - 1 }), { limit: 'size' }, JSON.stringify(value));
    }
  });
});

describe('edge inspection', () => {
  it('refuses a bad id as an invalid request, with no id to answer', () => {
    for (const id of [{}, [], null, 1.5, true]) {
      const refusal = inspectMessage(call({}, id), bounds);
      assert.deepEqual(refusal, {
        id: null,
        code: -32600,
        message: 'invalid request: "id" must be a string or an integer',
      });
    }
    assert.equal(inspectMessage({ jsonrpc: '1.0', id: 1, method: 'ping' }, bounds)?.code, -32600);
    assert.equal(inspectMessage('ping', bounds)?.code, -32600);
    assert.equal(inspectMessage({ jsonrpc: '2.0', id: 1 }, bounds)?.code, -32600, 'neither request nor response');
    assert.equal(inspectBody([], bounds)?.code, -32600);
    // The SDK would answer these with a parse error (-32700), though the body parses.
    assert.deepEqual(inspectMessage({ jsonrpc: '2.0', id: 'x', method: 'nope', params: true }, bounds), {
      id: 'x',
      code: -32600,
      message: 'invalid request: "params" must be an object',
    });
  });

  it('refuses arguments past the bounds as invalid params naming the limit and the setting', () => {
    const deep = inspectMessage(call({ deep: nested(10_000) }), bounds);
    assert.equal(deep?.id, 7);
    assert.equal(deep?.code, -32602);
    assert.match(
      deep?.message ?? '',
      /^the message is nested deeper than 64 levels \(at params\.arguments\.deep\.a\.a.*…\); the hub takes at most 64 \(links\.maxMessageDepth\)$/,
    );
    const big = inspectMessage(call({ text: 'x'.repeat(20_000) }), bounds);
    assert.equal(big?.code, -32602);
    assert.match(big?.message ?? '', /larger than 10000 bytes as JSON.*links\.maxMessageBytes/);
    // The same bounds hold for what is not a tool call: a prompt, an initialize, a notification.
    assert.equal(
      inspectMessage(
        { jsonrpc: '2.0', id: 'p', method: 'prompts/get', params: { name: 'x', arguments: nested(100) } },
        bounds,
      )?.code,
      -32602,
    );
    const notification = inspectMessage({ jsonrpc: '2.0', method: 'notifications/x', params: nested(100) }, bounds);
    assert.deepEqual([notification?.id, notification?.code], [null, -32602]);
  });

  it('refuses params of the wrong shape in words, not zod’s JSON', () => {
    const refusal = inspectMessage(call('str'), bounds);
    assert.deepEqual(refusal, {
      id: 7,
      code: -32602,
      message: 'invalid tools/call request: params.arguments: expected an object, received string',
    });
    const noName = inspectMessage({ jsonrpc: '2.0', id: 8, method: 'prompts/get', params: {} }, bounds);
    assert.equal(noName?.code, -32602);
    assert.match(noName?.message ?? '', /^invalid prompts\/get request: params\.name: expected string/);
  });

  it('lets a good message, a response and an unknown method through', () => {
    assert.equal(inspectMessage(call({ text: 'hello', nested: nested(20) }), bounds), undefined);
    assert.equal(inspectMessage({ jsonrpc: '2.0', id: 3, result: {} }, bounds), undefined);
    assert.equal(inspectMessage({ jsonrpc: '2.0', id: 4, method: 'nope/nope', params: { a: 5 } }, bounds), undefined);
    assert.equal(inspectBody([call({}), { jsonrpc: '2.0', method: 'notifications/initialized' }], bounds), undefined);
  });
});
