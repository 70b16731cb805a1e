package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

// TestRiverSchemaIsCurrent: the River schema our migrations carry is the one the River in
// go.mod expects, version for version.
func TestRiverSchemaIsCurrent(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t)
	var res *rivermigrate.ValidateResult
	if url := store.PostgresURL(); url != "" {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err = m.Validate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		m, err := rivermigrate.New(riversqlite.New(store.SQLDB()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err = m.Validate(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !res.OK {
		t.Fatalf("River's schema is behind: %v", res.Messages)
	}
}

func newService(t *testing.T, store *models.Store) *connection.Service {
	t.Helper()
	cipher, err := models.NewCipher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := connection.New(connection.Config{Store: store, Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// waitJobs waits until the jobs of kind reach n in any state, and returns how many exist.
func countKind(t *testing.T, store *models.Store, kind string) int {
	t.Helper()
	n, err := store.System().CountJobsOfKind(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestRunnerSweepsOnStartAndStops: serve's runner schedules a sweep when it starts, works
// it, and stops cleanly.
func TestRunnerSweepsOnStartAndStops(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t)
	r, err := jobs.New(ctx, jobs.Config{Store: store, Service: newService(t, store), HealthEvery: time.Hour, PollEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		done, err := store.System().CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if done["completed"] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sweep completed: %v", done)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKind(t, store, "health_sweep"); n != 1 {
		t.Fatalf("%d sweeps, want 1", n)
	}
}

// TestTwoReplicasRunOneSweep: two runners on one database elect one leader, which alone
// schedules the periodic sweep.
func TestTwoReplicasRunOneSweep(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t)
	var runners []*jobs.Runner
	for i := range 2 {
		r, err := jobs.New(ctx, jobs.Config{Store: store, Service: newService(t, store), HealthEvery: time.Hour,
			PollEvery: 200 * time.Millisecond, ID: []string{"replica-a", "replica-b"}[i]})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	deadline := time.Now().Add(15 * time.Second)
	for countKind(t, store, "health_sweep") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Give the other replica every chance to schedule a second one.
	time.Sleep(2 * time.Second)
	for _, r := range runners {
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := countKind(t, store, "health_sweep"); n != 1 {
		t.Fatalf("%d sweeps scheduled by two replicas, want 1", n)
	}
}
