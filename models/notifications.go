package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of outbox email: one per connection.NoticeKind, and the digest that gathers the
// emails held for it.
const (
	EmailIncident    = "incident"
	EmailReconnected = "reconnected"
	EmailReminder    = "reminder"
	EmailUnreachable = "unreachable"
	EmailDigest      = "digest"
)

// Statuses of an outbox email.
const (
	// EmailPending waits to be sent (or, held for the digest, to be gathered into one).
	EmailPending = "pending"
	// EmailSent was accepted by the mail server, or gathered into a digest.
	EmailSent = "sent"
	// EmailFailed gave up after its last attempt.
	EmailFailed = "failed"
)

// OutboxEmail is one row of the email outbox (table notifications): one email to one
// person, with its delivery lease and, for the daily digest, where it went out. Its dedupe
// key makes one incident send one email. It never holds a token.
type OutboxEmail struct {
	ID           int64
	SubAccountID *int64
	ConnectionID *int64
	// UserID is the recipient; nil only for rows written before recipients were recorded.
	UserID    *int64
	Kind      string
	DedupeKey string
	ToAddress string
	Subject   string
	BodyText  string
	BodyHTML  string
	Status    string
	Attempts  int
	// LastError is the last delivery error, redacted: no credentials, no addresses.
	LastError string
	SendAfter time.Time
	SentAt    *time.Time
	// LeaseUntil is set while a worker sends the email; a lease in the past is free to
	// take, so a worker that crashed mid-send leaves the email to be retried.
	LeaseUntil *time.Time
	// Digest holds the email for the recipient's daily digest instead of sending it alone.
	Digest bool
	// DigestID is the digest email a held email went out in.
	DigestID  *int64
	CreatedAt time.Time
}

// TableName is the outbox table.
func (OutboxEmail) TableName() string { return "notifications" }

// Recipient is a person emailed about a sub-account's connections, with the mode they
// chose for it.
type Recipient struct {
	UserID int64
	Email  string
	Name   string
	// Role is the role that makes them a recipient: account admin of the sub-account, or
	// admin or owner of its agency (the agency role when they hold both).
	Role Role
	Mode NotificationMode
}

// NotificationRecipients returns the people who may act on the connections of sub-account
// subAccountID, that is its account admins and its agency's admins and owners (never users
// nor support), once each, ordered by id, with the mode their settings give this
// sub-account. One statement, whatever their number.
func (s *Store) NotificationRecipients(ctx context.Context, subAccountID int64) ([]Recipient, error) {
	var rows []struct {
		UserID       int64
		Email        string
		Name         string
		Role         Role
		DefIncidents *bool
		DefDigest    *bool
		OvIncidents  *bool
		OvDigest     *bool
	}
	err := s.db.WithContext(ctx).Raw(`
		SELECT u.id AS user_id, u.email, u.name, m.role,
			d.incidents AS def_incidents, d.digest AS def_digest,
			o.incidents AS ov_incidents, o.digest AS ov_digest
		FROM memberships m
		JOIN users u ON u.id = m.user_id
		LEFT JOIN notification_settings d ON d.user_id = u.id AND d.sub_account_id IS NULL
		LEFT JOIN notification_settings o ON o.user_id = u.id AND o.sub_account_id = ?
		WHERE u.platform_role = ''
			AND ((m.sub_account_id = ? AND m.role = ?)
				OR (m.agency_id = (SELECT agency_id FROM sub_accounts WHERE id = ?) AND m.role IN ?))
		ORDER BY u.id, d.updated_at DESC, d.id DESC`,
		subAccountID, subAccountID, RoleAccountAdmin, subAccountID, []Role{RoleAgencyOwner, RoleAgencyAdmin}).
		Scan(&rows).Error
	if err != nil {
		return nil, dbError("load notification recipients", err)
	}
	mode := func(incidents, digest *bool) NotificationMode {
		return NotificationSetting{Incidents: *incidents, Digest: digest != nil && *digest}.Mode()
	}
	var out []Recipient
	for _, r := range rows {
		rc := Recipient{UserID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, Mode: NotifyImmediate}
		switch {
		case r.OvIncidents != nil:
			rc.Mode = mode(r.OvIncidents, r.OvDigest)
		case r.DefIncidents != nil:
			rc.Mode = mode(r.DefIncidents, r.DefDigest)
		}
		// A user appears once per membership that qualifies and once per duplicate default
		// row (newest first): keep the first row, with the widest role.
		if n := len(out); n > 0 && out[n-1].UserID == r.UserID {
			if r.Role.rank() > out[n-1].Role.rank() {
				out[n-1].Role = r.Role
			}
			continue
		}
		out = append(out, rc)
	}
	return out, nil
}

// QueueEmails inserts es into the outbox of sub-account subAccountID in one statement,
// skipping every email whose dedupe key is already there, and returns how many it inserted.
// The ids of es are not set. Status defaults to pending.
func (s *Store) QueueEmails(ctx context.Context, subAccountID int64, es []OutboxEmail) (int, error) {
	if len(es) == 0 {
		return 0, nil
	}
	rows := make([]OutboxEmail, len(es))
	for i, e := range es {
		e.ID = 0
		e.SubAccountID = &subAccountID
		if e.Status == "" {
			e.Status = EmailPending
		}
		if e.DedupeKey == "" || e.ToAddress == "" {
			return 0, errors.New("models: queue email: dedupe key and address are required")
		}
		rows[i] = e
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedupe_key"}}, DoNothing: true}).
		Create(&rows)
	if res.Error != nil {
		return 0, dbError("queue emails", res.Error)
	}
	return int(res.RowsAffected), nil
}

// EmailsWithKeyPrefix returns the emails of sub-account subAccountID about connection
// connectionID whose dedupe key starts with one of prefixes, without their bodies: which
// emails an incident produced, and for whom.
func (s *Store) EmailsWithKeyPrefix(ctx context.Context, subAccountID, connectionID int64, prefixes ...string) ([]OutboxEmail, error) {
	if len(prefixes) == 0 {
		return nil, nil
	}
	conds := make([]string, len(prefixes))
	args := []any{subAccountID, connectionID}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	for i, p := range prefixes {
		conds[i] = `dedupe_key LIKE ? ESCAPE '\'`
		args = append(args, esc.Replace(p)+"%")
	}
	var out []OutboxEmail
	err := s.db.WithContext(ctx).Select(emailHeadColumns).
		Where("sub_account_id = ? AND connection_id = ? AND ("+strings.Join(conds, " OR ")+")", args...).
		Order("id").Find(&out).Error
	return out, dbError("load emails by key", err)
}

// emailHeadColumns are the columns of an outbox email without its bodies.
const emailHeadColumns = `notifications.id, notifications.sub_account_id, notifications.connection_id,
	notifications.user_id, notifications.kind, notifications.dedupe_key, notifications.to_address,
	notifications.subject, notifications.status, notifications.attempts, notifications.last_error,
	notifications.send_after, notifications.sent_at, notifications.lease_until, notifications.digest,
	notifications.digest_id, notifications.created_at`

// visibleEmails starts a query over the outbox emails p may read: those about a
// sub-account p reaches, and those addressed to p (their digests, which name no
// sub-account). Support reads every one. It is stricter than "emails to the users of p's
// agencies": an account user of one sub-account must not read the emails about another,
// nor a digest that gathers several.
func (s *Store) visibleEmails(ctx context.Context, p Principal) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&OutboxEmail{})
	if p.IsSupport() {
		return q
	}
	fresh := s.db.Session(&gorm.Session{NewDB: true})
	cond := p.reachable(fresh, "sub_accounts").Or("notifications.user_id = ?", p.User.ID)
	return q.Joins("LEFT JOIN sub_accounts ON sub_accounts.id = notifications.sub_account_id").Where(cond)
}

// EmailsFor lists the newest outbox emails p may read, at most limit, without their bodies.
func (s *Store) EmailsFor(ctx context.Context, p Principal, limit int) ([]OutboxEmail, error) {
	var out []OutboxEmail
	err := s.visibleEmails(ctx, p).Select(emailHeadColumns).
		Order("notifications.created_at DESC, notifications.id DESC").Limit(limit).Find(&out).Error
	return out, dbError("list emails", err)
}

// EmailsTo lists the newest outbox emails addressed to p, at most limit, without their
// bodies: their inbox.
func (s *Store) EmailsTo(ctx context.Context, p Principal, limit int) ([]OutboxEmail, error) {
	var out []OutboxEmail
	err := s.visibleEmails(ctx, p).Select(emailHeadColumns).Where("notifications.user_id = ?", p.User.ID).
		Order("notifications.created_at DESC, notifications.id DESC").Limit(limit).Find(&out).Error
	return out, dbError("list emails", err)
}

// EmailFor returns outbox email id with its bodies, or ErrNotFound when it does not exist or
// p may not read it.
func (s *Store) EmailFor(ctx context.Context, p Principal, id int64) (OutboxEmail, error) {
	var e OutboxEmail
	err := s.visibleEmails(ctx, p).Select("notifications.*").Where("notifications.id = ?", id).Take(&e).Error
	return e, dbError("load email", err)
}

// SubAccountRefByID returns sub-account id with its agency's name, without any tenant check.
func (sys System) SubAccountRefByID(ctx context.Context, id int64) (SubAccountRef, error) {
	var ref SubAccountRef
	err := sys.s.db.WithContext(ctx).Table("sub_accounts").
		Joins("JOIN agencies ON agencies.id = sub_accounts.agency_id").
		Select("sub_accounts.id, sub_accounts.name, sub_accounts.agency_id, agencies.name AS agency_name").
		Where("sub_accounts.id = ?", id).Take(&ref).Error
	return ref, dbError("load sub-account", err)
}

// DueEmails returns up to limit emails due at now: pending, not held for a digest, their
// send_after reached and no live lease, the longest waiting first.
func (sys System) DueEmails(ctx context.Context, now time.Time, limit int) ([]OutboxEmail, error) {
	var out []OutboxEmail
	err := sys.s.db.WithContext(ctx).
		Where("status = ? AND NOT digest AND send_after <= ? AND (lease_until IS NULL OR lease_until < ?)", EmailPending, now, now).
		Order("send_after, id").Limit(limit).Find(&out).Error
	return out, dbError("load due emails", err)
}

// ClaimEmail leases email id until until, if it is still due at now and nobody holds a
// live lease on it, and reports whether it did. It is one conditional UPDATE, so of two
// workers (or replicas) claiming the same email exactly one gets it.
func (sys System) ClaimEmail(ctx context.Context, id int64, now, until time.Time) (bool, error) {
	res := sys.s.db.WithContext(ctx).Model(&OutboxEmail{}).
		Where("id = ? AND status = ? AND NOT digest AND (lease_until IS NULL OR lease_until < ?)", id, EmailPending, now).
		Update("lease_until", until)
	if res.Error != nil {
		return false, dbError("claim email", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// MarkEmailSent records that email id went out at at, if the lease until lease is still
// the one on it, and reports whether it was.
func (sys System) MarkEmailSent(ctx context.Context, id int64, lease, at time.Time) (bool, error) {
	res := sys.s.db.WithContext(ctx).Model(&OutboxEmail{}).Where("id = ? AND lease_until = ?", id, lease).
		Updates(map[string]any{"status": EmailSent, "sent_at": at, "lease_until": nil, "last_error": ""})
	if res.Error != nil {
		return false, dbError("mark email sent", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// EmailAttempt is the outcome of a failed delivery.
type EmailAttempt struct {
	// Attempts counts the failed deliveries so far, this one included.
	Attempts int
	// LastError is the redacted error.
	LastError string
	// RetryAt is when to try again; ignored when Final.
	RetryAt time.Time
	// Final gives the email up: it becomes failed.
	Final bool
}

// MarkEmailFailed records a failed delivery of email id and frees its lease, if the lease
// until lease is still the one on it, and reports whether it was.
func (sys System) MarkEmailFailed(ctx context.Context, id int64, lease time.Time, a EmailAttempt) (bool, error) {
	set := map[string]any{"attempts": a.Attempts, "last_error": a.LastError, "lease_until": nil}
	if a.Final {
		set["status"] = EmailFailed
	} else {
		set["send_after"] = a.RetryAt
	}
	res := sys.s.db.WithContext(ctx).Model(&OutboxEmail{}).Where("id = ? AND lease_until = ?", id, lease).Updates(set)
	if res.Error != nil {
		return false, dbError("mark email failed", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// HeldDigestUsers returns the users with emails held for their digest, in one query.
func (sys System) HeldDigestUsers(ctx context.Context) ([]User, error) {
	var users []User
	held := sys.s.db.Model(&OutboxEmail{}).Select("user_id").Where("status = ? AND digest AND user_id IS NOT NULL", EmailPending)
	err := sys.s.db.WithContext(ctx).Where("id IN (?)", held).Order("id").Find(&users).Error
	return users, dbError("load digest users", err)
}

// HeldEmails returns the emails held for user userID's digest, oldest first, with bodies.
func (sys System) HeldEmails(ctx context.Context, userID int64) ([]OutboxEmail, error) {
	var out []OutboxEmail
	err := sys.s.db.WithContext(ctx).Where("user_id = ? AND status = ? AND digest", userID, EmailPending).
		Order("created_at, id").Find(&out).Error
	return out, dbError("load held emails", err)
}

// WriteDigest inserts digest, the email that gathers the held emails held, and marks those
// sent in it, and reports whether it did: false when a digest with the same dedupe key
// exists already (one per user and day), in which case nothing changes. Run it in a
// transaction (Store.Tx) so that both writes commit together.
func (sys System) WriteDigest(ctx context.Context, digest OutboxEmail, held []int64) (bool, error) {
	digest.ID, digest.Kind, digest.Digest = 0, EmailDigest, false
	if digest.Status == "" {
		digest.Status = EmailPending
	}
	db := sys.s.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedupe_key"}}, DoNothing: true}).Create(&digest)
	if res.Error != nil {
		return false, dbError("insert digest", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if digest.ID == 0 {
		if err := db.Model(&OutboxEmail{}).Select("id").Where("dedupe_key = ?", digest.DedupeKey).Scan(&digest.ID).Error; err != nil {
			return false, dbError("load digest", err)
		}
	}
	if len(held) == 0 {
		return true, nil
	}
	err := db.Model(&OutboxEmail{}).Where("id IN ? AND status = ? AND digest", held, EmailPending).
		Updates(map[string]any{"status": EmailSent, "sent_at": sys.s.Now().Truncate(time.Second), "digest_id": digest.ID}).Error
	return true, dbError("mark held emails", err)
}
