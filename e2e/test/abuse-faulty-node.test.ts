/**
 * Faults on the hub's link: a node enrolled like any other that answers a tool call with garbage
 * frames, a stack trace, a wrong id, half a message, a reset, or nothing at all; and one that
 * botches the link itself. The caller gets a clean error within the hub's call timeout, nothing
 * of the node's own text, and another node's calls keep working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LINK_SUBPROTOCOL } from '@brainmesh/shared';
import { BOTCHES, type LinkBotch, NODE_SECRET_TEXT, startFaultyNode } from '../support/faulty-node.js';
import {
  answerFaults,
  deaths,
  describeAnswer,
  MCP_HEADERS,
  PATIENT_HEALTH_CHECKS,
  PROTOCOL_VERSION,
  RawSession,
  send,
} from '../support/fuzz.js';
import {
  admin,
  type ConnectedClient,
  connectClient,
  enrolmentToken,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/** Short, so a hang costs the suite little; the property is the bound, not its size. */
const CALL_TIMEOUT_MS = 3_000;
/** What the answer may take beyond the call timeout: scheduling on a busy machine. */
const SLACK_MS = 2_500;

describe('a node that answers garbage or hangs', { timeout: 180_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());
  let hub: HubProcess;
  let alpha: NodeProcess;
  let bystander: ConnectedClient;
  let caller: RawSession;
  let calls: Map<string, number>;

  /** Enrols a node by hand, as `brainmesh node` would, at `url`. */
  const enrol = async (name: string, node: { url: string; jwks: unknown }) => {
    const token = await enrolmentToken(hub, name);
    const res = await fetch(new URL('/enrol', hub.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, node: name, url: node.url, jwks: node.jwks }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  const callTool = async (name: string) => {
    const session = await caller.current();
    return send(hub.url, {
      method: 'POST',
      path: '/mcp',
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${hub.key}`,
        'mcp-protocol-version': PROTOCOL_VERSION,
        'mcp-session-id': session,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
    });
  };

  /** Another client's call to another node, and the processes: what is wrong, if anything. */
  const othersUnharmed = async (): Promise<string[]> => {
    const died = deaths({ hub: hub.proc, alpha: alpha.proc });
    if (died.length > 0) return died;
    try {
      const result = await bystander.client.callTool({ name: 'alpha__echo', arguments: { text: 'fine' } }, undefined, {
        timeout: 10_000,
      });
      return text(result) === 'fine' ? [] : [`a call to alpha failed: ${text(result)}`];
    } catch (err) {
      return [`a call to alpha failed: ${(err as Error).message}`];
    }
  };

  before(async () => {
    hub = await startHub(scope, { links: { ...PATIENT_HEALTH_CHECKS, callTimeoutMs: CALL_TIMEOUT_MS } });
    alpha = await startNode(scope, hub, { name: 'alpha' });
    const faulty = await startFaultyNode(scope, { name: 'mimic' });
    calls = faulty.calls;
    await enrol('mimic', faulty);
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'mimic')]);
    bystander = await connectClient(scope, hub);
    caller = new RawSession(hub.url, '/mcp', async () => ({ authorization: `Bearer ${hub.key}` }));
  });

  for (const botch of Object.keys(BOTCHES)) {
    it(`a call answered with ${botch.replaceAll('_', ' ')}: a clean error in time, and alpha unharmed`, async (t) => {
      // Each botch meets a closed circuit: the one before may have opened it, and a success closes it.
      await until(
        async () => {
          const fine = await callTool('mimic__fine');
          return fine.body.includes('"text":"fine"');
        },
        'a good call to mimic to go through',
        20_000,
      );
      const before = calls.get(botch) ?? 0;
      const answer = await callTool(`mimic__${botch}`);
      t.diagnostic(describeAnswer(answer));
      const faults = answerFaults({ method: 'POST', path: '/mcp', headers: {} }, answer, { callersFault: false });
      if (answer.ms > CALL_TIMEOUT_MS + SLACK_MS) faults.push(`answered after ${answer.ms} ms`);
      if (answer.body.includes(NODE_SECRET_TEXT)) faults.push("the answer quotes the node's own text");
      if (!/"isError":true|"error":\{/.test(answer.body)) faults.push('the answer is not an error');
      if ((calls.get(botch) ?? 0) === before) faults.push('the call never reached the node');
      faults.push(...(await othersUnharmed()));
      assert.deepEqual(faults, [], `answer: ${describeAnswer(answer)}`);
    });
  }

  it('a node that botches the link itself never enters the catalog, and harms no one', async () => {
    let n = 0;
    // Each dial meets the next of these: the hub must come out of every one with the node down.
    const botches: LinkBotch[] = [
      (_req, socket) => socket.end(`HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\n\r\n${NODE_SECRET_TEXT}`),
      (_req, socket) => socket.end('HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/latest/meta-data/\r\n\r\n'),
      (_req, socket) => socket.destroy(),
      // The upgrade, then garbage where the hello should be.
      (_req, _socket, accept) => accept((ws) => ws.send(`{"link":"hello","secret":"${NODE_SECRET_TEXT}"`)),
      // The upgrade, a hello, and no token: the handshake must not wait for ever.
      (_req, _socket, accept) =>
        accept((ws) => ws.send(JSON.stringify({ link: 'hello', role: 'node', id: 'babbler', nonce: 'n'.repeat(32) }))),
      // The upgrade, and silence.
      (_req, _socket, accept) => accept(() => {}),
    ];
    const babbler = await startFaultyNode(scope, {
      name: 'babbler',
      everything: (req, socket, accept) => {
        n += 1;
        if (req.headers['sec-websocket-protocol'] !== LINK_SUBPROTOCOL) return socket.destroy();
        botches[(n - 1) % botches.length]!(req, socket, accept);
      },
    });
    await enrol('babbler', babbler);
    // Every way of botching, met at least once (the silent ones take the handshake's 5 s).
    await until(async () => babbler.dials() > botches.length, 'the hub to have dialled it through every botch', 60_000);
    const view = (await (await admin(hub, 'GET', '/admin/nodes/babbler')).json()) as { link: string };
    assert.notEqual(view.link, 'up');
    const { tools } = await bystander.client.listTools();
    assert.ok(!tools.some((tool) => tool.name.startsWith('babbler__')), 'nothing of it is listed');
    const call = await callTool('babbler__anything');
    assert.deepEqual(
      answerFaults({ method: 'POST', path: '/mcp', headers: {} }, call, { callersFault: false }),
      [],
      describeAnswer(call),
    );
    assert.ok(!call.body.includes(NODE_SECRET_TEXT));
    assert.deepEqual(await othersUnharmed(), []);
  });
});
