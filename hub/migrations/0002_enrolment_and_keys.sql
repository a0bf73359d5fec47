-- One-time enrolment tokens: only a hash is kept; a token works once and until it expires.
CREATE TABLE enrolment_tokens (
  token_hash text PRIMARY KEY,
  node_id text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX enrolment_tokens_node ON enrolment_tokens (node_id);

-- API keys: shown once, stored as a SHA-256 hash (they are 256-bit random, so a fast hash is
-- enough), looked up by their public id.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  key_hash text NOT NULL,
  scopes jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
