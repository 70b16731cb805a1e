-- +goose Up
-- Health checks, provider incidents and the email outbox.

-- A provider that stopped answering for many connections at once. At most one is open per
-- provider; it closes by itself when checks succeed again.
CREATE TABLE provider_incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT NOT NULL,
    started_at      DATETIME NOT NULL,
    ended_at        DATETIME,
    failed_checks   INTEGER NOT NULL DEFAULT 0,
    last_failure_at DATETIME NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX provider_incidents_open ON provider_incidents (provider) WHERE ended_at IS NULL;
CREATE INDEX provider_incidents_started ON provider_incidents (started_at);

-- The first transient failure of the current streak (the "we cannot reach Facebook" notice
-- is sent when it is old enough), and the provider incident a failed check belonged to.
ALTER TABLE connections ADD COLUMN unreachable_since DATETIME;
ALTER TABLE connections ADD COLUMN incident_id INTEGER REFERENCES provider_incidents(id) ON DELETE SET NULL;

-- Outbox rows name their recipient, so preferences and the digest can find them; a row
-- being sent is leased, so two workers never send it twice; rows held for the daily
-- digest wait there until it goes out.
ALTER TABLE notifications ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE notifications ADD COLUMN lease_until DATETIME;
ALTER TABLE notifications ADD COLUMN digest BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN digest_id INTEGER REFERENCES notifications(id) ON DELETE SET NULL;
CREATE INDEX notifications_user ON notifications (user_id, digest, status);
CREATE INDEX connections_incident ON connections (incident_id);

-- +goose Down
DROP INDEX connections_incident;
DROP INDEX notifications_user;
ALTER TABLE notifications DROP COLUMN digest_id;
ALTER TABLE notifications DROP COLUMN digest;
ALTER TABLE notifications DROP COLUMN lease_until;
ALTER TABLE notifications DROP COLUMN user_id;
ALTER TABLE connections DROP COLUMN incident_id;
ALTER TABLE connections DROP COLUMN unreachable_since;
DROP TABLE provider_incidents;
