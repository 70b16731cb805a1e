-- +goose Up
-- River's job queue schema, version 8 of its "main" line (github.com/riverqueue/river
-- v0.51.2, 008_job_id_autoincrement.up.sql), copied with the schema placeholder left empty so that goose
-- owns every table of this database. One River version per file, each in its own
-- transaction as River's own migrator runs them; the river_migration row tells River
-- it is applied. TestRiverSchemaIsCurrent fails when an upgrade of River adds a version.
-- +goose StatementBegin
-- No-op. Postgres sequences already prevent automatically generated job IDs
-- from being reused.
SELECT 1;

INSERT INTO river_migration (line, version) VALUES ('main', 8);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
-- No-op. Postgres sequences already prevent automatically generated job IDs
-- from being reused.
SELECT 1;
-- +goose StatementEnd
