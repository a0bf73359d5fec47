/**
 * What the hub costs: the latency it adds to a tools/call compared with calling the node
 * directly, and calls per second through the hub at 1, 16 and 64 concurrent clients.
 *
 *   npm run bench -- hub-proxy
 *
 * Real processes on loopback (a hub and one node with the devtools pack, embedded storage), real
 * MCP SDK clients. The direct client signs its own link tokens with the hub's key, exactly as
 * the hub does, so the difference is the hub's own work: auth, routing, the second hop.
 */
import { KeyRing } from '@brainmesh/shared';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient, nodeUp, startHub, startNode, suiteScope } from '../e2e/support/mesh.js';
import { createNodeClient } from '../e2e/support/node-client.js';

const LATENCY_CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const THROUGHPUT_MS = Number(process.env.BENCH_MS ?? 5000);

const scope = suiteScope();
try {
  // Limits high enough never to bite: this measures the proxy, not the rate limiter's refusals
  // (its counting still runs on every request and call).
  const unlimited = 1_000_000_000;
  const hub = await startHub(scope, {
    limits: { requests: unlimited, toolCalls: { read: unlimited, write: unlimited, destructive: unlimited } },
  });
  const node = await startNode(scope, hub, { name: 'bench' });
  await nodeUp(hub, 'bench');

  const viaHub = (await connectClient(scope, hub)).client;
  const ring = await KeyRing.open(hub.home);
  const { client: direct, transport } = createNodeClient({
    url: node.url!,
    nodeId: 'bench',
    hubId: 'hub',
    ring,
    principal: 'operator',
    capabilities: {},
  });
  await direct.connect(transport);
  scope.after(() => direct.close());

  const echo = (client: Client, name: string) => client.callTool({ name, arguments: { text: 'ping' } });

  async function latency(client: Client, name: string): Promise<number[]> {
    for (let i = 0; i < 200; i++) await echo(client, name); // warm-up: JIT, connections, caches
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_CALLS; i++) {
      const t0 = performance.now();
      await echo(client, name);
      samples.push(performance.now() - t0);
    }
    return samples.sort((a, b) => a - b);
  }
  const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  const fmt = (ms: number) => ms.toFixed(2);

  const directMs = await latency(direct, 'echo');
  const hubMs = await latency(viaHub, 'bench__echo');
  console.log(`\nlatency of one tools/call (ms, ${LATENCY_CALLS} sequential calls after 200 warm-up)`);
  console.log('| path | p50 | p95 | p99 | mean |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [label, s] of [
    ['node directly', directMs],
    ['through the hub', hubMs],
  ] as const) {
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    console.log(`| ${label} | ${fmt(pct(s, 50))} | ${fmt(pct(s, 95))} | ${fmt(pct(s, 99))} | ${fmt(mean)} |`);
  }
  console.log(`| added by the hub (p50) | ${fmt(pct(hubMs, 50) - pct(directMs, 50))} | | | |`);

  console.log(`\ncalls per second through the hub (${THROUGHPUT_MS / 1000} s per level, one MCP session per client)`);
  console.log('| concurrent clients | calls/s | p50 ms | p95 ms | errors |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const clients of [1, 16, 64]) {
    const sessions = await Promise.all(Array.from({ length: clients }, () => connectClient(scope, hub)));
    for (const s of sessions) await echo(s.client, 'bench__echo');
    const samples: number[] = [];
    let errors = 0;
    const deadline = performance.now() + THROUGHPUT_MS;
    await Promise.all(
      sessions.map(async ({ client }) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          const result = await echo(client, 'bench__echo').catch(() => undefined);
          if (result === undefined || result.isError === true) errors++;
          else samples.push(performance.now() - t0);
        }
      }),
    );
    samples.sort((a, b) => a - b);
    const perSecond = (samples.length / THROUGHPUT_MS) * 1000;
    console.log(
      `| ${clients} | ${perSecond.toFixed(0)} | ${fmt(pct(samples, 50))} | ${fmt(pct(samples, 95))} | ${errors} |`,
    );
    await Promise.all(sessions.map((s) => s.client.close()));
  }
} finally {
  await scope.dispose();
}
