import { createHash } from 'node:crypto';
import { BrainmeshError, type Db, type Queryable } from '@brainmesh/shared';
import { chunkDocument } from './chunk.js';

/**
 * The knowledge engine the four agents share: documents stored whole and versioned, chunked,
 * and searched by rank (Postgres full text: `websearch_to_tsquery`, `ts_rank_cd` over a vector
 * that weighs title over heading and tags over text; trigram similarity of titles for names and
 * typos), the same on embedded and real Postgres. Every hit names the document, its version and
 * the chunk, so an agent can cite it and read it back. Search is lexical: no embedding function
 * is configured (hybrid search needs pgvector and the operator's model), and results say so.
 */

export interface Author {
  principal: string;
  role: string;
}

export interface DocumentInput {
  /** A stable name; from the title when left out. Writing the same slug again makes a new version. */
  slug?: string | undefined;
  title: string;
  body: string;
  tags?: readonly string[] | undefined;
  /** `inline` or `file:<path>`. */
  source?: string | undefined;
}

export interface StoredDocument {
  id: number;
  slug: string;
  title: string;
  source: string;
  tags: string[];
  version: number;
  body: string;
  author: Author;
  updatedAt: string;
}

export interface PutResult {
  id: number;
  slug: string;
  version: number;
  chunks: number;
  /** False when the text, title and tags were already those of the current version. */
  changed: boolean;
}

export interface SearchHit {
  documentId: number;
  slug: string;
  title: string;
  version: number;
  chunk: number;
  heading: string;
  excerpt: string;
  tags: string[];
  score: number;
  /** How to cite it: `spectrum://knowledge/<id>@<version>#<chunk>`. */
  cite: string;
}

export interface SearchResult {
  mode: 'lexical';
  query: string;
  hits: SearchHit[];
}

export interface Fact {
  entity: string;
  kind: string;
  observations: { text: string; by: string; role: string; document: number | null; at: string }[];
  relations: {
    from: string;
    type: string;
    to: string;
    by: string;
    role: string;
    document: number | null;
    at: string;
  }[];
}

const TS_CONFIG = 'english';

export function slugify(title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug.length > 0 ? slug : 'untitled';
}

export function citeOf(id: number, version: number, chunk?: number): string {
  return `spectrum://knowledge/${id}@${version}${chunk === undefined ? '' : `#${chunk}`}`;
}

export class Knowledge {
  constructor(
    private readonly db: Db,
    /** Told of every new version once it is committed (a document's subscribers hear of it). */
    private readonly onChanged: (doc: { id: number; title: string; version: number }) => void = () => {},
  ) {}

  /** Stores a document, or a new version of the one with its slug; a write of what is there already changes nothing. */
  async put(input: DocumentInput, author: Author): Promise<PutResult> {
    const slug = input.slug ?? slugify(input.title);
    const tags = [...new Set((input.tags ?? []).map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0))].sort();
    const hash = createHash('sha256')
      .update(JSON.stringify([input.title, input.body, tags]))
      .digest('hex');
    const chunks = chunkDocument(input.body);
    const result = await this.db.transaction(async (tx): Promise<PutResult> => {
      // The row is made first if missing, then locked: two authors writing one slug at once take
      // turns, and each makes a version of its own.
      await tx.query(
        `INSERT INTO documents (slug, title, source, tags, author_principal, author_role, version, body, content_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 0, '', '')
         ON CONFLICT (slug) DO NOTHING`,
        [slug, input.title, input.source ?? 'inline', tags, author.principal, author.role],
      );
      const current = (
        await tx.query<{ id: number; version: number; content_hash: string }>(
          'SELECT id, version, content_hash FROM documents WHERE slug = $1 FOR UPDATE',
          [slug],
        )
      ).rows[0]!;
      if (current.content_hash === hash) {
        const count = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE document_id = $1', [
          current.id,
        ]);
        return { id: current.id, slug, version: current.version, chunks: count.rows[0]!.n, changed: false };
      }
      const version = current.version + 1;
      await tx.query(
        `UPDATE documents SET title = $2, source = $3, tags = $4, author_principal = $5, author_role = $6,
                version = $7, body = $8, content_hash = $9, updated_at = now()
          WHERE id = $1`,
        [
          current.id,
          input.title,
          input.source ?? 'inline',
          tags,
          author.principal,
          author.role,
          version,
          input.body,
          hash,
        ],
      );
      await tx.query(
        `INSERT INTO document_versions (document_id, version, title, body, tags, author_principal, author_role)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [current.id, version, input.title, input.body, tags, author.principal, author.role],
      );
      await tx.query('DELETE FROM chunks WHERE document_id = $1', [current.id]);
      await insertChunks(tx, current.id, version, input.title, tags, chunks);
      return { id: current.id, slug, version, chunks: chunks.length, changed: true };
    });
    if (result.changed) this.onChanged({ id: result.id, title: input.title, version: result.version });
    return result;
  }

  /** A document by id or slug: its current version, or the one asked for. */
  async get(ref: number | string, version?: number): Promise<StoredDocument> {
    const doc = (
      await this.db.query<DocumentRow & { body: string }>(
        typeof ref === 'number'
          ? 'SELECT * FROM documents WHERE id = $1 AND version > 0'
          : 'SELECT * FROM documents WHERE slug = $1 AND version > 0',
        [ref],
      )
    ).rows[0];
    if (doc === undefined)
      throw new BrainmeshError('NOT_FOUND', `no document ${typeof ref === 'number' ? ref : `"${ref}"`}`);
    const base = { id: doc.id, slug: doc.slug, source: doc.source };
    if (version === undefined || version === doc.version) return { ...toDocument(doc), body: doc.body };
    const old = (
      await this.db.query<{
        title: string;
        body: string;
        tags: string[];
        author_principal: string;
        author_role: string;
        at: Date;
      }>('SELECT * FROM document_versions WHERE document_id = $1 AND version = $2', [doc.id, version])
    ).rows[0];
    if (old === undefined)
      throw new BrainmeshError(
        'NOT_FOUND',
        `document ${doc.id} has no version ${version} (its latest is ${doc.version})`,
      );
    return {
      ...base,
      title: old.title,
      tags: old.tags,
      version,
      body: old.body,
      author: { principal: old.author_principal, role: old.author_role },
      updatedAt: old.at.toISOString(),
    };
  }

  /** Documents, newest first, optionally with all of some tags. */
  async list(options: { tags?: readonly string[]; limit?: number } = {}): Promise<Omit<StoredDocument, 'body'>[]> {
    const { rows } = await this.db.query<DocumentRow>(
      `SELECT id, slug, title, source, tags, version, author_principal, author_role, updated_at FROM documents
        WHERE version > 0 AND tags @> $1 ORDER BY updated_at DESC, id DESC LIMIT $2`,
      [options.tags ?? [], options.limit ?? 50],
    );
    return rows.map(toDocument);
  }

  /**
   * Ranked chunks for a question. Plain words are a question: a chunk with any of them is a
   * candidate, ranked by cover density (`ts_rank_cd`, more of the words closer together ranks
   * higher) with a bonus for having all of them; a question asked of an agency's documents
   * rarely has every word in one passage. Search syntax (`"a phrase"`, `-word`, `or`) is taken
   * as written (`websearch_to_tsquery`). When the words find fewer passages than asked for,
   * titles close to them (a name, a typo) fill in, so "Nortwind" still finds Northwind.
   */
  async search(query: string, options: { limit?: number; tags?: readonly string[] } = {}): Promise<SearchResult> {
    const limit = options.limit ?? 5;
    const { rows } = await this.db.query<{
      document_id: number;
      slug: string;
      title: string;
      version: number;
      ordinal: number;
      heading: string;
      excerpt: string;
      tags: string[];
      score: number;
    }>(SEARCH_SQL, searchParams(query, limit, options.tags ?? []));
    return {
      mode: 'lexical',
      query,
      hits: rows.map((r) => ({
        documentId: r.document_id,
        slug: r.slug,
        title: r.title,
        version: r.version,
        chunk: r.ordinal,
        heading: r.heading,
        excerpt: r.excerpt,
        tags: r.tags,
        score: Math.round(r.score * 10_000) / 10_000,
        cite: citeOf(r.document_id, r.version, r.ordinal),
      })),
    };
  }

  /**
   * Records what an agent learned about something: the entity (made if new, matched by name
   * without case), an observation, and a typed relation to another entity (made if new). Safe
   * under concurrent writers: entities are made with ON CONFLICT, never read-then-written.
   */
  async remember(
    input: {
      entity: string;
      kind: string;
      observation?: string | undefined;
      relation?: { type: string; to: string; toKind?: string | undefined } | undefined;
      documentId?: number | undefined;
    },
    author: Author,
  ): Promise<Fact> {
    await this.db.transaction(async (tx) => {
      const id = await upsertEntity(tx, input.entity, input.kind, author.principal);
      if (input.observation !== undefined) {
        await tx.query(
          'INSERT INTO observations (entity_id, text, principal, role, document_id) VALUES ($1, $2, $3, $4, $5)',
          [id, input.observation, author.principal, author.role, input.documentId ?? null],
        );
      }
      if (input.relation !== undefined) {
        const to = await upsertEntity(tx, input.relation.to, input.relation.toKind ?? 'thing', author.principal);
        await tx.query(
          `INSERT INTO relations (from_id, type, to_id, principal, role, document_id) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (from_id, type, to_id) DO NOTHING`,
          [id, input.relation.type, to, author.principal, author.role, input.documentId ?? null],
        );
      }
    });
    return (await this.recall(input.entity))!;
  }

  /** What is known of an entity: by its name, or the closest name when none is exact. */
  async recall(name: string): Promise<Fact | undefined> {
    const entity = (
      await this.db.query<{ id: number; name: string; kind: string }>(
        `SELECT id, name, kind FROM entities
          WHERE lower(name) = lower($1) OR name % $1
          ORDER BY (lower(name) = lower($1)) DESC, similarity(name, $1) DESC LIMIT 1`,
        [name],
      )
    ).rows[0];
    if (entity === undefined) return undefined;
    const observations = await this.db.query<{
      text: string;
      principal: string;
      role: string;
      document_id: number | null;
      at: Date;
    }>('SELECT text, principal, role, document_id, at FROM observations WHERE entity_id = $1 ORDER BY at, id', [
      entity.id,
    ]);
    const relations = await this.db.query<{
      from: string;
      type: string;
      to: string;
      principal: string;
      role: string;
      document_id: number | null;
      at: Date;
    }>(
      `SELECT f.name AS from, r.type, t.name AS to, r.principal, r.role, r.document_id, r.at
         FROM relations r JOIN entities f ON f.id = r.from_id JOIN entities t ON t.id = r.to_id
        WHERE r.from_id = $1 OR r.to_id = $1 ORDER BY r.at, f.name, t.name`,
      [entity.id],
    );
    return {
      entity: entity.name,
      kind: entity.kind,
      observations: observations.rows.map((o) => ({
        text: o.text,
        by: o.principal,
        role: o.role,
        document: o.document_id,
        at: o.at.toISOString(),
      })),
      relations: relations.rows.map((r) => ({
        from: r.from,
        type: r.type,
        to: r.to,
        by: r.principal,
        role: r.role,
        document: r.document_id,
        at: r.at.toISOString(),
      })),
    };
  }

  /** Entities whose names are like the words given, best first. */
  async findEntities(query: string, limit = 10): Promise<{ name: string; kind: string; similarity: number }[]> {
    const { rows } = await this.db.query<{ name: string; kind: string; similarity: number }>(
      `SELECT name, kind, similarity(name, $1)::float8 AS similarity FROM entities
        WHERE name % $1 OR name ILIKE '%' || $1 || '%'
        ORDER BY similarity DESC, name LIMIT $2`,
      [query, limit],
    );
    return rows;
  }
}

/** The search, for `search` and for a benchmark's EXPLAIN: $1 words, $2 limit, $3 tags, $4 strict. */
export const SEARCH_SQL = `WITH strict AS (SELECT websearch_to_tsquery('${TS_CONFIG}', $1) AS q),
       q AS (SELECT CASE WHEN $4 THEN strict.q ELSE replace(strict.q::text, ' & ', ' | ')::tsquery END AS q, strict.q AS all_words FROM strict),
       lexical AS (
         SELECT c.id FROM chunks c, q
          WHERE c.search @@ q.q
            AND ($3::text[] = '{}' OR EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND d.tags @> $3))
          ORDER BY ts_rank_cd(c.search, q.q, 1) DESC LIMIT $2 * 8
       ),
       -- Titles like the words (a name, a typo), when the words themselves find too little: a
       -- trigram match reads every title, the costliest part of a search at size.
       named AS (
         SELECT d.id AS document_id FROM documents d
          WHERE (SELECT count(*) FROM lexical) < $2
            AND d.title % $1 AND d.version > 0 AND d.tags @> $3
          ORDER BY similarity(d.title, $1) DESC LIMIT $2 * 2
       ),
       candidates AS (
         SELECT id FROM lexical
         UNION
         SELECT c.id FROM named JOIN chunks c ON c.document_id = named.document_id AND c.ordinal = 0
       ),
       ranked AS (
         SELECT c.id, (ts_rank_cd(c.search, q.q, 1)
                + CASE WHEN c.search @@ q.all_words THEN 0.1 ELSE 0 END
                + similarity(d.title, $1) * 0.5)::float8 AS score
           FROM candidates k
           JOIN chunks c ON c.id = k.id
           JOIN documents d ON d.id = c.document_id, q
          ORDER BY score DESC, c.document_id, c.ordinal
          LIMIT $2
       )
       -- The excerpt (ts_headline reads the whole chunk) only for what is returned.
       SELECT d.id AS document_id, d.slug, d.title, c.version, c.ordinal, c.heading, d.tags, r.score,
              ts_headline('${TS_CONFIG}', c.body, q.q, 'MaxFragments=2, MaxWords=30, MinWords=12') AS excerpt
         FROM ranked r
         JOIN chunks c ON c.id = r.id
         JOIN documents d ON d.id = c.document_id, q
        ORDER BY r.score DESC, d.id, c.ordinal`;

export function searchParams(query: string, limit: number, tags: readonly string[]): unknown[] {
  return [query, limit, tags, usesSyntax(query)];
}

interface DocumentRow {
  id: number;
  slug: string;
  title: string;
  source: string;
  tags: string[];
  version: number;
  author_principal: string;
  author_role: string;
  updated_at: Date;
}

function toDocument(d: DocumentRow): Omit<StoredDocument, 'body'> {
  return {
    id: d.id,
    slug: d.slug,
    title: d.title,
    source: d.source,
    tags: d.tags,
    version: d.version,
    author: { principal: d.author_principal, role: d.author_role },
    updatedAt: d.updated_at.toISOString(),
  };
}

/** Whether the words use websearch syntax (phrases, exclusions, or), which is then taken strictly. */
function usesSyntax(query: string): boolean {
  return /"|(^|\s)-\S|\sor\s/i.test(query);
}

async function upsertEntity(tx: Queryable, name: string, kind: string, principal: string): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO entities (name, kind, created_by) VALUES ($1, $2, $3)
     ON CONFLICT ((lower(name))) DO UPDATE SET kind = CASE WHEN entities.kind = 'thing' THEN EXCLUDED.kind ELSE entities.kind END
     RETURNING id`,
    [name.trim(), kind, principal],
  );
  return rows[0]!.id;
}

async function insertChunks(
  tx: Queryable,
  documentId: number,
  version: number,
  title: string,
  tags: readonly string[],
  chunks: readonly { ordinal: number; heading: string; body: string }[],
): Promise<void> {
  await tx.query(
    `INSERT INTO chunks (document_id, version, ordinal, heading, body, search)
     SELECT $1, $2, c.ordinal, c.heading, c.body,
            setweight(to_tsvector('${TS_CONFIG}', $3), 'A') ||
            setweight(to_tsvector('${TS_CONFIG}', c.heading || ' ' || $4), 'B') ||
            setweight(to_tsvector('${TS_CONFIG}', c.body), 'C')
       FROM jsonb_to_recordset($5::jsonb) AS c(ordinal integer, heading text, body text)`,
    [documentId, version, title, tags.join(' '), JSON.stringify(chunks)],
  );
}
