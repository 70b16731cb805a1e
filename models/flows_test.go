package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers/sandbox"
)

func TestFlowStateIsBoundExpiringAndSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := sandbox.NewFrozenClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := storetest.Open(t, storetest.Options{Clock: clock})
	ag, _ := s.CreateAgency(ctx, "Northwind")
	sa, _ := s.CreateSubAccount(ctx, ag.ID, "Bluebird Bakery")
	alice, err := s.CreateUser(ctx, models.NewUser{Email: "alice@n.test", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := s.CreateUser(ctx, models.NewUser{Email: "bob@n.test", Password: "correct horse battery"})
	start := func(state string) {
		t.Helper()
		_, err := s.CreateFlow(ctx, state, models.OAuthFlow{UserID: alice.ID, SubAccountID: sa.ID, Provider: "meta",
			Intent: models.IntentConnect, ExpiresAt: s.Now().Add(15 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	start("good")
	if err := s.SaveFlowSession(ctx, "good", `{"meta@x":"dialog URL with state=good"}`); err != nil {
		t.Fatal(err)
	}
	start("late")
	start("bobs-try")
	tests := []struct {
		name  string
		state string
		user  int64
		wait  time.Duration
		want  error
	}{
		{name: "forged state", state: "forged", user: alice.ID, want: models.ErrFlowUnknown},
		{name: "another user's state", state: "bobs-try", user: bob.ID, want: models.ErrFlowUnknown},
		{name: "first callback", state: "good", user: alice.ID},
		{name: "replayed callback", state: "good", user: alice.ID, want: models.ErrFlowUsed},
		{name: "expired state", state: "late", user: alice.ID, wait: 16 * time.Minute, want: models.ErrFlowExpired},
	}
	for _, tt := range tests {
		clock.Advance(tt.wait)
		_, err := s.ClaimFlow(ctx, tt.state, tt.user)
		if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// The state itself is never stored, and gothic's session (whose dialog URL carries it)
	// is given up when the callback claims the flow.
	if models.HashState("good") == "good" {
		t.Fatal("state kept in clear")
	}
	if kept, err := s.FlowSessionsOf(ctx, models.StageClaimed); err != nil || len(kept) != 1 || kept[0] != "" {
		t.Errorf("a claimed flow keeps gothic's session: %q (err %v)", kept, err)
	}
	// Expired flows are pruned.
	clock.Advance(time.Hour)
	if n, err := s.PruneFlows(ctx); err != nil || n != 3 {
		t.Errorf("pruned %d flows (err %v), want 3", n, err)
	}
}
