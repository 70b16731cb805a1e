package models

import "errors"

// ErrNotFound is returned when a record does not exist or belongs to another tenant:
// callers cannot and must not tell the two apart.
var ErrNotFound = errors.New("models: not found")

// ErrConflict is returned when a write would break a unique constraint.
var ErrConflict = errors.New("models: conflict")

// ErrNotMigrated is returned when the database schema is behind the embedded migrations.
var ErrNotMigrated = errors.New("models: database is not migrated")
