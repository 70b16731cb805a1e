-- +goose Up
-- River's job queue schema, version 3 of its "main" line (github.com/riverqueue/river
-- v0.51.2, 003_river_job_tags_non_null.up.sql), copied with the schema placeholder left empty so that goose
-- owns every table of this database. One River version per file, each in its own
-- transaction as River's own migrator runs them; the river_migration row tells River
-- it is applied. TestRiverSchemaIsCurrent fails when an upgrade of River adds a version.
-- +goose StatementBegin
--
-- Normally `river_job.tags` is set to `NOT NULL` with a `DEFAULT` here, but since
-- SQLite was added well after 003 came about, we push that to version 006 index.
--

SELECT 1;

INSERT INTO river_migration (version) VALUES (3);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
--
-- Normally `river_job.tags` is set back to nullable here, but since SQLite was
-- added well after 003 came about, we push that to version 006 index.
--

SELECT 1;
-- +goose StatementEnd
