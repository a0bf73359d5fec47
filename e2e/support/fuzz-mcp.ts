/**
 * The properties every Streamable HTTP MCP endpoint of the mesh must keep, whoever sends what:
 * the hub's `/mcp` and a node's `/mcp` run the same ones. After every request: no process died,
 * the answer is clean (see `answerFaults`), and another client's calls still work.
 */
import type { Spawned } from '@brainmesh/shared/testing';
import fc from 'fast-check';
import {
  answerFaults,
  deaths,
  describeAnswer,
  describeRequest,
  holds,
  PROTOCOL_VERSION,
  type RawRequest,
  RawSession,
  send,
} from './fuzz.js';
import {
  deepRequest,
  mcpRequest,
  nested,
  plainHeaders,
  requestParts,
  sessionIds,
  type TargetNames,
  THE_SESSION,
} from './mcp-arbitraries.js';

export interface McpTarget {
  base: string;
  path: string;
  /** The credentials every request carries (an API key, or a fresh link token each time). */
  auth: () => Promise<Record<string, string>>;
  names: TargetNames;
  /** Every process that must outlive the attack. */
  procs: Record<string, Spawned>;
  /** A well-behaved client's call through the mesh: what went wrong with it, if anything. */
  bystander: (run: number) => Promise<string[]>;
}

/** Sends one fuzzed request and judges its answer, the processes and the bystander. */
async function judge(target: McpTarget, request: RawRequest, run: number): Promise<string[]> {
  let faults: string[];
  try {
    const answer = await send(target.base, request, { idleMs: 250 });
    faults = answerFaults(request, answer).map((f) => `${f}\n    answer: ${describeAnswer(answer)}`);
  } catch (err) {
    faults = [(err as Error).message];
  }
  const died = deaths(target.procs);
  faults.push(...(died.length > 0 ? died : await target.bystander(run)));
  return faults.length === 0 ? [] : [`request: ${describeRequest(request)}`, ...faults];
}

/** A request within a session that answers at once, whatever else it carries. */
export const PING = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });

/** A request with every header right, carrying `body`. */
export const rightParts = (body: string) => ({
  method: 'POST',
  body,
  contentType: 'application/json' as string | undefined,
  accept: 'application/json, text/event-stream' as string | undefined,
  protocolVersion: PROTOCOL_VERSION as string | undefined,
  extra: {} as Record<string, string>,
});

/** The inputs issue 12 names (items 1 and 7), tried first in every run of the suite. */
export function knownCases(names: TargetNames): string[] {
  const call = (params: unknown, id: unknown = 7) =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
  return [
    JSON.stringify({ jsonrpc: '2.0', id: {}, method: 'ping' }),
    call({ name: names.tool, arguments: 'str' }),
    call({ name: names.tool, arguments: { text: 5 } }),
    call({ name: 'x'.repeat(100_000), arguments: {} }),
    call({ name: names.tool, arguments: { text: 'a' }, _meta: { progressToken: {} } }),
    JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { cursor: {} } }),
    JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'prompts/get',
      params: { name: names.prompt, arguments: { summary: 1 } },
    }),
    JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'x'.repeat(5_000) } }),
    // A name the target routes on to a node, which refuses it: what the node quotes comes back too.
    JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'resources/read',
      params: { uri: `${names.resource}${'x'.repeat(5_000)}` },
    }),
    JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'no/such' },
    ]),
  ];
}

/** Any request with no session: the endpoint must refuse it or open a session, cleanly. */
export function withoutSession(target: McpTarget, numRuns: number): Promise<void> {
  return holds(
    `${target.path} without a session`,
    requestParts(target.names, { rightOfTen: 7 }),
    async (parts, run) =>
      judge(target, mcpRequest(target.path, { ...parts, sessionId: undefined }, await target.auth()), run),
    { numRuns, examples: knownCases(target.names).map(rightParts) },
  );
}

/**
 * Requests within an open session. `headers` says how often each header (and the session id)
 * is right: mostly, to reach what the body can break; seldom, to try the headers themselves.
 */
export function withinSession(
  target: McpTarget,
  numRuns: number,
  headers: 'mostly right' | 'mostly wrong',
): Promise<void> {
  const session = new RawSession(target.base, target.path, target.auth);
  const oddness = { rightOfTen: headers === 'mostly right' ? 9 : 4 };
  return holds(
    `${target.path} within a session, headers ${headers}`,
    fc.record({ parts: requestParts(target.names, oddness), session: sessionIds(oddness) }),
    async ({ parts, session: choice }, run) => {
      const real = await session.current();
      const sessionId = choice?.replace(THE_SESSION, real).replace(THE_SESSION.toUpperCase(), real.toUpperCase());
      return judge(target, mcpRequest(target.path, { ...parts, sessionId }, await target.auth()), run);
    },
    {
      numRuns,
      examples: [
        ...knownCases(target.names).map((body) => ({ parts: rightParts(body), session: THE_SESSION })),
        { parts: { ...rightParts(PING), protocolVersion: '9'.repeat(10_000) }, session: THE_SESSION },
        {
          parts: { ...rightParts(PING), contentType: `application/json;${'p'.repeat(5_000)}` },
          session: THE_SESSION,
        },
      ],
    },
  );
}

/**
 * Arguments nested thousands of levels deep and bodies of megabytes, within a session: each is
 * the caller's own error, and none may cost another client its calls (issue 12, item 1).
 */
export function deepAndLarge(target: McpTarget, numRuns: number): Promise<void> {
  const session = new RawSession(target.base, target.path, target.auth);
  const call = (args: string) =>
    `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":${JSON.stringify(target.names.tool)},"arguments":${args}}}`;
  const large = fc
    .constantFrom(200_000, 1_500_000, 3_000_000, 8_000_000)
    .map((size) => call(`{"text":"${'y'.repeat(size)}"}`));
  return holds(
    `${target.path}: deep and large arguments`,
    fc.oneof({ weight: 3, arbitrary: deepRequest(target.names.tool) }, { weight: 1, arbitrary: large }),
    async (body, run) => {
      const real = await session.current();
      const request: RawRequest = {
        method: 'POST',
        path: target.path,
        headers: { ...plainHeaders, ...(await target.auth()), 'mcp-session-id': real },
        body,
        oversized: body.length > 1_000_000,
      };
      return judge(target, request, run);
    },
    {
      numRuns,
      // Issue 12's own case, more times than it takes to open a circuit.
      examples: Array.from({ length: 6 }, () => call(`{"text":"a","deep":${nested(10_000, 'object')}}`)),
    },
  );
}
