-- +goose Up
-- When the connection's current incident began: set on entering a status someone must act
-- on, kept while it moves between such statuses (an expired token, then a missing
-- permission), cleared when it works again. The incident email and the "works again" email
-- that closes it share this moment.
ALTER TABLE connections ADD COLUMN incident_since DATETIME;

-- +goose Down
ALTER TABLE connections DROP COLUMN incident_since;
