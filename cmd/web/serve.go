package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/static"
)

// serve runs the web server until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	demo := fs.Bool("demo", false, "seed the demo agency on an empty database, whatever the database, environment or providers")
	if err := fs.Parse(args); err != nil {
		return &usageError{"serve: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("serve: unexpected argument %q (configuration comes from environment variables)", fs.Arg(0))}
	}
	started := time.Now()
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg)
	if err := cfg.checkDataDir(func(msg string) { log.Warn("DATA_DIR: " + msg) }); err != nil {
		return err
	}
	if err := cfg.ensureKeys(); err != nil {
		return err
	}
	// Listening before anything is migrated or seeded finds a bad ADDR or a port in use
	// while the database is still untouched.
	ln, err := listen(ctx, cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	// ADDR with port 0 lets the system choose; the default BASE_URL then names that port.
	if e.getenv("BASE_URL") == "" && cfg.BaseURL.Port() == "0" {
		cfg.BaseURL.Host = "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}

	// In sandbox mode the app reads time from the sandbox's clock, so advancing it in the
	// control panel lets a 60-day expiry be watched in minutes.
	var (
		sb    *sandbox.Sandbox
		extra                 = map[string]http.Handler{}
		clock providers.Clock = providers.SystemClock{}
	)
	if cfg.Sandbox() {
		// Removing the app in the sandbox calls Relink back as Meta does; only the
		// sandbox's own Meta app is its to speak for.
		opts := sandbox.Options{Logger: log, AppBaseURL: cfg.BaseURL.String()}
		if !cfg.Meta.configured() {
			opts.DeauthorizeURL = cfg.BaseURL.String() + handlers.MetaDeauthorizePath
		}
		sb = sandbox.New(opts)
		extra[sb.Prefix()] = sb
		if cfg.SandboxOnly() {
			clock = sb.Clock()
		}
	}

	store, err := openDatabase(ctx, cfg, clock)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := prepareSchema(ctx, cfg, store, log); err != nil {
		return err
	}
	demoState := noDemo
	if cfg.SeedDemo() || *demo {
		seeded, err := store.SeedDemo(ctx, cfg.DemoPassword)
		if err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		if seeded {
			demoState = demoSeeded
		} else if _, err := store.UserByEmail(ctx, models.DemoLogins[0].Email); err == nil {
			demoState = demoKept
		} else if *demo {
			log.Warn("demo data not seeded: the database already has users")
		}
	} else if _, err := store.UserByEmail(ctx, models.DemoLogins[0].Email); err == nil && cfg.anyRealProvider() {
		// Seeded before real credentials were set, the demo logins' password is still public.
		log.Warn("the demo users of an earlier start still exist and sign in with the DEMO_PASSWORD they were given; start from a fresh database before connecting real accounts", "user", models.DemoLogins[0].Email)
	}
	// Deferred after store.Close, so it runs first: no prune is left using a closed store.
	defer pruneSessionsEvery(ctx, store, log, sessionPruneInterval)()

	if n, err := store.CountUsers(ctx); err != nil {
		return err
	} else if n == 0 {
		log.Warn("no users yet: create the first with `relink user add --email … --role agency_owner --agency …` (password on standard input)")
	}

	// The outbox asks the jobs for prompt delivery; the jobs need the service, which needs
	// the outbox: the kick reaches the runner once it exists.
	var runner *jobs.Runner
	mailer, err := newMailer(cfg, log)
	if err != nil {
		return err
	}
	outbox, err := notify.New(notify.Config{Store: store, BaseURL: cfg.BaseURL, Mailer: mailer, Log: log,
		Kick: func(ctx context.Context) {
			if runner != nil {
				runner.Kick(ctx)
			}
		}})
	if err != nil {
		return err
	}
	metrics := jobs.NewMetrics(store)
	conns, flows, err := newConnections(cfg, store, newProviders(cfg, store, sb, clock), log, outbox, metrics)
	if err != nil {
		return err
	}
	runner, err = jobs.New(ctx, jobs.Config{Store: store, Service: conns, Outbox: outbox, Log: log, HealthEvery: cfg.HealthInterval})
	if err != nil {
		return err
	}
	if err := runner.Start(ctx); err != nil {
		return err
	}
	// Deferred before the server's shutdown below runs, so it runs after it: requests
	// finish first, then jobs in flight, then the database closes (deferred earlier).
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := runner.Stop(stopCtx); err != nil {
			log.Warn("stopping the jobs", "err", err)
		}
	}()
	app, err := handlers.New(handlers.Config{
		Connections:      conns,
		Flows:            flows,
		Store:            store,
		SessionKeys:      cfg.SessionKeys,
		HTTPS:            cfg.BaseURL.Scheme == "https",
		Log:              log,
		Static:           static.Files,
		TrustedProxyHops: cfg.TrustedProxyHops,
		Extra:            extra,
		MetaAppSecret:    metaSecret(cfg, sb),
		Metrics:          metrics.Handler(),
		DevMail:          sb != nil && cfg.SMTPURL == "",
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           app.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests must outlive the signal: Shutdown waits for them, and a cancelled context
		// would make their database calls fail instead of finishing.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	printWelcome(e.stdout, cfg, demoState, time.Since(started))
	if sb != nil {
		fmt.Fprintf(e.stdout, "Provider sandbox (fake Meta and LinkedIn, no real app needed): %s%s\n\n", cfg.BaseURL, sb.Prefix())
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "database", store.Dialect(),
		"version", version(), "startup", time.Since(started).Round(time.Millisecond))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sessionPruneInterval is how often serve deletes expired and revoked sessions; a variable
// so that tests need not wait an hour.
var sessionPruneInterval = time.Hour

// pruneSessionsEvery prunes sessions now and then every interval until the returned stop
// is called, which waits for a prune in progress. Sessions run on wall-clock time, never
// the sandbox clock.
func pruneSessionsEvery(ctx context.Context, store *models.Store, log *slog.Logger, interval time.Duration) (stop func()) {
	pruneSessions(ctx, store, log, time.Now())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				pruneSessions(ctx, store, log, now)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// pruneSessions deletes expired and revoked sessions, which would otherwise pile up for
// ever; a failure is only logged, as the next run will try again.
func pruneSessions(ctx context.Context, store *models.Store, log *slog.Logger, now time.Time) {
	// OAuth flows that were never finished expire too; their tokens go with them.
	if n, err := store.PruneFlows(ctx); err != nil && ctx.Err() == nil {
		log.Warn("pruning expired sign-in flows failed", "err", err)
	} else if n > 0 {
		log.Info("pruned expired sign-in flows", "count", n)
	}
	n, err := store.PruneSessions(ctx, now)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("pruning sessions failed", "err", err)
	case n > 0:
		log.Info("pruned expired and revoked sessions", "count", n)
	case err == nil:
		log.Debug("pruned expired and revoked sessions", "count", n)
	}
}

// listen opens ADDR. A host that does not resolve or is not an address of this machine is
// a configuration error; a port in use is not, as it may be free on the next try.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second) // for resolving the host
	defer cancel()
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return ln, nil
	case errors.As(err, &dnsErr):
		return nil, &configError{"ADDR", fmt.Sprintf("cannot listen on %s: the host does not resolve (%v); want an address of this machine, such as :8080 or 127.0.0.1:8080", addr, dnsErr.Err)}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, &configError{"ADDR", fmt.Sprintf("cannot listen on %s: not an address of this machine; want one of its addresses, such as :8080 or 127.0.0.1:8080", addr)}
	}
	return nil, fmt.Errorf("listen on %s: %w", addr, err)
}

func newLogger(w io.Writer, cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore checks DATA_DIR and opens the configured database on the wall clock, for the
// commands other than serve; a warning about DATA_DIR goes to standard error.
func openStore(ctx context.Context, e env, cfg config) (*models.Store, error) {
	log := newLogger(e.stderr, cfg)
	if err := cfg.checkDataDir(func(msg string) { log.Warn("DATA_DIR: " + msg) }); err != nil {
		return nil, err
	}
	return openDatabase(ctx, cfg, nil)
}

// openDatabase opens the configured database, once DATA_DIR has been checked, with clock as
// its clock (nil: the wall clock).
func openDatabase(ctx context.Context, cfg config, clock providers.Clock) (*models.Store, error) {
	store, err := models.Open(ctx, models.OpenOptions{URL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Clock: clock})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// prepareSchema migrates the embedded SQLite database on every start; PostgreSQL only with
// MIGRATE_ON_START=true, and otherwise refuses to serve an unmigrated schema.
func prepareSchema(ctx context.Context, cfg config, store *models.Store, log *slog.Logger) error {
	if !cfg.Postgres() || cfg.MigrateOnStart {
		n, err := store.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("applied migrations", "count", n)
		}
		return nil
	}
	if err := store.CheckMigrated(ctx); err != nil {
		if errors.Is(err, models.ErrNotMigrated) {
			return fmt.Errorf("%w; run `relink migrate` first, or set MIGRATE_ON_START=true", err)
		}
		return err
	}
	return nil
}

// demoLogins is what the welcome can truthfully say about the demo users.
type demoLogins int

const (
	noDemo     demoLogins = iota // none: real users came first, or PostgreSQL without --demo
	demoSeeded                   // created by this start, with cfg.DemoPassword
	demoKept                     // created by an earlier start, whose DEMO_PASSWORD may differ
)

// printWelcome tells a newcomer where Relink is and how to sign in.
func printWelcome(w io.Writer, cfg config, demo demoLogins, startup time.Duration) {
	fmt.Fprintf(w, "\nRelink %s is running at %s (started in %s)\n", version(), cfg.BaseURL, startup.Round(time.Millisecond))
	if host, port, _ := net.SplitHostPort(cfg.Addr); cfg.AddrDefaulted && net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(w, "It is listening on %s only; set ADDR=:%s to accept connections from other machines.\n", host, port)
	}
	switch demo {
	case noDemo:
		fmt.Fprintln(w)
		return
	case demoSeeded:
		// An operator's own DEMO_PASSWORD stays out of terminals and the logs they feed.
		if cfg.DemoPassword == defaultDemoPassword {
			fmt.Fprintf(w, "\nDemo logins (password %q):\n", cfg.DemoPassword)
		} else {
			fmt.Fprintln(w, "\nDemo logins (password: the one in DEMO_PASSWORD):")
		}
	case demoKept:
		fmt.Fprintln(w, "\nDemo logins (created on an earlier start, with the DEMO_PASSWORD it had):")
	}
	for _, l := range models.DemoLogins {
		fmt.Fprintf(w, "  %-22s %-14s %s\n", l.Email, l.Role, l.Where)
	}
	fmt.Fprintln(w)
}

// newMailer sends email over SMTP_URL; without it emails stay in the outbox, readable at
// /dev/mail in sandbox mode.
func newMailer(cfg config, log *slog.Logger) (notify.Mailer, error) {
	if cfg.SMTPURL == "" {
		if !cfg.Sandbox() {
			log.Warn("SMTP_URL is not set: emails are kept in the outbox and not sent")
		}
		return nil, nil
	}
	m, err := notify.NewSMTPMailer(cfg.SMTPURL)
	if err != nil {
		return nil, &configError{"SMTP_URL", err.Error()}
	}
	return m, nil
}

// metaSecret is the secret Meta's deauthorize callbacks are signed with: the real app's,
// or the sandbox's stand-in.
func metaSecret(cfg config, sb *sandbox.Sandbox) string {
	if cfg.Meta.configured() {
		return cfg.Meta.Secret
	}
	if sb != nil {
		_, secret := sb.MetaApp()
		return secret
	}
	return ""
}
