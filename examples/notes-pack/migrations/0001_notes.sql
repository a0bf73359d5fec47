-- The pack's own table, created in its own schema (pack_notes) by its own role.
CREATE TABLE notes (
  id serial PRIMARY KEY,
  text text NOT NULL,
  author text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
