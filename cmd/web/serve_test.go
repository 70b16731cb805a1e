package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers/sandbox"
)

// visitor is an HTTP client with a cookie jar that does not follow redirects. Cookies are
// kept per host, not per port, so a visitor's session carries over to a restarted server.
func visitor(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func status(t *testing.T, c *http.Client, method, u string, form url.Values) int {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestServeOnSQLite(t *testing.T) {
	env := sqliteEnv(t).with("DEMO_PASSWORD", "a demo password for tests")
	s := startServe(t, env)

	out := s.stdout.String()
	if want := "is running at http://localhost:" + s.port; !strings.Contains(out, want) {
		t.Errorf("stdout does not say %q:\n%s", want, out)
	}
	if strings.Contains(out, "a demo password for tests") {
		t.Errorf("stdout gives a DEMO_PASSWORD that is not the documented default:\n%s", out)
	}
	for _, l := range models.DemoLogins {
		if !strings.Contains(out, l.Email) {
			t.Errorf("stdout does not list the demo login %s:\n%s", l.Email, out)
		}
	}

	c := visitor(t)
	if got := status(t, c, http.MethodGet, s.url+"/login", nil); got != http.StatusOK {
		t.Errorf("GET /login: %d", got)
	}
	login := url.Values{"email": {"owner@northwind.test"}, "password": {"a demo password for tests"}}
	if got := status(t, c, http.MethodPost, s.url+"/login", login); got != http.StatusSeeOther {
		t.Errorf("signing in with the printed demo login: %d, want 303", got)
	}
	if got := status(t, c, http.MethodGet, s.url+"/agency", nil); got != http.StatusOK {
		t.Errorf("GET /agency after signing in: %d", got)
	}

	if err := s.stop(t); err != nil {
		t.Errorf("graceful shutdown: run returned %v, want nil", err)
	}
	if log := s.stderr.String(); !strings.Contains(log, "shutting down") || strings.Contains(log, "level=ERROR") {
		t.Errorf("log:\n%s", log)
	}
}

func TestServeKeepsGeneratedKeysInDataDir(t *testing.T) {
	env := sqliteEnv(t)
	files := []string{filepath.Join(env["DATA_DIR"], "session.key"), filepath.Join(env["DATA_DIR"], "token.key")}
	read := func() []string {
		t.Helper()
		var out []string
		for _, f := range files {
			info, err := os.Stat(f)
			if err != nil {
				t.Fatalf("key file: %v", err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", filepath.Base(f), info.Mode().Perm())
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		return out
	}

	first := startServe(t, env)
	keys := read()
	c := visitor(t)
	login := url.Values{"email": {"owner@northwind.test"}, "password": {"relink-demo"}}
	if got := status(t, c, http.MethodPost, first.url+"/login", login); got != http.StatusSeeOther {
		t.Fatalf("sign in: %d", got)
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}

	second := startServe(t, env)
	if again := read(); fmt.Sprint(again) != fmt.Sprint(keys) {
		t.Error("the keys changed on the second start")
	}
	if got := status(t, c, http.MethodGet, second.url+"/agency", nil); got != http.StatusOK {
		t.Errorf("the session of the first run does not work after a restart: GET /agency %d", got)
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestServeUsesGivenKeysWithoutWritingFiles(t *testing.T) {
	env := sqliteEnv(t).with("SESSION_KEYS", randomKey(64), "TOKEN_KEYS", randomKey(32))
	s := startServe(t, env)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"session.key", "token.key"} {
		if _, err := os.Stat(filepath.Join(env["DATA_DIR"], f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was written although the key was given (%v)", f, err)
		}
	}
}

func TestServeRefusesADamagedKeyFile(t *testing.T) {
	env := sqliteEnv(t)
	if err := os.WriteFile(filepath.Join(env["DATA_DIR"], "session.key"), []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := command(t, env, "", "serve")
	if r.err == nil || !strings.Contains(r.err.Error(), "session.key is damaged") {
		t.Errorf("got %v, want the damaged key file named", r.err)
	}
}

func TestServeReportsAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := command(t, sqliteEnv(t).with("ADDR", ln.Addr().String()), "", "serve")
	if r.err == nil || !strings.Contains(r.err.Error(), "listen on "+ln.Addr().String()) {
		t.Errorf("got %v, want a listen error naming the address", r.err)
	}
}

// A bad ADDR or a port in use is found before the database is created, migrated or seeded.
func TestServeChecksADDRBeforeTouchingTheDatabase(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name       string
		addr       string
		wantConfig bool // a configError on ADDR (exit status 2); otherwise a listen error
	}{
		{name: "a host that does not resolve", addr: "nosuchhost.invalid:8080", wantConfig: true},
		{name: "an address of another machine", addr: "192.0.2.1:8080", wantConfig: true},
		{name: "a port in use", addr: ln.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sqliteEnv(t).with("ADDR", tt.addr)
			r := command(t, env, "", "serve")
			var ce *configError
			switch {
			case r.err == nil:
				t.Fatal("serve started")
			case tt.wantConfig && (!errors.As(r.err, &ce) || ce.name != "ADDR"):
				t.Errorf("got %v (%T), want a configError on ADDR", r.err, r.err)
			case !tt.wantConfig && (errors.As(r.err, &ce) || !strings.Contains(r.err.Error(), "listen on "+tt.addr)):
				t.Errorf("got %v (%T), want a listen error naming the address", r.err, r.err)
			}
			if !strings.Contains(r.err.Error(), tt.addr) {
				t.Errorf("error %q does not name %s", r.err, tt.addr)
			}
			if _, err := os.Stat(filepath.Join(env["DATA_DIR"], "relink.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was created before the listen failed (%v)", err)
			}
		})
	}
}

// The welcome prints the demo password only when it is the documented one: a DEMO_PASSWORD
// of the operator's own stays out of terminals and logs.
func TestServeWelcomePrintsOnlyTheDefaultDemoPassword(t *testing.T) {
	tests := []struct {
		name         string
		env          []string
		wantPassword string // printed; empty: none is
	}{
		{name: "default", wantPassword: `"relink-demo"`},
		{name: "custom", env: []string{"DEMO_PASSWORD", "an operator's own secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sqliteEnv(t).with(tt.env...)
			s := startServe(t, env)
			out := s.stdout.String()
			if !strings.Contains(out, models.DemoLogins[0].Email) {
				t.Errorf("the demo logins are not listed:\n%s", out)
			}
			if tt.wantPassword != "" && !strings.Contains(out, tt.wantPassword) {
				t.Errorf("the welcome does not give %s:\n%s", tt.wantPassword, out)
			}
			if pw := env["DEMO_PASSWORD"]; pw != "" {
				if strings.Contains(out+s.stderr.String(), pw) {
					t.Errorf("DEMO_PASSWORD was printed:\n%s", out)
				}
				if !strings.Contains(out, "DEMO_PASSWORD") {
					t.Errorf("the welcome does not say where the password is:\n%s", out)
				}
			}
		})
	}
}

// Expired and revoked sessions are deleted when serve starts and every
// sessionPruneInterval while it runs; live ones stay.
func TestServePrunesSessions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		interval time.Duration
		// prepare, when set, makes a session that should go before serve starts.
		prepare func(t *testing.T, store *models.Store, userID int64)
		// during, when set, makes a session that should go while serve runs.
		during func(t *testing.T, store *models.Store, userID int64)
	}{
		{name: "an expired session is gone once serve is ready", interval: time.Hour,
			prepare: func(t *testing.T, store *models.Store, userID int64) {
				past := time.Now().Add(-2 * time.Hour)
				if _, err := store.CreateSession(ctx, userID, past, past.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a session revoked while serving goes at the next prune", interval: 20 * time.Millisecond,
			during: func(t *testing.T, store *models.Store, userID int64) {
				id, err := store.CreateSession(ctx, userID, time.Now(), time.Now().Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if err := store.RevokeSession(ctx, id, time.Now()); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Restored after the server's own cleanup has stopped it, as cleanups run last first.
			old := sessionPruneInterval
			t.Cleanup(func() { sessionPruneInterval = old })
			sessionPruneInterval = tt.interval
			env := databaseEnv(t)
			if r := command(t, env, "", "migrate"); r.err != nil {
				t.Fatal(r.err)
			}
			store := openTestStore(t, env)
			u, err := store.CreateUser(ctx, models.NewUser{Email: "ops@example.com", Password: "a long enough password", Support: true})
			if err != nil {
				t.Fatal(err)
			}
			live, err := store.CreateSession(ctx, u.ID, time.Now(), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, store, u.ID)
			}
			db := rawDB(t, env)
			rows := func() int {
				t.Helper()
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			s := startServe(t, env)
			if tt.during != nil {
				tt.during(t, store, u.ID)
				deadline := time.Now().Add(10 * time.Second)
				for rows() != 1 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			if n := rows(); n != 1 {
				t.Errorf("%d sessions left, want only the live one", n)
			}
			if _, err := store.PrincipalForSession(ctx, live, time.Now()); err != nil {
				t.Errorf("the live session was lost: %v", err)
			}
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A request already being handled when the signal arrives must be answered in full:
// that is what a graceful shutdown is for.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	s := startServe(t, sqliteEnv(t))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))

	// Send the headers and half the body: the handler is now waiting for the rest.
	body := url.Values{"email": {"owner@northwind.test"}, "password": {"relink-demo"}}.Encode()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		strings.TrimPrefix(s.url, "http://"), len(body), body[:10])
	time.Sleep(200 * time.Millisecond)

	stopped := make(chan error, 1)
	go func() { stopped <- s.stop(t) }()
	time.Sleep(200 * time.Millisecond) // shutdown has begun and waits for this request
	select {
	case err := <-stopped:
		t.Fatalf("serve returned %v while a request was in flight", err)
	default:
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the in-flight sign-in got %d, want 303", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
}

func TestServeOnPostgres(t *testing.T) {
	t.Run("refuses an unmigrated schema", func(t *testing.T) {
		r := command(t, postgresEnv(t), "", "serve")
		if !errors.Is(r.err, models.ErrNotMigrated) || !strings.Contains(r.err.Error(), "run `relink migrate`") {
			t.Errorf("got %v, want ErrNotMigrated telling to run `relink migrate`", r.err)
		}
	})
	t.Run("migrates on start when asked", func(t *testing.T) {
		env := postgresEnv(t).with("MIGRATE_ON_START", "true")
		s := startServe(t, env)
		if strings.Contains(s.stdout.String(), "Demo logins") {
			t.Errorf("demo logins printed without --demo:\n%s", s.stdout.String())
		}
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
		if n, err := openTestStore(t, env).CountUsers(context.Background()); err != nil || n != 0 {
			t.Errorf("PostgreSQL was seeded without --demo: %d users, %v", n, err)
		}
	})
	t.Run("serves after relink migrate", func(t *testing.T) {
		env := postgresEnv(t)
		if r := command(t, env, "", "migrate"); r.err != nil {
			t.Fatal(r.err)
		}
		s := startServe(t, env, "--demo")
		for _, l := range models.DemoLogins {
			if !strings.Contains(s.stdout.String(), l.Email) {
				t.Errorf("--demo did not print %s", l.Email)
			}
		}
		c := visitor(t)
		login := url.Values{"email": {"owner@northwind.test"}, "password": {"relink-demo"}}
		if got := status(t, c, http.MethodPost, s.url+"/login", login); got != http.StatusSeeOther {
			t.Errorf("sign in to the --demo agency: %d", got)
		}
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
	})
}

// The welcome must not offer demo logins that do not exist, nor a password they do not have.
func TestServeWelcomeTellsTheTruthAboutDemoLogins(t *testing.T) {
	t.Run("real users came first", func(t *testing.T) {
		env := sqliteEnv(t)
		if r := command(t, env, "", "migrate"); r.err != nil {
			t.Fatal(r.err)
		}
		if r := command(t, env, "an operator's password\n", "user", "add", "--email", "ops@example.com", "--role", "support"); r.err != nil {
			t.Fatal(r.err)
		}
		s := startServe(t, env)
		if out := s.stdout.String(); strings.Contains(out, "Demo logins") || strings.Contains(out, "relink-demo") {
			t.Errorf("the welcome offers demo logins that were never created:\n%s", out)
		}
	})
	t.Run("restart with another DEMO_PASSWORD", func(t *testing.T) {
		env := sqliteEnv(t)
		first := startServe(t, env.with("DEMO_PASSWORD", "first demo password"))
		if err := first.stop(t); err != nil {
			t.Fatal(err)
		}
		second := startServe(t, env.with("DEMO_PASSWORD", "second demo password"))
		out := second.stdout.String()
		if strings.Contains(out, "second demo password") {
			t.Errorf("the welcome gives a password the demo users do not have:\n%s", out)
		}
		if !strings.Contains(out, models.DemoLogins[0].Email) {
			t.Errorf("the welcome no longer lists the demo logins that exist:\n%s", out)
		}
	})
}

// The sandbox and the demo data stand in for missing providers: once any provider has real
// credentials, both exist only when asked for.
func TestServeMountsTheSandboxOnlyWithoutRealProviders(t *testing.T) {
	meta := []string{"META_APP_ID", "1", "META_APP_SECRET", "s"}
	linkedIn := []string{"LINKEDIN_CLIENT_ID", "2", "LINKEDIN_CLIENT_SECRET", "s"}
	tests := []struct {
		name        string
		env         []string
		args        []string
		wantSandbox bool
		wantDemo    bool
	}{
		{name: "development without credentials", wantSandbox: true, wantDemo: true},
		{name: "development with Meta only", env: meta},
		{name: "development with LinkedIn only", env: linkedIn},
		{name: "development with both real providers", env: append(slices.Clone(meta), linkedIn...)},
		{name: "development with Meta and SANDBOX=true", env: append([]string{"SANDBOX", "true"}, meta...), wantSandbox: true},
		{name: "development with Meta and --demo", env: meta, args: []string{"--demo"}, wantDemo: true},
		{name: "development without credentials and SANDBOX=false", env: []string{"SANDBOX", "false"}, wantDemo: true},
		{name: "production", env: []string{"ENVIRONMENT", "production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, sqliteEnv(t).with(tt.env...), tt.args...)
			defer func() { _ = s.stop(t) }()
			got := status(t, visitor(t), http.MethodGet, s.url+"/sandbox/api/state", nil)
			if (got == http.StatusOK) != tt.wantSandbox {
				t.Errorf("GET /sandbox/api/state: %d, want sandbox %v", got, tt.wantSandbox)
			}
			if printed := strings.Contains(s.stdout.String(), "/sandbox"); printed != tt.wantSandbox {
				t.Errorf("the welcome names the sandbox: %v, want %v:\n%s", printed, tt.wantSandbox, s.stdout.String())
			}
			login := url.Values{"email": {"owner@northwind.test"}, "password": {"relink-demo"}}
			got = status(t, visitor(t), http.MethodPost, s.url+"/login", login)
			if (got == http.StatusSeeOther) != tt.wantDemo {
				t.Errorf("demo sign-in: %d, want demo seeded %v", got, tt.wantDemo)
			}
		})
	}
}

// The sandbox's dialogs send codes only to the app's own BASE_URL, including the port the
// system chose for ADDR=…:0.
func TestServeSandboxRedirectsOnlyToBaseURL(t *testing.T) {
	s, base, port := servePortZero(t, sqliteEnv(t))
	defer func() {
		if err := s.stop(t); err != nil {
			t.Error(err)
		}
	}()
	tests := []struct {
		name        string
		redirectURI string
		want        int
	}{
		{name: "under BASE_URL", redirectURI: base + "/connect/meta/callback", want: http.StatusOK},
		{name: "another loopback host", redirectURI: "http://127.0.0.1:" + port + "/connect/meta/callback", want: http.StatusBadRequest},
		{name: "another port", redirectURI: "http://localhost:1/connect/meta/callback", want: http.StatusBadRequest},
		{name: "another site", redirectURI: "https://attacker.example/callback", want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "redirect_uri": {tt.redirectURI}, "state": {"s"}}
			if got := status(t, visitor(t), http.MethodGet, base+"/sandbox/meta/www/dialog/oauth?"+q.Encode(), nil); got != tt.want {
				t.Errorf("dialog with redirect_uri %s: %d, want %d", tt.redirectURI, got, tt.want)
			}
		})
	}
}

func TestKeyFileIsSharedByProcessesStartingTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.key")
	const n = 8
	keys := make(chan string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			k, err := keyFile(path, 64)
			if err != nil {
				errs <- err
				return
			}
			keys <- string(k[0])
		}()
	}
	var first string
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			t.Fatalf("a concurrent start failed: %v", err)
		case k := <-keys:
			if first == "" {
				first = k
			} else if k != first {
				t.Fatal("two starts ended with different keys")
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestServeOnPortZeroPrintsTheChosenPort(t *testing.T) {
	s, base, port := servePortZero(t, sqliteEnv(t))
	if port == "0" {
		t.Fatalf("the printed URL %s names port 0", base)
	}
	if got := status(t, visitor(t), http.MethodGet, base+"/healthz", nil); got != http.StatusOK {
		t.Errorf("the printed URL %s does not answer: %d", base, got)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

// servePortZero runs `relink serve` with env's ADDR=127.0.0.1:0 and returns it with the URL
// it printed, which names the port the system chose.
func servePortZero(t *testing.T, env fakeEnv) (s *server, base, port string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s = &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, []string{"serve"}, env.getenv, strings.NewReader(""), s.stdout, s.stderr) }()
	t.Cleanup(func() { _ = s.stop(t) })
	re := regexp.MustCompile(`is running at (http://localhost:(\d+))`)
	deadline := time.Now().Add(30 * time.Second)
	var m []string
	for m == nil && time.Now().Before(deadline) {
		m = re.FindStringSubmatch(s.stdout.String())
		time.Sleep(20 * time.Millisecond)
	}
	if m == nil {
		t.Fatalf("no URL printed:\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
	s.url, s.port = m[1], m[2]
	return s, m[1], m[2]
}
