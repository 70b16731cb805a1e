package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

// These tests run the command line in-process through run, with an environment of their
// own: the process's environment is never read, so a developer's settings cannot leak in.

// fakeEnv is the whole environment a command sees.
type fakeEnv map[string]string

func (e fakeEnv) getenv(name string) string { return e[name] }

// with returns a copy of e with the given name=value pairs set.
func (e fakeEnv) with(kv ...string) fakeEnv {
	out := maps.Clone(e)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// result is what one command printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// command runs `relink args...` to completion with stdin as its standard input.
func command(t *testing.T, env fakeEnv, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, env.getenv, strings.NewReader(stdin), &stdout, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// sqliteEnv is a fresh embedded install: a DATA_DIR of its own and no other setting.
func sqliteEnv(t *testing.T) fakeEnv {
	return fakeEnv{"DATA_DIR": dataDir(t), "ADDR": "127.0.0.1:0"}
}

// dataDir is an empty DATA_DIR as an operator should keep it: t.TempDir is open to others,
// which production refuses.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// databaseEnv is sqliteEnv, or with TEST_POSTGRES_DSN set, an empty PostgreSQL schema of
// the test's own with the keys PostgreSQL requires.
func databaseEnv(t *testing.T) fakeEnv {
	if os.Getenv(storetest.EnvPostgres) == "" {
		return sqliteEnv(t)
	}
	return postgresEnv(t)
}

// postgresEnv is a PostgreSQL install on an empty schema; the test is skipped without
// TEST_POSTGRES_DSN.
func postgresEnv(t *testing.T) fakeEnv {
	t.Helper()
	dsn := os.Getenv(storetest.EnvPostgres)
	if dsn == "" {
		t.Skipf("%s is not set", storetest.EnvPostgres)
	}
	return fakeEnv{
		"DATA_DIR":     dataDir(t),
		"ADDR":         "127.0.0.1:0",
		"DATABASE_URL": storetest.PostgresSchema(t, dsn),
		"SESSION_KEYS": randomKey(64),
		"TOKEN_KEYS":   randomKey(32),
	}
}

func randomKey(size int) string {
	b := make([]byte, size)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// openTestStore opens the database env points at, the way the commands do.
func openTestStore(t *testing.T, fe fakeEnv) *models.Store {
	t.Helper()
	cfg, err := loadConfig(fe.getenv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(context.Background(), env{getenv: fe.getenv, stderr: io.Discard}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer that a running server writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is `relink serve` running in a goroutine until stop.
type server struct {
	url            string
	port           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	stopOnce       sync.Once
	err            error
}

// startServe runs `relink serve args...` on a free loopback port and waits until /readyz
// answers 200; the server is stopped when the test ends if the test has not stopped it.
func startServe(t *testing.T, env fakeEnv, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	env = env.with("ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "http://" + addr, port: port, stdout: &syncBuffer{}, stderr: &syncBuffer{},
		cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, append([]string{"serve"}, args...), env.getenv, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() { _ = s.stop(t) })

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-s.done:
			s.done <- err // keep it for stop
			t.Fatalf("serve returned before it was ready: %v\nstderr:\n%s", err, s.stderr.String())
		default:
		}
		if resp, err := client.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200 within 30s\nstderr:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop cancels serve's context, as SIGTERM does, and returns what run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not return within 30s of its context being cancelled")
		}
	})
	return s.err
}
