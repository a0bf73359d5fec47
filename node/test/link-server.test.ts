import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger, type Envelope, type LinkSocket } from '@brainmesh/shared';
import { z } from 'zod';
import { SourceDirectory } from '../src/directory.js';
import { LinkServer } from '../src/link-server.js';
import { NodeService } from '../src/node-service.js';
import { defineTool, textResult } from '../src/pack.js';
import { PackSource } from '../src/pack-source.js';

const logger = createLogger({ name: 'test', level: 'silent' });

/** The hub's end, as the node's link server sees it: frames in, frames out. */
class FakeSocket extends EventEmitter {
  readonly sent: Envelope[] = [];
  send(envelope: Envelope): void {
    this.sent.push(envelope);
    this.emit('sent', envelope);
  }
  answerTo(id: number): Promise<Envelope> {
    const found = this.sent.find((e) => (e.m as { id?: number; method?: string }).id === id && !('method' in e.m));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) =>
      this.on('sent', (e: Envelope) => {
        if ((e.m as { id?: number }).id === id && !('method' in e.m)) resolve(e);
      }),
    );
  }
}

function serve() {
  const socket = new FakeSocket();
  const rotations: number[] = [];
  const seen: Array<{ principal: string; sampling: boolean }> = [];
  const tools = [
    defineTool({
      name: 'whoami',
      description: 'who is calling, and what the client can do',
      input: z.object({}),
      handler: async (_args, ctx) => {
        seen.push({ principal: ctx.principal, sampling: ctx.clientCapabilities.sampling });
        return textResult(ctx.principal);
      },
    }),
    defineTool({
      name: 'wait',
      description: 'waits until cancelled',
      input: z.object({}),
      handler: async (_args, ctx) => {
        await delay(60_000, undefined, { signal: ctx.signal });
        return textResult('done');
      },
    }),
  ];
  const service = new NodeService({
    nodeName: 'n1',
    directory: new SourceDirectory([new PackSource([{ name: 'test', tools }])]),
    logger,
    audit: { record: async () => 1 } as never,
    maxAuditResponseBytes: 65_536,
  });
  new LinkServer(socket as unknown as LinkSocket, service, {
    logger,
    bounds: { maxDepth: 64, maxBytes: 1_000_000 },
    hubPrincipal: 'hub:h',
    rotateKeys: async () => {
      rotations.push(1);
      return { active: 'k2', retired: [], jwks: { keys: [] } };
    },
  });
  const request = (envelope: Omit<Envelope, 'm'> & { id: number; method: string; params?: unknown }) => {
    const { id, method, params, ...rest } = envelope;
    socket.emit('message', { ...rest, m: { jsonrpc: '2.0', id, method, params: params ?? {} } } as Envelope);
    return socket.answerTo(id);
  };
  return { socket, request, rotations, seen };
}

describe('the node’s end of the link', () => {
  it('serves each request for the principal and client its envelope and _meta name, keeping nothing', async () => {
    const { request, seen } = serve();
    const meta = { 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } };
    const a = await request({
      ch: 's1',
      p: 'key:a',
      id: 1,
      method: 'tools/call',
      params: { name: 'whoami', _meta: meta },
    });
    const b = await request({ ch: 's2', p: 'key:b', id: 2, method: 'tools/call', params: { name: 'whoami' } });
    assert.equal(a.ch, 's1');
    assert.equal(b.ch, 's2');
    assert.deepEqual(seen, [
      { principal: 'key:a', sampling: true },
      { principal: 'key:b', sampling: false },
    ]);
  });

  it('rotates its keys only when the hub asks for itself, never for a client it relays', async () => {
    const { request, rotations } = serve();
    const relayed = await request({ ch: 's1', p: 'key:a', id: 1, method: 'brainmesh/rotateKeys' });
    assert.equal((relayed.m as { error?: { code: number } }).error?.code, -32601);
    assert.deepEqual(rotations, []);
    const own = await request({ ch: 'catalog', id: 2, method: 'brainmesh/rotateKeys' });
    assert.deepEqual((own.m as { result?: { active: string } }).result?.active, 'k2');
    assert.deepEqual(rotations, [1]);
  });

  it('stops a request the hub cancels', async () => {
    const { socket, request } = serve();
    const answer = request({ ch: 's1', p: 'key:a', id: 7, method: 'tools/call', params: { name: 'wait' } });
    await delay(20);
    socket.emit('message', {
      ch: 's1',
      m: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } },
    } as Envelope);
    const ended = await answer;
    assert.match(JSON.stringify(ended.m), /"isError":true|"error"/);
  });
});
