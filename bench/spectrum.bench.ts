/**
 * Spectrum's knowledge engine at size: documents ingested per second (each a transaction of its
 * own, as an agent or the folder reader writes them: the row, its version, its chunks with their
 * search vectors), and search latency (ranked full text plus title trigrams, limit 5) at 10k and
 * 100k chunks, on embedded Postgres and on the real one (DATABASE_URL).
 *
 *   npm run bench -- spectrum
 *   BENCH_CHUNKS=10000,100000   the sizes searched at (the corpus grows from one to the next)
 *   BENCH_QUERIES=300           searches timed at each size (after 30 not timed)
 *   BENCH_STORAGE=both          embedded | real | both
 *   BENCH_EXPLAIN=1             also prints Postgres's plan of one search at each size
 *
 * The corpus is synthetic and the same on every run (a seeded generator): documents of five
 * sections of about 800 characters, words drawn from a 6,000-word vocabulary with Zipf's
 * frequencies, as prose has them. Queries are two to four words of middling frequency, asked as
 * questions (any word may match, ranked), the way agents ask.
 */
import { fileURLToPath } from 'node:url';
import { Knowledge, SEARCH_SQL, SPECTRUM_MIGRATIONS, searchParams } from '@brainmesh/pack-spectrum';
import {
  type Db,
  dropPackStorage,
  migrate,
  openEmbeddedDb,
  openPackDb,
  openPostgresDb,
  packStorage,
} from '@brainmesh/shared';
import { uniqueName } from '@brainmesh/shared/testing';
import { markdownTable, num } from './support/table.js';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (process.env.BENCH_CHUNKS ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const STORAGE = process.env.BENCH_STORAGE ?? 'both';
const SECTIONS = 5;

/** mulberry32: a small seeded generator, so every run writes the same corpus. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(20261207);
const SYLLABLES = 'ka lo mi ra te su no vi de pa gor lin mar ben tos quil'.split(' ');
const VOCABULARY = Array.from({ length: 6_000 }, (_, i) => {
  let word = '';
  let n = i + 17;
  while (n > 0) {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return word;
});
// Zipf: the word of rank r drawn with weight 1/r.
const CUMULATIVE = (() => {
  let sum = 0;
  return VOCABULARY.map((_, r) => {
    sum += 1 / (r + 1);
    return sum;
  });
})();
function word(): string {
  const x = rand() * CUMULATIVE.at(-1)!;
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}
function sentence(): string {
  const n = 8 + Math.floor(rand() * 12);
  const words = Array.from({ length: n }, word);
  return `${words[0]![0]!.toUpperCase()}${words.join(' ').slice(1)}.`;
}
function document(i: number): { slug: string; title: string; body: string; tags: string[] } {
  const title = `${word()} ${word()} ${word()} ${i}`;
  const sections = Array.from({ length: SECTIONS }, () => {
    let text = '';
    while (text.length < 800) text += `${sentence()} `;
    return `## ${word()} ${word()}\n\n${text.trim()}`;
  });
  return { slug: `doc-${i}`, title, body: `# ${title}\n\n${sections.join('\n\n')}`, tags: [word()] };
}
function query(): string {
  const n = 2 + Math.floor(rand() * 3);
  // Middling words: neither the commonest (in every chunk) nor the rarest (in none).
  return Array.from({ length: n }, () => VOCABULARY[50 + Math.floor(rand() * 1_500)]!).join(' ');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(label: string, nodeDb: Db, nodeSchema?: string): Promise<string[][]> {
  const storage = packStorage('spectrum', nodeSchema);
  const db = await openPackDb(nodeDb, storage, { extensions: ['pg_trgm'] });
  const rows: string[][] = [];
  try {
    await migrate(db, fileURLToPath(SPECTRUM_MIGRATIONS));
    const knowledge = new Knowledge(db);
    const author = { principal: 'bench', role: 'operator' };
    let documents = 0;
    for (const size of SIZES) {
      const target = Math.ceil(size / (SECTIONS + 1));
      const started = performance.now();
      const from = documents;
      while (documents < target) await knowledge.put(document(documents++), author);
      const seconds = (performance.now() - started) / 1000;
      const { rows: counted } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks');
      const chunks = counted[0]!.n;
      await db.exec('ANALYZE');
      for (let i = 0; i < 30; i++) await knowledge.search(query());
      const latencies: number[] = [];
      let hits = 0;
      for (let i = 0; i < QUERIES; i++) {
        const q = query();
        const t = performance.now();
        const result = await knowledge.search(q);
        latencies.push(performance.now() - t);
        hits += result.hits.length;
      }
      latencies.sort((a, b) => a - b);
      if (process.env.BENCH_EXPLAIN === '1') {
        const plan = await db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) ${SEARCH_SQL}`,
          searchParams(query(), 5, []),
        );
        console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
      }
      const added = documents - from;
      const row = [
        label,
        chunks.toLocaleString('en-US'),
        num(added / seconds, 0),
        num((added * (SECTIONS + 1)) / seconds, 0),
        num(percentile(latencies, 50), 2),
        num(percentile(latencies, 99), 2),
        num(hits / QUERIES, 1),
      ];
      console.log(row.join('  '));
      rows.push(row);
    }
  } finally {
    await dropPackStorage(nodeDb, storage);
  }
  return rows;
}

const results: string[][] = [];
if (STORAGE !== 'real') {
  const embedded = await openEmbeddedDb();
  results.push(...(await run('embedded', embedded)));
  await embedded.close();
}
if (STORAGE !== 'embedded') {
  const schema = uniqueName('bench');
  const pg = await openPostgresDb({ url: DATABASE_URL, schema });
  try {
    results.push(...(await run('postgres', pg, schema)));
  } finally {
    await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pg.close();
  }
}
console.log(
  `\n${markdownTable(
    ['storage', 'chunks', 'ingest docs/s', 'ingest chunks/s', 'search p50 ms', 'search p99 ms', 'hits per search'],
    results,
  )}`,
);
