package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/relink/relink/connection"
)

// SweepArgs is the health sweep: check every connection that is due.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "health_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	svc *connection.Service
	log *slog.Logger
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	st, err := w.svc.Sweep(ctx)
	w.log.Info("health sweep", "due", st.Due, "checked", st.Checked, "ok", st.OK, "transient", st.Transient,
		"action", st.Action, "skipped", st.Skipped, "incidents_opened", st.IncidentsOpened,
		"incidents_closed", st.IncidentsClosed, "duration", st.Duration.Round(time.Millisecond))
	return err
}

// DeliverArgs is one run of the email outbox. Due is the second a kicked run is for (zero
// for the periodic run); see Runner.Kick.
type DeliverArgs struct {
	Due int64 `json:"due,omitempty"`
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "deliver_email" }

type outboxWorker struct {
	river.WorkerDefaults[DeliverArgs]
	outbox Outbox
	log    *slog.Logger
}

// deliverPage is how many emails one claim takes.
const deliverPage = 50

func (w *outboxWorker) Work(ctx context.Context, _ *river.Job[DeliverArgs]) error {
	for {
		sent, failed, err := w.outbox.DeliverDue(ctx, deliverPage)
		if err != nil {
			return err
		}
		if sent+failed > 0 {
			w.log.Info("outbox run", "sent", sent, "failed", failed)
		}
		// A full page means more may be due; a short one means the rest wait for their
		// retry time or the next run.
		if sent+failed < deliverPage {
			return nil
		}
	}
}

// DigestArgs is the daily digest run.
type DigestArgs struct{}

// Kind names the job in River's table.
func (DigestArgs) Kind() string { return "daily_digest" }

type digestWorker struct {
	river.WorkerDefaults[DigestArgs]
	outbox Outbox
	// now is the store's clock, so that a digest's date agrees with the history's (the
	// sandbox's clock in sandbox mode).
	now func() time.Time
}

func (w *digestWorker) Work(ctx context.Context, _ *river.Job[DigestArgs]) error {
	_, err := w.outbox.SendDigests(ctx, w.now())
	return err
}
