// Package migrations embeds the versioned, append-only SQL migrations of each dialect.
// Files are never edited once they have landed: a change to the schema is a new file.
package migrations

import "embed"

// SQLite holds the migrations for the embedded SQLite default, under "sqlite/".
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the migrations for PostgreSQL deployments, under "postgres/".
//
//go:embed postgres/*.sql
var Postgres embed.FS
