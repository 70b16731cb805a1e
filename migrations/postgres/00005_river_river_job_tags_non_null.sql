-- +goose Up
-- River's job queue schema, version 3 of its "main" line (github.com/riverqueue/river
-- v0.51.2, 003_river_job_tags_non_null.up.sql), copied with the schema placeholder left empty so that goose
-- owns every table of this database. One River version per file, each in its own
-- transaction as River's own migrator runs them; the river_migration row tells River
-- it is applied. TestRiverSchemaIsCurrent fails when an upgrade of River adds a version.
-- +goose StatementBegin
ALTER TABLE river_job ALTER COLUMN tags SET DEFAULT '{}';
UPDATE river_job SET tags = '{}' WHERE tags IS NULL;
ALTER TABLE river_job ALTER COLUMN tags SET NOT NULL;

INSERT INTO river_migration (version) VALUES (3);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE river_job
    ALTER COLUMN tags DROP NOT NULL,
    ALTER COLUMN tags DROP DEFAULT;
-- +goose StatementEnd
