import type { Db } from '@brainmesh/shared';
import type { Board } from '../board/board.js';
import type { Knowledge } from '../knowledge/engine.js';
import { SAMPLE_DOCUMENTS, SAMPLE_FACTS, SAMPLE_LEADS, SAMPLE_PRINCIPAL, SAMPLE_TASKS } from './agency.js';

/**
 * Seeds the sample agency into an empty Spectrum (no documents, tasks or leads); leaves anything
 * else alone, so a restart, or an operator's own data, is never overwritten. Returns whether it seeded.
 */
export async function seedSampleAgency(spectrum: { db: Db; knowledge: Knowledge; board: Board }): Promise<boolean> {
  const { db, knowledge, board } = spectrum;
  const { rows } = await db.query<{ n: number }>(
    'SELECT ((SELECT count(*) FROM documents) + (SELECT count(*) FROM tasks) + (SELECT count(*) FROM leads))::int AS n',
  );
  if (rows[0]!.n > 0) return false;
  const author = { principal: SAMPLE_PRINCIPAL, role: 'strategist' };
  const ids = new Map<string, number>();
  for (const doc of SAMPLE_DOCUMENTS) ids.set(doc.slug, (await knowledge.put({ ...doc, source: 'sample' }, author)).id);
  for (const fact of SAMPLE_FACTS) {
    await knowledge.remember({ ...fact, documentId: fact.slug === undefined ? undefined : ids.get(fact.slug) }, author);
  }
  const tasks = new Map<string, number>();
  for (const t of SAMPLE_TASKS) {
    const task = await board.create(
      {
        title: t.title,
        brief: t.brief,
        role: t.role,
        priority: t.priority,
        dueAt: t.dueInDays === undefined ? undefined : new Date(Date.now() + t.dueInDays * 86_400_000).toISOString(),
        dependsOn: (t.after ?? []).map((k) => tasks.get(k)!),
        knowledge: t.key === 'package' || t.key === 'template' ? [ids.get('strategy-2027')!] : [],
      },
      { principal: SAMPLE_PRINCIPAL, role: t.role },
    );
    tasks.set(t.key, task.id);
  }
  for (const l of SAMPLE_LEADS) {
    await db.query(
      `INSERT INTO leads (name, company, email, stage, value_usd, source, notes, last_contact_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::int IS NULL THEN NULL ELSE now() - make_interval(days => $8::int) END)`,
      [l.name, l.company, l.email, l.stage, l.valueUsd, l.source, l.notes, l.lastContactDaysAgo],
    );
  }
  return true;
}
