package models_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

// tenants is a small world: two agencies, sub-accounts in each, users of every role.
type tenants struct {
	store                  *models.Store
	northwind, other       models.Agency
	bluebird, cedar, alien models.SubAccount
	owner, admin, user     models.Principal
	support, stranger      models.Principal
}

func newTenants(t *testing.T) tenants {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t)
	w := tenants{store: s}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.northwind, err = s.CreateAgency(ctx, "Northwind")
	must(err)
	w.other, err = s.CreateAgency(ctx, "Other Agency")
	must(err)
	w.bluebird, err = s.CreateSubAccount(ctx, w.northwind.ID, "Bluebird Bakery")
	must(err)
	w.cedar, err = s.CreateSubAccount(ctx, w.northwind.ID, "Cedar 100% Dental_")
	must(err)
	w.alien, err = s.CreateSubAccount(ctx, w.other.ID, "Alien Corp")
	must(err)
	principal := func(email string, support bool, add func(id int64) error) models.Principal {
		t.Helper()
		u, err := s.CreateUser(ctx, models.NewUser{Email: email, Password: "correct horse battery", Support: support})
		must(err)
		if add != nil {
			must(add(u.ID))
		}
		p, err := s.LoadPrincipal(ctx, u.ID)
		must(err)
		return p
	}
	w.owner = principal("owner@n.test", false, func(id int64) error {
		return s.AddAgencyMembership(ctx, id, w.northwind.ID, models.RoleAgencyOwner)
	})
	w.admin = principal("admin@b.test", false, func(id int64) error {
		return s.AddAccountMembership(ctx, id, w.bluebird.ID, models.RoleAccountAdmin)
	})
	w.user = principal("user@b.test", false, func(id int64) error {
		return s.AddAccountMembership(ctx, id, w.bluebird.ID, models.RoleAccountUser)
	})
	w.support = principal("support@r.test", true, nil)
	w.stranger = principal("nobody@x.test", false, nil)
	return w
}

func TestSubAccountFor(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		who      models.Principal
		sub      int64
		wantRole models.Role
		wantErr  error
	}{
		{name: "owner reaches every sub-account of the agency", who: w.owner, sub: w.cedar.ID, wantRole: models.RoleAgencyOwner},
		{name: "owner cannot reach another agency", who: w.owner, sub: w.alien.ID, wantErr: models.ErrNotFound},
		{name: "account admin reaches their sub-account", who: w.admin, sub: w.bluebird.ID, wantRole: models.RoleAccountAdmin},
		{name: "account admin cannot reach a sibling", who: w.admin, sub: w.cedar.ID, wantErr: models.ErrNotFound},
		{name: "account user is read-only in theirs", who: w.user, sub: w.bluebird.ID, wantRole: models.RoleAccountUser},
		{name: "support reaches any agency", who: w.support, sub: w.alien.ID, wantRole: models.RoleSupport},
		{name: "no membership reaches nothing", who: w.stranger, sub: w.bluebird.ID, wantErr: models.ErrNotFound},
		{name: "missing id is not found", who: w.owner, sub: 999999, wantErr: models.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, role, err := w.store.SubAccountFor(ctx, tt.who, tt.sub)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if role != tt.wantRole || ref.ID != tt.sub || ref.AgencyName == "" {
				t.Errorf("got %+v role %s, want id %d role %s", ref, role, tt.sub, tt.wantRole)
			}
		})
	}
}

func TestSearchSubAccounts(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		who       models.Principal
		query     string
		limit     int
		wantNames []string
		wantTotal int64
	}{
		{name: "owner sees the agency, by name", who: w.owner, limit: 10, wantNames: []string{"Bluebird Bakery", "Cedar 100% Dental_"}, wantTotal: 2},
		{name: "case-insensitive substring", who: w.owner, query: "BAK", limit: 10, wantNames: []string{"Bluebird Bakery"}, wantTotal: 1},
		{name: "percent is matched literally", who: w.owner, query: "0%", limit: 10, wantNames: []string{"Cedar 100% Dental_"}, wantTotal: 1},
		{name: "underscore is matched literally", who: w.owner, query: "y_", limit: 10, wantTotal: 0},
		{name: "agency name matches", who: w.support, query: "other", limit: 10, wantNames: []string{"Alien Corp"}, wantTotal: 1},
		{name: "limit keeps the total", who: w.support, limit: 1, wantNames: []string{"Alien Corp"}, wantTotal: 3},
		{name: "account user sees only theirs", who: w.user, limit: 10, wantNames: []string{"Bluebird Bakery"}, wantTotal: 1},
		{name: "foreign names never match", who: w.admin, query: "alien", limit: 10, wantTotal: 0},
		{name: "stranger sees nothing", who: w.stranger, limit: 10, wantTotal: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := w.store.SearchSubAccounts(ctx, tt.who, tt.query, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range res.Results {
				names = append(names, r.Name)
			}
			if res.Total != tt.wantTotal || len(names) != len(tt.wantNames) {
				t.Fatalf("got %v (total %d), want %v (total %d)", names, res.Total, tt.wantNames, tt.wantTotal)
			}
			for i := range names {
				if names[i] != tt.wantNames[i] {
					t.Fatalf("got %v, want %v", names, tt.wantNames)
				}
			}
		})
	}
}

func TestOverviewCountsByStatus(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	add := func(sub int64, ext string, st models.Status) {
		t.Helper()
		if _, err := w.store.CreateConnection(ctx, sub, models.Connection{Provider: "meta", ExternalUserID: ext, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	add(w.bluebird.ID, "1", models.StatusHealthy)
	add(w.bluebird.ID, "2", models.StatusHealthy)
	add(w.bluebird.ID, "3", models.StatusReauthRequired)
	add(w.alien.ID, "4", models.StatusBlocked)

	rows, err := w.store.Overview(ctx, w.owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("owner sees %d rows, want 2 (no foreign agency)", len(rows))
	}
	blue := rows[0]
	if blue.Name != "Bluebird Bakery" || blue.Counts[models.StatusHealthy] != 2 || blue.Counts[models.StatusReauthRequired] != 1 || blue.Total() != 3 {
		t.Errorf("bluebird row = %+v", blue)
	}
	if rows[1].Total() != 0 {
		t.Errorf("cedar has %d connections, want 0", rows[1].Total())
	}
	all, err := w.store.Overview(ctx, w.support)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("support sees %d rows, want 3", len(all))
	}
}

func TestConnectionUniquePerProviderUser(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	c := models.Connection{Provider: "meta", ExternalUserID: "42"}
	if _, err := w.store.CreateConnection(ctx, w.bluebird.ID, c); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.CreateConnection(ctx, w.bluebird.ID, c); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second connection of the same provider user: err = %v, want ErrConflict", err)
	}
	if _, err := w.store.CreateConnection(ctx, w.cedar.ID, c); err != nil {
		t.Fatalf("the same provider user in another sub-account: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		email    string
		password string
		wantErr  error
	}{
		{name: "right password", email: "owner@n.test", password: "correct horse battery"},
		{name: "email is case-insensitive", email: " Owner@N.test ", password: "correct horse battery"},
		{name: "wrong password", email: "owner@n.test", password: "wrong", wantErr: models.ErrBadCredentials},
		{name: "unknown email", email: "ghost@n.test", password: "correct horse battery", wantErr: models.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := w.store.Authenticate(ctx, tt.email, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && u.ID != w.owner.User.ID {
				t.Errorf("authenticated user %d, want %d", u.ID, w.owner.User.ID)
			}
		})
	}
}

func TestMigrateIsIdempotentAndChecked(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	n, err := s.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second migrate ran %d migrations, err %v; want 0, nil", n, err)
	}
	if err := s.CheckMigrated(ctx); err != nil {
		t.Fatalf("check migrated: %v", err)
	}
}

func TestSeedDemoOnlyOnce(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	seeded, err := s.SeedDemo(ctx, "relink-demo")
	if err != nil || !seeded {
		t.Fatalf("first seed: %v, %v", seeded, err)
	}
	seeded, err = s.SeedDemo(ctx, "relink-demo")
	if err != nil || seeded {
		t.Fatalf("second seed: %v, %v; want false, nil", seeded, err)
	}
	owner, err := s.UserByEmail(ctx, "owner@northwind.test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.LoadPrincipal(ctx, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.SearchSubAccounts(ctx, p, "", 10)
	if err != nil || res.Total != 3 {
		t.Fatalf("owner reaches %d sub-accounts (err %v), want 3", res.Total, err)
	}
}

func TestCipher(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old, err := models.NewCipher(k1)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := models.NewCipher(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("EAAB-very-secret-token")
	aad := []byte("connection:7")
	ct, err := old.Encrypt(secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, secret) {
		t.Fatal("ciphertext contains the plaintext")
	}
	tests := []struct {
		name    string
		c       *models.Cipher
		aad     []byte
		wantErr bool
	}{
		{name: "same key opens", c: old, aad: aad},
		{name: "rotated key list still opens old ciphertext", c: rotated, aad: aad},
		{name: "another row's aad is refused", c: old, aad: []byte("connection:8"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.c.Decrypt(ct, tt.aad)
			if tt.wantErr {
				if !errors.Is(err, models.ErrDecrypt) {
					t.Fatalf("err = %v, want ErrDecrypt", err)
				}
				return
			}
			if err != nil || !bytes.Equal(pt, secret) {
				t.Fatalf("got %q, %v", pt, err)
			}
		})
	}
	onlyNew, _ := models.NewCipher(k2)
	if _, err := onlyNew.Decrypt(ct, aad); !errors.Is(err, models.ErrDecrypt) {
		t.Fatalf("a retired key's ciphertext: err = %v, want ErrDecrypt", err)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := models.HashPassword("hunter2hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := models.CheckPassword(h, "hunter2hunter2"); !ok || err != nil {
		t.Fatalf("right password: %v, %v", ok, err)
	}
	if ok, _ := models.CheckPassword(h, "hunter3hunter3"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := models.CheckPassword("$argon2id$garbage", "x"); err == nil {
		t.Fatal("malformed hash accepted")
	}
}

func TestSessions(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	id, err := w.store.CreateSession(ctx, w.admin.User.ID, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.store.CreateSession(ctx, w.admin.User.ID, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.RevokeSession(ctx, other, now); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      string
		at      time.Time
		wantErr error
	}{
		{name: "live session", id: id, at: now.Add(time.Minute)},
		{name: "expired", id: id, at: now.Add(2 * time.Hour), wantErr: models.ErrNotFound},
		{name: "revoked", id: other, at: now.Add(time.Minute), wantErr: models.ErrNotFound},
		{name: "unknown id", id: "nope", at: now, wantErr: models.ErrNotFound},
		{name: "empty id", at: now, wantErr: models.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := w.store.PrincipalForSession(ctx, tt.id, tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (p.User.ID != w.admin.User.ID || len(p.AccountRoles) != 1) {
				t.Errorf("principal = %+v", p)
			}
		})
	}
}

func TestPruneSessions(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		expires  time.Time
		revoked  bool
		wantKept bool
	}{
		{name: "live", expires: now.Add(time.Hour), wantKept: true},
		{name: "live for a second more", expires: now.Add(time.Second), wantKept: true},
		{name: "expiring now", expires: now},
		{name: "expired", expires: now.Add(-time.Hour)},
		{name: "revoked before expiry", expires: now.Add(time.Hour), revoked: true},
		{name: "revoked and expired", expires: now.Add(-time.Hour), revoked: true},
	}
	ids := make([]string, len(tests))
	wantPruned := int64(0)
	for i, tt := range tests {
		id, err := w.store.CreateSession(ctx, w.admin.User.ID, now.Add(-2*time.Hour), tt.expires)
		if err != nil {
			t.Fatal(err)
		}
		if tt.revoked {
			if err := w.store.RevokeSession(ctx, id, now.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if !tt.wantKept {
			wantPruned++
		}
		ids[i] = id
	}
	n, err := w.store.PruneSessions(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != wantPruned {
		t.Errorf("pruned %d sessions, want %d", n, wantPruned)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Looked up at a time when every session was live and none revoked yet, a
			// session answers exactly when its row is still there.
			// A revoked session is refused whether or not its row is there: the count of
			// pruned rows above accounts for those.
			if tt.revoked {
				t.Skip("not observable one by one")
			}
			_, err := w.store.PrincipalForSession(ctx, ids[i], now.Add(-90*time.Minute))
			if kept := err == nil; kept != tt.wantKept {
				t.Errorf("kept %v (lookup: %v), want %v", kept, err, tt.wantKept)
			}
		})
	}
	if n, err := w.store.PruneSessions(ctx, now); err != nil || n != 0 {
		t.Errorf("a second prune removed %d sessions (%v), want 0", n, err)
	}
}
