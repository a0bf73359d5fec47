-- Packs keep their tables in schemas of their own now (pack_<name>, each with its own migration
-- track). Versions 1 (devtools' notes) and 3 (MedTainer's cache) left this track; they are never
-- reused. A data folder that applied them still starts: MedTainer's cache, refilled by its next
-- sync, is dropped here; devtools' notes stay as they were (devtools_notes), unused, for an
-- operator who wants them back: INSERT INTO pack_devtools.notes SELECT * FROM devtools_notes.
DROP TABLE IF EXISTS medtainer_cache;
DROP TABLE IF EXISTS medtainer_sync;
