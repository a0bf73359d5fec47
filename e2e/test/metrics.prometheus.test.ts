import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFake } from '@brainmesh/node/kit/testing';
import { emptyBusiness, goHighLevelEmulator } from '@brainmesh/pack-medtainer/emulators';
import { freePort } from '../support/everything-http.js';
import {
  admin,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';
import { type PrometheusProcess, startPrometheus } from '../support/prometheus.js';

/**
 * The mesh's metrics as an operator reads them: a real Prometheus scraping the hub's `/metrics`
 * (admin scope, on its own port) and a node's metrics listener (loopback, no credentials), and
 * the counts read back through Prometheus's query API after calls through the hub.
 */
describe('Prometheus metrics of the hub and a node', { timeout: 180_000 }, () => {
  const ctx = suiteScope();
  after(() => ctx.dispose());
  let hub: HubProcess;
  let alpha: NodeProcess;
  let prometheus: PrometheusProcess;
  let nodeMetrics: string;

  before(async () => {
    hub = await startHub(ctx);
    const port = await freePort();
    alpha = await startNode(ctx, hub, { name: 'alpha', env: { BRAINMESH_METRICS_PORT: String(port) } });
    nodeMetrics = `http://127.0.0.1:${port}/metrics`;
    await nodeUp(hub, 'alpha');
    // MedTainer on a live GoHighLevel (its emulator on loopback): its budget and sync cache.
    const credentials = { token: 'pit-metrics-token', locationId: 'metricsLocation01' };
    const ghl = await serveFake(goHighLevelEmulator(emptyBusiness(new Date()), credentials));
    ctx.after(() => ghl.close());
    const crm = await startNode(ctx, hub, {
      name: 'crm',
      packs: ['medtainer'],
      env: {
        GOHIGHLEVEL_TOKEN: credentials.token,
        GOHIGHLEVEL_LOCATION_ID: credentials.locationId,
        GOHIGHLEVEL_BASE_URL: ghl.url,
      },
    });
    await nodeUp(hub, 'crm');
    prometheus = await startPrometheus(ctx, [
      { job: 'hub', url: `${hub.url}/metrics`, bearer: hub.key },
      { job: 'alpha', url: nodeMetrics },
      { job: 'crm', url: `${crm.url}/metrics` },
    ]);
  });

  it('counts calls by node, tool and outcome at the hub, and by tool, status and source at the node', async () => {
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'reader', scopes: ['read:*'] });
    const { key: readerKey } = (await res.json()) as { key: string };
    const c = await connectClient(ctx, hub);
    for (let n = 0; n < 5; n++) {
      assert.equal(text(await c.client.callTool({ name: 'alpha__echo', arguments: { text: `m${n}` } })), `m${n}`);
    }
    // Refused by scope: a write tool for a read-only key.
    const reader = await connectClient(ctx, { url: hub.url, key: readerKey });
    const refused = await reader.client.callTool({ name: 'alpha__remember', arguments: { key: 'k', text: 't' } });
    assert.equal(refused.isError, true);

    const one = async (expr: string) => {
      const result = await prometheus.query(expr);
      return result.length === 1 ? result[0]!.value : undefined;
    };
    await until(
      async () => (await one('brainmesh_hub_tool_calls_total{node="alpha",tool="echo",outcome="ok"}')) === 5,
      'five echo calls counted at the hub, through Prometheus',
      30_000,
    );
    assert.equal(await one('brainmesh_hub_tool_calls_total{node="alpha",tool="remember",outcome="refused"}'), 1);
    await until(
      async () =>
        (await one('brainmesh_node_tool_calls_total{job="alpha",tool="echo",status="ok",source="live"}')) === 5,
      'five echo calls counted at the node',
      30_000,
    );
    assert.equal(await one('brainmesh_hub_tool_call_duration_seconds_count{node="alpha"}'), 6);
    assert.equal(await one('brainmesh_hub_node_up{node="alpha",direction="dial-in"}'), 1);
    assert.equal(await one('brainmesh_hub_node_circuit_state{node="alpha",state="closed"}'), 1);
    assert.ok(((await one('brainmesh_hub_node_tools{node="alpha"}')) ?? 0) > 0);
    assert.ok(((await one('brainmesh_node_audit_rows_recorded{job="alpha"}')) ?? 0) >= 5);
    assert.ok((await one('brainmesh_hub_process_resident_memory_bytes')) !== undefined, 'process metrics');
    // Every row the node wrote reaches the hub, and the hub counts what it ingested.
    await until(
      async () => (await one('sum(brainmesh_hub_audit_rows_ingested_total{node="alpha"})')) === 5,
      'the node’s five rows ingested',
      30_000,
    );
    await until(
      async () => (await one('brainmesh_node_audit_rows_unshipped{job="alpha"}')) === 0,
      'nothing left to ship',
      30_000,
    );
  });

  it("shows MedTainer's waits for the service's budget and its sync cache's age", async () => {
    const c = await connectClient(ctx, hub);
    const answer = await c.client.callTool({
      name: 'crm__gohighlevel_get_contact',
      arguments: { contactId: 'missingContact000001' },
    });
    assert.match(text(answer), /GoHighLevel answered 404/);
    const one = async (expr: string) => {
      const result = await prometheus.query(expr);
      return result.length === 1 ? result[0]!.value : undefined;
    };
    // The call and the first sync's requests, each let go by the limiter.
    await until(
      async () =>
        ((await one('brainmesh_pack_medtainer_outbound_wait_seconds_count{service="GoHighLevel",outcome="sent"}')) ??
          0) >= 1,
      'requests to GoHighLevel counted with their wait',
      30_000,
    );
    await until(
      async () => (await one('brainmesh_pack_medtainer_sync_age_seconds{kind="contacts"}')) !== undefined,
      "the contacts copy's age",
      30_000,
    );
    const age = (await one('brainmesh_pack_medtainer_sync_age_seconds{kind="contacts"}'))!;
    assert.ok(age >= 0 && age < 600, `the first sync is minutes old at most: ${age} s`);
  });

  it('keeps principals, keys and arguments out of every label', async () => {
    const hubText = await (
      await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.key}` } })
    ).text();
    const nodeText = await (await fetch(nodeMetrics)).text();
    for (const body of [hubText, nodeText]) {
      assert.doesNotMatch(body, /principal|operator|bm_|m[0-4]"/, 'no principal, key or argument value');
    }
    // Labels used are the bounded ones.
    const labels = new Set(
      [...hubText.matchAll(/^brainmesh_hub_(?!process|nodejs)\w+\{([^}]*)\}/gm)].flatMap((m) =>
        m[1]!.split(',').map((pair) => pair.split('=')[0]),
      ),
    );
    for (const label of labels)
      assert.ok(['node', 'tool', 'outcome', 'direction', 'state', 'limit', 'class', 'le'].includes(label!), label);
  });

  it('serves the hub’s metrics to the admin scope only', async () => {
    const anonymous = await fetch(`${hub.url}/metrics`);
    assert.equal(anonymous.status, 401);
    const res = await admin(hub, 'POST', '/admin/keys', { name: 'not-admin', scopes: ['read:*'] });
    const { key } = (await res.json()) as { key: string };
    const reader = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(reader.status, 403);
    // The node's own port serves them to a loopback client, as its listener does.
    const onNodePort = await fetch(`${alpha.url}/metrics`);
    assert.equal(onNodePort.status, 200);
    assert.match(await onNodePort.text(), /brainmesh_node_tool_calls_total/);
  });
});
