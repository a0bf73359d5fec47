import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dbBackends } from '@brainmesh/shared/testing';
import { Board } from '../src/board/board.js';
import { chunkDocument } from '../src/knowledge/chunk.js';
import { Knowledge } from '../src/knowledge/engine.js';
import { ingestFolder } from '../src/knowledge/folder.js';
import { seedSampleAgency } from '../src/sample/seed.js';
import { spectrumDb } from './support/spectrum-db.js';

/** Questions an agent would ask of the sample agency, each with the document that answers it. */
const QUESTIONS: [question: string, answer: string][] = [
  ['how much does a new website cost', 'services-and-pricing'],
  ['client says we are too expensive', 'objection-price'],
  ['prospect had a bad experience with their last agency', 'objection-trust'],
  ['not the right time, maybe next quarter', 'objection-timing'],
  ['the site is down, what do I check first', 'runbook-site-down'],
  ['browser says the certificate expired', 'runbook-tls-certificate'],
  ['undo a broken release', 'runbook-deploy-rollback'],
  ['when is the kickoff call with a new client', 'client-onboarding-playbook'],
  ['tone of voice for blog posts', 'brand-voice'],
  ['lighthouse score and accessibility before done', 'qa-standards'],
  ['how fast must we respond to a severity 1 outage', 'support-sla-policy'],
  ['which clinics do we focus on next year', 'strategy-2027'],
  ['Acme Dentl', 'case-study-acme-dental'],
  ['Northwind', 'case-study-northwind'],
  // Names with typos: full text alone finds nothing; the titles' trigrams do.
  ['Nortwind Logistcs', 'case-study-northwind'],
  ['Acmee Dentall', 'case-study-acme-dental'],
];

for (const backend of dbBackends()) {
  describe(`Spectrum's knowledge engine on ${backend.name}`, () => {
    it('puts the document that answers each question in the top three, with a citation', async (t) => {
      const db = await spectrumDb(t, backend);
      const knowledge = new Knowledge(db);
      assert.equal(await seedSampleAgency({ db, knowledge, board: new Board(db, { leaseSeconds: 60 }) }), true);
      const misses: string[] = [];
      for (const [question, answer] of QUESTIONS) {
        const { hits, mode } = await knowledge.search(question, { limit: 3 });
        assert.equal(mode, 'lexical');
        if (!hits.some((h) => h.slug === answer))
          misses.push(`"${question}": wanted ${answer}, got ${hits.map((h) => h.slug).join(', ') || 'nothing'}`);
        for (const h of hits) assert.equal(h.cite, `spectrum://knowledge/${h.documentId}@${h.version}#${h.chunk}`);
      }
      assert.deepEqual(misses, []);
      // Tags narrow a search.
      const runbooks = await knowledge.search('client site', { tags: ['runbook'] });
      assert.ok(runbooks.hits.length > 0 && runbooks.hits.every((h) => h.tags.includes('runbook')));
    });

    it('versions a document, keeps each version readable, and searches only the current one', async (t) => {
      const db = await spectrumDb(t, backend);
      const knowledge = new Knowledge(db);
      const who = { principal: 'key:ana', role: 'builder' };
      const first = await knowledge.put({ title: 'Hosting notes', body: 'We host on droplets in Frankfurt.' }, who);
      assert.deepEqual([first.slug, first.version, first.changed], ['hosting-notes', 1, true]);
      const same = await knowledge.put({ title: 'Hosting notes', body: 'We host on droplets in Frankfurt.' }, who);
      assert.deepEqual([same.version, same.changed], [1, false]);
      const second = await knowledge.put(
        { title: 'Hosting notes', body: 'We host on droplets in Amsterdam.' },
        {
          principal: 'key:bo',
          role: 'operator',
        },
      );
      assert.deepEqual([second.id, second.version], [first.id, 2]);
      assert.match((await knowledge.get('hosting-notes', 1)).body, /Frankfurt/);
      const current = await knowledge.get(first.id);
      assert.deepEqual([current.version, current.author], [2, { principal: 'key:bo', role: 'operator' }]);
      assert.equal((await knowledge.search('Frankfurt')).hits.length, 0);
      assert.equal((await knowledge.search('Amsterdam')).hits[0]?.version, 2);
      await assert.rejects(knowledge.get(first.id, 3), /has no version 3 \(its latest is 2\)/);
    });

    it('keeps facts with their provenance, safe with several writers at once', async (t) => {
      const db = await spectrumDb(t, backend);
      const knowledge = new Knowledge(db);
      // Twenty writers record the same new entity at once: one entity, twenty observations.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          knowledge.remember(
            { entity: i % 2 === 0 ? 'Harbor Physio' : 'harbor physio', kind: 'lead', observation: `note ${i}` },
            { principal: `key:${i}`, role: 'closer' },
          ),
        ),
      );
      await knowledge.remember(
        { entity: 'Tom Reyes', kind: 'person', relation: { type: 'works_at', to: 'Harbor Physio' } },
        { principal: 'key:ana', role: 'strategist' },
      );
      const fact = await knowledge.recall('Harbour Physio');
      // Named as whichever of the twenty wrote it first: at once, on Postgres, any of them.
      assert.ok(['Harbor Physio', 'harbor physio'].includes(fact?.entity ?? ''), `named ${fact?.entity}`);
      assert.equal(fact?.kind, 'lead');
      assert.equal(fact?.observations.length, 20);
      assert.deepEqual(
        fact?.relations.map((r) => [r.from, r.type, r.to, r.by, r.role]),
        [['Tom Reyes', 'works_at', fact?.entity, 'key:ana', 'strategist']],
      );
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM entities');
      assert.equal(rows[0]!.n, 2);
    });

    it('keeps a folder of files in the knowledge base, a changed file as a new version', async (t) => {
      const db = await spectrumDb(t, backend);
      const knowledge = new Knowledge(db);
      const dir = mkdtempSync(path.join(tmpdir(), 'spectrum-folder-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      mkdirSync(path.join(dir, 'playbooks'));
      writeFileSync(path.join(dir, 'playbooks', 'Renewals.md'), '# Renewal playbook\n\nCall 60 days before the end.');
      writeFileSync(path.join(dir, 'notes.txt'), 'Parking is behind the building.');
      writeFileSync(path.join(dir, 'image.png'), 'not text');
      const who = { principal: 'schedule', role: 'operator' };
      assert.deepEqual(await ingestFolder(knowledge, dir, who), { added: 2, updated: 0, unchanged: 0, skipped: [] });
      writeFileSync(path.join(dir, 'notes.txt'), 'Parking is in the garage now.');
      assert.deepEqual(await ingestFolder(knowledge, dir, who), { added: 0, updated: 1, unchanged: 1, skipped: [] });
      const renewal = await knowledge.get('playbooks-renewals');
      assert.deepEqual([renewal.title, renewal.source], ['Renewal playbook', 'file:playbooks/Renewals.md']);
      assert.equal((await knowledge.search('garage')).hits[0]?.slug, 'notes');
    });
  });
}

describe('chunking', () => {
  it('splits by headings, then packs paragraphs up to the size, and keeps code fences whole', () => {
    const body = ['# A', 'one', '', 'two', '## B', '```', '# not a heading', '```', '', 'x'.repeat(50)].join('\n');
    const chunks = chunkDocument(body, 40);
    assert.deepEqual(
      chunks.map((c) => [c.heading, c.body]),
      [
        ['A', 'one\n\ntwo'],
        ['B', '```\n# not a heading\n```'],
        // A paragraph with no sentence end, over the size: cut hard.
        ['B', 'x'.repeat(40)],
        ['B', 'x'.repeat(10)],
      ],
    );
    assert.ok(chunks.every((c) => c.body.length <= 40));
  });
});
