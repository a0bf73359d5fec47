-- MedTainer's sync cache of GoHighLevel: one row per item, as the API sent it, and when each kind
-- was last synced, per location (sub-account), so a node switched to another location never
-- serves the previous one's data. A kind is replaced whole in one transaction, so a reader sees
-- one sync or the one before it, never a mix.
CREATE TABLE medtainer_cache (
  location_id text NOT NULL,
  kind text NOT NULL,
  id text NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (location_id, kind, id)
);

CREATE TABLE medtainer_sync (
  location_id text NOT NULL,
  kind text NOT NULL,
  synced_at timestamptz NOT NULL,
  items integer NOT NULL,
  PRIMARY KEY (location_id, kind)
);
