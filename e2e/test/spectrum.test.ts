import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { admin, connectClient, type HubProcess, nodeUp, startHub, startNode, text, until } from '../support/mesh.js';

/**
 * Spectrum through the hub, as its agents use it: each agent an MCP client session with a key of
 * its own, working as one role.
 */

const ROLES = ['strategist', 'builder', 'closer', 'operator'];
// 200 tasks made by one key and claimed by two: above the default write allowance.
const LIMITS = { windowSeconds: 3_600, requests: 10_000, toolCalls: { read: 10_000, write: 10_000, destructive: 100 } };

async function spectrumMesh(t: TestContext, seed: 'sample' | 'none'): Promise<HubProcess> {
  const hub = await startHub(t, { limits: LIMITS });
  await startNode(t, hub, { name: 'spectrum', packs: [{ use: 'spectrum', settings: { seed } }] });
  await nodeUp(hub, 'spectrum');
  return hub;
}

async function agent(t: TestContext, hub: HubProcess, name: string, scopes: string[], capabilities = {}) {
  const res = await admin(hub, 'POST', '/admin/keys', { name, scopes });
  assert.equal(res.status, 201, await res.clone().text());
  const { key } = (await res.json()) as { key: string };
  return (await connectClient(t, { url: hub.url, key }, capabilities)).client;
}

const json = (result: Record<string, unknown>) =>
  (result.structuredContent as Record<string, unknown> | undefined) ?? JSON.parse(text(result));

describe('Spectrum through the hub', { timeout: 240_000 }, () => {
  it('shows each role’s tools and prompt, and a key scoped to one role reaches that role only', async (t) => {
    const hub = await spectrumMesh(t, 'sample');
    const operator = await agent(t, hub, 'ops', ['admin']);
    const { tools } = await operator.listTools();
    for (const role of ROLES) {
      const mine = tools.filter((tool) => tool.name.startsWith(`spectrum__${role}_`));
      assert.ok(mine.length >= 13, `${role}: ${mine.length} tools`);
      for (const tool of mine) {
        assert.ok(tool.description !== undefined && tool.description.length > 20, tool.name);
        assert.equal(typeof tool.annotations?.readOnlyHint, 'boolean', tool.name);
      }
    }
    const { prompts } = await operator.listPrompts();
    assert.deepEqual(
      prompts
        .map((p) => p.name)
        .filter((n) => n.startsWith('spectrum__'))
        .sort(),
      ROLES.map((r) => `spectrum__${r}`).sort(),
    );
    const setUp = await operator.getPrompt({ name: 'spectrum__closer', arguments: { focus: 'Harbor Physio' } });
    assert.match(JSON.stringify(setUp.messages), /You are the Closer of Spectrum.*Today's focus: Harbor Physio/);

    // The Operator sees the mesh as the hub does, through the hub, as the caller.
    const health = json(await operator.callTool({ name: 'spectrum__operator_mesh_health', arguments: {} }));
    assert.equal(health.healthy, true, JSON.stringify(health));
    assert.deepEqual(
      (health.nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]),
      [['spectrum', 'up']],
    );

    // The sample agency is there: its leads, its knowledge, its board.
    const closer = await agent(t, hub, 'closer', ['tools:spectrum__closer_*']);
    // The hub's own mesh__ tools are everyone's; of the nodes' tools, only the Closer's.
    const closerTools = (await closer.listTools()).tools
      .map((tool) => tool.name)
      .filter((n) => !n.startsWith('mesh__'));
    assert.ok(
      closerTools.length >= 13 && closerTools.every((n) => n.startsWith('spectrum__closer_')),
      closerTools.join(),
    );
    const hot = json(await closer.callTool({ name: 'spectrum__closer_list_leads', arguments: { hotOnly: true } }));
    // No MedTainer in this mesh: Spectrum's own list, and why.
    assert.equal(hot.source, 'spectrum');
    assert.match(hot.crm as string, /^not used: .*unknown tool medtainer__gohighlevel_search_opportunities/);
    assert.deepEqual(
      (hot.leads as { company: string }[]).map((l) => l.company),
      ['Bright Smile Clinic', 'Cedar Family Dental', 'Harbor Physio'],
    );
    const answer = json(
      await closer.callTool({
        name: 'spectrum__closer_answer_objection',
        arguments: { objection: 'your price is too high' },
      }),
    );
    assert.equal((answer.playbook as { slug: string }[])[0]?.slug, 'objection-price');
    const refused = await closer.callTool({ name: 'spectrum__builder_claim_next_task', arguments: {} });
    assert.equal(refused.isError, true);
  });

  it('gives each of 200 tasks to exactly one of two agents claiming at once', async (t) => {
    const hub = await spectrumMesh(t, 'none');
    const strategist = await agent(t, hub, 'strategist', ['tools:spectrum__strategist_*']);
    for (let i = 0; i < 200; i++) {
      const made = await strategist.callTool({
        name: 'spectrum__strategist_create_task',
        arguments: { title: `page ${i}`, role: 'builder', priority: 1 + (i % 5) },
      });
      assert.equal(made.isError, undefined, text(made));
    }
    const builders = await Promise.all(
      ['builder-a', 'builder-b'].map((name) => agent(t, hub, name, ['tools:spectrum__builder_*'])),
    );
    const claim = async (client: Client, mine: number[]) => {
      for (;;) {
        const result = json(await client.callTool({ name: 'spectrum__builder_claim_next_task', arguments: {} }));
        if (result.claimed !== true) return;
        mine.push((result.task as { id: number }).id);
      }
    };
    const claimed: number[][] = [[], []];
    // Each agent keeps four calls in flight.
    await Promise.all(builders.flatMap((client, i) => Array.from({ length: 4 }, () => claim(client, claimed[i]!))));
    const all = claimed.flat();
    assert.equal(all.length, 200);
    assert.equal(new Set(all).size, 200, 'no task was claimed twice');
    assert.ok(
      claimed.every((mine) => mine.length > 0),
      `claims: ${claimed.map((m) => m.length).join(' and ')}`,
    );
    const board = json(await strategist.callTool({ name: 'spectrum__strategist_board_summary', arguments: {} }));
    assert.equal((board.counts as Record<string, Record<string, number>>).builder!.claimed, 200);
    assert.equal((board.held as unknown[]).length, 2);
  });

  it('drafts through the client’s model where it offers sampling, and hands back the material where not', async (t) => {
    const hub = await spectrumMesh(t, 'sample');
    const withModel = await agent(t, hub, 'with-model', ['tools:spectrum__strategist_*'], { sampling: {} });
    let asked = '';
    withModel.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const first = request.params.messages[0]?.content;
      asked = first !== undefined && !Array.isArray(first) && first.type === 'text' ? first.text : '';
      return {
        role: 'assistant',
        model: 'test-model',
        content: { type: 'text', text: 'Plan: 1. scope 2. build 3. sell' },
      };
    });
    const goal = 'launch the clinic booking-site package';
    const sampled = json(await withModel.callTool({ name: 'spectrum__strategist_draft_plan', arguments: { goal } }));
    assert.deepEqual(
      [sampled.mode, sampled.model, sampled.draft],
      ['sampled', 'test-model', 'Plan: 1. scope 2. build 3. sell'],
    );
    // The model was given the gathered knowledge to draft from, with citations.
    assert.match(asked, /Draft a plan for: launch the clinic booking-site package/);
    assert.match(asked, /"slug": "strategy-2027"/);
    assert.match(asked, /spectrum:\/\/knowledge\/\d+@1#0/);

    const without = await agent(t, hub, 'without-model', ['tools:spectrum__strategist_*']);
    const context = json(await without.callTool({ name: 'spectrum__strategist_draft_plan', arguments: { goal } }));
    assert.equal(context.mode, 'context');
    assert.match(context.note as string, /No model was asked/);
    const hits = (context.material as { knowledge: { slug: string }[] }).knowledge;
    assert.ok(
      hits.some((h) => h.slug === 'strategy-2027'),
      hits.map((h) => h.slug).join(),
    );
  });

  it('reads MedTainer’s hot leads through the hub with the caller’s rights, and says so when it may not', async (t) => {
    const hub = await spectrumMesh(t, 'sample');
    await startNode(t, hub, { name: 'medtainer', packs: ['medtainer'] });
    await nodeUp(hub, 'medtainer');

    const withCrm = await agent(t, hub, 'closer-with-crm', ['tools:spectrum__closer_*', 'read:medtainer__*']);
    const read = json(await withCrm.callTool({ name: 'spectrum__closer_list_leads', arguments: { limit: 10 } }));
    assert.equal(read.source, 'crm', JSON.stringify(read));
    assert.equal(read.via, 'medtainer__gohighlevel_search_opportunities');
    const leads = read.leads as { valueUsd: number; status: string; hot: boolean }[];
    assert.equal(leads.length, 10);
    assert.ok(leads.every((l) => l.status === 'open'));
    // Hottest first, then by value.
    const firstCold = leads.findIndex((l) => !l.hot);
    assert.ok(firstCold === -1 || leads.slice(firstCold).every((l) => !l.hot));

    // The inner call is a call of its own on MedTainer, under the outer call's trace id.
    const outer = await until(async () => {
      const res = await admin(hub, 'GET', '/admin/audit?node=spectrum&tool=closer_list_leads&limit=5');
      return ((await res.json()) as { events: { traceId: string }[] }).events[0];
    }, 'the Closer call in the central audit trail');
    const traced = await until(async () => {
      const res = await admin(hub, 'GET', `/admin/audit?traceId=${outer.traceId}`);
      const { events } = (await res.json()) as { events: { node: string; tool: string; principal: string }[] };
      return events.length === 2 ? events : undefined;
    }, 'both rows of the trace');
    assert.deepEqual(traced.map((e) => [e.node, e.tool]).sort(), [
      ['medtainer', 'gohighlevel.search_opportunities'],
      ['spectrum', 'closer_list_leads'],
    ]);
    assert.equal(new Set(traced.map((e) => e.principal)).size, 1, 'both made for the caller');

    // A key without MedTainer: the hub refuses the inner call, and the tool says so.
    const without = await agent(t, hub, 'closer-only', ['tools:spectrum__closer_*']);
    const refused = await without.callTool({ name: 'spectrum__closer_list_leads', arguments: { source: 'crm' } });
    assert.equal(refused.isError, true);
    assert.equal(
      text(refused),
      "MedTainer's CRM could not be read through the hub: not allowed: calling medtainer__gohighlevel_search_opportunities needs the scope tools:medtainer__gohighlevel_search_opportunities or node:medtainer",
    );
    const fallback = json(await without.callTool({ name: 'spectrum__closer_list_leads', arguments: {} }));
    assert.equal(fallback.source, 'spectrum');
    assert.match(fallback.crm as string, /^not used: not allowed: calling medtainer__gohighlevel_search_opportunities/);
  });

  it('tells a role’s subscribed session at once when a task is handed to it', async (t) => {
    const hub = await spectrumMesh(t, 'none');
    const closer = await agent(t, hub, 'closer', ['tools:spectrum__closer_*', 'node:spectrum']);
    const heard: string[] = [];
    closer.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      heard.push(`updated ${n.params.uri}`);
    });
    closer.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      heard.push(`log ${n.params.logger}: ${String(n.params.data)}`);
    });
    const inbox = 'brainmesh://spectrum/spectrum://inbox/closer';
    const { resources } = await closer.listResources();
    assert.ok(
      resources.some((r) => r.uri === inbox),
      resources.map((r) => r.uri).join(),
    );
    await closer.subscribeResource({ uri: inbox });
    await assert.rejects(
      closer.subscribeResource({ uri: 'brainmesh://spectrum/spectrum://nowhere' }),
      /unknown resource/,
    );

    const builder = await agent(t, hub, 'builder', ['tools:spectrum__builder_*']);
    const made = json(
      await builder.callTool({ name: 'spectrum__builder_create_task', arguments: { title: 'booking widget' } }),
    ) as { id: number };
    assert.equal(
      json(await builder.callTool({ name: 'spectrum__builder_claim_next_task', arguments: {} })).claimed,
      true,
    );
    await builder.callTool({
      name: 'spectrum__builder_hand_off',
      arguments: { taskId: made.id, to: 'closer', done: 'widget built', needed: 'show it to Harbor Physio' },
    });
    await until(async () => heard.length >= 2, 'the closer to hear of the handoff');
    // Only the Closer's inbox: the task's arrival in the Builder's inbox was not for this session.
    assert.deepEqual(heard, [
      `updated ${inbox}`,
      `log spectrum: task ${made.id} "booking widget" was handed to the Closer's inbox`,
    ]);
    const read = await closer.readResource({ uri: inbox });
    const open = JSON.parse((read.contents[0] as { text: string }).text) as { open: { id: number }[] };
    assert.deepEqual(
      open.open.map((task) => task.id),
      [made.id],
    );

    // Documents are resources too, by the ids their citations give; a new version is heard.
    const written = json(
      await closer.callTool({
        name: 'spectrum__closer_write_document',
        arguments: { title: 'Harbor Physio notes', body: 'Wants booking in May.' },
      }),
    ) as { id: number };
    const doc = `brainmesh://spectrum/spectrum://knowledge/${written.id}`;
    await closer.subscribeResource({ uri: doc });
    await closer.callTool({
      name: 'spectrum__closer_write_document',
      arguments: { title: 'Harbor Physio notes', body: 'Wants booking in June.' },
    });
    await until(async () => heard.length >= 4, 'the closer to hear of the new version');
    assert.deepEqual(heard.slice(2), [
      `updated ${doc}`,
      `log spectrum: document ${written.id} "Harbor Physio notes" is at version 2`,
    ]);
    const first = await closer.readResource({ uri: `${doc}@1` });
    assert.equal((first.contents[0] as { text: string }).text, 'Wants booking in May.');
    const current = await closer.readResource({ uri: doc });
    assert.equal((current.contents[0] as { text: string }).text, 'Wants booking in June.');
    await closer.unsubscribeResource({ uri: doc });

    // Unsubscribed, it hears nothing more of its inbox.
    await closer.unsubscribeResource({ uri: inbox });
    await builder.callTool({ name: 'spectrum__builder_create_task', arguments: { title: 'second', role: 'closer' } });
    const marker = await closer.callTool({ name: 'spectrum__closer_list_tasks', arguments: {} });
    assert.equal(marker.isError, undefined);
    assert.equal(heard.length, 4);
  });
});
