import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { callTool, quietLogger } from '@brainmesh/node/kit/testing';
import { dbBackends } from '@brainmesh/shared/testing';
import { createSpectrum } from '../src/index.js';
import { spectrumSettingsSchema } from '../src/settings.js';
import { spectrumDb } from './support/spectrum-db.js';

/**
 * Every tool of the four roles, called as the node calls them (no hub: `callMesh` and sampling
 * are unavailable, as for a client that offers neither), on the sample agency.
 */

async function sampleSpectrum(t: TestContext, backend: ReturnType<typeof dbBackends>[number]) {
  const db = await spectrumDb(t, backend);
  const updates: string[] = [];
  const pack = createSpectrum({
    db,
    logger: quietLogger,
    settings: spectrumSettingsSchema.parse({ seed: 'sample' }),
    resourceUpdated: (uri, message) => updates.push(`${uri} ${message ?? ''}`),
  });
  await pack.start?.();
  t.after(() => pack.stop?.());
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const called = await callTool(pack.tools, name, args);
    assert.notEqual(called.result.isError, true, `${name}: ${called.text}`);
    return called.json;
  };
  return { db, pack, call, updates };
}

const ids = (list: unknown) => (list as { id: number }[]).map((x) => x.id);

for (const backend of dbBackends()) {
  describe(`Spectrum's tools on ${backend.name}`, () => {
    it('the shared tools: knowledge, facts and a task from creation to done', async (t) => {
      const { call, updates } = await sampleSpectrum(t, backend);
      const written = await call('builder_write_document', {
        title: 'Widget notes',
        body: '# Widget notes\n\nThe booking widget needs a calendar.',
        tags: ['Widget'],
      });
      assert.deepEqual([written.slug, written.version, written.changed], ['widget-notes', 1, true]);
      const read = await call('builder_read_document', { document: 'widget-notes' });
      assert.deepEqual(
        [read.title, read.tags, read.cite],
        ['Widget notes', ['widget'], `spectrum://knowledge/${written.id}@1`],
      );
      const found = await call('builder_search_knowledge', { query: 'booking widget calendar', limit: 3 });
      assert.equal((found.hits as { slug: string }[])[0]?.slug, 'widget-notes');

      const fact = await call('builder_remember_fact', {
        entity: 'Harbor Physio',
        kind: 'lead',
        observation: 'Wants the widget',
        relation: { type: 'wants', to: 'Booking widget', toKind: 'product' },
        documentId: written.id,
      });
      assert.deepEqual(
        (fact.relations as { from: string; type: string; to: string }[]).map((r) => `${r.from} ${r.type} ${r.to}`),
        ['Harbor Physio wants Booking widget'],
      );
      assert.equal((await call('builder_recall_facts', { entity: 'harbor physio' })).entity, 'Harbor Physio');
      const unknown = await call('builder_recall_facts', { entity: 'Acme Dentall' });
      assert.equal(unknown.entity, 'Acme Dental', 'the closest name');

      const first = await call('builder_create_task', { title: 'calendar API', priority: 1 });
      const second = await call('builder_create_task', { title: 'widget UI', dependsOn: [first.id] });
      assert.equal(second.status, 'blocked');
      const mine = await call('builder_list_tasks', { status: 'open' });
      assert.ok(ids(mine.tasks).includes(first.id as number));
      const claimed = await call('builder_claim_next_task');
      assert.equal((claimed.task as { id: number }).id, first.id, 'the most urgent first');
      assert.equal((await call('builder_renew_lease', { taskId: first.id })).task !== undefined, true);
      await call('builder_update_task', { taskId: first.id, status: 'in_progress', note: 'started' });
      const comments = await call('builder_comment_on_task', { taskId: first.id, text: 'API keys are in the vault' });
      assert.deepEqual(
        (comments.comments as { note: string }[]).map((c) => c.note),
        ['API keys are in the vault'],
      );
      await call('builder_update_task', { taskId: first.id, status: 'done', note: 'shipped' });
      const full = await call('builder_read_task', { taskId: first.id });
      assert.deepEqual(
        (full.history as { kind: string }[]).map((e) => e.kind),
        ['created', 'claimed', 'in_progress', 'comment', 'done'],
      );
      assert.equal((await call('builder_read_task', { taskId: second.id as number })).task !== undefined, true);
      const board = await call('builder_board_summary');
      assert.equal((board.counts as Record<string, Record<string, number>>).builder!.done, 1);
      // The second task was unblocked into the builder's inbox, and its subscribers told.
      assert.ok(
        updates.some((u) => u.startsWith('spectrum://inbox/builder ') && u.includes('unblocked')),
        updates.join('\n'),
      );
      assert.ok(updates.some((u) => u.startsWith(`spectrum://knowledge/${written.id} `)));
    });

    it("the Strategist's: RICE with its numbers, a plan of tasks, a drafted plan's material, a review", async (t) => {
      const { call, db, pack } = await sampleSpectrum(t, backend);
      const task = await call('strategist_create_task', { title: 'landing page', role: 'builder', priority: 5 });
      const ranked = await call('strategist_prioritise', {
        apply: true,
        items: [
          { title: 'newsletter', reach: 100, impact: 0.5, confidence: 0.5, effort: 1 },
          { title: 'landing page', taskId: task.id, reach: 500, impact: 2, confidence: 0.8, effort: 2 },
        ],
      });
      assert.deepEqual(
        (ranked.ranked as { title: string; score: number; formula: string; rank: number }[]).map((r) => [
          r.rank,
          r.title,
          r.score,
          r.formula,
        ]),
        [
          [1, 'landing page', 400, '500 × 2 × 0.8 ÷ 2'],
          [2, 'newsletter', 25, '100 × 0.5 × 0.5 ÷ 1'],
        ],
      );
      const { rows } = await db.query<{ priority: number }>('SELECT priority FROM tasks WHERE id = $1', [task.id]);
      assert.equal(rows[0]!.priority, 1);

      const plan = await call('strategist_plan', {
        goal: 'Clinic package',
        brief: 'Sell a booking site to clinics.',
        steps: [
          { key: 'spec', title: 'Spec the package', role: 'builder' },
          { key: 'sell', title: 'Sell it', role: 'closer', after: ['spec'] },
        ],
      });
      const [spec, sell] = plan.tasks as { id: number; status: string; dependsOn: number[]; knowledge: number[] }[];
      assert.deepEqual([spec!.status, sell!.status, sell!.dependsOn], ['open', 'blocked', [spec!.id]]);
      assert.deepEqual(sell!.knowledge, [(plan.brief as { id: number }).id]);
      await assert.rejects(
        callTool(pack.tools, 'strategist_plan', {
          goal: 'x',
          brief: 'y',
          steps: [{ key: 'a', title: 'A', role: 'builder', after: ['b'] }],
        }),
        /step "a" comes after "b", which is not an earlier step/,
      );

      const drafted = await call('strategist_draft_plan', { goal: 'clinic booking-site package' });
      assert.equal(drafted.mode, 'context');
      assert.ok(
        (drafted.material as { knowledge: { slug: string }[] }).knowledge.some((h) => h.slug === 'strategy-2027'),
      );

      const review = await call('strategist_review', {
        taskId: spec!.id,
        verdict: 'rework',
        notes: 'price is missing',
      });
      assert.equal((review.followUp as { title: string }).title, 'Rework: Spec the package');
    });

    it("the Builder's: a spec's material, versioned deliverables, a checklist, QA", async (t) => {
      const { call } = await sampleSpectrum(t, backend);
      const task = await call('builder_create_task', {
        title: 'clinic booking site',
        brief: 'online booking for clinics',
      });
      const spec = await call('builder_draft_spec', { taskId: task.id });
      assert.equal(spec.mode, 'context');
      assert.equal((spec.material as { task: { id: number } }).task.id, task.id);
      const v1 = await call('builder_publish_deliverable', { taskId: task.id, title: 'Site v1', body: 'first cut' });
      const v2 = await call('builder_publish_deliverable', { taskId: task.id, title: 'Site v1', body: 'second cut' });
      const [d1, d2] = [v1.deliverable, v2.deliverable] as { id: number; version: number }[];
      assert.deepEqual([d1!.id, d1!.version, d2!.version], [d2!.id, 1, 2]);
      assert.deepEqual((v2.task as { knowledge: number[] }).knowledge, [d1!.id]);
      const list = await call('builder_checklist', {
        taskId: task.id,
        items: [
          { item: 'booking form', done: true },
          { item: 'mobile layout', done: false },
        ],
      });
      assert.deepEqual([list.done, list.total, list.remaining], [1, 2, ['mobile layout']]);
      assert.deepEqual((await call('builder_checklist', { taskId: task.id })).remaining, ['mobile layout']);
      const qa = await call('builder_qa', {
        taskId: task.id,
        checks: [
          { check: 'WCAG AA', passed: true },
          { check: 'Lighthouse 90', passed: false, note: 'scored 72' },
        ],
      });
      assert.deepEqual([qa.verdict, qa.passed, qa.total], ['fail', 1, 2]);
      const comments = await call('builder_comment_on_task', { taskId: task.id, text: 'fixing' });
      assert.ok(
        (comments.comments as { note: string }[]).some((c) => c.note === 'QA failed:\n- Lighthouse 90: scored 72'),
      );
    });

    it("the Closer's: leads from its own list when no CRM answers, a proposal's material, objections, follow-ups", async (t) => {
      const { call } = await sampleSpectrum(t, backend);
      const leads = await call('closer_list_leads', { hotOnly: true });
      assert.equal(leads.source, 'spectrum');
      assert.match(leads.crm as string, /^not used: no mesh in this test/);
      const all = await call('closer_list_leads', { source: 'spectrum', stage: 'new' });
      const companies = (all.leads as { company: string }[]).map((l) => l.company);
      assert.deepEqual(companies, ['Cedar Family Dental', 'Nordic Yoga Studio']);
      const harbor = (await call('closer_list_leads', { source: 'spectrum' })).leads as {
        id: number;
        company: string;
      }[];
      const lead = harbor.find((l) => l.company === 'Bright Smile Clinic')!;
      const proposal = await call('closer_draft_proposal', { leadId: lead.id });
      assert.equal(proposal.mode, 'context');
      const material = proposal.material as { lead: { company: string }; knowledge: { slug: string }[] };
      assert.equal(material.lead.company, 'Bright Smile Clinic');
      assert.ok(material.knowledge.some((h) => h.slug === 'services-and-pricing'));
      const objection = await call('closer_answer_objection', { objection: 'we were burned by an agency before' });
      assert.equal((objection.playbook as { slug: string }[])[0]?.slug, 'objection-trust');
      const followUps = await call('closer_plan_follow_ups', { leadId: lead.id, touches: 3, everyDays: 2 });
      const tasks = followUps.tasks as { id: number; status: string; dueAt: string; dependsOn: number[] }[];
      assert.deepEqual(
        tasks.map((x) => x.status),
        ['open', 'blocked', 'blocked'],
      );
      assert.deepEqual(tasks[2]!.dependsOn, [tasks[1]!.id]);
      const gap = Date.parse(tasks[1]!.dueAt) - Date.parse(tasks[0]!.dueAt);
      assert.equal(gap, 2 * 86_400_000);
    });

    it("the Operator's: an incident, the SLA report, a runbook, the digest", async (t) => {
      const { call, db } = await sampleSpectrum(t, backend);
      const incident = await call('operator_log_incident', {
        title: 'Booking form down',
        severity: 'sev1',
        details: 'Form 500s',
      });
      assert.equal((incident.task as { priority: number }).priority, 1);
      const logged = await call('operator_read_document', { document: (incident.incident as { id: number }).id });
      assert.deepEqual([logged.title, logged.tags], ['Incident (sev1): Booking form down', ['incident', 'sev1']]);
      // A priority-1 task open for five hours breaks its four-hour SLA.
      const old = await call('operator_create_task', { title: 'renew certificate', priority: 1 });
      await db.query("UPDATE tasks SET created_at = now() - interval '5 hours' WHERE id = $1", [old.id]);
      const sla = await call('operator_sla_report');
      const breaches = sla.breaches as { id: number; slaHours: number; hours: number }[];
      assert.deepEqual(
        breaches.map((b) => [b.id, b.slaHours]),
        [[old.id, 4]],
      );
      const runbook = await call('operator_find_runbook', { situation: 'client website is down' });
      assert.equal((runbook.hits as { slug: string }[])[0]?.slug, 'runbook-site-down');
      const digest = await call('operator_write_digest');
      assert.match(digest.text as string, /^# Digest \d{4}-\d{2}-\d{2}\n/);
      assert.match(digest.text as string, /Incident \(sev1\): Booking form down/);
      assert.match(digest.text as string, /- builder: 0 open, 0 in hand, 1 blocked, 0 done/);
    });
  });
}
