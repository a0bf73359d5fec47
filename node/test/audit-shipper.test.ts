import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger, KeyRing, migrate, openEmbeddedDb } from '@brainmesh/shared';
import { AuditRecorder } from '../src/audit/recorder.js';
import { AuditShipper } from '../src/audit/shipper.js';
import { NODE_MIGRATIONS } from '../src/node.js';

/** A stand-in hub's audit endpoint on loopback: refuses with 503 until `open`, then takes batches. */
async function standInHub() {
  const state = { open: false, refused: 0, batches: [] as Array<{ events: Array<{ seq: number }> }> };
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!state.open) {
      state.refused += 1;
      server.emit('refused');
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"starting"}');
      return;
    }
    const batch = JSON.parse(Buffer.concat(chunks).toString()) as (typeof state.batches)[number];
    state.batches.push(batch);
    server.emit('batch');
    const last = batch.events[batch.events.length - 1]!.seq;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ next: last + 1 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const logger = createLogger({ name: 'test', level: 'silent' });

describe('the audit shipper', { timeout: 30_000 }, () => {
  it('tries again at once when woken (the hub is back), not at the end of its wait', async (t) => {
    const db = await openEmbeddedDb();
    t.after(() => db.close());
    await migrate(db, NODE_MIGRATIONS);
    const recorder = new AuditRecorder(db, 'alpha', logger);
    await recorder.open();
    const hub = await standInHub();
    t.after(() => hub.server.close());
    const shipper = new AuditShipper({
      db,
      ring: await KeyRing.ephemeral(),
      recorder,
      logger: logger,
      nodeId: 'alpha',
      hubId: 'hub',
      hubUrl: hub.url,
      lingerMs: 0,
      // After one failure the shipper would wait an hour: only a wake can make it try again.
      retryDelayMs: { initial: 3_600_000, max: 3_600_000 },
    });
    const stop = new AbortController();
    const running = shipper.run(stop.signal);
    t.after(async () => {
      stop.abort();
      await running;
    });

    const refused = once(hub.server, 'refused');
    await recorder.record({
      at: new Date(),
      tool: 'echo',
      params: { text: 'one' },
      response: null,
      error: null,
      durationMs: 1,
      status: 'ok',
      source: 'live',
      principal: 'key:test',
      traceId: 'trace-1',
    });
    await refused;
    assert.equal(shipper.backlog, 1);

    hub.state.open = true;
    const landed = once(hub.server, 'batch');
    shipper.wake();
    await landed;
    assert.deepEqual(
      hub.state.batches.map((b) => b.events.map((e) => e.seq)),
      [[1]],
    );
    assert.equal(hub.state.refused, 1, 'one try before the wake, one after');
  });
});
