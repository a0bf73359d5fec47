-- The registry of nodes. Enrolment fills it; the hub reloads it at start so nodes survive a
-- restart without enrolling again.
CREATE TABLE nodes (
  id text PRIMARY KEY,
  url text,
  jwks jsonb NOT NULL,
  status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
