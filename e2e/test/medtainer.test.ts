import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_NAME_PATTERN } from '@brainmesh/shared';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  admin,
  type ConnectedClient,
  connectClient,
  connectModernClient,
  type HubProcess,
  nodeUp,
  startHub,
  startNode,
  suiteScope,
  text,
  until,
} from '../support/mesh.js';

const json = (result: Record<string, unknown>) => JSON.parse(text(result)) as Record<string, unknown>;

describe('MedTainer behind the hub, on the sample business', { timeout: 120_000 }, () => {
  let hub: HubProcess;
  let asking: ConnectedClient;
  let plain: ConnectedClient;
  const ctx = suiteScope();
  after(() => ctx.dispose());

  before(async () => {
    hub = await startHub(ctx);
    await startNode(ctx, hub, { name: 'medtainer', packs: ['medtainer'] });
    await nodeUp(hub, 'medtainer');
    // One client that can ask its user (elicitation), one that cannot.
    asking = await connectClient(ctx, hub, { elicitation: { form: {} } });
    plain = await connectClient(ctx, hub, {});
  });

  it("lists MedTainer's tools under client-safe names, marked as they behave", async () => {
    const { tools } = await plain.client.listTools();
    const ours = tools.filter((t) => t.name.startsWith('medtainer__'));
    for (const t of ours) assert.match(t.name, CLIENT_NAME_PATTERN);
    const names = ours.map((t) => t.name);
    for (const service of ['gohighlevel', 'godaddy', 'digitalocean'])
      assert.ok(
        names.some((n) => n.startsWith(`medtainer__${service}_`)),
        `no ${service} tools in ${names}`,
      );
    assert.ok(names.filter((n) => n.startsWith('medtainer__gohighlevel_')).length >= 16);
    assert.equal(names.filter((n) => n.startsWith('medtainer__godaddy_')).length, 8);
    assert.equal(names.filter((n) => n.startsWith('medtainer__digitalocean_')).length, 5);
    const action = ours.find((t) => t.name === 'medtainer__digitalocean_droplet_action');
    assert.equal(action?.annotations?.destructiveHint, true);
    const list = ours.find((t) => t.name === 'medtainer__gohighlevel_search_contacts');
    assert.equal(list?.annotations?.readOnlyHint, true);
  });

  it('answers reads from the sample business and says so', async () => {
    const result = await plain.client.callTool({ name: 'medtainer__gohighlevel_get_insights', arguments: {} });
    assert.equal(result.isError, undefined);
    const insights = json(result);
    assert.equal(insights.source, 'sample');
    assert.ok((insights.totals as { contacts: number }).contacts >= 1_000);

    // The audit trail says so too, and finds the call by the name the client used.
    const query = new URLSearchParams({ tool: 'medtainer__gohighlevel_get_insights' });
    const rows = await until(async () => {
      const res = await admin(hub, 'GET', `/admin/audit?${query}`);
      const { events } = (await res.json()) as { events: { tool: string; source: string }[] };
      return events.length > 0 ? events : undefined;
    }, 'the audit row of the insights call');
    assert.deepEqual(
      rows.map((r) => [r.tool, r.source]),
      [['gohighlevel.get_insights', 'sample']],
    );
  });

  it('runs a destructive tool only once the user confirms', async () => {
    const droplets = json(await plain.client.callTool({ name: 'medtainer__digitalocean_list_droplets', arguments: {} }))
      .droplets as { id: number; name: string; status: string }[];
    const target = droplets.find((d) => d.status === 'active');
    assert.ok(target, 'an active droplet');
    const status = async () =>
      (
        json(
          await plain.client.callTool({
            name: 'medtainer__digitalocean_get_droplet',
            arguments: { droplet_id: target.id },
          }),
        ).droplet as { status: string }
      ).status;
    const powerOff = {
      name: 'medtainer__digitalocean_droplet_action',
      arguments: { droplet_id: target.id, type: 'power_off' },
    };

    // A client that cannot ask: refused without confirm, and nothing changes.
    const refused = await plain.client.callTool(powerOff);
    assert.equal(refused.isError, true);
    assert.match(text(refused), /confirm: true/);
    assert.equal(await status(), 'active');

    // A client that can ask: the user declines, and even `confirm: true` from the model does not
    // stand in for them.
    const asked: string[] = [];
    asking.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: 'decline' };
    });
    const declined = await asking.client.callTool({ ...powerOff, arguments: { ...powerOff.arguments, confirm: true } });
    assert.equal(declined.isError, true);
    assert.match(asked[0] ?? '', new RegExp(target.name));
    assert.equal(await status(), 'active');

    // The user agrees: done.
    asking.client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { confirm: true },
    }));
    const done = await asking.client.callTool(powerOff);
    assert.equal(done.isError, undefined, text(done));
    const action = json(done).action as { id: number; type: string };
    assert.equal(action.type, 'power_off');
    // Polled as the answer says: the action completes and the droplet is off.
    const polled = json(
      await plain.client.callTool({
        name: 'medtainer__digitalocean_get_droplet',
        arguments: { droplet_id: target.id, action_id: action.id },
      }),
    );
    assert.equal((polled.action as { status: string }).status, 'completed');
    assert.equal((polled.droplet as { status: string }).status, 'off');

    // And a client that cannot ask, with the user's yes passed as confirm: true.
    const on = await plain.client.callTool({
      name: 'medtainer__digitalocean_droplet_action',
      arguments: { droplet_id: target.id, type: 'power_on', confirm: true },
    });
    assert.equal(on.isError, undefined, text(on));
  });

  it('asks a 2026-07-28 client to confirm too, through input_required, and acts only on its yes', async () => {
    const droplets = json(await plain.client.callTool({ name: 'medtainer__digitalocean_list_droplets', arguments: {} }))
      .droplets as { id: number; name: string; status: string }[];
    const target = droplets.filter((d) => d.status === 'active').at(-1);
    assert.ok(target, 'an active droplet');
    let answer: 'accept' | 'decline' = 'decline';
    const asked: string[] = [];
    const { client } = await connectModernClient(ctx, hub, {
      capabilities: { elicitation: { form: {} } },
      answer: (c) =>
        c.setRequestHandler('elicitation/create', async (request) => {
          asked.push(request.params.message);
          return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
        }),
    });
    const reboot = {
      name: 'medtainer__digitalocean_droplet_action',
      arguments: { droplet_id: target.id, type: 'reboot' },
    };

    const declined = await client.callTool(reboot);
    assert.equal(declined.isError, true, text(declined as Record<string, unknown>));
    assert.match(asked[0] ?? '', new RegExp(target.name), 'the node’s question, naming the droplet');

    answer = 'accept';
    const done = await client.callTool(reboot);
    assert.equal(done.isError, undefined, text(done as Record<string, unknown>));
    assert.equal((json(done as Record<string, unknown>).action as { type: string }).type, 'reboot');
    assert.equal(asked.length, 2, 'asked once a call');
  });
});
