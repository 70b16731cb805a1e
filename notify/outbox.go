// Package notify emails the right people, once per incident, when a connection needs
// action. Outbox implements connection.Notifier: Queue writes one outbox row per
// recipient in the transaction of the status change, DeliverDue (the worker's body) sends
// the due rows through a Mailer, and SendDigests gathers the rows held for the daily
// digest. The emails name the connection and say what to do; they never hold a token.
package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
)

// Defaults of Config.
const (
	DefaultMaxAttempts = 12
	DefaultLease       = 5 * time.Minute
	// backoffBase and backoffMax bound the wait before a failed email is retried: 1, 2, 4
	// minutes and so on, at most an hour, so an outage of the mail server for a day costs
	// a dozen attempts rather than thousands.
	backoffBase = time.Minute
	backoffMax  = time.Hour
	// maxErrorLength bounds the stored last_error.
	maxErrorLength = 500
)

// Config is what the outbox is built from.
type Config struct {
	Store *models.Store
	// BaseURL is Relink's public URL: the emails' links start with it.
	BaseURL *url.URL
	// Mailer sends the emails. Nil leaves them pending in the outbox, where /dev/mail shows
	// them.
	Mailer Mailer
	Log    *slog.Logger
	// Kick asks for prompt delivery after a transaction that queued emails committed (the
	// jobs insert a River job); nil waits for the next scheduled run.
	Kick func(ctx context.Context)
	// MaxAttempts is how many failed deliveries make an email failed; DefaultMaxAttempts
	// when zero.
	MaxAttempts int
	// Lease is how long a worker holds an email it sends; DefaultLease when zero. It must
	// outlast the Mailer's timeout, or a slow send could be taken over and sent twice.
	Lease time.Duration
}

// Outbox is Relink's email outbox. It implements connection.Notifier.
type Outbox struct {
	store       *models.Store
	base        *url.URL
	mailer      Mailer
	log         *slog.Logger
	kick        func(ctx context.Context)
	maxAttempts int
	lease       time.Duration
	// msgHost is the right-hand side of every Message-ID: BASE_URL's host.
	msgHost string
}

var _ connection.Notifier = (*Outbox)(nil)

// New builds the outbox.
func New(cfg Config) (*Outbox, error) {
	if cfg.Store == nil || cfg.BaseURL == nil || cfg.BaseURL.Host == "" {
		return nil, errors.New("notify: store and an absolute base URL are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	base := *cfg.BaseURL
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawQuery, base.Fragment = "", ""
	return &Outbox{store: cfg.Store, base: &base, mailer: cfg.Mailer, log: cfg.Log, kick: cfg.Kick,
		maxAttempts: cfg.MaxAttempts, lease: cfg.Lease, msgHost: cmp.Or(base.Hostname(), "relink.invalid")}, nil
}

// Queue writes the emails of notice n, one per recipient who wants them, inside tx (the
// transaction of the status change), and returns how many rows it wrote. The recipients
// are the sub-account's account admins and its agency's admins and owners, each once; those
// who turned these emails off get none, those who chose the daily digest get a row held
// for it. Each row's dedupe key names the incident and the recipient, so queueing the same
// notice again writes nothing. Four statements at most, whatever the number of recipients.
func (o *Outbox) Queue(ctx context.Context, tx *models.Store, n connection.Notice) (int, error) {
	c := n.Connection
	sub, err := tx.System().SubAccountRefByID(ctx, c.SubAccountID)
	if err != nil {
		return 0, err
	}
	recipients, err := tx.NotificationRecipients(ctx, c.SubAccountID)
	if err != nil {
		return 0, err
	}
	var priorKinds map[int64]string
	if n.Kind == connection.NoticeReconnected {
		// Only those told of the incident hear that it is over.
		prior, err := tx.EmailsWithKeyPrefix(ctx, c.SubAccountID, c.ID, incidentPrefixes(c.ID, n.Since)...)
		if err != nil {
			return 0, err
		}
		priorKinds = map[int64]string{}
		for _, e := range prior {
			if e.UserID != nil && priorKinds[*e.UserID] != models.EmailIncident {
				priorKinds[*e.UserID] = e.Kind
			}
		}
	}
	now := tx.Now().Truncate(time.Second)
	links := o.links(c)
	var rows []models.OutboxEmail
	for _, rc := range recipients {
		if rc.Mode == models.NotifyOff {
			continue
		}
		in := input{notice: n, sub: sub, recipient: rc, now: now, links: links}
		if n.Kind == connection.NoticeReconnected {
			kind, told := priorKinds[rc.UserID]
			if !told {
				continue
			}
			in.afterOutage = kind == models.EmailUnreachable
		}
		ct, err := compose(in)
		if err != nil {
			return 0, err
		}
		text, html, err := render(ctx, ct)
		if err != nil {
			return 0, err
		}
		userID, connID := rc.UserID, c.ID
		rows = append(rows, models.OutboxEmail{ConnectionID: &connID, UserID: &userID, Kind: string(n.Kind),
			DedupeKey: dedupeKey(n, rc.UserID), ToAddress: rc.Email, Subject: ct.Subject, BodyText: text,
			BodyHTML: html, SendAfter: now, Digest: rc.Mode == models.NotifyDigest})
	}
	return tx.QueueEmails(ctx, c.SubAccountID, rows)
}

// Sent reports whether an email about the incident of conn that began at since was
// queued, sent or not: an action-needed email, or the "we cannot reach" one of an outage.
func (o *Outbox) Sent(ctx context.Context, tx *models.Store, conn models.Connection, since time.Time) (bool, error) {
	es, err := tx.EmailsWithKeyPrefix(ctx, conn.SubAccountID, conn.ID, incidentPrefixes(conn.ID, since)...)
	return len(es) > 0, err
}

// Kick asks for prompt delivery through Config.Kick; it does nothing without one, or on a
// nil Outbox.
func (o *Outbox) Kick(ctx context.Context) {
	if o == nil || o.kick == nil {
		return
	}
	o.kick(ctx)
}

// dedupeKey names one email of one incident for one recipient. The incident is the
// connection and the moment it began (for a reminder: the expiry, its clock and the day
// count), so a second Queue of the same notice collides on the unique key and writes nothing.
func dedupeKey(n connection.Notice, userID int64) string {
	c := n.Connection
	if n.Kind == connection.NoticeReminder {
		return fmt.Sprintf("reminder:%d:%s:%d:%d:%d", c.ID, n.Clock, n.ExpiresAt.Unix(), n.DaysLeft, userID)
	}
	return fmt.Sprintf("%s:%d:%d:%d", n.Kind, c.ID, n.Since.Unix(), userID)
}

// incidentPrefixes match the keys of every email that announced the incident of
// connection id that began at since.
func incidentPrefixes(id int64, since time.Time) []string {
	return []string{
		fmt.Sprintf("%s:%d:%d:", connection.NoticeIncident, id, since.Unix()),
		fmt.Sprintf("%s:%d:%d:", connection.NoticeUnreachable, id, since.Unix()),
	}
}

// messageID is the Message-ID of the email with dedupe key key. It is derived from the key
// rather than random so that an email sent again (the worker crashed after the server
// accepted it but before the row was marked sent, and the lease expired) carries the same
// Message-ID: the receiving side recognises the copy as the same message, and mail clients
// that thread or de-duplicate by Message-ID show it once. The key is hashed so that ids of
// users and connections do not travel in a header.
func (o *Outbox) messageID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "relink." + hex.EncodeToString(sum[:16]) + "@" + o.msgHost
}

// message is the email of outbox row e as the Mailer sends it.
func (o *Outbox) message(e models.OutboxEmail) Message {
	return Message{To: e.ToAddress, Subject: e.Subject, Text: e.BodyText, HTML: e.BodyHTML,
		MessageID: o.messageID(e.DedupeKey), Headers: map[string]string{
			// Automatic: out-of-office replies and auto-responders stay quiet (RFC 3834).
			"Auto-Submitted":           "auto-generated",
			"X-Auto-Response-Suppress": "All",
			"X-Relink-Kind":            e.Kind,
		}}
}

// DeliverDue sends up to limit due emails and reports how many went out and how many failed
// (to be retried later, or given up). Each email is claimed first with a lease in one
// conditional UPDATE, so two workers, in one process or on two replicas, never send the
// same email; a worker that dies mid-send leaves a lease that expires, and the email is
// retried. A failed email waits 1, 2, 4… minutes (at most an hour, with jitter) before the
// next attempt, and after MaxAttempts (or a permanent refusal) it is failed. Without a
// Mailer it does nothing.
func (o *Outbox) DeliverDue(ctx context.Context, limit int) (sent, failed int, err error) {
	if o.mailer == nil || limit <= 0 {
		return 0, 0, nil
	}
	sys := o.store.System()
	now := o.store.Now().Truncate(time.Second)
	due, err := sys.DueEmails(ctx, now, limit)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range due {
		if err := ctx.Err(); err != nil {
			return sent, failed, err
		}
		now := o.store.Now().Truncate(time.Second)
		lease := now.Add(o.lease)
		ok, err := sys.ClaimEmail(ctx, e.ID, now, lease)
		if err != nil {
			return sent, failed, err
		}
		if !ok {
			// Another worker has it, or sent it meanwhile.
			continue
		}
		sendErr := o.mailer.Send(ctx, o.message(e))
		if sendErr != nil && ctx.Err() != nil {
			// Stopping, not failing: the lease expires and the email is tried again, without
			// an attempt counted against it.
			return sent, failed, ctx.Err()
		}
		if sendErr == nil {
			ok, err := sys.MarkEmailSent(ctx, e.ID, lease, o.store.Now().Truncate(time.Second))
			if err != nil {
				return sent, failed, err
			}
			if !ok {
				o.log.Warn("email sent after its lease ran out", "notification_id", e.ID, "kind", e.Kind)
			}
			o.log.Info("email sent", "notification_id", e.ID, "kind", e.Kind)
			sent++
			continue
		}
		failed++
		a := models.EmailAttempt{Attempts: e.Attempts + 1, LastError: redact(sendErr)}
		a.Final = a.Attempts >= o.maxAttempts || errors.Is(sendErr, ErrRejected)
		a.RetryAt = now.Add(backoff(a.Attempts))
		if _, err := sys.MarkEmailFailed(ctx, e.ID, lease, a); err != nil {
			return sent, failed, err
		}
		level := slog.LevelWarn
		if a.Final {
			level = slog.LevelError
		}
		o.log.Log(ctx, level, "email not sent", "notification_id", e.ID, "kind", e.Kind,
			"attempts", a.Attempts, "final", a.Final, "error", a.LastError)
	}
	return sent, failed, nil
}

// backoff is the wait after the attempts-th failed delivery: 1 minute doubled per attempt,
// at most an hour, less up to a fifth at random so that emails failed together (the mail
// server was down) do not all come back in the same second.
func backoff(attempts int) time.Duration {
	d := backoffMax
	if attempts <= 7 {
		d = min(backoffBase<<max(attempts-1, 0), backoffMax)
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

var (
	// userinfoRE matches the credentials of a URL ("smtp://user:pass@").
	userinfoRE = regexp.MustCompile(`://[^/\s@]+@`)
	// addressRE matches an email address.
	addressRE = regexp.MustCompile(`[^\s<>()\[\]",;:@]+@[^\s<>()\[\]",;:@]+`)
)

// redact is a delivery error as the outbox stores and logs it: no credentials, no
// addresses (the mail server's answers repeat them), no control characters, bounded.
func redact(err error) string {
	s := userinfoRE.ReplaceAllString(err.Error(), "://[redacted]@")
	s = addressRE.ReplaceAllString(s, "[address]")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxErrorLength {
		n := maxErrorLength
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// SendDigests writes, for each user with emails held for the daily digest, one digest email
// listing them (one per user and UTC day of now: a second run the same day finds the
// digest written and leaves later emails for the next day), and marks the held emails
// sent in it, in one transaction per user. It returns how many digests it wrote; DeliverDue
// sends them.
func (o *Outbox) SendDigests(ctx context.Context, now time.Time) (int, error) {
	users, err := o.store.System().HeldDigestUsers(ctx)
	if err != nil {
		return 0, err
	}
	written := 0
	for _, u := range users {
		wrote := false
		err := o.store.Tx(ctx, func(tx *models.Store) error {
			sys := tx.System()
			held, err := sys.HeldEmails(ctx, u.ID)
			if err != nil || len(held) == 0 {
				return err
			}
			ct := composeDigest(digestInput{user: u, held: held, now: now, links: o.links})
			text, html, err := render(ctx, ct)
			if err != nil {
				return err
			}
			ids := make([]int64, len(held))
			for i, e := range held {
				ids[i] = e.ID
			}
			uid := u.ID
			wrote, err = sys.WriteDigest(ctx, models.OutboxEmail{UserID: &uid,
				DedupeKey: fmt.Sprintf("digest:%d:%s", u.ID, now.UTC().Format(time.DateOnly)),
				ToAddress: u.Email, Subject: ct.Subject, BodyText: text, BodyHTML: html,
				SendAfter: tx.Now().Truncate(time.Second)}, ids)
			return err
		})
		if err != nil {
			return written, err
		}
		if wrote {
			written++
		}
	}
	return written, nil
}

// render is an email's text and HTML parts.
func render(ctx context.Context, ct content) (text, html string, err error) {
	var buf bytes.Buffer
	if err := emailHTML(ct).Render(ctx, &buf); err != nil {
		return "", "", fmt.Errorf("notify: render email: %w", err)
	}
	return renderText(ct), buf.String(), nil
}
