/**
 * The audit trail under load:
 *  1. ingest rate: audit events per second committed to the central table, signed batches of
 *     500 from two nodes, against the real Postgres (DATABASE_URL, default the local server)
 *     and, for comparison, the embedded one;
 *  2. end-to-end lag: from a call's answer reaching the client to its event reaching a tail of
 *     the hub, while 16 clients call as fast as they can through the hub to two nodes.
 *
 *   npm run bench -- audit
 */
import {
  type AuditBatch,
  type AuditEvent,
  auditHash,
  createLogger,
  createMemoryStore,
  type Db,
  GENESIS_HASH,
  KeyRing,
  migrate,
  openEmbeddedDb,
  openPostgresDb,
  signAuditBatch,
} from '@brainmesh/shared';
import { tempDir, uniqueName } from '@brainmesh/shared/testing';
import { admin, connectClient, nodeUp, realStorage, startHub, startNode, suiteScope } from '../e2e/support/mesh.js';
import { AuditIngest } from '../hub/src/audit/ingest.js';
import { HUB_MIGRATIONS } from '../hub/src/hub.js';
import type { NodeRecord } from '../hub/src/registry.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const LOAD_MS = Number(process.env.BENCH_MS ?? 10_000);
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;

async function ingestRate(db: Db, label: string): Promise<void> {
  await migrate(db, HUB_MIGRATIONS);
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const ingest = new AuditIngest(db, createMemoryStore(), 'hub', logger);
  const nodes = await Promise.all(
    ['alpha', 'beta'].map(async (id) => {
      const ring = await KeyRing.ephemeral();
      return { record: { id, jwks: ring.jwks() } as NodeRecord, ring, seq: 0, prev: GENESIS_HASH };
    }),
  );
  // Batches are made (hashed and signed) before the clock starts: this measures the hub.
  const batches: Array<{ node: NodeRecord; batch: AuditBatch }> = [];
  for (let made = 0; made < EVENTS; made += 500) {
    const node = nodes[(made / 500) % 2]!;
    const events: AuditEvent[] = [];
    for (let i = 0; i < 500; i++) {
      node.seq += 1;
      const fields = {
        nodeId: node.record.id,
        seq: node.seq,
        at: new Date().toISOString(),
        tool: 'echo',
        params: { text: `call ${node.seq}`, customer: { id: node.seq, email: 'someone@example.com' } },
        response: { content: [{ type: 'text', text: `call ${node.seq}` }] },
        error: null,
        durationMs: 3,
        status: 'ok' as const,
        source: 'live' as const,
        principal: 'key:bench',
        traceId: `trace-${node.record.id}-${node.seq}`,
      };
      const hash = auditHash(node.prev, fields);
      events.push({ ...fields, prevHash: node.prev, hash });
      node.prev = hash;
    }
    const signature = await signAuditBatch(node.ring, {
      iss: node.record.id,
      aud: 'hub',
      first: events[0]!.seq,
      last: node.seq,
      prev: events[0]!.prevHash,
      head: node.prev,
    });
    batches.push({ node: node.record, batch: { events, signature, nodeHead: node.seq } });
  }
  const t0 = performance.now();
  // Both nodes ship at once, as they would.
  await Promise.all(
    [0, 1].map(async (lane) => {
      for (let i = lane; i < batches.length; i += 2) await ingest.ingest(batches[i]!.node, batches[i]!.batch);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${EVENTS} events in ${s.toFixed(2)} s = ${Math.round(EVENTS / s)} events/s committed`);
}

const schema = uniqueName('bench');
const pg = await openPostgresDb({ url: DATABASE_URL, schema });
try {
  await ingestRate(pg, 'ingest, real Postgres');
} finally {
  await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pg.close();
}
const dir = tempDir('bench-pglite');
const embedded = await openEmbeddedDb({ dataDir: dir.dir });
try {
  await ingestRate(embedded, 'ingest, embedded Postgres');
} finally {
  await embedded.close();
  dir.remove();
}

// End-to-end lag, with the hub on the real Postgres and Redis.
const scope = suiteScope();
try {
  const real = await realStorage(scope, { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL });
  const unlimited = 1_000_000_000;
  const hub = await startHub(scope, {
    real,
    limits: { requests: unlimited, toolCalls: { read: unlimited, write: unlimited, destructive: unlimited } },
  });
  await Promise.all([startNode(scope, hub, { name: 'alpha' }), startNode(scope, hub, { name: 'beta' })]);
  await Promise.all([nodeUp(hub, 'alpha'), nodeUp(hub, 'beta')]);

  const answered = new Map<string, number>();
  const lags: number[] = [];
  const tail = await admin(hub, 'GET', '/admin/audit/tail');
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of tail.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        if (data === undefined) continue;
        const marker = (JSON.parse(data.slice(6)) as { params: { text: string } }).params.text;
        const at = answered.get(marker);
        if (at !== undefined) lags.push(performance.now() - at);
      }
    }
  })().catch(() => {});

  const { client } = await connectClient(scope, hub);
  let n = 0;
  const until = performance.now() + LOAD_MS;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        const marker = `m${n++}`;
        await client.callTool({ name: `${n % 2 ? 'alpha' : 'beta'}__echo`, arguments: { text: marker } });
        answered.set(marker, performance.now());
      }
    }),
  );
  const deadline = performance.now() + 30_000;
  while (lags.length < answered.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  lags.sort((a, b) => a - b);
  console.log(
    `end-to-end lag, call answered to tail (ms), ${answered.size} calls in ${LOAD_MS / 1000} s (${Math.round(answered.size / (LOAD_MS / 1000))} calls/s): ` +
      `p50 ${pct(lags, 50).toFixed(0)}  p95 ${pct(lags, 95).toFixed(0)}  p99 ${pct(lags, 99).toFixed(0)}  max ${lags[lags.length - 1]!.toFixed(0)}  (${lags.length} seen)`,
  );
  await tail.body?.cancel();
  await reading;
} finally {
  await scope.dispose();
}
process.exit(0);
