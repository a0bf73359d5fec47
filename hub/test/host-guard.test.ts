import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger, KeyRing, migrate } from '@brainmesh/shared';
import { dbBackends, storeBackends } from '@brainmesh/shared/testing';
import type { FastifyInstance } from 'fastify';
import { ApiKeys } from '../src/api-keys.js';
import { HubCallLog } from '../src/audit/hub-calls.js';
import { AuditIngest } from '../src/audit/ingest.js';
import { HUB_MIGRATIONS } from '../src/hub.js';
import { buildHubApp, hubConfigSchema } from '../src/index.js';
import { Mesh } from '../src/mesh/mesh.js';
import { Registry } from '../src/registry.js';
import { hostCheck } from '../src/routes/host.js';

const [dbBackend] = dbBackends();
const [storeBackend] = storeBackends();

interface TestContext {
  after(fn: () => unknown): void;
}

/** A hub app on 127.0.0.1, port 0, with `config`; its log lines are collected. */
async function listeningHub(
  t: TestContext,
  config: object,
): Promise<{ app: FastifyInstance; port: number; logs: Array<Record<string, unknown>> }> {
  const parsed = hubConfigSchema.parse(config);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: 'test',
    level: 'info',
    destination: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const db = await dbBackend!.open();
  const store = await storeBackend!.open();
  await migrate(db.value, HUB_MIGRATIONS);
  const ring = await KeyRing.ephemeral();
  const registry = new Registry(db.value, store.value);
  const mesh = new Mesh({ registry, ring, store: store.value, hubId: 'hub', logger, settings: parsed.links });
  await mesh.start();
  const app = await buildHubApp({
    config: parsed,
    db: db.value,
    store: store.value,
    logger,
    ring,
    registry,
    keys: new ApiKeys(db.value),
    mesh,
    calls: new HubCallLog(db.value, logger),
    ingest: new AuditIngest(db.value, store.value, parsed.hub.id, logger),
  });
  t.after(async () => {
    await app.close();
    await mesh.stop();
    await store.dispose();
    await db.dispose();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port, logs };
}

/** A real request over the socket with any Host header (fetch will not send one of ours). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the Host check (DNS rebinding)', () => {
  it('refuses a foreign Host on a loopback hub with 403 and the usual error body, and logs it', async (t) => {
    const { port, logs } = await listeningHub(t, {});
    for (const path of ['/healthz', '/.well-known/oauth-authorization-server', '/oauth/authorize']) {
      const refused = await get(port, path, `evil.example:${port}`);
      assert.equal(refused.status, 403, path);
      assert.deepEqual(JSON.parse(refused.body), { code: 'FORBIDDEN', message: 'this Host is not allowed' });
    }
    const line = logs.find((l) => l.msg === 'foreign host refused');
    assert.equal(line?.host, `evil.example:${port}`);
    // The hub's own loopback names only on its own port; no port means 80.
    for (const host of [`evil.example`, `127.0.0.1:${port + 1}`, 'localhost', `localhost:${port}@evil.example`]) {
      assert.equal((await get(port, '/healthz', host)).status, 403, host);
    }
  });

  it('serves the hub’s own names on its actual port', async (t) => {
    const { app, port } = await listeningHub(t, {});
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      const res = await get(port, '/healthz', host);
      assert.equal(res.status, 200, host);
      assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    }
    // inject goes through the same hooks once the app listens.
    assert.equal((await app.inject({ url: '/healthz', headers: { host: `localhost:${port}` } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/healthz', headers: { host: 'evil.example' } })).statusCode, 403);
  });

  it('serves configured hosts behind a proxy: server.allowedHosts and the host of hub.publicUrl', async (t) => {
    const { port } = await listeningHub(t, {
      hub: { publicUrl: 'https://hub.example.com' },
      server: { allowedHosts: ['Proxy.Internal', 'lan.example:9443'] },
    });
    for (const host of [
      'hub.example.com',
      'hub.example.com:443',
      'proxy.internal',
      'proxy.internal:8080',
      'lan.example:9443',
      `127.0.0.1:${port}`,
    ]) {
      assert.equal((await get(port, '/healthz', host)).status, 200, host);
    }
    for (const host of ['lan.example:9444', 'lan.example', 'evil.example', 'hub.example.com.evil.example']) {
      assert.equal((await get(port, '/healthz', host)).status, 403, host);
    }
  });

  it('bound beyond loopback, checks Host only when server.allowedHosts says which names', () => {
    const open = hostCheck({ bindHost: '0.0.0.0', port: 8080, allowedHosts: [], publicUrl: 'https://hub.example.com' });
    assert.equal(open, undefined, 'a container’s hub is reached by names it cannot guess');
    const lan = hostCheck({ bindHost: '192.168.1.5', port: 8080, allowedHosts: ['hub.lan'], publicUrl: undefined });
    assert.ok(lan);
    for (const host of ['hub.lan', 'hub.lan:8080', '192.168.1.5:8080', 'localhost:8080'])
      assert.equal(lan(host), true, host);
    for (const host of ['evil.example:8080', '192.168.1.5:8081', undefined]) assert.equal(lan(host), false, host);
    const wildcard = hostCheck({ bindHost: '::', port: 8080, allowedHosts: ['hub:8080'], publicUrl: undefined });
    assert.ok(wildcard);
    assert.equal(wildcard('hub:8080'), true);
    assert.equal(wildcard('[::]:8080'), false);
  });

  it('takes allowedHosts as names, lowercased, and refuses URLs', () => {
    const parsed = hubConfigSchema.parse({
      server: { allowedHosts: ['Hub.Example.com', 'hub:8080', '[fd00::1]:443'] },
    });
    assert.deepEqual(parsed.server.allowedHosts, ['hub.example.com', 'hub:8080', '[fd00::1]:443']);
    for (const bad of ['https://hub.example.com', 'hub.example.com/mcp', 'hub example']) {
      assert.throws(() => hubConfigSchema.parse({ server: { allowedHosts: [bad] } }), /allowedHosts/, bad);
    }
  });
});
