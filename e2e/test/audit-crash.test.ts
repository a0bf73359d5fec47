import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Spawned } from '@brainmesh/shared/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  admin,
  connectClient,
  type HubProcess,
  type NodeProcess,
  nodeUp,
  openHomeDb,
  runCli,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

const CALLS = 10_000;
const WORKERS = 16;

interface Lag {
  node: string;
  backlog: number;
}

/**
 * Exactly once, with crashes: calls spread over two nodes while the hub is killed twice and one
 * node once, mid-traffic. Afterwards the central table holds the rows the nodes wrote, one for
 * one, and every call the client saw succeed is among them.
 */
/** The warnings and errors, and every line about audit, of these processes' logs. */
function auditLines(procs: Spawned[]): string {
  return procs
    .flatMap((p, i) => p.stdout.filter((l) => /audit|"level":(4|5)0/.test(l)).map((l) => `[${i}] ${l.slice(0, 600)}`))
    .slice(-200)
    .join('\n');
}

describe('the audit trail through crashes', { timeout: 600_000 }, () => {
  const scope = suiteScope();
  after(() => scope.dispose());

  it(`lands ${CALLS} calls exactly once though the hub is killed twice and a node once`, async () => {
    // Limits high enough that only the crashes fail calls.
    let hub: HubProcess = await startHub(scope, {
      limits: { requests: 1_000_000, toolCalls: { read: 1_000_000, write: 1_000, destructive: 100 } },
    });
    const nodes: Record<'alpha' | 'beta', NodeProcess> = {
      alpha: await startNode(scope, hub, { name: 'alpha' }),
      beta: await startNode(scope, hub, { name: 'beta' }),
    };
    // Every process of the run, for what they said about audit should the rows not match.
    const spawned = [hub.proc, nodes.alpha.proc, nodes.beta.proc];
    await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);

    // One client at a time; when the hub dies under it, the first worker to notice makes the next.
    let client: Promise<Client> = connectClient(scope, hub).then((c) => c.client);
    const reconnect = (dead: Promise<Client>) => {
      if (client !== dead) return;
      client = until(async () => (await connectClient(scope, hub)).client, 'a client on the restarted hub', 60_000);
    };

    let next = 0;
    let finished = 0;
    const succeeded: string[] = [];
    const worker = async () => {
      for (let i = next++; i < CALLS; i = next++) {
        const node = i % 2 === 0 ? 'alpha' : 'beta';
        const marker = `call-${i}`;
        const using = client;
        try {
          const result = await (await using).callTool({ name: `${node}__echo`, arguments: { text: marker } });
          if (result.isError !== true && text(result) === marker) succeeded.push(marker);
        } catch {
          // The hub is gone: wait for the next one rather than spend calls on nothing.
          reconnect(using);
          await client.catch(() => {});
        }
        finished += 1;
      }
    };
    const at = (count: number) => until(async () => finished >= count, `${count} calls`, 120_000);
    const chaos = async () => {
      await at(2_000);
      hub = await hub.restart('SIGKILL');
      spawned.push(hub.proc);
      await at(5_000);
      await nodes.alpha.proc.stop('SIGKILL');
      nodes.alpha = await nodes.alpha.start();
      spawned.push(nodes.alpha.proc);
      await at(7_500);
      hub = await hub.restart('SIGKILL');
      spawned.push(hub.proc);
    };
    await Promise.all([chaos(), ...Array.from({ length: WORKERS }, worker)]);
    // Only the calls in flight at a crash (and those to the killed node while it is down) fail;
    // a run where most failed would prove little about the rest.
    assert.ok(succeeded.length > CALLS / 2, `most calls succeed (${succeeded.length})`);

    // Every node has shipped all it wrote. The hub knows a node's head only from its last batch,
    // so a last call to each node marks the end: once its row is the newest the hub holds of that
    // node, every row the node wrote before it has landed (a node ships in seq order).
    // A client of its own: the workers' last one may belong to a hub that was killed since.
    const { client: last } = await connectClient(scope, hub);
    for (const node of ['alpha', 'beta'] as const) {
      const marker = `last-${node}`;
      // The workers may have spent their last calls while the restarted hub was still linking.
      await nodeUp(hub, node, 60_000);
      const result = await last.callTool({ name: `${node}__echo`, arguments: { text: marker } });
      assert.equal(text(result), marker);
      await until(
        async () => {
          const res = await admin(hub, 'GET', `/admin/audit?node=${node}&limit=1`);
          const { events } = (await res.json()) as { events: Array<{ params: { text?: string } }> };
          return events[0]?.params.text === marker ? true : undefined;
        },
        `${node} to ship its last row`,
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; what the processes said of audit:\n${auditLines(spawned)}`);
      });
    }
    const lagRes = await admin(hub, 'GET', '/admin/audit/lag');
    const { nodes: lag } = (await lagRes.json()) as { nodes: Lag[] };
    assert.deepEqual(
      lag.map((n) => [n.node, n.backlog]),
      [
        ['alpha', 0],
        ['beta', 0],
      ],
      'the hub reports no backlog',
    );
    const verified = await runCli(hub, ['audit', 'verify', '--json']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    // Stopped, each database is read as it is on disk.
    await Promise.all([hub.proc.stop(), nodes.alpha.proc.stop(), nodes.beta.proc.stop()]);
    const central = await openHomeDb(hub.home, 'hub-db');
    const markers = new Set<string>();
    try {
      for (const [name, node] of Object.entries(nodes)) {
        const local = await openHomeDb(node.home, 'node-db');
        const { rows: written } = await local.query<{ seq: string; hash: string }>(
          'SELECT seq, hash FROM tool_executions ORDER BY seq',
        );
        await local.close();
        const { rows: landed } = await central.query<{ seq: string; hash: string; text: string | null }>(
          "SELECT seq, hash, params->>'text' AS text FROM audit_events WHERE node_id = $1 ORDER BY seq",
          [name],
        );
        assert.ok(written.length > 1000, `${name} wrote its calls (${written.length})`);
        assert.deepEqual(
          landed.map((r) => `${r.seq}:${r.hash}`),
          written.map((r) => `${r.seq}:${r.hash}`),
          `${name}: the central rows (${landed.length}) are the node's rows (${written.length}), one for one; ` +
            `what the processes said of audit:\n${auditLines(spawned)}`,
        );
        for (const row of landed) {
          assert.ok(row.text !== null && !markers.has(row.text), `call ${row.text} executed once`);
          markers.add(row.text);
        }
      }
    } finally {
      await central.close();
    }
    const lost = succeeded.filter((m) => !markers.has(m));
    assert.deepEqual(lost, [], 'every call the client saw succeed is in the central table');
  });
});
