-- Spectrum's knowledge engine: documents (versioned), their chunks indexed for ranked full-text
-- search, and a small graph of facts (entities, typed relations, observations with provenance).

CREATE TABLE documents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- A stable name: the file's path under the operator's folder, or one the author gives.
  slug text NOT NULL UNIQUE,
  title text NOT NULL,
  -- Where it came from: `inline` (written through a tool) or `file:<path>`.
  source text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  author_principal text NOT NULL,
  author_role text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  body text NOT NULL,
  content_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Names and typos: "Acme Dentl" still finds "Acme Dental onboarding".
CREATE INDEX documents_title_trgm ON documents USING gin (title gin_trgm_ops);
CREATE INDEX documents_tags ON documents USING gin (tags);

-- Every version as it was, so a citation of (document, version) can always be read back.
CREATE TABLE document_versions (
  document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version integer NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  tags text[] NOT NULL,
  author_principal text NOT NULL,
  author_role text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (document_id, version)
);

-- The current version's chunks. The search vector weighs the title (A) over the chunk's heading
-- and the document's tags (B) over its text (C).
CREATE TABLE chunks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version integer NOT NULL,
  ordinal integer NOT NULL,
  heading text NOT NULL DEFAULT '',
  body text NOT NULL,
  search tsvector NOT NULL,
  UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_search ON chunks USING gin (search);

CREATE TABLE entities (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX entities_name ON entities (lower(name));
CREATE INDEX entities_name_trgm ON entities USING gin (name gin_trgm_ops);

CREATE TABLE relations (
  from_id bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  type text NOT NULL,
  to_id bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  principal text NOT NULL,
  role text NOT NULL,
  document_id bigint REFERENCES documents (id) ON DELETE SET NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (from_id, type, to_id)
);

CREATE TABLE observations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity_id bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  text text NOT NULL,
  principal text NOT NULL,
  role text NOT NULL,
  document_id bigint REFERENCES documents (id) ON DELETE SET NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX observations_entity ON observations (entity_id, at);
