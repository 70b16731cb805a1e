package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 32)) // a token key, too short for sessions
	long := base64.StdEncoding.EncodeToString(make([]byte, 64))  // a session key, too long for tokens
	tests := []struct {
		name     string
		env      []string
		wantName string
	}{
		{name: "ADDR without a port", env: []string{"ADDR", "localhost"}, wantName: "ADDR"},
		{name: "ADDR with only a port number", env: []string{"ADDR", "8080"}, wantName: "ADDR"},
		{name: "ADDR with an empty port", env: []string{"ADDR", "127.0.0.1:"}, wantName: "ADDR"},
		{name: "ADDR with a port that is not a number", env: []string{"ADDR", ":abc"}, wantName: "ADDR"},
		{name: "ADDR with a port out of range", env: []string{"ADDR", ":99999"}, wantName: "ADDR"},
		{name: "BASE_URL without a scheme", env: []string{"BASE_URL", "relink.example.com"}, wantName: "BASE_URL"},
		{name: "BASE_URL not http", env: []string{"BASE_URL", "ftp://relink.example.com"}, wantName: "BASE_URL"},
		{name: "BASE_URL without a host", env: []string{"BASE_URL", "https://"}, wantName: "BASE_URL"},
		{name: "BASE_URL with a path", env: []string{"BASE_URL", "https://example.com/relink"}, wantName: "BASE_URL"},
		{name: "BASE_URL with a query", env: []string{"BASE_URL", "https://relink.example.com/?next=/"}, wantName: "BASE_URL"},
		{name: "BASE_URL with a fragment", env: []string{"BASE_URL", "https://relink.example.com/#top"}, wantName: "BASE_URL"},
		{name: "BASE_URL with credentials", env: []string{"BASE_URL", "https://me:secret@relink.example.com"}, wantName: "BASE_URL"},
		{name: "BASE_URL that does not parse", env: []string{"BASE_URL", "http://[::1"}, wantName: "BASE_URL"},
		{name: "DATABASE_URL for another database", env: []string{"DATABASE_URL", "mysql://root@localhost/relink"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL as a SQLite path", env: []string{"DATABASE_URL", "sqlite:///var/lib/relink.db"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with a space in the password", env: []string{"DATABASE_URL", "postgres://relink:s3cret word@db/relink"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with a bad escape in the password", env: []string{"DATABASE_URL", "postgres://relink:s3cret%zz@db/relink"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with a port out of range", env: []string{"DATABASE_URL", "postgres://relink:s3cret@db:99999/relink"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with a port that is not a number", env: []string{"DATABASE_URL", "postgres://relink:s3cret@db:five/relink"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with an unknown sslmode", env: []string{"DATABASE_URL", "postgres://relink:s3cret@db/relink?sslmode=sometimes"}, wantName: "DATABASE_URL"},
		{name: "DATABASE_URL with an unclosed IPv6 host", env: []string{"DATABASE_URL", "postgres://relink:s3cret@[::1/relink"}, wantName: "DATABASE_URL"},
		{name: "LOG_LEVEL unknown", env: []string{"LOG_LEVEL", "verbose"}, wantName: "LOG_LEVEL"},
		{name: "LOG_FORMAT unknown", env: []string{"LOG_FORMAT", "xml"}, wantName: "LOG_FORMAT"},
		{name: "MIGRATE_ON_START not a boolean", env: []string{"MIGRATE_ON_START", "maybe"}, wantName: "MIGRATE_ON_START"},
		{name: "TRUSTED_PROXY_HOPS negative", env: []string{"TRUSTED_PROXY_HOPS", "-1"}, wantName: "TRUSTED_PROXY_HOPS"},
		{name: "TRUSTED_PROXY_HOPS not a number", env: []string{"TRUSTED_PROXY_HOPS", "two"}, wantName: "TRUSTED_PROXY_HOPS"},
		{name: "TRUSTED_PROXY_HOPS a fraction", env: []string{"TRUSTED_PROXY_HOPS", "1.5"}, wantName: "TRUSTED_PROXY_HOPS"},
		{name: "DEMO_PASSWORD too short", env: []string{"DEMO_PASSWORD", "short-pw"}, wantName: "DEMO_PASSWORD"},
		{name: "SESSION_KEYS wrong length", env: []string{"SESSION_KEYS", short}, wantName: "SESSION_KEYS"},
		{name: "SESSION_KEYS second key wrong length", env: []string{"SESSION_KEYS", long + "," + short}, wantName: "SESSION_KEYS"},
		{name: "SESSION_KEYS not base64", env: []string{"SESSION_KEYS", "not*base64*at*all"}, wantName: "SESSION_KEYS"},
		{name: "SESSION_KEYS only commas", env: []string{"SESSION_KEYS", ",,"}, wantName: "SESSION_KEYS"},
		{name: "TOKEN_KEYS wrong length", env: []string{"TOKEN_KEYS", long}, wantName: "TOKEN_KEYS"},
		{name: "TOKEN_KEYS second key wrong length", env: []string{"TOKEN_KEYS", short + "," + long}, wantName: "TOKEN_KEYS"},
		{name: "TOKEN_KEYS not base64", env: []string{"TOKEN_KEYS", "not*base64*at*all"}, wantName: "TOKEN_KEYS"},
		{name: "ENVIRONMENT unknown", env: []string{"ENVIRONMENT", "staging"}, wantName: "ENVIRONMENT"},
		{name: "SANDBOX not a boolean", env: []string{"SANDBOX", "auto"}, wantName: "SANDBOX"},
		{name: "SANDBOX in production", env: []string{"ENVIRONMENT", "production", "SANDBOX", "true"}, wantName: "SANDBOX"},
		{name: "META_APP_ID without its secret", env: []string{"META_APP_ID", "1234"}, wantName: "META_APP_ID"},
		{name: "META_APP_SECRET without its id", env: []string{"META_APP_SECRET", "meta-secret-value"}, wantName: "META_APP_ID"},
		{name: "LINKEDIN_CLIENT_SECRET without its id", env: []string{"LINKEDIN_CLIENT_SECRET", "linkedin-secret-value"}, wantName: "LINKEDIN_CLIENT_ID"},
		{name: "SESSION_KEYS missing with PostgreSQL",
			env: []string{"DATABASE_URL", "postgres://relink@127.0.0.1:1/relink", "TOKEN_KEYS", short}, wantName: "SESSION_KEYS"},
		{name: "TOKEN_KEYS missing with PostgreSQL",
			env: []string{"DATABASE_URL", "postgres://relink@127.0.0.1:1/relink", "SESSION_KEYS", long}, wantName: "TOKEN_KEYS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sqliteEnv(t).with(tt.env...)
			// A cancelled context: should a bad value slip through, serve fails at once
			// opening the database instead of serving until the test times out.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stdout, stderr strings.Builder
			err := run(ctx, []string{"serve"}, env.getenv, strings.NewReader(""), &stdout, &stderr)
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("run returned %v (%T), want a *configError", err, err)
			}
			if ce.name != tt.wantName || !strings.HasPrefix(err.Error(), tt.wantName+": ") {
				t.Errorf("error %q names %s, want %s", err, ce.name, tt.wantName)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
			for _, secret := range []string{"SESSION_KEYS", "TOKEN_KEYS", "META_APP_SECRET", "LINKEDIN_CLIENT_SECRET", "DATABASE_URL"} {
				if v := env[secret]; v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error %q repeats %s", err, secret)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q repeats the database password", err)
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("run wrote before failing: stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

func TestGoodConfigurationIsRead(t *testing.T) {
	session := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("s", 64)))
	token := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("t", 32)))
	env := fakeEnv{
		"ADDR":               "[::1]:9090",
		"BASE_URL":           "https://relink.example.com/",
		"DATABASE_URL":       "postgresql://relink@db.internal/relink",
		"LOG_LEVEL":          "DEBUG",
		"LOG_FORMAT":         "json",
		"MIGRATE_ON_START":   "true",
		"TRUSTED_PROXY_HOPS": "2",
		"DEMO_PASSWORD":      "a long demo password",
		"SESSION_KEYS":       session + " , " + session,
		"TOKEN_KEYS":         token,
	}
	cfg, err := loadConfig(env.getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "[::1]:9090" || cfg.BaseURL.String() != "https://relink.example.com" || !cfg.Postgres() ||
		cfg.LogLevel != slog.LevelDebug || cfg.LogFormat != "json" || !cfg.MigrateOnStart || cfg.TrustedProxyHops != 2 ||
		cfg.DemoPassword != "a long demo password" || len(cfg.SessionKeys) != 2 || len(cfg.TokenKeys) != 1 {
		t.Errorf("read %+v", cfg)
	}

	defaults, err := loadConfig(fakeEnv{}.getenv)
	if err != nil {
		t.Fatal(err)
	}
	if defaults.Addr != "127.0.0.1:8080" || defaults.BaseURL.String() != "http://localhost:8080" || defaults.Postgres() ||
		defaults.LogLevel != slog.LevelInfo || defaults.MigrateOnStart || defaults.SessionKeys != nil {
		t.Errorf("defaults %+v", defaults)
	}
}

// DATA_DIR holds the database and the keys: in production a directory other users may read
// or enter is refused before anything is opened; in development it is only a warning.
func TestDataDirOpenToOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	tests := []struct {
		name        string
		environment string
		mode        os.FileMode
		args        []string
		wantRefused bool
		wantWarning bool
	}{
		{name: "production refuses serve on a world-readable directory", environment: "production", mode: 0o755, args: []string{"serve"}, wantRefused: true},
		{name: "production refuses migrate on a world-enterable directory", environment: "production", mode: 0o701, args: []string{"migrate"}, wantRefused: true},
		{name: "production refuses agency add", environment: "production", mode: 0o777, args: []string{"agency", "add", "Acme"}, wantRefused: true},
		{name: "production accepts a directory its group may read", environment: "production", mode: 0o750, args: []string{"migrate"}},
		{name: "production accepts a private directory", environment: "production", mode: 0o700, args: []string{"migrate"}},
		{name: "development warns", environment: "development", mode: 0o755, args: []string{"migrate"}, wantWarning: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sqliteEnv(t).with("ENVIRONMENT", tt.environment)
			if err := os.Chmod(env["DATA_DIR"], tt.mode); err != nil {
				t.Fatal(err)
			}
			r := command(t, env, "", tt.args...)
			var ce *configError
			if !tt.wantRefused {
				if r.err != nil {
					t.Fatalf("got %v, want no error", r.err)
				}
				if warned := strings.Contains(r.stderr, "chmod 700"); warned != tt.wantWarning {
					t.Errorf("warning %v, want %v; stderr:\n%s", warned, tt.wantWarning, r.stderr)
				}
				return
			}
			if !errors.As(r.err, &ce) || ce.name != "DATA_DIR" {
				t.Fatalf("got %v (%T), want a configError on DATA_DIR", r.err, r.err)
			}
			for _, want := range []string{fmt.Sprintf("%#o", tt.mode), "chmod 700"} {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("error %q does not say %q", r.err, want)
				}
			}
			if _, err := os.Stat(filepath.Join(env["DATA_DIR"], "relink.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was created before the refusal (%v)", err)
			}
		})
	}
}

// The demo logins and the unauthenticated sandbox API must not reach the network unasked:
// without ADDR, development listens on loopback only and says so; production, as in the
// Docker image, listens on every interface.
func TestDefaultAddrDependsOnEnvironment(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		wantAddr    string
		wantBaseURL string
		wantNotice  bool
	}{
		{name: "development without ADDR", wantAddr: "127.0.0.1:8080", wantBaseURL: "http://localhost:8080", wantNotice: true},
		{name: "production without ADDR", env: []string{"ENVIRONMENT", "production"}, wantAddr: ":8080", wantBaseURL: "http://localhost:8080"},
		{name: "development with ADDR on every interface", env: []string{"ADDR", ":9090"}, wantAddr: ":9090", wantBaseURL: "http://localhost:9090"},
		{name: "development with ADDR on loopback", env: []string{"ADDR", "127.0.0.1:8080"}, wantAddr: "127.0.0.1:8080", wantBaseURL: "http://localhost:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(fakeEnv{}.with(tt.env...).getenv)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.wantAddr || cfg.BaseURL.String() != tt.wantBaseURL {
				t.Errorf("ADDR %q, BASE_URL %q; want %q, %q", cfg.Addr, cfg.BaseURL, tt.wantAddr, tt.wantBaseURL)
			}
			var out strings.Builder
			printWelcome(&out, cfg, noDemo, 0)
			const notice = "listening on 127.0.0.1 only; set ADDR=:8080 to accept connections from other machines"
			if got := strings.Contains(out.String(), notice); got != tt.wantNotice {
				t.Errorf("welcome says %q: %v, want %v:\n%s", notice, got, tt.wantNotice, out.String())
			}
		})
	}
}
