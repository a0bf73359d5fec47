-- Notes the devtools pack keeps for the operator (remember / recall), in the pack's own schema.
CREATE TABLE notes (
  key text PRIMARY KEY,
  text text NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
