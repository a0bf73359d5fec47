-- The central audit trail: every node's tool executions, as the nodes wrote and signed them.
CREATE TABLE audit_events (
  id bigserial NOT NULL,
  node_id text NOT NULL,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  tool text NOT NULL,
  params jsonb NOT NULL,
  response jsonb,
  error text,
  duration_ms integer NOT NULL,
  status text NOT NULL,
  source text NOT NULL,
  principal text NOT NULL,
  trace_id text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- A batch sent twice lands once.
  PRIMARY KEY (node_id, seq)
);
-- Arrival order, for the tail and its cursor.
CREATE UNIQUE INDEX audit_events_id ON audit_events (id);
-- Search: newest first, narrowed by one of these.
CREATE INDEX audit_events_at ON audit_events (at DESC, id DESC);
CREATE INDEX audit_events_node_at ON audit_events (node_id, at DESC);
CREATE INDEX audit_events_tool_at ON audit_events (tool, at DESC);
CREATE INDEX audit_events_principal_at ON audit_events (principal, at DESC);
CREATE INDEX audit_events_trace ON audit_events (trace_id);
CREATE INDEX audit_events_not_ok ON audit_events (status, at DESC) WHERE status <> 'ok';

-- Where each node's chain stands centrally.
CREATE TABLE audit_chains (
  node_id text PRIMARY KEY,
  -- The oldest row kept (retention removes older ones) and the hash it follows.
  first_seq bigint NOT NULL,
  first_prev_hash text NOT NULL,
  last_seq bigint NOT NULL,
  last_hash text NOT NULL,
  -- What the node last said it holds: the backlog is node_head_seq - last_seq.
  node_head_seq bigint NOT NULL DEFAULT 0,
  last_event_at timestamptz,
  last_batch_at timestamptz,
  -- Time from the newest event of the last batch being written on its node to landing here.
  last_lag_ms bigint
);

-- Each batch as the node signed it: verify checks rows against these signatures.
CREATE TABLE audit_batches (
  node_id text NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  last_hash text NOT NULL,
  signature text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, last_seq)
);

-- Every public key a node has had, so batches signed before a rotation stay checkable.
CREATE TABLE node_key_history (
  node_id text NOT NULL,
  kid text NOT NULL,
  jwk jsonb NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, kid)
);

-- The hub's own view of each call it proxied; joins audit_events on trace_id.
CREATE TABLE hub_calls (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  trace_id text NOT NULL,
  principal text NOT NULL,
  node_id text NOT NULL,
  tool text NOT NULL,
  duration_ms integer NOT NULL,
  outcome text NOT NULL
);
CREATE INDEX hub_calls_trace ON hub_calls (trace_id);
CREATE INDEX hub_calls_at ON hub_calls (at DESC);
