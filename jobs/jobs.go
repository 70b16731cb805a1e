// Package jobs runs Relink's background work on River, in the application's own database
// (SQLite through riversqlite by default, PostgreSQL through riverpgxv5): the health sweep,
// email delivery from the outbox and the daily digest. The workers are thin: they call the
// connection service and the notify outbox exactly as handlers do.
//
// Periodic jobs are scheduled by River's elected leader only, so several replicas on one
// PostgreSQL run each sweep once and share the jobs it produces. Stopping lets a job in
// flight finish within a grace period; a job cut short is retried, and every job saves
// its work in small transactions, so a retry redoes nothing that was saved.
package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
)

// Defaults of Config.
const (
	DefaultOutboxEvery = 30 * time.Second
	// digestHour is when, in UTC, the daily digest goes out.
	digestHour = 7
	// stopGrace is how long Stop lets jobs in flight finish before cancelling them.
	stopGrace = 20 * time.Second
)

// Outbox is what the jobs need of the email outbox (notify.Outbox).
type Outbox interface {
	// DeliverDue sends up to limit due emails and reports how many went and failed.
	DeliverDue(ctx context.Context, limit int) (sent, failed int, err error)
	// SendDigests writes the daily digest of everyone who asked for one.
	SendDigests(ctx context.Context, now time.Time) (int, error)
}

// Config is what the runner is built from.
type Config struct {
	// Store is the application's database: River keeps its jobs there too, through the
	// store's handle on SQLite and through a pgx pool of its own on PostgreSQL.
	Store   *models.Store
	Service *connection.Service
	Outbox  Outbox
	Log     *slog.Logger
	// HealthEvery is the sweep interval (HEALTH_INTERVAL); default 15 minutes.
	HealthEvery time.Duration
	// OutboxEvery is how often the outbox is looked at without a kick; default 30 s.
	OutboxEvery time.Duration
	// PollEvery is how often workers look for new jobs on SQLite, which has no
	// LISTEN/NOTIFY; default one second.
	PollEvery time.Duration
	// ID names this client among replicas (River's leader election); default random.
	ID string
}

// Runner owns the River client: it starts and stops the workers and inserts jobs.
type Runner struct {
	start  func(context.Context) error
	stop   func(context.Context) error
	insert func(context.Context, river.JobArgs, *river.InsertOpts) error
	close  func()
	log    *slog.Logger
}

// New builds the runner; Start starts its workers.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Service == nil {
		return nil, errors.New("jobs: the connection service is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("jobs: no database")
	}
	log := cmp.Or(cfg.Log, slog.Default())
	workers := river.NewWorkers()
	river.AddWorker(workers, &sweepWorker{svc: cfg.Service, log: log})
	if cfg.Outbox != nil {
		river.AddWorker(workers, &outboxWorker{outbox: cfg.Outbox, log: log})
		river.AddWorker(workers, &digestWorker{outbox: cfg.Outbox, now: cfg.Store.Now})
	}
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(cmp.Or(cfg.HealthEvery, connection.DefaultCheckEvery)),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, sweepArgsOpts() },
			&river.PeriodicJobOpts{ID: "health_sweep", RunOnStart: true}),
	}
	if cfg.Outbox != nil {
		periodic = append(periodic,
			river.NewPeriodicJob(river.PeriodicInterval(cmp.Or(cfg.OutboxEvery, DefaultOutboxEvery)),
				func() (river.JobArgs, *river.InsertOpts) { return DeliverArgs{}, deliverOpts() },
				&river.PeriodicJobOpts{ID: "outbox", RunOnStart: true}),
			// River keeps its schedule in memory, so a daily interval would restart with
			// every deploy: the digest runs at a fixed hour, and once on start (a second
			// run the same day writes nothing: a digest's key is the user and the date).
			river.NewPeriodicJob(dailyAt{hour: digestHour},
				func() (river.JobArgs, *river.InsertOpts) { return DigestArgs{}, nil },
				&river.PeriodicJobOpts{ID: "digest", RunOnStart: true}),
		)
	}
	rc := &river.Config{
		ID:                   cmp.Or(cfg.ID, clientID()),
		Logger:               quiet(log),
		Workers:              workers,
		PeriodicJobs:         periodic,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		JobTimeout:           -1, // a sweep of many connections takes what it takes; each call has its own timeout
		RescueStuckJobsAfter: time.Hour,
		FetchPollInterval:    cmp.Or(cfg.PollEvery, time.Second),
		// A sweep or delivery is worth retrying a few times, not for days.
		MaxAttempts: 5,
	}
	r := &Runner{log: log}
	if url := cfg.Store.PostgresURL(); url != "" {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("jobs: open postgres pool: %w", err)
		}
		client, err := river.NewClient(riverpgxv5.New(pool), rc)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("jobs: new river client: %w", err)
		}
		r.bind(client.Start, client.Stop, client.StopAndCancel, func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
			_, err := client.Insert(ctx, args, opts)
			return err
		}, pool.Close)
		return r, nil
	}
	// SQLite has no LISTEN/NOTIFY: workers poll.
	rc.PollOnly = true
	client, err := river.NewClient(riversqlite.New(cfg.Store.SQLDB()), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	r.bind(client.Start, client.Stop, client.StopAndCancel, func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
		_, err := client.Insert(ctx, args, opts)
		return err
	}, func() {})
	return r, nil
}

func (r *Runner) bind(start, stop, cancel func(context.Context) error, insert func(context.Context, river.JobArgs, *river.InsertOpts) error, closeFn func()) {
	r.start, r.insert, r.close = start, insert, closeFn
	r.stop = func(ctx context.Context) error {
		// Let jobs in flight finish; past the grace period, cancel them: River retries
		// a cancelled job, and each saves its work as it goes.
		gctx, cancelGrace := context.WithTimeout(ctx, stopGrace)
		defer cancelGrace()
		if err := stop(gctx); err == nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return cancel(ctx)
	}
}

// Start starts the workers and the periodic schedule. They run until Stop: cancelling ctx
// (the shutdown signal) would make River cancel jobs in flight at once, before Stop's grace.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops the workers gracefully (see the package doc) and closes River's own pool.
func (r *Runner) Stop(ctx context.Context) error {
	defer r.close()
	if err := r.stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Kick asks for prompt email delivery: it inserts an outbox run unless one is already
// waiting. A failure only delays the email until the periodic run; it is logged.
//
// Kicks are gathered per second: all those of one second make one run, scheduled at the
// start of the next, after they have committed. A kick is never lost to a run already
// going (which may have looked before its email committed): that run is for an earlier
// second, and the kick makes a run of its own.
func (r *Runner) Kick(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	due := time.Now().Unix() + 1
	opts := deliverOpts()
	opts.ScheduledAt = time.Unix(due, 0)
	if err := r.insert(ctx, DeliverArgs{Due: due}, opts); err != nil {
		r.log.Warn("could not schedule email delivery; the periodic run sends it", "err", err)
	}
}

// SweepNow inserts a health sweep, unless one is already waiting.
func (r *Runner) SweepNow(ctx context.Context) error {
	return r.insert(ctx, SweepArgs{}, sweepArgsOpts())
}

// waiting are the states River requires a unique job to cover (running among them): a job
// is inserted only when none with the same arguments waits or runs, so a burst of kicks
// makes one delivery run per second (see Kick).
var waiting = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

func deliverOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waiting}}
}

// sweepArgsOpts keeps sweeps one at a time: a sweep waiting to be retried also blocks the
// next scheduled one, which would only check the same connections beside it.
func sweepArgsOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: append(slices.Clone(waiting), rivertype.JobStateRetryable)}}
}

// clientID names this process among the replicas. River's own default is the host name
// and the start time, which two replicas started together on one host can share; a
// leader election between two clients of one name elects both.
func clientID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
	if len(id) > 100 {
		id = id[len(id)-100:]
	}
	return id
}

// dailyAt is a River schedule: every day at hour, UTC.
type dailyAt struct{ hour int }

// Next is the first hour:00 UTC after t.
func (d dailyAt) Next(t time.Time) time.Time {
	t = t.UTC()
	next := time.Date(t.Year(), t.Month(), t.Day(), d.hour, 0, 0, 0, time.UTC)
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// quiet keeps River's own chatter at Warn and above.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{log.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
