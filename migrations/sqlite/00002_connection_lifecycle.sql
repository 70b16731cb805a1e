-- +goose Up
-- The connection life cycle: OAuth flows kept server-side, leases that keep two refreshes of
-- one asset or connection apart, assets that vanished, and Meta's rate-limit state shared by
-- every replica.

-- One OAuth dance, from Connect or Reauthenticate to the asset picker. The state travels to
-- the provider and back; only its SHA-256 is kept. The row is bound to the user who started
-- it, the sub-account and the intent, expires quickly and is consumed once. After the
-- callback it holds the provider user, the token (ciphertext) and the discovered assets
-- until the user chooses what to connect.
CREATE TABLE oauth_flows (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    state_hash         TEXT NOT NULL UNIQUE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sub_account_id     INTEGER NOT NULL REFERENCES sub_accounts(id) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    intent             TEXT NOT NULL CHECK (intent IN ('connect', 'reauthenticate')),
    connection_id      INTEGER REFERENCES connections(id) ON DELETE CASCADE,
    scopes             TEXT NOT NULL DEFAULT '',
    goth_session       TEXT NOT NULL DEFAULT '',
    stage              TEXT NOT NULL DEFAULT 'started' CHECK (stage IN ('started', 'claimed', 'authorized', 'done')),
    external_user_id   TEXT NOT NULL DEFAULT '',
    external_user_name TEXT NOT NULL DEFAULT '',
    token              BLOB,
    assets             TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    expires_at         DATETIME NOT NULL
);
CREATE INDEX oauth_flows_expires ON oauth_flows (expires_at);
CREATE INDEX oauth_flows_user ON oauth_flows (user_id);
CREATE INDEX oauth_flows_sub_account ON oauth_flows (sub_account_id);
CREATE INDEX oauth_flows_connection ON oauth_flows (connection_id);

ALTER TABLE connections ADD COLUMN reason_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN lease_until DATETIME;
ALTER TABLE connections ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN disconnected_at DATETIME;
-- When the current grant was made: the first connect, or connecting again after a disconnect.
ALTER TABLE connections ADD COLUMN connected_at DATETIME;

ALTER TABLE assets ADD COLUMN last_error_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN missing_since DATETIME;
ALTER TABLE assets ADD COLUMN lease_until DATETIME;
ALTER TABLE assets ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
CREATE INDEX assets_connection ON assets (connection_id, kind, name);
CREATE INDEX assets_sub_account_external ON assets (sub_account_id, external_id);

-- Keyset pagination of a sub-account's history filtered by kind.
CREATE INDEX connection_events_sub_account_kind ON connection_events (sub_account_id, kind, created_at);

-- Meta's rate limits, shared by every replica: app-wide ('app'), per business object
-- ('object:<id>') and per token ('token:<fingerprint>', never the token itself).
CREATE TABLE provider_limits (
    provider      TEXT NOT NULL,
    scope         TEXT NOT NULL,
    usage         INTEGER NOT NULL DEFAULT 0,
    blocked_until DATETIME,
    updated_at    DATETIME NOT NULL,
    PRIMARY KEY (provider, scope)
);

-- +goose Down
DROP TABLE provider_limits;
DROP INDEX connection_events_sub_account_kind;
DROP INDEX assets_sub_account_external;
DROP INDEX assets_connection;
ALTER TABLE assets DROP COLUMN lease_owner;
ALTER TABLE assets DROP COLUMN lease_until;
ALTER TABLE assets DROP COLUMN missing_since;
ALTER TABLE assets DROP COLUMN last_error_reason;
ALTER TABLE connections DROP COLUMN connected_at;
ALTER TABLE connections DROP COLUMN disconnected_at;
ALTER TABLE connections DROP COLUMN lease_owner;
ALTER TABLE connections DROP COLUMN lease_until;
ALTER TABLE connections DROP COLUMN reason_detail;
DROP TABLE oauth_flows;
