-- This node's audit trail: one row per tool execution, written before the response leaves.
CREATE TABLE tool_executions (
  seq bigint PRIMARY KEY,
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
  hash text NOT NULL
);

-- How far the hub has committed this node's rows.
CREATE TABLE audit_outbox (
  id integer PRIMARY KEY CHECK (id = 1),
  shipped_seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_outbox (id) VALUES (1);
