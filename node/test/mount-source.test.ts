import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createLogger } from '@brainmesh/shared';
import type { ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { MountSource } from '../src/mounts/mount-source.js';
import type { CallContext } from '../src/source.js';
import { serveMounted } from './support/mounted-server.js';

/**
 * A mount serves every caller of its tools over one session with the mounted server: each
 * answer, progress update, cancellation and elicitation must find its own call.
 */

const logger = createLogger({ name: 'mount-test', level: 'silent' });

async function mount(t: TestContext) {
  const served = await serveMounted(t);
  const source = new MountSource(
    {
      transport: 'http',
      name: 'remote',
      url: served.url.href,
      headers: { authorization: 'Bearer mount-secret' },
      prefix: 'ev',
    },
    logger,
  );
  await source.start();
  t.after(() => source.close());
  assert.equal(source.state, 'up');
  return { ...served, source };
}

function context(overrides: Partial<CallContext> = {}): CallContext & { updates: number[] } {
  const updates: number[] = [];
  return {
    principal: 'key:test',
    traceId: 'trace',
    logger,
    signal: new AbortController().signal,
    progress: async (p) => {
      updates.push(p.progress);
    },
    sample: () => Promise.reject(new Error('no sampling here')),
    elicit: () => Promise.reject(new Error('no elicitation here')),
    callMesh: () => Promise.reject(new Error('no mesh here')),
    clientCapabilities: { sampling: false, elicitation: true },
    markSource: () => {},
    ...overrides,
    updates,
  };
}

describe('a mounted server’s tools called through the mount', { timeout: 30_000 }, () => {
  it('answers each of many calls at once with its own result, under the unprefixed name', async (t) => {
    const { source } = await mount(t);
    assert.deepEqual(
      (await source.listTools()).map((tool) => tool.name),
      ['ev_echo', 'ev_slow', 'ev_hold', 'ev_ask'],
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => source.callTool('ev_echo', { text: `hi ${i}` }, context())),
    );
    assert.deepEqual(
      answers.map((a) => (a.content as Array<{ text: string }>)[0]?.text),
      Array.from({ length: 20 }, (_, i) => `hi ${i}`),
    );
  });

  it('passes progress on in order, all of it before the answer', async (t) => {
    const { source } = await mount(t);
    const ctx = context();
    const result = await source.callTool('ev_slow', {}, ctx);
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'done');
    assert.deepEqual(ctx.updates, [1, 2, 3]);
  });

  it('tells the server when the caller cancels, and fails the call at once', async (t) => {
    const { source, holding, cancelled } = await mount(t);
    const abort = new AbortController();
    const call = source.callTool('ev_hold', {}, context({ signal: abort.signal }));
    await holding;
    abort.abort(new Error('user pressed stop'));
    await assert.rejects(call, /user pressed stop/);
    // The server's handler was stopped with the caller's reason: the cancellation reached it.
    assert.match(String(await cancelled), /user pressed stop/);
  });

  it('brings the server’s elicitation during a call to the caller, and its answer back', async (t) => {
    const { source } = await mount(t);
    const asked: ElicitRequest['params'][] = [];
    const result = await source.callTool(
      'ev_ask',
      {},
      context({
        elicit: async (params) => {
          asked.push(params);
          return { action: 'accept', content: { ok: true } };
        },
      }),
    );
    assert.equal(asked[0]?.message, 'go ahead?');
    assert.deepEqual(JSON.parse((result.content as Array<{ text: string }>)[0]!.text), {
      action: 'accept',
      content: { ok: true },
    });
  });

  it('fails with the server’s own words when it refuses a call', async (t) => {
    const { source } = await mount(t);
    const outcome = await source.callTool('ev_nope', {}, context()).then(
      (result) => JSON.stringify(result),
      (err: unknown) => String(err),
    );
    assert.match(outcome, /nope/);
  });

  it('fails a call still waiting when the mount is closed, rather than leaving it hanging', async (t) => {
    const { source, holding } = await mount(t);
    const call = source.callTool('ev_hold', {}, context());
    await holding;
    await source.close();
    await assert.rejects(call, /closed/i);
  });
});
