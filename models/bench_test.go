package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

const benchPassword = "correct horse battery staple"

// bigAgency is one agency of n sub-accounts, each with one connection, and its owner.
type bigAgency struct {
	store *models.Store
	owner models.Principal
	last  models.SubAccount
}

func newBigAgency(b *testing.B, n int) bigAgency {
	b.Helper()
	ctx := context.Background()
	s := storetest.Open(b)
	agency, err := s.CreateAgency(ctx, "Northwind")
	if err != nil {
		b.Fatal(err)
	}
	w := bigAgency{store: s}
	for i := range n {
		if w.last, err = s.CreateSubAccount(ctx, agency.ID, fmt.Sprintf("Client %04d", i)); err != nil {
			b.Fatal(err)
		}
		c := models.Connection{Provider: "meta", ExternalUserID: fmt.Sprint(i), Status: models.Statuses[i%len(models.Statuses)]}
		if _, err := s.CreateConnection(ctx, w.last.ID, c); err != nil {
			b.Fatal(err)
		}
	}
	u, err := s.CreateUser(ctx, models.NewUser{Email: "owner@northwind.test", Password: benchPassword})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddAgencyMembership(ctx, u.ID, agency.ID, models.RoleAgencyOwner); err != nil {
		b.Fatal(err)
	}
	if w.owner, err = s.LoadPrincipal(ctx, u.ID); err != nil {
		b.Fatal(err)
	}
	return w
}

func BenchmarkOverview(b *testing.B) {
	w := newBigAgency(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rows, err := w.store.Overview(ctx, w.owner)
		if err != nil || len(rows) != 1000 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}

func BenchmarkSearchSubAccounts(b *testing.B) {
	w := newBigAgency(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := w.store.SearchSubAccounts(ctx, w.owner, "client 01", 50)
		if err != nil || res.Total != 100 {
			b.Fatalf("%d matches, %v", res.Total, err)
		}
	}
}

func BenchmarkSubAccountFor(b *testing.B) {
	w := newBigAgency(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := w.store.SubAccountFor(ctx, w.owner, w.last.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadPrincipal(b *testing.B) {
	w := newBigAgency(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.store.LoadPrincipal(ctx, w.owner.User.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is a successful sign-in: a lookup, an argon2id check and a write.
func BenchmarkAuthenticate(b *testing.B) {
	w := newBigAgency(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.store.Authenticate(ctx, "owner@northwind.test", benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	hash, err := models.HashPassword(benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := models.CheckPassword(hash, benchPassword); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
