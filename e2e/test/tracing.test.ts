import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { admin, type HubProcess, nodeUp, startHub, startNode, suiteScope, text, until } from '../support/mesh.js';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp.js';

/**
 * Traces across the hop: a call through the hub and a node, exported by both over OTLP/HTTP to a
 * receiver on loopback, is one trace that continues the client's `traceparent`, with the hub's
 * call span, its span over the link, and the node's tool span each the child of the one before;
 * and the audit row of the call carries that trace's id.
 */
describe('OpenTelemetry traces of a call through the mesh', { timeout: 120_000 }, () => {
  const ctx = suiteScope();
  after(() => ctx.dispose());
  let hub: HubProcess;
  let receiver: OtlpReceiver;

  /** A client whose every request carries a `traceparent` of a trace and span of its own. */
  const tracedClient = async (name: string) => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const client = new Client({ name, version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { authorization: `Bearer ${hub.key}`, traceparent: `00-${traceId}-${clientSpan}-01` } },
      }),
    );
    ctx.after(() => client.close());
    return { client, traceId, clientSpan };
  };

  before(async () => {
    receiver = await startOtlpReceiver(ctx);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    hub = await startHub(ctx, { env });
    await startNode(ctx, hub, { name: 'alpha', env });
    await nodeUp(hub, 'alpha');
  });

  it('continues the client’s trace through hub and node, under the audit row’s trace id', async () => {
    const { client, traceId, clientSpan } = await tracedClient('traced');
    assert.equal(text(await client.callTool({ name: 'alpha__echo', arguments: { text: 'traced' } })), 'traced');

    const inTrace = await until(async () => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      return spans.some((s) => s.service === 'brainmesh-node-alpha') && spans.length >= 3 ? spans : undefined;
    }, 'the hub’s and the node’s spans of the call at the receiver');
    const call = inTrace.find((s) => s.name === 'tools/call alpha__echo');
    assert.ok(call, inTrace.map((s) => s.name).join(', '));
    assert.equal(call.service, 'brainmesh-hub');
    assert.equal(call.parentSpanId, clientSpan, 'the client’s span is its parent');
    assert.equal(call.kind, 2, 'a server span');
    const hop = inTrace.find((s) => s.parentSpanId === call.spanId);
    assert.ok(hop, 'the hub’s span over the link');
    assert.equal(hop.name, 'tools/call alpha');
    assert.equal(hop.kind, 3, 'a client span');
    const tool = inTrace.find((s) => s.parentSpanId === hop.spanId);
    assert.ok(tool, 'the node’s span, a child of the hop');
    assert.equal(tool.service, 'brainmesh-node-alpha');
    assert.equal(tool.name, 'tool echo');

    // From the audit row to its trace.
    const rows = await until(async () => {
      const res = await admin(hub, 'GET', `/admin/audit?traceId=${traceId}`);
      const body = (await res.json()) as { events: Array<{ tool: string; traceId: string }> };
      return body.events.length > 0 ? body.events : undefined;
    }, 'the call’s audit row');
    assert.deepEqual(
      rows.map((r) => [r.tool, r.traceId]),
      [['echo', traceId]],
    );
  });

  it('starts a trace of its own for a call whose client sent none, its id the audit row’s', async () => {
    const client = new Client({ name: 'untraced', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { authorization: `Bearer ${hub.key}` } },
      }),
    );
    ctx.after(() => client.close());
    const before = receiver.spans.length;
    await client.callTool({ name: 'alpha__echo', arguments: { text: 'fresh' } });
    const root = await until(async () => {
      return receiver.spans
        .slice(before)
        .find((s) => s.name === 'tools/call alpha__echo' && s.parentSpanId === undefined);
    }, 'a root span for the call');
    const events = await until(async () => {
      const res = await admin(hub, 'GET', `/admin/audit?traceId=${root.traceId}`);
      const body = (await res.json()) as { events: Array<{ params: { text?: string } }> };
      return body.events.length > 0 ? body.events : undefined;
    }, 'the call’s audit row, under the trace’s id');
    assert.deepEqual(
      events.map((e) => e.params.text),
      ['fresh'],
    );
  });

  it('makes a span for the other requests too: lists at the hub, reads and prompts continuing the client’s trace', async () => {
    const { client, traceId, clientSpan } = await tracedClient('traced-requests');
    const before = receiver.spans.length;
    const { resources } = await client.listResources();
    const about = resources.find((r) => r.uri.endsWith('about'));
    assert.ok(about, resources.map((r) => r.uri).join(', '));
    await client.readResource({ uri: about.uri });
    const { prompts } = await client.listPrompts();
    const review = prompts.find((p) => p.name.endsWith('review_change'));
    assert.ok(review, prompts.map((p) => p.name).join(', '));
    const prompt = await client.getPrompt({ name: review.name, arguments: { summary: 'a traced change' } });
    assert.match(JSON.stringify(prompt.messages), /a traced change/);
    await client.listTools();

    const names = ['resources/list', 'resources/read', 'prompts/list', 'prompts/get', 'tools/list'];
    const seen = await until(async () => {
      const spans = receiver.spans.slice(before).filter((s) => s.service === 'brainmesh-hub');
      return names.every((n) => spans.some((s) => s.name === n)) ? spans : undefined;
    }, 'a hub span for each request');
    for (const name of names) assert.equal(seen.find((s) => s.name === name)!.kind, 2, `${name}: a server span`);
    const read = seen.find((s) => s.name === 'resources/read')!;
    assert.equal(read.traceId, traceId, 'a relayed request continues the client’s trace');
    assert.equal(read.parentSpanId, clientSpan);
    // The URI (which may hold a record's id) is an attribute, not the span's name.
    assert.equal(read.attributes['mcp.resource.uri'], about.uri);
    assert.equal(seen.find((s) => s.name === 'prompts/get')!.attributes['mcp.prompt.name'], review.name);
  });
});
