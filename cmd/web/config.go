package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relink/relink/models"
)

// configError is a bad setting: start-up stops with one line naming it and exit status 2.
type configError struct {
	name string
	msg  string
}

func (e *configError) Error() string { return e.name + ": " + e.msg }

// defaultDemoPassword is the documented password of the demo logins, the only one the
// welcome prints.
const defaultDemoPassword = "relink-demo"

// config is everything Relink reads from its environment; see the README's table.
type config struct {
	Addr string
	// AddrDefaulted is set when ADDR was not given, so the welcome can say where Relink listens.
	AddrDefaulted    bool
	BaseURL          *url.URL
	DatabaseURL      string
	DataDir          string
	SessionKeys      [][]byte
	TokenKeys        [][]byte
	LogLevel         slog.Level
	LogFormat        string
	DemoPassword     string
	MigrateOnStart   bool
	TrustedProxyHops int
	// HealthInterval is how often the health sweep runs and a working connection is checked.
	HealthInterval time.Duration
	// UnreachableNotice is how long a provider may not answer before admins get one notice.
	UnreachableNotice time.Duration
	// SMTPURL sends the emails; empty keeps them in the outbox (readable at /dev/mail in
	// sandbox mode).
	SMTPURL string
	// Production turns the sandbox off even when a provider has no credentials.
	Production bool
	// SandboxSetting is SANDBOX: nil chooses automatically, see Sandbox.
	SandboxSetting *bool
	Meta           providerCreds
	LinkedIn       providerCreds
}

// providerCreds are a provider app's OAuth client credentials; empty means "use the sandbox".
type providerCreds struct {
	ID, Secret string
}

func (p providerCreds) configured() bool { return p.ID != "" && p.Secret != "" }

// Sandbox reports whether the provider emulator is mounted at /sandbox. It stands in for
// missing providers, so a fresh checkout works with no Facebook app; once any provider has
// real credentials, it is mounted only with SANDBOX=true. Never in production.
func (c config) Sandbox() bool {
	switch {
	case c.Production:
		return false
	case c.SandboxSetting != nil:
		return *c.SandboxSetting
	}
	return !c.anyRealProvider()
}

// SandboxOnly reports whether every provider is the sandbox; only then does the app read
// time from the sandbox's clock, since a real provider keeps real time.
func (c config) SandboxOnly() bool { return c.Sandbox() && !c.anyRealProvider() }

// SeedDemo reports whether an empty database gets the demo agency without asking: only the
// embedded SQLite default outside production, and only while no provider is real, so demo
// logins with a published password never reach real ad accounts. `serve --demo` asks
// explicitly.
func (c config) SeedDemo() bool { return !c.Postgres() && !c.Production && !c.anyRealProvider() }

func (c config) anyRealProvider() bool { return c.Meta.configured() || c.LinkedIn.configured() }

// SQLitePath is where the embedded database lives.
func (c config) SQLitePath() string { return filepath.Join(c.DataDir, "relink.db") }

// checkDataDir makes sure DATA_DIR exists and can be written, for the SQLite database, and
// that other users cannot read or enter it: the database holds password hashes, session
// hashes and encrypted tokens, and the keys that decrypt them sit beside it. Production
// refuses such a directory; development passes the same words to warn.
func (c config) checkDataDir(warn func(msg string)) error {
	if c.Postgres() {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return &configError{"DATA_DIR", fmt.Sprintf("cannot create %s: %v", c.DataDir, errors.Unwrap(err))}
	}
	info, err := os.Stat(c.DataDir)
	if err != nil {
		return &configError{"DATA_DIR", fmt.Sprintf("cannot read %s: %v", c.DataDir, errors.Unwrap(err))}
	}
	// Windows has no mode bits to check.
	if perm := info.Mode().Perm(); perm&0o007 != 0 && runtime.GOOS != "windows" {
		msg := fmt.Sprintf("%s has mode %#o, so other users of this machine can read the database and its keys; run chmod 700 %s", c.DataDir, perm, c.DataDir)
		if c.Production {
			return &configError{"DATA_DIR", msg}
		}
		warn(msg)
	}
	f, err := os.CreateTemp(c.DataDir, ".write-check-*")
	if err != nil {
		return &configError{"DATA_DIR", fmt.Sprintf("%s is not writable: %v", c.DataDir, errors.Unwrap(err))}
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// Postgres reports whether the scale-out database is configured.
func (c config) Postgres() bool { return models.IsPostgresURL(c.DatabaseURL) }

// loadConfig reads the environment. Keys missing in the embedded default are generated once
// and kept in DATA_DIR; against PostgreSQL they must be given, so that replicas share them.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL:  get("DATABASE_URL", ""),
		DataDir:      get("DATA_DIR", "./data"),
		DemoPassword: get("DEMO_PASSWORD", defaultDemoPassword),
		LogFormat:    get("LOG_FORMAT", "text"),
	}
	switch env := get("ENVIRONMENT", "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		return c, &configError{"ENVIRONMENT", fmt.Sprintf("want development or production (got %q)", env)}
	}
	// Development serves demo logins with a published password and the sandbox's API
	// without authentication: unasked, it listens on this machine only.
	c.Addr = get("ADDR", "")
	if c.Addr == "" {
		c.Addr, c.AddrDefaulted = ":8080", true
		if !c.Production {
			c.Addr = "127.0.0.1:8080"
		}
	}
	// The port must be a number: a name or an out-of-range number would only fail at listen,
	// after migrations, with exit status 1.
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || !isPort(port) {
		return c, &configError{"ADDR", fmt.Sprintf("want host:port such as :8080 (got %q)", c.Addr)}
	}
	base := get("BASE_URL", "http://localhost"+portSuffix(c.Addr))
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return c, &configError{"BASE_URL", fmt.Sprintf("want an absolute http(s) URL without a path, query or credentials, such as https://relink.example.com (got %q)", base)}
	}
	u.Path = ""
	c.BaseURL = u
	if c.DatabaseURL != "" && !models.IsPostgresURL(c.DatabaseURL) {
		return c, &configError{"DATABASE_URL", "want a postgres:// URL, or leave it empty for SQLite in DATA_DIR"}
	}
	if c.Postgres() {
		if err := checkDatabaseURL(c.DatabaseURL); err != nil {
			return c, err
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		return c, &configError{"LOG_LEVEL", fmt.Sprintf("want debug, info, warn or error (got %q)", getenv("LOG_LEVEL"))}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, &configError{"LOG_FORMAT", fmt.Sprintf("want text or json (got %q)", c.LogFormat)}
	}
	if v := get("SANDBOX", ""); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return c, &configError{"SANDBOX", fmt.Sprintf("want true or false, or leave it empty to mount the sandbox only while no provider has credentials (got %q)", getenv("SANDBOX"))}
		}
		if on && c.Production {
			return c, &configError{"SANDBOX", "the provider sandbox never runs with ENVIRONMENT=production"}
		}
		c.SandboxSetting = &on
	}
	if c.MigrateOnStart, err = strconv.ParseBool(get("MIGRATE_ON_START", "false")); err != nil {
		return c, &configError{"MIGRATE_ON_START", fmt.Sprintf("want true or false (got %q)", getenv("MIGRATE_ON_START"))}
	}
	if c.TrustedProxyHops, err = strconv.Atoi(get("TRUSTED_PROXY_HOPS", "0")); err != nil || c.TrustedProxyHops < 0 {
		return c, &configError{"TRUSTED_PROXY_HOPS", fmt.Sprintf("want a whole number of proxies, 0 or more (got %q)", getenv("TRUSTED_PROXY_HOPS"))}
	}
	if c.HealthInterval, err = time.ParseDuration(get("HEALTH_INTERVAL", "15m")); err != nil || c.HealthInterval < 10*time.Second {
		return c, &configError{"HEALTH_INTERVAL", fmt.Sprintf("want a duration of 10s or more, such as 15m (got %q)", getenv("HEALTH_INTERVAL"))}
	}
	if c.UnreachableNotice, err = time.ParseDuration(get("UNREACHABLE_NOTICE_AFTER", "72h")); err != nil || c.UnreachableNotice < time.Minute {
		return c, &configError{"UNREACHABLE_NOTICE_AFTER", fmt.Sprintf("want a duration of 1m or more, such as 72h (got %q)", getenv("UNREACHABLE_NOTICE_AFTER"))}
	}
	c.SMTPURL = get("SMTP_URL", "")
	c.Meta = providerCreds{ID: get("META_APP_ID", ""), Secret: get("META_APP_SECRET", "")}
	c.LinkedIn = providerCreds{ID: get("LINKEDIN_CLIENT_ID", ""), Secret: get("LINKEDIN_CLIENT_SECRET", "")}
	for _, pc := range []struct {
		id, secret string
		creds      providerCreds
	}{{"META_APP_ID", "META_APP_SECRET", c.Meta}, {"LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET", c.LinkedIn}} {
		if (pc.creds.ID == "") != (pc.creds.Secret == "") {
			return c, &configError{pc.id, fmt.Sprintf("set both %s and %s, or neither to use the sandbox", pc.id, pc.secret)}
		}
	}
	if len(c.DemoPassword) < models.MinPasswordLength {
		return c, &configError{"DEMO_PASSWORD", fmt.Sprintf("want at least %d characters", models.MinPasswordLength)}
	}
	if c.SessionKeys, err = keysFrom(getenv("SESSION_KEYS"), "SESSION_KEYS", 64); err != nil {
		return c, err
	}
	if c.TokenKeys, err = keysFrom(getenv("TOKEN_KEYS"), "TOKEN_KEYS", 32); err != nil {
		return c, err
	}
	return c, nil
}

// checkDatabaseURL parses DATABASE_URL as the PostgreSQL driver will, so that a mistake
// stops start-up with exit status 2 instead of failing to connect. The message never
// repeats the URL, which may hold a password.
func checkDatabaseURL(dsn string) error {
	const want = "; want postgres://user:password@host:5432/database, with any reserved character in the user name or password percent-encoded"
	_, err := pgconn.ParseConfig(dsn)
	if err == nil {
		return nil
	}
	// The driver's message starts with the URL, its password masked as best it can; keep
	// only what follows, and nothing at all if that still shows the URL or the password.
	reason := err.Error()
	if i := strings.LastIndex(reason, "`: "); i >= 0 {
		reason = reason[i+len("`: "):]
	}
	userinfo, _, _ := strings.Cut(strings.SplitN(dsn, "://", 2)[1], "?")
	if at := strings.LastIndex(userinfo, "@"); at >= 0 {
		userinfo = userinfo[:at]
	} else {
		userinfo = ""
	}
	_, password, _ := strings.Cut(userinfo, ":")
	if strings.Contains(reason, "://") || (password != "" && strings.Contains(reason, password)) {
		reason = "not a valid URL"
	}
	return &configError{"DATABASE_URL", "cannot be parsed: " + reason + want}
}

func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

func portSuffix(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	if port == "80" {
		return ""
	}
	return ":" + port
}

// keysFrom parses a comma-separated list of base64 keys of size bytes each; empty is allowed
// here and filled in by ensureKeys.
func keysFrom(list, name string, size int) ([][]byte, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	keys, err := models.ParseKeys(list)
	if err != nil {
		return nil, &configError{name, err.Error() + fmt.Sprintf("; want comma-separated base64 keys of %d random bytes", size)}
	}
	for i, k := range keys {
		if len(k) != size {
			return nil, &configError{name, fmt.Sprintf("key %d is %d bytes; want %d random bytes, base64-encoded (openssl rand -base64 %d)", i+1, len(k), size, size)}
		}
	}
	return keys, nil
}

// ensureKeys fills missing keys: from DATA_DIR for SQLite (generated on first start), and
// refuses for PostgreSQL, where every replica must be given the same keys.
func (c *config) ensureKeys() error {
	var err error
	if c.SessionKeys == nil {
		if c.Postgres() {
			return &configError{"SESSION_KEYS", "required with PostgreSQL so that every replica shares it (openssl rand -base64 64)"}
		}
		if c.SessionKeys, err = keyFile(filepath.Join(c.DataDir, "session.key"), 64); err != nil {
			return &configError{"DATA_DIR", err.Error()}
		}
	}
	if c.TokenKeys == nil {
		if c.Postgres() {
			return &configError{"TOKEN_KEYS", "required with PostgreSQL so that every replica shares it (openssl rand -base64 32)"}
		}
		if c.TokenKeys, err = keyFile(filepath.Join(c.DataDir, "token.key"), 32); err != nil {
			return &configError{"DATA_DIR", err.Error()}
		}
	}
	return nil
}

// keyFile reads a key kept in path, or generates and keeps one there. The key is written to
// a temporary file and linked into place, so a crash never leaves half a key, and of two
// processes starting together on a fresh DATA_DIR the second reads the first one's key.
func keyFile(path string, size int) ([][]byte, error) {
	if k, err := readKeyFile(path, size); !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	k := make([]byte, size)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, fmt.Errorf("keep key in %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("keep key in %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return readKeyFile(path, size)
	} else if err != nil {
		return nil, fmt.Errorf("keep key in %s: %w", path, err)
	}
	return [][]byte{k}, nil
}

// readKeyFile reads one base64 key of size bytes; os.ErrNotExist when there is none yet.
func readKeyFile(path string, size int) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != size {
		return nil, fmt.Errorf("%s is damaged: remove it to generate a new key (sessions or stored tokens made with the old one stop working)", path)
	}
	return [][]byte{k}, nil
}
