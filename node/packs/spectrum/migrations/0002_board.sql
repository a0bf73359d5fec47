-- Spectrum's task board: tasks for the four roles, claimed under leases, handed between roles,
-- blocked on others; every change is an event, and comments are events of their own kind.

CREATE TABLE tasks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  brief text NOT NULL DEFAULT '',
  role text NOT NULL CHECK (role IN ('strategist', 'builder', 'closer', 'operator')),
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'claimed', 'in_progress', 'blocked', 'done', 'cancelled')),
  -- 1 (most urgent) to 5.
  priority integer NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  due_at timestamptz,
  -- Who holds it (a principal) and until when, while claimed or in progress.
  claimed_by text,
  lease_until timestamptz,
  -- Documents the task links to.
  knowledge bigint[] NOT NULL DEFAULT '{}',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Claimed and in progress are held; blocked is held when its holder is stuck, and unheld when
  -- it waits for other tasks; the rest are never held.
  CHECK ((claimed_by IS NULL) = (lease_until IS NULL)),
  CHECK (status NOT IN ('claimed', 'in_progress') OR claimed_by IS NOT NULL),
  CHECK (status NOT IN ('open', 'done', 'cancelled') OR claimed_by IS NULL)
);
-- What claim_next reads: a role's open tasks, most urgent first.
CREATE INDEX tasks_open ON tasks (role, priority, id) WHERE status = 'open';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE claimed_by IS NOT NULL;

CREATE TABLE task_dependencies (
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  depends_on bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, depends_on),
  CHECK (task_id <> depends_on)
);
CREATE INDEX task_dependencies_on ON task_dependencies (depends_on);

CREATE TABLE task_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  -- Who: a principal and the role it acted as (`board` for the board's own moves).
  principal text NOT NULL,
  role text NOT NULL,
  kind text NOT NULL,
  note text NOT NULL DEFAULT '',
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX task_events_task ON task_events (task_id, id);

-- Closer's own list of leads, used when MedTainer's CRM is not in the mesh.
CREATE TABLE leads (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  company text NOT NULL,
  email text NOT NULL,
  stage text NOT NULL DEFAULT 'new',
  value_usd integer NOT NULL DEFAULT 0,
  source text NOT NULL DEFAULT '',
  notes text NOT NULL DEFAULT '',
  last_contact_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
