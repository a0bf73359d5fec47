-- MedTainer's sync cache of GoHighLevel: one row per item, as the API sent it, and when each kind
-- was last synced. A kind is replaced whole in one transaction, so a reader sees one sync or the
-- one before it, never a mix.
CREATE TABLE medtainer_cache (
  kind text NOT NULL,
  id text NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE TABLE medtainer_sync (
  kind text PRIMARY KEY,
  synced_at timestamptz NOT NULL,
  items integer NOT NULL
);
