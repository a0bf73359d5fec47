/**
 * A node's /mcp under fuzzed input from a caller holding valid link tokens (without one,
 * everything is 401 and nothing deeper is reached): the hub's own key signs a fresh token for
 * every request, as the hub does. Whatever is sent, the node and the hub stay up, no answer is a
 * 5xx or shows anything internal, and a client calling the node through the hub is served
 * throughout.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyRing, signLinkToken } from '@brainmesh/shared';
import { PATIENT_HEALTH_CHECKS } from '../support/fuzz.js';
import { deepAndLarge, type McpTarget, withinSession, withoutSession } from '../support/fuzz-mcp.js';
import {
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

describe('fuzzing a node’s /mcp with valid link tokens', { timeout: 240_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let node: NodeProcess;
  let bystander: ConnectedClient;
  let target: McpTarget;

  before(async () => {
    hub = await startHub(scope, { links: PATIENT_HEALTH_CHECKS });
    node = await startNode(scope, hub, { name: 'alpha' });
    await nodeUp(hub, 'alpha');
    bystander = await connectClient(scope, hub);
    // Who the node takes tokens from and for whom, as it pinned them at enrolment.
    const { hubId, nodeId } = JSON.parse(readFileSync(path.join(node.home, 'link.json'), 'utf8')) as {
      hubId: string;
      nodeId: string;
    };
    const hubKeys = await KeyRing.open(hub.home);
    target = {
      base: node.url!,
      path: '/mcp',
      auth: async () => ({
        authorization: `Bearer ${await signLinkToken(hubKeys, { iss: hubId, aud: nodeId, sub: 'key:fuzzer' })}`,
      }),
      names: { tool: 'echo', prompt: 'review_change', resource: 'devtools://about' },
      procs: { hub: hub.proc, node: node.proc },
      bystander: async (run) => {
        const said = `still here ${run}`;
        try {
          const result = await bystander.client.callTool(
            { name: 'alpha__echo', arguments: { text: said } },
            undefined,
            {
              timeout: 10_000,
            },
          );
          return text(result) === said ? [] : [`another client's call failed: ${text(result).slice(0, 300)}`];
        } catch (err) {
          return [`another client's call failed: ${(err as Error).message.slice(0, 300)}`];
        }
      },
    };
  });

  it('/mcp without a session: any method, body and header', async () => {
    await withoutSession(target, 80);
  });

  it('/mcp within a session: every field of every message broken, batches, unknown methods', async () => {
    await withinSession(target, 200, 'mostly right');
  });

  it('/mcp within a session: odd methods, content types, accept, protocol versions, session ids, huge headers', async () => {
    await withinSession(target, 60, 'mostly wrong');
  });

  it('/mcp: arguments nested thousands deep or megabytes long', async () => {
    await deepAndLarge(target, 30);
  });
});
