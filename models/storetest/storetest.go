// Package storetest opens a fresh, migrated Store for a test: a SQLite file in the test's
// temporary directory, or, when TEST_POSTGRES_DSN is set, a schema of its own in PostgreSQL.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create test schemas

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// EnvPostgres names the variable that switches the store tests to PostgreSQL.
const EnvPostgres = "TEST_POSTGRES_DSN"

// Options tune Open.
type Options struct {
	// Clock is the store's clock; the wall clock when nil.
	Clock providers.Clock
	// RealPasswordHashes keeps production's argon2id cost; by default tests hash cheaply.
	RealPasswordHashes bool
}

// Open returns a migrated store that is closed and dropped when the test ends.
func Open(t testing.TB, opts ...Options) *models.Store {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	oo := models.OpenOptions{Clock: o.Clock, CheapPasswordHashes: !o.RealPasswordHashes}
	if dsn := os.Getenv(EnvPostgres); dsn != "" {
		oo.URL = PostgresSchema(t, dsn)
	} else {
		oo.SQLitePath = filepath.Join(t.TempDir(), "relink.db")
	}
	s, err := models.Open(ctx, oo)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// PostgresSchema creates an empty schema for this test alone and returns a DSN whose
// search_path points at it; the schema is dropped when the test ends.
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("postgres: drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgres: %s is not a URL: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
