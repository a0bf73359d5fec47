import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPostgresDb } from '@brainmesh/shared';
import { realServers } from '@brainmesh/shared/testing';
import { parse } from 'yaml';
import { findHaproxy, haproxyConfig, startHaproxy } from '../support/haproxy.js';
import {
  admin,
  type ConnectedClient,
  connectClient,
  connectModernClient,
  type HubProcess,
  limitWindowSeconds,
  nodeUp,
  realStorage,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

/**
 * Three hub replicas on one Postgres and one Redis behind an ordinary HAProxy (round robin, no
 * affinity), sixteen clients of both protocol eras calling for a minute, one replica SIGKILLed
 * and restarted on the way. A client may be answered by any replica at any request: a 2025-era
 * session is kept in the store and taken up wherever its next request lands; a 2026-era client
 * has no session. What must hold: no call is answered wrongly; every failure is the proxy's
 * "try again" for a call that was in flight on the killed replica; each call the node ran is in
 * the central audit once.
 */

const { databaseUrl, redisUrl } = realServers();
const SECONDS = 60;
const CLIENTS = 16;
/** Writes a principal may make in the window, across all replicas together. */
const WRITES = 20;

interface Outcome {
  ok: number;
  wrong: string[];
  failed: string[];
  succeeded: string[];
}

if (databaseUrl !== undefined && redisUrl !== undefined) {
  describe('hub replicas behind HAProxy', { timeout: 300_000 }, () => {
    const ctx = suiteScope();
    after(() => ctx.dispose());
    let replicas: HubProcess[];
    let lb: { url: string };
    let real: Awaited<ReturnType<typeof realStorage>>;

    before(async () => {
      real = await realStorage(ctx, { databaseUrl, redisUrl });
      // A minute of sixteen clients at full speed is many thousands of reads from one principal:
      // only writes are limited here, to be counted once across the replicas, in a window no test
      // runs across.
      const limits = {
        windowSeconds: limitWindowSeconds(),
        requests: 10_000_000,
        toolCalls: { read: 10_000_000, write: WRITES, destructive: 100 },
      };
      // Behind the proxy, requests name it (127.0.0.1 on its own port), not the replica.
      const options = { real, limits, allowedHosts: ['127.0.0.1'] };
      const first = await startHub(ctx, options);
      // The others share the first's home: its key file (hub.keysFile in a deployment) and
      // operator key; nothing else of a hub's is on disk with real storage.
      replicas = [
        first,
        await startHub(ctx, { ...options, home: first.home }),
        await startHub(ctx, { ...options, home: first.home }),
      ];
      lb = await startHaproxy(
        ctx,
        replicas.map((r, i) => ({ name: `hub-${i + 1}`, url: r.url })),
      );
      // The node enrols, announces and ships its audit through the proxy, as it would in a
      // deployment; every replica dials it.
      await startNode(ctx, { ...first, url: lb.url }, { name: 'alpha' });
      await Promise.all(replicas.map((r) => nodeUp(r, 'alpha')));
    });

    it('links a node that dials out, through the proxy, to every replica', async () => {
      // Behind NAT: no port, it dials the proxy's address; each replica must have it.
      await startNode(ctx, { ...replicas[0]!, url: lb.url }, { name: 'laptop', dial: true });
      await Promise.all(replicas.map((r) => nodeUp(r, 'laptop', 30_000)));
      for (const replica of replicas) {
        const { client } = await connectModernClient(ctx, replica);
        const echoed = await client.callTool({ name: 'laptop__echo', arguments: { text: replica.url } });
        assert.equal(text(echoed as Record<string, unknown>), replica.url, `served by the replica at ${replica.url}`);
      }
    });

    it('counts a principal’s calls once across the replicas behind the proxy', async () => {
      const res = await admin(replicas[0]!, 'POST', '/admin/keys', { name: 'writer', scopes: ['node:alpha'] });
      const { key } = (await res.json()) as { key: string };
      // Clients of both eras, each request balanced on its own across the three replicas.
      const writers = [
        await connectClient(ctx, { url: lb.url, key }),
        await connectModernClient(ctx, { url: lb.url, key }),
      ];
      const answers: string[] = [];
      for (let n = 0; n < WRITES + 6; n++) {
        const result = (await writers[n % 2]!.client.callTool({
          name: 'alpha__remember',
          arguments: { key: `k${n}`, text: `note ${n}` },
        })) as Record<string, unknown>;
        answers.push(
          result.isError === true ? (text(result).startsWith('rate limited') ? 'limited' : text(result)) : 'ok',
        );
      }
      assert.deepEqual(
        answers,
        [...Array(WRITES).fill('ok'), ...Array(6).fill('limited')],
        'the first WRITES pass wherever they land, and no more',
      );
    });

    it('answers every call rightly while a replica is killed and comes back; failures say try again', async (t) => {
      const key = replicas[0]!.key;
      const legacy: ConnectedClient[] = [];
      const modern: Awaited<ReturnType<typeof connectModernClient>>[] = [];
      for (let i = 0; i < CLIENTS / 2; i++) {
        legacy.push(await connectClient(ctx, { url: lb.url, key }));
        modern.push(await connectModernClient(ctx, { url: lb.url, key }));
      }
      const callers: Array<(text: string) => Promise<Record<string, unknown>>> = [
        ...legacy.map((c) => (t: string) => c.client.callTool({ name: 'alpha__echo', arguments: { text: t } })),
        ...modern.map(
          (c) => (t: string) =>
            c.client.callTool({ name: 'alpha__echo', arguments: { text: t } }) as Promise<Record<string, unknown>>,
        ),
      ];
      const outcome: Outcome = { ok: 0, wrong: [], failed: [], succeeded: [] };
      const deadline = Date.now() + SECONDS * 1000;
      const run = Promise.all(
        callers.map(async (call, c) => {
          for (let n = 0; Date.now() < deadline; n++) {
            const marker = `${real.schema}-c${c}-n${n}`;
            try {
              const said = text(await call(marker));
              if (said === marker) {
                outcome.ok++;
                outcome.succeeded.push(marker);
              } else outcome.wrong.push(`${marker} answered ${said.slice(0, 200)}`);
            } catch (err) {
              const cause = (err as { cause?: Error }).cause?.message;
              outcome.failed.push(
                `${marker}: ${(err as Error).message.slice(0, 300)}${cause === undefined ? '' : ` (${cause})`}`,
              );
            }
          }
        }),
      );

      // A third of the way in, one replica dies; two thirds in, it is back, on its port.
      const victim = 1;
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      await replicas[victim]!.proc.stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      replicas[victim] = await replicas[victim]!.restart();
      await run;

      t.diagnostic(`answered ${outcome.ok}; failed ${outcome.failed.length}:\n${outcome.failed.join('\n')}`);
      assert.deepEqual(outcome.wrong, [], 'no call answered with another call’s answer');
      assert.ok(outcome.ok > 1_000, `calls answered: ${outcome.ok}`);
      // The proxy's own "try again" (a 502 with a JSON-RPC error: each POST is the first on its
      // client connection), or the same words from another replica to a 2025-era client whose cut
      // stream it took up (docs/architecture.md, "Replicas").
      assert.deepEqual(
        outcome.failed.filter(
          (f) => !/stopped before it answered.*try again|no hub replica could take.*try again/.test(f),
        ),
        [],
        `every failure is a "try again"; all failures:\n${outcome.failed.join('\n')}`,
      );
      // Only calls in flight on the killed replica fail: at most one a client.
      assert.ok(outcome.failed.length <= CLIENTS, `failures: ${outcome.failed.length}\n${outcome.failed.join('\n')}`);

      // Every call the clients saw succeed is in the central audit, and no call is there twice.
      const central = await openPostgresDb({ url: databaseUrl, schema: real.schema });
      ctx.after(() => central.close());
      const landed = async () =>
        (
          await central.query<{ text: string; n: number }>(
            "SELECT params->>'text' AS text, count(*)::int AS n FROM audit_events WHERE node_id = 'alpha' GROUP BY 1",
          )
        ).rows;
      await until(
        async () => {
          const seen = new Set((await landed()).map((r) => r.text));
          return outcome.succeeded.every((m) => seen.has(m));
        },
        'every answered call in the central audit',
        60_000,
      );
      const twice = (await landed()).filter((r) => r.n > 1);
      assert.deepEqual(twice, [], 'no call recorded twice');
    });
  });
}

describe('the compose deployment of replicas', () => {
  const docker = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docker');

  it('runs two hubs behind HAProxy, which alone is published, with a configuration HAProxy accepts', async () => {
    const compose = parse(readFileSync(path.join(docker, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { ports?: string[]; volumes?: string[]; environment?: Record<string, unknown> }>;
    };
    const published = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length > 0);
    assert.deepEqual(
      published.map(([name, s]) => [name, s.ports]),
      [['haproxy', ['127.0.0.1:8080:8080']]],
    );
    for (const hub of ['hub-1', 'hub-2']) {
      assert.deepEqual(compose.services[hub]?.volumes, ['hubdata:/data'], `${hub} shares the key file's volume`);
      assert.match(String(compose.services[hub]?.environment?.REDIS_URL), /^redis:\/\/redis:/);
    }
    for (const node of ['medtainer', 'spectrum', 'devmcp'])
      assert.equal(
        compose.services[node]?.environment?.BRAINMESH_HUB_URL,
        'http://haproxy:8080',
        `${node} goes through the proxy`,
      );
    // The same balancing as the tests' proxy, and a configuration HAProxy takes as it is.
    const cfg = readFileSync(path.join(docker, 'haproxy.cfg'), 'utf8');
    assert.match(cfg, /balance roundrobin/);
    assert.doesNotMatch(cfg, /^\s*(cookie|stick|hash-type|balance source)/m, 'no affinity of any kind');
    for (const line of haproxyConfig('x:1', [{ name: 'h', address: 'h:1' }]).split('\n'))
      if (/txn\.close|retry-on|http-error/.test(line))
        assert.ok(cfg.includes(line.trim()), `the tests' proxy's rule is in docker/haproxy.cfg too: ${line.trim()}`);
    const checked = spawnSync(findHaproxy(), ['-c', '-f', path.join(docker, 'haproxy.cfg')], { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stderr);
  });
});
