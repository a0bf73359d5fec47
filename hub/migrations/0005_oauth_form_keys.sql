-- Keys that sign the OAuth consent form and the sign-in cookie (HMAC-SHA256). Kept here, not in
-- one process's memory, so a hub restart signs nobody out and every replica verifies what another
-- signed. One key signs at a time (its id is the start of its period, so replicas that rotate
-- together agree on it); each verifies until what it signed has expired, then is deleted. The
-- secrets are as confidential as this database: never log or export them.
CREATE TABLE oauth_form_keys (
  kid text PRIMARY KEY,
  secret text NOT NULL,
  signs_until timestamptz NOT NULL,
  verifies_until timestamptz NOT NULL
);
