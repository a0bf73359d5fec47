import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callTool, quietLogger } from '@brainmesh/node/kit/testing';
import type { Db } from '@brainmesh/shared';
import { medtainerPack } from '../src/index.js';
import { generateBusiness, SAMPLE_SEED } from '../src/sample/generate.js';
import { medtainerSettingsSchema } from '../src/settings.js';

// The pack in sample mode (no credentials) on a known day: the same business generateBusiness
// gives for that day, which the checks below recompute by hand.
const day = new Date('2026-11-02T00:00:00Z');
const samplePack = () =>
  medtainerPack({
    nodeName: 'medtainer',
    startedAt: new Date(day.getTime() + 9 * 3_600_000),
    db: undefined as unknown as Db,
    logger: quietLogger,
    medtainer: medtainerSettingsSchema.parse({}),
  });

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

describe('MedTainer intelligence on the sample business', () => {
  it('names the peak window, best source and drop-off stage that a hand count over the same data gives', async () => {
    const { tools } = samplePack();
    const { json, source } = await callTool(tools, 'gohighlevel.get_insights', {});
    assert.equal(source, 'sample');
    assert.equal(json.source, 'sample');

    const data = generateBusiness({ seed: SAMPLE_SEED, now: day }).gohighlevel;

    // Peak window: sign-ups and inbound last messages, by weekday and two-hour block (UTC).
    // Keyed in week order (Sunday 0:00 first), so the first of several tied blocks is the earliest.
    const blocks = new Map<number, number>();
    const tally = (ms: number) => {
      const d = new Date(ms);
      const key = d.getUTCDay() * 24 + Math.floor(d.getUTCHours() / 2) * 2;
      blocks.set(key, (blocks.get(key) ?? 0) + 1);
    };
    for (const c of data.contacts) tally(Date.parse(c.dateAdded));
    for (const c of data.conversations) if (c.lastMessageDirection === 'inbound') tally(c.lastMessageDate as number);
    const most = Math.max(...blocks.values());
    const earliest = Math.min(...[...blocks].filter(([, n]) => n === most).map(([k]) => k));
    const peak = json.peakActivityWindow as { weekday: string; fromHour: number; toHour: number; events: number };
    assert.deepEqual(peak, {
      ...peak,
      weekday: WEEKDAYS[Math.floor(earliest / 24)],
      fromHour: earliest % 24,
      toHour: (earliest % 24) + 2,
      events: most,
    });

    // Best source: contacts with a won opportunity over contacts, among sources with 20+ leads.
    const wonContacts = new Set(data.opportunities.filter((o) => o.status === 'won').map((o) => o.contactId));
    const bySource = new Map<string, { leads: number; won: number }>();
    for (const c of data.contacts) {
      const s = bySource.get(c.source as string) ?? { leads: 0, won: 0 };
      s.leads++;
      if (wonContacts.has(c.id)) s.won++;
      bySource.set(c.source as string, s);
    }
    const ranked = [...bySource]
      .filter(([, s]) => s.leads >= 20)
      .sort((a, b) => b[1].won / b[1].leads - a[1].won / a[1].leads);
    const best = json.bestConvertingSource as { source: string; leads: number; won: number };
    assert.equal(best.source, ranked[0]?.[0]);
    assert.deepEqual({ leads: best.leads, won: best.won }, ranked[0]?.[1]);

    // Drop-off: the stage holding the most lost or abandoned opportunities.
    const lostAt = new Map<string, number>();
    for (const o of data.opportunities)
      if (o.status === 'lost' || o.status === 'abandoned')
        lostAt.set(o.pipelineStageId, (lostAt.get(o.pipelineStageId) ?? 0) + 1);
    const [stageId, lost] = [...lostAt].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    const stageName = data.pipelines.flatMap((p) => p.stages).find((s) => s.id === stageId)?.name;
    const drop = json.dropOffStage as { stage: string; lost: number };
    assert.equal(drop.stage, stageName);
    assert.equal(drop.lost, lost);

    const totals = json.totals as { contacts: number; conversations: number };
    assert.equal(totals.contacts, data.contacts.length);
    assert.equal(totals.conversations, data.conversations.length);
    const recommendations = json.recommendations as { priority: number; tools: string[] }[];
    assert.ok(recommendations.length >= 3);
    assert.deepEqual(
      recommendations.map((r) => r.priority),
      recommendations.map((_, i) => i + 1),
    );
    const names = new Set(tools.map((t) => t.name));
    for (const r of recommendations) for (const t of r.tools) assert.ok(names.has(t), `recommends unknown tool ${t}`);
  });

  it("moves a contact's score by exactly the points its reasons give when the contact's data changes", async () => {
    const { tools } = samplePack();
    const data = generateBusiness({ seed: SAMPLE_SEED, now: day }).gohighlevel;
    // A contact with no hot tag and no do-not-disturb, so both changes below show.
    const contact = data.contacts.find((c) => !c.tags.includes('hot') && c.dnd !== true);
    assert.ok(contact);
    const analyze = async () => {
      const { json } = await callTool(tools, 'gohighlevel.analyze_contact', { contactId: contact.id });
      return json as { score: number; reasons: { factor: string; points: number }[] };
    };
    const sum = (a: { reasons: { points: number }[] }) => a.reasons.reduce((t, r) => t + r.points, 0);
    const before = await analyze();
    assert.equal(before.score, Math.max(0, Math.min(100, sum(before))));
    assert.ok(!before.reasons.some((r) => r.factor === 'tag_hot'));

    await callTool(tools, 'gohighlevel.add_tags', { contactId: contact.id, tags: ['hot'], confirm: true });
    const hot = await analyze();
    const hotReason = hot.reasons.find((r) => r.factor === 'tag_hot');
    assert.ok(hotReason && hotReason.points > 0);
    assert.equal(sum(hot) - sum(before), hotReason.points);
    assert.equal(hot.score, Math.max(0, Math.min(100, sum(hot))));
    assert.ok(hot.score >= before.score);

    await callTool(tools, 'gohighlevel.update_contact', { contactId: contact.id, dnd: true, confirm: true });
    const dnd = await analyze();
    const dndReason = dnd.reasons.find((r) => r.factor === 'do_not_disturb');
    assert.ok(dndReason && dndReason.points < 0);
    assert.equal(sum(dnd) - sum(hot), dndReason.points);
    assert.ok(dnd.score < hot.score);
  });

  it('lets a user try everything at once on the sample business: no rate limit, every answer marked sample', async () => {
    const { tools } = samplePack();
    const contacts = generateBusiness({ seed: SAMPLE_SEED, now: day }).gohighlevel.contacts.slice(0, 10);
    // Far more requests than GoHighLevel allows in 10 s (each insights call pages the whole CRM).
    const calls = [
      ...Array.from({ length: 8 }, () => callTool(tools, 'gohighlevel.get_insights', {})),
      ...contacts.map((c) => callTool(tools, 'gohighlevel.analyze_contact', { contactId: c.id })),
      callTool(tools, 'gohighlevel.get_recommendations', { limit: 3 }),
    ];
    for (const called of await Promise.all(calls)) {
      assert.equal(called.result.isError, undefined, called.text);
      assert.equal(called.source, 'sample');
      assert.equal(called.json.source, 'sample');
    }
  });
});
