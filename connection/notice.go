package connection

import (
	"context"
	"time"

	"github.com/relink/relink/models"
)

// NoticeKind is what an email about a connection tells its reader.
type NoticeKind string

// The emails the service asks for.
const (
	// NoticeIncident: the connection entered reauth_required, permissions_missing or
	// blocked; someone must act.
	NoticeIncident NoticeKind = "incident"
	// NoticeReconnected: a connection whose incident was emailed works again.
	NoticeReconnected NoticeKind = "reconnected"
	// NoticeReminder: a token or data-access expiry that cannot be renewed automatically
	// is 7, 3 or 1 days away.
	NoticeReminder NoticeKind = "reminder"
	// NoticeUnreachable: the provider has not answered for this connection for a long
	// time (3 days by default). The token is presumed valid; nothing says it expired.
	NoticeUnreachable NoticeKind = "unreachable"
)

// Expiry clocks a reminder can be about.
const (
	ClockToken      = "token"
	ClockDataAccess = "data_access"
	ClockRefresh    = "refresh"
)

// Notice is one email-worthy event of one connection. The notifier turns it into one
// outbox row per recipient; Since makes the rows of one incident share a dedupe key, so
// writing the same Notice twice sends nothing more.
type Notice struct {
	Kind NoticeKind
	// Connection is the connection as saved in the same transaction.
	Connection models.Connection
	// Since anchors the incident: when it began (incident and reconnected), when the
	// provider stopped answering (unreachable), the expiry itself (reminder).
	Since time.Time
	// Clock, ExpiresAt and DaysLeft describe a reminder.
	Clock     string
	ExpiresAt time.Time
	DaysLeft  int
}

// Notifier writes emails into the outbox. Queue runs inside the transaction of the status
// change that calls for the email, so the change and its email commit together or not at
// all; it reports how many rows it wrote (zero when they already exist, or nobody wants
// them). Kick runs after that transaction commits and asks for prompt delivery; a lost
// kick only delays the email until the next outbox run.
type Notifier interface {
	Queue(ctx context.Context, tx *models.Store, n Notice) (int, error)
	// Sent reports whether an incident email went out (or waits to) for the incident of
	// conn that began at since: only then does its recovery deserve a "reconnected" email.
	Sent(ctx context.Context, tx *models.Store, conn models.Connection, since time.Time) (bool, error)
	Kick(ctx context.Context)
}
