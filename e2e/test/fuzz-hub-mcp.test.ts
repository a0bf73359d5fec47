/**
 * The hub's MCP endpoints under fuzzed input from a client with a valid key: Streamable HTTP at
 * /mcp, with and without a session, and the legacy /sse + /messages pair. Whatever is sent, the
 * hub and its node stay up, no answer is a 5xx or shows anything internal, and another client's
 * calls to the same node keep working throughout.
 */
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  answerFaults,
  deaths,
  describeAnswer,
  describeRequest,
  holds,
  LegacySseSession,
  PATIENT_HEALTH_CHECKS,
  type RawRequest,
  send,
} from '../support/fuzz.js';
import {
  deepAndLarge,
  knownCases,
  type McpTarget,
  PING,
  rightParts,
  withinSession,
  withoutSession,
} from '../support/fuzz-mcp.js';
import { requestParts, type TargetNames, THE_SESSION } from '../support/mcp-arbitraries.js';
import {
  admin,
  type ConnectedClient,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
} from '../support/mesh.js';

const names: TargetNames = {
  tool: 'alpha__echo',
  prompt: 'alpha__review_change',
  resource: 'brainmesh://alpha/devtools://about',
};

/** Limits far above what the fuzzing sends: a 429 would stop it before it reaches anything. */
const UNLIMITED = {
  requests: 1_000_000,
  toolCalls: { read: 1_000_000, write: 1_000_000, destructive: 1_000_000 },
};

describe('fuzzing the hub’s MCP endpoints', { timeout: 240_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let node: NodeProcess;
  let bystander: ConnectedClient;
  let target: McpTarget;
  /** A key that may call alpha's tools, prompts and resources; the attacker's. */
  let attackerKey: string;
  /** A read-only key, as in issue 12 item 1. */
  let readOnlyKey: string;

  const createKey = async (name: string, scopes: string[]) => {
    const res = await admin(hub, 'POST', '/admin/keys', { name, scopes });
    if (res.status !== 201) throw new Error(`key: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { key: string }).key;
  };

  before(async () => {
    hub = await startHub(scope, { limits: UNLIMITED, links: PATIENT_HEALTH_CHECKS });
    node = await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    attackerKey = await createKey('attacker', ['node:alpha']);
    readOnlyKey = await createKey('read-only', ['read:*']);
    // The operator, calling the same node all along.
    bystander = await connectClient(scope, hub);
    target = {
      base: hub.url,
      path: '/mcp',
      auth: async () => ({ authorization: `Bearer ${attackerKey}` }),
      names,
      procs: { hub: hub.proc, node: node.proc },
      bystander: async (run) => {
        const said = `still here ${run}`;
        try {
          const result = await bystander.client.callTool(
            { name: 'alpha__echo', arguments: { text: said } },
            undefined,
            { timeout: 10_000 },
          );
          return text(result) === said ? [] : [`another client's call failed: ${text(result).slice(0, 300)}`];
        } catch (err) {
          return [`another client's call failed: ${(err as Error).message.slice(0, 300)}`];
        }
      },
    };
  });

  it('/mcp without a session: any method, body and header', async () => {
    await withoutSession(target, 100);
  });

  it('/mcp within a session: every field of every message broken, batches, unknown methods', async () => {
    await withinSession(target, 200, 'mostly right');
  });

  it('/mcp within a session: odd methods, content types, accept, protocol versions, session ids, huge headers', async () => {
    await withinSession(target, 80, 'mostly wrong');
  });

  it('/sse + /messages: the same input over the legacy transport, judged on the stream too', async () => {
    const auth = { authorization: `Bearer ${attackerKey}` };
    let session = await LegacySseSession.open(hub.url, auth);
    scope.after(() => session.close());
    const paths = fc.constantFrom<string>(
      THE_SESSION,
      THE_SESSION,
      THE_SESSION,
      '/messages',
      '/messages?sessionId=',
      `/messages?sessionId=${'s'.repeat(10_000)}`,
      `${THE_SESSION}&sessionId=another`,
      '/messages?sessionId[]=x',
    );
    let pings = 0;
    await holds(
      '/sse + /messages',
      fc.record({ path: paths, parts: requestParts(names, { rightOfTen: 8 }) }),
      async ({ path, parts }, run) => {
        if (session.closed) {
          session = await LegacySseSession.open(hub.url, auth);
          scope.after(() => session.close());
        }
        const request: RawRequest = {
          method: parts.method,
          path: path.replace(THE_SESSION, session.messagesPath),
          headers: {
            ...auth,
            ...(parts.contentType === undefined ? {} : { 'content-type': parts.contentType }),
            ...parts.extra,
          },
          ...(parts.method === 'GET' || parts.method === 'OPTIONS' ? {} : { body: parts.body }),
          oversized: 'x-pad' in parts.extra || Object.keys(parts.extra).length > 100,
        };
        const faults: string[] = [];
        try {
          const answer = await send(hub.url, request, { idleMs: 250 });
          faults.push(...answerFaults(request, answer).map((f) => `${f}\n    answer: ${describeAnswer(answer)}`));
        } catch (err) {
          faults.push((err as Error).message);
        }
        // A ping after it: once its answer is on the stream, so is whatever the request caused.
        if (!session.closed) {
          const id = `ping-${++pings}`;
          const ping = await send(hub.url, {
            method: 'POST',
            path: session.messagesPath,
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }),
          });
          if (ping.status === 202) {
            await session
              .answer(id)
              .catch((err: Error) => faults.push(`the session stopped answering: ${err.message}`));
          }
        }
        for (const event of session.events.slice(session.judged)) {
          const answer = { status: 200, headers: {}, body: event, open: false, ms: 0 };
          faults.push(
            ...answerFaults(request, answer).map((f) => `${f}\n    on the stream: ${describeAnswer(answer)}`),
          );
        }
        session.judged = session.events.length;
        const died = deaths(target.procs);
        faults.push(...(died.length > 0 ? died : await target.bystander(run)));
        return faults.length === 0 ? [] : [`request: ${describeRequest(request)}`, ...faults];
      },
      {
        numRuns: 80,
        examples: [
          ...knownCases(names).map((body) => ({ path: THE_SESSION, parts: rightParts(body) })),
          {
            path: THE_SESSION,
            parts: { ...rightParts(PING), contentType: `application/json;${'p'.repeat(5_000)}` },
          },
          { path: `/messages?sessionId=${'s'.repeat(10_000)}`, parts: rightParts(PING) },
          { path: `/messages?sessionId=${'s'.repeat(10_000)}`, parts: { ...rightParts(''), method: 'GET' } },
        ],
      },
    );
  });

  it('/mcp: arguments nested 10,000 deep or megabytes long from a read-only key leave the node to everyone', async () => {
    await deepAndLarge({ ...target, auth: async () => ({ authorization: `Bearer ${readOnlyKey}` }) }, 30);
  });
});
