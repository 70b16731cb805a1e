//go:build unix

package models_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/relink/relink/models"
)

// The SQLite files hold password hashes, session hashes and encrypted tokens: whatever the
// umask, the database, its WAL and its shared-memory index are readable by their owner only.
func TestSQLiteFilesArePrivate(t *testing.T) {
	// A permissive umask, as many systems have, so that a file left to the umask shows up.
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()

	open := func(t *testing.T, path string) *models.Store {
		t.Helper()
		s, err := models.Open(ctx, models.OpenOptions{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	written := 0
	write := func(t *testing.T, s *models.Store) {
		t.Helper()
		written++
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAgency(ctx, fmt.Sprintf("Agency %d", written)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, path string) *models.Store // returns the store to write through
	}{
		{name: "fresh database", setup: func(t *testing.T, path string) *models.Store {
			return open(t, path)
		}},
		{name: "files an earlier version left world-readable", setup: func(t *testing.T, path string) *models.Store {
			first := open(t, path)
			write(t, first) // first keeps the WAL and shared memory open
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Chmod(f, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return open(t, path)
		}},
		{name: "WAL and shared memory made again after every connection closed", setup: func(t *testing.T, path string) *models.Store {
			first := open(t, path)
			write(t, first)
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path + "-shm"); !os.IsNotExist(err) {
				t.Fatalf("the shared memory outlived the last connection (%v); this case tests nothing", err)
			}
			return open(t, path)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relink.db")
			write(t, tt.setup(t, path))
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				info, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if perm := info.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s has mode %#o, want 0600", filepath.Base(f), perm)
				}
			}
		})
	}
}
