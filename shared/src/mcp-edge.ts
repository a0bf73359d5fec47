import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  InitializeRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
  ReadResourceRequestSchema,
  type RequestId,
  SetLevelRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { JsonRpcCode } from './errors.js';
import { clip } from './mcp.js';

/**
 * What the hub (and a node, for what the hub relays) checks in every message a client sends,
 * before the MCP SDK or anything of ours reads it: that it is a JSON-RPC message at all (-32600), that it is within the hub's bounds of
 * nesting and size (-32602), and that a request's params are what its method takes (-32602, in
 * words). The SDK would otherwise answer a bad `id` with -32700, bad params with -32603 and zod's
 * JSON as the message; and a message nested a few thousand levels deep passes its validation
 * whole, to break the first recursive thing that touches it: `JSON.stringify` in the client
 * transport that carries it on to a node (V8's stringify recurses, its parse does not). That
 * fault used to count against the node's circuit, so one client could take a node away.
 */

export interface Bounds {
  /** Levels of objects and arrays in one message, the message itself being the first. */
  maxDepth: number;
  /** Size of one message as JSON, in bytes. */
  maxBytes: number;
  /** Who holds the bounds and under which settings, for the words of a refusal. */
  holder?: { name: string; depthSetting: string; bytesSetting: string };
}

const HUB_BOUNDS = { name: 'the hub', depthSetting: 'links.maxMessageDepth', bytesSetting: 'links.maxMessageBytes' };

export type Excess = { limit: 'depth'; path: string } | { limit: 'size' };

export interface Refusal {
  /** The request's id, or null when there is no request to answer (a bad id, a notification). */
  id: RequestId | null;
  code: number;
  message: string;
}

interface PathStep {
  parent: PathStep | undefined;
  key: string | number;
}

/**
 * Whether `value` goes deeper or is larger (as JSON) than `bounds` allow. An explicit stack, never
 * recursion: the point is to be safe at any depth. Stops at the first excess found.
 */
export function exceeds(value: unknown, bounds: Bounds): Excess | undefined {
  const stack: Array<[unknown, number, PathStep | undefined]> = [[value, 1, undefined]];
  let bytes = 0;
  while (stack.length > 0) {
    const [item, depth, path] = stack.pop()!;
    if (item === null || typeof item !== 'object') {
      bytes += scalarBytes(item);
    } else if (depth > bounds.maxDepth) {
      return { limit: 'depth', path: renderPath(path) };
    } else if (Array.isArray(item)) {
      bytes += 2 + Math.max(0, item.length - 1);
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], depth + 1, { parent: path, key: i }]);
    } else {
      const keys = Object.keys(item);
      bytes += 2 + Math.max(0, keys.length - 1) + keys.length;
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        bytes += stringBytes(key);
        stack.push([(item as Record<string, unknown>)[key], depth + 1, { parent: path, key }]);
      }
    }
    if (bytes > bounds.maxBytes) return { limit: 'size' };
  }
  return undefined;
}

/** The words for an excess, naming the limit and the setting that holds it. */
export function describeExcess(excess: Excess, bounds: Bounds, what = 'the message'): string {
  const holder = bounds.holder ?? HUB_BOUNDS;
  return excess.limit === 'depth'
    ? `${what} is nested deeper than ${bounds.maxDepth} levels (at ${excess.path}); ${holder.name} takes at most ${bounds.maxDepth} (${holder.depthSetting})`
    : `${what} is larger than ${bounds.maxBytes} bytes as JSON; ${holder.name} takes at most ${bounds.maxBytes} (${holder.bytesSetting})`;
}

/** The requests the hub serves, with the SDK's own schema for each: it validates them again, so they must pass here. */
const REQUESTS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ['initialize', InitializeRequestSchema],
  ['ping', PingRequestSchema],
  ['tools/list', ListToolsRequestSchema],
  ['tools/call', CallToolRequestSchema],
  ['resources/list', ListResourcesRequestSchema],
  ['resources/templates/list', ListResourceTemplatesRequestSchema],
  ['resources/read', ReadResourceRequestSchema],
  ['prompts/list', ListPromptsRequestSchema],
  ['prompts/get', GetPromptRequestSchema],
  ['completion/complete', CompleteRequestSchema],
  ['logging/setLevel', SetLevelRequestSchema],
]);

/** Why one JSON-RPC message from a client is refused, or undefined when it may go on. */
export function inspectMessage(message: unknown, bounds: Bounds): Refusal | undefined {
  const invalid = (why: string, id: RequestId | null = null): Refusal => ({
    id,
    code: JsonRpcCode.InvalidRequest,
    message: `invalid request: ${why}`,
  });
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return invalid('a JSON-RPC message is an object');
  }
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return invalid('"jsonrpc" must be "2.0"');
  const hasId = Object.hasOwn(m, 'id');
  if (hasId && !isRequestId(m.id)) return invalid('"id" must be a string or an integer');
  const id = hasId ? (m.id as RequestId) : null;
  if (Object.hasOwn(m, 'method')) {
    if (typeof m.method !== 'string') return invalid('"method" must be a string', id);
    const { params } = m;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
      return invalid('"params" must be an object', id);
    }
  } else if (!hasId || Object.hasOwn(m, 'result') === Object.hasOwn(m, 'error')) {
    return invalid(
      'a message is a request (method and id), a notification (method) or a response (id and result or error)',
    );
  }
  const excess = exceeds(message, bounds);
  if (excess !== undefined)
    return { id: request(m), code: JsonRpcCode.InvalidParams, message: describeExcess(excess, bounds) };
  const schema = typeof m.method === 'string' && hasId ? REQUESTS.get(m.method) : undefined;
  const parsed = schema?.safeParse(message);
  if (parsed !== undefined && !parsed.success) {
    return {
      id,
      code: JsonRpcCode.InvalidParams,
      message: `invalid ${m.method as string} request: ${parsed.error.issues.map(describeIssue).join('; ')}`,
    };
  }
  return undefined;
}

/** The same for a whole POST body: one message, or a batch of them. */
export function inspectBody(body: unknown, bounds: Bounds): Refusal | undefined {
  if (!Array.isArray(body)) return inspectMessage(body, bounds);
  if (body.length === 0)
    return { id: null, code: JsonRpcCode.InvalidRequest, message: 'invalid request: an empty batch' };
  for (const message of body) {
    const refusal = inspectMessage(message, bounds);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

const isRequestId = (id: unknown): id is RequestId => typeof id === 'string' || Number.isSafeInteger(id);

/** The id to answer: only a request has one. */
const request = (m: Record<string, unknown>): RequestId | null =>
  typeof m.method === 'string' && isRequestId(m.id) ? m.id : null;

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? 'the request' : issue.path.map(String).join('.');
  const what = issue.message.replace(/^Invalid input: /, '').replace('expected record', 'expected an object');
  return `${clip(where)}: ${what}`;
}

function renderPath(path: PathStep | undefined): string {
  const keys: Array<string | number> = [];
  for (let step = path; step !== undefined; step = step.parent) keys.push(step.key);
  return clip(keys.reverse().join('.') || '(top)');
}

function scalarBytes(value: unknown): number {
  if (typeof value === 'string') return stringBytes(value);
  if (typeof value === 'number') return String(value).length;
  if (typeof value === 'boolean') return value ? 4 : 5;
  return 4;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what JSON escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

function stringBytes(s: string): number {
  let bytes = Buffer.byteLength(s, 'utf8') + 2;
  if (NEEDS_ESCAPE.test(s)) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // `"` and `\` and \n-like controls take one more byte; other controls are \u00XX.
      if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) bytes += 1;
      else if (c < 0x20) bytes += 5;
    }
  }
  return bytes;
}

/**
 * Why an `MCP-Protocol-Version` header is refused, or undefined. The SDK refuses an unknown
 * version too, but quotes the header whole, however long.
 */
export function unsupportedVersion(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || SUPPORTED_PROTOCOL_VERSIONS.includes(header)) return undefined;
  return `Bad Request: unsupported protocol version ${clip(header)} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;
}
