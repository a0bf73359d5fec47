import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, createMemoryStore, KeyRing } from '@brainmesh/shared';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Catalog, hubResourceUri, parseHubResourceUri } from '../src/mesh/catalog.js';
import { NodeLink } from '../src/mesh/node-link.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const settings = {
  callTimeoutMs: 1000,
  healthIntervalMs: 1000,
  healthTimeoutMs: 500,
  breakerFailures: 3,
  breakerHalfOpenMs: 1000,
  maxMessageDepth: 64,
  maxMessageBytes: 1_000_000,
};
const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });

async function link(id: string, tools: Tool[], status: NodeLink['status'] = 'up'): Promise<NodeLink> {
  const ring = await KeyRing.ephemeral();
  const l = new NodeLink(
    {
      id,
      url: 'http://127.0.0.1:9',
      jwks: ring.jwks(),
      status: 'enabled',
      enrolledAt: new Date(),
      updatedAt: new Date(),
    },
    { hubId: 'hub', ring, store: createMemoryStore(), logger, settings },
  );
  l.lists = { tools, resources: [{ uri: 'file:///notes.md', name: 'notes' }], templates: [], prompts: [] };
  l.status = status;
  return l;
}

describe('catalog', () => {
  it('namespaces every node’s tools and routes each name back to its node', async () => {
    const links = new Map([
      ['alpha', await link('alpha', [tool('echo'), tool('search.contacts')])],
      ['beta', await link('beta', [tool('echo')])],
    ]);
    const catalog = new Catalog(links);
    assert.deepEqual(
      catalog.listTools().map((t) => t.name),
      ['alpha__echo', 'alpha__search_contacts', 'beta__echo'],
    );
    const routed = catalog.resolveTool('alpha__search_contacts');
    assert.equal(routed?.link.id, 'alpha');
    assert.equal(routed?.name, 'search.contacts');
    assert.deepEqual(catalog.problems, []);
  });

  it('withholds two tools that would share a name, and reports them instead of overwriting', async () => {
    const catalog = new Catalog(new Map([['alpha', await link('alpha', [tool('a.b'), tool('a_b'), tool('ok')])]]));
    assert.deepEqual(
      catalog.listTools().map((t) => t.name),
      ['alpha__ok'],
    );
    assert.equal(catalog.resolveTool('alpha__a_b'), undefined);
    assert.deepEqual(catalog.problems, [
      { node: 'alpha', message: 'tools a.b, a_b all map to alpha__a_b; none of them is served' },
    ]);
  });

  it('lists only nodes that are up, but still knows a down node’s names', async () => {
    const catalog = new Catalog(new Map([['alpha', await link('alpha', [tool('echo')], 'down')]]));
    assert.deepEqual(catalog.listTools(), []);
    assert.equal(catalog.resolveTool('alpha__echo')?.link.id, 'alpha');
    assert.equal(catalog.ownerByNamespace('alpha__anything')?.id, 'alpha');
  });

  it('wraps resource URIs reversibly', async () => {
    const catalog = new Catalog(new Map([['alpha', await link('alpha', [])]]));
    assert.deepEqual(
      catalog.listResources().map((r) => r.uri),
      ['brainmesh://alpha/file:///notes.md'],
    );
    assert.equal(hubResourceUri('alpha', 'file:///notes.md'), 'brainmesh://alpha/file:///notes.md');
    assert.deepEqual(parseHubResourceUri('brainmesh://alpha/file:///notes.md'), {
      nodeId: 'alpha',
      uri: 'file:///notes.md',
    });
    assert.equal(parseHubResourceUri('file:///notes.md'), undefined);
    assert.equal(catalog.resolveResource('brainmesh://beta/x')?.link, undefined);
  });
});
