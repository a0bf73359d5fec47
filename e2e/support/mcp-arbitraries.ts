/**
 * fast-check arbitraries for what a client may throw at an MCP endpoint: every message a client
 * sends, each with any of its fields given a value of the wrong type (or left out), batches,
 * unknown methods, bodies that are not JSON or not whole, nesting thousands of levels deep, odd
 * and oversized headers. A value of the right type somewhere keeps a request going deeper, into
 * the hub's routing and the node's tools, where a wrong one further in can still do harm.
 */
import fc from 'fast-check';
import { MCP_HEADERS, PROTOCOL_VERSION, type RawRequest } from './fuzz.js';

/** Where the target's own things are: a tool that answers at once, a prompt, a resource. */
export interface TargetNames {
  tool: string;
  prompt: string;
  resource: string;
}

/** A long run of one character, for limits on names, messages and bodies. */
const long = (n: number, c = 'x') => c.repeat(n);

/** Values of every JSON type, and some that naive code trips on. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    1.5,
    1e308,
    2 ** 53 + 2,
    '',
    ' ',
    '\u0000',
    '\ud800',
    '../../etc/passwd',
    '__proto__',
    {},
    [],
    [null],
    { constructor: { prototype: { polluted: true } } },
  ),
  fc.constantFrom(300, 10_000, 100_000).map((n) => long(n)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Each message a client sends, as a well-formed template; a property breaks one field of it. */
function clientMessages(names: TargetNames): Array<Record<string, unknown>> {
  const request = (method: string, params?: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    id: 7,
    method,
    ...(params === undefined ? {} : { params }),
  });
  const notification = (method: string, params?: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    method,
    ...(params === undefined ? {} : { params }),
  });
  return [
    request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
      clientInfo: { name: 'fuzz', version: '1' },
    }),
    request('ping'),
    request('tools/list', { cursor: 'abc' }),
    request('tools/call', {
      name: names.tool,
      arguments: { text: 'hello' },
      _meta: { progressToken: 'p-1', 'io.brainmesh/traceId': '0123456789abcdef0123456789abcdef' },
    }),
    request('tools/call', { name: 'mesh__search_tools', arguments: { query: 'echo' } }),
    request('tools/call', { name: 'mesh__describe_tool', arguments: { name: names.tool } }),
    request('resources/list', { cursor: 'abc' }),
    request('resources/templates/list', {}),
    request('resources/read', { uri: names.resource }),
    request('resources/subscribe', { uri: names.resource }),
    request('prompts/list', {}),
    request('prompts/get', { name: names.prompt, arguments: { summary: 'x' } }),
    request('completion/complete', {
      ref: { type: 'ref/prompt', name: names.prompt },
      argument: { name: 'summary', value: 'x' },
      context: { arguments: {} },
    }),
    request('logging/setLevel', { level: 'debug' }),
    notification('notifications/initialized'),
    notification('notifications/cancelled', { requestId: 7, reason: 'fuzz' }),
    notification('notifications/progress', { progressToken: 'p-1', progress: 1, total: 2 }),
    notification('notifications/roots/list_changed'),
  ];
}

/** Every path into a message, the message itself included (`[]`). */
function paths(value: unknown, prefix: string[] = []): string[][] {
  const out = [prefix];
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) out.push(...paths(inner, [...prefix, key]));
  }
  return out;
}

function breakAt(message: unknown, path: string[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : value;
  const copy = structuredClone(message) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

/**
 * A client message with one field (any field, at any depth, or the message itself) given a value
 * of another type, or left out; now and then a second field too.
 */
function brokenMessage(names: TargetNames): fc.Arbitrary<unknown> {
  const templates = clientMessages(names);
  const sites = templates.flatMap((message) => paths(message).map((path) => ({ message, path })));
  const change = fc.record({
    site: fc.constantFrom(...sites),
    value: anyValue,
    remove: fc.nat(5).map((n) => n === 0),
  });
  return fc
    .tuple(change, fc.option(fc.tuple(fc.nat(), anyValue), { freq: 4 }))
    .map(([{ site, value, remove }, second]) => {
      let broken = breakAt(site.message, site.path, value, remove);
      if (second !== null && typeof broken === 'object' && broken !== null) {
        const inner = paths(broken).filter((p) => p.length > 0);
        if (inner.length > 0) broken = breakAt(broken, inner[second[0] % inner.length]!, second[1], false);
      }
      return broken;
    });
}

/** A well-formed message with a method the target may or may not know. */
const unknownMethod: fc.Arbitrary<unknown> = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.oneof(fc.nat(), fc.string({ maxLength: 10 })),
  method: fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(
      'sampling/createMessage',
      'elicitation/create',
      'roots/list',
      'tasks/list',
      'tools/call/../../admin',
      'rpc.discover',
      long(10_000, 'm'),
    ),
  ),
  params: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
});

/** Any message above, alone or in a batch (an empty one included). */
function messageOrBatch(names: TargetNames): fc.Arbitrary<unknown> {
  const one = fc.oneof({ weight: 6, arbitrary: brokenMessage(names) }, { weight: 2, arbitrary: unknownMethod });
  return fc.oneof({ weight: 5, arbitrary: one }, { weight: 1, arbitrary: fc.array(one, { maxLength: 4 }) });
}

/** Bodies that are not JSON, not whole, or JSON of the wrong shape. */
const junkBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    '',
    'null',
    '0',
    '"ping"',
    '[]',
    '[[]]',
    '{}',
    '{"jsonrpc":"2.0"',
    '{"jsonrpc":"2.0","id":1,"method":"ping"}garbage',
    '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"polluted":true}}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","constructor":{"prototype":{"polluted":true}}}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":1,"a":2}}',
    `{"jsonrpc":"2.0","id":1,"method":"ping"}${long(100_000, ' ')}`,
  ),
);

/** JSON text nested `depth` levels deep around `leaf`, built without recursion. */
export function nested(depth: number, shape: 'object' | 'array' | 'mixed', leaf = '1'): string {
  const open = { object: '{"a":', array: '[', mixed: '{"a":[' }[shape];
  const close = { object: '}', array: ']', mixed: ']}' }[shape];
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
}

/**
 * A tools/call (or another request) carrying a value nested thousands of levels deep, as the
 * JSON text a client would send: in the arguments, in one argument, in `_meta`, or beside them.
 */
export function deepRequest(tool: string): fc.Arbitrary<string> {
  return fc
    .record({
      depth: fc.constantFrom(1_000, 5_000, 10_000, 50_000),
      shape: fc.constantFrom('object' as const, 'array' as const, 'mixed' as const),
      where: fc.constantFrom('arguments', 'argument', 'meta', 'params', 'prompt', 'initialize'),
    })
    .map(({ depth, shape, where }) => {
      const deep = nested(depth, shape);
      const name = JSON.stringify(tool);
      return {
        arguments: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":${name},"arguments":{"text":"a","deep":${deep}}}}`,
        argument: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":${name},"arguments":{"text":${deep}}}}`,
        meta: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":${name},"arguments":{"text":"a"},"_meta":{"deep":${deep}}}}`,
        params: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":${name},"arguments":{"text":"a"},"deep":${deep}}}`,
        prompt: `{"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{"name":"x","arguments":{"deep":${deep}}}}`,
        initialize: `{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"${PROTOCOL_VERSION}","capabilities":${deep},"clientInfo":{"name":"fuzz","version":"1"}}}`,
      }[where]!;
    });
}

/**
 * The right value `rightOfTen` times in ten (a request refused for its headers never reaches
 * what its body could break), else one of the wrong ones.
 */
function mostly<T>(right: T, wrong: readonly T[], rightOfTen: number): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: rightOfTen, arbitrary: fc.constant(right) },
    { weight: 10 - rightOfTen, arbitrary: fc.constantFrom(...wrong) },
  );
}

/** How often each header is right: 9 in 10 to reach the body, fewer to try the headers. */
export interface Oddness {
  rightOfTen: number;
}

/** The parts of a request to an MCP endpoint, each right most of the time or not. */
export function requestParts(names: TargetNames, { rightOfTen }: Oddness) {
  return fc.record({
    method: mostly('POST', ['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'], rightOfTen),
    body: bodies(names),
    contentType: mostly<string | undefined>(
      'application/json',
      [
        undefined,
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        'text/plain',
        'text/event-stream',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        '',
        `application/json;${long(5_000, 'p')}`,
      ],
      rightOfTen,
    ),
    accept: mostly<string | undefined>(
      'application/json, text/event-stream',
      [undefined, 'application/json', 'text/event-stream', '*/*', 'text/html', '', long(5_000, 'a')],
      rightOfTen,
    ),
    protocolVersion: mostly<string | undefined>(
      PROTOCOL_VERSION,
      [undefined, '2025-06-18', '2024-11-05', '1999-01-01', '', 'latest', long(10_000, '9')],
      rightOfTen,
    ),
    extra: mostly<Record<string, string>>(
      {},
      [
        { 'x-pad': long(20_000) },
        Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'v'])),
        { 'content-encoding': 'gzip' },
        { 'transfer-encoding': 'identity' },
        { 'last-event-id': long(2_000, 'e') },
        { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' },
        { host: 'evil.example' },
      ],
      rightOfTen,
    ),
  });
}

/** Stands for the session the property holds, replaced by its id when the request is sent. */
export const THE_SESSION = '<the session>';

/** Session ids a client may send: the right one mostly, none, or a wrong one of any kind. */
export function sessionIds({ rightOfTen }: Oddness): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: rightOfTen, arbitrary: fc.constant<string | undefined>(THE_SESSION) },
    {
      weight: 10 - rightOfTen,
      arbitrary: fc.oneof(
        fc.constantFrom<string | undefined>(
          undefined,
          '',
          '00000000-0000-0000-0000-000000000000',
          `${THE_SESSION}x`,
          THE_SESSION.toUpperCase(),
          long(10_000, 's'),
          '../../admin',
        ),
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.trim()),
      ),
    },
  );
}

/**
 * A request to `path` from its fuzzed parts, with the target's credentials (`auth`), marked
 * oversized when it is past the limits a server may cut a connection for.
 */
export function mcpRequest(
  path: string,
  parts: {
    method: string;
    body: string | Buffer | undefined;
    contentType: string | undefined;
    accept: string | undefined;
    protocolVersion: string | undefined;
    sessionId: string | undefined;
    extra: Record<string, string>;
  },
  auth: Record<string, string>,
): RawRequest {
  const headers: Record<string, string> = { ...auth };
  if (parts.contentType !== undefined) headers['content-type'] = parts.contentType;
  if (parts.accept !== undefined) headers.accept = parts.accept;
  if (parts.protocolVersion !== undefined) headers['mcp-protocol-version'] = parts.protocolVersion;
  if (parts.sessionId !== undefined) headers['mcp-session-id'] = parts.sessionId;
  Object.assign(headers, parts.extra);
  const headerBytes = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const bodyBytes = parts.body === undefined ? 0 : Buffer.byteLength(parts.body);
  return {
    method: parts.method,
    path,
    headers,
    ...(parts.body === undefined || parts.method === 'GET' || parts.method === 'OPTIONS' ? {} : { body: parts.body }),
    oversized: headerBytes > 15_000 || bodyBytes > 1_000_000 || Object.keys(headers).length > 100,
  };
}

/** A body for a request: mostly JSON of a (broken) message, sometimes junk. */
export function bodies(names: TargetNames): fc.Arbitrary<string | Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: messageOrBatch(names).map((m) => JSON.stringify(m) ?? '') },
    { weight: 2, arbitrary: junkBody },
  );
}

/** The standard MCP headers, for properties that vary the body only. */
export const plainHeaders = { ...MCP_HEADERS, 'mcp-protocol-version': PROTOCOL_VERSION };
