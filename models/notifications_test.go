package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/relink/relink/models"
)

// outbox fills the outbox of the tenants' world: an email about each sub-account to its
// admin or owner, and a digest (no sub-account) to the Bluebird admin.
func outbox(t *testing.T, w tenants) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	now := w.store.Now()
	ids := map[string]int64{}
	for _, e := range []struct {
		key  string
		sub  int64
		user models.Principal
	}{
		{"bluebird", w.bluebird.ID, w.admin},
		{"cedar", w.cedar.ID, w.owner},
		{"alien", w.alien.ID, w.stranger},
	} {
		uid := e.user.User.ID
		n, err := w.store.QueueEmails(ctx, e.sub, []models.OutboxEmail{{UserID: &uid, Kind: models.EmailIncident,
			DedupeKey: "test:" + e.key, ToAddress: e.user.User.Email, Subject: "About " + e.key, BodyText: "text " + e.key,
			BodyHTML: "<p>html</p>", SendAfter: now}})
		if err != nil || n != 1 {
			t.Fatalf("queue %s: %d, %v", e.key, n, err)
		}
	}
	uid := w.admin.User.ID
	err := w.store.Tx(ctx, func(tx *models.Store) error {
		ok, err := tx.System().WriteDigest(ctx, models.OutboxEmail{UserID: &uid, DedupeKey: "digest:test",
			ToAddress: w.admin.User.Email, Subject: "Digest", BodyText: "digest", SendAfter: now}, nil)
		if err == nil && !ok {
			err = errors.New("digest not written")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := w.store.EmailsFor(ctx, w.support, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		ids[e.Subject] = e.ID
	}
	return ids
}

func TestEmailsForKeepTenancy(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	ids := outbox(t, w)
	tests := []struct {
		name string
		who  models.Principal
		want []string
	}{
		{name: "support reads every email", who: w.support, want: []string{"About alien", "About bluebird", "About cedar", "Digest"}},
		{name: "an owner reads those of the agency's sub-accounts", who: w.owner, want: []string{"About bluebird", "About cedar"}},
		{name: "an account admin reads their sub-account's and their own digest", who: w.admin, want: []string{"About bluebird", "Digest"}},
		{name: "an account user reads their sub-account's, not another's digest", who: w.user, want: []string{"About bluebird"}},
		{name: "without a membership, only what is addressed to them", who: w.stranger, want: []string{"About alien"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := w.store.EmailsFor(ctx, tt.who, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range list {
				if e.BodyText != "" || e.BodyHTML != "" {
					t.Errorf("the list carries bodies: %+v", e)
				}
				got = append(got, e.Subject)
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for subject, id := range ids {
				e, err := w.store.EmailFor(ctx, tt.who, id)
				switch {
				case slices.Contains(tt.want, subject):
					if err != nil || e.BodyText == "" {
						t.Errorf("%s: %v, body %q", subject, err, e.BodyText)
					}
				case !errors.Is(err, models.ErrNotFound):
					t.Errorf("%s: err = %v, want ErrNotFound", subject, err)
				}
			}
		})
	}
}

func TestQueueEmailsSkipsKnownKeys(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	uid := w.admin.User.ID
	mk := func(key string) models.OutboxEmail {
		return models.OutboxEmail{UserID: &uid, Kind: models.EmailIncident, DedupeKey: key, ToAddress: "a@b.test",
			Subject: "s", BodyText: "t", SendAfter: w.store.Now()}
	}
	if n, err := w.store.QueueEmails(ctx, w.bluebird.ID, []models.OutboxEmail{mk("k1"), mk("k2")}); err != nil || n != 2 {
		t.Fatalf("first: %d, %v", n, err)
	}
	if n, err := w.store.QueueEmails(ctx, w.bluebird.ID, []models.OutboxEmail{mk("k2"), mk("k3"), mk("k1")}); err != nil || n != 1 {
		t.Fatalf("second: %d, %v; want only k3", n, err)
	}
	es, err := w.store.EmailsWithKeyPrefix(ctx, w.bluebird.ID, 0, "k")
	if err != nil || len(es) != 0 {
		t.Fatalf("prefix of another connection: %v %v", es, err)
	}
}

func TestClaimEmailIsExclusive(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	uid := w.admin.User.ID
	now := w.store.Now().Truncate(time.Second)
	if _, err := w.store.QueueEmails(ctx, w.bluebird.ID, []models.OutboxEmail{{UserID: &uid, Kind: models.EmailIncident,
		DedupeKey: "k", ToAddress: "a@b.test", Subject: "s", BodyText: "t", SendAfter: now}}); err != nil {
		t.Fatal(err)
	}
	sys := w.store.System()
	due, err := sys.DueEmails(ctx, now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	id := due[0].ID
	lease := now.Add(time.Minute)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{name: "the first claim wins", now: now, want: true},
		{name: "a second claim during the lease loses", now: now.Add(30 * time.Second), want: false},
		{name: "a claim once the lease ran out wins", now: now.Add(2 * time.Minute), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := sys.ClaimEmail(ctx, id, tt.now, tt.now.Add(time.Minute))
			if err != nil || ok != tt.want {
				t.Fatalf("claim: %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
	// The first worker's lease is gone: it cannot mark the email any more.
	if ok, err := sys.MarkEmailSent(ctx, id, lease, now); err != nil || ok {
		t.Fatalf("mark with a lost lease: %v %v", ok, err)
	}
	if ok, err := sys.MarkEmailSent(ctx, id, now.Add(3*time.Minute), now); err != nil || !ok {
		t.Fatalf("mark with the live lease: %v %v", ok, err)
	}
	if due, err := sys.DueEmails(ctx, now.Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("a sent email is still due: %v %v", due, err)
	}
}
