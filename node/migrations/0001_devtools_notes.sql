-- Notes the devtools pack keeps for the operator (remember / recall).
CREATE TABLE devtools_notes (
  key text PRIMARY KEY,
  text text NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
