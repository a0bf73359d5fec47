-- OAuth 2.1: the hub is its own authorization server for MCP clients such as Claude Desktop.

-- People who may sign in and grant a client access. Passwords are scrypt hashes.
CREATE TABLE operator_accounts (
  username text PRIMARY KEY,
  password_hash text NOT NULL,
  scopes jsonb NOT NULL DEFAULT '["admin"]',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Clients registered dynamically (RFC 7591). Public clients only: PKCE, no secret.
CREATE TABLE oauth_clients (
  client_id text PRIMARY KEY,
  client_name text,
  redirect_uris jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What a user let a client do; every code, access and refresh token belongs to one grant, and
-- revoking the grant (or replaying a code or refresh token) ends them all.
CREATE TABLE oauth_grants (
  id text PRIMARY KEY,
  client_id text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  username text NOT NULL REFERENCES operator_accounts (username) ON DELETE CASCADE,
  scopes jsonb NOT NULL,
  resource text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE oauth_codes (
  code_hash text PRIMARY KEY,
  grant_id text NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE oauth_refresh_tokens (
  token_hash text PRIMARY KEY,
  grant_id text NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

-- Consent is remembered per user and client, for the scopes it covered.
CREATE TABLE oauth_consents (
  username text NOT NULL REFERENCES operator_accounts (username) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  scopes jsonb NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, client_id)
);
