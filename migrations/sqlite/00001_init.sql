-- +goose Up
-- The whole domain: tenancy, users, connections, assets, history, outbox (README.md and providers/README.md describe it).

CREATE TABLE agencies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE sub_accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id  INTEGER NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (agency_id, name)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    platform_role TEXT NOT NULL DEFAULT '' CHECK (platform_role IN ('', 'support')),
    last_login_at DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

-- Server-side record of each sign-in, so that signing out really ends the session: the
-- cookie carries a random id whose SHA-256 is kept here.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A membership is a role in exactly one agency or exactly one sub-account.
CREATE TABLE memberships (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agency_id      INTEGER REFERENCES agencies(id) ON DELETE CASCADE,
    sub_account_id INTEGER REFERENCES sub_accounts(id) ON DELETE CASCADE,
    role           TEXT NOT NULL,
    created_at     DATETIME NOT NULL,
    CHECK ((agency_id IS NULL) <> (sub_account_id IS NULL)),
    CHECK ((agency_id IS NOT NULL AND role IN ('agency_owner', 'agency_admin', 'agency_user'))
        OR (sub_account_id IS NOT NULL AND role IN ('account_admin', 'account_user')))
);
CREATE UNIQUE INDEX memberships_user_agency ON memberships (user_id, agency_id) WHERE agency_id IS NOT NULL;
CREATE UNIQUE INDEX memberships_user_sub_account ON memberships (user_id, sub_account_id) WHERE sub_account_id IS NOT NULL;
CREATE INDEX memberships_agency ON memberships (agency_id);
CREATE INDEX memberships_sub_account ON memberships (sub_account_id);

-- One OAuth grant of one provider user inside one sub-account. Tokens are ciphertext.
CREATE TABLE connections (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    sub_account_id           INTEGER NOT NULL REFERENCES sub_accounts(id) ON DELETE CASCADE,
    provider                 TEXT NOT NULL,
    external_user_id         TEXT NOT NULL,
    external_user_name       TEXT NOT NULL DEFAULT '',
    scopes                   TEXT NOT NULL DEFAULT '',
    access_token             BLOB,
    refresh_token            BLOB,
    token_expires_at         DATETIME,
    refresh_expires_at       DATETIME,
    data_access_expires_at   DATETIME,
    status                   TEXT NOT NULL DEFAULT 'healthy' CHECK (status IN ('healthy', 'expiring', 'degraded', 'reauth_required', 'permissions_missing', 'blocked', 'disconnected')),
    reason                   TEXT NOT NULL DEFAULT '',
    last_error_code          INTEGER NOT NULL DEFAULT 0,
    last_error_subcode       INTEGER NOT NULL DEFAULT 0,
    last_error_message       TEXT NOT NULL DEFAULT '',
    last_checked_at          DATETIME,
    next_check_at            DATETIME,
    consecutive_failures     INTEGER NOT NULL DEFAULT 0,
    total_failures           INTEGER NOT NULL DEFAULT 0,
    status_changed_at        DATETIME,
    connected_by_user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at               DATETIME NOT NULL,
    updated_at               DATETIME NOT NULL,
    UNIQUE (sub_account_id, provider, external_user_id),
    -- Lets assets and history name their sub-account and have the database check it.
    UNIQUE (id, sub_account_id)
);
CREATE INDEX connections_next_check ON connections (next_check_at) WHERE status <> 'disconnected';
CREATE INDEX connections_sub_account_status ON connections (sub_account_id, status);
CREATE INDEX connections_connected_by ON connections (connected_by_user_id);

-- What a connection reaches, with the data the refresh icon fetches.
CREATE TABLE assets (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id          INTEGER NOT NULL,
    sub_account_id         INTEGER NOT NULL REFERENCES sub_accounts(id) ON DELETE CASCADE,
    kind                   TEXT NOT NULL CHECK (kind IN ('page', 'ad_account', 'instagram_account', 'dataset', 'linkedin_organization', 'linkedin_ad_account')),
    external_id            TEXT NOT NULL,
    parent_external_id     TEXT NOT NULL DEFAULT '',
    name                   TEXT NOT NULL DEFAULT '',
    selected               BOOLEAN NOT NULL DEFAULT TRUE,
    currency               TEXT NOT NULL DEFAULT '',
    amount_spent           TEXT NOT NULL DEFAULT '',
    spend_cap              TEXT NOT NULL DEFAULT '',
    account_status         INTEGER NOT NULL DEFAULT 0,
    disable_reason         INTEGER NOT NULL DEFAULT 0,
    tos_accepted           BOOLEAN,
    user_tasks             TEXT NOT NULL DEFAULT '',
    funding_source_present BOOLEAN,
    datasets               TEXT NOT NULL DEFAULT '',
    last_refreshed_at      DATETIME,
    last_error_code        INTEGER NOT NULL DEFAULT 0,
    last_error_message     TEXT NOT NULL DEFAULT '',
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL,
    UNIQUE (connection_id, kind, external_id),
    FOREIGN KEY (connection_id, sub_account_id) REFERENCES connections (id, sub_account_id) ON DELETE CASCADE
);
CREATE INDEX assets_sub_account ON assets (sub_account_id, kind);

-- The history support staff read. Never holds a token.
CREATE TABLE connection_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    sub_account_id    INTEGER NOT NULL REFERENCES sub_accounts(id) ON DELETE CASCADE,
    connection_id     INTEGER,
    asset_id          INTEGER REFERENCES assets(id) ON DELETE SET NULL,
    kind              TEXT NOT NULL,
    actor_type        TEXT NOT NULL CHECK (actor_type IN ('user', 'system', 'support')),
    actor_user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    old_status        TEXT NOT NULL DEFAULT '',
    new_status        TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    provider_code     INTEGER NOT NULL DEFAULT 0,
    provider_subcode  INTEGER NOT NULL DEFAULT 0,
    provider_message  TEXT NOT NULL DEFAULT '',
    request_id        TEXT NOT NULL DEFAULT '',
    detail            TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    -- History outlives nothing it describes: a connection with history is disconnected,
    -- never deleted, and the pair keeps each event in its connection's sub-account.
    FOREIGN KEY (connection_id, sub_account_id) REFERENCES connections (id, sub_account_id)
);
CREATE INDEX connection_events_connection ON connection_events (connection_id, created_at);
CREATE INDEX connection_events_sub_account ON connection_events (sub_account_id, created_at);
CREATE INDEX connection_events_asset ON connection_events (asset_id);
CREATE INDEX connection_events_actor ON connection_events (actor_user_id);

-- Email outbox: one row per email; the dedupe key makes one incident send one email.
CREATE TABLE notifications (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sub_account_id INTEGER REFERENCES sub_accounts(id) ON DELETE CASCADE,
    connection_id  INTEGER REFERENCES connections(id) ON DELETE SET NULL,
    kind           TEXT NOT NULL,
    dedupe_key     TEXT NOT NULL UNIQUE,
    to_address     TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body_text      TEXT NOT NULL,
    body_html      TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    send_after     DATETIME NOT NULL,
    sent_at        DATETIME,
    created_at     DATETIME NOT NULL
);
CREATE INDEX notifications_pending ON notifications (status, send_after);
CREATE INDEX notifications_sub_account ON notifications (sub_account_id, created_at);
CREATE INDEX notifications_connection ON notifications (connection_id);

-- Who wants which emails, per user and optionally per sub-account.
CREATE TABLE notification_settings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sub_account_id INTEGER REFERENCES sub_accounts(id) ON DELETE CASCADE,
    incidents      BOOLEAN NOT NULL DEFAULT TRUE,
    reminders      BOOLEAN NOT NULL DEFAULT TRUE,
    digest         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE UNIQUE INDEX notification_settings_user_sub ON notification_settings (user_id, sub_account_id);

-- +goose Down
DROP TABLE notification_settings;
DROP TABLE notifications;
DROP TABLE connection_events;
DROP TABLE assets;
DROP TABLE connections;
DROP TABLE memberships;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE sub_accounts;
DROP TABLE agencies;
